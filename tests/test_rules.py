"""One test (or a few) per rule of decision-spec section 2, named after the rule, quoting its sentence.

They check the conclusion and that the explanation carries the rule, its
sentence and the evidence the rule rests on.
"""

from __future__ import annotations

import pytest
from conftest import ROOT

GUIDANCE = (ROOT / "docs" / "progesterone-miscarriage.txt").read_text(encoding="utf-8")
LOW = {"value": 6.0, "unit": "ng/mL", "reference_low": 10}


def fired(a, rule_id):
    return next(r for r in a.fired_rules if r["id"] == rule_id)


def evidence_text(items):
    return " | ".join(e["fact"] for e in items)


def test_R1_luteal_insufficiency_indicated(assess):
    """R1: "If prenatal tests show progesterone levels below the normal range, and the pregnant woman
    experiences symptoms of threatened miscarriage such as light vaginal bleeding or mild abdominal pain,
    and ultrasound confirms normal embryonic development, the condition may be diagnosed as pregnancy
    instability due to luteal insufficiency."""
    a = assess(progesterone=[LOW], vaginal_bleeding="light", ultrasound="normal")
    assert (a.status, a.rules, a.missing) == ("indicated", ["R1"], [])
    assert [d["diagnosis"] for d in a.diagnosis] == ["pregnancy instability due to luteal insufficiency"]
    r1 = fired(a, "R1")
    assert any("below the normal range" in s for s in r1["sentences"])
    assert all(s in GUIDANCE for s in r1["sentences"])
    ev = evidence_text(r1["evidence"])
    assert "serum progesterone result: 6.0 ng/mL" in ev and "vaginal bleeding: light" in ev
    assert "normal embryonic development" in ev
    assert {c: v["state"] for c, v in a.criteria.items()} == {"C1": "met", "C2": "met", "C3": "met"}
    assert any("the result's own reference range" in d for d in a.criteria["C1"]["decided_by"])


def test_R1_partly_met_lists_missing_criteria(assess):
    """R1 partly met: "If prenatal tests show progesterone levels below the normal range" with a symptom,
    but no ultrasound yet: the status is insufficient_data and C3 is missing."""
    a = assess(progesterone=[LOW], vaginal_bleeding="light")
    assert (a.status, a.rules, a.missing) == ("insufficient_data", [], ["C3"])
    assert a.criteria["C3"]["state"] == "unknown"
    assert a.missing_details[0]["needs"] == "an obstetric ultrasound of embryonic development"
    assert {"rule": "R1", "relation": "partly_met", "criterion": "C3"}.items() <= a.rule_states[0].items()


def test_R1_not_applicable_names_the_unmet_criterion(assess):
    """R1 does not apply when one criterion is not met ("ultrasound confirms normal embryonic development"
    is contradicted by an abnormal ultrasound)."""
    a = assess(progesterone=[LOW], vaginal_bleeding="light", ultrasound="abnormal")
    assert (a.status, a.rules, a.missing) == ("not_indicated", [], [])
    assert [(s["rule"], s["relation"], s["criterion"]) for s in a.rule_states] == [("R1", "not_applicable", "C3")]
    assert any("does not apply: C3" in line for line in a.explanation_lines())


def test_R2_assisted_reproduction_indicated(assess):
    """R2: "...as well as in pregnancies following assisted reproductive technology." """
    a = assess(conception="art")
    assert (a.status, a.rules, a.flags) == ("indicated", ["R2"], ["monitor"])
    r2 = fired(a, "R2")
    assert "assisted reproductive technology" in r2["sentences"][0]
    assert evidence_text(r2["evidence"]) == "conception: assisted reproductive technology"


@pytest.mark.parametrize(
    "cause,label",
    [
        ("chromosomal_abnormality", "embryonic chromosomal abnormality"),
        ("uterine_malformation", "uterine malformation"),
        ("uterine_polyp", "uterine polyp"),
        ("intrauterine_adhesions", "intrauterine adhesions"),
        ("infection", "genital tract infection"),
    ],
)
def test_R3_cause_progesterone_cannot_address(assess, cause, label):
    """R3: "if miscarriage or abnormal pregnancy is caused by embryonic chromosomal abnormalities, or
    underlying issues such as uterine polyps, intrauterine adhesions, or infections, progesterone cannot
    address the root cause." The advice names the cause to evaluate and manage."""
    a = assess(causes={cause: True})
    assert (a.status, a.rules) == ("not_recommended", ["R3"])
    assert evidence_text(fired(a, "R3")["evidence"]).startswith(f"{label}: present")
    assert any(adv.endswith(f"evaluate and manage the identified cause: {label}.") for adv in a.advice)
    assert label not in a.unassessed_causes


def test_R3_known_absent_cause_does_not_fire(assess):
    """R3 fires only on recorded causes; a cause recorded false is known absent, an omitted one unassessed."""
    a = assess(causes={"uterine_polyp": False})
    assert a.rules == [] and a.status == "not_indicated"
    assert "uterine polyp" not in a.unassessed_causes
    assert "infection" not in a.unassessed_causes and "genital tract infection" in a.unassessed_causes


@pytest.mark.parametrize(
    "patient",
    [
        {"ultrasound": "demise"},
        {"miscarriage": "inevitable"},
        {"miscarriage": "incomplete"},
        {"miscarriage": "complete"},
    ],
    ids=["demise", "inevitable", "incomplete", "complete"],
)
def test_R4_demise_or_inevitable_miscarriage_contraindicated(assess, patient):
    """R4: "In cases where embryonic demise or inevitable miscarriage has already occurred, using
    progesterone is not only ineffective but may also delay appropriate management." """
    a = assess(**patient)
    assert (a.status, a.rules) == ("contraindicated", ["R4"])
    r4 = fired(a, "R4")
    assert any("delay appropriate management" in s for s in r4["sentences"])
    assert r4["evidence"], "R4 must cite the record of demise or miscarriage"
    assert any("do not delay it with progesterone" in adv for adv in a.advice)


def test_R5_self_medication_flag_whatever_the_status(assess):
    """R5: "Pregnant women experiencing any discomfort should first seek medical evaluation to determine
    the underlying cause and avoid self-medicating with progesterone." """
    for patient, status in (
        ({}, "not_indicated"),
        ({"miscarriage": "inevitable"}, "contraindicated"),
        ({"conception": "art"}, "indicated"),
    ):
        a = assess(progesterone_use={"supervised": False}, **patient)
        assert a.status == status
        assert "self_medication" in a.flags
        assert "without medical supervision" in evidence_text(fired(a, "R5")["evidence"])


def test_R5_supervised_or_unknown_supervision_is_not_self_medication(assess):
    """R5 needs recorded self-medication: supervised, or supervision not recorded, raises no flag."""
    assert "self_medication" not in assess(progesterone_use={"supervised": True}).flags
    assert "self_medication" not in assess(progesterone_use={}).flags


def test_R6_monitor_when_indicated_or_on_progesterone(assess):
    """R6: "During progesterone treatment, regular follow-up tests for progesterone levels and fetal
    development should be conducted as directed by a physician." """
    assert assess(conception="art").flags == ["monitor"]
    assert assess(progesterone_use={"supervised": True}).flags == ["monitor"]
    assert assess(vaginal_bleeding="light", progesterone_use={"supervised": True}).flags == ["monitor"]
    assert "monitor" not in assess(miscarriage="complete", progesterone_use={"supervised": True}).flags
    assert "monitor" not in assess(causes={"infection": True}, progesterone_use={"supervised": True}).flags
    assert assess().flags == []


@pytest.mark.parametrize("course,escalate", [("worsening", True), ("unchanged", True), ("improving", False)])
def test_R7_escalation(assess, course, escalate):
    """R7: "If symptoms do not improve or worsen, prompt communication with the doctor is essential to
    adjust the treatment plan and ensure the safety of both mother and baby." """
    a = assess(progesterone_use={"supervised": True, "symptom_course": course})
    assert ("escalate" in a.flags) is escalate


def test_R7_needs_progesterone_in_use(assess):
    """R7 is about treatment: without progesterone use there is no symptom course to escalate."""
    a = assess(vaginal_bleeding="light")
    assert "escalate" not in a.flags


def test_R8_review_treatment(assess):
    """R8 follows from R3/R4: "Therefore, progesterone is not recommended for maintaining pregnancy in
    these situations." Progesterone in use while contraindicated or not recommended."""
    assert assess(ultrasound="demise", progesterone_use={"supervised": True}).flags == ["review_treatment"]
    assert assess(causes={"uterine_polyp": True}, progesterone_use={"supervised": True}).flags == ["review_treatment"]
    assert "review_treatment" not in assess(conception="art", progesterone_use={"supervised": True}).flags
    assert "review_treatment" not in assess(ultrasound="demise").flags


@pytest.mark.parametrize(
    "patient", [{"vaginal_bleeding": "heavy"}, {"abdominal_pain": "severe"}], ids=["heavy-bleeding", "severe-pain"]
)
def test_E1_urgent_evaluation_extension(assess, patient):
    """E1 (EXTENSION, safety-first): heavy bleeding or severe pain does not satisfy C2 and raises
    urgent_evaluation ("seek medical evaluation", "consult a healthcare provider early")."""
    a = assess(**patient)
    assert a.flags == ["urgent_evaluation"]
    e1 = fired(a, "E1")
    assert e1["extension"] is True
    assert any("EXTENSION" in line for line in a.explanation_lines())
    assert a.criteria["C2"]["state"] == "unknown"


def test_E1_not_raised_by_light_or_mild(assess):
    """E1 is only for heavy bleeding or severe pain."""
    assert assess(vaginal_bleeding="light", abdominal_pain="mild").flags == []


def test_precedence_all_fired_rules_are_reported(assess):
    """Section 1: "All rules that fired are reported, not only the winner (e.g. demise + ART reports R4 and
    R2; status contraindicated)." """
    a = assess(conception="art", ultrasound="demise")
    assert (a.status, a.rules) == ("contraindicated", ["R2", "R4"])


def test_general_advice_always_given(assess):
    """Section 2: "Every assessment carries the general advice: If there are concerns, it is recommended
    to consult a healthcare provider early." """
    for patient in ({}, {"conception": "art"}, {"miscarriage": "inevitable"}):
        assert (
            "If there are concerns, it is recommended to consult a healthcare provider early."
            in assess(**patient).advice
        )


def test_unknown_is_not_absent(assess):
    """Section 3: "Missing data is unknown, never not_met." An empty record leaves every criterion unknown."""
    a = assess()
    assert {c: v["state"] for c, v in a.criteria.items()} == {"C1": "unknown", "C2": "unknown", "C3": "unknown"}
    assert a.missing == [] and a.status == "not_indicated"
    assert len(a.unassessed_causes) == 5


def test_units_both_ways_agree(assess_fast):
    """Section 4: "ng/mL and nmol/L must both work (1 ng/mL = 3.18 nmol/L)": the same results in either
    unit give the same criterion state."""
    for value, unit, low in ((6.0, "ng/mL", 10), (19.08, "nmol/L", 31.8)):
        a = assess_fast(
            gestational_age_weeks=7,
            progesterone=[{"value": value, "unit": unit, "reference_low": low}],
            vaginal_bleeding="light",
            ultrasound="normal",
        )
        assert a.criteria["C1"]["state"] == "met"
    for value, unit in ((10.0, "ng/mL"), (31.8, "nmol/L")):
        a = assess_fast(
            gestational_age_weeks=7,
            progesterone=[{"value": value, "unit": unit}],
            vaginal_bleeding="light",
            ultrasound="normal",
        )
        assert a.criteria["C1"]["state"] == "not_met", (value, unit)


def test_default_table_is_cited(assess_fast):
    """Section 4 step 3: "the value against the package's default reference table by gestational week
    (data in the ontology or a data file, with its source cited)"."""
    a = assess_fast(gestational_age_weeks=8, progesterone=[{"value": 8, "unit": "ng/mL"}])
    decided = " ".join(a.criteria["C1"]["decided_by"])
    assert "default reference table" in decided and "Davis" in decided and "first trimester" in decided


@pytest.fixture(scope="module")
def lek_table(tmp_path_factory):
    """A user's reference table (one file for both engines: its knowledge base is built once, then cached)."""
    table = tmp_path_factory.mktemp("table") / "lek.ttl"
    table.write_text(
        """
@prefix prg: <https://w3id.org/kg-reasoner/ontology/progesterone#> .
@prefix kgr: <https://w3id.org/kg-reasoner/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
prg:Lek2017 a kgr:ReferenceRange ; rdfs:label "threatened miscarriage 6-10 weeks: 35 nmol/L" ;
    kgr:forMeasurementClass prg:SerumProgesteroneMeasurement ;
    kgr:minGestationalWeek 6.0 ; kgr:maxGestationalWeekExclusive 11.0 ;
    kgr:lowerLimit 35.0 ; kgr:unit kgr:NanomolePerLiter .
""",
        encoding="utf-8",
    )
    return table


@pytest.mark.parametrize("engine", ["fast", pytest.param("reference", marks=pytest.mark.slow)])
def test_user_reference_table_replaces_default(lek_table, engine):
    """Section 4: "users can supply their own table"."""
    from kg_reasoner import Reasoner

    table = lek_table
    patient = {
        "id": "L",
        "gestational_age_weeks": 8,
        "progesterone": [{"value": 33, "unit": "nmol/L"}],
        "vaginal_bleeding": "light",
        "ultrasound": "normal",
    }
    assert Reasoner(engine=engine).assess(patient).criteria["C1"]["state"] == "not_met"  # 33 >= 31.8 (Davis)
    a = Reasoner(reference_table=table, engine=engine).assess(patient)
    assert a.criteria["C1"]["state"] == "met" and a.status == "indicated"  # 33 < 35 (user table)
    assert "35 nmol/L" in " ".join(a.criteria["C1"]["decided_by"])
    patient["gestational_age_weeks"] = 12  # outside the user's table: unknown, the default is not used
    assert Reasoner(reference_table=table, engine=engine).assess(patient).criteria["C1"]["state"] == "unknown"


def test_serial_results_explain_the_superseded_one(assess_fast):
    """Section 4: "With several results the latest by time decides"; the earlier result is named too."""
    a = assess_fast(
        progesterone=[
            {"value": 22, "unit": "ng/mL", "reference_low": 10, "time": "2026-11-18T08:00:00Z"},
            {"value": 5, "unit": "ng/mL", "reference_low": 10, "time": "2026-11-10T08:00:00Z"},
        ],
        vaginal_bleeding="light",
        ultrasound="normal",
    )
    assert a.criteria["C1"]["state"] == "not_met"
    assert "22.0 ng/mL" in evidence_text(a.criteria["C1"]["evidence"])
    assert len(a.superseded_results) == 1 and "5.0 ng/mL" in a.superseded_results[0]


def test_interpretation_only_result(assess):
    """Section 4 step 1: the result's own interpretation decides, so a result reported only as 'low'
    (no value) decides C1."""
    a = assess(progesterone=[{"interpretation": "low"}], vaginal_bleeding="light", ultrasound="normal")
    assert (a.status, a.rules) == ("indicated", ["R1"])
    assert any("the result's own interpretation" in d for d in a.criteria["C1"]["decided_by"])


def test_ignored_result_is_explained(assess_fast):
    """Section 4: "results marked entered-in-error or cancelled are ignored"."""
    a = assess_fast(progesterone=[{"value": 5, "unit": "ng/mL", "reference_low": 10, "status": "entered-in-error"}])
    assert a.criteria["C1"]["state"] == "unknown"
    assert len(a.ignored_results) == 1 and "entered in error" in a.ignored_results[0]


@pytest.mark.parametrize(
    "patient,needs",
    [
        ({"progesterone": [{"value": 5, "unit": "ng/mL"}]}, "the gestational age"),
        (
            {"gestational_age_weeks": 20, "progesterone": [{"value": 5, "unit": "ng/mL"}]},
            "a reference range for gestational week 20 ",
        ),
        (
            {
                "progesterone": [
                    {"value": 5, "unit": "ng/mL", "reference_low": 10},
                    {"value": 25, "unit": "ng/mL", "reference_low": 10},
                ]
            },
            "one latest serum progesterone result: the latest",
        ),
        ({"progesterone": [{"value": 5, "unit": "ng/mL", "status": "cancelled"}]}, "a valid serum progesterone result"),
        ({}, "a valid serum progesterone result"),
    ],
    ids=["no-gestational-age", "week-outside-table", "latest-disagree", "only-cancelled", "no-result"],
)
def test_C1_unknown_names_what_is_needed(assess, patient, needs):
    """Section 4 step 4: "otherwise C1 is unknown and missing names what is needed"."""
    a = assess(vaginal_bleeding="light", ultrasound="normal", **patient)
    assert a.missing == ["C1"] and a.status == "insufficient_data"
    assert a.missing_details[0]["needs"].startswith(needs)
    assert a.criteria["C1"]["needs"].startswith(needs)


def test_advice_follows_the_decision(assess):
    """decision-spec section 2, 'Advice follows the decision': an ART pregnancy with embryonic demise is
    contraindicated (R4); R2 is still reported, marked outranked by R4, and its 'may help' advice is not
    given. Text, JSON and card say which rule decided."""
    a = assess(conception="art", ultrasound="demise")
    assert a.status == "contraindicated" and a.rules == ["R2", "R4"] and a.decided_by == ["R4"]
    assert not any("may help" in adv for adv in a.advice)
    assert any("do not delay it with progesterone" in adv for adv in a.advice)
    r2 = next(r for r in a.to_dict()["fired_rules"] if r["id"] == "R2")
    assert r2["outranked_by"] == ["R4"] and a.to_dict()["decided_by"] == ["R4"]
    text = a.to_text()
    assert "decided by R4" in text and "outranked by R4" in text
    assert "outranked by R4" in a._repr_html_()
    alone = assess(conception="art")
    assert alone.decided_by == ["R2"] and any("may help" in adv for adv in alone.advice)


def test_C1_unknown_when_a_latest_result_cannot_be_judged(assess):
    """Section 4 and "unknown is not absent": two results tie for latest; one is judged low, the other has no
    reference range to be judged by (no gestational age). It may be normal, so C1 stays unknown and the
    gestational age is asked for; it is never dropped so that the other decides (found by the property-based
    agreement tests: the status was `indicated`)."""
    a = assess(
        progesterone=[{"interpretation": "low"}, {"value": 50, "unit": "ng/mL"}],
        vaginal_bleeding="light",
        ultrasound="normal",
    )
    assert a.criteria["C1"]["state"] == "unknown"
    assert a.status == "insufficient_data" and a.missing == ["C1"]
    assert "gestational age" in a.missing_details[0]["needs"]
