"""Typed namespaces of the terms the Python code uses.

``_fail = True`` makes a typo an AttributeError at import time, and
``tests/test_ontology.py`` checks that every term listed here is declared in the
ontology. The Python code deliberately uses core terms only: everything
guidance-specific is reached through the ontology and the SPARQL queries.
"""

from __future__ import annotations

from rdflib import Namespace, URIRef
from rdflib.namespace import DefinedNamespace

KGR_IRI = "https://w3id.org/kg-reasoner/ontology#"


PATIENT_BASE = "https://w3id.org/kg-reasoner/patient/"


ERR = Namespace("http://www.daml.org/2002/03/agents/agent-ont#")


class KGR(DefinedNamespace):
    """kg-reasoner core ontology terms used by the code."""

    _fail = True
    _NS = Namespace(KGR_IRI)

    # classes
    Patient: URIRef
    Presence: URIRef
    EpisodeRecord: URIRef
    EventCondition: URIRef
    UninterpretedRecord: URIRef
    ReactionToItsMedication: URIRef
    ReferencePopulation: URIRef
    CodePattern: URIRef
    Finding: URIRef
    Symptom: URIRef
    Condition: URIRef
    Cause: URIRef
    Measurement: URIRef
    ImagingResult: URIRef
    MedicationUse: URIRef
    Record: URIRef
    Status: URIRef
    ReferenceRange: URIRef
    UnitOfMeasure: URIRef
    ResultStatus: URIRef
    IgnoredResultStatus: URIRef
    Interpretation: URIRef
    Normal: URIRef
    SymptomCourse: URIRef
    Severity: URIRef
    # individuals
    Present: URIRef
    Absent: URIRef
    # annotation properties
    summaryKey: URIRef
    reactionClass: URIRef
    attributeUnit: URIRef
    summaryValue: URIRef
    allowedSeverity: URIRef
    allowedConclusion: URIRef
    wordsAgreeWith: URIRef
    assessedBy: URIRef
    assessedAsOf: URIRef
    code: URIRef
    ucumCode: URIRef
    substance: URIRef
    # object / datatype properties
    hasFinding: URIRef
    hasMeasurement: URIRef
    hasImagingResult: URIRef
    hasMedicationUse: URIRef
    hasRecord: URIRef
    presence: URIRef
    severity: URIRef
    value: URIRef
    unit: URIRef
    referenceLow: URIRef
    interpretation: URIRef
    effectiveTime: URIRef
    resultStatus: URIRef
    sourceRecord: URIRef
    sourceCode: URIRef
    effectiveTimeLatest: URIRef
    timeAsRecorded: URIRef
    beganNoLaterThan: URIRef
    episodeStart: URIRef
    hasEarlierEpisodeRecord: URIRef
    gestationalAgeAtRecordWeeks: URIRef
    includesCodesUnder: URIRef
    includesCodesMatching: URIRef
    inCodeSystem: URIRef
    pattern: URIRef
    fhirSystem: URIRef
    fhirResourceType: URIRef
    absenceMeans: URIRef
    gestationalWeeksOnValueDate: URIRef
    uninformativeBeforeWeek: URIRef
    datesNoPregnancyBeyondWeek: URIRef
    StaleDatingRecord: URIRef
    showsAPregnancy: URIRef
    showsAPregnancyForWeeks: URIRef
    NamesOfPresence: URIRef
    namePattern: URIRef
    showsNoPregnancyBelow: URIRef
    showsAPregnancyFrom: URIRef
    showsAPregnancyInUnit: URIRef
    PregnancyNotShownRecord: URIRef
    fhirSystemAlias: URIRef
    codePattern: URIRef
    recordCodePattern: URIRef
    sourceSentence: URIRef
    iriPrefix: URIRef
    includesAssessedPatients: URIRef
    textPattern: URIRef
    appliesFromWeek: URIRef
    appliesBeforeWeek: URIRef
    comparator: URIRef
    patientId: URIRef
    gestationalAgeWeeks: URIRef
    TimeUnit: URIRef
    forMeasurementClass: URIRef
    fromUnit: URIRef
    unitsPerWeek: URIRef
    unitSynonym: URIRef
    conception: URIRef
    conclusion: URIRef
    medicallySupervised: URIRef
    symptomCourse: URIRef
    hasStatus: URIRef


def _as_attributes(namespace: type) -> None:
    """Each declared term as a plain class attribute: ``KGR.Patient`` is then an attribute lookup, not a
    call of rdflib's metaclass ``__getattr__`` that checks the name and builds a new URIRef every time
    (the readers and engines look terms up per triple). An undeclared name still fails (``_fail``)."""
    for name in namespace.__annotations__:
        type.__setattr__(namespace, name, namespace[name])


_as_attributes(KGR)
