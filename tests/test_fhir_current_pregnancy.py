"""One assessment is about the current pregnancy (decision-spec sections 1 and 3). Stop 41: a FHIR record with
nothing that shows she is pregnant now came out as if she were. A fertility clinic's bulk export holds the male
partner too: his record of an assisted fertilization (SNOMED CT 63487001, as the HL7 Birth and Fetal Death
Report IG codes it) was `indicated` by R2, "progesterone may help maintain the pregnancy", nothing said. What
shows a pregnancy is declared by the guidance (kgr:showsAPregnancy in ontology/progesterone.ttl); without it,
rule E2 keeps the status from being indicated (kgr:PregnancyNotShownRecord) and the explanation names what
would show it."""

from __future__ import annotations

import pytest
from rdflib.namespace import RDF
from test_aspirin_guidance import ASPIRIN
from test_fhir_real_world import (
    BLEEDING,
    GA,
    ICD10,
    ICD10CM,
    LOINC,
    LOW,
    NORMAL_US,
    SCT,
    bundle,
    cc,
    condition,
    obs,
    qty,
)

from kg_reasoner import Reasoner
from kg_reasoner.namespaces import KGR

#: an assisted fertilization of this month, as the BFDR IG codes the procedure
ART = {
    "resourceType": "Procedure",
    "id": "art",
    "status": "completed",
    "subject": {"reference": "Patient/F"},
    "code": cc(SCT, "63487001", "Assisted fertilization"),
    "performedDateTime": "2026-11-01",
}
NOT_SHOWN = "no record shows that she is pregnant now"
#: HL7 v2 table 0136, the yes/no indicator, as a v2-to-FHIR conversion writes an Observation's value
V2_YES_NO = "http://terminology.hl7.org/CodeSystem/v2-0136"


def outcome(a) -> tuple:
    return a.status, a.rules


def assert_withheld(a, record: str, withheld: bool) -> None:
    """Withheld: insufficient_data, the record listed as missing; else indicated with nothing missing."""
    if withheld:
        assert a.status == "insufficient_data" and record in a.missing, a.data_problems
    else:
        assert a.status == "indicated" and not a.missing, a.data_problems


def not_shown(a) -> bool:
    """Whether her outcome says that no record shows a current pregnancy (a data problem naming her Patient
    resource, and the record listed as missing data)."""
    said = any(p["record"] == "Patient/F" and NOT_SHOWN in p["message"] for p in a.data_problems)
    listed = "Patient/F" in a.missing
    assert said == listed, (a.data_problems, a.missing)
    return said


def test_a_man_with_an_assisted_fertilization_is_not_indicated(reasoner):
    """The male partner's record in a fertility clinic's export: nothing shows a pregnancy."""
    man = bundle(ART)
    man["entry"][0]["resource"].update(gender="male", birthDate="1985-02-03")
    a = reasoner.assess(man)
    assert outcome(a) == ("insufficient_data", ["E2", "R2"]), a.data_problems
    assert not_shown(a)
    assert not any("may help" in advice for advice in a.advice)
    assert any(a.asserted.subjects(RDF.type, KGR.PregnancyNotShownRecord))


@pytest.mark.parametrize(
    "shows",
    [
        GA,
        obs(cc(LOINC, "11778-8"), "edd", valueDateTime="2027-07-02", effectiveDateTime="2026-11-20"),
        condition("preg", (SCT, "77386006"), onsetDateTime="2026-10-01"),
        condition("preg", (SCT, "72892002"), onsetDateTime="2026-10-01"),
        obs(cc(LOINC, "82810-3"), "ps", valueCodeableConcept=cc(LOINC, "LA15173-0"), effectiveDateTime="2026-11-20"),
        obs(cc(LOINC, "2106-3"), "hcg", valueCodeableConcept=cc(LOINC, "LA6576-8"), effectiveDateTime="2026-11-15"),
        obs(cc(LOINC, "2106-3"), "hcg", valueCodeableConcept=cc(SCT, "10828004"), effectiveDateTime="2026-11-15"),
        NORMAL_US,
        condition("tm", (ICD10CM, "O20.0"), onsetDateTime="2026-11-19"),
        condition("spot", (ICD10CM, "O26.851"), onsetDateTime="2026-11-19"),
        condition("art-icd", (ICD10CM, "O09.811"), onsetDateTime="2026-11-10"),
        condition("z", (ICD10CM, "Z34.01"), recordedDate="2026-11-20"),
        condition("z", (ICD10CM, "Z33.1"), recordedDate="2026-11-20"),
        condition("z", (ICD10CM, "Z3A.08"), recordedDate="2026-11-20"),
        obs(cc(LOINC, "55283-6"), "fhr", valueQuantity=qty(150, "/min"), effectiveDateTime="2026-11-20"),
        obs(cc(LOINC, "2106-3"), "hcg", valueCodeableConcept=cc(LOINC, "LA6576-8"), effectiveDateTime="2026-03-07"),
        condition("z", (ICD10, "Z34.0"), recordedDate="2026-11-20"),
        condition("z", (ICD10, "Z35.2"), recordedDate="2026-11-20"),
        condition("z", (ICD10CM, "Z32.01"), recordedDate="2026-11-20"),
        obs(cc(LOINC, "21198-7"), "bhcg", valueQuantity=qty(1520, "m[IU]/mL"), effectiveDateTime="2026-11-20"),
        obs(cc(LOINC, "19080-1"), "hcg", valueQuantity=qty(25, "[IU]/L"), effectiveDateTime="2026-11-20"),
        obs(cc(LOINC, "2106-3"), "hcg", valueString="POSITIVE", effectiveDateTime="2026-11-20"),
        obs(cc(LOINC, "11449-6"), "ps", valueCodeableConcept=cc(LOINC, "LA15173-0"), effectiveDateTime="2026-11-20"),
        obs(cc(LOINC, "82810-3"), "ps", valueCodeableConcept=cc(V2_YES_NO, "Y"), effectiveDateTime="2026-11-20"),
        {
            "resourceType": "Encounter",
            "id": "visit",
            "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "subject": {"reference": "Patient/F"},
            "period": {"start": "2026-11-20T09:00:00Z", "end": "2026-11-20T09:30:00Z"},
            "reasonCode": [cc(ICD10CM, "O09.811")],
        },
    ],
    ids=[
        "gestational-age",
        "delivery-date",
        "pregnancy-condition",
        "normal-pregnancy-undated",
        "pregnancy-status-pregnant",
        "positive-hcg-loinc-answer",
        "positive-hcg-snomed",
        "obstetric-ultrasound",
        "threatened-abortion-icd",
        "spotting-in-pregnancy-icd",
        "art-pregnancy-supervision-icd",
        "z34-supervision-of-normal-pregnancy",
        "z33.1-pregnant-state",
        "z3a.08-weeks-of-gestation",
        "fetal-heart-rate-150",
        "positive-hcg-39-weeks-ago",
        "who-z34-supervision-of-normal-pregnancy",
        "who-z35-high-risk-pregnancy",
        "z32.01-pregnancy-test-positive",
        "beta-hcg-1520",
        "hcg-25-iu-per-litre",
        "hcg-positive-as-a-string",
        "pregnancy-status-reported-11449-6",
        "pregnancy-status-v2-0136-yes",
        "encounter-for-an-art-pregnancy",
    ],
)
def test_a_record_that_shows_a_pregnancy_lets_the_decision_stand(reasoner, shows):
    a = reasoner.assess(bundle(ART, shows))
    assert a.status == "indicated" and "E2" not in a.rules, a.data_problems
    assert not not_shown(a)


@pytest.mark.parametrize(
    "record",
    [
        obs(cc(LOINC, "82810-3"), "ps", valueCodeableConcept=cc(LOINC, "LA4489-6"), effectiveDateTime="2026-11-20"),
        obs(cc(LOINC, "2106-3"), "hcg", effectiveDateTime="2026-11-15"),
        condition("preg", (SCT, "77386006"), onsetDateTime="2019-03-01"),
        condition("tm", (ICD10CM, "O20.0"), onsetDateTime="2019-03-01"),
        obs(cc(LOINC, "82810-3"), "ps", valueCodeableConcept=cc(LOINC, "LA15173-0"), effectiveDateTime="2025-01-10"),
        condition("preg", (SCT, "77386006"), verification="refuted"),
        LOW,
        BLEEDING,
        condition("preg", (SCT, "72892002")),
        condition("art-icd", (ICD10CM, "O09.811")),
        dict(condition("preg", (SCT, "77386006")), meta={"lastUpdated": "2026-11-28T09:00:00Z"}),
        dict(condition("preg", (SCT, "77386006"), onsetString="March 2019"), meta={"lastUpdated": "2026-11-28"}),
        condition("preg", (SCT, "77386006"), clinical="resolved", abatementDateTime="2027-06-01"),
        condition("preg", (SCT, "77386006"), onsetDateTime="2026-03-01", abatementPeriod={"start": "2026-11-20"}),
        condition("preg", (SCT, "77386006"), onsetDateTime="2026-03-01", abatementDateTime="2026-11-31"),
        dict(condition("preg", (SCT, "77386006"), onsetDateTime="2026-10-01"), clinicalStatus={"text": "Resolved"}),
        obs(cc(LOINC, "2106-3"), "hcg", valueCodeableConcept=cc(LOINC, "LA6576-8"), effectiveDateTime="2026"),
        condition("art-icd", (ICD10CM, "O09.811"), clinical="resolved", abatementDateTime="2027-06-01"),
        obs(
            cc(LOINC, "2106-3"),
            "hcg",
            valueCodeableConcept=cc(LOINC, "LA6576-8"),
            effectivePeriod={"end": "2019-03-01"},
            issued="2026-11-20T09:00:00Z",
        ),
        obs(
            cc(LOINC, "2106-3"),
            "hcg",
            status="preliminary",
            valueCodeableConcept=cc(LOINC, "LA6576-8"),
            effectiveDateTime="2026-11-20",
        ),
        condition("art-icd", (ICD10CM, "O09.811"), clinical="resolved", onsetDateTime="2026-03-01"),
        condition("art-icd", (ICD10CM, "O09.811"), onsetDateTime="2026-03-01", abatementDateTime="2026-11-20"),
        condition("preg", (SCT, "77386006"), onsetDateTime="2026-03-01", abatementDateTime="2026-11-20"),
        condition("preg", (SCT, "77386006"), onsetDateTime="2026-03-01", abatementString="delivered"),
        condition("preg", (SCT, "77386006"), onsetDateTime="2027-06-01"),
        obs(cc(LOINC, "2106-3"), "hcg", valueCodeableConcept=cc(LOINC, "LA6576-8"), effectiveDateTime="2026-02-20"),
        obs(
            cc(LOINC, "2106-3"),
            "hcg",
            valueCodeableConcept=cc(LOINC, "LA6576-8"),
            effectiveDateTime="2026-11-20",
            focus=[{"reference": "RelatedPerson/carrier"}],
        ),
        obs(cc(LOINC, "21198-7"), "bhcg", valueQuantity=qty(12, "m[IU]/mL"), effectiveDateTime="2026-11-20"),
        obs(cc(LOINC, "21198-7"), "bhcg", valueQuantity=qty(1520, "ng/mL"), effectiveDateTime="2026-11-20"),
        obs(
            cc(LOINC, "21198-7"),
            "bhcg",
            valueQuantity=dict(qty(5, "m[IU]/mL"), comparator="<"),
            effectiveDateTime="2026-11-20",
        ),
        obs(cc(LOINC, "2106-3"), "hcg", valueString="Equivocal, repeat in 48 h", effectiveDateTime="2026-11-20"),
    ],
    ids=[
        "pregnancy-status-unknown",
        "pregnancy-test-without-a-value",
        "pregnancy-condition-of-2019",
        "threatened-abortion-of-2019",
        "pregnant-in-january-2025",
        "pregnancy-refuted",
        "a-progesterone-level",
        "a-bleeding-not-coded-as-of-pregnancy",
        "normal-pregnancy-undated",
        "art-pregnancy-supervision-undated",
        "undated-pregnancy-updated-by-a-migration",
        "pregnancy-dated-by-a-string-updated-by-a-migration",
        "pregnancy-resolved-with-an-end-to-come",
        "pregnancy-abated-by-a-period-with-only-a-start",
        "pregnancy-abated-on-a-day-that-is-not",
        "pregnancy-of-a-status-no-hl7-code-says",
        "positive-hcg-of-2026-any-month",
        "art-pregnancy-resolved-with-an-end-to-come",
        "positive-hcg-of-a-period-that-ended-in-2019-reported-lately",
        "positive-hcg-preliminary",
        "art-pregnancy-resolved",
        "art-pregnancy-abated-two-weeks-ago",
        "pregnancy-active-but-abated",
        "pregnancy-abated-delivered",
        "pregnancy-onset-in-the-future",
        "positive-hcg-41-weeks-ago",
        "positive-hcg-of-a-gestational-carrier",
        "beta-hcg-12-indeterminate",
        "beta-hcg-in-another-unit",
        "beta-hcg-below-5",
        "hcg-equivocal-as-a-string",
    ],
)
def test_a_record_that_does_not_show_a_current_pregnancy_withholds_indicated(reasoner, record):
    """(The second review of stop 41 found the resolved pregnancy with an end to come, the abatements, the
    status in words and meta.lastUpdated dating old records indicated.) An unknown or valueless answer, a
    pregnancy of more than 40 weeks before the assessment (the longest a
    pregnancy lasts less the four weeks before a record can show one, kgr:showsAPregnancyForWeeks), a record not
    known to be that recent (no time, whenever it was last updated: a server migration touches them all; a time
    that cannot be read; "2026", which may be January; in the future), preliminary, a refuted one, one that is over
    (resolved, abated: the review of stop 41 found a resolved O09.811 kept indicated), a positive test of a
    gestational carrier (its focus), a result or symptom any woman may have."""
    a = reasoner.assess(bundle(ART, record))
    assert a.status == "insufficient_data" and "E2" in a.rules, a.data_problems
    assert not_shown(a)


def test_a_contraindication_still_decides_and_is_itself_a_pregnancy(reasoner):
    """A loss shows a pregnancy (lately): contraindicated, nothing more said; a cause progesterone cannot address
    that any woman may have (a uterine polyp) decides not_recommended, and the missing pregnancy is named."""
    loss = condition("loss", (SCT, "17369002"), onsetDateTime="2026-11-19")
    a = reasoner.assess(bundle(ART, loss))
    assert outcome(a) == ("contraindicated", ["R2", "R4"]) and not not_shown(a)
    polyp = condition("polyp", (ICD10CM, "N84.0"), onsetDateTime="2026-11-19")
    b = reasoner.assess(bundle(ART, polyp))
    assert b.status == "not_recommended" and "R3" in b.rules and "E2" in b.rules and not_shown(b)


def test_a_record_with_nothing_in_it_is_assessed_and_says_so(reasoner):
    """A bare Patient (a child, a man, anyone of a bulk export): assessed, the missing pregnancy named."""
    a = reasoner.assess(bundle())
    assert outcome(a) == ("insufficient_data", ["E2"]) and not_shown(a)


def test_the_dating_alone_decides_however_old_the_records(reasoner):
    """A gestational age dates this pregnancy: nothing else is needed (a stale one is E2 of its own)."""
    a = reasoner.assess(bundle(ART, GA, LOW))
    assert a.status == "indicated" and not not_shown(a)


def test_as_of_an_earlier_time_a_pregnancy_of_then_shows(reasoner):
    """A pregnancy status of January 2025 shows a pregnancy as of February 2025, not as of today."""
    status = obs(
        cc(LOINC, "82810-3"), "ps", valueCodeableConcept=cc(LOINC, "LA15173-0"), effectiveDateTime="2025-01-10"
    )
    art = dict(ART, performedDateTime="2024-12-20")
    then = Reasoner(as_of="2025-02-01").assess(bundle(art, status))
    assert then.status == "indicated" and not not_shown(then), then.data_problems
    now = reasoner.assess(bundle(art, status))
    assert now.status == "insufficient_data" and not_shown(now)


def test_a_patient_summary_describes_one_pregnancy_and_is_not_checked(reasoner):
    """decision-spec section 6: the summary is of one pregnancy; its facts need no record of it."""
    a = reasoner.assess({"id": "S", "conception": "art"})
    assert outcome(a) == ("indicated", ["R2"])


def test_a_guidance_that_declares_nothing_that_shows_a_pregnancy_is_not_checked(reasoner):
    """The reader checks only what the guidance declares (kgr:showsAPregnancy, ontology/progesterone.ttl): the
    test guidance module of aspirin declares nothing, and its bare patient is assessed as before."""
    assert reasoner.fhir.pregnancy_classes and KGR.PregnancyNotShownRecord not in reasoner.fhir.pregnancy_classes
    assert "http://hl7.org/fhir/sid/icd-10-cm" in reasoner.fhir.pregnancy_codes
    aspirin = Reasoner(guidance=ASPIRIN)
    assert not aspirin.fhir.pregnancy_classes and not aspirin.fhir.pregnancy_codes
    a = aspirin.assess(bundle())
    assert not not_shown(a) and "E2" not in a.rules


def test_a_z33_code_written_under_the_who_system_is_not_a_pregnancy(reasoner):
    """WHO ICD-10 has Z33 only: a Z33.2 (ICD-10-CM's elective termination) under the WHO system is not read as the
    WHO pregnant state (the second review of stop 41: it came out indicated), and stays a record not understood."""
    termination = condition("z", (ICD10, "Z33.2"), recordedDate="2026-11-20")
    termination["code"]["coding"][0]["display"] = "Encounter for elective termination of pregnancy"
    a = reasoner.assess(bundle(ART, GA, termination))
    assert a.status == "insufficient_data" and "E2" in a.rules, a.data_problems
    b = reasoner.assess(bundle(ART, condition("z", (ICD10, "Z33"), recordedDate="2026-11-20")))
    assert b.status == "indicated", b.data_problems


def test_a_condition_resolved_with_an_end_to_come_is_read_as_current_and_named(reasoner):
    """Resolved, its status says, but at a time to come: the two disagree. Read as current (a cause still decides:
    not_recommended, the third review of stop 41), and a record not understood beside it, listed as missing data
    (E2); a pregnancy so recorded shows none; a loss stays a loss."""
    polyp = condition("polyp", (ICD10CM, "N84.0"), clinical="resolved", abatementDateTime="2027-06-01")
    a = reasoner.assess(bundle(ART, GA, polyp))
    assert a.status == "not_recommended" and {"E2", "R3"} <= set(a.rules), a.data_problems
    assert "Condition/polyp" in a.missing
    loss = condition("loss", (SCT, "17369002"), clinical="resolved", abatementDateTime="2027-06-01")
    assert reasoner.assess(bundle(ART, GA, loss)).status == "contraindicated"
    # (an end in a period that begins later, with no end of its own: the fourth review found the cause lost)
    polyp = condition("polyp", (ICD10CM, "N84.0"), clinical="resolved", abatementPeriod={"start": "2027-01-15"})
    b = reasoner.assess(bundle(ART, GA, polyp))
    assert b.status == "not_recommended" and {"E2", "R3"} <= set(b.rules), b.data_problems
    no_status = _without_status(dict(polyp, clinicalStatus=None))
    c = reasoner.assess(bundle(ART, GA, no_status))
    assert c.status == "not_recommended" and {"E2", "R3"} <= set(c.rules), c.data_problems


def _without_status(record: dict) -> dict:
    """A condition with no clinicalStatus (valid R4: it is required only on a problem-list item, con-3)."""
    return {k: v for k, v in record.items() if k != "clinicalStatus"}


PREGNANCY_ENDED_IN_THIS_ONE = [
    _without_status(condition("preg", (SCT, "77386006"), onsetDateTime="2026-10-01", abatementDateTime="2026-11-28")),
    condition("preg", (SCT, "77386006"), onsetDateTime="2026-10-01", abatementString="miscarried 2026-11-28"),
    condition("preg", (SCT, "77386006"), onsetDateTime="2026-10-01", abatementBoolean=True),
    dict(condition("preg", (SCT, "77386006"), onsetDateTime="2026-10-01"), clinicalStatus={"text": "Resolved"}),
    dict(
        condition("preg", (SCT, "77386006"), onsetDateTime="2026-10-01"),
        clinicalStatus={"coding": [{"system": "http://ehr.example/status", "code": "RES", "display": "Resolved"}]},
    ),
]


@pytest.mark.parametrize(
    "record",
    PREGNANCY_ENDED_IN_THIS_ONE,
    ids=["abated-no-status", "active-abated-in-words", "active-abated-true", "status-in-words", "status-local-code"],
)
def test_a_pregnancy_that_abated_or_whose_status_cannot_be_read_withholds_indicated(reasoner, record):
    """FHIR R4 con-4: an abated condition is not active. A pregnancy abated in this one with no status is over (an
    ended pregnancy, E2); one marked active but abated, or whose status is no HL7 code, cannot be told (E2, named).
    The third review of stop 41 found each indicated with nothing said."""
    a = reasoner.assess(bundle(ART, GA, LOW, BLEEDING, NORMAL_US, record))
    assert a.status == "insufficient_data" and "E2" in a.rules and "Condition/preg" in a.missing, a.data_problems


def test_an_hcg_level_below_5_after_a_positive_one_says_she_is_not_pregnant(reasoner):
    """The third review of stop 41: 150 then 3 mIU/mL was indicated (the first level alone showed a pregnancy)."""
    first = obs(cc(LOINC, "21198-7"), "h1", valueQuantity=qty(150, "m[IU]/mL"), effectiveDateTime="2026-11-14")
    then = obs(cc(LOINC, "21198-7"), "h2", valueQuantity=qty(3, "m[IU]/mL"), effectiveDateTime="2026-11-28")
    a = reasoner.assess(bundle(ART, first, then))
    assert a.status == "insufficient_data" and "E2" in a.rules and "Observation/h2" in a.missing, a.data_problems


def test_a_string_that_is_not_only_a_word_of_presence_shows_nothing(reasoner):
    for text in ("Positive (control); patient negative", "POSITIVE (internal control only) - patient NEGATIVE"):
        test = obs(cc(LOINC, "2106-3"), "hcg", valueString=text, effectiveDateTime="2026-11-20")
        a = reasoner.assess(bundle(ART, test))
        assert a.status == "insufficient_data" and not_shown(a), text


def test_as_of_a_time_within_the_period_a_pregnancy_ended_in_it_cannot_be_told(reasoner):
    """Resolved within 2026-11-29 to 2026-12-02, assessed as of 2026-11-30: it may have ended before (E2)."""
    ended = condition(
        "preg",
        (SCT, "77386006"),
        clinical="resolved",
        onsetDateTime="2026-10-01",
        abatementPeriod={"start": "2026-11-29", "end": "2026-12-02"},
    )
    a = Reasoner(as_of="2026-11-30").assess(bundle(ART, GA, LOW, BLEEDING, NORMAL_US, ended))
    assert a.status == "insufficient_data" and "Condition/preg" in a.missing, a.data_problems


def test_a_symptom_answered_yes_in_a_local_code_keeps_its_severity(reasoner):
    """A word of presence is read only for a pregnancy test: a bleeding whose value is Severe with a local "Yes"
    coding keeps its urgent_evaluation flag (the third review of stop 41 found it lost)."""
    value = {
        "coding": [
            {"system": "http://snomed.info/sct", "code": "24484000", "display": "Severe"},
            {"system": "http://ehr.example/answers", "code": "Y", "display": "Yes"},
        ]
    }
    bleeding = obs(cc(SCT, "289530006"), "bleed", valueCodeableConcept=value, effectiveDateTime="2026-11-20")
    a = reasoner.assess(bundle(GA, LOW, NORMAL_US, bleeding))
    assert "urgent_evaluation" in a.flags, a.data_problems


def _encounter(when: str, status: str = "finished", **codes) -> dict:
    """A visit of hers whose reason is a pregnancy code (as Synthea writes a prenatal visit, with 72892002)."""
    return {
        "resourceType": "Encounter",
        "id": "visit",
        "status": status,
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"reference": "Patient/F"},
        "period": {"start": f"{when}T09:00:00Z", "end": f"{when}T09:30:00Z"},
        **codes,
    }


def _claim(served: str, code: tuple) -> dict:
    return {
        "resourceType": "Claim",
        "id": "claim",
        "status": "active",
        "patient": {"reference": "Patient/F"},
        "created": "2026-11-30",
        "diagnosis": [{"sequence": 1, "diagnosisCodeableConcept": cc(*code)}],
        "item": [{"sequence": 1, "servicedDate": served}],
    }


@pytest.mark.parametrize(
    "record,shown",
    [
        (_encounter("2026-11-20", reasonCode=[cc(SCT, "72892002", "Normal pregnancy")]), True),
        (_encounter("2026-11-20", reasonCode=[cc(ICD10CM, "Z34.01")]), True),
        (_claim("2026-11-20", (ICD10CM, "Z34.01")), True),
        (
            {
                "resourceType": "Procedure",
                "id": "scan",
                "status": "completed",
                "subject": {"reference": "Patient/F"},
                "code": cc(SCT, "169230002", "Ultrasound scan for fetal viability"),
                "performedDateTime": "2026-11-20",
            },
            True,
        ),
        (_encounter("2026-12-20", status="planned", reasonCode=[cc(SCT, "72892002")]), False),
        (_encounter("2025-06-01", reasonCode=[cc(SCT, "72892002")]), False),
        (_claim("2025-06-01", (ICD10CM, "Z34.01")), False),
    ],
    ids=[
        "prenatal-visit-synthea",
        "visit-z34",
        "claim-z34",
        "scan-as-a-procedure",
        "planned-visit",
        "visit-of-2025",
        "claim-of-2025",
    ],
)
def test_a_record_not_read_shows_a_pregnancy_by_its_codes_and_its_time(reasoner, record, shown):
    """A record the guidance does not read (an Encounter, a Claim, a Procedure of a kind it does not weigh) whose
    codes are a pregnancy shows one, dated as such records are (a claim by its services); the second review of stop
    41 found Synthea's encounter-only exports and claims-based data E2'd."""
    a = reasoner.assess(bundle(ART, record))
    assert (a.status == "indicated") is shown and not_shown(a) is not shown, a.data_problems


def test_an_art_pregnancy_resolved_with_an_end_to_come_alone_shows_none(reasoner):
    """The fourth review of stop 41: an O09.811 (an event condition: it stays present) resolved with an abatement to
    come, and nothing else, came out indicated again after the third round's fix."""
    art = condition("art-icd", (ICD10CM, "O09.811"), clinical="resolved", abatementDateTime="2027-06-01")
    a = reasoner.assess(bundle(art))
    assert a.status == "insufficient_data" and not_shown(a), a.data_problems


def test_an_abatement_given_only_as_an_extension_is_no_end(reasoner):
    """A polyp with no clinicalStatus whose abatementDateTime is only a data-absent-reason "unknown": when it ended is
    not known, nor that it did. Read as current (R3 decides) and named (E2); with a real past abatement, resolved."""
    unknown = {
        "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}]
    }
    polyp = _without_status(condition("polyp", (ICD10CM, "N84.0"), onsetDateTime="2026-10-01"))
    a = reasoner.assess(bundle(GA, LOW, BLEEDING, NORMAL_US, dict(polyp, _abatementDateTime=unknown)))
    assert a.status == "not_recommended" and {"E2", "R3"} <= set(a.rules), a.data_problems
    b = reasoner.assess(bundle(GA, LOW, BLEEDING, NORMAL_US, dict(polyp, abatementDateTime="2026-11-01")))
    assert b.status == "indicated" and "R3" not in b.rules, b.data_problems


def _level(rid: str, when: str, **value) -> dict:
    return obs(cc(LOINC, "21198-7"), rid, effectiveDateTime=when, **value)


@pytest.mark.parametrize(
    "later,withheld",
    [
        ({"valueQuantity": qty(12, "m[IU]/mL")}, True),
        ({"valueQuantity": dict(qty(10, "m[IU]/mL"), comparator="<")}, True),
        ({"valueQuantity": qty(3, "mlU/mL")}, True),
        ({"valueString": "<5 mIU/mL"}, True),
        ({"valueQuantity": qty(900, "m[IU]/mL")}, False),
    ],
    ids=["indeterminate-12", "below-10", "a-unit-misspelt", "written-as-a-string", "rising-900"],
)
def test_a_later_hcg_level_that_cannot_be_judged_withholds_indicated(reasoner, later, withheld):
    """The fourth review of stop 41: 150 then a level the reader cannot judge (12, "<10", a unit it does not know, a
    string) was indicated: the first level alone showed a pregnancy. A later one that neither shows one nor records
    there is none may show it ending (E2, named); a rising one changes nothing."""
    first = _level("h1", "2026-11-14", valueQuantity=qty(150, "m[IU]/mL"))
    a = reasoner.assess(bundle(ART, first, _level("h2", "2026-11-28", **later)))
    assert (a.status == "insufficient_data" and "Observation/h2" in a.missing) is withheld, a.data_problems
    assert not not_shown(a)


@pytest.mark.parametrize(
    "first,then",
    [("2026-11-14", "2026-11-14T18:00:00Z"), ("2026-11", "2026-11-28")],
    ids=["same-day-finer", "month-then-day"],
)
def test_a_low_hcg_level_not_known_to_be_earlier_withholds_indicated(reasoner, first, then):
    """The fifth review of stop 41: a 12 after a 150 dated less precisely (the same day, the same month) was skipped:
    it is known to be earlier only when wholly before it."""
    a = reasoner.assess(
        bundle(
            ART,
            _level("h1", first, valueQuantity=qty(150, "m[IU]/mL")),
            _level("h2", then, valueQuantity=qty(12, "m[IU]/mL")),
        )
    )
    assert a.status == "insufficient_data" and "Observation/h2" in a.missing, a.data_problems


def test_a_report_coded_as_the_hcg_test_is_no_level(reasoner):
    """A DiagnosticReport coded 21198-7 whose result is the level: the report is no level of its own."""
    level = _level("h1", "2026-11-20", valueQuantity=qty(150, "m[IU]/mL"))
    report = {
        "resourceType": "DiagnosticReport",
        "id": "dr1",
        "status": "final",
        "subject": {"reference": "Patient/F"},
        "code": cc(LOINC, "21198-7"),
        "effectiveDateTime": "2026-11-20",
        "result": [{"reference": "Observation/h1"}],
    }
    a = reasoner.assess(bundle(ART, level, report))
    assert a.status == "indicated" and not a.missing, a.data_problems


def test_an_early_low_hcg_level_before_a_positive_one_says_nothing(reasoner):
    """Serial levels after an embryo transfer: 12 then 150 is a pregnancy beginning, indicated."""
    a = reasoner.assess(
        bundle(
            ART,
            _level("h1", "2026-11-14", valueQuantity=qty(12, "m[IU]/mL")),
            _level("h2", "2026-11-18", valueQuantity=qty(150, "m[IU]/mL")),
        )
    )
    assert a.status == "indicated" and not a.missing, a.data_problems


@pytest.mark.parametrize(
    "shown_by,level_on,withheld",
    [
        ("gestational-age", "2026-11-25", True),
        ("gestational-age", "2026-11-20T09:00:00Z", True),
        ("gestational-age", "2026-11-10", True),
        ("gestational-age", "2026-10-25", False),
        ("positive-test", "2026-11-28", True),
        ("positive-test", "2026-11-10", False),
    ],
    ids=[
        "ga-then-12",
        "ga-same-time",
        "12-before-the-ga-at-six-weeks",
        "12-at-four-weeks",
        "test-then-12",
        "12-before-the-test",
    ],
)
def test_a_low_hcg_level_after_another_record_showed_the_pregnancy_withholds_indicated(
    reasoner, shown_by, level_on, withheld
):
    """The fifth review of stop 41: an hCG of 12 at nine weeks of a pregnancy dated by a gestational age (or after a
    positive pregnancy test) was not weighed: only a level after a level that showed the pregnancy was. A level that
    neither shows a pregnancy nor says there is none may show it ending (E2, named): in a dated pregnancy from week 6
    (kgr:uninformativeBeforeWeek on prg:HcgLevel; the gestational age of 8 weeks on 2026-11-20 puts 2026-11-10 in
    week 6 and 2026-10-25 in week 4, when 12 is expected), else when not known to be earlier than every record that
    showed it."""
    twelve = _level("h1", level_on, valueQuantity=qty(12, "m[IU]/mL"))
    if shown_by == "gestational-age":
        facts = (GA, LOW, BLEEDING, NORMAL_US)
    else:
        test = obs(
            cc(LOINC, "82810-3"), "ps", valueCodeableConcept=cc(LOINC, "LA15173-0"), effectiveDateTime="2026-11-20"
        )
        facts = (ART, test)
    before = reasoner.assess(bundle(*facts))
    assert before.status == "indicated", before.data_problems
    a = reasoner.assess(bundle(*facts, twelve))
    assert_withheld(a, "Observation/h1", withheld)


@pytest.mark.parametrize(
    "text,contradicts",
    [
        ("Pregnant", False),
        ("Not pregnant", True),
        ("Patient is not pregnant.", True),
        ("Pregnancy test negative", True),
        ("Nicht schwanger", True),
    ],
    ids=["pregnant", "not-pregnant", "a-sentence", "test-negative", "german"],
)
def test_a_pregnancy_status_coded_pregnant_whose_text_says_not_pregnant_is_not_read(reasoner, text, contradicts):
    """Stop 41 left it: a pregnancy status whose value is coded LOINC LA15173-0 "Pregnant" but whose text says "Not
    pregnant" counted as showing a pregnancy, and with a gestational age came out indicated, the contradiction
    unsaid. The text of a code or coded value the guidance does not read is judged too (prg:NamesOfNotPregnant): a
    record not understood (E2), named; it shows no pregnancy."""
    value = dict(cc(LOINC, "LA15173-0", "Pregnant"), text=text)
    status = obs(cc(LOINC, "82810-3"), "ps", valueCodeableConcept=value, effectiveDateTime="2026-11-20")
    for facts in ((GA, LOW, BLEEDING, NORMAL_US), (ART,)):
        a = reasoner.assess(bundle(*facts, status))
        if not contradicts:
            assert a.status == "indicated" and not a.missing, a.data_problems
            continue
        assert a.status == "insufficient_data" and "Observation/ps" in a.missing, a.data_problems
        said = [p["message"] for p in a.data_problems if p["record"] == "Observation/ps"]
        assert any(f'says "{text.rstrip(".")}' in m or f'says "{text}' in m for m in said), said
        assert not_shown(a) is (facts == (ART,)), a.data_problems


def test_a_pregnancy_status_valued_no_in_hl7_v2_table_0136_records_she_is_not_pregnant(reasoner):
    """Stop 41 left it: a pregnancy status valued by HL7 v2 table 0136 (Y, N), as an HL7 v2 feed converted to FHIR
    writes it, was not read: Y showed no pregnancy (E2 on a real one). The table's codes are kgr:Present and
    kgr:Absent now: Y shows one, N records that she is not pregnant (E2, named), as LOINC's LA33-6 / LA32-8 do."""
    no = obs(cc(LOINC, "82810-3"), "ps", valueCodeableConcept=cc(V2_YES_NO, "N"), effectiveDateTime="2026-11-20")
    a = reasoner.assess(bundle(GA, LOW, BLEEDING, NORMAL_US, no))
    assert a.status == "insufficient_data" and "Observation/ps" in a.missing, a.data_problems


@pytest.mark.parametrize(
    "focus,counts",
    [
        ([{"reference": "Patient/F"}], True),
        ([{"reference": "Patient/F/_history/2"}], True),
        ([{"reference": "RelatedPerson/carrier"}], False),
        ([{"reference": "Patient/F"}, {"reference": "RelatedPerson/carrier"}], False),
        ([{"display": "gestational carrier"}], False),
    ],
    ids=["herself", "herself-a-version", "a-carrier", "herself-and-a-carrier", "named-only"],
)
def test_a_positive_test_whose_focus_is_herself_shows_her_pregnancy(reasoner, focus, counts):
    """Stop 41 left it: any Observation.focus was set aside, so a positive test whose focus names her own Patient
    (R4: the focus "when it is not the patient of record"; some systems fill it with her anyway) showed no
    pregnancy (E2 on a real one). A focus that names only her is hers; one naming anyone else is not."""
    test = obs(
        cc(LOINC, "2106-3"),
        "hcg",
        valueCodeableConcept=cc(LOINC, "LA6576-8"),
        effectiveDateTime="2026-11-20",
        focus=focus,
    )
    a = reasoner.assess(bundle(ART, test))
    assert (a.status == "indicated") is counts, a.data_problems
    assert not_shown(a) is not counts


def _hcg12(when: str, **extra) -> dict:
    return _level("h1", when, valueQuantity=qty(12, "m[IU]/mL"), **extra)


UNDATED_GA = obs(cc(LOINC, "18185-9"), "ga", valueQuantity=qty(8, "wk"))
SCAN = obs(cc(SCT, "268445003"), "us", valueCodeableConcept=cc(SCT, "237241002"), effectiveDateTime="2026-11-20")
STATUS_PREGNANT = obs(
    cc(LOINC, "82810-3"), "ps", valueCodeableConcept=cc(LOINC, "LA15173-0"), effectiveDateTime="2026-11-28"
)


@pytest.mark.parametrize(
    "facts,withheld",
    [
        ((UNDATED_GA, LOW, BLEEDING, NORMAL_US, _hcg12("2026-11-25")), True),
        ((GA, LOW, BLEEDING, NORMAL_US, _hcg12("2026-11-25"), STATUS_PREGNANT), True),
        ((GA, LOW, BLEEDING, NORMAL_US, _hcg12("2026-11-25", status="preliminary")), True),
        ((ART, SCAN, _hcg12("2026-11-25")), True),
        ((ART, condition("preg", (SCT, "72892002"), onsetDateTime="2026-11-01"), _hcg12("2026-11-25")), True),
        ((GA, LOW, BLEEDING, NORMAL_US, _level("h1", "2026-11-25", valueQuantity=qty(45000, "mUI/mL"))), False),
        ((GA, LOW, BLEEDING, NORMAL_US, _level("h1", "2026-11-25", valueQuantity=qty(45000, "mIE/ml"))), False),
        (
            (
                GA,
                LOW,
                BLEEDING,
                NORMAL_US,
                _level("h0", "2026-04-03", valueQuantity=qty(150, "m[IU]/mL")),
                _level("h1", "2026-04-17", valueQuantity=qty(12, "m[IU]/mL")),
            ),
            False,
        ),
        (
            (
                GA,
                LOW,
                BLEEDING,
                NORMAL_US,
                _level("h1", "2026-11-25", valueQuantity=qty(150, "m[IU]/mL"), status="preliminary"),
            ),
            False,
        ),
    ],
    ids=[
        "undated-ga-then-12",
        "ga-12-then-a-status-pregnant",
        "ga-then-a-preliminary-12",
        "scan-then-12",
        "pregnancy-on-the-problem-list-then-12",
        "45000-in-mUI-per-mL",
        "45000-in-mIE-per-ml",
        "an-earlier-pregnancy-150-then-12",
        "a-preliminary-150",
    ],
)
def test_the_first_review_of_stop_42_on_low_hcg_levels(reasoner, facts, withheld):
    """The first review of this stop: an hCG of 12 was still not weighed when the pregnancy was dated by a
    gestational age with no date, when a later pregnancy status (not a level) showed the pregnancy, when it was
    preliminary, or when the record that showed the pregnancy was one the guidance reads (a scan, a pregnancy on
    her problem list). A level in a French or German spelling of its unit is read (kgr:showsAPregnancyInUnit), and a
    falling pair of an earlier pregnancy, wholly before this one began, weighs nothing."""
    a = reasoner.assess(bundle(*facts))
    assert_withheld(a, "Observation/h1", withheld)


V2 = "http://terminology.hl7.org/CodeSystem/v2-0136"


@pytest.mark.parametrize(
    "value",
    [
        dict(cc(V2, "Y", "Yes"), text="No"),
        cc(V2, "Y", "No"),
        dict(cc(LOINC, "LA15173-0", "Pregnant"), text="Negative"),
        cc(LOINC, "LA15173-0", "Not pregnant"),
        dict(cc(SCT, "10828004", "Positive"), text="Neg (repeat in 48h)"),
    ],
    ids=["y-text-no", "y-display-no", "pregnant-text-negative", "pregnant-display-not-pregnant", "positive-text-neg"],
)
def test_a_value_coded_present_whose_words_say_absent_is_read_as_absent(reasoner, value):
    """The first review of this stop: once HL7 v2 table 0136 was known, a "Y" whose display or text said "No" was
    read as a pregnancy (before, the unknown code's words were read: absent). The words of a coded value (its text,
    its displays) are read beside its codes: when they say absent (kgr:NamesOfAbsence) or not pregnant, the record
    is a record not understood (E2), named, and shows no pregnancy."""
    status = obs(cc(LOINC, "82810-3"), "ps", valueCodeableConcept=value, effectiveDateTime="2026-11-20")
    a = reasoner.assess(bundle(GA, LOW, BLEEDING, NORMAL_US, status))
    assert a.status == "insufficient_data" and "Observation/ps" in a.missing, a.data_problems
    b = reasoner.assess(bundle(ART, status))
    assert b.status == "insufficient_data" and "Observation/ps" in b.missing, b.data_problems


#: an IVF pregnancy dated by its due date, recorded at the transfer (LOINC 11778-8): it began on 2026-09-25
DUE = obs(cc(LOINC, "11778-8"), "edd", valueDateTime="2027-07-02", effectiveDateTime="2026-10-12")
URINE_POSITIVE = obs(
    cc(LOINC, "2106-3"), "upt", valueCodeableConcept=cc(LOINC, "LA6576-8"), effectiveDateTime="2026-10-26"
)


@pytest.mark.parametrize(
    "facts,withheld",
    [
        ((ART, DUE, _hcg12("2026-11-02")), True),
        ((ART, DUE, _hcg12("2026-10-22")), False),
        ((ART, DUE, dict(URINE_POSITIVE, effectiveDateTime="2026-06-01"), _hcg12("2026-10-22")), False),
        ((ART, DUE, URINE_POSITIVE, _hcg12("2026-10-28")), True),
        (
            (
                ART,
                UNDATED_GA,
                _level("h0", "2026-09-26", valueQuantity=qty(300, "m[IU]/mL")),
                _hcg12("2026-10-03"),
            ),
            True,
        ),
        (
            (
                ART,
                URINE_POSITIVE,
                _level("h0", "2025-12-12", valueQuantity=qty(3000, "m[IU]/mL")),
                _hcg12("2025-12-30"),
            ),
            False,
        ),
    ],
    ids=[
        "12-at-five-weeks",
        "12-at-four-weeks",
        "an-earlier-pregnancy-s-test-then-12-at-four-weeks",
        "positive-test-then-12-at-four-weeks",
        "undated-ga-300-then-12",
        "a-year-old-postpartum-fall",
    ],
)
def test_the_second_review_of_stop_42_on_low_hcg_levels(reasoner, facts, withheld):
    """The second review of this stop: a 12 at five weeks was set aside (the week was 6; the American Pregnancy
    Association's table gives 18-7,340 mIU/mL at five weeks: kgr:uninformativeBeforeWeek 5), even after a positive
    test; a gestational age with no date cut a falling pair of this pregnancy as an earlier one's (it dates no start
    to cut by: only the weeks surely reached count); a year-old postpartum fall blocked a current pregnancy (a level
    that showed one counts within kgr:showsAPregnancyForWeeks)."""
    a = reasoner.assess(bundle(*facts))
    assert_withheld(a, "Observation/h1", withheld)


@pytest.mark.parametrize(
    "text,withheld",
    [
        ("Normal intrauterine pregnancy", False),
        ("Fetal heartbeat present. No evidence of miscarriage", False),
        ("No fetal heartbeat seen", True),
        ("Missed miscarriage", True),
        ("Intrauterine embryo, CRL 12 mm. No heart motion.", True),
        ("Missed miscarriage. Patient counselled.", True),
        ("Previous pregnancy: missed miscarriage 2023. Today: fetal demise confirmed.", True),
    ],
    ids=[
        "normal",
        "heartbeat-present-no-miscarriage",
        "no-fetal-heartbeat",
        "missed-miscarriage",
        "context-of-the-whole",
        "an-exclusion-in-another-sentence",
        "a-history-then-today",
    ],
)
def test_a_scan_coded_normal_whose_words_name_a_loss_is_not_read_silently(reasoner, text, withheld):
    """The first review of this stop: an obstetric ultrasound whose conclusion is coded normal (SNOMED 237241002)
    but whose text says "No fetal heartbeat seen" came out indicated, silent: a coded conclusion's words were never
    read. They are now judged by the ontology's names, sentence by sentence: what they name is a record not
    understood (E2), named, beside the coded conclusion (unless a coding's own display names such a thing: a demise
    coded as one)."""
    us = dict(NORMAL_US, valueCodeableConcept=dict(cc(SCT, "237241002"), text=text))
    a = reasoner.assess(bundle(GA, LOW, BLEEDING, us))
    assert_withheld(a, "Observation/us", withheld)
    said = [p["message"] for p in a.data_problems if p["record"] == "Observation/us"]
    assert any("could change the decision" in m for m in said) is withheld, said


def _report(conclusion_code: dict, conclusion: str | None = None) -> dict:
    return {
        "resourceType": "DiagnosticReport",
        "id": "dr",
        "status": "final",
        "subject": {"reference": "Patient/F"},
        "code": cc(SCT, "268445003"),
        "effectiveDateTime": "2026-11-20T10:00:00Z",
        "conclusionCode": [conclusion_code],
        **({"conclusion": conclusion} if conclusion else {}),
    }


@pytest.mark.parametrize(
    "scan,outcome",
    [
        (dict(NORMAL_US, valueCodeableConcept=cc(SCT, "237241002", "Missed miscarriage")), "withheld"),
        (_report(cc(SCT, "237241002"), "No fetal heartbeat seen. Missed miscarriage."), "withheld"),
        (_report(cc(SCT, "237241002"), "Single live intrauterine pregnancy. No evidence of miscarriage."), "indicated"),
        (
            dict(NORMAL_US, valueCodeableConcept=dict(cc(SCT, "237242009", "Fetal death"), text="Missed miscarriage")),
            "contraindicated",
        ),
    ],
    ids=[
        "a-display-contradicts-its-code",
        "a-report-conclusion-in-words",
        "a-report-normal-in-words",
        "a-demise-in-words",
    ],
)
def test_the_third_review_of_stop_42_on_scan_words(reasoner, scan, outcome):
    """The third review of this stop: a contradiction in a coding's display only was silent (a display naming a loss
    was taken for the code's own name), as was a report's `conclusion` in words beside a conclusionCode. The words
    a coded demise agrees with (kgr:wordsAgreeWith: a missed miscarriage, no heart activity) are no contradiction."""
    a = reasoner.assess(bundle(GA, LOW, BLEEDING, scan))
    ref = f"{scan['resourceType']}/{scan['id']}"
    if outcome == "withheld":
        assert a.status == "insufficient_data" and ref in a.missing, a.data_problems
    elif outcome == "indicated":
        assert a.status == "indicated" and not a.missing, a.data_problems
    else:
        assert a.status == "contraindicated" and "E2" not in a.rules and not a.missing, a.data_problems


def test_a_positive_level_just_before_a_dated_start_may_be_of_this_pregnancy(reasoner):
    """The third review of this stop: a gestational age of 5 weeks on 2026-11-20 puts the start on 2026-10-16; an hCG
    of 150 on 2026-10-05 and one of 12 on 2026-10-28 were set aside as an earlier pregnancy's. Within the dating's
    tolerance (two weeks) before the start, a level may be of this pregnancy, the dating off (a failing pregnancy
    measures small): 150 then 12 may show it ending (E2, named)."""
    ga5 = dict(GA, valueQuantity=qty(5, "wk"))
    a = reasoner.assess(
        bundle(
            ga5,
            LOW,
            BLEEDING,
            NORMAL_US,
            _level("h0", "2026-10-05", valueQuantity=qty(150, "m[IU]/mL")),
            _hcg12("2026-10-28"),
        )
    )
    assert a.status == "insufficient_data" and "Observation/h1" in a.missing, a.data_problems


def test_a_pregnancy_status_whose_text_names_a_loss_in_one_sentence_of_several(reasoner):
    """The fourth review of this stop: judged only whole, "Pregnant. Missed miscarriage. Patient counselled." named
    nothing (the loss net's exclusions, "counselled", read in the whole text); each sentence is judged too."""
    value = dict(cc(LOINC, "LA15173-0", "Pregnant"), text="Pregnant. Missed miscarriage. Patient counselled.")
    status = obs(cc(LOINC, "82810-3"), "ps", valueCodeableConcept=value, effectiveDateTime="2026-11-20")
    a = reasoner.assess(bundle(GA, LOW, BLEEDING, NORMAL_US, status))
    assert a.status == "insufficient_data" and "Observation/ps" in a.missing, a.data_problems
