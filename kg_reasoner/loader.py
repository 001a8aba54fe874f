"""Patient data to RDF: patient summary JSON (decision-spec section 6) and RDF files.

The JSON vocabulary is read from the ontology, not written here: which keys
exist (``kgr:summaryKey``), what kind of record each becomes (the core class
it specialises), and which values each accepts (``kgr:summaryValue``). A new
cause or symptom added to the ontology with a summary key is accepted in the
JSON with no code change. Everything outside that vocabulary is an error that
names the file, the patient and the field.
"""

from __future__ import annotations

import datetime as _dt
import gzip
import zlib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Iterator
from urllib.parse import quote

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

from kg_reasoner.errors import InputError, PatientDataError, UnreadableInputError
from kg_reasoner.namespaces import KGR, PATIENT_BASE
from kg_reasoner.sparql import run_query
from kg_reasoner.times import TimeInterval, iso, parse_time

#: Keys of the patient summary that belong to the patient herself (spec section 6).
PATIENT_KEYS = ("id", "gestational_age_weeks", "conception", "causes")
#: Fields of one measurement entry and of one medication-use entry (spec section 6).
MEASUREMENT_FIELDS = ("value", "unit", "reference_low", "interpretation", "time", "status")
MEDICATION_FIELDS = ("supervised", "symptom_course")
#: Keys of a test-case file (the vignette format): the patient summary sits under "patient".
CASE_KEYS = frozenset({"id", "description", "patient", "expect"})
#: The core classes a summary key can specialise, most specific first.
RECORD_KINDS = (KGR.Cause, KGR.Symptom, KGR.Measurement, KGR.ImagingResult, KGR.MedicationUse, KGR.Condition)
#: File suffixes read as RDF, with their rdflib parser.
RDF_FORMATS = {".ttl": "turtle", ".nt": "nt", ".jsonld": "json-ld", ".json-ld": "json-ld"}
#: File suffixes read as FHIR bulk data (one resource per line).
NDJSON = ".ndjson"


def is_ndjson(path: Path) -> bool:
    """An NDJSON file, plain or gzip-compressed (as FHIR bulk exports are often delivered)."""
    name = path.name.lower()
    return name.endswith(NDJSON) or name.endswith(NDJSON + ".gz")


def open_lines(path: Path) -> Iterator[str]:
    """The lines of a text file, gzip or plain, with a UTF-8 byte-order mark removed."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", errors="strict", newline=None) as fh:
        yield from fh


@dataclass
class PatientInput:
    """One patient's asserted triples, ready for reasoning."""

    patient_id: str
    iri: URIRef
    graph: Graph
    source: str
    data_problems: list[dict] = field(default_factory=list)


def patient_iri(patient_id: str) -> URIRef:
    return URIRef(PATIENT_BASE + quote(str(patient_id), safe=""))


class SummaryVocabulary:
    """The patient-summary vocabulary as the ontology defines it."""

    def __init__(self, ontology_closure: Graph):
        self.keys: dict[str, tuple[URIRef, URIRef]] = {}
        kinds: dict[str, dict[URIRef, URIRef]] = {}
        for row in run_query("summary-keys", ontology_closure):
            kinds.setdefault(str(row.key), {})[row.kind] = row.cls
        for key, by_kind in kinds.items():
            for kind in RECORD_KINDS:
                if kind in by_kind:
                    self.keys[key] = (by_kind[kind], kind)
                    break
        self.closure = ontology_closure
        #: every IRI the ontology says something about: never part of a patient's own graph
        self.terms: frozenset = frozenset(s for s in ontology_closure.subjects() if isinstance(s, URIRef))
        self.values: dict[URIRef, dict[str, URIRef]] = {}
        for row in run_query("summary-values", ontology_closure):
            self.values.setdefault(row.owner, {})[str(row.value)] = row.term

    def allowed(self, owner: URIRef) -> dict[str, URIRef]:
        return self.values.get(owner, {})

    def key_of_kind(self, *kinds: URIRef) -> dict[str, URIRef]:
        return {k: cls for k, (cls, kind) in self.keys.items() if kind in kinds}


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, Decimal, float)) and not isinstance(v, bool)


def canonical_decimal(v: Any) -> str:
    """The canonical xsd:decimal lexical form (7 -> "7.0", 19.080 -> "19.08"): the same whatever
    serialization a value went through."""
    text = format(Decimal(str(v)).normalize(), "f")
    return text if "." in text else text + ".0"


#: The numbers both engines compare exactly (issue 12, item 11): pyoxigraph's xsd:decimal is a 128-bit fixed
#: point with 18 fraction digits (about +-1.7e20); the bounds leave room for a unit conversion factor.
MAX_MAGNITUDE = Decimal(10) ** 18
MAX_FRACTION_DIGITS = 16


def number_problem(v: Any) -> str | None:
    """Why a number cannot be compared exactly by both engines, or None when it can."""
    d = Decimal(str(v))
    if not d.is_finite():
        return f"{v} is not a finite number"
    if abs(d) >= MAX_MAGNITUDE:
        return f"{v} is outside the numbers the reasoner compares exactly (|value| < 10^18)"
    if d != 0 and -d.normalize().as_tuple().exponent > MAX_FRACTION_DIGITS:
        return f"{v} has more than {MAX_FRACTION_DIGITS} decimal places, beyond what the reasoner compares exactly"
    return None


def decimal_literal(v: Any) -> Literal:
    """A number as an xsd:decimal literal in canonical form."""
    return Literal(canonical_decimal(v), datatype=XSD.decimal)


def time_literal(moment: _dt.datetime) -> Literal:
    return Literal(iso(moment), datatype=XSD.dateTime)


def add_time(g: Graph, rec: URIRef, interval: TimeInterval) -> None:
    """A record's time: its earliest instant, and its latest when the time was recorded with less
    precision (a date, a year-month, no time zone), compared as an interval (decision-spec section 4)."""
    g.add((rec, KGR.effectiveTime, time_literal(interval.earliest)))
    if not interval.precise:
        g.add((rec, KGR.effectiveTimeLatest, time_literal(interval.latest)))
        g.add((rec, KGR.timeAsRecorded, Literal(interval.text)))


class SummaryReader:
    """Turns one patient summary (a dict) into an RDF graph."""

    def __init__(self, vocabulary: SummaryVocabulary):
        self.v = vocabulary

    def read(self, data: Any, source: str, pointer: str = "") -> PatientInput:
        """One patient summary as RDF, or a PatientDataError naming the file, patient and field; whatever
        shape the JSON has, never another exception."""
        try:
            return self._read(data, source, pointer)
        except InputError:
            raise
        except Exception as exc:   # a value of a shape no check foresaw: named, never a traceback
            pid = data.get("id") if isinstance(data, dict) and isinstance(data.get("id"), str) else None
            raise PatientDataError(f"cannot be read ({type(exc).__name__}: {exc}); check the types of its values "
                                   "against decision-spec section 6", source=source, patient=pid,
                                   field=pointer or "/") from None

    def _read(self, data: Any, source: str, pointer: str = "") -> PatientInput:
        if isinstance(data, dict) and isinstance(data.get("patient"), dict) and set(data) <= CASE_KEYS:
            # a test case in the vignette format: {"id", "description", "patient", "expect"}
            data, pointer = data["patient"], f"{pointer}/patient"
        pid = data.get("id") if isinstance(data, dict) else None

        def err(field_path: str):
            def make(message: str) -> PatientDataError:
                return PatientDataError(message, source=source, patient=pid if isinstance(pid, str) else None,
                                        field=field_path)
            return make

        if not isinstance(data, dict):
            raise PatientDataError("a patient summary must be a JSON object", source=source, field=pointer or "/")
        if not isinstance(pid, str) or not pid.strip():
            raise err(f"{pointer}/id")("the required key 'id' must be a non-empty string")
        known = set(PATIENT_KEYS) | {k for k, (_, kind) in self.v.keys.items() if kind != KGR.Cause}
        for key in data:
            if key not in known:
                raise err(f"{pointer}/{key}")(
                    f"unknown key {key!r}; allowed keys are {', '.join(sorted(known))}")

        g = Graph()
        me = patient_iri(pid)
        g.add((me, RDF.type, KGR.Patient))
        g.add((me, KGR.patientId, Literal(pid)))
        # the file's name, never the machine path it was read from (exports and stores travel)
        record_source = f"{Path(source).name if source else ''}#{pointer}"

        def add_record(prop: URIRef, cls: URIRef, local: str, ptr: str) -> URIRef:
            rec = URIRef(f"{me}/{local}")
            g.add((me, prop, rec))
            g.add((rec, RDF.type, cls))
            g.add((rec, KGR.sourceRecord, Literal(f"{record_source}{ptr}")))
            return rec

        def choose(value: Any, owner: URIRef, ptr: str, what: str) -> URIRef:
            allowed = self.v.allowed(owner)
            if not isinstance(value, str) or value not in allowed:
                raise err(ptr)(f"{value!r} is not a valid {what}; allowed: {', '.join(sorted(allowed))}")
            return allowed[value]

        if "gestational_age_weeks" in data:
            ga = data["gestational_age_weeks"]
            if not _is_number(ga):
                raise err(f"{pointer}/gestational_age_weeks")(f"must be a number of weeks, not {ga!r}")
            if number_problem(ga):
                raise err(f"{pointer}/gestational_age_weeks")(number_problem(ga))
            g.add((me, KGR.gestationalAgeWeeks, decimal_literal(ga)))
        if "conception" in data:
            g.add((me, KGR.conception, choose(data["conception"], KGR.conception, f"{pointer}/conception", "conception")))
        if "causes" in data:
            causes = data["causes"]
            if not isinstance(causes, dict):
                raise err(f"{pointer}/causes")("must be an object of cause: true/false")
            allowed = self.v.key_of_kind(KGR.Cause)
            for name, present in causes.items():
                ptr = f"{pointer}/causes/{name}"
                if name not in allowed:
                    raise err(ptr)(f"unknown cause {name!r}; allowed: {', '.join(sorted(allowed))}")
                if not isinstance(present, bool):
                    raise err(ptr)("must be true (present) or false (known absent); leave the key out when not assessed")
                rec = add_record(KGR.hasFinding, allowed[name], f"cause/{name}", f"/causes/{name}")
                g.add((rec, KGR.presence, KGR.Present if present else KGR.Absent))

        for key, (cls, kind) in self.v.keys.items():
            if key not in data or kind == KGR.Cause:
                continue
            value, ptr = data[key], f"{pointer}/{key}"
            if kind == KGR.Symptom:
                rec = add_record(KGR.hasFinding, cls, key, f"/{key}")
                if value == "absent":
                    g.add((rec, KGR.presence, KGR.Absent))
                else:
                    allowed = self.v.allowed(cls)
                    if value not in allowed:
                        raise err(ptr)(f"{value!r} is not a valid value; allowed: absent, {', '.join(sorted(allowed))}")
                    g.add((rec, KGR.presence, KGR.Present))
                    g.add((rec, KGR.severity, allowed[value]))
            elif kind == KGR.Condition:
                sub = choose(value, cls, ptr, key)
                rec = add_record(KGR.hasFinding, sub, key, f"/{key}")
                g.add((rec, KGR.presence, KGR.Present))
            elif kind == KGR.ImagingResult:
                rec = add_record(KGR.hasImagingResult, cls, key, f"/{key}")
                g.add((rec, KGR.conclusion, choose(value, cls, ptr, f"{key} conclusion")))
            elif kind == KGR.Measurement:
                self._measurements(g, add_record, cls, key, value, ptr, err)
            elif kind == KGR.MedicationUse:
                self._medication(g, add_record, cls, key, value, ptr, err, choose)
        return PatientInput(pid, me, g, source)

    def _measurements(self, g, add_record, cls, key, value, ptr, err):
        if not isinstance(value, list):
            raise err(ptr)("must be a list of results")
        for i, entry in enumerate(value):
            eptr = f"{ptr}/{i}"
            if not isinstance(entry, dict):
                raise err(eptr)("a result must be an object with value and unit")
            for f in entry:
                if f not in MEASUREMENT_FIELDS:
                    raise err(f"{eptr}/{f}")(f"unknown field {f!r}; allowed: {', '.join(MEASUREMENT_FIELDS)}")
            if "value" not in entry and "interpretation" not in entry:
                raise err(f"{eptr}/value")("a result needs a value (with its unit) or an interpretation")
            rec = add_record(KGR.hasMeasurement, cls, f"{key}/{i}", f"/{key}/{i}")
            units = self.v.allowed(KGR.unit)
            if "value" in entry:
                if not _is_number(entry["value"]):
                    raise err(f"{eptr}/value")(f"must be a number, not {entry['value']!r}")
                if "unit" not in entry:
                    raise err(f"{eptr}/unit")("a result needs a unit (ng/mL or nmol/L); a missing unit is never guessed")
                if number_problem(entry["value"]):
                    raise err(f"{eptr}/value")(number_problem(entry["value"]))
                g.add((rec, KGR.value, decimal_literal(entry["value"])))
            if "unit" in entry:
                if not isinstance(entry["unit"], str) or entry["unit"] not in units:
                    raise err(f"{eptr}/unit")(f"unknown unit {entry['unit']!r}; allowed: {', '.join(sorted(units))}")
                g.add((rec, KGR.unit, units[entry["unit"]]))
            if "reference_low" in entry:
                if "value" not in entry:
                    raise err(f"{eptr}/reference_low")("a reference lower bound needs the result's value and unit")
                if not _is_number(entry["reference_low"]):
                    raise err(f"{eptr}/reference_low")(f"must be a number in the result's unit, not {entry['reference_low']!r}")
                if number_problem(entry["reference_low"]):
                    raise err(f"{eptr}/reference_low")(number_problem(entry["reference_low"]))
                g.add((rec, KGR.referenceLow, decimal_literal(entry["reference_low"])))
            if "interpretation" in entry:
                allowed = self.v.allowed(KGR.interpretation)
                if not isinstance(entry["interpretation"], str) or entry["interpretation"] not in allowed:
                    raise err(f"{eptr}/interpretation")(
                        f"{entry['interpretation']!r} is not valid; allowed: {', '.join(sorted(allowed))}")
                g.add((rec, KGR.interpretation, allowed[entry["interpretation"]]))
            if "time" in entry:
                try:
                    add_time(g, rec, parse_time(entry["time"]))
                except ValueError as exc:
                    raise err(f"{eptr}/time")(str(exc)) from None
            if "status" in entry:
                allowed = self.v.allowed(KGR.resultStatus)
                if not isinstance(entry["status"], str) or entry["status"] not in allowed:
                    raise err(f"{eptr}/status")(f"{entry['status']!r} is not valid; allowed: {', '.join(sorted(allowed))}")
                g.add((rec, KGR.resultStatus, allowed[entry["status"]]))

    def _medication(self, g, add_record, cls, key, value, ptr, err, choose):
        if not isinstance(value, dict):
            raise err(ptr)("must be an object with 'supervised' and/or 'symptom_course'")
        for f in value:
            if f not in MEDICATION_FIELDS:
                raise err(f"{ptr}/{f}")(f"unknown field {f!r}; allowed: {', '.join(MEDICATION_FIELDS)}")
        rec = add_record(KGR.hasMedicationUse, cls, key, f"/{key}")
        if "supervised" in value:
            if not isinstance(value["supervised"], bool):
                raise err(f"{ptr}/supervised")("must be true (under medical supervision) or false (self-medication)")
            g.add((rec, KGR.medicallySupervised, Literal(value["supervised"])))
        if "symptom_course" in value:
            g.add((rec, KGR.symptomCourse, choose(value["symptom_course"], KGR.symptomCourse,
                                                  f"{ptr}/symptom_course", "symptom course")))


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------

def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number (JSON has no NaN or Infinity)")


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def json_loads(text: str) -> Any:
    """JSON as every reader reads it (one numeric path): numbers with a fraction as exact decimals, never
    floats (9.9999999999999999 stays below 10 in a .json file and an .ndjson line alike); NaN and
    Infinity refused; nesting too deep to read and lone UTF-16 surrogates are errors, not crashes."""
    try:
        data = json.loads(text, parse_float=Decimal, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("it is nested too deeply to be read") from None
    # strict UTF-8 text cannot hold a surrogate: only a \uD800-\uDFFF escape can make one, so the (costly)
    # re-encoding check runs only when the text has such an escape
    if _SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(data, ensure_ascii=False, default=str).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("it holds a lone UTF-16 surrogate (\\ud800-\\udfff): not valid Unicode text") from None
        except RecursionError:
            raise ValueError("it is nested too deeply to be read") from None
    return data


def _load_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise UnreadableInputError(f"cannot be read: {exc.strerror or exc}", source=str(path)) from None
    except UnicodeDecodeError as exc:
        raise UnreadableInputError(f"is not valid UTF-8 text: {exc}", source=str(path)) from None
    try:
        return json_loads(text)
    except ValueError as exc:
        raise UnreadableInputError(f"is not valid JSON: {exc}", source=str(path)) from None


def _check_no_remote_context(node: Any, path: Path) -> None:
    """JSON-LD contexts must be inline, at any depth: kg-reasoner never fetches a context, whether named
    by a string (a URL or a file path) in ``@context`` or by ``@import`` inside an inline context."""
    stack = [(node, "")]
    while stack:
        item, where = stack.pop()
        if isinstance(item, dict):
            for k, v in item.items():
                here = f"{where}/{k}"
                if k == "@import":
                    raise UnreadableInputError(
                        f"imports the JSON-LD context {v!r} (@import); kg-reasoner never fetches or reads a "
                        "context from elsewhere: put the context inline", source=str(path), field=here)
                if k == "@context":
                    for ctx in (v if isinstance(v, list) else [v]):
                        if not isinstance(ctx, (dict, type(None))):
                            raise UnreadableInputError(
                                f"refers to the JSON-LD context {ctx!r}, which is not inline; kg-reasoner never "
                                "fetches from the network nor reads a context from elsewhere: put it inline",
                                source=str(path), field=here)
                stack.append((v, here))
        elif isinstance(item, list):
            stack.extend((v, f"{where}/{i}") for i, v in enumerate(item))


def parse_rdf_file(path: Path) -> Graph:
    fmt = RDF_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UnreadableInputError(f"unknown file type {path.suffix!r}; use .json (patient summary), "
                                   f"{', '.join(RDF_FORMATS)} (RDF)", source=str(path))
    g = Graph()
    try:
        if fmt == "json-ld":
            data = json_loads(path.read_text(encoding="utf-8-sig"))
            _check_no_remote_context(data, path)
            g.parse(data=json.dumps(data), format="json-ld")
        else:
            g.parse(path, format=fmt)
    except InputError:
        raise
    except OSError as exc:
        raise UnreadableInputError(f"cannot be read: {exc.strerror or exc}", source=str(path)) from None
    except Exception as exc:  # rdflib raises many parser-specific exception types
        raise UnreadableInputError(f"is not valid {fmt}: {exc}", source=str(path)) from None
    return g


def split_patients(g: Graph, source: str, terms: frozenset = frozenset(),
                   ontology: Graph | None = None) -> list[PatientInput]:
    """One graph per kgr:Patient of an RDF file: the patient and every node reachable
    from her, never crossing into another patient nor into an ontology term (``terms``)."""
    patients = sorted(set(g.subjects(RDF.type, KGR.Patient)), key=str)
    if not patients:
        raise UnreadableInputError("contains no kgr:Patient", source=source)
    owner: dict = {}
    out = []
    for p in patients:
        pid = g.value(p, KGR.patientId)
        name = str(pid) if pid is not None else str(p)
        if not isinstance(p, URIRef):
            raise PatientDataError("a patient must be an IRI, not a blank node", source=source, patient=name)
        sub = Graph()
        todo, seen = [p], {p}
        while todo:
            node = todo.pop()
            for s, pr, o in g.triples((node, None, None)):
                sub.add((s, pr, o))
                if o in seen or isinstance(o, Literal) or pr == RDF.type or o in terms:
                    continue
                if (o, RDF.type, KGR.Patient) in g:
                    raise PatientDataError(f"links to another patient {o}", source=source, patient=name, field=str(pr))
                if (o, None, None) in g:
                    if owner.setdefault(o, p) != p:
                        raise PatientDataError(f"record {o} is shared with patient {owner[o]}: one patient's facts "
                                               "must never touch another's", source=source, patient=name, field=str(o))
                    seen.add(o)
                    todo.append(o)
        _check_own_nodes(sub, p, terms, source, name)
        out.append(PatientInput(name, p, sub, source))
    reached = {t for pi in out for t in pi.graph}
    stray = [t for t in g if t not in reached]
    for s_, p_, o_ in stray:    # facts about someone else's node are refused, not merely left out
        restated = ontology is not None and (s_, p_, o_) in ontology   # a term restated as the ontology says
        if isinstance(s_, URIRef) and not restated and (s_ in terms or (str(s_).startswith(PATIENT_BASE)
                                                                        and not any(owns(pi.iri, s_) for pi in out))):
            what = "the ontology term" if s_ in terms else "a node of a patient this file does not hold"
            raise PatientDataError(f"states facts about {what} {s_}: a file's facts must be about its own patients",
                                   source=source, field=str(p_))
    if stray:
        for pi in out:
            pi.data_problems.append({"severity": "warning", "record": source,
                                     "message": f"{len(stray)} triple(s) of {source} are not attached to any patient "
                                                "and were not used"})
    return out


def owns(patient: URIRef, node: Any) -> bool:
    """Whether a node is the patient's own by its name: her IRI, an IRI under it, or a blank node."""
    return node == patient or isinstance(node, BNode) or str(node).startswith(f"{patient}/")


def foreign_nodes(graph: Graph, patient: URIRef) -> set[URIRef]:
    """The IRIs a patient's graph describes that are not named under her IRI (e.g. <urn:lab:123>): they
    must belong to no other patient of the run or the store."""
    return {s for s in graph.subjects() if isinstance(s, URIRef) and not owns(patient, s)}


#: Characters an IRI cannot hold (RFC 3987), though a Turtle \u escape can smuggle them in.
_BAD_IRI = re.compile(r'[\x00-\x20<>"{}|\\^`]')


def _check_own_nodes(graph: Graph, patient: URIRef, terms: frozenset, source: str, name: str) -> None:
    """One patient's file may state facts about her own nodes only: never about a node named under another
    patient's IRI (<patient/P01/...> in X's data), nor about a term of the ontology. Its IRIs must be
    valid IRIs and its typed literals well-formed (an ill-typed literal is named, never guessed)."""
    for s, p, o in graph:
        for node in (s, p, o):
            if isinstance(node, URIRef) and _BAD_IRI.search(node):
                raise PatientDataError(f"{str(node)!r} is not a valid IRI (it holds a space or a character IRIs "
                                       "cannot hold)", source=source, patient=name, field=str(p))
        if isinstance(o, Literal) and o.ill_typed:
            raise PatientDataError(f"{str(o)!r} is not a valid {o.datatype} value", source=source, patient=name,
                                   field=str(p))
        for node, role in ((s, "describes"), (o, "links to")):
            if not isinstance(node, URIRef) or owns(patient, node):
                continue
            rest = str(node)[len(PATIENT_BASE):] if str(node).startswith(PATIENT_BASE) else ""
            if "/" in rest:
                raise PatientDataError(f"{role} {node}, a node of patient {rest.split('/')[0]}: one patient's facts "
                                       "must never touch another's", source=source, patient=name, field=str(p))
            if role == "describes" and node in terms:
                raise PatientDataError(f"states facts about the ontology term {node}: a patient's data cannot change "
                                       "the guidance", source=source, patient=name, field=str(p))


def iter_input_files(paths: Iterable[str | Path]) -> Iterator[Path | list[Path]]:
    """Files named, and the readable files of directories named (sorted, recursive). The NDJSON
    files of one directory form one FHIR bulk export and come as one list."""
    for p in paths:
        path = Path(p)
        if path.is_dir():
            files = [c for c in sorted(path.rglob("*")) if c.is_file()]
            by_dir: dict[Path, list[Path]] = {}
            for child in files:
                suffix = child.suffix.lower()
                if is_ndjson(child):
                    by_dir.setdefault(child.parent, []).append(child)
                elif suffix == ".json" or suffix in RDF_FORMATS:
                    yield child
            yield from by_dir.values()
        else:
            yield path


def read_file(path: Path | list[Path], reader: SummaryReader, fhir_vocab) -> Iterator[PatientInput | InputError]:
    """Every patient of one file (or one bulk export), or the error of each patient or resource
    that could not be read. ``fhir_vocab`` is the FhirVocabulary used for FHIR input."""
    from kg_reasoner import fhir as fhir_mod   # imported here: the FHIR reader builds on this module
    if isinstance(path, list) or is_ndjson(path):
        paths = path if isinstance(path, list) else [path]
        summaries = [p for p in paths if _is_summary_ndjson(p)]
        for p in summaries:
            yield from _read_summary_ndjson(p, reader)
        paths = [p for p in paths if p not in summaries]
        if paths:
            source = str(paths[0].parent if len(paths) > 1 else paths[0])
            yield from fhir_mod.read_fhir(fhir_mod.ndjson_resources(paths), fhir_vocab, source)
        return
    if path.suffix.lower() == ".json":
        try:
            data = _load_json(path)
        except InputError as exc:
            yield exc
            return
        if isinstance(data, dict) and "resourceType" in data:
            yield from fhir_mod.read_fhir(fhir_mod.bundle_resources(data, str(path)), fhir_vocab, str(path))
            return
        if isinstance(data, dict) and "@context" in data:
            yield from _read_rdf(path, reader.v)
            return
        items = list(enumerate(data)) if isinstance(data, list) else [(None, data)]
        for i, item in items:
            try:
                yield reader.read(item, str(path), "" if i is None else f"/{i}")
            except InputError as exc:
                yield exc
    else:
        yield from _read_rdf(path, reader.v)


def _is_summary_ndjson(path: Path) -> bool:
    """Whether an NDJSON file holds patient summaries (one per line) rather than FHIR resources."""
    try:
        for line in open_lines(path):
            if line.strip():
                try:
                    item = json_loads(line)
                except ValueError:     # a broken first line: told apart by whether it names a resourceType
                    return '"resourceType"' not in line
                return isinstance(item, dict) and "resourceType" not in item
    except (OSError, ValueError, EOFError, zlib.error):
        return False
    return False


def _read_summary_ndjson(path: Path, reader: SummaryReader) -> Iterator[PatientInput | InputError]:
    """One patient summary per line, read as the file streams (memory does not grow with it)."""
    lineno = 0
    lines = open_lines(path)
    while True:
        try:
            lineno, line = lineno + 1, next(lines)
        except StopIteration:
            return
        except (OSError, EOFError, UnicodeDecodeError, zlib.error) as exc:   # the rest of the file is lost: said
            yield UnreadableInputError(f"cannot be read past line {lineno - 1}: {exc}", source=str(path),
                                       field=f"line {lineno}")
            return
        if not line.strip():
            continue
        source = f"{path}:{lineno}"
        try:
            item = json_loads(line)
        except ValueError as exc:
            yield UnreadableInputError(f"line {lineno} is not JSON: {exc}", source=str(path))
            continue
        try:
            yield reader.read(item, source)
        except InputError as exc:
            yield exc


def _read_rdf(path: Path, vocabulary: "SummaryVocabulary") -> Iterator[PatientInput | InputError]:
    try:
        g = _parse_jsonld_json(path) if path.suffix.lower() == ".json" else parse_rdf_file(path)
        yield from split_patients(g, str(path), vocabulary.terms, vocabulary.closure)
    except InputError as exc:
        yield exc


def _parse_jsonld_json(path: Path) -> Graph:
    data = _load_json(path)
    _check_no_remote_context(data, path)
    g = Graph()
    try:
        g.parse(data=json.dumps(data, default=str), format="json-ld")
    except Exception as exc:
        raise UnreadableInputError(f"is not valid JSON-LD: {exc}", source=str(path)) from None
    return g
