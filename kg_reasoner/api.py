"""Python API: ``assess`` one patient, ``assess_many`` a cohort, or hold a ``Reasoner``."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rdflib import Graph, URIRef

from kg_reasoner.cohort.result import CohortResult
from kg_reasoner.errors import InputError, PatientDataError
from kg_reasoner.explain.assessment import Assessment
from kg_reasoner.explain.explanation import explain
from kg_reasoner.explain.provenance import AssessmentGraphs
from kg_reasoner.guidance import PROGESTERONE, Guidance
from kg_reasoner.read.fhir import FhirVocabulary, bundle_resources, read_fhir
from kg_reasoner.read.files import iter_input_files, read_file
from kg_reasoner.read.patient import PatientInput
from kg_reasoner.read.rdf import foreign_nodes, split_patients
from kg_reasoner.read.summary import SummaryReader, SummaryVocabulary
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
    ):
        if engine not in ENGINES:
            raise ValueError(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}")
        self.engine = engine
        self.guidance = guidance
        self.kb: KnowledgeBase = load_knowledge_base(
            str(reference_table) if reference_table else None, tuple(str(p) for p in extra_ontology), guidance
        )
        self._engine: Engine = ENGINES[engine](self.kb)
        self.reader = SummaryReader(_vocabulary(self.kb))
        self.fhir = _fhir_vocabulary(self.kb)

    # -- inputs ---------------------------------------------------------------
    def read(self, data: Any, source: str | None = None) -> list[PatientInput]:
        """Patients of a path, a patient-summary dict (or list of dicts), or an rdflib Graph."""
        if isinstance(data, Graph):
            return split_patients(data, source or "<graph>", self.reader.v.terms, self.reader.v.closure)
        if isinstance(data, dict) and "resourceType" in data:
            return _all_or_raise(
                read_fhir(bundle_resources(data, source or "<bundle>"), self.fhir, source or "<bundle>")
            )
        if isinstance(data, dict):
            return [self.reader.read(data, source or "<dict>")]
        if isinstance(data, list):
            return [self.reader.read(item, source or "<list>", f"/{i}") for i, item in enumerate(data)]
        if isinstance(data, (str, Path)):
            return _all_or_raise(self.read_many([data]))
        raise TypeError(f"cannot assess a {type(data).__name__}: give a path, a dict or an rdflib Graph")

    # -- reasoning ------------------------------------------------------------
    def assess_input(self, pi: PatientInput) -> Assessment:
        started = datetime.now(timezone.utc)
        with self._engine.session(pi.iri, pi.graph) as d:  # derive
            e = explain(d.query, pi.iri)  # explain, while her graphs are held
        inconsistencies, violations, warnings, stages = d.inconsistencies, d.violations, d.warnings, d.stages
        kb = self.kb

        def graph_source() -> dict:
            return AssessmentGraphs(kb, pi.iri, d.asserted, d.inferred, d.work, activity)

        activity = {"engine": self.engine, "started": started, "ended": datetime.now(timezone.utc), "source": pi.source}
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
        # a record the reader could not read at all (severity "error") fails the patient closed
        unread = any(p["severity"] == "error" for p in pi.data_problems)
        assessed = not inconsistencies and not violations and not unread and e["status"] is not None
        return Assessment(
            patient=pi.patient_id,
            iri=pi.iri,
            source=pi.source,
            status=e["status"] if assessed else None,
            status_label=e["status_label"] if assessed else None,
            rules=sorted(r["id"] for r in e["fired"] if r["kind"] == "status"),
            fired_rules=e["fired"],
            diagnosis=e["diagnoses"],
            criteria=e["criteria"],
            missing=sorted(m["criterion"] for m in e["missing"]),
            missing_details=e["missing"],
            flags=sorted(f["flag"] for f in e["flags"]),
            flag_details=e["flags"],
            advice=e["advice"],
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
        or the InputError of what could not be read."""
        owner: dict = {}  # a node not named under a patient's IRI -> the patient of the run it belongs to
        seen: dict = {}  # patient IRI -> the sources it was read from in this run
        for item in inputs:
            if isinstance(item, (str, Path)):
                read = (x for path in iter_input_files([item]) for x in read_file(path, self.reader, self.fhir))
            else:
                try:
                    read = iter(self.read(item))
                except InputError as exc:
                    yield exc
                    continue
            for pi in read:
                yield _claim_nodes(_distinct(pi, seen), owner)

    def assess_many(self, inputs: Iterable[Any]) -> Iterator[Assessment | InputError]:
        """Assess every patient of every input (paths, directories, dicts, graphs).

        Yields an Assessment per patient, or the InputError of a file or patient
        that could not be read; the other patients are still assessed.
        """
        for pi in self.read_many(inputs):
            yield pi if isinstance(pi, InputError) else self.assess_input(pi)

    def assess_cohort(self, inputs: Iterable[Any]) -> CohortResult:
        """Assess every patient of every input and keep them together: a CohortResult (counts,
        ``to_dataframe()``, ``to_store(path)``, a summary table in Jupyter), with the InputErrors of
        what could not be read."""
        assessments, errors = [], []
        for item in self.assess_many(inputs):
            (errors if isinstance(item, InputError) else assessments).append(item)
        return CohortResult(assessments, errors, kb=self.kb)


def _distinct(pi: PatientInput | InputError, seen: dict) -> PatientInput | InputError:
    """A patient id read again in the same run (twice in one NDJSON, in two files, as FHIR and as a summary)
    is another record of the cohort, never an overwrite: it is assessed under an IRI keyed by its source
    too (so outputs, resume and the store keep both), with a data problem naming both sources."""
    if isinstance(pi, InputError):
        return pi
    sources = seen.setdefault(str(pi.iri), [])  # keyed by IRI: two ids can name the same patient IRI
    sources.append(pi.source)
    if len(sources) == 1:
        return pi
    first = sources[0]
    old = str(pi.iri)
    new = f"{old}~{hashlib.sha256(f'{pi.source}#{len(sources)}'.encode()).hexdigest()[:10]}"

    def rename(term):
        if isinstance(term, URIRef) and (str(term) == old or str(term).startswith(old + "/")):
            return URIRef(new + str(term)[len(old) :])
        return term

    graph = Graph()
    for t in pi.graph:
        graph.add(tuple(rename(x) for x in t))
    problem = {
        "severity": "warning",
        "record": pi.source,
        "node": new,
        "field": "id",
        "value": pi.patient_id,
        "message": f"patient id {pi.patient_id!r} was also read from {first}: both are assessed, this one as "
        f"<{new}>; give each patient a unique id",
    }
    return PatientInput(pi.patient_id, URIRef(new), graph, pi.source, list(pi.data_problems) + [problem])


def _claim_nodes(pi: PatientInput | InputError, owner: dict) -> PatientInput | InputError:
    """Across a run, a node that is not named under a patient's IRI belongs to the first patient whose
    graph describes it; a later patient describing it is refused (one patient's facts never touch another's)."""
    if isinstance(pi, InputError):
        return pi
    # her own IRI and the nodes outside her namespace that she describes (her own IRI too: a patient seen
    # earlier may have described it)
    nodes = foreign_nodes(pi.graph, pi.iri) | {pi.iri}
    clash = sorted(str(n) for n in nodes if owner.get(n, pi.iri) != pi.iri)
    if clash:
        return PatientDataError(
            f"describes {clash[0]}, which patient {owner[URIRef(clash[0])]} of this run already "
            "describes: one patient's facts must never touch another's",
            source=pi.source,
            patient=pi.patient_id,
        )
    owner.update((n, pi.iri) for n in nodes)
    return pi


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
    data: Any, *, reference_table: PathLike | None = None, extra_ontology: Iterable[PathLike] = (), engine: str = "fast"
) -> Assessment:
    """Assess one patient given as a path (patient summary JSON, Turtle, N-Triples or
    JSON-LD), a patient-summary dict, or an rdflib Graph in the ontology's vocabulary."""
    return _reasoner(reference_table, extra_ontology, engine).assess(data)


def assess_many(
    inputs: Iterable[Any],
    *,
    reference_table: PathLike | None = None,
    extra_ontology: Iterable[PathLike] = (),
    engine: str = "fast",
) -> Iterator[Assessment | InputError]:
    return _reasoner(reference_table, extra_ontology, engine).assess_many(inputs)


def _reasoner(reference_table, extra_ontology, engine: str) -> Reasoner:
    if not reference_table and not extra_ontology:
        return _default_reasoner(engine)
    return Reasoner(reference_table, extra_ontology, engine=engine)


def assess_cohort(
    inputs: Iterable[Any],
    *,
    reference_table: PathLike | None = None,
    extra_ontology: Iterable[PathLike] = (),
    engine: str = "fast",
    guidance: Guidance = PROGESTERONE,
) -> CohortResult:
    """Assess a cohort (paths, directories, dicts, graphs) into one CohortResult."""
    if guidance is not PROGESTERONE:
        return Reasoner(reference_table, extra_ontology, engine=engine, guidance=guidance).assess_cohort(inputs)
    return _reasoner(reference_table, extra_ontology, engine).assess_cohort(inputs)
