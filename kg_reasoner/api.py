"""Python API: ``assess`` one patient, ``assess_cohort`` / ``iter_cohort`` a cohort (on ``jobs`` worker
processes, with a progress bar), ``assess_many`` the plain sequential stream, or hold a ``Reasoner``."""

from __future__ import annotations

import calendar
import dataclasses
import functools
import gc
import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

from rdflib import Graph

from kg_reasoner.cohort.lines import line_results
from kg_reasoner.cohort.pool import job_patient, patient_job, pool_results
from kg_reasoner.cohort.result import CohortResult, patient_attributes
from kg_reasoner.errors import AsOfError, InputError, PatientDataError
from kg_reasoner.explain.assessment import Assessment
from kg_reasoner.explain.explanation import SUMMARY_QUERIES, advice_of, explain, explain_summary, status_free_rules
from kg_reasoner.explain.provenance import AssessmentGraphs
from kg_reasoner.guidance import PROGESTERONE, Guidance
from kg_reasoner.read.claims import RunClaims, claim_of
from kg_reasoner.read.fhir import FhirVocabulary, bundle_resources, read_fhir
from kg_reasoner.read.files import iter_input_files, not_as_of, read_file, read_summary_line, summary_ndjson_files
from kg_reasoner.read.patient import PatientInput
from kg_reasoner.read.rdf import split_patients
from kg_reasoner.read.summary import SummaryReader, SummaryVocabulary
from kg_reasoner.read.times import NOW_ENV, parse_time
from kg_reasoner.reason.base import Engine
from kg_reasoner.reason.fast import fast_engine
from kg_reasoner.reason.knowledge import KnowledgeBase, load_knowledge_base
from kg_reasoner.reason.reference import ReferenceEngine

PathLike = str | Path


#: The engines, by name: "fast" (compiled OWL-RL tables, SHACL on pyoxigraph; the default) and
#: "reference" (owlrl + pySHACL, the design card's pipeline). Both execute the same ontology and shapes
#: behind one interface (``reason.base.Engine``).
ENGINES: dict[str, Callable[[KnowledgeBase], Engine]] = {"fast": fast_engine, "reference": ReferenceEngine}


class Reasoner:
    """The guidance knowledge base loaded once, ready to assess patients.

    ``engine``: "fast" (default) or "reference"; both give the same outcomes and the same
    inferred triples (``tests/test_differential.py``).

    ``guidance``: the guidance module on the core (default: the bundled progesterone guidance;
    see ``kg_reasoner.guidance``). ``reference_table``: a Turtle file replacing its default
    reference table (for progesterone: serum progesterone by gestational week).
    ``extra_ontology``: Turtle files loaded beside it (e.g. a new cause progesterone cannot address).
    """

    def __init__(
        self,
        reference_table: PathLike | None = None,
        extra_ontology: Iterable[PathLike] = (),
        engine: str = "fast",
        guidance: Guidance = PROGESTERONE,
        as_of: datetime | date | str | None = None,
    ):
        """``as_of``: the time the assessments are made as of, for a retrospective assessment of records of the
        past (a datetime, a date, or an ISO 8601 date or date-time; a day is compared with a record's own day): a
        FHIR record whose every time is after it is not read, and a dating of the pregnancy that puts it past the
        longest a pregnancy lasts by then is stale (E2). Without it the assessment is made as of the present: the
        environment variable KG_REASONER_NOW if set (a fixed clock for reproducible runs, as the test suite's),
        else the clock; a record dated after the present is an error of its date (a loss is read as undated)."""
        if engine not in ENGINES:
            raise ValueError(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}")
        self.engine = engine
        self.guidance = guidance
        #: the time to assess as of, as given (a day or an instant), or None: the present
        self.as_of_given: date | datetime | None = as_of_value(as_of)
        #: the instant the assessment is made as of: the time given, the fixed clock (KG_REASONER_NOW), or None
        #: (the clock, read when a patient is read)
        self.as_of: datetime | None = as_of_instant(self.as_of_given if as_of is not None else _fixed_now())
        #: what a worker process needs to build the same reasoner (``worker_reasoner``)
        self.config: tuple = worker_config(reference_table, extra_ontology, engine, guidance, self.as_of_given)
        self.kb: KnowledgeBase = load_knowledge_base(
            str(reference_table) if reference_table else None, tuple(str(p) for p in extra_ontology), guidance
        )
        self._engine: Engine = ENGINES[engine](self.kb)
        self.reader = SummaryReader(_vocabulary(self.kb), self.as_of, self.as_of_given)

    @functools.cached_property
    def fhir(self) -> FhirVocabulary:
        """The FHIR reader's vocabulary, read from the ontology when a FHIR input first needs it (half a second
        that a run of patient summaries, or a worker handed their lines, never spends)."""
        return _fhir_vocabulary(self.kb)

    # -- inputs ---------------------------------------------------------------
    def read(self, data: Any, source: str | None = None) -> list[PatientInput]:
        """Patients of a path, a patient-summary dict (or list of dicts), or an rdflib Graph."""
        if isinstance(data, Graph):
            return list(
                not_as_of(
                    split_patients(data, source or "<graph>", self.reader.v.terms, self.reader.v.closure),
                    self.as_of_given,
                )
            )
        if isinstance(data, dict) and "resourceType" in data:
            return _all_or_raise(
                read_fhir(
                    bundle_resources(data, source or "<bundle>"),
                    self.fhir,
                    source or "<bundle>",
                    self.as_of,
                    self.as_of_given,
                )
            )
        if isinstance(data, dict):
            return [self.reader.read(data, source or "<dict>")]
        if isinstance(data, list):
            return [self.reader.read(item, source or "<list>", f"/{i}") for i, item in enumerate(data)]
        if isinstance(data, (str, Path)):
            return _all_or_raise(self.read_many([data]))
        raise TypeError(f"cannot assess a {type(data).__name__}: give a path, a dict or an rdflib Graph")

    # -- reasoning ------------------------------------------------------------
    def assess_input(self, pi: PatientInput, summary: bool = False, keep_graphs: bool = False) -> Assessment:
        """Assess one patient as read. ``summary=True`` computes only the fields of a summary row (status,
        rules, missing, flags: what ``--format csv`` writes); the other explanation fields stay empty and
        ``stages["explain"]`` says "summary". The fast engine then derives only what those fields read
        (``FastEngine.rules_demanded``), and the assessment's graphs are derived again in full when
        asked for, unless ``keep_graphs=True`` (the caller will write them to a store) keeps the whole
        derivation from the start."""
        started = datetime.now(timezone.utc)
        # (the demand only when there is one: an engine without it still serves full assessments)
        demand = {"demand": SUMMARY_QUERIES} if summary and not keep_graphs else {}
        with self._engine.session(pi.iri, pi.triples, **demand) as d:  # derive
            # explain, while her graphs are held
            e = explain_summary(d.query, pi.iri) if summary else explain(d.query, pi.iri)
        if summary:
            d.stages["explain"] = "summary"
        inconsistencies, violations, warnings, stages = d.inconsistencies, d.violations, d.warnings, d.stages
        kb = self.kb

        whole: list = []  # (a summary's derivation that left rules out, derived again in full once)

        def graph_source() -> dict:
            if d.complete:
                return AssessmentGraphs(kb, pi.iri, d.asserted, d.inferred, d.work, activity)
            if not whole:  # (from her triples as assessed, not from her graph as it may be now)
                asserted = Graph()
                for t in d.asserted:
                    asserted.add(t)
                with self._engine.session(pi.iri, asserted) as full:
                    whole.append((full.asserted, full.inferred, full.work))
            return AssessmentGraphs(kb, pi.iri, *whole[0], activity)

        activity = {
            "engine": self.engine,
            "started": started,
            "ended": datetime.now(timezone.utc),
            "source": pi.source,
            "as_of": self.as_of_given,
        }
        problems = (
            [
                {
                    "severity": "error",
                    "record": pi.source,
                    "node": str(pi.iri),
                    "field": None,
                    "value": None,
                    "message": f"the patient graph is inconsistent under OWL 2 RL: {m}",
                }
                for m in inconsistencies
            ]
            + violations
            + warnings
            + list(pi.data_problems)
        )
        # a record listed as missing data that no problem names (the reader read it, the ontology says what it
        # is: a pregnancy recorded as resolved is a record that it has ended) is named too: never silent
        # (named: a problem of its record that lists it as missing data, or one of a link or identifier of hers
        # naming it, as a link to another Patient is said of hers; a problem of its date does not say so)
        saying = [p for p in problems if "missing data" in str(p["message"])]
        named = {p["record"] for p in saying}
        details = {m["criterion"]: m for m in e["missing"]}
        problems += [
            {
                "severity": "warning",
                "record": code,
                "node": code,
                "field": None,
                "value": None,
                "message": f"a {details[code]['label']}: it is listed as missing data, needing {details[code]['needs']}",
            }
            for code in e["missing_records"]
            if code not in named
            and not any(code in str(p["message"]) for p in saying if p.get("field") in ("link", "identifier"))
        ]
        # a record the reader could not read at all (severity "error") fails the patient closed
        unread = any(p["severity"] == "error" for p in pi.data_problems)
        assessed = not inconsistencies and not violations and not unread and e["status"] is not None
        fired, flags, diagnoses, advice = e["fired"], e["flags"], e["diagnoses"], e["advice"]
        if not assessed:
            # no status: no status rule, and no flag that depends on a status (R6 monitor would say to
            # monitor a treatment that was never decided); the flags of what was read stay, with their advice
            free = status_free_rules(kb)
            fired = [r for r in fired if r["id"] in free]
            flags = [f for f in flags if f["rule"] in free]
            diagnoses = [d for d in diagnoses if d["rule"] in free]
            advice = advice_of(fired, e["general_advice"]) if not summary else []
        return Assessment(
            patient=pi.patient_id,
            iri=pi.iri,
            source=pi.source,
            status=e["status"] if assessed else None,
            status_label=e["status_label"] if assessed else None,
            rules=sorted(r["id"] for r in fired if r["kind"] == "status"),
            fired_rules=fired,
            diagnosis=diagnoses,
            criteria=e["criteria"],
            missing=sorted(m["criterion"] for m in e["missing"]),
            missing_details=e["missing"],
            flags=sorted(f["flag"] for f in flags),
            flag_details=flags,
            advice=advice,
            rule_states=e["rule_states"],
            not_fired=e["not_fired"] if assessed else [],
            unassessed_causes=e["unassessed_causes"],
            unassessed_contraindications=e["unassessed_contraindications"],
            ignored_results=e["ignored_results"] if assessed else [],
            superseded_results=e["superseded_results"] if assessed else [],
            data_problems=problems,
            graph_source=graph_source,
            engine=self.engine,
            stages=stages,
            as_of=self.as_of_given.isoformat() if self.as_of_given is not None else None,
        )

    def assess(self, data: Any, source: str | None = None) -> Assessment:
        patients = self.read(data, source)
        if len(patients) != 1:
            raise PatientDataError(
                f"holds {len(patients)} patients; use assess_many() for several",
                source=source or (str(data) if isinstance(data, (str, Path)) else None),
            )
        return self.assess_input(patients[0])

    def read_many(self, inputs: Iterable[Any]) -> Iterator[PatientInput | InputError]:
        """Every patient of every input (paths, directories, dicts, graphs), read but not yet assessed,
        or the InputError of what could not be read. One path, dict or graph is one input (``as_inputs``)."""
        claims = RunClaims()
        for item in _paths_together(as_inputs(inputs)):
            if isinstance(item, list):  # (paths named one after another: read as iter_input_files groups them)
                read = (
                    x
                    for path in iter_input_files(item)
                    for x in read_file(path, self.reader, lambda: self.fhir, self.as_of, self.as_of_given)
                )
            elif isinstance(item, dict) and "resourceType" in item:  # its patients, and its errors beside them
                read = read_fhir(
                    bundle_resources(item, "<bundle>"), self.fhir, "<bundle>", self.as_of, self.as_of_given
                )
            else:
                try:
                    read = iter(self.read(item))
                except InputError as exc:
                    yield exc
                    continue
            for pi in read:
                yield claims.admit(pi)

    def assess_many(self, inputs: Iterable[Any]) -> Iterator[Assessment | InputError]:
        """Assess every patient of every input (paths, directories, dicts, graphs).

        Yields an Assessment per patient, or the InputError of a file or patient
        that could not be read; the other patients are still assessed.
        """
        for pi in self.read_many(inputs):
            yield pi if isinstance(pi, InputError) else self.assess_input(pi)

    def iter_cohort(
        self, inputs: Iterable[Any], *, jobs: int = 1, progress: bool = False
    ) -> Iterator[Assessment | InputError]:
        """Assess every patient of every input (paths, directories, dicts, graphs) and yield, in input
        order, her Assessment, or the InputError of what could not be read in its place.

        ``jobs`` > 1 assesses on that many worker processes (the command line's ``--jobs``): the main
        process reads the inputs (the workers read the lines themselves when every input is a
        patient-summary NDJSON file: ``cohort.lines``), at most ``16 * jobs`` patients are in flight, so memory stays flat
        however long the stream, as long as the caller does not keep what it is given. Each Assessment
        is the one ``assess`` gives (its graphs are rebuilt from her triples on first use).
        ``progress``: a progress bar (tqdm's notebook-aware ``tqdm.auto``, when tqdm is installed)."""
        for item, _attributes in self._cohort(inputs, jobs=jobs, progress=progress):
            yield item

    def assess_cohort(self, inputs: Iterable[Any], *, jobs: int = 1, progress: bool = False) -> CohortResult:
        """Assess every patient of every input and keep them together: a CohortResult (counts,
        ``to_dataframe()``, ``to_store(path)``, a summary table in Jupyter), with the InputErrors of
        what could not be read. ``jobs`` and ``progress`` as for ``iter_cohort``; the outcomes are the
        same as ``assess`` one patient at a time, whatever ``jobs``."""
        assessments, errors, attributes = [], [], []
        for item, attrs in self._cohort(inputs, jobs=jobs, progress=progress):
            if isinstance(item, InputError):
                errors.append(item)
            else:
                assessments.append(item)
                attributes.append(attrs)
        return CohortResult(assessments, errors, kb=self.kb, attributes=attributes)

    def _cohort(self, inputs: Iterable[Any], *, jobs: int, progress: bool) -> Iterator[tuple]:
        """(Assessment or InputError, the patient's stratifying attributes or None), in input order."""
        if not isinstance(jobs, int) or jobs < 1:
            raise ValueError(f"jobs must be a whole number >= 1, not {jobs!r}")
        inputs = as_inputs(inputs)
        files = summary_ndjson_files(inputs) if jobs > 1 else None
        bar = _progress_bar(inputs, progress)
        results: Iterator[tuple]
        if jobs == 1:
            results = (
                (pi, None) if isinstance(pi, InputError) else (self.assess_input(pi), self._attributes(pi))
                for pi in self.read_many(inputs)
            )
        elif files is not None:  # the workers read the raw lines (``cohort.lines``)
            results = (
                (r, None) if isinstance(r, InputError) else (_assessment_of(self.kb, r[0]), r[1])
                for r in line_results(
                    files,
                    make_job=lambda path, lineno, line: (str(path), lineno, line),
                    run=functools.partial(
                        pool_results, assess_payload_line, jobs=jobs, initializer=init_worker, initargs=(self.config,)
                    ),
                    reader=self.reader,
                    local=lambda pi: (_payload(self.assess_input(pi)), self._attributes(pi)),
                )
            )
        else:
            attributes: list = []  # the attributes of the patients read and not yet yielded, in order

            def read() -> Iterator[PatientInput | InputError]:
                for pi in self.read_many(inputs):
                    if not isinstance(pi, InputError):
                        attributes.append(self._attributes(pi))
                    yield pi

            queued = (pi if isinstance(pi, InputError) else patient_job(pi) for pi in read())
            results = (
                (r, None) if isinstance(r, InputError) else (_assessment_of(self.kb, r), attributes.pop(0))
                for r in pool_results(
                    assess_payload, queued, jobs=jobs, initializer=init_worker, initargs=(self.config,)
                )
            )
        try:
            for item, attrs in results:
                if bar is not None:
                    bar.update(1)
                yield item, attrs
        finally:
            if bar is not None:
                bar.close()

    def _attributes(self, pi: PatientInput) -> dict:
        """The patient's stratifying attributes (``cohort.result.patient_attributes``)."""
        return patient_attributes(self.kb, pi.iri, pi.graph)


def as_inputs(inputs: Any) -> Iterable[Any]:
    """The inputs of a cohort call as an iterable of inputs: one path (``str`` or ``Path``), one patient-summary
    dict or FHIR resource, or one rdflib Graph is a single input, not a sequence of them (a path string would
    otherwise be read one character at a time, and a dict key by key)."""
    if isinstance(inputs, (str, Path, dict, Graph)):
        return [inputs]
    return inputs


def _progress_bar(inputs: Any, enabled: bool):
    """A tqdm bar (notebook widget or text, ``tqdm.auto``) counting patients, or None: not asked for, or
    tqdm is not installed. Its total is known when the inputs are a list of patient-summary dicts."""
    if not enabled:
        return None
    try:
        with warnings.catch_warnings():  # tqdm warns when a notebook has no ipywidgets: text is fine
            warnings.simplefilter("ignore")
            from tqdm.auto import tqdm
    except ImportError:
        return None
    total = None
    if isinstance(inputs, Sequence) and not isinstance(inputs, (str, bytes)):
        if all(isinstance(x, dict) and "resourceType" not in x for x in inputs):
            total = len(inputs)
    return tqdm(total=total, unit="patient", desc="assessing")


def worker_config(
    reference_table: PathLike | None,
    extra_ontology: Iterable[PathLike],
    engine: str,
    guidance: Guidance,
    as_of: date | datetime | None = None,
) -> tuple:
    """A worker's configuration (``Reasoner.config``; ``worker_reasoner`` builds the same reasoner from it):
    ``as_of`` the time to assess as of as given (``as_of_value``), if any."""
    return (
        str(reference_table) if reference_table else None,
        tuple(str(p) for p in extra_ontology),
        engine,
        guidance,
    ) + ((as_of,) if as_of is not None else ())


def as_of_value(value: datetime | date | str | None, present: datetime | None = None) -> date | datetime | None:
    """The time an assessment is made as of (``Reasoner(as_of=...)``), as given: a day (a date, or an ISO 8601
    date; a year or a month: its last day, or the present's (``present``, default: the present as
    ``KG_REASONER_NOW`` fixes it) when it has not ended yet), or an instant (a datetime, one without a zone in UTC,
    or an ISO 8601 date-time); None: the present."""
    if value is None:
        return None
    if present is None:  # (the present as the fixed clock gives it, else the clock)
        present = as_of_instant(_fixed_now()) or datetime.now(timezone.utc)
    if isinstance(value, datetime):
        return _not_to_come(value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc), present)
    if isinstance(value, date):
        return _not_to_come(value, present)
    if isinstance(value, str):
        try:
            text = value.strip()
            given: date | datetime = (
                date.fromisoformat(text)
                if len(text) == 10
                else _last_day(text, present)
                if len(text) in (4, 7) and "T" not in text
                else _instant(text)
            )
        except ValueError as exc:
            raise AsOfError(f"the time to assess as of: {exc}") from None
        return _not_to_come(given, present)
    raise AsOfError(
        f"the time to assess as of must be a datetime, a date or an ISO 8601 string, not {type(value).__name__}"
    )


def _fixed_now() -> date | datetime | None:
    """The present fixed by KG_REASONER_NOW, or None (the clock)."""
    try:
        return as_of_value(os.environ.get(NOW_ENV) or None, datetime.now(timezone.utc))
    except AsOfError as exc:
        raise AsOfError(f"{NOW_ENV}: {exc}") from None


def _instant(text: str) -> datetime:
    """An ISO 8601 date-time as FHIR writes one (one without a zone in UTC, as a datetime without one); a form FHIR
    does not write (20240225, a space for the T) is refused (ValueError)."""
    parse_time(text)  # (FHIR's forms only)
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def _last_day(text: str, present: datetime) -> date:
    """A year or a year-month to assess as of: its last day (compared, as a day given, with a record's own day), or
    the present's day when it has not ended yet: as of this month are its records so far."""
    interval = parse_time(text)  # (FHIR's forms only)
    year, month = int(text[:4]), int(text[5:7]) if len(text) == 7 else 12
    last = date(year, month, calendar.monthrange(year, month)[1])
    return min(last, present.date()) if interval.earliest <= present else last


def _not_to_come(value: date | datetime, present: datetime) -> date | datetime:
    """A time to assess as of that has come by ``present`` (the fixed clock, or the clock): records of a time to come
    do not exist yet, and one given by mistake would let a record dated in the future pass as read (a day of grace
    for the time zones of today)."""
    instant = as_of_instant(value)
    if instant is not None and instant > present + timedelta(days=2):
        raise AsOfError(f"the time to assess as of ({value.isoformat()}) has not come yet: give a past time")
    return value


def as_of_instant(value: date | datetime | None) -> datetime | None:
    """The instant of a time to assess as of (``as_of_value``): a day's is its end at the latest time zone (a
    record of that day, wherever it was made, is not in the future)."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value, time.max, timezone(timedelta(hours=-12)))


# -- worker processes -----------------------------------------------------------------------------------
#: The reasoners of this process, one per configuration (a worker process, a Dask worker, the
#: differential check): built once, from the on-disk knowledge-base cache when warm.
_REASONERS: dict = {}
#: The configuration a pool worker was started with (``init_worker``).
_CONFIG: dict = {}


def worker_reasoner(config: tuple | None = None) -> Reasoner:
    """This process's reasoner for ``config`` (reference table, extra ontology, engine[, guidance]); by
    default the configuration the pool worker was started with."""
    config = config if config is not None else _CONFIG["config"]
    if config not in _REASONERS:
        reference_table, ontology, engine, *rest = config
        _REASONERS[config] = Reasoner(
            reference_table,
            tuple(ontology or ()),
            engine=engine,
            guidance=rest[0] if rest else PROGESTERONE,
            as_of=rest[1] if len(rest) > 1 else None,
        )
        if _CONFIG.get("pool_worker"):
            # A pool worker's knowledge base lives as long as the worker: the cyclic garbage collector leaves
            # its objects (about 200,000) out of its full collections from now on, which otherwise walk them
            # again and again. And it collects the young generation every 10,000 new container objects rather
            # than every 700: most of a patient's objects are freed by their reference counts before then.
            # (GC time per full explanation: 0.3 ms -> 0.06 ms; only in a pool worker's own process.)
            gc.collect()  # (what building it left for the collector, collected before the rest is frozen)
            gc.freeze()
            gc.set_threshold(10_000, 10, 10)
    return _REASONERS[config]


def init_worker(config: tuple) -> None:
    """A pool worker's initializer: remember the configuration (the reasoner is built on first use)."""
    _CONFIG["config"] = config
    _CONFIG["pool_worker"] = True


#: The Assessment fields a worker sends back as they are (its graphs travel as triples).
_PLAIN_FIELDS = tuple(f.name for f in dataclasses.fields(Assessment) if f.init and f.name != "graph_source")


def assess_payload(job: tuple) -> tuple:
    """Run in a worker: assess one patient job (``cohort.pool.patient_job``) and return her Assessment
    as plain data (``_payload``)."""
    return _payload(worker_reasoner().assess_input(job_patient(job)))


def assess_payload_line(job: tuple) -> tuple:
    """Run in a worker: read the patient of a raw line ``(file, line number, line)`` of a patient-summary
    NDJSON file and assess her: ``(None, InputError)`` when the line cannot be read, else
    ``(claim_of(her), (her Assessment as plain data, her stratifying attributes))``."""
    r = worker_reasoner()
    pi = read_summary_line(r.reader, *job)
    if isinstance(pi, InputError):
        return None, pi
    return claim_of(pi), (_payload(r.assess_input(pi)), r._attributes(pi))


def _payload(a: Assessment) -> tuple:
    """An Assessment as plain data for another process: its fields, her asserted and inferred triples, and
    the provenance activity (``_assessment_of`` rebuilds it)."""
    graphs = a.graph_source()
    return (
        {name: getattr(a, name) for name in _PLAIN_FIELDS},
        list(graphs.asserted),
        list(graphs.inferred),
        graphs.activity,
    )


def _assessment_of(kb: KnowledgeBase, payload: tuple) -> Assessment:
    """The Assessment of a worker's ``assess_payload``, its graphs rebuilt on first use."""
    fields, asserted, inferred, activity = payload
    return Assessment(
        **fields,
        graph_source=functools.partial(AssessmentGraphs, kb, fields["iri"], asserted, inferred, None, activity),
    )


def _paths_together(inputs: Iterable[Any]) -> Iterator[Any]:
    """The inputs, with each run of paths one after another given as one list: a FHIR record in one file and
    her Patient in another are then read together (``iter_input_files``)."""
    paths: list = []
    for item in inputs:
        if isinstance(item, (str, Path)):
            paths.append(item)
            continue
        if paths:
            yield paths
            paths = []
        yield item
    if paths:
        yield paths


def _all_or_raise(items: Iterable[PatientInput | InputError]) -> list[PatientInput]:
    """Every patient read, or the first error: a single assess() call has no other patient to go on with."""
    out = []
    for item in items:
        if isinstance(item, InputError):
            raise item
        out.append(item)
    return out


@functools.lru_cache(maxsize=8)
def _vocabulary(kb: KnowledgeBase) -> SummaryVocabulary:
    return SummaryVocabulary(kb.closure)


@functools.lru_cache(maxsize=8)
def _fhir_vocabulary(kb: KnowledgeBase) -> FhirVocabulary:
    return FhirVocabulary(kb.closure)


@functools.lru_cache(maxsize=2)
def _default_reasoner(engine: str = "fast") -> Reasoner:
    return Reasoner(engine=engine)


def assess(
    data: Any,
    *,
    reference_table: PathLike | None = None,
    extra_ontology: Iterable[PathLike] = (),
    engine: str = "fast",
    guidance: Guidance = PROGESTERONE,
    as_of: datetime | date | str | None = None,
) -> Assessment:
    """Assess one patient given as a path (patient summary JSON, Turtle, N-Triples or
    JSON-LD), a patient-summary dict, or an rdflib Graph in the ontology's vocabulary."""
    return _reasoner(reference_table, extra_ontology, engine, guidance, as_of).assess(data)


def assess_many(
    inputs: Iterable[Any],
    *,
    reference_table: PathLike | None = None,
    extra_ontology: Iterable[PathLike] = (),
    engine: str = "fast",
    guidance: Guidance = PROGESTERONE,
    as_of: datetime | date | str | None = None,
) -> Iterator[Assessment | InputError]:
    return _reasoner(reference_table, extra_ontology, engine, guidance, as_of).assess_many(inputs)


def _reasoner(
    reference_table, extra_ontology, engine: str, guidance: Guidance = PROGESTERONE, as_of: Any = None
) -> Reasoner:
    """A reasoner for the module-level functions (``as_of`` as for ``Reasoner``)."""
    if not reference_table and not extra_ontology and guidance is PROGESTERONE and as_of is None:
        return _default_reasoner(engine)
    return Reasoner(reference_table, extra_ontology, engine=engine, guidance=guidance, as_of=as_of)


def assess_cohort(
    inputs: Iterable[Any],
    *,
    jobs: int = 1,
    progress: bool = False,
    reference_table: PathLike | None = None,
    extra_ontology: Iterable[PathLike] = (),
    engine: str = "fast",
    guidance: Guidance = PROGESTERONE,
    as_of: datetime | date | str | None = None,
) -> CohortResult:
    """Assess a cohort (paths, directories, dicts, graphs) into one CohortResult, on ``jobs`` worker
    processes, with a progress bar if ``progress`` (``Reasoner.assess_cohort``)."""
    return _reasoner(reference_table, extra_ontology, engine, guidance, as_of).assess_cohort(
        inputs, jobs=jobs, progress=progress
    )


def iter_cohort(
    inputs: Iterable[Any],
    *,
    jobs: int = 1,
    progress: bool = False,
    reference_table: PathLike | None = None,
    extra_ontology: Iterable[PathLike] = (),
    engine: str = "fast",
    guidance: Guidance = PROGESTERONE,
    as_of: datetime | date | str | None = None,
) -> Iterator[Assessment | InputError]:
    """Stream a cohort: each patient's Assessment (or the InputError of what could not be read) in
    input order, with flat memory (``Reasoner.iter_cohort``)."""
    return _reasoner(reference_table, extra_ontology, engine, guidance, as_of).iter_cohort(
        inputs, jobs=jobs, progress=progress
    )
