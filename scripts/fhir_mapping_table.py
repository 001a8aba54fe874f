"""Print the FHIR mapping table (docs/fhir-mapping.md) from the ontology: the table is derived data.

    python scripts/fhir_mapping_table.py > docs/fhir-mapping.md
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from rdflib.namespace import RDF, RDFS

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SYSTEM_NAMES = {"http://snomed.info/sct": "SNOMED CT", "http://loinc.org": "LOINC",
                "http://hl7.org/fhir/sid/icd-10-cm": "ICD-10-CM", "http://hl7.org/fhir/sid/icd-10": "ICD-10",
                "http://www.nlm.nih.gov/research/umls/rxnorm": "RxNorm", "http://www.whocc.no/atc": "ATC",
                "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation": "v3-ObservationInterpretation",
                "https://w3id.org/kg-reasoner/fhir/CodeSystem/kgr": "kg-reasoner local"}


def main() -> None:
    from kg_reasoner.engine import load_knowledge_base
    from kg_reasoner.fhir import FhirVocabulary
    from kg_reasoner.namespaces import KGR
    kb = load_knowledge_base()
    v = FhirVocabulary(kb.closure)
    codes = defaultdict(list)
    for (system, code), matches in v.codes.items():
        for strength, concept in matches:
            codes[concept].append((strength, SYSTEM_NAMES.get(system, system), code))

    def label(c):
        return str(kb.ontology.value(c, RDFS.label) or c)

    def row(concept, resource, element):
        cs = sorted(codes.get(concept, []))
        text = "; ".join(f"{s} {c}{'' if st == 0 else ' (close)' if st == 1 else ' (narrower)'}" for st, s, c in cs)
        return f"| {label(concept)} | {resource} | {text} | {element} |"

    groups = [
        ("Measurement", lambda c: v.is_a(c, KGR.Measurement) and c != KGR.Measurement,
         "Observation", "valueQuantity (UCUM ng/mL or nmol/L, also ng/ml, nmol/l; comparator), interpretation, "
                        "referenceRange.low, effective[x], status"),
        ("Gestational age", lambda c: c == KGR.gestationalAgeWeeks, "Observation",
         "valueQuantity in wk or d; the latest effective[x] wins"),
        ("Symptom", lambda c: v.is_a(c, KGR.Symptom) and (c, KGR.summaryKey, None) in kb.closure,
         "Condition or Observation", "Condition.severity or Observation.valueCodeableConcept (severity); "
                                     "refuted Condition or Observation.valueBoolean false = absent"),
        ("Cause", lambda c: v.is_a(c, KGR.Cause) and (c, KGR.summaryKey, None) in kb.closure, "Condition",
         "present unless verificationStatus refuted or clinicalStatus inactive/resolved/remission"),
        ("Condition", lambda c: v.is_a(c, KGR.Condition) and not v.is_a(c, KGR.Cause) and not v.is_a(c, KGR.Symptom)
         and c in codes, "Condition", "as for causes"),
        ("Patient class", lambda c: v.is_a(c, KGR.Patient) and c in codes, "Condition", "present Condition"),
        ("Imaging", lambda c: v.is_a(c, KGR.ImagingResult) and c != KGR.ImagingResult, "Observation or DiagnosticReport",
         "Observation.valueCodeableConcept or DiagnosticReport.conclusionCode (below)"),
        ("Imaging conclusion", lambda c: (None, KGR.allowedConclusion, c) in kb.closure, "(value)",
         "Observation.valueCodeableConcept, DiagnosticReport.conclusionCode"),
        ("Severity", lambda c: (c, RDF.type, KGR.Severity) in kb.closure and c in codes, "(value)",
         "Condition.severity, Observation.valueCodeableConcept; moderate maps to heavy / severe (safety-first)"),
        ("Interpretation", lambda c: (c, RDF.type, KGR.Interpretation) in kb.closure and c in codes, "(value)",
         "Observation.interpretation"),
        ("Medication", lambda c: any(True for _ in kb.closure.subjects(KGR.substance, c)),
         "MedicationRequest, MedicationStatement", "active MedicationRequest, or MedicationStatement based on one = "
                                                   "supervised; MedicationStatement alone = self-medication"),
        ("Symptom course", lambda c: c == KGR.symptomCourse or (c, RDF.type, KGR.SymptomCourse) in kb.closure,
         "Observation", "code symptom-course, valueCodeableConcept improving / unchanged / worsening"),
    ]
    print("# FHIR R4 mapping\n")
    print("Generated from the ontology by `python scripts/fhir_mapping_table.py`: supporting a new code is a")
    print("cross-reference (`skos:exactMatch` / `closeMatch` / `narrowMatch`) in `ontology/`, not code.\n")
    concepts = sorted({c for c in list(codes) + [KGR.symptomCourse]}, key=label)
    for name, test, resource, element in groups:
        rows = [row(c, resource, element) for c in concepts if test(c)]
        if rows:
            print(f"## {name}\n\n| concept | resource | codes | element carrying the value |\n|---|---|---|---|")
            print("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
