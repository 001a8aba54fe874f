"""The words beside a code the reader reads (fhir-reading section 1). Until stop 43, the text and displays of a
record whose code the guidance reads were never read: a threatened miscarriage (SNOMED CT 54048003) whose text
says "Incomplete miscarriage" came out `indicated`, nothing said; so did a normal pregnancy (72892002) whose text
says "Missed miscarriage", an Encounter's reason O20.0 written "Complete miscarriage", a bleeding valued "Mild"
whose text says the products of conception were passed, and an estimated delivery date valued with SNOMED CT
57797005 "Termination of pregnancy" (as one of the public `ddeveloper72/fhir-ips-validator` examples writes it).
Those words are now judged by the ontology's name nets, as a scan conclusion's are: what they name that could change
the decision and that the code does not agree with (kgr:wordsAgreeWith, declared on the losses, which their words
may name) is a record not understood (E2), named in data_problems."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from test_fhir_real_world import BLEEDING, ICD10CM, INDICATED, LOINC, SCT, bundle, cc, condition, obs

#: a threatened miscarriage of this pregnancy, as a problem list holds it
THREATENED = condition("tm", (SCT, "54048003"), onsetDateTime="2026-11-19")


def coded(resource: dict, display: str | None = None, text: str | None = None, key: str = "code") -> dict:
    """``resource`` with its coded ``key`` given a display (its first coding) and a text."""
    concept = dict(resource[key], coding=[dict(c) for c in resource[key]["coding"]])
    if display is not None:
        concept["coding"][0]["display"] = display
    if text is not None:
        concept["text"] = text
    return dict(resource, **{key: concept})


def encounter(reason: dict) -> dict:
    return {
        "resourceType": "Encounter",
        "id": "enc",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"reference": "Patient/F"},
        "period": {"start": "2026-11-20T08:00:00Z", "end": "2026-11-20T11:00:00Z"},
        "reasonCode": [reason],
    }


def pregnancy(text: str) -> dict:
    """A normal pregnancy (SNOMED CT 72892002) on her problem list, written ``text``."""
    return condition("preg", (SCT, "72892002"), onsetDateTime="2026-10-01", code=cc(SCT, "72892002") | {"text": text})


MILD = cc(SCT, "255604002", "Mild")
BLEEDING_OBSERVATION = obs(cc(SCT, "289530006"), "bo", effectiveDateTime="2026-11-20T09:00:00Z")
ART = {
    "resourceType": "Procedure",
    "id": "art",
    "status": "completed",
    "subject": {"reference": "Patient/F"},
    "code": cc(SCT, "63487001", "Assisted fertilization"),
    "performedDateTime": "2026-09-28",
}

#: (the records beside the indicated case's, the record whose words are judged, whether it is withheld)
CASES = {
    "a-threatened-miscarriage-whose-text-says-incomplete": (
        [coded(THREATENED, text="Incomplete miscarriage")],
        "Condition/tm",
        True,
    ),
    "a-provisional-threatened-miscarriage-whose-text-says-incomplete": (
        [
            coded(
                dict(
                    THREATENED,
                    verificationStatus=cc(BLEEDING["verificationStatus"]["coding"][0]["system"], "provisional"),
                ),
                text="Incomplete miscarriage",
            )
        ],
        "Condition/tm",
        True,
    ),
    "a-normal-pregnancy-whose-text-says-missed": (
        [pregnancy("Missed miscarriage")],
        "Condition/preg",
        True,
    ),
    "an-o20-0-whose-display-says-complete": (
        [
            condition(
                "o20", (ICD10CM, "O20.0"), onsetDateTime="2026-11-19", code=cc(ICD10CM, "O20.0", "Complete miscarriage")
            )
        ],
        "Condition/o20",
        True,
    ),
    "a-bleeding-whose-text-says-products-passed": (
        [],
        "Condition/bleed",
        True,
    ),
    "an-encounter-reason-o20-0-written-complete-miscarriage": (
        [encounter(dict(cc(ICD10CM, "O20.0", "Threatened abortion"), text="Complete miscarriage"))],
        "Encounter/enc",
        True,
    ),
    "a-bleeding-valued-mild-whose-text-says-products-passed": (
        [dict(BLEEDING_OBSERVATION, valueCodeableConcept=dict(MILD, text="Mild - passed products of conception"))],
        "Observation/bo",
        True,
    ),
    "a-bleeding-valued-in-words-that-name-a-loss": (
        [dict(BLEEDING_OBSERVATION, valueString="heavy, passed products of conception")],
        "Observation/bo",
        True,
    ),
    "a-due-date-valued-termination-of-pregnancy": (
        [
            obs(
                cc(LOINC, "11778-8"),
                "edd",
                valueCodeableConcept=cc(SCT, "57797005", "Termination of pregnancy"),
                effectiveDateTime="2026-11-20",
            )
        ],
        "Observation/edd",
        True,
    ),
    "an-assisted-fertilization-whose-text-names-a-demise": (
        [coded(ART, text="Assisted fertilization; fetal demise at 7 weeks")],
        "Procedure/art",
        True,
    ),
    "a-threatened-miscarriage-so-written": (
        [coded(THREATENED, "Threatened miscarriage", "Threatened miscarriage")],
        "Condition/tm",
        False,
    ),
    "a-pregnancy-with-a-history-of-miscarriage": (
        [pregnancy("Pregnancy; history of miscarriage")],
        "Condition/preg",
        False,
    ),
    "an-encounter-reason-so-written": (
        [encounter(dict(cc(ICD10CM, "O20.0", "Threatened abortion"), text="Threatened miscarriage"))],
        "Encounter/enc",
        False,
    ),
    "a-bleeding-valued-mild-so-written": (
        [dict(BLEEDING_OBSERVATION, valueCodeableConcept=dict(MILD, text="Mild"))],
        "Observation/bo",
        False,
    ),
    "an-assisted-fertilization-so-written": (
        [coded(ART, text="IVF with embryo transfer")],
        "Procedure/art",
        False,
    ),
}


@pytest.mark.parametrize("extra,ref,withheld", list(CASES.values()), ids=list(CASES))
def test_words_beside_a_code_read_that_name_a_loss_are_not_read_silently(reasoner, extra, ref, withheld):
    records = list(INDICATED)
    if ref == "Condition/bleed":  # (the indicated case's own bleeding, written as a loss)
        records[records.index(BLEEDING)] = coded(BLEEDING, text="Vaginal bleeding; passed products of conception")
    elif ref == "Observation/bo":  # (her bleeding recorded as an Observation, not a Condition)
        records.remove(BLEEDING)
    a = reasoner.assess(bundle(*records, *extra))
    said = [p["message"] for p in a.data_problems if p["record"] == ref and "could change the decision" in p["message"]]
    if withheld:
        assert a.status == "insufficient_data" and ref in a.missing, a.data_problems
        assert said, a.data_problems
    else:
        assert a.status == "indicated" and not a.missing and not said, a.data_problems


@pytest.mark.parametrize(
    "code,text",
    [
        ((SCT, "17369002"), "Spontaneous miscarriage"),
        ((SCT, "16607004"), "Missed miscarriage; no fetal heartbeat seen"),
        ((ICD10CM, "O03.9"), "Complete miscarriage, not pregnant now"),
    ],
    ids=["a-miscarriage", "a-missed-miscarriage-with-no-heartbeat", "a-complete-miscarriage-not-pregnant-now"],
)
def test_a_loss_coded_as_one_may_say_so_in_words(reasoner, code, text):
    """kgr:wordsAgreeWith on prg:ConditionContraindicatingProgesterone, read for its subclasses: a loss's words
    naming a loss, no heart activity or no pregnancy do not contradict its code."""
    loss = condition("loss", code, onsetDateTime="2026-11-21", code=cc(*code) | {"text": text})
    a = reasoner.assess(bundle(*INDICATED, loss))
    assert a.status == "contraindicated" and "E2" not in a.rules and not a.missing, a.data_problems


def test_the_words_of_an_earlier_pregnancys_record_are_set_aside_as_its_codes_would_be(reasoner):
    """A threatened miscarriage of 2024, resolved, whose text says "Incomplete miscarriage": its words are of that
    pregnancy, as an incomplete miscarriage coded then would be (the 'this pregnancy' rule)."""
    then = {"onsetDateTime": "2024-03-01", "abatementDateTime": "2024-03-20"}
    words = coded(condition("tm", (SCT, "54048003"), clinical="resolved", **then), text="Incomplete miscarriage")
    code = condition("tm", (ICD10CM, "O03.4"), clinical="resolved", **then)
    by_words, by_code = (reasoner.assess(bundle(*INDICATED, r)) for r in (words, code))
    assert (by_words.status, by_words.rules) == (by_code.status, by_code.rules) == ("indicated", ["R1"]), (
        by_words.data_problems,
        by_code.data_problems,
    )


#: the first and third reviews of stop 43: each input is the indicated case with records removed and added
REVIEWS = {
    name: json.loads((Path(__file__).parent / "data" / "fhir" / f"{name}.json").read_text(encoding="utf-8"))
    for name in ("words-beside-codes", "reads-beyond-the-code")
}
CASES_OF_REVIEWS = [
    pytest.param(case, id=f"{name}: {case['id']}") for name, review in REVIEWS.items() for case in review["cases"]
]


@pytest.mark.parametrize("case", CASES_OF_REVIEWS)
def test_the_reviews_of_stop_43(reasoner, case):
    """Words a record read by its code carries elsewhere (its evidence, an outcome extension, an abatement in words,
    a complication; also when its code is not read or it is not confirmed or not done), a medication's reasons and
    status reason, concepts given in text only anywhere (an Encounter's type, a claim's diagnosis), a Coding, a
    Reference's display naming a finding or what a record is for, a read Observation's code and components, a loss's
    qualifiers read near it, and the dating of what they name (an earlier pregnancy's is set aside): each case's
    outcome ('expect'), with its outcome on stop 42 ('before')."""
    records = [r for r in INDICATED if f"{r['resourceType']}/{r['id']}" not in case["remove"]]
    a = reasoner.assess(bundle(*records, *case["add"]))
    if case["expect"] == "withheld":
        assert a.status == "insufficient_data" and "E2" in a.rules and a.missing, a.data_problems
    elif case["expect"] == "not_assessed":
        assert a.status is None and any(p["severity"] == "error" for p in a.data_problems), a.data_problems
    else:
        assert a.status == case["expect"] and not a.missing, a.data_problems


def test_words_of_any_length_are_named_not_copied(reasoner):
    """The third review: a reason of 120,000 characters naming a loss was quoted whole in its message."""
    reason = "Complete miscarriage. " + "Patient well. " * 9000
    enc = encounter(dict(cc(ICD10CM, "O20.0", "Threatened abortion"), text=reason))
    a = reasoner.assess(bundle(*INDICATED, enc))
    assert a.status == "insufficient_data", a.data_problems
    assert max(len(p["message"]) for p in a.data_problems) < 2_000


def test_a_long_text_naming_a_loss_thousands_of_times_is_read_whole(reasoner):
    """Stop 46: review rev43c's e15 (a reason of 120,000 characters, "Threatened miscarriage." 5,000 times, then
    "Complete miscarriage.") took over two minutes since stop 45, every match of a loss searching the whole text
    for its clause's ends; they are found once per text (``NameNet._clause_ends``) and each clause judged once.
    (Not a timed test: a regression shows as a test run minutes long.)"""
    reason = "Threatened miscarriage. " * 5000 + "Complete miscarriage."
    a = reasoner.assess(bundle(*INDICATED, encounter({"text": reason})))
    assert a.status == "insufficient_data" and "E2" in a.rules, a.data_problems


def _with(resource: dict, **elements) -> dict:
    return dict(resource, **elements)


def _unread_observation(code_text: str, **elements) -> dict:
    """An Observation of hers whose code the guidance does not know (a local scan code), with ``elements``."""
    return {
        "resourceType": "Observation",
        "id": "us-local",
        "status": "final",
        "subject": {"reference": "Patient/F"},
        "effectiveDateTime": "2026-11-21",
        "code": {"text": code_text},
        **elements,
    }


def _her_condition(id_: str, text: str) -> dict:
    """A Condition of hers in words only, as a record contains it (Condition.subject is required)."""
    return {"resourceType": "Condition", "id": id_, "subject": {"reference": "Patient/F"}, "code": {"text": text}}


def _cancelled_appointment(**elements) -> dict:
    """A cancelled Appointment that names her only as a participant, with ``elements``."""
    return {
        "resourceType": "Appointment",
        "id": "appt",
        "status": "cancelled",
        "start": "2026-11-25T10:00:00Z",
        "participant": [{"actor": {"reference": "Patient/F"}, "status": "accepted"}],
        **elements,
    }


#: stop 44: the strings of words a record carries outside its notes and narrative are read, whatever the element (a
#: free-text one, or one where R4 has a concept, written as a string): (a record, whether a loss it names withholds)
FREE_TEXT = {
    "an Encounter's reasonCode as a string": (_with(encounter({}), reasonCode="Complete miscarriage"), True),
    "an Encounter's reasonCode as a list of strings": (_with(encounter({}), reasonCode=["Complete miscarriage"]), True),
    "a Condition's evidence code as a string": (_with(THREATENED, evidence=[{"code": "Complete miscarriage"}]), True),
    "a Condition's evidence as a list of strings": (_with(THREATENED, evidence=["Complete miscarriage"]), True),
    "a Condition's stage summary as a string": (_with(THREATENED, stage=[{"summary": "Missed miscarriage"}]), True),
    "a ClinicalImpression's summary": (
        {
            "resourceType": "ClinicalImpression",
            "id": "ci",
            "status": "completed",
            "subject": {"reference": "Patient/F"},
            "date": "2026-11-20",
            "summary": "Incomplete miscarriage; for ERPC",
        },
        True,
    ),
    # (review rev44b) a record whose patient is not its subject, a Reference given by its display alone, a Coding
    # where R4 has a concept, an abatement in words of a Condition not read, a Reference to an episode or a request
    "a Task for her whose description names a loss": (
        {
            "resourceType": "Task",
            "id": "task",
            "status": "completed",
            "intent": "order",
            "for": {"reference": "Patient/F"},
            "authoredOn": "2026-11-21",
            "description": "Stop progesterone - complete miscarriage confirmed",
        },
        True,
    ),
    "a ClinicalImpression's problem given by its display alone (as HL7's example writes it)": (
        {
            "resourceType": "ClinicalImpression",
            "id": "ci",
            "status": "completed",
            "subject": {"reference": "Patient/F"},
            "date": "2026-11-21",
            "problem": [{"display": "Incomplete miscarriage"}],
        },
        True,
    ),
    "a Coding where R4 has a concept": (
        _with(encounter({}), reasonCode=[{"system": SCT, "code": "17369002", "display": "Miscarriage"}]),
        True,
    ),
    "an unrecognised Condition's abatement in words": (
        condition(
            "hg",
            (SCT, "14094001"),
            onsetDateTime="2026-11-01",
            clinicalStatus=cc("http://terminology.hl7.org/CodeSystem/condition-clinical", "resolved"),
            abatementString="Resolved 21/11 after complete miscarriage",
        ),
        True,
    ),
    "an Encounter of an episode displayed as a loss": (
        _with(encounter({}), episodeOfCare=[{"reference": "EpisodeOfCare/eoc", "display": "EPU - missed miscarriage"}]),
        True,
    ),
    # stop 45: a cancelled record's reasons (what it records did not happen; why it was cancelled may be true of her),
    # and the words of an unrecognised Observation's other elements
    "a cancelled Appointment's cancelationReason (her only as a participant)": (
        _cancelled_appointment(
            cancelationReason={"text": "Patient had a miscarriage"},
        ),
        True,
    ),
    "a cancelled Encounter's reasonCode": (
        _with(encounter({}), status="cancelled", reasonCode=[{"text": "Inevitable miscarriage"}]),
        True,
    ),
    "a cancelled progesterone order's statusReason": (
        {
            "resourceType": "MedicationRequest",
            "id": "rx-stop",
            "status": "cancelled",
            "intent": "order",
            "subject": {"reference": "Patient/F"},
            "authoredOn": "2026-11-20",
            "medicationCodeableConcept": {
                "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "8727"}]
            },
            "statusReason": {"text": "Complete miscarriage"},
        },
        True,
    ),
    "an unrecognised Observation's interpretation": (
        _unread_observation(
            "US pelvis",
            interpretation=[{"text": "Consistent with missed miscarriage"}],
        ),
        True,
    ),
    "an unrecognised Observation's method": (
        _unread_observation(
            "Ultrasound",
            method={"text": "Transvaginal scan: missed miscarriage"},
        ),
        True,
    ),
    # review rev45a: an Encounter's diagnosis, R5's reason and the R4 extension that carries R5's cancellationReason, an
    # unrecognised Observation's components
    "a cancelled Encounter's diagnosis": (
        _with(encounter({}), status="cancelled", diagnosis=[{"condition": {"display": "Missed miscarriage"}}]),
        True,
    ),
    "a cancelled Appointment's reason in R5's shape": (
        _cancelled_appointment(
            subject={"reference": "Patient/F"},
            reason=[{"concept": {"text": "Incomplete miscarriage"}}],
        ),
        True,
    ),
    "a cancelled Appointment's cancellationReason in HL7's cross-version extension": (
        _cancelled_appointment(
            extension=[
                {
                    "url": "http://hl7.org/fhir/5.0/StructureDefinition/extension-Appointment.cancellationReason",
                    "valueCodeableConcept": {"text": "Patient had a miscarriage"},
                }
            ],
        ),
        True,
    ),
    "an unrecognised Observation's component valued in words": (
        _unread_observation(
            "US pelvis",
            component=[{"code": {"text": "Impression"}, "valueString": "Missed miscarriage"}],
        ),
        True,
    ),
    "an unrecognised Observation's component interpreted in words": (
        _unread_observation(
            "US pelvis",
            component=[
                {
                    "code": {"text": "Fetal heart"},
                    "valueQuantity": {"value": 150, "unit": "/min"},
                    "interpretation": [{"text": "Consistent with missed miscarriage"}],
                }
            ],
        ),
        True,
    ),
    # stop 46: a reason a cancelled record cites that it contains (withdrawn with it, but still hers: read as a record)
    "a cancelled Appointment's reasonReference to a Condition it contains": (
        _cancelled_appointment(
            contained=[_her_condition("c1", "Complete miscarriage")],
            reasonReference=[{"reference": "#c1"}],
        ),
        True,
    ),
    "a cancelled Appointment's reasonReference to a threatened miscarriage it contains": (
        _cancelled_appointment(
            contained=[dict(THREATENED, id="c1")],
            reasonReference=[{"reference": "#c1"}],
        ),
        False,
    ),
    "a cancelled Appointment's description (not why it was cancelled)": (
        _cancelled_appointment(
            description="Review after complete miscarriage",
            reasonCode=[{"text": "Antenatal booking"}],
        ),
        False,
    ),
    "a cancelled ultrasound order for a threatened miscarriage": (
        {
            "resourceType": "ServiceRequest",
            "id": "sr",
            "status": "cancelled",
            "intent": "order",
            "subject": {"reference": "Patient/F"},
            "code": {"text": "Ultrasound"},
            "reasonCode": [{"text": "Threatened miscarriage"}],
        },
        False,
    ),
    # not words about her: an id, a reference, a code system's address, a question's text, a note, a relative's history,
    # a questionnaire's address
    "a relative's history in words": (
        {
            "resourceType": "FamilyMemberHistory",
            "id": "mother",
            "status": "completed",
            "patient": {"reference": "Patient/F"},
            "relationship": cc("http://terminology.hl7.org/CodeSystem/v3-RoleCode", "MTH"),
            "condition": [{"code": {"text": "Hypertension"}, "onsetString": "After her second stillbirth"}],
        },
        False,
    ),
    "a questionnaire's address": (
        {
            "resourceType": "QuestionnaireResponse",
            "id": "qr",
            "status": "completed",
            "subject": {"reference": "Patient/F"},
            "authored": "2026-11-20",
            "questionnaire": "http://hospital.example/fhir/Questionnaire/miscarriage-risk-assessment",
        },
        False,
    ),
    "an id and a reference that name a loss": (
        _with(
            encounter(cc(SCT, "424441002", "Prenatal initial visit")),
            id="missed-miscarriage-clinic-1",
            basedOn=[{"reference": "ServiceRequest/ectopic-pregnancy-pathway"}],
        ),
        False,
    ),
    "a code system whose address names a loss": (
        encounter({"coding": [{"system": "http://example.org/fhir/miscarriage-codes", "code": "A1"}]}),
        False,
    ),
    "a question's text answered no": (
        {
            "resourceType": "QuestionnaireResponse",
            "id": "qr",
            "status": "completed",
            "subject": {"reference": "Patient/F"},
            "authored": "2026-11-20",
            "item": [{"linkId": "1", "text": "Have you had a miscarriage?", "answer": [{"valueBoolean": False}]}],
        },
        False,
    ),
    "a note": (_with(THREATENED, note=[{"text": "Worried about miscarriage"}]), False),
}


@pytest.mark.parametrize("record,withheld", list(FREE_TEXT.values()), ids=list(FREE_TEXT))
def test_the_strings_of_words_a_record_carries_are_read(reasoner, record, withheld):
    a = reasoner.assess(bundle(*INDICATED, record))
    if withheld:
        assert a.status == "insufficient_data" and "E2" in a.rules and a.missing, a.data_problems
    else:
        assert a.status == "indicated" and not a.missing, a.data_problems


def test_a_coded_loss_a_cancelled_order_was_for_is_read_as_her_condition(reasoner):
    """Stop 46 (review rev46a): the Condition a cancelled progesterone order cites as its reason and contains is a
    record of hers, read as any Condition is (dated by its onset, its statuses read): a complete miscarriage
    contraindicates."""
    order = {
        "resourceType": "MedicationRequest",
        "id": "mr-cancelled",
        "status": "cancelled",
        "intent": "order",
        "subject": {"reference": "Patient/F"},
        "authoredOn": "2026-11-20",
        "medicationCodeableConcept": {"text": "Progesterone 200 mg vaginal capsule"},
        "contained": [
            {
                "resourceType": "Condition",
                "id": "why",
                "subject": {"reference": "Patient/F"},
                "code": {"coding": [{"system": "http://snomed.info/sct", "code": "16607004"}]},
            }
        ],
        "reasonReference": [{"reference": "#why"}],
    }
    a = reasoner.assess(bundle(*INDICATED, order))
    assert a.status == "contraindicated", a.data_problems
    refuted = dict(order, contained=[dict(order["contained"][0], verificationStatus={"coding": [{"code": "refuted"}]})])
    assert reasoner.assess(bundle(*INDICATED, refuted)).status == "indicated"


def _cancelled_appointment(reason_subject: str | None, participant: str | None = "Patient/F") -> dict:
    """A cancelled Appointment (R4 names its patient as a participant; it has no subject) whose reason is a
    Condition it contains, a complete miscarriage of ``reason_subject`` (None: the Condition names none)."""
    reason = condition("c1", (SCT, "16607004"), onsetDateTime="2026-11-19")
    if reason_subject is None:
        reason.pop("subject")
    else:
        reason["subject"] = {"reference": reason_subject}
    return {
        "resourceType": "Appointment",
        "id": "ap",
        "status": "cancelled",
        "start": "2026-11-25T10:00:00Z",
        "end": "2026-11-25T10:30:00Z",
        "contained": [reason],
        "reasonReference": [{"reference": "#c1"}],
        "participant": [{"actor": {"reference": participant}, "status": "declined"}] if participant else [],
    }


def test_a_contained_reason_of_her_appointment_is_read_as_hers_or_she_fails_closed(reasoner):
    """Stop 47 (review rev46b's f05/f06, left by stop 46): a Condition contained in her cancelled Appointment as its
    reason, naming no subject, made her not assessed (a broken reference); naming another patient, it was read as
    that patient's and she came out `indicated`, silent. The Appointment's patient is its one Patient participant:
    a contained record naming none is hers (a complete miscarriage contraindicates); one naming another patient
    may be either's, so she fails closed, the record and its subject named. Nothing links an Appointment with no
    Patient participant to her."""
    assert reasoner.assess(bundle(*INDICATED, _cancelled_appointment(None))).status == "contraindicated"
    assert reasoner.assess(bundle(*INDICATED, _cancelled_appointment("Patient/F"))).status == "contraindicated"
    for other in ("Patient/G", "urn:uuid:5d2e3f1a-0000-4000-8000-00000000000g"):
        results = list(reasoner.assess_many([bundle(*INDICATED, _cancelled_appointment(other))]))
        her = next(r for r in results if getattr(r, "patient", None) == "F")
        assert her.status is None and [
            p["field"]
            for p in her.data_problems
            if p["record"] == "Appointment/ap#c1" and "cannot be told" in p["message"]
        ] == ["subject"], her.data_problems
    results = list(reasoner.assess_many([bundle(*INDICATED, _cancelled_appointment("Patient/G", participant=None))]))
    assert [r.status for r in results if getattr(r, "patient", None) == "F"] == ["indicated"]


def _her_encounter(subject: dict, *contained: dict) -> dict:
    return {
        "resourceType": "Encounter",
        "id": "enc",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": subject,
        "period": {"start": "2026-11-19T09:00:00Z", "end": "2026-11-19T10:00:00Z"},
        "contained": list(contained),
    }


def _of(record: dict, subject: str | None) -> dict:
    record = dict(record)
    record.pop("subject", None)
    return record | ({"subject": {"reference": subject}} if subject else {})


LOSS_OF = condition("c1", (SCT, "16607004"), onsetDateTime="2026-11-19")
MRN = {"system": "urn:oid:1.2.36.146.595.217.0.1", "value": "12345"}


@pytest.mark.parametrize(
    "container,her",
    [
        (_her_encounter({"identifier": MRN}, _of(LOSS_OF, None)), "contraindicated"),
        (_her_encounter({"identifier": MRN}, _of(LOSS_OF, "Patient/G")), None),
        (
            _her_encounter({"reference": "Patient/F"}, {"resourceType": "Patient", "id": "pat"}, _of(LOSS_OF, "#pat")),
            None,  # (who that contained patient is cannot be told: review rev47c)
        ),
        (
            _her_encounter({"reference": "Patient/F"}, {"resourceType": "Device", "id": "dev"}, _of(LOSS_OF, "#dev")),
            "indicated",  # (about a device contained beside it: not hers, nor another patient's; review rev47d)
        ),
        (_her_encounter({"reference": "http://example.org/fhir/Patient/F"}, _of(LOSS_OF, "Patient/G")), None),
        (_her_encounter({"reference": "Patient/F"}, _of(LOSS_OF, "Patient/G")), None),
        (_cancelled_appointment("Patient/G", participant="urn:uuid:9f0e4f6a-0000-4000-8000-00000000000f"), None),
        (
            _her_encounter(
                {"reference": "Patient/F"},
                _of(obs(cc(LOINC, "29463-7"), "w", valueQuantity={"value": 3.2, "unit": "kg"}), "Patient/G"),
            ),
            "indicated",
        ),
        (
            _her_encounter(
                {"reference": "Patient/F"},
                {
                    "resourceType": "AllergyIntolerance",
                    "id": "al",
                    "code": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "8727"}]},
                },
            ),
            "insufficient_data",
        ),
    ],
    ids=[
        "her-identifier-a-loss-naming-no-one",
        "her-identifier-a-loss-of-another",
        "her-reference-a-loss-of-a-patient-contained-beside-it",
        "her-reference-a-record-of-a-device-contained-beside-it",
        "her-absolute-url-a-loss-of-another",
        "her-reference-a-loss-of-another",
        "her-urn-participant-a-loss-of-another",
        "her-reference-a-newborns-weight",
        "her-reference-an-allergy-to-progesterone",
    ],
)
def test_a_contained_record_is_hers_or_she_fails_closed_however_her_reference_is_written(reasoner, container, her):
    """Review rev47a: whose a container is, by its subject written as an identifier, an absolute URL with no fullUrl
    or a urn:uuid participant (stop 47's first version read only Patient/F, and lost the container's identifier:
    a contained loss naming no one made her not assessed); a contained record of another patient that could not
    change the decision (a newborn's weight) fails no one; a contained resource of a type the reader does not read
    by its code (an AllergyIntolerance) is read, as the input's are (it was not read at all)."""
    patient_f = {"resourceType": "Patient", "id": "F", "identifier": [MRN]}
    entries = [patient_f, {"resourceType": "Patient", "id": "G"}, *INDICATED, container]
    doc = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": e} | ({"fullUrl": "urn:uuid:9f0e4f6a-0000-4000-8000-00000000000f"} if e is patient_f else {})
            for e in entries
        ],
    }
    results = {getattr(r, "patient", None): r for r in reasoner.assess_many([doc]) if hasattr(r, "status")}
    assert results["F"].status == her, results["F"].data_problems
    if her is None:
        assert any(p["field"] == "subject" and "cannot be told" in p["message"] for p in results["F"].data_problems)


def test_a_loss_in_a_records_words_names_the_element_it_stands_in(reasoner):
    """Review rev44b: every such problem said field "code", wherever the words were."""
    for record, field in (
        (FREE_TEXT["an Encounter's reasonCode as a string"][0], "reasonCode"),
        (FREE_TEXT["a ClinicalImpression's summary"][0], "summary"),
        (FREE_TEXT["a Condition's evidence code as a string"][0], "evidence"),
    ):
        a = reasoner.assess(bundle(*INDICATED, record))
        ref = f"{record['resourceType']}/{record['id']}"
        assert [p["field"] for p in a.data_problems if p["record"] == ref and "could change" in p["message"]] == [
            field
        ], a.data_problems


def _progesterone_order(status: str, reason) -> dict:
    """A progesterone order of hers with a status and a statusReason (R4 MedicationRequest)."""
    return {
        "resourceType": "MedicationRequest",
        "id": "mr-progesterone",
        "status": status,
        "intent": "order",
        "subject": {"reference": "Patient/F"},
        "authoredOn": "2026-11-20",
        "medicationCodeableConcept": {
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "8727"}]
        },
        "statusReason": reason,
    }


_STATUS_REASON = "http://terminology.hl7.org/CodeSystem/medicationrequest-status-reason"

#: stop 46: a progesterone order held, stopped or cancelled because she is allergic to it or does not tolerate it
#: (HL7's MedicationRequest status reasons salg and sintol, kgr:ReactionToItsMedication): before, `indicated` and,
#: on hold, nothing said. (status, statusReason, whether it records an allergy to progesterone)
REACTIONS = {
    "on hold for an allergy (salg)": ("on-hold", {"coding": [{"system": _STATUS_REASON, "code": "salg"}]}, True),
    "stopped for an allergy (salg, displayed)": (
        "stopped",
        {"coding": [{"system": _STATUS_REASON, "code": "salg", "display": "Patient allergic to medication"}]},
        True,
    ),
    "stopped for a suspected intolerance (sintol)": (
        "stopped",
        {"coding": [{"system": _STATUS_REASON, "code": "sintol"}]},
        True,
    ),
    "cancelled for an allergy (salg, the pre-R4 system URL)": (
        "cancelled",
        {"coding": [{"system": "http://hl7.org/fhir/med-request-status-reason", "code": "salg"}]},
        True,
    ),
    "stopped, in words: allergic to progesterone": ("stopped", {"text": "Allergic to progesterone"}, True),
    "stopped, in words: anaphylaxis": ("stopped", {"text": "Anaphylaxis"}, True),
    "entered in error (no record)": (
        "entered-in-error",
        {"coding": [{"system": _STATUS_REASON, "code": "salg"}]},
        False,
    ),
    "stopped for surgery (surg)": ("stopped", {"coding": [{"system": _STATUS_REASON, "code": "surg"}]}, False),
    "stopped, in words: no known allergies": ("stopped", {"text": "No known allergies"}, False),
    # review rev46a: a sentence denying an allergy does not hide the next that states one; a suspicion is one; a
    # denial, a rule-out or a negative test is none
    "stopped, in words: none known, then anaphylaxis": (
        "stopped",
        {"text": "No known allergies at booking. Stopped: anaphylaxis after first dose"},
        True,
    ),
    "stopped, in words: NKDA; suspected intolerance": ("stopped", {"text": "NKDA; suspected intolerance"}, True),
    "stopped, in words: a question": ("stopped", {"text": "Possible allergic reaction?"}, True),
    # review rev46b: an intolerance or a reaction in other words; a denial does not reach across a dash
    "stopped, in words: did not tolerate": ("stopped", {"text": "Did not tolerate progesterone"}, True),
    "stopped, in words: rash and hives": ("stopped", {"text": "Rash and hives after first dose"}, True),
    "stopped, in words: side effects": ("stopped", {"text": "Side effects"}, True),
    "stopped, in words: a reaction after a dash": (
        "stopped",
        {"text": "No improvement - allergic reaction to pessaries"},
        True,
    ),
    "stopped, in words: no improvement": ("stopped", {"text": "No improvement"}, False),
    "stopped, in words: no side effects": ("stopped", {"text": "No side effects"}, False),
    "stopped, in words: allergy ruled out": ("stopped", {"text": "Allergy ruled out"}, False),
    "stopped, in words: no adverse reaction": ("stopped", {"text": "No adverse reaction - course completed"}, False),
    "stopped, in words: allergy testing negative": ("stopped", {"text": "Allergy testing negative"}, False),
    "stopped, in words: denies allergies": ("stopped", {"text": "Denies allergies"}, False),
}


@pytest.mark.parametrize("status,reason,allergy", list(REACTIONS.values()), ids=list(REACTIONS))
def test_a_progesterone_order_held_or_stopped_for_an_allergy_records_the_allergy(reasoner, status, reason, allergy):
    a = reasoner.assess(bundle(*INDICATED, _progesterone_order(status, reason)))
    said = [p for p in a.data_problems if p.get("field") == "statusReason"]
    if allergy:
        assert a.status == "insufficient_data" and "E2" in a.rules, a.data_problems
        assert said and "allergy or intolerance to progesterone" in said[0]["message"], a.data_problems
    else:
        assert a.status == "indicated" and not said, a.data_problems


def test_a_dispense_declined_or_a_request_not_to_give_it_for_an_allergy_records_the_allergy(reasoner):
    """Review rev46a: a MedicationDispense's reason is its statusReasonCodeableConcept (HL7's dispense status reason
    saig: allergy), a request not to give it (doNotPerform) says why in its reasonCode."""
    dispense = {
        "resourceType": "MedicationDispense",
        "id": "md",
        "status": "declined",
        "subject": {"reference": "Patient/F"},
        "medicationCodeableConcept": {
            "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "8727"}]
        },
        "statusReasonCodeableConcept": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/medicationdispense-status-reason", "code": "saig"}
            ]
        },
    }
    dnp = dict(
        _progesterone_order("active", None), doNotPerform=True, reasonCode=[{"text": "Allergic to progesterone"}]
    )
    del dnp["statusReason"]
    for record, field in ((dispense, "statusReasonCodeableConcept"), (dnp, "reasonCode")):
        a = reasoner.assess(bundle(*INDICATED, record))
        said = [p for p in a.data_problems if p.get("field") == field]
        assert a.status == "insufficient_data" and said, a.data_problems
        assert "allergy or intolerance to progesterone" in said[0]["message"]


def _document(attachment: dict) -> dict:
    """A clinical note as US Core's DocumentReference carries one (US Core 6.1 "Clinical Notes": the note in
    ``content.attachment``, its words in ``data`` as base64 or behind a ``url``)."""
    return {
        "resourceType": "DocumentReference",
        "id": "note",
        "status": "current",
        "type": {"coding": [{"system": LOINC, "code": "11506-3", "display": "Progress note"}]},
        "subject": {"reference": "Patient/F"},
        "date": "2026-11-20T10:00:00Z",
        "content": [{"attachment": attachment}],
    }


def _base64(text: str, encoding: str = "utf-8") -> str:
    return base64.b64encode(text.encode(encoding)).decode("ascii")


def _report_form(form: dict) -> dict:
    """An ultrasound report coded as one, its conclusion coded normal, its words in ``presentedForm`` only."""
    return obs(
        cc(LOINC, "11525-3"),
        "us-report",
        resourceType="DiagnosticReport",
        conclusionCode=[cc(SCT, "17621005")],
        presentedForm=[form],
    ) | {"effectiveDateTime": "2026-11-20T10:00:00Z"}


@pytest.mark.parametrize(
    "record,withheld",
    [
        (_document({"contentType": "text/plain", "data": _base64("Complete miscarriage. Empty uterus.")}), True),
        (
            _document(
                {"contentType": "text/plain; charset=ISO-8859-1", "data": _base64("Fausse couche complète", "latin-1")}
            ),
            True,
        ),
        (_document({"contentType": "text/html", "data": _base64("<p>Missed&nbsp;miscarriage</p>")}), True),
        (_document({"contentType": "text/plain", "data": _base64("Live intrauterine pregnancy, FHR 150 bpm.")}), False),
        (_document({"contentType": "application/pdf", "data": _base64("%PDF-1.4 Complete miscarriage")}), False),
        (_document({"contentType": "text/plain", "data": "Complete miscarriage"}), False),
        (_report_form({"contentType": "text/html", "data": _base64("<b>Impression:</b> no fetal pole")}), True),
        # review rev47a: a "<" that opens no tag, a loss after the first sentence or line, a word split by a tag,
        # CDATA, a no-break space, no contentType, UTF-16 by its byte-order mark, URL-safe base64 without padding
        (_document({"contentType": "text/html", "data": _base64("<p>hCG <5 IU/L. Complete miscarriage.</p>")}), True),
        (
            _document(
                {"contentType": "text/markdown", "data": _base64("hCG <5, complete miscarriage, review >2 weeks")}
            ),
            True,
        ),
        (
            _document({"contentType": "text/plain", "data": _base64("EPU NOTE\nhCG 1800.\nDx: ectopic - for MTX\n")}),
            True,
        ),
        (
            _document(
                {"contentType": "text/html", "data": _base64("<p>TVUS today.</p><p>Ectopic - for methotrexate</p>")}
            ),
            True,
        ),
        (_document({"contentType": "text/html", "data": _base64("<p>Missed mis<span>carriage</span></p>")}), True),
        (
            _document({"contentType": "text/xml", "data": _base64("<note><![CDATA[Complete miscarriage]]></note>")}),
            True,
        ),
        (_document({"contentType": "text/html", "data": _base64("No&nbsp;fetal&nbsp;pole")}), True),
        (_document({"data": _base64("Complete miscarriage. Empty uterus.")}), True),
        (_document({"contentType": "text/plain", "data": _base64("\ufeffComplete miscarriage", "utf-16-le")}), True),
        (
            _document(
                {
                    "contentType": "text/plain",
                    "data": _base64("Complete miscarriage??>").translate(str.maketrans("+/", "-_", "=")),
                }
            ),
            True,
        ),
        (_document({"contentType": "text/plain; charset=idna", "data": _base64("Live IUP, FHR 150 bpm")}), False),
        (_document({"data": _base64("\x00\x01PNG Complete miscarriage")}), False),
        (
            _document({"contentType": "text/html", "data": _base64("<p>&#" + "9" * 5000 + "; Missed miscarriage</p>")}),
            True,
        ),
        (
            _document({"contentType": "text/html", "data": _base64("&#" + "9" * 5000 + ";Mis&#99;arriage confirmed")}),
            True,
        ),
    ],
    ids=[
        "note-text-plain",
        "note-latin-1",
        "note-html",
        "note-normal",
        "note-pdf",
        "note-not-base64",
        "report-presented-form",
        "html-a-less-than-sign",
        "markdown-less-and-greater-than-signs",
        "plain-a-heading-on-the-third-line",
        "html-the-second-paragraph",
        "html-a-word-split-by-a-tag",
        "xml-cdata",
        "html-no-break-spaces",
        "no-content-type-utf-8",
        "utf-16-by-its-byte-order-mark",
        "url-safe-base64-without-padding",
        "a-charset-that-cannot-replace",
        "no-content-type-binary",
        "html-a-character-reference-of-5000-digits",
        "html-a-huge-reference-then-one-inside-a-word",
    ],
)
def test_the_words_of_an_attachment_in_text_are_read(reasoner, record, withheld):
    """Stop 47 (left by stop 46): a note or a report whose words are a base64 attachment of text (text/plain in its
    charset, HTML without its tags) naming a loss came out `indicated`, silent; now E2, named by its element, its
    words judged whole and sentence by sentence as a report's are (review rev47a). What is no text (a PDF, bytes
    with no media type) or no base64 is not read as words; a charset that cannot be read is read as UTF-8."""
    a = reasoner.assess(bundle(*INDICATED, record))
    ref = f"{record['resourceType']}/{record['id']}"
    said = [p for p in a.data_problems if p["record"] == ref and "could change the decision" in p["message"]]
    if withheld:
        assert a.status == "insufficient_data" and ref in a.missing, a.data_problems
        assert [p["field"] for p in said] == [next(k for k in ("content", "presentedForm") if k in record)], said
    else:
        assert a.status == "indicated" and not said, a.data_problems


LOSS_NOTE = _base64("Complete miscarriage. Empty uterus.")


def _binary(id_: str, data: str = LOSS_NOTE, media: str | None = "text/plain") -> dict:
    return {"resourceType": "Binary", "id": id_, "data": data} | ({"contentType": media} if media else {})


@pytest.mark.parametrize(
    "records,entry_urls,withheld",
    [
        ([_document({"contentType": "text/plain", "url": "Binary/b1"}), _binary("b1")], {}, True),
        ([_document({"url": "Binary/b1"}), _binary("b1")], {}, True),
        (
            [
                _document({"contentType": "text/plain", "url": "urn:uuid:7d1b3c0e-1f0a-4c55-9d7e-2f1f3a1b0c11"}),
                _binary("b1"),
            ],
            {"b1": "urn:uuid:7d1b3c0e-1f0a-4c55-9d7e-2f1f3a1b0c11"},
            True,
        ),
        (
            [_document({"contentType": "text/plain", "url": "#b1"}) | {"contained": [_binary("b1")]}],
            {},
            True,
        ),
        ([_report_form({"contentType": "text/html", "url": "Binary/b1"}), _binary("b1", media="text/html")], {}, True),
        ([_document({"contentType": "text/plain", "url": "Binary/b2"}), _binary("b1")], {}, False),
        (
            [_document({"contentType": "text/plain", "url": "https://docs.example.org/Binary/b1"}), _binary("b1")],
            {},
            False,
        ),
        (
            [_document({"contentType": "application/pdf", "url": "Binary/b1"}), _binary("b1", media="application/pdf")],
            {},
            False,
        ),
        (
            [
                _document({"contentType": "text/plain", "url": "Binary/b1"}),
                _binary("b1", _base64("Live IUP, FHR 150 bpm")),
            ],
            {},
            False,
        ),
        # (rev48: two Binaries of one id: the words of both are read, whichever comes first)
        (
            [
                _document({"contentType": "text/plain", "url": "Binary/b1"}),
                _binary("b1", _base64("Routine note, all well.")),
                _binary("b1"),
            ],
            {},
            True,
        ),
        (
            [
                _document({"contentType": "text/plain", "url": "Binary/b1"}),
                _binary("b1"),
                _binary("b1", _base64("Routine note, all well."), media="text/html"),
            ],
            {},
            True,
        ),
        (
            [
                _document({"contentType": "text/plain", "url": "#b1"})
                | {"contained": [_binary("b1", _base64("Routine note, all well.")), _binary("b1")]}
            ],
            {},
            True,
        ),
        # (rev48: only an Attachment's url is given a Binary's data, not an extension's)
        (
            [
                _document({"contentType": "text/plain", "url": "https://docs.example.org/n1"})
                | {"extension": [{"url": "Binary/b1", "valueString": "x"}]},
                _binary("b1", media=None),
            ],
            {},
            False,
        ),
    ],
    ids=[
        "document-Binary-id",
        "document-Binary-id-no-content-type",
        "document-urn-uuid",
        "document-contained-Binary",
        "report-presentedForm-Binary-html",
        "a-Binary-not-in-the-input",
        "an-http-address-is-not-fetched",
        "a-pdf-Binary",
        "a-Binary-of-no-loss",
        "two-Binaries-of-one-id-the-loss-second",
        "two-Binaries-of-one-id-the-loss-first",
        "two-contained-Binaries-of-one-id",
        "an-extension-url-is-no-attachment",
    ],
)
def test_an_attachment_citing_a_binary_of_the_input_is_read_as_its_data(reasoner, records, entry_urls, withheld):
    """Stop 48: a note whose Attachment cites by ``url`` a Binary in the same Bundle ("Binary/id", the entry's
    fullUrl "urn:uuid:...") or contained in it ("#id") came out `indicated`, silent, its words unread; now the
    Binary's data is read in its content type as an Attachment's own data is. Nothing is fetched: an http address,
    or a Binary the input does not hold, leaves the Attachment unread."""
    data = bundle(*INDICATED, *records)
    for entry in data["entry"]:
        if entry["resource"].get("id") in entry_urls and entry["resource"]["resourceType"] == "Binary":
            entry["fullUrl"] = entry_urls[entry["resource"]["id"]]
    a = reasoner.assess(data)
    ref = f"{records[0]['resourceType']}/{records[0]['id']}"
    said = [p for p in a.data_problems if p["record"] == ref and "could change the decision" in p["message"]]
    if withheld:
        assert a.status == "insufficient_data" and ref in a.missing and said, a.data_problems
        assert "Complete miscarriage" in said[0]["message"], said
    else:
        assert a.status == "indicated" and not said, a.data_problems


def test_a_binary_cited_from_deep_in_a_record_nested_as_deep_as_json_allows_is_read(reasoner):
    """The Attachments citing a Binary are found with a stack, not by recursion: a record nested 450 deep (as
    deep as the reader's JSON parsing allows) with a Binary beside it is read, not lost to a RecursionError."""
    depth = 450
    deep = json.loads(
        '{"linkId":"q","item":[' * depth
        + '{"linkId":"z","text":"Notes","answer":[{"valueAttachment":{"contentType":"text/plain","url":"Binary/b1"}}]}'
        + "]}" * depth
    )
    answers = {
        "resourceType": "QuestionnaireResponse",
        "id": "qr",
        "status": "completed",
        "subject": {"reference": "Patient/F"},
        "authored": "2026-11-20T10:00:00Z",
        "item": [deep],
    }
    a = reasoner.assess(bundle(*INDICATED, answers, _binary("b1")))
    assert a.status == "insufficient_data" and "QuestionnaireResponse/qr" in a.missing, a.data_problems


def _questionnaire(items: list, authored: str = "2026-11-20T10:00:00Z") -> dict:
    """Her answers to a questionnaire (R4 QuestionnaireResponse: a question's words in ``item.text``)."""
    return {
        "resourceType": "QuestionnaireResponse",
        "id": "qr",
        "status": "completed",
        "subject": {"reference": "Patient/F"},
        "authored": authored,
        "item": items,
    }


def _asked(text: str, **answer) -> dict:
    return {"linkId": "q", "text": text, "answer": [answer]}


ENDED = "Has this pregnancy ended in a miscarriage?"
PAST = "Have you had a miscarriage before?"


@pytest.mark.parametrize(
    "record,withheld",
    [
        (_questionnaire([_asked(ENDED, valueBoolean=True)]), True),
        (_questionnaire([_asked(ENDED, valueCoding={"system": "http://loinc.org", "code": "LA33-6"})]), True),
        (_questionnaire([_asked(ENDED, valueString="Yes")]), True),
        (_questionnaire([{"linkId": "g", "item": [_asked(ENDED, valueBoolean=True)]}]), True),
        (
            _questionnaire(
                [{"linkId": "p", "answer": [{"valueBoolean": True, "item": [_asked(ENDED, valueBoolean=True)]}]}]
            ),
            True,
        ),
        (_questionnaire([_asked(ENDED, valueBoolean=False)]), False),
        (_questionnaire([_asked(ENDED, valueCoding={"system": "http://loinc.org", "code": "LA32-8"})]), False),
        (_questionnaire([_asked("Any previous miscarriage?", valueBoolean=True)]), False),
        (_questionnaire([_asked("Worried about miscarriage?", valueBoolean=True)]), False),
        (_questionnaire([_asked("Have you had a miscarriage before?", valueBoolean=True)]), False),
        (_questionnaire([_asked("Have you had a miscarriage before?", valueString="Yes, 2 days ago")]), True),
        (_questionnaire([{"linkId": "q", "answer": [{"valueString": "Complete miscarriage"}]}], "2019-03-01"), False),
        # (stop 48: a yes written shortly, or first with a count or a time after it)
        (_questionnaire([_asked(ENDED, valueString="Y")]), True),
        (_questionnaire([_asked(ENDED, valueString="y.")]), True),
        (_questionnaire([_asked(ENDED, valueString="Yes x1")]), True),
        (_questionnaire([_asked(ENDED, valueString="Y, today")]), True),
        (_questionnaire([_asked(ENDED, valueString="yes - 2 days ago")]), True),
        (_questionnaire([_asked(ENDED, valueString="N")]), False),
        (_questionnaire([_asked(ENDED, valueString="No - 2 days of spotting only")]), False),
        (_questionnaire([_asked(ENDED, valueString="Yesterday I had some spotting")]), False),
        # (a question of the past answered yes and more is read as a loss: "Yes x1" is named, over-cautious, for
        # "Yes, 2 days ago" or "Yes. Passed products today." would not be: review rev48b)
        (_questionnaire([_asked(PAST, valueString="Yes x1")]), True),
        (_questionnaire([_asked(PAST, valueString="Yes, today")]), True),
        (_questionnaire([_asked(PAST, valueString="Yes, this pregnancy")]), True),
    ],
    ids=[
        "yes-true",
        "yes-loinc-LA33-6",
        "yes-in-words",
        "yes-in-a-group",
        "yes-under-an-answer",
        "no-false",
        "no-loinc-LA32-8",
        "a-past-loss",
        "a-worry",
        "a-question-of-the-past",
        "a-question-of-the-past-answered-yes-days-ago",
        "an-answer-of-2019",
        "yes-Y",
        "yes-y-dot",
        "yes-x1",
        "yes-Y-today",
        "yes-dash-days-ago",
        "no-N",
        "no-dash-days",
        "yesterday-is-no-yes",
        "past-yes-x1-named",
        "past-yes-today",
        "past-yes-this-pregnancy",
    ],
)
def test_a_question_answered_yes_states_what_it_asks(reasoner, record, withheld):
    """Stop 47: a question's words are not read (they ask), so "Has this pregnancy ended in a miscarriage?" answered
    true came out `indicated`, silent; answered yes, a question states what it asks (E2, named by its element
    ``item``). A questionnaire is dated by when it was answered (``authored``: it was "taken to belong to this
    pregnancy", undated)."""
    a = reasoner.assess(bundle(*INDICATED, record))
    said = [
        p
        for p in a.data_problems
        if p["record"] == "QuestionnaireResponse/qr" and "could change" in p["message"] and p["severity"] != "info"
    ]  # (an earlier pregnancy's is said as such, "info")
    undated = [
        p for p in a.data_problems if p["record"] == "QuestionnaireResponse/qr" and "cannot be told" in p["message"]
    ]
    assert not undated, undated
    if withheld:
        assert a.status == "insufficient_data" and [p["field"] for p in said] == ["item"], a.data_problems
    else:
        assert a.status == "indicated" and not said, a.data_problems


def test_a_library_or_a_measure_is_no_record_of_hers(reasoner):
    """Review rev47a (HL7's Library-hiv-indicators carries its CQL as a base64 attachment): a knowledge artifact has
    no subject because it is about no patient, so its words are not read as maybe hers."""
    cql = 'define "Complete miscarriage": [Condition: "Complete miscarriage"]'
    library = {
        "resourceType": "Library",
        "id": "lib",
        "status": "active",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/library-type", "code": "logic-library"}]},
        "date": "2026-11-20",
        "content": [{"contentType": "text/cql", "data": _base64(cql)}],
    }
    measure = {"resourceType": "Measure", "id": "m", "status": "active", "description": "Complete miscarriage rate"}
    a = reasoner.assess(bundle(*INDICATED, library, measure))
    assert (a.status, a.data_problems) == ("indicated", []), a.data_problems


def test_a_record_containing_thousands_of_records_is_read_in_linear_time(reasoner):
    """A List holding 3,000 contained Observations: this stop's first reading of a contained record's container
    kept a table of all that it contains on each of them, which the readers walked (quadratic: 1,000 took 9 s, 5,000
    about 4 minutes); now one table, no reader walks into. A regression shows as minutes, not as a failure."""
    weights = [
        {
            "resourceType": "Observation",
            "id": f"o{i}",
            "status": "final",
            "code": {"text": "weight"},
            "valueQuantity": {"value": 70, "unit": "kg"},
        }
        for i in range(3000)
    ]
    listed = {
        "resourceType": "List",
        "id": "l",
        "status": "current",
        "mode": "snapshot",
        "subject": {"reference": "Patient/F"},
        "contained": weights,
    }
    assert reasoner.assess(bundle(*INDICATED, listed)).status == "indicated"
