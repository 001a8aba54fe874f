"""Each kind of bad input gets a specific error naming the file, the patient and the field,
and nothing else is lost: the other patients are still assessed."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli

from kg_reasoner import PatientDataError, UnreadableInputError

GOOD = {"id": "OK", "conception": "art"}
PATIENT_TTL = """
@prefix kgr: <https://w3id.org/kg-reasoner/ontology#> .
@prefix prg: <https://w3id.org/kg-reasoner/ontology/progesterone#> .
@prefix pt:  <https://w3id.org/kg-reasoner/patient/> .
pt:R1 a kgr:Patient ; kgr:patientId "R1" ; kgr:gestationalAgeWeeks 7.0 ;
    kgr:hasMeasurement pt:R1-p4 ; kgr:hasFinding pt:R1-bleed ; kgr:hasImagingResult pt:R1-us .
pt:R1-p4 a prg:SerumProgesteroneMeasurement ; kgr:value 6.0 ; kgr:unit kgr:NanogramPerMilliliter ;
    kgr:referenceLow 10.0 ; kgr:sourceRecord "lab-123" .
pt:R1-bleed a prg:VaginalBleeding ; kgr:presence kgr:Present ; kgr:severity prg:Light .
pt:R1-us a prg:ObstetricUltrasoundResult ; kgr:conclusion prg:NormalEmbryonicDevelopment .
"""


@pytest.mark.parametrize(
    "patient,field,words",
    [
        ({"id": "X", "colour": "red"}, "/colour", "unknown key 'colour'"),
        ({"id": "X", "vaginal_bleeding": "moderate"}, "/vaginal_bleeding", "'moderate' is not a valid value"),
        ({"id": "X", "abdominal_pain": "light"}, "/abdominal_pain", "'light' is not a valid value"),
        ({"id": "X", "gestational_age_weeks": "seven"}, "/gestational_age_weeks", "must be a number"),
        ({"id": "X", "gestational_age_weeks": True}, "/gestational_age_weeks", "must be a number"),
        ({"id": "X", "conception": "ivf"}, "/conception", "not a valid conception"),
        ({"id": "X", "ultrasound": "viable"}, "/ultrasound", "not a valid ultrasound conclusion"),
        ({"id": "X", "miscarriage": "threatened"}, "/miscarriage", "not a valid miscarriage"),
        ({"id": "X", "causes": {"fibroids": True}}, "/causes/fibroids", "unknown cause 'fibroids'"),
        ({"id": "X", "causes": {"infection": "yes"}}, "/causes/infection", "must be true"),
        ({"id": "X", "causes": ["infection"]}, "/causes", "must be an object"),
        ({"id": "X", "uterine_polyp": True}, "/uterine_polyp", "unknown key"),
        ({"id": "X", "progesterone": {"value": 5, "unit": "ng/mL"}}, "/progesterone", "must be a list"),
        ({"id": "X", "progesterone": [{"value": 5}]}, "/progesterone/0/unit", "never guessed"),
        ({"id": "X", "progesterone": [{"value": 5, "unit": "mg/dL"}]}, "/progesterone/0/unit", "unknown unit 'mg/dL'"),
        ({"id": "X", "progesterone": [{"unit": "ng/mL"}]}, "/progesterone/0/value", "needs a value"),
        (
            {"id": "X", "progesterone": [{"interpretation": "low", "reference_low": 10}]},
            "/progesterone/0/reference_low",
            "needs the result's value",
        ),
        ({"id": "X", "progesterone": [{"value": "low", "unit": "ng/mL"}]}, "/progesterone/0/value", "must be a number"),
        (
            {"id": "X", "progesterone": [{"value": 5, "unit": "ng/mL", "flag": "L"}]},
            "/progesterone/0/flag",
            "unknown field",
        ),
        (
            {"id": "X", "progesterone": [{"value": 5, "unit": "ng/mL", "interpretation": "L"}]},
            "/progesterone/0/interpretation",
            "not valid",
        ),
        (
            {"id": "X", "progesterone": [{"value": 5, "unit": "ng/mL", "status": "final!"}]},
            "/progesterone/0/status",
            "not valid",
        ),
        (
            {"id": "X", "progesterone": [{"value": 5, "unit": "ng/mL", "time": "yesterday"}]},
            "/progesterone/0/time",
            "ISO 8601",
        ),
        # a time without zone is an interval (decision-spec section 4), but a day that does not exist is an error
        (
            {"id": "X", "progesterone": [{"value": 5, "unit": "ng/mL", "time": "2026-02-30T09:00:00"}]},
            "/progesterone/0/time",
            "not a valid date",
        ),
        ({"id": "X", "progesterone_use": True}, "/progesterone_use", "must be an object"),
        ({"id": "X", "progesterone_use": {"supervised": "yes"}}, "/progesterone_use/supervised", "true"),
        (
            {"id": "X", "progesterone_use": {"symptom_course": "better"}},
            "/progesterone_use/symptom_course",
            "not a valid",
        ),
        ({"id": "X", "progesterone_use": {"dose": 200}}, "/progesterone_use/dose", "unknown field"),
        ({"id": ""}, "/id", "non-empty string"),
        ({"name": "no id"}, "/id", "required key 'id'"),
        ({"id": 7}, "/id", "non-empty string"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_bad_patient_summary(reasoner, write_json, patient, field, words):
    path = write_json("bad.json", patient)
    with pytest.raises(PatientDataError) as err:
        reasoner.assess(path)
    assert err.value.field == field
    assert err.value.source == str(path)
    assert words in str(err.value)
    assert str(path) in str(err.value) and f"field {field}" in str(err.value)
    if isinstance(patient.get("id"), str) and patient["id"]:
        assert err.value.patient == patient["id"] and "patient X" in str(err.value)


def test_unparsable_json_names_the_file(reasoner, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"id": "X", ', encoding="utf-8")
    with pytest.raises(UnreadableInputError, match="is not valid JSON") as err:
        reasoner.assess(path)
    assert err.value.source == str(path)


def test_missing_file(reasoner, tmp_path):
    with pytest.raises(UnreadableInputError, match="cannot be read"):
        reasoner.assess(tmp_path / "nope.json")


@pytest.mark.parametrize(
    "name,content,words",
    [
        ("broken.ttl", "this is not turtle", "is not valid turtle"),
        ("empty.ttl", "<urn:a> <urn:b> <urn:c> .", "contains no kgr:Patient"),
        ("patient.csv", "id\nX\n", "unknown file type"),
        (
            "p.jsonld",
            json.dumps({"@context": "https://example.org/context.jsonld", "@id": "urn:x"}),
            "never fetches from the network",
        ),
    ],
    ids=["unparsable-turtle", "rdf-without-patient", "unknown-file-type", "remote-jsonld-context-refused"],
)
def test_unreadable_file_names_the_file(reasoner, tmp_path, name, content, words):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UnreadableInputError, match=words) as err:
        reasoner.assess(path)
    assert err.value.source == str(path)


def test_rdf_input_equals_summary(reasoner, tmp_path):
    """Turtle in the ontology's vocabulary reaches the same outcome as the same facts as JSON."""
    path = tmp_path / "r1.ttl"
    path.write_text(PATIENT_TTL, encoding="utf-8")
    a = reasoner.assess(path)
    b = reasoner.assess(
        {
            "id": "R1",
            "gestational_age_weeks": 7,
            "vaginal_bleeding": "light",
            "ultrasound": "normal",
            "progesterone": [{"value": 6.0, "unit": "ng/mL", "reference_low": 10}],
        }
    )
    assert (
        (a.status, a.rules, a.missing, a.flags)
        == (b.status, b.rules, b.missing, b.flags)
        == ("indicated", ["R1"], [], ["monitor"])
    )
    assert "[source: lab-123]" in " ".join(e["fact"] for e in a.criteria["C1"]["evidence"])


def test_jsonld_input(reasoner, tmp_path):
    from rdflib import Graph

    g = Graph().parse(data=PATIENT_TTL, format="turtle")
    path = tmp_path / "r1.jsonld"
    path.write_text(g.serialize(format="json-ld"), encoding="utf-8")
    assert reasoner.assess(path).status == "indicated"
    nt = tmp_path / "r1.nt"
    nt.write_text(g.serialize(format="nt"), encoding="utf-8")
    assert reasoner.assess(nt).status == "indicated"


def test_rdf_violation_fails_closed(reasoner, tmp_path):
    """A measurement without unit in RDF: SHACL validation fails, no status is given (fail closed), and the
    data problem names the record and the field."""
    path = tmp_path / "nounit.ttl"
    path.write_text(PATIENT_TTL.replace("kgr:unit kgr:NanogramPerMilliliter ;", ""), encoding="utf-8")
    a = reasoner.assess(path)
    assert a.status is None and not a.assessed and a.rules == [] and a.flags == []
    problem = next(p for p in a.data_problems if p["severity"] == "violation")
    assert problem["record"] == "lab-123" and problem["value"] == "6.0"
    assert "never guessed" in problem["message"]
    assert a.explanation_lines()[0].startswith("NOT ASSESSED")


def test_rdf_severity_not_allowed_for_symptom(reasoner, tmp_path):
    path = tmp_path / "severity.ttl"
    path.write_text(PATIENT_TTL.replace("kgr:severity prg:Light", "kgr:severity prg:Mild"), encoding="utf-8")
    a = reasoner.assess(path)
    assert a.status is None
    assert any("is not a grade of" in p["message"] for p in a.data_problems)


def test_inconsistent_graph_fails_closed(reasoner, tmp_path):
    """owlrl's inconsistency triples are checked: a finding both present and absent (kgr:presence is
    functional, kgr:Present and kgr:Absent are different) gives no status, and the outcome says why."""
    path = tmp_path / "inconsistent.ttl"
    path.write_text(
        PATIENT_TTL.replace("kgr:presence kgr:Present", "kgr:presence kgr:Present , kgr:Absent"), encoding="utf-8"
    )
    a = reasoner.assess(path)
    assert a.status is None and a.rules == []
    errors = [p for p in a.data_problems if p["severity"] == "error"]
    assert errors and all("inconsistent under OWL 2 RL" in p["message"] for p in errors)


def test_two_conception_methods_are_inconsistent(reasoner, tmp_path):
    path = tmp_path / "conception.ttl"
    path.write_text(
        PATIENT_TTL.replace(
            'kgr:patientId "R1" ;',
            'kgr:patientId "R1" ; kgr:conception prg:AssistedReproduction , prg:SpontaneousConception ;',
        ),
        encoding="utf-8",
    )
    assert reasoner.assess(path).status is None


def test_shared_record_between_patients_is_refused(reasoner, tmp_path):
    """One patient's facts never touch another's: a record linked from two patients is an error."""
    path = tmp_path / "shared.ttl"
    path.write_text(
        PATIENT_TTL
        + """
pt:R2 a kgr:Patient ; kgr:patientId "R2" ; kgr:hasFinding pt:R1-bleed .
""",
        encoding="utf-8",
    )
    results = list(reasoner.assess_many([path]))
    assert any(isinstance(r, PatientDataError) and "shared with patient" in str(r) for r in results)


def test_vignette_format_is_accepted(reasoner, write_json):
    """A file of test cases in the vignette format ({id, description, patient, expect}) is read through
    its "patient" objects, so the public vignettes file can be assessed as it is."""
    case = {
        "id": "P02",
        "description": "IVF",
        "patient": {"id": "P02", "conception": "art"},
        "expect": {"status": "indicated"},
    }
    path = write_json("cases.json", [case, case | {"id": "P03", "patient": {"id": "P03", "ultrasound": "demise"}}])
    results = list(reasoner.assess_many([path]))
    assert [(a.patient, a.status) for a in results] == [("P02", "indicated"), ("P03", "contraindicated")]
    assert results[1].criteria["C3"]["evidence"][0]["source"] == f"{path.name}#/1/patient/ultrasound"


def test_rdf_file_with_ontology_statements_and_two_patients(reasoner, tmp_path):
    """A data file may restate ontology terms; two patients pointing at the same term share no record."""
    path = tmp_path / "two.ttl"
    path.write_text(
        PATIENT_TTL
        + """
prg:Light a prg:ThreatenedMiscarriageGrade .
pt:R2 a kgr:Patient ; kgr:patientId "R2" ; kgr:hasFinding pt:R2-bleed .
pt:R2-bleed a prg:VaginalBleeding ; kgr:presence kgr:Present ; kgr:severity prg:Light .
""",
        encoding="utf-8",
    )
    results = {a.patient: a for a in reasoner.assess_many([path])}
    assert results["R1"].status == "indicated"
    assert (results["R2"].status, results["R2"].missing) == ("insufficient_data", ["C1", "C3"])
    assert any("not attached to any patient" in p["message"] for p in results["R2"].data_problems)


@pytest.mark.parametrize(
    "patient,field",
    [
        ({"id": "V", "gestational_age_weeks": -1}, "gestationalAgeWeeks"),
        ({"id": "V", "gestational_age_weeks": 60}, "gestationalAgeWeeks"),
        ({"id": "V", "progesterone": [{"value": -3, "unit": "ng/mL"}]}, "value"),
    ],
    ids=["negative-ga", "ga-over-45", "negative-value"],
)
def test_out_of_range_values_fail_closed(reasoner, patient, field):
    """Values of the right type but outside their range fail SHACL validation: no status, and a data
    problem naming the record and the field."""
    a = reasoner.assess(patient)
    assert a.status is None
    assert any(p["severity"] == "violation" and p["field"].endswith("#" + field) for p in a.data_problems)


def test_bad_patient_in_array_does_not_lose_the_others(reasoner, write_json):
    path = write_json("cohort.json", [GOOD, {"id": "BAD", "colour": 1}, {"id": "OK2", "miscarriage": "complete"}])
    results = list(reasoner.assess_many([path]))
    assert [getattr(r, "patient", None) for r in results] == ["OK", "BAD", "OK2"]
    assert isinstance(results[1], PatientDataError) and results[1].field == "/1/colour"
    assert results[0].status == "indicated" and results[2].status == "contraindicated"


def test_cli_bad_file_reported_others_assessed(write_json, tmp_path):
    good = write_json("good.json", GOOD)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    proc = run_cli("assess", str(bad), str(good), "--format", "json")
    assert proc.returncode == 2
    assert f"file {bad}" in proc.stderr and "is not valid JSON" in proc.stderr
    assert [r["patient"] for r in json.loads(proc.stdout)] == ["OK"]


def test_cli_not_assessable_exit_1(tmp_path):
    path = tmp_path / "inconsistent.ttl"
    path.write_text(
        PATIENT_TTL.replace("kgr:presence kgr:Present", "kgr:presence kgr:Present , kgr:Absent"), encoding="utf-8"
    )
    proc = run_cli("assess", str(path), "--format", "json")
    assert proc.returncode == 1
    assert json.loads(proc.stdout)[0]["status"] is None
    assert "was not assessed" in proc.stderr
