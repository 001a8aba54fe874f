"""HL7 FHIR R4 input: Bundles (any type) and bulk-data NDJSON exports, read into the kgr vocabulary.

What a code means is data: the ontology's cross-references (skos:exactMatch /
closeMatch / narrowMatch) read as FHIR codings through ``ontology/code-systems.ttl``
(query ``queries/fhir-codes.rq``). This module applies FHIR's own semantics
(statuses, verification, references, quantities, times) and writes the same
triples a patient summary would give, citing each resource as ``Type/id``.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Iterator
from urllib.parse import quote

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, XSD

from kg_reasoner.errors import InputError, PatientDataError, UnreadableInputError
from kg_reasoner.loader import PatientInput, _decimal, parse_moment, patient_iri
from kg_reasoner.namespaces import KGR
from kg_reasoner.sparql import run_query

UCUM = "http://unitsofmeasure.org"
#: Resource types read; any other type is listed as a data problem, never silently dropped.
READ_TYPES = ("Patient", "Observation", "Condition", "DiagnosticReport", "MedicationRequest",
              "MedicationStatement", "Medication")
#: FHIR statuses (Observation, DiagnosticReport) whose resources are ignored.
IGNORED_STATUS = {"entered-in-error", "cancelled"}
#: FHIR Observation.status -> the summary's result status (kgr:summaryValue).
RESULT_STATUS = {"final": "final", "amended": "final", "corrected": "final", "preliminary": "preliminary",
                 "registered": "preliminary", "entered-in-error": "entered-in-error", "cancelled": "cancelled"}
#: Condition.clinicalStatus codes meaning the condition is not present now.
NOT_PRESENT = {"inactive", "resolved", "remission"}
#: Condition.verificationStatus codes that do not confirm a condition.
UNCONFIRMED = {"unconfirmed", "provisional", "differential"}
#: Medication statuses meaning the medication is currently in use.
IN_USE = {"MedicationRequest": {"active", "on-hold"}, "MedicationStatement": {"active", "intended"}}
#: UCUM time units a weeks-valued property accepts, with their length in weeks.
WEEKS = {"wk": Decimal(1), "d": Decimal(1) / Decimal(7)}


class FhirVocabulary:
    """The ontology's code cross-references and kinds, as the FHIR reader needs them."""

    def __init__(self, closure: Graph):
        self.g = closure
        self.codes: dict[tuple[str, str], list[tuple[int, URIRef]]] = defaultdict(list)
        for row in run_query("fhir-codes", closure):
            self.codes[(str(row.system), str(row.code))].append((int(row.strength), row.concept))
        self.units = {str(u): unit for unit in closure.subjects(RDF.type, KGR.UnitOfMeasure)
                      for u in closure.objects(unit, KGR.ucumCode)}

    def is_a(self, concept, kind) -> bool:
        return (concept, RDFS.subClassOf, kind) in self.g or (concept, RDF.type, kind) in self.g

    def concepts(self, codeable: Any, accept) -> list[URIRef]:
        """Concepts of a CodeableConcept that ``accept`` admits, best match first."""
        found: list[tuple[int, URIRef]] = []
        for coding in (codeable or {}).get("coding", []) if isinstance(codeable, dict) else []:
            key = (str(coding.get("system", "")), str(coding.get("code", "")))
            found += [(s, c) for s, c in self.codes.get(key, []) if accept(c)]
        if not found:
            return []
        best = min(s for s, _ in found)
        return sorted({c for s, c in found if s == best}, key=str)

    def unit(self, quantity: dict) -> URIRef | None:
        system = quantity.get("system")
        code = quantity.get("code") if system in (UCUM, None) else None
        for text in (code, quantity.get("unit") if system in (UCUM, None) else None):
            if not isinstance(text, str):
                continue
            # UCUM writes the litre as "L" or "l": ng/ml is the same unit as ng/mL
            for spelling in (text, text.replace("ml", "mL").replace("/l", "/L")):
                if spelling in self.units:
                    return self.units[spelling]
        return None


def _codes_text(codeable: Any) -> str:
    codings = (codeable or {}).get("coding", []) if isinstance(codeable, dict) else []
    return ", ".join(f"{c.get('system', '?')}|{c.get('code', '?')}" for c in codings) or "no coding"


def _first_code(codeable: Any) -> str | None:
    codings = (codeable or {}).get("coding", []) if isinstance(codeable, dict) else []
    return f"{codings[0].get('system')}|{codings[0].get('code')}" if codings else None


def _status_code(codeable: Any) -> str | None:
    codings = (codeable or {}).get("coding", []) if isinstance(codeable, dict) else []
    return str(codings[0].get("code")) if codings else None


def _parse_time(text: Any) -> _dt.datetime | None:
    """A FHIR dateTime as an aware datetime, or None when it is partial or has no time zone."""
    try:
        return parse_moment(text)
    except ValueError:
        return None


def _effective(resource: dict) -> tuple[_dt.datetime | None, str | None]:
    for key in ("effectiveDateTime", "effectiveInstant", "onsetDateTime", "recordedDate", "authoredOn",
                "dateAsserted", "issued"):
        if key in resource:
            return _parse_time(resource[key]), key
    if isinstance(resource.get("effectivePeriod"), dict) and "start" in resource["effectivePeriod"]:
        return _parse_time(resource["effectivePeriod"]["start"]), "effectivePeriod.start"
    return None, None


class FhirPatientBuilder:
    """Collects one patient's resources and writes her graph."""

    def __init__(self, vocab: FhirVocabulary, pid: str, source: str, now: _dt.datetime):
        self.v, self.pid, self.source, self.now = vocab, pid, source, now
        self.me = patient_iri(pid)
        self.g = Graph()
        self.g.add((self.me, RDF.type, KGR.Patient))
        self.g.add((self.me, KGR.patientId, Literal(pid)))
        self.problems: list[dict] = []
        self.gestational_ages: list[tuple[_dt.datetime | None, Literal, str]] = []
        self.courses: list[tuple[_dt.datetime | None, URIRef]] = []

    def problem(self, ref: str, message: str, severity: str = "warning", field: str | None = None) -> None:
        self.problems.append({"severity": severity, "record": ref, "node": ref, "field": field, "value": None,
                              "message": message})

    def record(self, prop, cls, ref: str, code: str | None) -> URIRef:
        rec = URIRef(f"{self.me}/fhir/{quote(ref, safe='/')}")
        self.g.add((self.me, prop, rec))
        self.g.add((rec, RDF.type, cls))
        self.g.add((rec, KGR.sourceRecord, Literal(ref)))
        if code:
            self.g.add((rec, KGR.sourceCode, Literal(code)))
        return rec

    def timed(self, resource: dict, ref: str) -> tuple[bool, Literal | None]:
        """(usable, time literal): a resource dated in the future is a data problem and not used."""
        moment, key = _effective(resource)
        if key and moment is None:
            self.problem(ref, f"{key} is not a full date or date-time with time zone; the time is not used", field=key)
        if moment and moment > self.now:
            self.problem(ref, f"dated in the future ({moment.isoformat()}); not used", field=key)
            return False, None
        return True, Literal(moment.isoformat(), datatype=XSD.dateTime) if moment else None

    # -- resources --------------------------------------------------------------------------------
    def observation(self, r: dict, ref: str) -> None:
        status = r.get("status")
        v = self.v
        concepts = v.concepts(r.get("code"), lambda c: v.is_a(c, KGR.Measurement) or v.is_a(c, KGR.Symptom)
                              or v.is_a(c, KGR.ImagingResult) or (c, RDF.type, OWL.DatatypeProperty) in v.g
                              or c == KGR.symptomCourse)
        if not concepts:
            self.problem(ref, f"unrecognised Observation code ({_codes_text(r.get('code'))}); not used", field="code")
            return
        concept = concepts[0]
        if v.is_a(concept, KGR.Measurement):
            self._measurement(r, ref, concept, status)
            return
        if status in IGNORED_STATUS:
            return
        usable, when = self.timed(r, ref)
        if not usable:
            return
        if concept == KGR.symptomCourse:
            course = v.concepts(r.get("valueCodeableConcept"), lambda c: v.is_a(c, KGR.SymptomCourse))
            if course:
                self.courses.append((when and when.toPython(), course[0]))
            else:
                self.problem(ref, f"unrecognised symptom course ({_codes_text(r.get('valueCodeableConcept'))})",
                             field="valueCodeableConcept")
            return
        if (concept, RDF.type, OWL.DatatypeProperty) in v.g:
            q = r.get("valueQuantity")
            unit = (q or {}).get("code") or (q or {}).get("unit")
            if not isinstance(q, dict) or not isinstance(q.get("value"), (int, float, Decimal)) or unit not in WEEKS:
                self.problem(ref, "gestational age needs valueQuantity in weeks (wk) or days (d); not used",
                             field="valueQuantity")
                return
            weeks = Decimal(str(q["value"])) * WEEKS[unit]
            self.gestational_ages.append((when and when.toPython(), _decimal(round(weeks, 4)), ref))
            return
        if v.is_a(concept, KGR.Symptom):
            rec = self.record(KGR.hasFinding, concept, ref, _first_code(r.get("code")))
            if r.get("valueBoolean") is False:
                self.g.add((rec, KGR.presence, KGR.Absent))
            else:
                self.g.add((rec, KGR.presence, KGR.Present))
                self._severity(rec, concept, r.get("valueCodeableConcept"), ref)
        else:
            self._imaging(r.get("valueCodeableConcept"), ref, concept, r.get("code"), when)
            return
        if when is not None:
            self.g.add((rec, KGR.effectiveTime, when))

    def _severity(self, rec, symptom, codeable, ref) -> None:
        if not codeable:
            return
        allowed = set(self.v.g.objects(symptom, KGR.allowedSeverity))
        sev = self.v.concepts(codeable, lambda c: c in allowed)
        if sev:
            self.g.add((rec, KGR.severity, sev[0]))
        else:
            self.problem(ref, f"unrecognised severity ({_codes_text(codeable)}); severity unknown", field="severity")

    def _imaging(self, codeable, ref, cls, code, when) -> None:
        allowed = set(self.v.g.objects(cls, KGR.allowedConclusion))
        conclusion = self.v.concepts(codeable, lambda c: c in allowed)
        if not conclusion:
            self.problem(ref, f"unrecognised imaging conclusion ({_codes_text(codeable)}); not used",
                         field="conclusionCode")
            return
        rec = self.record(KGR.hasImagingResult, cls, ref, _first_code(code))
        self.g.add((rec, KGR.conclusion, conclusion[0]))
        if when is not None:
            self.g.add((rec, KGR.effectiveTime, when))

    def _measurement(self, r: dict, ref: str, cls, status) -> None:
        usable, when = self.timed(r, ref)
        if not usable:
            return
        rec = self.record(KGR.hasMeasurement, cls, ref, _first_code(r.get("code")))
        if when is not None:
            self.g.add((rec, KGR.effectiveTime, when))
        if status in RESULT_STATUS:
            term = next((t for t in self.v.g.subjects(KGR.summaryValue, Literal(RESULT_STATUS[status]))
                         if self.v.is_a(t, KGR.ResultStatus)), None)
            if term is not None:
                self.g.add((rec, KGR.resultStatus, term))
        interpretations = r.get("interpretation") or []
        for codeable in interpretations[:1]:
            found = self.v.concepts(codeable, lambda c: self.v.is_a(c, KGR.Interpretation))
            if found:
                self.g.add((rec, KGR.interpretation, found[0]))
            else:
                self.problem(ref, f"unrecognised interpretation ({_codes_text(codeable)}); not used",
                             field="interpretation")
        q = r.get("valueQuantity")
        if not isinstance(q, dict) or q.get("value") is None:
            if "valueQuantity" in r or not interpretations:
                self.problem(ref, "no numeric valueQuantity.value; the result cannot be compared with a range",
                             field="valueQuantity")
            return
        unit = self.v.unit(q)
        if unit is None:
            self.problem(ref, f"missing or unknown unit ({q.get('code') or q.get('unit')!r}); the value is not used "
                              "(never guessed)", field="valueQuantity.unit")
            return
        self.g.add((rec, KGR.value, _decimal(q["value"])))
        self.g.add((rec, KGR.unit, unit))
        if q.get("comparator") in ("<", "<=", ">", ">="):
            self.g.add((rec, KGR.comparator, Literal(q["comparator"])))
            self.problem(ref, f"value reported as {q['comparator']}{q['value']}: it decides C1 only when the bound is "
                              "conclusive", severity="info", field="valueQuantity.comparator")
        for rr in (r.get("referenceRange") or [])[:1]:
            low = rr.get("low") if isinstance(rr, dict) else None
            if isinstance(low, dict) and low.get("value") is not None:
                if self.v.unit(low) == unit:
                    self.g.add((rec, KGR.referenceLow, _decimal(low["value"])))
                else:
                    self.problem(ref, "referenceRange.low is in another or no unit; the range is not used",
                                 field="referenceRange.low")

    def condition(self, r: dict, ref: str) -> None:
        verification = _status_code(r.get("verificationStatus"))
        if verification == "entered-in-error":
            return
        if verification in UNCONFIRMED:
            self.problem(ref, f"verificationStatus {verification}: not confirmed, not used", field="verificationStatus")
            return
        v = self.v
        concepts = v.concepts(r.get("code"), lambda c: v.is_a(c, KGR.Finding) or v.is_a(c, KGR.Patient))
        if not concepts:
            self.problem(ref, f"unrecognised Condition code ({_codes_text(r.get('code'))}); not used", field="code")
            return
        present = verification != "refuted" and _status_code(r.get("clinicalStatus")) not in NOT_PRESENT
        for concept in concepts[:1]:
            if v.is_a(concept, KGR.Patient):
                if present:
                    self.g.add((self.me, RDF.type, concept))
                continue
            rec = self.record(KGR.hasFinding, concept, ref, _first_code(r.get("code")))
            self.g.add((rec, KGR.presence, KGR.Present if present else KGR.Absent))
            if present and v.is_a(concept, KGR.Symptom):
                self._severity(rec, concept, r.get("severity"), ref)

    def diagnostic_report(self, r: dict, ref: str) -> None:
        if r.get("status") in IGNORED_STATUS:
            return
        usable, when = self.timed(r, ref)
        if not usable:
            return
        v = self.v
        classes = v.concepts(r.get("code"), lambda c: v.is_a(c, KGR.ImagingResult))
        if not classes:   # an unrecognised report code: the conclusion may still name an imaging result
            for cls in sorted(v.g.subjects(KGR.allowedConclusion, None), key=str):
                allowed = set(v.g.objects(cls, KGR.allowedConclusion))
                if any(v.concepts(c, lambda x: x in allowed) for c in r.get("conclusionCode") or []):
                    classes = [cls]
                    break
        if not classes:
            self.problem(ref, f"unrecognised DiagnosticReport ({_codes_text(r.get('code'))}); not used", field="code")
            return
        codes = r.get("conclusionCode") or []
        self._imaging(codes[0] if codes else None, ref, classes[0], r.get("code"), when)

    def medication(self, r: dict, ref: str, kind: str, medications: dict, based_on_request: bool) -> None:
        if r.get("status") not in IN_USE[kind]:
            return
        codeable = r.get("medicationCodeableConcept")
        med_ref = (r.get("medicationReference") or {}).get("reference")
        if codeable is None and med_ref in medications:
            codeable = medications[med_ref].get("code")
        v = self.v
        substances = v.concepts(codeable, lambda c: any(True for _ in v.g.subjects(KGR.substance, c)))
        if not substances:
            self.problem(ref, f"unrecognised medication ({_codes_text(codeable)}); not used", field="medication")
            return
        for cls in sorted(v.g.subjects(KGR.substance, substances[0]), key=str):
            rec = self.record(KGR.hasMedicationUse, cls, ref, _first_code(codeable))
            supervised = kind == "MedicationRequest" or based_on_request
            self.g.add((rec, KGR.medicallySupervised, Literal(supervised)))

    def finish(self) -> PatientInput:
        if self.gestational_ages:
            self.g.add((self.me, KGR.gestationalAgeWeeks, _latest(self.gestational_ages)[1]))
        if self.courses:
            # the symptom course is reported about the current treatment: it applies to each medication use
            course = _latest(self.courses)[1]
            for use in self.g.objects(self.me, KGR.hasMedicationUse):
                self.g.add((use, KGR.symptomCourse, course))
        return PatientInput(self.pid, self.me, self.g, self.source, self.problems)


def _latest(items: list[tuple]) -> tuple:
    """The item with the latest time; an untimed one counts as older than any timed one."""
    return max(items, key=lambda t: (t[0] is not None, t[0] or _dt.datetime.min.replace(tzinfo=_dt.timezone.utc)))


def _reference_key(ref: str | None) -> str | None:
    return ref.split("/_history/")[0] if isinstance(ref, str) else None


def _ref(r: dict) -> str:
    """How a resource is cited: Type/id, or its fullUrl when it has no id (transaction bundles)."""
    return f"{r['resourceType']}/{r['id']}" if r.get("id") else str(r.get("_fullUrl") or f"{r['resourceType']}/?")


def read_resources(resources: Iterable[tuple[dict, str]], vocab: FhirVocabulary, source: str,
                   now: _dt.datetime | None = None) -> Iterator[PatientInput | InputError]:
    """Group resources (each with where it came from) by patient and read each patient on her own."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    patients: dict[str, str] = {}          # reference key (Patient/id, fullUrl) -> patient id
    by_patient: dict[str, list] = defaultdict(list)
    medications: dict[str, dict] = {}
    others: list = []
    requests: set[str] = set()
    items = list(resources)
    for r, where in items:
        if r.get("resourceType") == "Patient":
            pid = r.get("id") or (str(r["_fullUrl"]).rsplit("/", 1)[-1].rsplit(":", 1)[-1] if r.get("_fullUrl") else None)
            if not isinstance(pid, str) or not pid:
                yield PatientDataError("a Patient resource needs an id (or a Bundle entry fullUrl)", source=source,
                                       field=where)
                continue
            patients[f"Patient/{pid}"] = pid
            if r.get("_fullUrl"):
                patients[r["_fullUrl"]] = pid
        elif r.get("resourceType") in ("Medication", "MedicationRequest"):
            for key in (f"{r['resourceType']}/{r.get('id')}", r.get("_fullUrl")):
                if key and r["resourceType"] == "Medication":
                    medications[key] = r
                elif key:
                    requests.add(key)
    for r, where in items:
        rtype = r.get("resourceType")
        if rtype in ("Patient", "Medication"):
            continue
        ref = _ref(r)
        if rtype not in READ_TYPES:
            others.append((r, where, ref))
            continue
        subject = _reference_key((r.get("subject") or r.get("patient") or {}).get("reference"))
        if subject not in patients:
            yield PatientDataError(f"{ref} refers to {subject or 'no patient'}, which is not in the input "
                                   "(broken reference)", source=source, field=where)
            continue
        by_patient[patients[subject]].append((r, ref))
    for pid in sorted(set(patients.values())):
        builder = FhirPatientBuilder(vocab, pid, source, now)
        for r, ref in sorted(by_patient.get(pid, []), key=lambda t: t[1]):
            rtype = r["resourceType"]
            if rtype == "Observation":
                builder.observation(r, ref)
            elif rtype == "Condition":
                builder.condition(r, ref)
            elif rtype == "DiagnosticReport":
                builder.diagnostic_report(r, ref)
            else:
                based = any(_reference_key(b.get("reference")) in requests
                            or str(b.get("reference", "")).startswith("MedicationRequest/")
                            for b in r.get("basedOn") or [] if isinstance(b, dict))
                builder.medication(r, ref, rtype, medications, based)
        for r, where, ref in others:
            subject = _reference_key((r.get("subject") or r.get("patient") or {}).get("reference"))
            if patients.get(subject) == pid:
                builder.problem(ref, f"resource type {r['resourceType']} is not used by this guidance")
        yield builder.finish()


def bundle_resources(bundle: dict, source: str) -> Iterator[tuple[dict, str] | InputError]:
    if bundle.get("resourceType") != "Bundle":
        yield (bundle, "/")
        return
    for i, entry in enumerate(bundle.get("entry") or []):
        r = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(r, dict) or "resourceType" not in r:
            yield UnreadableInputError("a Bundle entry has no resource with a resourceType", source=source,
                                       field=f"/entry/{i}")
            continue
        if entry.get("fullUrl"):
            r = dict(r, _fullUrl=entry["fullUrl"])
        yield (r, f"/entry/{i}")


def ndjson_resources(paths: list[Path]) -> Iterator[tuple[dict, str] | InputError]:
    for path in paths:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            yield UnreadableInputError(f"cannot be read: {exc.strerror or exc}", source=str(path))
            continue
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line, parse_float=Decimal)
            except json.JSONDecodeError as exc:
                yield UnreadableInputError(f"line {n} is not valid JSON: {exc}", source=str(path), field=f"line {n}")
                continue
            if not isinstance(r, dict) or "resourceType" not in r:
                yield UnreadableInputError(f"line {n} is not a FHIR resource (no resourceType)", source=str(path),
                                           field=f"line {n}")
                continue
            yield (r, f"{path.name}:{n}")


def read_fhir(items: Iterable[tuple[dict, str] | InputError], vocab: FhirVocabulary,
              source: str) -> Iterator[PatientInput | InputError]:
    resources = []
    for item in items:
        if isinstance(item, InputError):
            yield item
        else:
            resources.append(item)
    yield from read_resources(resources, vocab, source)
