"""The core authoring kinds (docs/authoring.md), one rule test per semantics, on both engines: a threshold
on an attribute and on the latest result (units converted, strict and inclusive bounds, a value given only
as a bound), a window, k of n (met, not met when too few can still be met, unknown with the unknown factors
missing), status-dependent flag rules, unassessed contraindications, and the explanation of a "no" with its
numbers. The test module (tests/data/authoring/kinds.ttl) holds no SPARQL of its own."""

from __future__ import annotations

import pytest
from conftest import DATA

from kg_reasoner import Guidance, Reasoner

KINDS = Guidance.from_files("kinds", ontology=[DATA / "authoring" / "kinds.ttl"])
IN_WINDOW = {"gestational_age_weeks": 14}
NOT_K1 = {"bmi": 25, "age_years": 30}  # two of the three moderate factors known absent: K1 does not apply

#: (test id, patient summary, status, fired rules, missing, flags)
CASES = [
    ("threshold-and-k-of-n-met", {"bmi": 32.5, "age_years": 36, **IN_WINDOW}, "indicated", ["K1"], [], ["monitor"]),
    (
        "threshold-strict-bound-not-met-at-boundary",
        {"bmi": 30, "age_years": 36, "nulliparity": "absent", **IN_WINDOW},
        "not_indicated",
        [],
        [],
        [],
    ),
    (
        "threshold-inclusive-bound-met-at-boundary",
        {"bmi": 31, "age_years": 35, **IN_WINDOW},
        "indicated",
        ["K1"],
        [],
        ["monitor"],
    ),
    (
        "k-of-n-unknown-lists-unknown-factors",
        {"bmi": 32.5, **IN_WINDOW},
        "insufficient_data",
        [],
        ["AGE35", "NULLI"],
        [],
    ),
    ("k-of-n-not-met-when-too-few-can-be-met", {"bmi": 25, "age_years": 30, **IN_WINDOW}, "not_indicated", [], [], []),
    (
        "k-of-n-met-with-a-factor-unknown",
        {"age_years": 36, "nulliparity": "present", **IN_WINDOW},
        "indicated",
        ["K1"],
        [],
        ["monitor"],
    ),
    (
        "window-after-its-end-not-met",
        {"bmi": 32.5, "age_years": 36, "gestational_age_weeks": 16.5},
        "not_indicated",
        [],
        [],
        [],
    ),
    ("window-unknown-without-gestational-age", {"bmi": 32.5, "age_years": 36}, "insufficient_data", [], ["WINDOW"], []),
    (
        "contraindication-outranks",
        {"bmi": 32.5, "age_years": 36, "drug_allergy": "present", **IN_WINDOW},
        "contraindicated",
        ["K1", "K3"],
        [],
        [],
    ),
    (
        "contraindication-recorded-absent",
        {"bmi": 32.5, "age_years": 36, "drug_allergy": "absent", **IN_WINDOW},
        "indicated",
        ["K1"],
        [],
        ["monitor"],
    ),
    (
        "measurement-threshold-converted",
        {"marker": [{"value": 8, "unit": "ng/mL"}], **NOT_K1},
        "indicated",
        ["K2"],
        [],
        ["monitor"],
    ),
    (
        "measurement-threshold-in-canonical-unit",
        {"marker": [{"value": 45, "unit": "nmol/L"}], **NOT_K1},
        "not_indicated",
        [],
        [],
        [],
    ),
    (
        "measurement-threshold-latest-result-decides",
        {
            "marker": [
                {"value": 8, "unit": "ng/mL", "time": "2026-01-01"},
                {"value": 30, "unit": "ng/mL", "time": "2026-02-01"},
            ],
            **NOT_K1,
        },
        "not_indicated",
        [],
        [],
        [],
    ),
]


@pytest.fixture(scope="module", params=["fast", pytest.param("reference", marks=pytest.mark.slow)])
def kinds(request) -> Reasoner:
    return Reasoner(guidance=KINDS, engine=request.param)


@pytest.mark.parametrize(
    ("patient", "status", "rules", "missing", "flags"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_authoring_kind(kinds, patient, status, rules, missing, flags):
    a = kinds.assess({"id": "K", **patient})
    assert (a.status, a.rules, a.missing, a.flags) == (status, rules, missing, flags), a.to_text()
    if kinds.engine == "fast":
        assert a.stages["rules"] == "compiled", "the fast engine fell back to pySHACL"


def test_threshold_explanation_states_its_numbers(kinds):
    a = kinds.assess({"id": "K", "bmi": 32.5, "age_years": 30, "nulliparity": "absent", **IN_WINDOW})
    assert a.status == "not_indicated"
    text = a.to_text()
    assert "BMI: 32.5 kg/m2 > 30 kg/m2" in text
    assert "age: 30 years < 35 years" in text
    assert "1 of 3 factors met, 0 unknown (at least 2 needed)" in text
    assert "gestational age (weeks): 14 weeks >= 12 weeks, 14 weeks <= 16 weeks" in text
    # a "no" is explained: each status rule that did not fire, and why
    reasons = {r["rule"]: r["reason"] for r in a.not_fired}
    assert reasons["K1"] == "criteria: TWO (two or more moderate factors) not_met, WINDOW (12 to 16 weeks) met"
    assert reasons["K3"] == "no record of: drug allergy"
    assert "not_indicated is the default status" in text


@pytest.mark.parametrize(
    "marker,judged",
    [
        ({"value": 15, "unit": "ng/mL"}, "marker result: 15 ng/mL < 20 ng/mL"),
        ({"value": 50, "unit": "nmol/L"}, "marker result: 25 ng/mL >= 20 ng/mL"),
    ],
)
def test_a_threshold_on_a_measurement_states_the_value_it_compared(kinds, marker, judged):
    """The value of a measurement's latest result, in the unit of the bounds (50 nmol/L is 25 ng/mL): the
    threshold rule divided it by the conversion factor inside an OPTIONAL, where the factor is not in scope,
    so both engines said "no comparable marker result" beside a criterion they had decided."""
    a = kinds.assess({"id": "K", "marker": [marker], **IN_WINDOW})
    assert f"  judged: {judged}" in a.to_text()
    assert a.criteria["MARKER20"]["state"] == ("met" if "<" in judged else "not_met")


def test_unknown_threshold_says_what_would_decide(kinds):
    a = kinds.assess({"id": "K", "bmi": 32.5, **IN_WINDOW})
    needs = {m["criterion"]: m["needs"] for m in a.missing_details}
    assert needs["AGE35"].startswith("a value of age")
    assert needs["NULLI"] == "a record of nulliparity, present or absent"
    assert "Rule K1 is partly met: AGE35 (age 35 or more) is unknown" in a.to_text()


def test_unassessed_contraindications_are_listed(kinds):
    a = kinds.assess({"id": "K", **IN_WINDOW})
    assert a.unassessed_contraindications == ["drug allergy"]
    assert kinds.assess({"id": "K", "drug_allergy": "absent"}).unassessed_contraindications == []


def test_status_dependent_rule_follows_the_final_status(kinds):
    assert kinds.assess({"id": "K", "bmi": 32.5, "age_years": 36, **IN_WINDOW}).flags == ["monitor"]
    contraindicated = kinds.assess({"id": "K", "bmi": 32.5, "age_years": 36, "drug_allergy": "present", **IN_WINDOW})
    assert contraindicated.flags == []
    assert "its condition on the final status (contraindicated) does not hold" in {
        r["reason"] for r in contraindicated.not_fired if r["rule"] == "K4"
    }


def test_a_condition_key_rejects_other_values(kinds):
    from kg_reasoner import PatientDataError

    with pytest.raises(PatientDataError, match="allowed: present, absent"):
        kinds.assess({"id": "K", "drug_allergy": "yes"})


def test_threshold_a_value_given_only_as_a_bound_does_not_decide(kinds):
    """ "<25 ng/mL" may be below 20 or not: MARKER20 stays unknown (and K2, whose only criterion is its trigger,
    does not fire); "<15 ng/mL" is conclusive. The graph is built in the ontology's vocabulary, as RDF input is."""
    from rdflib import Graph, Literal, Namespace, URIRef
    from rdflib.namespace import RDF, XSD

    kgr = Namespace("https://w3id.org/kg-reasoner/ontology#")

    def patient(value, comparator):
        g, me = Graph(), URIRef("https://w3id.org/kg-reasoner/patient/K")
        m = URIRef(f"{me}/marker/0")
        g.add((me, RDF.type, kgr.Patient))
        g.add((me, kgr.patientId, Literal("K")))
        for attr, v in (("bmi", 25), ("age", 30)):
            g.add(
                (
                    me,
                    URIRef(f"https://example.org/kg-reasoner-test/kinds#{attr}"),
                    Literal(str(v), datatype=XSD.decimal),
                )
            )
        g.add((me, kgr.hasMeasurement, m))
        g.add((m, RDF.type, URIRef("https://example.org/kg-reasoner-test/kinds#Marker")))
        g.add((m, kgr.value, Literal(str(value), datatype=XSD.decimal)))
        g.add((m, kgr.unit, kgr.NanogramPerMilliliter))
        g.add((m, kgr.comparator, Literal(comparator)))
        return g

    undecided = kinds.assess(patient(25, "<"))
    assert (undecided.status, undecided.criteria["MARKER20"]["state"]) == ("not_indicated", "unknown"), (
        undecided.to_text()
    )
    assert kinds.assess(patient(15, "<")).criteria["MARKER20"]["state"] == "unknown"


def test_progesterone_no_is_explained(assess):
    """P06 (normal progesterone): not_indicated, and each status rule says why it did not fire."""
    import json

    from conftest import DATA

    a = assess(**json.loads((DATA / "vignettes" / "P06.json").read_text())["patient"])
    assert a.status == "not_indicated"
    reasons = {r["rule"]: r["reason"] for r in a.not_fired if r["kind"] == "status"}
    assert set(reasons) == {"R1", "R2", "R3", "R4", "E2"}
    assert reasons["R1"].startswith("criteria: C1 (low progesterone) not_met")
    assert reasons["R2"] == "conception: not recorded"
    assert reasons["R3"] == "no record of: identified cause progesterone cannot address"
    assert "not_indicated is the default status" in a.to_text()
