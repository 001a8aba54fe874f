"""HL7 FHIR R4 input reaches exactly the outcome of the same facts written as a patient summary."""

from __future__ import annotations

import json

import pytest
from conftest import CASES, ROOT, VIGNETTES, load_case, outcome, run_cli

from kg_reasoner import InputError, UnreadableInputError
from kg_reasoner.testing.synthetic_fhir import (
    CLINICAL,
    LOINC,
    SCT,
    UCUM,
    V3,
    VERIFICATION,
    Unrepresentable,
    bundle,
    cc,
    qty,
    summary_to_resources,
    to_json,
)

ALL = VIGNETTES + CASES


def _bundle_or_skip(patient, variant):
    try:
        return bundle(
            summary_to_resources(patient, variant),
            kind=("collection", "searchset", "transaction", "document")[variant % 4],
        )
    except Unrepresentable as exc:
        pytest.skip(str(exc))


@pytest.mark.parametrize("variant", [0, 1, 2, 3])
@pytest.mark.parametrize("path", VIGNETTES, ids=[p.stem for p in VIGNETTES])
def test_vignette_as_fhir_bundle(reasoner, path, variant):
    case = load_case(path)
    a = reasoner.assess(_bundle_or_skip(case["patient"], variant))
    assert outcome(a) == case["expect"], (case["description"], a.data_problems)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case_as_fhir_bundle(reasoner, path):
    case = load_case(path)
    variant = sum(map(ord, case["id"])) % 4
    a = reasoner.assess(_bundle_or_skip(case["patient"], variant))
    assert outcome(a) == case["expect"], (case["description"], variant, a.data_problems)


def test_bulk_ndjson_equals_one_bundle_per_patient(reasoner, tmp_path):
    by_type: dict[str, list] = {}
    patients = [load_case(p)["patient"] for p in VIGNETTES]
    for i, patient in enumerate(patients):
        for r in summary_to_resources(patient, i):
            by_type.setdefault(r["resourceType"], []).append(r)
    for rtype, rows in by_type.items():
        (tmp_path / f"{rtype}.ndjson").write_text("\n".join(to_json(r) for r in rows) + "\n")
    bulk = {a.patient: outcome(a) for a in reasoner.assess_many([tmp_path])}
    assert len(bulk) == len(VIGNETTES)
    for i, patient in enumerate(patients):
        single = reasoner.assess(bundle(summary_to_resources(patient, i)))
        assert bulk[patient["id"]] == outcome(single) == load_case(VIGNETTES[i])["expect"]


def _one(reasoner, *resources, pid="F"):
    return reasoner.assess(bundle([{"resourceType": "Patient", "id": pid}, *resources]))


def obs(code, **extra):
    return {
        "resourceType": "Observation",
        "id": extra.pop("id", "o1"),
        "status": extra.pop("status", "final"),
        "subject": {"reference": "Patient/F"},
        "code": code,
        **extra,
    }


P4 = cc(LOINC, "2839-9")
#: the pregnancy on her problem list: what shows that she is pregnant now when nothing else does (no gestational
#: age): without it, rule E2 keeps the status from being indicated (kgr:PregnancyNotShownRecord)
PREGNANT = {
    "resourceType": "Condition",
    "id": "pregnancy",
    "subject": {"reference": "Patient/F"},
    "code": cc(SCT, "77386006", "Pregnancy"),
    "clinicalStatus": cc(CLINICAL, "active"),
    "onsetDateTime": "2026-10-01",
}
BLEEDING = {
    "resourceType": "Condition",
    "id": "c1",
    "subject": {"reference": "Patient/F"},
    "code": cc(SCT, "289530006"),
    "severity": cc(SCT, "255604002"),
}
NORMAL_US = obs(
    cc(SCT, "268445003"), id="us", valueCodeableConcept=cc(SCT, "237241002"), effectiveDateTime="2026-11-20T10:00:00Z"
)


def test_entered_in_error_and_cancelled_observations_are_ignored(reasoner):
    low = obs(
        P4,
        id="a",
        valueQuantity=qty(5, "ng/mL"),
        interpretation=[cc(V3, "L")],
        effectiveDateTime="2026-11-10T08:00:00Z",
    )
    for status in ("entered-in-error", "cancelled"):
        later = obs(
            P4,
            id="b",
            status=status,
            valueQuantity=qty(30, "ng/mL"),
            interpretation=[cc(V3, "N")],
            effectiveDateTime="2026-11-18T08:00:00Z",
        )
        a = _one(reasoner, low, later, BLEEDING, NORMAL_US)
        assert a.status == "indicated", status
        assert any("Observation/b" in r for r in a.ignored_results)


def test_latest_effective_wins_with_time_zones(reasoner):
    early_low = obs(
        P4,
        id="a",
        valueQuantity=qty(5, "ng/mL"),
        referenceRange=[{"low": qty(10, "ng/mL")}],
        effectiveDateTime="2026-11-18T09:00:00+02:00",
    )  # 07:00Z
    late_normal = obs(
        P4,
        id="b",
        valueQuantity=qty(25, "ng/mL"),
        referenceRange=[{"low": qty(10, "ng/mL")}],
        effectiveDateTime="2026-11-18T08:00:00Z",
    )
    assert _one(reasoner, early_low, late_normal, BLEEDING, NORMAL_US).criteria["C1"]["state"] == "not_met"


def test_future_result_is_a_data_problem(reasoner):
    future = obs(
        P4,
        id="fut",
        valueQuantity=qty(5, "ng/mL"),
        interpretation=[cc(V3, "L")],
        effectiveDateTime="2099-01-01T00:00:00Z",
    )
    a = _one(reasoner, future, BLEEDING, NORMAL_US)
    assert a.criteria["C1"]["state"] == "unknown"
    assert any(p["record"] == "Observation/fut" and "future" in p["message"] for p in a.data_problems)


@pytest.mark.parametrize("unit", ["ng/mL", "ng/ml", "nmol/L", "nmol/l"])
def test_ucum_units_and_spellings(reasoner, unit):
    value = 6 if unit.startswith("ng") else 19.08
    low = 10 if unit.startswith("ng") else 31.8
    r = obs(
        P4,
        valueQuantity={"value": value, "unit": unit, "system": UCUM, "code": unit},
        referenceRange=[{"low": {"value": low, "unit": unit, "system": UCUM, "code": unit}}],
    )
    assert _one(reasoner, r, BLEEDING, NORMAL_US).status == "indicated"


@pytest.mark.parametrize(
    "quantity",
    [{"value": 5}, {"value": 5, "unit": "mg/dL", "system": UCUM, "code": "mg/dL"}],
    ids=["missing-unit", "unknown-unit"],
)
def test_missing_or_unknown_unit_is_never_guessed(reasoner, quantity):
    r = obs(P4, id="bad", valueQuantity=quantity, referenceRange=[{"low": qty(10, "ng/mL")}])
    a = _one(reasoner, r, BLEEDING, NORMAL_US)
    assert a.criteria["C1"]["state"] == "unknown" and a.missing == ["C1"]
    assert any(p["record"] == "Observation/bad" and "never guessed" in p["message"] for p in a.data_problems)


@pytest.mark.parametrize(
    "comparator,value,state",
    [("<", 5, "met"), ("<", 20, "unknown"), ("<=", 10, "unknown"), (">", 20, "not_met"), (">", 5, "unknown")],
)
def test_comparator_is_conservative(reasoner, comparator, value, state):
    r = obs(
        P4, valueQuantity=dict(qty(value, "ng/mL"), comparator=comparator), referenceRange=[{"low": qty(10, "ng/mL")}]
    )
    a = _one(reasoner, r, BLEEDING, NORMAL_US)
    assert a.criteria["C1"]["state"] == state
    if state == "unknown":
        assert "reported only as a bound" in a.missing_details[0]["needs"]


@pytest.mark.parametrize(
    "code,state", [("L", "met"), ("LL", "met"), ("N", "not_met"), ("H", "not_met"), ("HH", "not_met")]
)
def test_interpretation_decides_before_reference_range(reasoner, code, state):
    r = obs(
        P4,
        valueQuantity=qty(25, "ng/mL") if code in "LLL" else qty(5, "ng/mL"),
        referenceRange=[{"low": qty(10, "ng/mL")}],
        interpretation=[cc(V3, code)],
    )
    assert _one(reasoner, r, BLEEDING, NORMAL_US).criteria["C1"]["state"] == state


def test_v2_interpretation_codes_are_equivalent(reasoner):
    r = obs(
        P4, valueQuantity=qty(25, "ng/mL"), interpretation=[cc("http://terminology.hl7.org/CodeSystem/v2-0078", "L")]
    )
    assert _one(reasoner, r, BLEEDING, NORMAL_US).criteria["C1"]["state"] == "met"


def test_transaction_bundle_without_ids(reasoner):
    """Transaction bundles identify resources by fullUrl; references use those fullUrls."""
    resources = summary_to_resources(load_case(VIGNETTES[0])["patient"])
    entries = []
    for i, r in enumerate(resources):
        r = {k: v for k, v in r.items() if k != "id"}
        if "subject" in r:
            r["subject"] = {"reference": "urn:uuid:patient-0"}
        entries.append(
            {
                "fullUrl": f"urn:uuid:{'patient' if r['resourceType'] == 'Patient' else 'r'}-{i}",
                "resource": r,
                "request": {"method": "POST", "url": r["resourceType"]},
            }
        )
    a = reasoner.assess({"resourceType": "Bundle", "type": "transaction", "entry": entries})
    assert (a.patient, a.status, a.rules) == ("patient-0", "indicated", ["R1"])
    assert any(e["source"].startswith("urn:uuid:r-") for e in a.criteria["C1"]["evidence"])


def test_refuted_condition_is_known_absent(reasoner):
    refuted = {
        "resourceType": "Condition",
        "id": "c9",
        "subject": {"reference": "Patient/F"},
        "code": cc(SCT, "199112006"),
        "verificationStatus": cc(VERIFICATION, "refuted"),
    }
    a = _one(reasoner, PREGNANT, refuted)
    assert a.rules == [] and "genital tract infection" not in a.unassessed_causes


@pytest.mark.parametrize(
    "field,code,expect_rules",
    [
        ("clinicalStatus", "resolved", []),
        ("clinicalStatus", "inactive", []),
        ("clinicalStatus", "active", ["R3"]),
        ("verificationStatus", "entered-in-error", []),
        ("verificationStatus", "provisional", []),
    ],
)
def test_condition_statuses(reasoner, field, code, expect_rules):
    system = CLINICAL if field == "clinicalStatus" else VERIFICATION
    cond = {
        "resourceType": "Condition",
        "id": "c9",
        "subject": {"reference": "Patient/F"},
        "code": cc(SCT, "199112006"),
        field: cc(system, code),
    }
    assert _one(reasoner, PREGNANT, cond).rules == expect_rules


@pytest.mark.parametrize(
    "severity,flags,c2",
    [
        ("255604002", [], "met"),
        ("6736007", ["urgent_evaluation"], "unknown"),
        ("24484000", ["urgent_evaluation"], "unknown"),
    ],
    ids=["mild", "moderate", "severe"],
)
def test_condition_severity_mapping(reasoner, severity, flags, c2):
    """mild -> light bleeding; moderate and severe -> heavy bleeding (safety-first, documented)."""
    a = _one(reasoner, dict(BLEEDING, severity=cc(SCT, severity)))
    assert a.flags == flags and a.criteria["C2"]["state"] == c2


def test_prescribed_progesterone_is_supervised_statement_alone_is_self_medication(reasoner):
    rx = {
        "resourceType": "MedicationRequest",
        "id": "rx",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/F"},
        "medicationCodeableConcept": cc("http://www.nlm.nih.gov/research/umls/rxnorm", "312641"),
    }
    based = {
        "resourceType": "MedicationStatement",
        "id": "ms",
        "status": "active",
        "subject": {"reference": "Patient/F"},
        "medicationCodeableConcept": cc("http://www.nlm.nih.gov/research/umls/rxnorm", "8727"),
        "basedOn": [{"reference": "MedicationRequest/rx"}],
    }
    alone = dict(based, id="ms2", basedOn=[])
    external = dict(based, id="ms3", basedOn=[{"reference": "MedicationRequest/elsewhere"}])
    assert _one(reasoner, external).flags == ["monitor"]
    assert _one(reasoner, rx).flags == ["monitor"]
    assert _one(reasoner, rx, based).flags == ["monitor"]
    assert _one(reasoner, alone).flags == ["monitor", "self_medication"]
    assert _one(reasoner, dict(rx, status="stopped")).flags == []


def test_unrecognised_codes_and_resources_are_listed(reasoner):
    other = obs(cc(LOINC, "85354-9", "Blood pressure panel"), id="bp")
    enc = {"resourceType": "Encounter", "id": "e1", "status": "finished", "subject": {"reference": "Patient/F"}}
    a = _one(reasoner, other, enc)
    records = {p["record"] for p in a.data_problems}
    assert {"Observation/bp", "Encounter/e1"} <= records


def test_explanation_cites_resource_and_code(reasoner):
    a = _one(
        reasoner, obs(P4, id="abc", valueQuantity=qty(5, "ng/mL"), interpretation=[cc(V3, "L")]), BLEEDING, NORMAL_US
    )
    fact = a.criteria["C1"]["evidence"][0]
    assert fact["source"] == "Observation/abc"
    from rdflib import Literal

    from kg_reasoner.namespaces import KGR

    assert (None, KGR.sourceCode, Literal("http://loinc.org|2839-9")) in a.asserted


def test_broken_reference_names_the_resource_others_assessed(reasoner, tmp_path):
    resources = summary_to_resources({"id": "OK", "conception": "art"}) + [
        obs(P4, id="orphan", subject={"reference": "Patient/ghost"}, valueQuantity=qty(5, "ng/mL"))
    ]
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle(resources)))
    results = list(reasoner.assess_many([path]))
    errors = [r for r in results if isinstance(r, InputError)]
    assert len(errors) == 1 and "Observation/orphan" in str(errors[0]) and str(path) in str(errors[0])
    assert [r.status for r in results if not isinstance(r, InputError)] == ["indicated"]


def test_bad_fhir_files(reasoner, tmp_path):
    no_type = tmp_path / "b.json"
    no_type.write_text(json.dumps({"resourceType": "Bundle", "entry": [{"resource": {"id": "x"}}]}))
    with pytest.raises(UnreadableInputError, match="no resource with a resourceType"):
        reasoner.assess(no_type)
    nd = tmp_path / "bulk"
    nd.mkdir()
    (nd / "Patient.ndjson").write_text('{"resourceType": "Patient", "id": "A"}\n{broken\n{"id": "x"}\n')
    results = list(reasoner.assess_many([nd]))
    messages = [str(r) for r in results if isinstance(r, InputError)]
    assert any("line 2 of Patient.ndjson is not valid JSON" in m for m in messages)
    assert any("line 3 of Patient.ndjson is not a FHIR resource" in m for m in messages)
    assert [r.patient for r in results if not isinstance(r, InputError)] == ["A"]


def test_spec_shaped_examples_do_not_trip_the_reader(reasoner):
    """Bundled example written as the FHIR specification's examples are: meta, text, identifiers,
    full codings with display, and extensions the package does not know."""
    a = reasoner.assess(ROOT / "examples" / "fhir" / "bundle-P01.json")
    assert (a.status, a.rules, a.flags) == ("indicated", ["R1"], ["monitor"])


def test_cli_on_bundled_fhir_examples():
    proc = run_cli("assess", "examples/fhir/bundle-P01.json", "examples/fhir/bulk", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    got = {r["patient"]: r["status"] for r in json.loads(proc.stdout)}
    assert got["P01"] == "indicated" and len(got) >= 10


def test_mapping_table_in_docs_is_current():
    """docs/fhir-mapping.md is generated from the ontology; regenerate it when a cross-reference changes."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "scripts/fhir_mapping_table.py"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (ROOT / "docs" / "fhir-mapping.md").read_text(encoding="utf-8"), (
        "run: python scripts/fhir_mapping_table.py > docs/fhir-mapping.md"
    )
