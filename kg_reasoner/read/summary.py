"""The patient summary JSON (decision-spec section 6) to RDF: the keys and values the ontology declares
(``kgr:summaryKey``), read by ``SummaryReader``; every unknown key or value is a named error.
"""

from __future__ import annotations

import datetime as _dt
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, XSD

from kg_reasoner.errors import InputError, PatientDataError
from kg_reasoner.explain.queries import ontology_store, store_rows
from kg_reasoner.namespaces import KGR
from kg_reasoner.read.patient import (
    PatientInput,
    add_time,
    decimal_literal,
    is_number,
    number_problem,
    patient_iri,
)
from kg_reasoner.read.times import TimeInterval, after, parse_time
from kg_reasoner.read.times import present as the_present


def _segment(cls: URIRef) -> str:
    """A stable IRI path segment for the records of a class: its local name, lower case (kgr:Cause ->
    "cause"); never its display label, which may be reworded or translated."""
    return quote(str(cls).rsplit("#", 1)[-1].rsplit("/", 1)[-1].lower())


@dataclass(frozen=True)
class Attribute:
    """A key of the patient summary that carries an attribute of the patient herself (a property of
    kgr:Patient with a kgr:summaryKey): a number, a string, or one of the codes of its range."""

    key: str
    property: URIRef
    kind: URIRef  # owl:DatatypeProperty or owl:ObjectProperty
    range: URIRef
    label: str


#: Fields of one measurement entry and of one medication-use entry (spec section 6).
MEASUREMENT_FIELDS = ("value", "unit", "reference_low", "interpretation", "time", "status")


MEDICATION_FIELDS = ("supervised", "symptom_course")


#: Keys of a test-case file (the vignette format): the patient summary sits under "patient".
CASE_KEYS = frozenset({"id", "description", "patient", "expect"})


#: The core classes a summary key can specialise, most specific first.
RECORD_KINDS = (KGR.Cause, KGR.Symptom, KGR.Measurement, KGR.ImagingResult, KGR.MedicationUse, KGR.Condition)


#: ranges that say nothing about a value (the OWL-RL closure adds owl:Thing to an object property's ranges)
_GENERIC_RANGES = frozenset((OWL.Thing, RDFS.Literal, RDFS.Resource))


class SummaryVocabulary:
    """The patient-summary vocabulary as the ontology defines it."""

    def __init__(self, ontology_closure: Graph):
        self.keys: dict[str, tuple[URIRef, URIRef]] = {}
        kinds: dict[str, dict[URIRef, URIRef]] = {}
        store = ontology_store(ontology_closure)
        for row in store_rows("summary-keys", store):
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
        for row in store_rows("summary-values", store):
            self.values.setdefault(row.owner, {})[str(row.value)] = row.term
        #: the patient's own attributes by summary key ("id", "gestational_age_weeks", "conception", ...)
        self.attributes: dict[str, Attribute] = {}
        #: keys whose object groups findings of a class by their own keys ("causes" -> kgr:Cause)
        self.groups: dict[str, URIRef] = {}
        for row in store_rows("summary-attributes", store):
            if row.group is not None:
                self.groups[str(row.group)] = row.groupClass
            else:
                # (a property with several ranges, e.g. its own and owl:Thing from the closure: the specific one)
                known = self.attributes.get(str(row.key))
                if known is None or (known.range in _GENERIC_RANGES and row.range not in _GENERIC_RANGES):
                    self.attributes[str(row.key)] = Attribute(
                        str(row.key), row.property, row.kind, row.range, str(row.label or row.key)
                    )
        #: the key that names the patient (kgr:patientId)
        self.id_key = next(a.key for a in self.attributes.values() if a.property == KGR.patientId)

    def allowed(self, owner: URIRef) -> dict[str, URIRef]:
        return self.values.get(owner, {})

    @functools.cache  # noqa: B019 - one vocabulary per knowledge base, kept as long as it
    def units_for(self, cls: URIRef) -> dict[str, URIRef]:
        """The units (by summary value) a measurement of ``cls`` can be given in: those the ontology converts
        for its class, else every unit (read once per class, not per result)."""
        convertible = {
            u
            for conv in self.closure.subjects(KGR.forMeasurementClass, cls)
            for u in self.closure.objects(conv, KGR.fromUnit)
        }
        units = self.allowed(KGR.unit)
        return {k: u for k, u in units.items() if u in convertible} or units

    def key_of_kind(self, *kinds: URIRef) -> dict[str, URIRef]:
        return {k: cls for k, (cls, kind) in self.keys.items() if kind in kinds}


class _Triples(list):
    """One patient's triples while her summary is read (``add`` as rdflib's ``Graph.add``): her
    ``PatientInput``'s triples, of which a Graph is made only when one is read."""

    add = list.append


class SummaryReader:
    """Turns one patient summary (a dict) into an RDF graph."""

    def __init__(
        self,
        vocabulary: SummaryVocabulary,
        now: _dt.datetime | None = None,
        as_of: _dt.date | _dt.datetime | None = None,
    ):
        self.v = vocabulary
        #: the instant the assessment is made as of (None: the clock, read when a patient is read), and the time
        #: to assess as of as given when one was (a retrospective assessment): as the FHIR reader's
        self.now, self.as_of = now, as_of

    def read(self, data: Any, source: str, pointer: str = "") -> PatientInput:
        """One patient summary as RDF, or a PatientDataError naming the file, patient and field; whatever
        shape the JSON has, never another exception."""
        try:
            return self._read(data, source, pointer)
        except InputError:
            raise
        except Exception as exc:  # a value of a shape no check foresaw: named, never a traceback
            key = self.v.id_key
            pid = data.get(key) if isinstance(data, dict) and isinstance(data.get(key), str) else None
            raise PatientDataError(
                f"cannot be read ({type(exc).__name__}: {exc}); check the types of its values "
                "against decision-spec section 6",
                source=source,
                patient=pid,
                field=pointer or "/",
            ) from None

    def _read(self, data: Any, source: str, pointer: str = "") -> PatientInput:
        if isinstance(data, dict) and isinstance(data.get("patient"), dict) and set(data) <= CASE_KEYS:
            # a test case in the vignette format: {"id", "description", "patient", "expect"}
            data, pointer = data["patient"], f"{pointer}/patient"
        v = self.v
        pid = data.get(v.id_key) if isinstance(data, dict) else None

        def err(field_path: str):
            def make(message: str) -> PatientDataError:
                return PatientDataError(
                    message, source=source, patient=pid if isinstance(pid, str) else None, field=field_path
                )

            return make

        if not isinstance(data, dict):
            raise PatientDataError("a patient summary must be a JSON object", source=source, field=pointer or "/")
        if not isinstance(pid, str) or not pid.strip():
            raise err(f"{pointer}/{v.id_key}")(f"the required key {v.id_key!r} must be a non-empty string")
        grouped = set(v.groups.values())
        known = set(v.attributes) | set(v.groups) | {k for k, (_, kind) in v.keys.items() if kind not in grouped}
        for key in data:
            if key not in known:
                raise err(f"{pointer}/{key}")(f"unknown key {key!r}; allowed keys are {', '.join(sorted(known))}")

        g = _Triples()
        problems: list[dict] = []
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

        for key, attribute in v.attributes.items():
            if key not in data or key == v.id_key:
                continue
            value, ptr = data[key], f"{pointer}/{key}"
            if attribute.kind == OWL.ObjectProperty:
                g.add((me, attribute.property, choose(value, attribute.property, ptr, key.replace("_", " "))))
            elif attribute.range == XSD.string:
                if not isinstance(value, str):
                    raise err(ptr)(f"{attribute.label} must be a string, not {value!r}")
                g.add((me, attribute.property, Literal(value)))
            else:
                if not is_number(value):
                    raise err(ptr)(f"{attribute.label} must be a number, not {value!r}")
                if number_problem(value):
                    raise err(ptr)(number_problem(value))
                g.add((me, attribute.property, decimal_literal(value)))
        for group, group_class in v.groups.items():
            if group not in data:
                continue
            findings = data[group]
            if not isinstance(findings, dict):
                raise err(f"{pointer}/{group}")(f"must be an object of {group}: true/false")
            allowed = v.key_of_kind(group_class)
            what = str(v.closure.value(group_class, RDFS.label) or group)
            for name, present in findings.items():
                ptr = f"{pointer}/{group}/{name}"
                if name not in allowed:
                    raise err(ptr)(f"unknown {what} {name!r}; allowed: {', '.join(sorted(allowed))}")
                if not isinstance(present, bool):
                    raise err(ptr)(
                        "must be true (present) or false (known absent); leave the key out when not assessed"
                    )
                rec = add_record(KGR.hasFinding, allowed[name], f"{_segment(group_class)}/{name}", f"/{group}/{name}")
                g.add((rec, KGR.presence, KGR.Present if present else KGR.Absent))

        for key, (cls, kind) in self.v.keys.items():
            if key not in data or kind in grouped:
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
                # "present" / "absent" state the condition itself (unknown is not absent: leave the key out when
                # not assessed); a value of a subclass (e.g. a cause's kind) states that subclass present
                if value in ("present", "absent"):
                    rec = add_record(KGR.hasFinding, cls, key, f"/{key}")
                    g.add((rec, KGR.presence, KGR.Present if value == "present" else KGR.Absent))
                    continue
                allowed = self.v.allowed(cls)
                if not isinstance(value, str) or value not in allowed:
                    what = key.replace("_", " ")
                    raise err(ptr)(
                        f"{value!r} is not a valid {what}; allowed: {', '.join(['present', 'absent', *sorted(allowed)])}"
                    )
                rec = add_record(KGR.hasFinding, allowed[value], key, f"/{key}")
                g.add((rec, KGR.presence, KGR.Present))
            elif kind == KGR.ImagingResult:
                rec = add_record(KGR.hasImagingResult, cls, key, f"/{key}")
                g.add((rec, KGR.conclusion, choose(value, cls, ptr, f"{key} conclusion")))
            elif kind == KGR.Measurement:
                self._measurements(g, add_record, cls, key, value, ptr, err, (problems, record_source, me))
            elif kind == KGR.MedicationUse:
                self._medication(g, add_record, cls, key, value, ptr, err, choose)
        return PatientInput(pid, me, g, source, problems)

    def _time(self, entry: dict, eptr: str, err) -> TimeInterval | None:
        """A result's time (``time``), or None."""
        if "time" not in entry:
            return None
        try:
            return parse_time(entry["time"])
        except ValueError as exc:
            raise err(f"{eptr}/time")(str(exc)) from None

    def _measurements(self, g, add_record, cls, key, value, ptr, err, said):
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
            when = self._time(entry, eptr, err)
            mark = len(g)
            rec = add_record(KGR.hasMeasurement, cls, f"{key}/{i}", f"/{key}/{i}")
            units = self.v.units_for(cls)
            if "value" in entry:
                if not is_number(entry["value"]):
                    raise err(f"{eptr}/value")(f"must be a number, not {entry['value']!r}")
                if "unit" not in entry:
                    raise err(f"{eptr}/unit")(
                        f"a result needs a unit ({' or '.join(sorted(units))}); a missing unit is never guessed"
                    )
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
                if not is_number(entry["reference_low"]):
                    raise err(f"{eptr}/reference_low")(
                        f"must be a number in the result's unit, not {entry['reference_low']!r}"
                    )
                if number_problem(entry["reference_low"]):
                    raise err(f"{eptr}/reference_low")(number_problem(entry["reference_low"]))
                g.add((rec, KGR.referenceLow, decimal_literal(entry["reference_low"])))
            if "interpretation" in entry:
                allowed = self.v.allowed(KGR.interpretation)
                if not isinstance(entry["interpretation"], str) or entry["interpretation"] not in allowed:
                    raise err(f"{eptr}/interpretation")(
                        f"{entry['interpretation']!r} is not valid; allowed: {', '.join(sorted(allowed))}"
                    )
                g.add((rec, KGR.interpretation, allowed[entry["interpretation"]]))
            if when is not None:
                add_time(g, rec, when)
            status = None
            if "status" in entry:
                allowed = self.v.allowed(KGR.resultStatus)
                if not isinstance(entry["status"], str) or entry["status"] not in allowed:
                    raise err(f"{eptr}/status")(
                        f"{entry['status']!r} is not valid; allowed: {', '.join(sorted(allowed))}"
                    )
                status = allowed[entry["status"]]
                g.add((rec, KGR.resultStatus, status))
            # (dated after the time the assessment is made as of, checked once the result is known to be well formed:
            # not used, said, as a FHIR result dated so; a status of a result not to be used, kgr:IgnoredResultStatus:
            # no result, its date says nothing)
            withdrawn = status is not None and (status, RDF.type, KGR.IgnoredResultStatus) in self.v.closure
            if (
                when is not None
                and not withdrawn
                and after(when, self.now or _dt.datetime.now(_dt.timezone.utc), self.as_of)
            ):
                del g[mark:]
                problems, record_source, me = said
                # (after the present, whatever time the assessment is made as of: wrongly dated; after only that time:
                # not made yet)
                retrospective = self.as_of is not None and not when.earliest > the_present()
                if not retrospective:  # (its date is wrong, and it could be the latest result: a record not understood)
                    add_record(KGR.hasRecord, KGR.UninterpretedRecord, f"{key}/{i}", f"/{key}/{i}")
                problems.append(
                    {
                        "severity": "info" if retrospective else "warning",
                        "record": f"{record_source}/{key}/{i}",
                        "node": f"{me}/{key}/{i}",
                        "field": "time",
                        "value": entry["time"],
                        "message": (
                            f"made after the time the assessment is made as of ({when.text}): not read"
                            if retrospective
                            else f"dated in the future ({when.text}): its date is wrong, and it could be the latest "
                            "result and decide the criterion, so it is not used and is listed as missing data"
                        ),
                    }
                )

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
            g.add(
                (
                    rec,
                    KGR.symptomCourse,
                    choose(value["symptom_course"], KGR.symptomCourse, f"{ptr}/symptom_course", "symptom course"),
                )
            )
