"""Print the FHIR mapping table (docs/fhir-mapping.md) from the ontology: the table is derived data.

python scripts/fhir_mapping_table.py > docs/fhir-mapping.md
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from rdflib.namespace import RDF, RDFS

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SYSTEM_NAMES = {
    "http://snomed.info/sct": "SNOMED CT",
    "http://loinc.org": "LOINC",
    "http://hl7.org/fhir/sid/icd-10-cm": "ICD-10-CM",
    "http://hl7.org/fhir/sid/icd-10": "ICD-10",
    "http://www.nlm.nih.gov/research/umls/rxnorm": "RxNorm",
    "http://www.whocc.no/atc": "ATC",
    "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation": "v3-ObservationInterpretation",
    "https://w3id.org/kg-reasoner/fhir/CodeSystem/kgr": "kg-reasoner local",
}


def main() -> None:
    from kg_reasoner.namespaces import KGR
    from kg_reasoner.read import fhir
    from kg_reasoner.read.fhir import FhirVocabulary
    from kg_reasoner.read.fhir_shape import _COMMON, COMPONENT, ELEMENTS, NOT_IN_R4
    from kg_reasoner.reason.knowledge import load_knowledge_base

    kb = load_knowledge_base()
    v = FhirVocabulary(kb.closure)
    # a system's OID alias (kgr:fhirSystemAlias) reads the same codes: said once, below the table's preface
    aliases = {
        str(a): str(s)
        for cs in kb.ontology.subjects(KGR.fhirSystemAlias, None)
        for a in kb.ontology.objects(cs, KGR.fhirSystemAlias)
        for s in kb.ontology.objects(cs, KGR.fhirSystem)
    }
    codes = defaultdict(list)
    for (system, code), matches in v.codes.items():
        if system in aliases:
            continue
        for strength, concept in matches:
            codes[concept].append((strength, SYSTEM_NAMES.get(system, system), code))
    for system, rows in v.categories.items():
        if system in aliases:
            continue
        for prefix, concept in rows:
            codes[concept].append((3, SYSTEM_NAMES.get(system, system), f"{_dotted(prefix)} and every code under it"))
    for system, rows in v.patterns.items():
        if system in aliases:
            continue
        for rx, concept in rows:
            codes[concept].append((4, SYSTEM_NAMES.get(system, system), f"any code matching {rx.pattern}"))

    def label(c):
        return str(kb.ontology.value(c, RDFS.label) or c)

    def row(concept, resource, element):
        cs = sorted(codes.get(concept, []))
        text = "; ".join(f"{s} {c}{MATCH[st]}" for st, s, c in cs)
        scope = "this pregnancy" if v.is_a(concept, KGR.EpisodeRecord) else "any time"
        if v.is_a(concept, KGR.EventCondition):
            scope += ", stays present when resolved"
        return f"| {label(concept)} | {resource} | {text} | {element} | {scope} |"

    groups = [
        (
            "Measurement",
            lambda c: v.is_a(c, KGR.Measurement) and c != KGR.Measurement,
            "Observation",
            "valueQuantity (UCUM ng/mL or nmol/L, also ng/ml, nmol/l; comparator), every interpretation "
            "(they must agree), the pregnancy's referenceRange (below), effective[x], status",
        ),
        (
            "Gestational age",
            lambda c: c == KGR.gestationalAgeWeeks,
            "Observation",
            "valueQuantity in wk or d (weeks, days); the latest dated one wins; projected to each result's time",
        ),
        (
            "Symptom",
            lambda c: v.is_a(c, KGR.Symptom) and (c, KGR.summaryKey, None) in kb.closure,
            "Condition or Observation",
            "Condition.severity; Observation.valueCodeableConcept (a severity, or SNOMED "
            "Yes / No), valueBoolean; refuted Condition, No or false = absent; "
            "dataAbsentReason = unknown",
        ),
        (
            "Cause",
            lambda c: v.is_a(c, KGR.Cause) and (c, KGR.summaryKey, None) in kb.closure,
            "Condition",
            "present unless verificationStatus refuted or clinicalStatus inactive/resolved/remission",
        ),
        (
            "Condition",
            lambda c: (
                v.is_a(c, KGR.Condition)
                and not v.is_a(c, KGR.Cause)
                and not v.is_a(c, KGR.Symptom)
                and not v.is_a(c, KGR.UninterpretedRecord)
                and c in codes
            ),
            "Condition or Procedure",
            "present unless refuted (an event condition stays present when resolved); Procedure completed or "
            "in-progress = present, not-done = absent; unconfirmed event condition = not understood (E2)",
        ),
        (
            "Imaging",
            lambda c: v.is_a(c, KGR.ImagingResult) and c != KGR.ImagingResult,
            "Observation or DiagnosticReport",
            "Observation.valueCodeableConcept or every DiagnosticReport.conclusionCode (below); none readable = "
            "record not understood (E2)",
        ),
        (
            "Imaging conclusion",
            lambda c: (None, KGR.allowedConclusion, c) in kb.closure,
            "(value)",
            "Observation.valueCodeableConcept, DiagnosticReport.conclusionCode",
        ),
        (
            "Severity",
            lambda c: (c, RDF.type, KGR.Severity) in kb.closure and c in codes,
            "(value)",
            "Condition.severity, Observation.valueCodeableConcept; moderate maps to heavy / severe (safety-first)",
        ),
        (
            "Presence",
            lambda c: (c, RDF.type, KGR.Presence) in kb.closure and c in codes,
            "(value)",
            "Observation.valueCodeableConcept of a symptom",
        ),
        (
            "Interpretation",
            lambda c: (c, RDF.type, KGR.Interpretation) in kb.closure and c in codes,
            "(value)",
            "every Observation.interpretation entry",
        ),
        (
            "Medication",
            lambda c: any(True for _ in kb.closure.subjects(KGR.substance, c)),
            "MedicationRequest, MedicationStatement, MedicationAdministration, MedicationDispense",
            "medicationCodeableConcept, medicationReference (contained "
            "#id or a Medication of the input, by its code and its ingredients' codes), R5 medication.concept / "
            ".reference; a MedicationRequest (not requested by the patient herself, not reported[x]), a "
            "MedicationAdministration, a MedicationStatement basedOn or a MedicationDispense authorised by her "
            "own request in force = supervised; a statement alone, based on another patient's request, or a "
            "request by the patient = self-medication; a request not in the input, a reported request or an "
            "unauthorised dispense = supervision unknown",
        ),
        (
            "Symptom course",
            lambda c: c == KGR.symptomCourse or (c, RDF.type, KGR.SymptomCourse) in kb.closure,
            "Observation",
            "code symptom-course, valueCodeableConcept improving / unchanged / worsening",
        ),
        (
            "Record not understood",
            lambda c: v.is_a(c, KGR.UninterpretedRecord) and c in codes,
            "Condition",
            "a code only this value set covers: listed in missing, status held below indicated (rule E2)",
        ),
    ]
    print("# FHIR R4 mapping\n")
    print("Generated from the ontology and the reader's element table by `python scripts/fhir_mapping_table.py`:")
    print("supporting a new code is a cross-reference (`skos:exactMatch` / `closeMatch` / `narrowMatch`), an ICD-10")
    print(
        "category (`kgr:includesCodesUnder`) or a code pattern (`kgr:includesCodesMatching`) in `ontology/`, not code."
    )
    print("Every coding of a CodeableConcept is read; per coding the most specific match wins (exact, close,")
    print("narrower, category, pattern), and a record carries every meaning its codings have. How records are")
    print("read, dated and refused: [fhir-reading.md](fhir-reading.md).\n")
    print("A Coding.system may also name its code system by OID (`kgr:fhirSystemAlias`); it is read as the")
    print(
        "canonical URI: " + "; ".join(f"`{a}` = {SYSTEM_NAMES.get(s, s)}" for a, s in sorted(aliases.items())) + ".\n"
    )
    concepts = sorted({c for c in list(codes) + [KGR.symptomCourse]}, key=label)
    for name, test, resource, element in groups:
        rows = [row(c, resource, element) for c in concepts if test(c)]
        if rows:
            print(
                f"## {name}\n\n| concept | resource | codes | element carrying the value | applies |\n"
                "|---|---|---|---|---|"
            )
            print("\n".join(rows) + "\n")
    print("## Elements read, with their R4 shape\n")
    print("A resource whose element below has another shape (STU3 or R5: a string where R4 has a CodeableConcept,")
    print("an object where R4 has a list), that carries an element R4 does not have whose meaning would be lost,")
    print("or that carries a `modifierExtension` anywhere, is refused: its patient is not assessed (fails closed)")
    print("and `data_problems` names the file, the resource and the element.\n")
    print("| resource | elements read (R4 type) | refused elements (not R4) |\n|---|---|---|")
    for rtype in fhir.READ_TYPES:
        elements = {**_COMMON, **ELEMENTS.get(rtype, {})} if rtype != "Patient" else ELEMENTS["Patient"]
        read = ", ".join(f"{k} ({t})" for k, t in sorted(elements.items()))
        refused = ", ".join(f"{k} ({why})" for k, why in sorted(NOT_IN_R4.get(rtype, {}).items())) or "-"
        print(f"| {rtype} | {read} | {refused} |")
    component = ", ".join(f"{k} ({t})" for k, t in sorted(COMPONENT.items()))
    print(f"\nEach entry of `Observation.component` (component[]) is an object whose code is required: {component}.")
    print("\n## Statuses\n")
    print("| resource | read as | ignored or not in use | anything else |\n|---|---|---|---|")
    print(
        f"| Observation, DiagnosticReport | {', '.join(sorted(fhir.RESULT_STATUS))} (result status) | "
        f"{', '.join(sorted(fhir.IGNORED_STATUS))} | counts (preliminary) |"
    )
    for kind in fhir.IN_USE:
        print(
            f"| {kind} | in use: {', '.join(sorted(fhir.IN_USE[kind]))} | {', '.join(sorted(fhir.NOT_IN_USE[kind]))}"
            " | read as in use, with a warning (cautious for the safety flags) |"
        )
    print(
        f"| Procedure | present: {', '.join(sorted(fhir.PROCEDURE_PRESENT))}; absent: "
        f"{', '.join(sorted(fhir.PROCEDURE_ABSENT))} | entered-in-error | not used, with a warning |"
    )
    print(
        f"| Condition | clinicalStatus {', '.join(sorted(fhir.NOT_PRESENT))} = not present (an event condition "
        f"stays present); verificationStatus refuted = absent | entered-in-error | "
        f"{', '.join(sorted(fhir.UNCONFIRMED))}: not used (an event condition: not understood, E2) |"
    )


MATCH = {0: "", 1: " (close)", 2: " (narrower)", 3: " (category)", 4: " (pattern)"}


def _dotted(prefix: str) -> str:
    """An ICD-10 category as written (O0981 -> O09.81)."""
    return prefix if len(prefix) <= 3 else f"{prefix[:3]}.{prefix[3:]}"


if __name__ == "__main__":
    main()
