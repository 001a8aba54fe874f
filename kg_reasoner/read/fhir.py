"""HL7 FHIR R4 input: Bundles (any type, nested), single resources and bulk-data NDJSON exports
(plain or gzip), read into the kgr vocabulary. docs/fhir-reading.md says what is read and why.

What a code means is data: the ontology's cross-references (skos:exactMatch / closeMatch /
narrowMatch, ``queries/fhir-codes.rq``) and its wider value sets (ICD-10 categories and code
patterns, ``queries/fhir-code-sets.rq``), read as FHIR codings through ``ontology/code-systems.ttl``.
Every coding of a CodeableConcept and every entry of a list is read; when codings mean different
things the record carries every meaning, so OWL-RL and the rules let the safety-relevant one decide.

This module applies FHIR's own semantics (statuses, verification, references, quantities, times of
any precision, modifier extensions) and writes the triples a patient summary would give, citing
each resource as ``Type/id``. What it cannot read is never dropped in silence: a record it cannot
interpret in a value set that could bear on the decision becomes a ``kgr:UninterpretedRecord`` (the
guidance makes the outcome more cautious), and a resource it cannot read at all (not R4-shaped, an
unknown modifier extension, a broken NDJSON line) makes its patient fail closed (not assessed),
named in ``data_problems``.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import datetime as _dt
import html
import itertools
import re
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS

from kg_reasoner.errors import InputError, PatientDataError, UnreadableInputError
from kg_reasoner.explain.queries import ontology_store, store_rows
from kg_reasoner.namespaces import KGR
from kg_reasoner.read.fhir_shape import shape_problems
from kg_reasoner.read.patient import (
    PatientInput,
    ReadStopped,
    add_time,
    decimal_literal,
    json_loads,
    number_problem,
    numbered_lines,
    patient_iri,
    time_literal,
)
from kg_reasoner.read.times import TimeInterval, after, parse_time, present

UCUM = "http://unitsofmeasure.org"


#: Resource types read; any other type is listed as a data problem, never silently dropped.
READ_TYPES = (
    "Patient",
    "Observation",
    "Condition",
    "DiagnosticReport",
    "MedicationRequest",
    "MedicationStatement",
    "MedicationAdministration",
    "MedicationDispense",
    "Medication",
    "Procedure",
)


#: How far apart two datings of a pregnancy's start may be without being said to disagree, and how far before
#: the estimated start a record may begin and still overlap this pregnancy (if it did not end before it).
DATING_TOLERANCE = _dt.timedelta(weeks=2)

#: FHIR statuses (Observation, DiagnosticReport) whose resources are ignored.
IGNORED_STATUS = {"entered-in-error", "cancelled"}

#: the elements of an Observation that ``FhirPatientBuilder.unread`` reads (its code, values, conclusions and components),
#: and its reference ranges, whose words name populations ("Not pregnant: < 5 IU/L"), not her
_OBSERVATION_UNREAD = frozenset(
    (
        "code",
        "valueCodeableConcept",
        "valueString",
        "conclusionCode",
        "conclusion",
        "component",
        "category",
        "referenceRange",
    )
)

#: the elements of a cancelled record that say why it was cancelled or what it was for: what it records did not
#: happen (an appointment, an order, a test), but these may still be true of her ("cancelationReason: patient
#: miscarried", a progesterone order's statusReason "complete miscarriage"): read by ``elsewhere``, nothing else of it
_WHY_CANCELLED = frozenset(
    (
        "statusReason",
        "cancelationReason",
        "reasonCode",
        "reasonReference",
        # (an Encounter's or an EpisodeOfCare's diagnoses: what it was for; R5's reason and cancellationReason, and
        # the extensions that carry them in R4, such as HL7's cross-version extension-Appointment.cancellationReason)
        "diagnosis",
        "reason",
        "cancellationReason",
        "extension",
    )
)


#: FHIR Observation.status -> the summary's result status (kgr:summaryValue).
RESULT_STATUS = {
    "final": "final",
    "amended": "final",
    "corrected": "final",
    "preliminary": "preliminary",
    "registered": "preliminary",
    "entered-in-error": "entered-in-error",
    "cancelled": "cancelled",
}


#: Condition.clinicalStatus codes meaning the condition is not present now (an event condition stays present).
NOT_PRESENT = {"inactive", "resolved", "remission"}

#: The HL7 clinical statuses of a condition that is current (condition-clinical)
CURRENT_CLINICAL = {"active", "recurrence", "relapse"}


#: The code systems of Condition.clinicalStatus and Condition.verificationStatus (HL7 terminology).
CLINICAL_SYSTEM = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
#: ... and of AllergyIntolerance.clinicalStatus and verificationStatus
ALLERGY_SYSTEMS = (
    "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
    "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
)


#: Condition.verificationStatus codes that do not confirm a condition.
UNCONFIRMED = {"unconfirmed", "provisional", "differential"}


#: Medication statuses (R4 MedicationRequest / MedicationStatement, and R5 MedicationStatement 'recorded')
#: meaning the medication is in use, and those meaning it is not; any other status is read as in use.
IN_USE = {
    "MedicationRequest": {"active", "on-hold"},
    "MedicationStatement": {"active", "intended", "on-hold", "recorded"},
    "MedicationAdministration": {"in-progress", "on-hold", "completed"},
    "MedicationDispense": {"preparation", "in-progress", "on-hold", "completed"},
}


NOT_IN_USE = {
    "MedicationRequest": {"completed", "stopped", "cancelled", "entered-in-error", "draft", "ended"},
    "MedicationStatement": {"completed", "stopped", "not-taken", "entered-in-error", "draft"},
    # (an administration or a dispense that was done belongs to the current use: "completed" is in use)
    "MedicationAdministration": {"not-done", "entered-in-error", "stopped"},
    "MedicationDispense": {"cancelled", "entered-in-error", "stopped", "declined"},
}


#: MedicationRequest.intent of a suggestion, not an order: a proposal, an option (R4 request-intent)
NOT_AN_ORDER = {"proposal", "option"}


#: Procedure.status: done or under way (present), not done (absent), ignored.
PROCEDURE_PRESENT, PROCEDURE_ABSENT = {"completed", "in-progress"}, {"not-done"}


#: How deep Bundles may nest (a Bundle entry holding a Bundle) before the reader refuses.
MAX_BUNDLE_DEPTH = 8


_PATIENT_REF = re.compile(r'"(?:subject|patient)"\s*:\s*\{\s*"reference"\s*:\s*"([^"]+)"')


_RESOURCE_TYPE = re.compile(r'"resourceType"\s*:\s*"([A-Za-z]+)"')


def _codings(codeable: Any) -> list[tuple[str, str]]:
    codings = codeable.get("coding") if isinstance(codeable, dict) else None
    # (read before a resource's shape is checked, too: a coding that is not a list is no coding)
    return [
        (str(c.get("system", "")), str(c.get("code", "")))
        for c in (codings if isinstance(codings, list) else [])
        if isinstance(c, dict)
    ]


#: what the reader reads of a Condition
_CONDITION_READ = frozenset(("code", "clinicalStatus", "verificationStatus", "severity"))
#: what the reader reads of a medication record, or that says nothing of her condition (its dose, its route)
_MEDICATION_READ = frozenset(
    (
        "medicationCodeableConcept",
        "medicationReference",
        "status",
        "intent",
        "category",
        "dosage",
        "dosageInstruction",
        "dispenseRequest",
        "substitution",
    )
)
#: the keys of a CodeableConcept (one given in text only has no other)
_CONCEPT_KEYS = frozenset(("text", "coding", "id", "extension"))
#: a string of words: three letters in a row (not a date, a number, a code or a UUID of hex digits alone)
_WORDS = re.compile(r"[^\W\d_]{3}")
#: an address (a URL, a URN, an OID), not words
_ADDRESS = re.compile(r"^\s*(https?|urn|ftp|file|mailto|tel|oid):", re.IGNORECASE)
#: the resource types about other people than the patient (a relative's history): their strings are not read as hers
_ABOUT_OTHERS = frozenset(("FamilyMemberHistory", "RelatedPerson"))
#: the elements whose References name what a record is about or for (a reason, a diagnosis, a finding): the display
#: of one is read as its name
_ABOUT_REFERENCES = frozenset(("reasonReference", "condition", "addresses", "finding", "itemReference"))


#: the resource types a Reference may name that say what a record is about (a finding, a result, a problem): the
#: display of a Reference to one is read as its name (not a family member's history, a person, a place)
_ABOUT_TYPES = frozenset(
    (
        "Condition",
        "Observation",
        "DiagnosticReport",
        "Procedure",
        "ClinicalImpression",
        "ImagingStudy",
        "DocumentReference",
        "RiskAssessment",
        "AllergyIntolerance",
        "MedicationStatement",
        "MedicationRequest",
        "EpisodeOfCare",
        "ServiceRequest",
    )
)


def _about(reference: dict) -> bool:
    """Whether a Reference names a record of what a record is about (``_ABOUT_TYPES``), by its ``type`` or the
    resource type of its ``reference`` (relative or absolute)."""
    kind = reference.get("type")
    if not isinstance(kind, str):
        target = reference.get("reference")
        parts = target.split("/") if isinstance(target, str) else []
        if "_history" in parts:  # (a version of it: Observation/o/_history/1)
            parts = parts[: parts.index("_history")]
        kind = parts[-2] if len(parts) >= 2 else None
    return kind in _ABOUT_TYPES


#: the elements whose strings are no words about the patient (ids, references, addresses, codes of a Coding, names of
#: people, dates, units, a Reference's or a Coding's display: read where it names something, ``_codeables``)
_NOT_WORDS = frozenset(
    (
        "id",
        "resourceType",
        "status",
        "intent",
        "priority",
        "reference",
        "url",
        "fullUrl",
        "system",
        "version",
        "display",
        "unit",
        "language",
        "gender",
        "use",
        "family",
        "given",
        "prefix",
        "suffix",
        "div",
        "contentType",
        "data",
        "hash",
        "linkId",
        "definition",
        "comparator",
        "mode",
        "valueUri",
        "valueUrl",
        "valueCanonical",
        "valueId",
        "valueBase64Binary",
        "instantiatesCanonical",
        "instantiatesUri",
        "implicitRules",
        "profile",
        "source",
        "questionnaire",
        "instantiates",
        "protocol",
        "policy",
        "uri",
        "definitionUri",
    )
)


def _codeables(node: Any, key: str = "", skip: frozenset[str] = frozenset(), strings: bool = False) -> Iterator[dict]:
    """Every CodeableConcept in a resource (an object with a ``coding`` list, or one given in text only: an
    Encounter's type "Early pregnancy unit - missed miscarriage"), at any depth, but not in its ``meta`` (security
    labels and tags are about the record, not the patient), its notes, its narrative or its contained resources, nor
    under the top-level keys ``skip`` (what a reader has read); and, as a concept given in text only, the display of a
    Reference naming what the record is for (``_ABOUT_REFERENCES``: a reasonReference displayed "Incomplete
    miscarriage"). With ``strings``, also every string of words in it, as a concept given in text only: a free-text
    element (a ClinicalImpression's summary, a Procedure's or a CarePlan's description, an answer given as a string),
    or a string where R4 has a concept (a reasonCode written "Complete miscarriage"); not the strings of a Coding, an
    Identifier or a Reference, nor ids, addresses, codes, dates or names of people (``_NOT_WORDS``), nor what the
    reader keeps beside a resource (``_fullUrl``) or a primitive's extensions (``_birthDate``)."""
    if isinstance(node, str):
        if (
            strings
            and key not in _NOT_WORDS
            and not key.startswith("_")
            and _WORDS.search(node)
            and not _ADDRESS.match(node)
        ):
            yield {"text": node}
        return
    if isinstance(node, dict):
        text = node.get("text")
        if isinstance(node.get("coding"), list) or (
            isinstance(text, str) and key not in ("note", "text") and node.keys() <= _CONCEPT_KEYS
        ):
            yield node
        elif isinstance(node.get("display"), str) and (
            key in _ABOUT_REFERENCES
            or _about(node)
            # (with ``strings``: a Reference given by its display alone, to what cannot be told: read as words)
            or (strings and not any(k in node for k in ("reference", "type", "system", "code")))
        ):
            yield {"text": node["display"]}
        elif strings and key != "coding" and isinstance(node.get("system"), str) and isinstance(node.get("code"), str):
            # (a Coding where R4 has a concept, an element of its own: read by its code and display; not a Quantity)
            if "value" not in node:
                yield {"coding": [node]}
        elif key.endswith("Coding") and (isinstance(node.get("code"), str) or isinstance(node.get("display"), str)):
            # (a Coding: an extension's valueCoding, by its code or, without one, its display)
            yield {"coding": [node]}
        attached = _attachment_text(node) if strings else None
        if attached:  # (an Attachment's own words: a report's presentedForm, a document's content, as text)
            yield {"text": attached}
        for k, value, words in _inside(node, key, skip, strings):
            yield from _codeables(value, k, strings=words)
    elif isinstance(node, list):
        for item in node:
            yield from _codeables(item, key, strings=strings)


def _remembered(cache: dict, key: Any, make: Callable[[], Any]) -> Any:
    """``cache[key]``, made once by ``make()``; the cache is emptied past 50,000 entries (bounded: the names of a
    corpus's codes repeat, free texts need not)."""
    found = cache.get(key)
    if found is None:
        if len(cache) > 50_000:
            cache.clear()
        found = cache[key] = make()
    return found


def _inside(node: dict, key: str, skip: frozenset[str], strings: bool) -> Iterator[tuple[str, Any, bool]]:
    """The elements of an object ``_codeables`` walks into (not its meta, contained resources, narrative, notes or
    predictions, nor ``skip``), each with whether its strings are read as words (``strings``, but not those of a
    Coding, an Identifier or a Reference: codes, ids and addresses)."""
    words = strings and not (key == "coding" or key.endswith("Coding") or "system" in node or "reference" in node)
    for k, value in node.items():
        if k not in ("meta", "contained", "text", "note", "prediction") and k not in skip:
            yield k, value, words


#: the media types of an Attachment whose data is words (plain text, markdown, CSV, JSON, RTF...), and of those the
#: markup whose tags are no words (HTML, XHTML, XML)
_TEXT_MEDIA = re.compile(
    r"^\s*(text/[\w.+-]+|application/([\w.+-]*\+)?(xml|json)|application/(x-)?rtf)\s*(;|$)", re.IGNORECASE
)
_MARKUP_MEDIA = re.compile(r"^\s*(text/(html|xml)|application/([\w.+-]*\+)?xml)\s*(;|$)", re.IGNORECASE)
_CHARSET = re.compile(r";\s*charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
#: a tag (its name begins with a letter, "/", "!" or "?"; it holds no "<" or ">": so "hCG <5 IU/L ... >2 weeks" is
#: none, and a text of many "<" is read in linear time); the tags that end a block of text, read as a line end
_TAG = re.compile(r"<[/!?]?[A-Za-z][^<>]*>|<!--[^<>]*-->")
_HUGE_REFERENCE = re.compile(r"&#(?:[xX][0-9a-fA-F]{9,}|[0-9]{9,});?")
_BLOCK_TAG = re.compile(
    r"<[/!?]?(p|div|br|li|ul|ol|tr|td|th|table|h[1-6]|section|article|header|footer|title|paragraph|item|list|"
    r"text|content|hr|dd|dt|caption|blockquote|pre)\b[^<>]*>",
    re.IGNORECASE,
)


def _attachment_text(node: dict) -> str | None:
    """The words of an Attachment whose data is text (``contentType`` text/plain, text/html, markdown, XML, JSON,
    RTF: a DiagnosticReport's presentedForm, a DocumentReference's content; with no ``contentType``, data that is
    UTF-8 text), decoded from base64 (also URL-safe, or without its padding) in its charset (else by its byte-order
    mark, else UTF-8; an undecodable byte replaced), the tags of markup left out (a block's tag read as a line end,
    an inline one as nothing: a word split by a tag is one word) and its character references read; None for any
    other node, or data that is not base64 (what cannot be read is said by the record's reader, which reads the rest
    of the record)."""
    data, media = node.get("data"), node.get("contentType")
    unlabelled = "contentType" not in node  # (R4 asks for one; without it, only UTF-8 text is read, not a picture)
    if not isinstance(data, str) or not (unlabelled or (isinstance(media, str) and _TEXT_MEDIA.match(media))):
        return None
    packed = re.sub(r"\s+", "", data)
    try:  # (base64 broken over lines is read; other characters are no base64)
        raw = base64.b64decode(
            packed + "=" * (-len(packed) % 4), altchars=b"-_" if re.search(r"[-_]", packed) else None, validate=True
        )
    except (binascii.Error, ValueError):
        return None
    if unlabelled or not isinstance(media, str):
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return None
        return text if _WORDS.search(text) and not re.search(r"[\x00-\x08\x0e-\x1f]", text) else None
    charset = _CHARSET.search(media)
    if charset is not None:
        name = charset.group(1)
    else:  # (a byte-order mark tells UTF-16, and UTF-8 with one)
        name = "utf-16" if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    try:
        text = raw.decode(name, errors="replace")
    except (LookupError, UnicodeError, ValueError):  # (a charset Python does not know or cannot replace in: UTF-8)
        text = raw.decode("utf-8", errors="replace")
    if _MARKUP_MEDIA.match(media):
        text = re.sub(r"<!\[CDATA\[|\]\]>", " ", text)
        # (a numeric reference too long to be a character, thousands of digits, is no word: html.unescape would
        # raise on it, and the others would go unread)
        text = html.unescape(_TAG.sub("", _BLOCK_TAG.sub("\n", _HUGE_REFERENCE.sub(" ", text))))
    text = text.replace("\xa0", " ")  # (a no-break space, "&nbsp;", is a space to the names)
    return text if _WORDS.search(text) else None


def _elements(r: dict, skip: frozenset[str], strings: bool) -> Iterator[tuple[str, dict]]:
    """``_codeables(r, skip=skip, strings=strings)`` of a resource (which is no concept itself), each with the
    top-level element it stands in (``reasonCode``, ``evidence``)."""
    for k, value, words in _inside(r, "", skip, strings):
        for codeable in _codeables(value, k, strings=words):
            yield k, codeable


#: Where a record the guidance does not read has its own time (``_time_of`` order)
_OWN_TIME = (
    "effectiveDateTime",
    "effectiveInstant",
    "performedDateTime",
    "occurrenceDateTime",
    "onsetDateTime",
    "whenHandedOver",
    "recordedDate",
    "date",
    "authoredOn",
    "dateAsserted",
    "issued",
    "created",
    # (stop 47: a questionnaire's answers, a message sent, a picture taken, a study begun, an issue found)
    "authored",
    "sent",
    "createdDateTime",
    "started",
    "identifiedDateTime",
)
#: the periods a record the guidance does not read (or not all of) happened in: its period's end dates it; of
#: those after the first two, its start does when it has no end (a procedure still going on began then)
_OWN_PERIODS = ("period", "billablePeriod", "performedPeriod", "effectivePeriod", "onsetPeriod", "occurrencePeriod")


def _component_codeables(component: dict) -> list:
    """The coded elements of an Observation component that state something: its coded value, and its code
    unless its value is a number or false (a count of stillbirths, 0, is no stillbirth)."""
    counted = any(k in component for k in ("valueQuantity", "valueInteger", "valueRange", "valueRatio")) or (
        component.get("valueBoolean") is False
    )
    return [component.get("valueCodeableConcept")] + ([] if counted else [component.get("code")])


#: the titles whose full stop may end a sentence ("Counselled by Dr. No fetal heart seen.") or come before a name
#: ("Seen by Dr. Smith. Absent today.")
_TITLES = ("[Dd]r", "[Dd]rs", "[Mm]r", "[Mm]rs", "[Mm]s", "[Mm]x", "[Pp]rof", "St")
_TITLE_DOT = re.compile(rf"\b(?:{'|'.join(_TITLES)})\.(?=\s|$)")


def _sentence_end(not_after: str) -> re.Pattern:
    """Where a sentence ends: a full stop before a space or the end (not a decimal point, nor one ending an
    abbreviation dotted letter by letter, nor one after ``not_after``), a time's "a.m." or "p.m." before a capital
    ("Scan at 9 a.m. Fetal heart absent"), a semicolon or a line end."""
    return re.compile(
        rf"(?:(?<!\b[^\W\d_]\.[^\W\d_]){not_after}\.(?=\s|$)"
        r"|(?:(?<=\d[aApP]\.[mM])|(?<=\d [aApP]\.[mM]))\.(?=\s+[A-Z])|[;\n])+"
    )


_SENTENCE_END = _sentence_end("")
#: where a sentence ends when a title's full stop does not end one (``_TITLE_DOT``)
_SENTENCE_END_PAST_TITLES = _sentence_end("".join(rf"(?<!\b{t})" for t in _TITLES))


def _sentences(text: str) -> list[str]:
    """A text's sentences: split at a full stop before a space or the end, a semicolon or a line end (not at a
    decimal point: "CRL 7.5 mm"; not at the end of an abbreviation dotted letter by letter: "Z.n. Fehlgeburt", "s.p.",
    "e.g.", unless it is a time's "a.m." or "p.m." before a capital: "Scan at 9 a.m. Fetal heart absent"; but after a
    word of one letter: "twin A. Absent in twin B"; and after a title: "Counselled by Dr. No fetal heart seen.")."""
    return [c.strip() for c in _SENTENCE_END.split(text) if c.strip()]


def _sentences_past_titles(text: str, sentences: list[str]) -> list[str]:
    """A text's sentences read as if a title's full stop ends none ("Fetal heart seen by Dr. Smith", "Absent
    today"), when it has such a full stop and they differ from its ``sentences`` (``_sentences(text)``, as the
    caller has them); else none: a reading judged beside that of ``_sentences``, never in its place (a title may
    end a sentence: "Counselled by Dr. No fetal heart seen.")."""
    if not _TITLE_DOT.search(text):
        return []
    merged = [c.strip() for c in _SENTENCE_END_PAST_TITLES.split(text) if c.strip()]
    return merged if merged != sentences else []


def _all_sentences(text: str) -> list[str]:
    """A text's sentences (``_sentences``), then those read past a title's full stop that are not among them
    (``_sentences_past_titles``)."""
    sentences = _sentences(text)
    merged = _sentences_past_titles(text, sentences)
    if not merged:
        return sentences
    known = set(sentences)  # (a set: a long text has thousands of sentences)
    return sentences + [m for m in merged if m not in known]


#: how far a negation before a match (in characters, back to the clause's start) and after it is looked for
_BEFORE, _AFTER = 80, 60


def _in_scope(window: str) -> str:
    """The words before a match that a negation could reach: back to a full stop, a semicolon, a line end or a
    comma, unless the comma is one of a list the match ends ("No evidence of ectopic, molar or heterotopic
    pregnancy": the list's "or" carries the negation over its commas)."""
    parts = re.split(r"[;\n]|\.(?=\s)", window)[-1].split(",")
    scope = parts.pop()
    while parts and re.search(r"\b(n?or)\b", scope, re.IGNORECASE):
        scope = parts.pop() + "," + scope
    return scope


@dataclass
class NameNet:
    """A value set read from names (kgr:includesCodesNamed). A name belongs to ``concept`` when it matches
    ``context`` (what it must be about, anywhere in it) and, in the whole name or (``by_sentence``) in one of its
    sentences, not excluded by ``unless``, ``pattern`` matches with none of: ``clause_unless`` matching the
    clause the match stands in; ``before`` matching the words before it in its clause (a negation: "no evidence
    of"); ``after`` matching the words right after it ("excluded")."""

    pattern: re.Pattern
    concept: URIRef
    unless: re.Pattern | None = None
    before: re.Pattern | None = None
    after: re.Pattern | None = None
    context: re.Pattern | None = None
    clause_unless: re.Pattern | None = None
    by_sentence: bool = False
    #: what ends a clause for ``clause_unless`` (kgr:clauseEndsAt); None: a comma
    clause_end: re.Pattern | None = None
    #: each sentence also judged joined to the next as its later clause (kgr:judgedWithTheNextSentence)
    with_next: bool = False

    def names(self, name: str) -> bool:
        if self.context is not None and not self.context.search(name):
            return False
        for unit in self._units(name):
            if self.unless is not None and self.unless.search(unit):
                continue
            ends: tuple[list[int], list[int]] | None = None  # (the unit's clause ends, found once when first needed)
            judged: dict[tuple[int, int], bool] = {}  # (each clause judged once: a long text names a loss many times)
            for m in self.pattern.finditer(unit):
                if self.clause_unless is not None:
                    if ends is None:
                        ends = self._clause_ends(unit)
                    span = self._clause(unit, m, ends)
                    excluded = judged.get(span)
                    if excluded is None:
                        excluded = judged[span] = self.clause_unless.search(unit[span[0] : span[1]]) is not None
                    if excluded:
                        continue
                if self.before is not None and self.before.search(
                    _in_scope(unit[max(0, m.start() - _BEFORE) : m.start()])
                ):
                    continue
                if self.after is not None and self.after.search(unit[m.end() : m.end() + _AFTER]):
                    continue
                return True
        return False

    def _units(self, name: str) -> list[str]:
        """What is judged: the whole name, or each sentence (``by_sentence``), and each sentence joined to the next
        by a comma (``with_next``)."""
        if not self.by_sentence:
            return [name]
        # (each once: a text may repeat a sentence, and is read both at and past a title's full stop)
        return list(dict.fromkeys(_sentences_and_pairs(name) if self.with_next else _all_sentences(name)))

    def _clause_ends(self, unit: str) -> tuple[list[int], list[int]]:
        """(starts, ends) of the unit's clause ends (``clause_end``, by default a comma), in order: found in the whole
        unit, once (a clause end's look-ahead may read a loss's own words: "Ectopic ruled out: miscarriage")."""
        if self.clause_end is None:
            commas = [i for i, c in enumerate(unit) if c == ","]
            return commas, [i + 1 for i in commas]
        found = [(e.start(), e.end()) for e in self.clause_end.finditer(unit)]
        starts = [a for a, _ in found]

        def ends_at(i: int) -> int | None:  # (the clause end covering position i, by its index in found)
            k = bisect.bisect_right(starts, i) - 1
            return k if k >= 0 and i < found[k][1] else None

        # (a bracketed aside is one piece: a closing bracket whose opening bracket ends no clause ends none either)
        inside: set[int] = set()
        opened: list[int] = []
        for m in re.finditer(r"[(\[)\]]", unit):
            if m.group() in "([":
                opened.append(m.start())
            elif opened and ends_at(opened.pop()) is None and (k := ends_at(m.start())) is not None:
                inside.add(k)
        if inside:
            found = [f for k, f in enumerate(found) if k not in inside]
        return [a for a, _ in found], [b for _, b in found]

    def _clause(self, unit: str, m: re.Match, ends: tuple[list[int], list[int]]) -> tuple[int, int]:
        """(start, end) of the clause of the unit that the match stands in: from the end of the last clause end before
        it to the start of the first one after it (``_clause_ends``). Looked up, not searched for each match: a text
        of 100,000 characters naming a loss thousands of times is read in linear time."""
        starts, stops = ends
        k = bisect.bisect_right(stops, m.start())
        start = stops[k - 1] if k else 0
        if self.clause_end is None:
            i = bisect.bisect_left(starts, m.end())
            return start, starts[i] if i < len(starts) else len(unit)
        # (the first clause end at or after the match's end: searched from there, as a clause end found in the whole
        # unit may straddle it; the search stops at the next one found in the whole unit, if any)
        i = bisect.bisect_left(starts, m.end())
        straddles = i > 0 and stops[i - 1] > m.end()
        if i == len(starts) and not straddles:
            return start, len(unit)
        after = self.clause_end.search(unit, m.end())
        return start, after.start() if after is not None else len(unit)


def _written(element: dict) -> set[str]:
    """An Observation's (or component's) value as written in words: its valueString, its valueCodeableConcept's
    text and displays, stripped."""
    vcc = element.get("valueCodeableConcept")
    texts = [element.get("valueString"), *(([vcc.get("text")] + _displays(vcc)) if isinstance(vcc, dict) else [])]
    return {t.strip() for t in texts if isinstance(t, str)}


def _sentences_and_pairs(text: str) -> list[str]:
    """A free text's sentences, then each sentence joined to the next as its later clause (a comma between): a
    report's sentences are judged each by its own words, and a sentence that leaves its subject unsaid with the one
    before it ("Fetal heart seen at 7 weeks. Not seen today."); and beside them (not in their place) the sentences
    read past a title's full stop, and their pairs (``_sentences_past_titles``: "Fetal heart seen by Dr. Smith.
    Absent today.")."""
    sentences = _sentences(text)
    out = sentences + [f"{a}, {b}" for a, b in zip(sentences, sentences[1:])]
    merged = _sentences_past_titles(text, sentences)
    if merged:
        known = set(out)
        out += [u for u in merged + [f"{a}, {b}" for a, b in zip(merged, merged[1:])] if u not in known]
    return out


#: an abbreviation of three or more letters written dotted letter by letter, the last dot optional: "I.U.F.D.",
#: "I. U. F. D", "s.a.b." (not two letters: "Z.n.", "s.p.", "e.g.", "a.m." are read as they are written; nor a
#: letter inside a word or a number: "Vit.B.C.", "1.2.3"); spaced or not, not both, so that two abbreviations are two:
#: "P.C.O.S. I.U.F.D.")
_DOTTED = re.compile(r"(?<![\w.])(?:(?:[^\W\d_]\.){2,}|(?:[^\W\d_]\. ){2,})[^\W\d_](?!\w)\.?")


#: what follows an abbreviation's final dot that keeps it a full stop when the dots are taken out: a space and a
#: capital ("I.U.F.D. Plan": "IUFD. Plan"; "No U.T.I. Missed miscarriage.": "No UTI. Missed miscarriage.")
_CAPITAL_NEXT = re.compile(r"\s+[A-Z]")


def _undot(m: re.Match) -> str:
    """A dotted abbreviation without its dots, its final dot kept before a space and a capital (``_CAPITAL_NEXT``)."""
    found = m.group()
    end = "." if found.endswith(".") and _CAPITAL_NEXT.match(m.string, m.end()) else ""
    return re.sub(r"[. ]", "", found) + end


def _undotted(text: str) -> str | None:
    """A text with its abbreviations dotted letter by letter written without the dots ("I.U.F.D. at 20 weeks":
    "IUFD at 20 weeks"; a final dot before a space and a capital kept, as it also ends a sentence: "I.U.F.D. Plan":
    "IUFD. Plan"), or None when it has none: a name net knows an abbreviation undotted, and a text may write it
    either way. A reading judged beside the text as written, never in its place."""
    if "." not in text:
        return None
    undotted = _DOTTED.sub(_undot, text)
    return undotted if undotted != text else None


def _whole_and_sentences(text: str) -> list[str]:
    """A text whole, then each of its sentences (when it has more than one): a name net judged by sentence keeps the
    context of the whole text ("Intrauterine embryo, CRL 12 mm. No heart motion."), and one whose exclusions are
    read in the whole name ("counselled", "history") cannot let another sentence hide a match ("Missed miscarriage.
    Patient counselled."): what either finds counts."""
    sentences = _all_sentences(text)
    # (each once: a text may repeat a sentence)
    return list(dict.fromkeys([text, *sentences])) if len(sentences) > 1 else [text]


def _readings(name: str) -> list[str]:
    """What of a name is judged: it whole and its sentences (``_whole_and_sentences``), and beside them (the union of
    what either names) the same of it undotted, when it has a dotted abbreviation (``_undotted``: "I.U.F.D. at 20
    weeks" names a loss as "IUFD at 20 weeks"; "No evidence of P.I.D. Incomplete miscarriage." as written)."""
    parts = _whole_and_sentences(name)
    undotted = _undotted(name)
    if undotted is None:
        return parts
    known = set(parts)  # (a set: a long text has thousands of sentences)
    return parts + [p for p in _whole_and_sentences(undotted) if p not in known]


def _texts_of(value: Any) -> list[str]:
    """The words of an element: a string, or the text and displays of a concept or of a list of concepts."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [t for concept in value for t in _value_texts(concept)]
    return _value_texts(value)


def _value_texts(vcc: Any) -> list[str]:
    """A coded value's text and its codings' displays."""
    if not isinstance(vcc, dict):
        return []
    return [t for t in [vcc.get("text"), *_displays(vcc)] if isinstance(t, str)]


def _first_words(text: Any) -> list[str]:
    """A value written in words, and its first clause (up to a comma, a bracket, a semicolon, a line end, a full
    stop or a spaced dash before a word): "Negative, repeat in 48h" says "Negative" first, "0 - absent" says "0"
    (and "0 - 5 mIU/mL" is a range)."""
    if not isinstance(text, str):
        return []
    return [text, re.split(r"[,(;\n]|\.(?=\s)|\s-\s(?=[^\W\d])", text)[0]]


def _first_word(text: Any) -> list[str]:
    """A value's first word, when a space, a comma or a dash follows it ("Yes x1": "Yes"; "Yesterday": none)."""
    found = re.match(r"\s*(\w+)(?=\s|[,;:-])", text) if isinstance(text, str) else None
    return [found.group(1)] if found is not None else []


#: the number zero as written in words, alone or with a unit of a rate ("0", "0.0", "0 bpm", "0/min", "0 beats/min")
_ZERO = re.compile(
    r"^(?:0+(?:[.,]0+)?|zero)\s*(?:(?:/|per)\s*min(?:ute)?|bpm|b/min|min-1|\{beats?\}/min"
    r"|beats?(?:\s*(?:per|/)\s*min(?:ute)?)?)?\s*$",
    re.I,
)


#: an interpretation written as normal in words (a text, or the display of a code no value set knows)
_NORMAL = re.compile(r"^\s*(n|nl|norm|normal|wnl|within normal limits|unremarkable)\s*\.?\s*$", re.I)


def _says_normal(codeable: dict) -> bool:
    """Whether an interpretation flag with no code of a system the reader reads says normal in words: its text,
    and every coding, by its code and its display (a local "NL" displayed "Normal"); a code or a word that says
    anything else ("ABN" displayed "N") does not."""
    text = codeable.get("text")
    words = [text] if isinstance(text, str) else []
    coding = codeable.get("coding")
    for c in coding if isinstance(coding, list) else []:
        if not isinstance(c, dict):
            return False
        words += [w for w in (c.get("code"), c.get("display")) if w is not None]
    return bool(words) and all(isinstance(w, str) and _NORMAL.match(w) for w in words)


def _period_start(period: Any) -> TimeInterval | None:
    """A Period's start, read quietly (None: none, or it cannot be read)."""
    try:
        return (
            parse_time(period["start"]) if isinstance(period, dict) and isinstance(period.get("start"), str) else None
        )
    except ValueError:
        return None


def _abated(r: dict, valued: bool = False) -> bool:
    """Whether a condition says it abated in any form (FHIR R4 con-4: then it is not active): an age, a range, a text
    such as "delivered", true, a period with only a start, a time that cannot be read, an extension in its place
    (``valued``: not counting an extension alone, such as a data-absent-reason "unknown")."""
    return any(
        (k.startswith("abatement") or (not valued and k.startswith("_abatement")))
        and not (k == "abatementBoolean" and r[k] is False)
        for k in r
    )


def _levels(closure: Graph, prop: URIRef) -> dict[URIRef, tuple[Decimal, set[str]]]:
    """The classes of quantitative results given a value by ``prop`` (kgr:showsAPregnancyFrom,
    kgr:showsNoPregnancyBelow): the value, and the spellings of its unit (kgr:showsAPregnancyInUnit, without case)."""
    return {
        cast(URIRef, cls): (
            Decimal(str(value)),
            {str(u).lower() for u in closure.objects(cls, KGR.showsAPregnancyInUnit)},
        )
        for cls, value in closure.subject_objects(prop)
    }


def _units(quantity: Any) -> set[str]:
    """The spellings a Quantity gives its unit (its UCUM code and its unit, without case)."""
    return {str(quantity.get(k)).lower() for k in ("code", "unit")} if isinstance(quantity, dict) else set()


def _true(value: Any) -> bool:
    """Whether an ontology value is the boolean true."""
    return isinstance(value, Literal) and value.toPython() is True


def _is_zero(number: Any) -> bool:
    return isinstance(number, (int, float, Decimal)) and not isinstance(number, bool) and number == 0


def _range_of_zero(value: Any) -> bool:
    """A valueRange whose upper bound is zero: nothing was measured above none."""
    high = value.get("high") if isinstance(value, dict) else None
    return _is_zero(high.get("value") if isinstance(high, dict) else None)


def _other_zero(element: dict) -> bool:
    """A value of zero written as a ratio (0/1), as samples that are all zero (from an origin of 0), or as a
    quantity of at most 0."""
    ratio, samples, q = element.get("valueRatio"), element.get("valueSampledData"), element.get("valueQuantity")
    numerator = ratio.get("numerator") if isinstance(ratio, dict) else None
    data = samples.get("data") if isinstance(samples, dict) else None
    origin = samples.get("origin") if isinstance(samples, dict) else None  # (each sample is origin + factor x data)
    data = data if isinstance(origin, dict) and _is_zero(origin.get("value")) else None
    return (
        _is_zero(numerator.get("value") if isinstance(numerator, dict) else None)
        or (isinstance(data, str) and bool(data.split()) and all(re.fullmatch(r"0+(\.0+)?", x) for x in data.split()))
        or (isinstance(q, dict) and q.get("comparator") == "<=" and _is_zero(q.get("value")))
    )


def _value_text(element: dict) -> str:
    """An Observation's (or component's) value as written, for a message."""
    q = element.get("valueQuantity")
    if isinstance(q, dict):
        return " ".join(str(x) for x in (q.get("value"), q.get("code") or q.get("unit")) if x is not None)
    if "valueCodeableConcept" in element:
        return _codes_text(element["valueCodeableConcept"])
    if isinstance(element.get("valueString"), str):
        return repr(element["valueString"])
    if isinstance(element.get("valueRange"), dict):
        r = element["valueRange"]
        low, high = (r.get(k) if isinstance(r.get(k), dict) else {} for k in ("low", "high"))
        return f"{low.get('value', '')}-{high.get('value', '')} {high.get('unit') or low.get('unit') or ''}".strip()
    return next((str(element[k]).lower() for k in ("valueInteger", "valueBoolean") if k in element), "no value")


def _displays(codeable: Any) -> list[str | None]:
    """The display of each coding ``_codings`` gives, in its order (None without one)."""
    codings = codeable.get("coding") if isinstance(codeable, dict) else None
    return [
        c.get("display") if isinstance(c.get("display"), str) else None
        for c in (codings if isinstance(codings, list) else [])
        if isinstance(c, dict)
    ]


def _quoted(text: Any, most: int = 200) -> str:
    """Words quoted in a message, at most ``most`` characters of them (a reason of 120,000 characters is named, not
    copied)."""
    text = str(text)
    return text if len(text) <= most else text[: most - 1] + "…"


def _codes_text(codeable: Any) -> str:
    """The codings of a CodeableConcept as system|code, each with its display when it has one (so that a reader
    of data_problems sees what an unrecognised code says it is); without a coding, its text."""
    text = codeable.get("text") if isinstance(codeable, dict) else None
    return ", ".join(
        f"{s or '?'}|{c or '?'}" + (f' "{d}"' if d else "")
        for (s, c), d in zip(_codings(codeable), _displays(codeable))
    ) or (f'no coding, text "{text}"' if isinstance(text, str) else "no coding")


@dataclass
class Population:
    """A reference population (kgr:ReferencePopulation) as the reader matches it."""

    iri: URIRef
    includes: bool
    text: re.Pattern | None = None
    window: tuple[Decimal, Decimal] | None = None
    codes: set = field(default_factory=set)


class FhirVocabulary:
    """The ontology's code cross-references, value sets, kinds and reference populations."""

    def __init__(self, closure: Graph):
        self.g = closure
        self.codes: dict[tuple[str, str], list[tuple[int, URIRef]]] = defaultdict(list)
        store = ontology_store(closure)
        for row in store_rows("fhir-codes", store):
            self.codes[(str(row.system), str(row.code))].append((int(row.strength), row.concept))
        self.categories: dict[str, list[tuple[str, URIRef]]] = defaultdict(list)
        self.patterns: dict[str, list[tuple[re.Pattern, URIRef]]] = defaultdict(list)
        for row in store_rows("fhir-code-sets", store):
            if str(row.kind) == "category":
                self.categories[str(row.system)].append((str(row.value).replace(".", ""), row.concept))
            else:
                self.patterns[str(row.system)].append((re.compile(str(row.value)), row.concept))
        # (a code system whose codes the ontology groups by category, ICD-10, is read with the dot ignored, as
        # exports and claims write it: N840 is N84.0)
        for (in_system, dotted), entries in list(self.codes.items()):
            if in_system in self.categories and "." in dotted:
                self.codes.setdefault((in_system, dotted.replace(".", "")), entries)

        # the value sets read from a code's name (kgr:includesCodesNamed), each a NameNet
        def optional(value: Any) -> re.Pattern | None:
            return re.compile(str(value), re.IGNORECASE) if value is not None else None

        self.names: list[NameNet] = [
            NameNet(
                re.compile(str(row.pattern), re.IGNORECASE),
                row.concept,
                optional(row["except"]),
                optional(row.before),
                optional(row.after),
                optional(row.context),
                optional(row.clauseExcept),
                by_sentence=row.bySentence is not None and bool(row.bySentence.toPython()),
                clause_end=optional(row.clauseEnd),
                with_next=row.withNext is not None and bool(row.withNext.toPython()),
            )
            for row in store_rows("fhir-code-names", store)
        ]
        # the units are the ontology's named UnitOfMeasure individuals
        self.units: dict[str, URIRef] = {
            str(u): cast(URIRef, unit)
            for unit in closure.subjects(RDF.type, KGR.UnitOfMeasure)
            for u in closure.objects(unit, KGR.ucumCode)
        }
        #: the units of time a duration may be given in (UCUM codes and plain spellings, without case), as
        #: the number of them that make a week (ontology data: kgr:TimeUnit)
        self.per_week: dict[str, Decimal] = {}
        for unit in closure.subjects(RDF.type, KGR.TimeUnit):
            per_week = closure.value(unit, KGR.unitsPerWeek)
            for name in [*closure.objects(unit, KGR.ucumCode), *closure.objects(unit, KGR.unitSynonym)]:
                if per_week is not None:
                    self.per_week[str(name).lower()] = Decimal(str(per_week))
        #: the numeric patient attributes a guidance declares with a unit (kgr:attributeUnit, e.g. age in years,
        #: BMI in kg/m2), by property: the spellings (UCUM code, synonyms, label; without case) of their unit
        self.attribute_units: dict[URIRef, tuple[str, set[str]]] = {}
        for prop, unit in closure.subject_objects(KGR.attributeUnit):
            if prop == KGR.gestationalAgeWeeks:  # a duration, read in any unit of time (per_week)
                continue
            names = {
                str(n).lower() for p in (KGR.ucumCode, KGR.unitSynonym, RDFS.label) for n in closure.objects(unit, p)
            }
            label = str(closure.value(unit, KGR.ucumCode) or closure.value(unit, RDFS.label) or unit)
            self.attribute_units[cast(URIRef, prop)] = (label, names)
        #: the code systems the guidance reads (kgr:fhirSystem, its aliases entailed), with the pattern every
        #: well-formed code of each naming what a record is matches (kgr:recordCodePattern, else kgr:codePattern;
        #: None: any code)
        self.systems: dict[str, re.Pattern | None] = {}
        for cs, system in closure.subject_objects(KGR.fhirSystem):
            pattern = closure.value(cs, KGR.recordCodePattern) or closure.value(cs, KGR.codePattern)
            self.systems[str(system)] = re.compile(str(pattern)) if pattern is not None else None
        self.populations: dict[URIRef, Population] = {}
        for row in store_rows("reference-populations", store):
            p = self.populations.setdefault(row.population, Population(row.population, bool(row.includes.toPython())))
            if row.textPattern is not None:
                p.text = re.compile(str(row.textPattern), re.IGNORECASE)
            if row.fromWeek is not None:
                p.window = (Decimal(str(row.fromWeek)), Decimal(str(row.beforeWeek)))
            if row.code is not None:
                p.codes.add((str(row.system), str(row.code)))
        self._is_a: dict[tuple, bool] = {}
        #: what the words beside codes name (``words_naming``), by the words and the codes' meanings
        self._words: dict[tuple, tuple[list[URIRef], list[str]]] = {}
        #: the concepts each name is a name of (``named``: every name net judged once per name)
        self._named: dict[str, frozenset[URIRef]] = {}
        #: classes whose codes mean them only in records of one FHIR resource type (kgr:fhirResourceType: an
        #: allergy to a substance is an AllergyIntolerance coded by it, not any record of the substance)
        self.resource_types: dict[URIRef, set[str]] = defaultdict(set)
        for cls, rtype in closure.subject_objects(KGR.fhirResourceType):
            self.resource_types[cast(URIRef, cls)].add(str(rtype))
        #: the classes of records whose value is a date on which the gestational age is so many weeks
        #: (kgr:gestationalWeeksOnValueDate: an estimated delivery date, 40 weeks)
        self.weeks_on_date: dict[URIRef, Decimal] = {
            cast(URIRef, cls): Decimal(str(weeks))
            for cls, weeks in closure.subject_objects(KGR.gestationalWeeksOnValueDate)
        }
        #: the gestational week beyond which a dating, projected to the time the assessment is as of, dates no
        #: current pregnancy (kgr:datesNoPregnancyBeyondWeek on kgr:StaleDatingRecord), or None
        beyond = closure.value(KGR.StaleDatingRecord, KGR.datesNoPregnancyBeyondWeek)
        self.stale_after: Decimal | None = Decimal(str(beyond)) if beyond is not None else None
        #: the gestational week of this pregnancy before which a record of a class says nothing of it
        #: (kgr:uninformativeBeforeWeek: not pregnant, before a pregnancy test can show it)
        self.uninformative: dict[URIRef, Decimal] = {
            cast(URIRef, cls): Decimal(str(week)) for cls, week in closure.subject_objects(KGR.uninformativeBeforeWeek)
        }
        #: what a result of a class records when its value says what it observes is absent (kgr:absenceMeans: a
        #: fetal heart rate of 0 records that no heart activity was seen)
        self.absence: dict[URIRef, URIRef] = {
            cast(URIRef, cls): cast(URIRef, means) for cls, means in closure.subject_objects(KGR.absenceMeans)
        }
        #: the classes whose records show a current pregnancy (kgr:showsAPregnancy; their subclasses too), and the
        #: code patterns whose codes do, by FHIR system: empty when the guidance declares none (it is not checked)
        marked = [
            m for m in closure.subjects(KGR.showsAPregnancy, None) if _true(closure.value(m, KGR.showsAPregnancy))
        ]
        self.pregnancy_classes: set[URIRef] = {
            cast(URIRef, c) for m in marked for c in closure.subjects(RDFS.subClassOf, m) if isinstance(c, URIRef)
        }
        #: how many weeks after its time such a record still shows a current pregnancy (kgr:showsAPregnancyForWeeks)
        weeks = closure.value(KGR.PregnancyNotShownRecord, KGR.showsAPregnancyForWeeks)
        self.shows_for_weeks: Decimal | None = Decimal(str(weeks)) if weeks is not None else None
        #: classes of quantitative results that record an absence below a value (kgr:showsNoPregnancyBelow), and
        #: that show a pregnancy from a value (kgr:showsAPregnancyFrom): the value, and the spellings of its unit
        self.absent_below = _levels(closure, KGR.showsNoPregnancyBelow)
        self.pregnancy_from = _levels(closure, KGR.showsAPregnancyFrom)
        #: a value written in words only that is a word of presence (kgr:NamesOfPresence): read only to tell a
        #: pregnancy test's result
        words = closure.value(KGR.NamesOfPresence, KGR.namePattern)
        self.presence_words: re.Pattern | None = re.compile(str(words), re.IGNORECASE) if words is not None else None
        self.pregnancy_codes: dict[str, list[re.Pattern]] = defaultdict(list)
        for m in marked:
            for rx in closure.objects(m, KGR.pattern):
                for cs in closure.objects(m, KGR.inCodeSystem):
                    for system in closure.objects(cs, KGR.fhirSystem):
                        self.pregnancy_codes[str(system)].append(re.compile(str(rx)))

    def label(self, concept) -> str:
        return str(self.g.value(concept, RDFS.label) or concept)

    def is_a(self, concept, kind) -> bool:
        key = (concept, kind)
        if key not in self._is_a:
            self._is_a[key] = (concept, RDFS.subClassOf, kind) in self.g or (concept, RDF.type, kind) in self.g
        return self._is_a[key]

    def meanings(
        self,
        codeable: Any,
        accept: Callable[[URIRef], bool],
        resource_type: str | None = None,
        named_by: Callable[[URIRef], bool] | None = None,
    ) -> list[URIRef]:
        """Every concept the codings of a CodeableConcept mean that ``accept`` admits. Per coding, the most
        specific match wins (a cross-reference, by strength; else the longest ICD-10 category; else a code
        pattern); across codings every meaning counts, a pattern's too (a pregnancy-chapter code no class covers
        beside a code read otherwise: the codings disagree or say more than the guidance reads). A class
        read only from one resource type (``resource_types``) is a meaning only of a record of ``resource_type``.
        ``named_by``: what a name may mean (``by_name``), when not what ``accept`` admits."""
        scoped = self.resource_types

        def in_scope(given: Callable[[URIRef], bool]) -> Callable[[URIRef], bool]:
            if not scoped:
                return given
            return lambda c: given(c) and (c not in scoped or resource_type in scoped[c])

        named_by = in_scope(named_by or accept)
        accept = in_scope(accept)

        found: set[URIRef] = set()
        for system, code in _codings(codeable):
            entries = self.codes.get((system, code), [])
            exact = [(s, c) for s, c in entries if accept(c)]
            if exact:
                best = min(s for s, _ in exact)
                found |= {c for s, c in exact if s == best}
                continue
            key = code.replace(".", "").upper()
            under = [(len(p), c) for p, c in self.categories.get(system, []) if key.startswith(p.upper()) and accept(c)]
            if under:
                longest = max(n for n, _ in under)
                found |= {c for n, c in under if n == longest}
                continue
            found |= {c for rx, c in self.patterns.get(system, []) if rx.search(code) and accept(c)}
        # (what a coding no value set knows is named: never dropped for another coding's meaning)
        return sorted(found | self.by_name(codeable, named_by), key=str)

    def _known(self, system: str, code: str) -> bool:
        """Whether a coding has a meaning of its own in the ontology (a cross-reference, a category); a code
        pattern (any pregnancy-chapter code) is too vague to leave its name unread ("Maternal care for
        intrauterine death")."""
        key = code.replace(".", "").upper()
        return (system, code) in self.codes or any(
            key.startswith(p.upper()) for p, _ in self.categories.get(system, [])
        )

    def by_name(self, codeable: Any, accept: Callable[[URIRef], bool]) -> set[URIRef]:
        """What the names of codings no value set knows mean (kgr:includesCodesNamed): the display of each such
        coding, and the concept's text when no coding is known, each judged by its own words ("Past pregnancy
        history of miscarriage" is excluded; "Septic abortion" beside it is not). The counts an obstetric
        history records under a name of a loss ("[#] Abortions") are known codes, so their names are not read."""
        if not self.names or not isinstance(codeable, dict):
            return set()
        codings = _codings(codeable)
        displays = _displays(codeable)
        unknown = [i for i, (system, code) in enumerate(codings) if not self._known(system, code)]
        if not unknown and codings:
            return set()
        text = codeable.get("text") if isinstance(codeable.get("text"), str) else None
        words = [displays[i] for i in unknown if displays[i]] + (
            [text] if text and len(unknown) == len(codings) else []
        )
        return {c for w in words for c in self.named(w) if accept(c)}

    def named(self, name: str) -> frozenset[URIRef]:
        """The concepts of the name nets (kgr:includesCodesNamed) that a name is a name of, judged once per name;
        a name with an abbreviation written dotted letter by letter ("I.U.F.D.") judged both as written and with it
        undotted (``_readings``: the nets know "IUFD"; a negation before "P.I.D." ends at its final dot)."""
        return _remembered(
            self._named,
            name,
            # (whole and sentence by sentence, as a report's words are: "Seen in EPU. Ectopic." names a loss)
            lambda: self._named_in(_readings(name)),
        )

    def _named_in(self, parts: list[str]) -> frozenset[URIRef]:
        """The concepts of the name nets any of a name's parts (its whole, its sentences) is a name of."""
        return frozenset(net.concept for net in self.names if any(net.names(part) for part in parts))

    def events(self, codeable: Any) -> list[URIRef]:
        """The event conditions (a loss, a conception by ART) the codings mean, a value set's pattern aside (every
        antenatal record has a pregnancy-chapter code), but not a code cross-referenced to a record not understood
        (156073000, disputed) nor a name of a loss (``by_name``)."""
        event = lambda c: self.is_a(c, KGR.EventCondition)  # noqa: E731
        cross_referenced = {
            c
            for system, code in _codings(codeable)
            for _, c in self.codes.get((system, code), [])
            if event(c) and self.is_a(c, KGR.UninterpretedRecord)
        }
        strict = self.meanings(
            codeable, lambda c: event(c) and not self.is_a(c, KGR.UninterpretedRecord), named_by=event
        )
        return sorted(set(strict) | cross_referenced, key=str)

    def could_decide(self, codeable: Any, resource_type: Any = None) -> list[URIRef]:
        """What the codings mean that could change the decision if read: an event condition, or a value set of
        records not understood (the ICD-10 pregnancy chapter; in an Observation, a result named progesterone)."""
        return self.meanings(codeable, self.deciding, resource_type if isinstance(resource_type, str) else None)

    def deciding(self, concept: URIRef) -> bool:
        """Whether a concept could change the decision if read (``could_decide``): an event condition, or a class of
        records not understood."""
        return self.is_a(concept, KGR.EventCondition) or self.is_a(concept, KGR.UninterpretedRecord)

    def value_meanings(self, codeable: Any) -> list[URIRef]:
        """What a coded value's codings mean that a value is read as (a presence, a grade), not what could change
        the decision (``deciding``), which no value is read as: what words beside the value may agree with."""
        return self.meanings(codeable, lambda c: not self.deciding(c))

    def agreeing(self, meaning: Iterable[URIRef]) -> set[URIRef]:
        """What the words beside codes meaning ``meaning`` may name without contradicting them: those meanings, and
        what each, or a class it is a subclass of, declares (kgr:wordsAgreeWith: a loss coded as one, written in
        words as a miscarriage)."""
        agree: set[URIRef] = set()
        for m in meaning:
            agree.add(m)
            for cls in (m, *self.g.objects(m, RDFS.subClassOf)):
                agree.update(cast(URIRef, c) for c in self.g.objects(cls, KGR.wordsAgreeWith))
        return agree

    def words_naming(self, texts: Iterable[str], meaning: Iterable[URIRef]) -> tuple[list[URIRef], list[str]]:
        """What words beside codes (a text, the codings' displays) name that could change the decision and that the
        codes' meanings do not agree with (``agreeing``), each judged whole and sentence by sentence by the
        ontology's names (``_whole_and_sentences``): the classes named, and the words that name them (a text
        quoted whole when the whole names one; else its sentences that do)."""
        texts, meaning = tuple(texts), frozenset(meaning)
        return _remembered(self._words, (texts, meaning), lambda: self._words_naming(texts, meaning))

    def _words_naming(self, texts: tuple[str, ...], meaning: frozenset[URIRef]) -> tuple[list[URIRef], list[str]]:
        agree = self.agreeing(meaning)
        named: list[URIRef] = []
        quotes: list[str] = []
        for t in texts:
            found = [
                (part, means)
                for part in _whole_and_sentences(t)
                if (means := [c for c in self.could_decide({"text": part}) if c not in agree])
            ]
            named += [c for _, cs in found for c in cs if c not in named]
            quotes += [t] if found and found[0][0] == t else [part for part, _ in found]
        return sorted(named, key=str), list(dict.fromkeys(quotes))

    def questions_answered_yes(self, r: dict) -> Iterator[dict]:
        """The questions of a QuestionnaireResponse answered yes, each as a concept given in text only (its
        ``text``): a question's words are not read (they ask, they do not state), but answered yes (``true``, a code
        of presence: ``kgr:Present``, a word of presence alone: ``kgr:NamesOfPresence``) they state it ("Has the
        pregnancy ended in miscarriage?" true). Items at any depth, under an item or under an answer."""
        stack = deque(  # (in document order, first in first out: popleft, not list.pop(0), for long forms)
            r["item"] if r.get("resourceType") == "QuestionnaireResponse" and isinstance(r.get("item"), list) else []
        )
        while stack:
            item = stack.popleft()
            if not isinstance(item, dict):
                continue
            answers = [a for a in item["answer"] if isinstance(a, dict)] if isinstance(item.get("answer"), list) else []
            yes = [a for a in answers if self._says_yes(a)]
            if isinstance(item.get("text"), str) and yes:  # (with what a yes in words says more: "Yes, 2 days ago")
                said = [
                    a["valueString"]
                    for a in yes
                    if isinstance(a.get("valueString"), str)
                    and not (self.presence_words is not None and self.presence_words.search(a["valueString"]))
                ]
                yield {"text": " ".join([item["text"], *said])}
            stack += item["item"] if isinstance(item.get("item"), list) else []
            stack += [i for a in answers if isinstance(a.get("item"), list) for i in a["item"]]

    def _says_yes(self, answer: dict) -> bool:
        """Whether a questionnaire's answer says yes: ``valueBoolean`` true, a coding of presence, or a word of it,
        alone, in its first clause or as its first word."""
        coding = answer.get("valueCoding")
        return (
            answer.get("valueBoolean") is True
            or (isinstance(coding, dict) and bool(self.meanings({"coding": [coding]}, lambda c: c == KGR.Present)))
            or (  # (a word of presence, alone or first: "Yes", "Yes, this week", "Y, today", "Yes x1", "yes - 2 days ago")
                self.presence_words is not None
                and any(
                    self.presence_words.search(w)
                    for w in _first_words(answer.get("valueString")) + _first_word(answer.get("valueString"))
                )
            )
        )

    def beside(self, codeable: dict) -> list[tuple[list[URIRef], str]]:
        """What a coded element of a record not read (or not read for it) says that could change the decision: the
        event conditions its codes mean (``events``), named by its codes; and what its words (its text, its
        codings' displays) name that its codes do not agree with (``words_naming``), named by those words."""
        out: list[tuple[list[URIRef], str]] = []
        events = self.events(codeable)
        if events:  # (by its codes; given in text only, by its words, as a name)
            named = _codes_text(codeable) if _codings(codeable) else f'its words "{_quoted(codeable.get("text"))}"'
            out.append((events, named))
        texts = _value_texts(codeable)
        if texts and _codings(codeable):  # (text only: read as a name by ``events``)
            meaning = self.meanings(
                codeable, lambda c: self.is_a(c, KGR.Finding) or self.is_a(c, KGR.UninterpretedRecord)
            )
            kinds, quotes = self.words_naming(texts, [*meaning, *events])
            if kinds:
                words = "; ".join(f'"{_quoted(q)}"' for q in quotes)
                out.append((kinds, f"the words ({words}) of {_codes_text(codeable)}"))
        return out

    def states(self, codeable: Any, resource_type: Any) -> list[URIRef]:
        """What a record's own code means that the guidance cannot weigh though it reads no such record: a class
        of records not understood that is no event condition (an allergy to its treatment)."""
        return self.meanings(
            codeable,
            lambda c: self.is_a(c, KGR.UninterpretedRecord) and not self.is_a(c, KGR.EventCondition),
            resource_type if isinstance(resource_type, str) else None,
        )

    def absent(self, element: Any) -> list[URIRef]:
        """What an Observation or one of its components records by a value of absence (a quantity of zero, the
        value false, a coded value meaning absent) when its code is of a class that says what absence means
        (kgr:absenceMeans)."""
        if not self.absence or not isinstance(element, dict):
            return []
        means = self.meanings(element.get("code"), lambda c: c in self.absence)
        if not means or not (self._records_absence(element) or self._below(element, means)):
            return []
        return sorted({self.absence[c] for c in means}, key=str)

    def shows_a_pregnancy(self, element: dict) -> bool:
        """Whether a result the guidance does not read shows a current pregnancy (kgr:showsAPregnancy): its code
        is of a class that does, and, for a class whose value may record absence (kgr:absenceMeans: a pregnancy
        test, a pregnancy status, a fetal heart rate), its value records presence (positive, detected, yes, true,
        pregnant, a number above zero); for a class of levels (kgr:showsAPregnancyFrom: an hCG level), its value
        is at least the level, in its unit."""
        if not self.pregnancy_classes or not isinstance(element, dict):
            return False
        means = self.meanings(element.get("code"), lambda c: c in self.pregnancy_classes)
        if not means:
            return False
        quantity = element.get("valueQuantity")
        given = isinstance(quantity, dict) and quantity.get("comparator") in (None, ">", ">=")
        number = _number(quantity.get("value")) if given and isinstance(quantity, dict) else None
        from_values = [self.pregnancy_from[c] for c in means if c in self.pregnancy_from]
        if from_values:  # (an hCG level of 25 IU/L or more, in its unit)
            units = _units(quantity)
            return number is not None and any(number >= least and not units.isdisjoint(u) for least, u in from_values)
        if not any(c in self.absence for c in means):
            return True
        number = number if isinstance(quantity, dict) and "comparator" not in quantity else None
        return (
            element.get("valueBoolean") is True
            or (number is not None and number > 0)  # (a fetal heart rate of 150 /min)
            or bool(
                self.meanings(
                    element.get("valueCodeableConcept"), lambda c: c == KGR.Present or c in self.pregnancy_classes
                )
            )
            or (  # (a value in words only, "POSITIVE": the whole of it; "Positive (control); negative" is not)
                self.presence_words is not None
                and isinstance(element.get("valueString"), str)
                and self.presence_words.search(element["valueString"]) is not None
            )
        )

    def level_classes(self, element: dict) -> list[URIRef]:
        """The classes of levels that show a pregnancy from a value (an hCG level) a result's code means."""
        if not self.pregnancy_from:
            return []
        return self.meanings(element.get("code"), lambda c: c in self.pregnancy_from)

    def level_weeks(self, classes: list[URIRef]) -> Decimal | None:
        """The week of this pregnancy before which a level of these classes that shows no pregnancy says nothing of
        it (kgr:uninformativeBeforeWeek on the class of levels: an hCG of 12 is expected at four weeks, not at
        nine), or None."""
        weeks = [self.uninformative[c] for c in classes if c in self.uninformative]
        return max(weeks) if weeks else None

    def _below(self, element: dict, means: list[URIRef]) -> bool:
        """Whether a quantitative result is below the value under which its class records an absence
        (kgr:showsNoPregnancyBelow: an hCG level below 5 IU/L), in its unit; or reported as below a bound at or
        under that value."""
        quantity = element.get("valueQuantity")
        if not isinstance(quantity, dict):
            return False
        number = _number(quantity.get("value"))
        units = _units(quantity)
        comparator = quantity.get("comparator")
        for c in means:
            if c in self.absent_below and number is not None:
                least, spellings = self.absent_below[c]
                if units.isdisjoint(spellings):
                    continue
                if (comparator is None and number < least) or (comparator in ("<", "<=") and number <= least):
                    return True
        return False

    def _records_absence(self, element: dict) -> bool:
        quantity = element.get("valueQuantity")
        number = quantity.get("value") if isinstance(quantity, dict) and "comparator" not in quantity else None
        integer = element.get("valueInteger")
        return (
            _is_zero(number)
            or (isinstance(integer, int) and not isinstance(integer, bool) and integer == 0)
            or element.get("valueBoolean") is False
            or bool(self.meanings(element.get("valueCodeableConcept"), lambda c: c == KGR.Absent))
            or any(  # (a value in words only, "absent", or its first clause: "Negative, repeat in 48h"; and the text
                # and displays of a coded value, whatever its codes mean: a "Y" whose text is "No", a "Positive" whose
                # text is "Negative" contradicts itself, and its absence is the cautious reading)
                self.meanings({"text": words}, lambda c: c == KGR.Absent)
                for text in (element.get("valueString"), *_value_texts(element.get("valueCodeableConcept")))
                for words in _first_words(text)
            )
            # (0 written as words: "0", "0 bpm", "0/min", or first: "0 - absent")
            or any(_ZERO.match(t) for t in (*_written(element), *_first_words(element.get("valueString"))))
            or _range_of_zero(element.get("valueRange"))
            or _other_zero(element)
        )

    def readable(self, codeable: Any) -> bool:
        """Whether a coding of the CodeableConcept is a well-formed code of a code system the guidance reads:
        only then can a code without a meaning be told to be about something else (fhir-reading section 2)."""
        for system, code in _codings(codeable):
            if system in self.systems:
                pattern = self.systems[system]
                if pattern is None or pattern.search(code):
                    return True
        return False

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

    def populations_of(self, reference_range: dict) -> list[Population]:
        """The populations a referenceRange entry names, by its appliesTo codes or its text."""
        concepts = list(reference_range.get("appliesTo") or []) + [reference_range.get("type") or {}]
        codes = {c for cc in concepts for c in _codings(cc)}
        # the range's text, and the text, displays and codes of appliesTo and type (R4 range meanings such as
        # http://terminology.hl7.org/CodeSystem/referencerange-meaning|follicular)
        text = " ".join(
            filter(
                None,
                [reference_range.get("text")]
                + [cc.get("text") for cc in concepts]
                + [
                    str(c.get(k))
                    for cc in concepts
                    for c in cc.get("coding") or []
                    for k in ("display", "code")
                    if c.get(k)
                ],
            )
        )
        return [
            p
            for p in self.populations.values()
            if p.codes & codes or (p.text is not None and text and p.text.search(text))
        ]


def _time_of(resource: dict, keys: tuple[str, ...]) -> tuple[str | None, Any]:
    for key in keys:
        if key.endswith("Period"):
            period = resource.get(key)
            if isinstance(period, dict) and "start" in period:
                return f"{key}.start", period["start"]
        elif key in resource:
            return key, resource[key]
    return None, None


#: Where a resource's own time is, in order: when the specimen was taken or the fact held, not when it
#: was reported (decision-spec section 4: ``issued`` only when no effective time exists).
EFFECTIVE = ("effectiveDateTime", "effectivePeriod", "effectiveInstant", "issued")


def _own_time(r: dict) -> TimeInterval | None:
    """A resource's own time (``EFFECTIVE``), read quietly: None when it has none or it cannot be read (the record's
    own reading names a time it cannot read)."""
    key, text = _time_of(r, EFFECTIVE)
    try:
        return parse_time(text) if key is not None else None
    except ValueError:
        return None


#: Where a condition's onset is (``_onset`` reads a period by its end: it began within it)
ONSET = ("onsetDateTime", "onsetPeriod")


PERFORMED = ("performedDateTime", "performedPeriod")


@dataclass
class _Measured:
    rec: URIRef
    when: TimeInterval | None
    ranges: list
    unit: URIRef | None
    ref: str


class FhirPatientBuilder:
    """Collects one patient's resources and writes her graph."""

    def __init__(
        self,
        vocab: FhirVocabulary,
        pid: str,
        source: str,
        now: _dt.datetime,
        as_of: _dt.date | _dt.datetime | None = None,
    ):
        self.v, self.pid, self.source, self.now = vocab, pid, source, now
        #: the time the assessment is made as of when one was given (a retrospective assessment: what was recorded
        #: after it is not read), as given: a day (compared with a record's day as written) or an instant
        self.as_of = as_of
        #: the present (``now``, unless a time to assess as of was given): what is dated after it is wrongly dated
        self.present = present() if as_of is not None else now
        #: the references that name her in the input (Patient/id, her fullUrl, ...): a focus on any is on her
        self.references: set[str] = set()
        #: the results of a scan report (the references it gives, noted before any record is read) -> the report's
        #: imaging classes: an unread result's interpretation flag is the scan's
        self.scan_results: dict[str, list[URIRef]] = {}
        #: dates dating a pregnancy that was over by their own time (or by the assessment): (source, why, the date)
        self.stale_dates: list[tuple[str, str, TimeInterval]] = []
        self.me = patient_iri(pid)
        self.g = Graph()
        self.g.add((self.me, RDF.type, KGR.Patient))
        self.g.add((self.me, KGR.patientId, Literal(pid)))
        self.problems: list[dict] = []
        self.gestational_ages: list[tuple[TimeInterval | None, Decimal, str]] = []
        #: the gestational ages, as of the assessment, of dates dating the pregnancy that have no time of their own
        #: (a delivery date with no effective time): used when no dated gestational age dates the pregnancy
        self.undated_dating: list[tuple[TimeInterval, Decimal, str]] = []
        #: the records made at one point in time (an Observation's effectiveDateTime): only those can be known to
        #: have been made before a week of this pregnancy (kgr:uninformativeBeforeWeek); a Condition holds on
        self.point_records: set[URIRef] = set()
        self.attributes: dict[URIRef, list[tuple[TimeInterval | None, Decimal, str]]] = {}
        self.courses: list[tuple[TimeInterval | None, URIRef]] = []
        self.measured: list[_Measured] = []
        #: records of one episode: (record, link, the latest instant it can have begun, source, whether it is an
        #: event, the latest instant it ended or None)
        self.episode: list[tuple[URIRef, URIRef, _dt.datetime | None, str, bool, _dt.datetime | None]] = []
        self.seen: dict[str, int] = {}
        self.occurrence = ""
        #: the input's Encounters, by citation and fullUrl (a record made during one began before it ended)
        self.encounters: dict[str, dict] = {}
        #: records not read whose codes mean an event condition (``elsewhere``), decided when all are read
        self.pending: list[tuple[dict, str, str | None, list]] = []
        #: the cancelled records whose reasons ``elsewhere`` read (by ``id``): read once
        self._cancelled_read: set[int] = set()
        #: the records ``_pending`` made, for ``_stated``: (record, meanings, index of its problem, ref, codes)
        self.stating: list[tuple[URIRef, list, int, str, str]] = []
        #: her Patient.birthDate, when the input gives one (an onsetAge dates a record from it)
        self.birth: TimeInterval | None = None
        #: the times of results not read that show a current pregnancy (a positive pregnancy test): None, undated
        self.pregnancy_results: list[TimeInterval | None] = []
        #: the records of a condition that is over (resolved, inactive, in remission or abated): what it showed is past
        self.over: set[URIRef] = set()
        #: the final results of hers that show a pregnancy (a positive test, an hCG level of 25 IU/L or more), and the
        #: levels (kgr:showsAPregnancyFrom) that neither show one nor record there is none: (time, source, whether it
        #: shows one, whether it is a level, the week of this pregnancy before which such a level says nothing of it)
        self.levels: list[tuple[TimeInterval | None, str, bool, bool, Decimal | None]] = []

    def problem(self, ref: str, message: str, severity: str = "warning", field: str | None = None) -> None:
        self.problems.append(
            {"severity": severity, "record": ref, "node": ref, "field": field, "value": None, "message": message}
        )

    def listed_missing(
        self,
        ref: str,
        message: str,
        classes: list[URIRef],
        codeable: Any = None,
        suffix: str = "",
        field: str | None = None,
        when: TimeInterval | None = None,
        episode: list[URIRef] | None = None,
    ) -> URIRef:
        """A record not understood (``classes``, each a kgr:UninterpretedRecord: rule E2), named in data_problems
        with why (``message`` says it is listed as missing data), dated ``when``; of an episode when the source
        record's kinds (``episode``) are of one (of an earlier pregnancy: set aside, ``episode_record``)."""
        self.problem(ref, message, field=field)
        rec = self.record(KGR.hasRecord, classes, ref, codeable, suffix)
        if when is not None:
            add_time(self.g, rec, when)
        if episode is not None:
            self.episode_record(rec, episode, ref, when)
        return rec

    def refuse(self, ref: str, message: str, field: str | None = None) -> None:
        """A resource that cannot be read: the patient is not assessed on partial data (fails closed)."""
        self.problem(
            ref,
            f"{message}; the resource cannot be read, so the patient is not assessed on partial data",
            severity="error",
            field=field,
        )

    def begin(self, ref: str) -> None:
        """A new resource is read: it gets nodes of its own even when another resource has the same citation
        (a history Bundle, a repeated id, resources without id)."""
        self.seen[ref] = self.seen.get(ref, 0) + 1
        self.occurrence = "" if self.seen[ref] == 1 else f"~{self.seen[ref]}"
        if self.seen[ref] == 2:
            self.problem(ref, "several resources are cited by this reference; each is read on its own")

    def record(self, prop, classes: Iterable[URIRef], ref: str, codeable: Any, suffix: str = "") -> URIRef:
        rec = URIRef(f"{self.me}/fhir/{quote(ref, safe='/')}{self.occurrence}{suffix}")
        self.g.add((self.me, prop, rec))
        for cls in classes:
            self.g.add((rec, RDF.type, cls))
        self.g.add((rec, KGR.sourceRecord, Literal(ref)))
        for system, code in _codings(codeable):
            self.g.add((rec, KGR.sourceCode, Literal(f"{system}|{code}")))
        return rec

    def when(
        self,
        resource: dict,
        ref: str,
        keys: tuple[str, ...] = EFFECTIVE,
        keep_future: bool = False,
        future_note: str | None = None,
    ) -> tuple[bool, TimeInterval | None]:
        """(usable, time): a resource dated in the future is a data problem and not used; with ``keep_future``
        (a record that could show a loss: never dropped for its date), it is read as undated. ``future_note``:
        a time in the future is no problem but a note saying so (an expected end), and is returned as it is."""
        key, text = _time_of(resource, keys)
        if key is None:
            return True, None
        try:
            interval = parse_time(text)
        except ValueError as exc:
            self.problem(ref, f"{key}: {exc}; the time is not used", field=key)
            return True, None
        if self.after_now(interval):
            later = (  # (after the present too: in the future, whatever time is given)
                "after the time the assessment is made as of"
                if self.as_of is not None and not interval.earliest > self.present
                else "in the future"
            )
            if future_note is not None:
                self.problem(ref, f"{key} {later} ({text}): {future_note}", "info", field=key)
                return True, interval
            if keep_future:
                self.problem(ref, f"dated {later} ({text}): read as undated", field=key)
                return True, None
            self.problem(ref, f"dated {later} ({text}); not used", field=key)
            return False, None
        return True, interval

    def _unchanged_since(self, r: dict) -> bool:
        """In a retrospective assessment, whether the record was last updated (``meta.lastUpdated``) no later than the
        time the assessment is made as of: what it says now (a status of resolved, completed, inactive) held then."""
        updated = r["meta"].get("lastUpdated") if isinstance(r.get("meta"), dict) else None
        if self.as_of is None or not isinstance(updated, str):
            return False
        try:  # (its whole interval no later: "2026-11" for 2026-11-20 may be after it)
            when = parse_time(updated)
        except ValueError:
            return False
        return not self.after_now(when) and when.latest <= self.now

    def _result_to_come(self, r: dict, ref: str) -> bool:
        """A result dated after the present (``$KG_REASONER_NOW`` or the clock, whatever time the assessment is made as
        of): its date is wrong, and it could be the latest result and decide the criterion (a normal value after a
        low one), so it is not used and is a record not understood (E2), named. (Assessed as of a time given, one
        made after it and before the present did not exist yet: ``when``.)"""
        interval = _own_time(r)
        # (after the present: wrongly dated, as of any time given too; after only the time given: ``when``)
        if interval is None or not interval.earliest > self.present:
            return False
        key, text = _time_of(r, EFFECTIVE)
        self.listed_missing(
            ref,
            f"dated in the future ({text}): its date is wrong, and it could be the latest result and decide the "
            "criterion, so it is not used and is listed as missing data",
            [KGR.UninterpretedRecord],
            r.get("code"),
            "/dated-in-the-future",
            field=key,
        )
        return True

    @property
    def now_text(self) -> str:
        """The time the assessment is made as of, as a reader writes it: the day given, or the instant's day."""
        return (
            self.as_of.isoformat()
            if isinstance(self.as_of, _dt.date) and not isinstance(self.as_of, _dt.datetime)
            else self.now.date().isoformat()
        )

    def after_now(self, interval: TimeInterval) -> bool:
        """Whether a time lies after the time the assessment is made as of. Given as a day, a record's time is
        compared by its own day as written (a record of the evening of that day in New York is of that day; one of
        the next day, written without a zone, is after it); else by instants (the present, or the time given)."""
        return after(interval, self.now, self.as_of)

    def died_after_as_of(self, when: Any) -> bool:
        """In a retrospective assessment, whether her death (``deceasedDateTime``) came after the time the
        assessment is made as of: she was alive then (said)."""
        if self.as_of is None or not isinstance(when, str):
            return False
        try:
            later = self.after_now(parse_time(when))
        except ValueError:
            return False
        if later:
            self.problem(
                f"Patient/{self.pid}",
                f"recorded as deceased on {when}, after the time the assessment is made as of ({self.now_text}): "
                "assessed as of then",
                "info",
                field="deceasedDateTime",
            )
        return later

    def made_after_as_of(self, r: dict, ref: str) -> bool:
        """In a retrospective assessment (a time given to assess as of), whether every time a record names (when it
        was made, began, was performed, recorded or issued) is after that time: what it says happened later, so it
        is not read, and said. A record naming no time, or one time before, is read."""
        if self.as_of is None:
            return False
        times = []
        context: dict = r["context"] if isinstance(r.get("context"), dict) else {}
        given = [(key, r.get(key)) for key in _RECORD_TIMES] + [
            ("context.period", context.get("period")),  # (a DocumentReference's: when what it records happened)
            ("item.serviced", _served(r, earliest=True)),  # (a claim's: when its services were given)
        ]
        for _key, value in given:
            if isinstance(value, dict):  # (a Period: its start; with only an end, it began at a time not given)
                if "start" not in value and "end" in value:
                    return False
                value = value.get("start")
            if not isinstance(value, str):
                continue
            try:
                times.append(parse_time(value))
            except ValueError:
                return False  # (a time it names that cannot be read: when it happened cannot be told)
        # (an onset, an effective or a performed time in another form, an age or words: it cannot be told either)
        other = [k for k in r if k.startswith(("onset", "effective", "performed")) and k not in _RECORD_TIMES]
        if not times or other or not all(self.after_now(t) for t in times):
            return False
        if any(t.earliest > self.present for t in times):  # (after the present too: wrongly dated, read as such)
            return False
        self.problem(
            ref,
            f"made after the time the assessment is made as of ({self.now_text}): not read",
            severity="info",
        )
        return True

    def _end(self, r: dict, ref: str, key: str, keep_future: bool = False) -> TimeInterval | None:
        """The end of the resource's Period ``key`` (an onset, an abatement, an encounter, ...), None without one."""
        period = r.get(key)
        if not isinstance(period, dict) or "end" not in period:
            return None
        return self.when({"end": period["end"]}, ref, ("end",), keep_future)[1]

    def _time_unread(self, r: dict, ref: str) -> bool:
        """Whether a result's own time is written only in a form this reader does not read (an
        ``effectivePeriod`` with an end and no start, an ``effectiveTiming``); it is then refused (the patient
        fails closed): read as untimed it would count as older than every timed result (decision-spec section
        4) and let an older value decide which result is the latest."""
        key, _text = _time_of(r, EFFECTIVE)
        if key is not None and key != "issued":
            return False
        period = r.get("effectivePeriod")
        unread = ["effectiveTiming"] if "effectiveTiming" in r else []
        if isinstance(period, dict) and "start" not in period and "end" in period:
            unread.append("effectivePeriod")
        if unread:
            self.refuse(
                ref,
                f"{unread[0]} gives no time this reader can read (a period's start, or a date-time): when the "
                "specimen was taken cannot be told, so which result is the latest cannot either",
                field=unread[0],
            )
        return bool(unread)

    def episode_record(
        self,
        rec: URIRef,
        classes: list[URIRef],
        ref: str,
        *times: TimeInterval | None,
        ended: TimeInterval | None = None,
    ) -> None:
        """Remember a record for the 'this pregnancy' rule (decision-spec section 3): the latest instant it can
        have begun is the earliest of its times' latest instants; ``ended``, when it ended (an abatement)."""
        if any(self.v.is_a(c, KGR.EpisodeRecord) for c in classes):
            latest = min((t.latest for t in times if t is not None), default=None)
            event = any(self.v.is_a(c, KGR.EventCondition) for c in classes)
            # the link from her to the record, which ``record`` has just added: an IRI of the ontology
            link = cast(URIRef, next(iter(self.g.predicates(self.me, rec))))
            self.episode.append((rec, link, latest, ref, event, ended.latest if ended is not None else None))

    def linked_elsewhere(self, kind: str, other: str) -> None:
        """Patient.link to a patient the input does not hold: the same person's records there are not read.
        Replaced by it, this record is not the current one (she fails closed); otherwise the records there
        could decide, so they are a record not understood (E2) and listed as missing data."""
        ref = f"Patient/{self.pid}"
        if kind == "replaced-by":
            self.refuse(
                ref, f"this patient record is replaced by {other} (Patient.link), which the input does not hold", "link"
            )
            return
        self.problem(
            ref,
            f"the same person's records under {other} (Patient.link {kind}) are not in the input; they could change "
            "the decision, so they are listed as missing data",
            field="link",
        )
        self.record(KGR.hasRecord, [KGR.UninterpretedRecord], other, None)

    def _components(self, r: dict, ref: str) -> None:
        """An Observation's components, which no kind of fact of the guidance reads, are named, never passed
        over in silence; one whose code or coded value lies in a value set that could change the decision
        (a loss) makes the record one not understood (E2), as an unread record's code does."""
        components = [c for c in r.get("component") or [] if isinstance(c, dict)]
        if not components:
            return
        v = self.v
        codes = "; ".join(_codes_text(c.get("code")) for c in components)
        for c in components:
            absent = v.absent(c)
            if absent:  # (a fetal heart rate of 0 beside the conclusion: never passed over)
                self.problem(
                    ref,
                    f"a component ({_codes_text(c.get('code'))}, value {_value_text(c)}) makes it a "
                    f"{', '.join(v.label(a) for a in absent)}: "
                    "it is not read, so it is listed as missing data",
                    field="component",
                )
                self._not_understood_record(r, ref, absent, c.get("code"), "/component", _own_time(r))
                return
        for c in components:
            stated = [cd for cd in _component_codeables(c) if isinstance(cd, dict)]
            for codeable in stated:
                if v.could_decide(codeable):
                    self.problem(
                        ref,
                        f"a component ({_codes_text(codeable)}) lies in a value set that could change the decision "
                        "(e.g. a pregnancy loss) and is not read, so it is listed as missing data",
                        field="component",
                    )
                    self.record(KGR.hasRecord, [KGR.UninterpretedRecord], ref, codeable, "/component")
                    return
            # (and its words: a value "Gestational sac only, no fetal pole", a coded value whose text says "no embryo
            # seen"; not the name of what a count counts)
            texts = [c["valueString"]] if isinstance(c.get("valueString"), str) else []
            texts += [t for cd in stated for t in _value_texts(cd)]
            meaning = [m for cd in stated for m in v.value_meanings(cd)]
            kinds, quotes = v.words_naming(texts, meaning) if texts else ([], [])
            if kinds:
                quoted = "; ".join(f'"{_quoted(q)}"' for q in quotes)
                self.problem(
                    ref,
                    f"a component's words ({quoted}) name what could change the decision "
                    f"({', '.join(sorted(v.label(k) for k in kinds))}) and are not read, so it is listed as missing data",
                    field="component",
                )
                self._not_understood_record(r, ref, kinds, c.get("code"), "/component-words", _own_time(r))
                return
        self.problem(ref, f"its component(s) are not read by this guidance ({codes}): not used", field="component")

    def not_understood(self, ref: str, codeable: Any, kind: str, ended: TimeInterval | None = None) -> None:
        """A record whose code is in no code system the guidance reads (no coding, text only, a local or
        national system, a malformed or post-coordinated code): what it records cannot be told, so it could be a
        loss, and it cannot be ignored (fhir-reading section 2). When it began does not help (a cause of long
        standing still counts); ``ended``, a resolved condition's abatement, does: one over before this
        pregnancy began cannot be about it."""
        text = codeable.get("text") if isinstance(codeable, dict) and isinstance(codeable.get("text"), str) else None
        both = f"; text {text!r}" if text and _codings(codeable) else ""  # (without a coding, the text is shown)
        self.problem(
            ref,
            f"{kind} code ({_codes_text(codeable)}{both}) is not a well-formed code "
            "of a code system this guidance reads, so what the record is cannot be told; it could change the decision (e.g. a pregnancy "
            "loss), so it is listed as missing data",
            field="code",
        )
        rec = self.record(KGR.hasRecord, [KGR.UninterpretedRecord], ref, codeable)
        if ended is not None:  # (this pregnancy's rule moves it aside if it ended before the pregnancy began)
            self.episode.append((rec, KGR.hasRecord, ended.latest, ref, False, ended.latest))

    def unread(self, r: dict, ref: str, what: str, field: str, when: tuple | None = None) -> None:
        """A resource the guidance does not read (``what`` says why), named in data_problems. When one of its
        coded elements (its code, coded value or conclusions) means an event condition (a loss, a conception by
        ART) or lies in a value set that could bear on the decision, it cannot be ignored either (fhir-reading
        sections 1 and 2: a contraindicating meaning is never hidden): it becomes a ``kgr:UninterpretedRecord``,
        rule E2 withholds ``indicated``, and it is listed as missing data. ``when``: its time, if already read."""
        if _withdrawn(r):  # (entered in error, cancelled: not a record of anything)
            return
        v = self.v
        conclusions, components = r.get("conclusionCode"), r.get("component")
        codeables = [
            r.get("code"),
            r.get("valueCodeableConcept"),
            *(conclusions if isinstance(conclusions, list) else []),
            *(  # (and its components': an unread Observation's component may name a loss)
                codeable
                for c in (components if isinstance(components, list) else [])
                if isinstance(c, dict)
                for codeable in _component_codeables(c)
            ),
        ]
        # (a value of absence first: a fetal heart rate of 0, in the record or a component, says more than its code)
        # (each looked up only when those before it meant nothing: the first that does decides)
        found: Iterator[tuple[dict, list[URIRef], str]] = itertools.chain(
            (
                (element, v.absent(element), "value")
                for element in (
                    r,
                    *(c for c in (components if isinstance(components, list) else []) if isinstance(c, dict)),
                )
            ),
            (  # (the record's own code as the record it is: a result named progesterone is one in an Observation)
                (
                    codeable,
                    v.could_decide(codeable, r.get("resourceType") if codeable is r.get("code") else None),
                    "code",
                )
                for codeable in codeables
                if isinstance(codeable, dict)
            ),
            # (and its free text, sentence by sentence and each sentence with the next, by the names of the ontology: a
            # report's conclusion "Missed miscarriage", a value "No fetal heartbeat", "Fetal heart seen at 7 weeks. Not
            # seen today.")
            (
                ({"text": clause}, v.could_decide({"text": clause}), key)
                for key in ("valueString", "conclusion")
                if isinstance(r.get(key), str)
                for clause in _sentences_and_pairs(r[key])
            ),
            (  # (and its components' words: a valueString "Missed miscarriage", an interpretation, a reason for no value)
                ({"text": clause}, v.could_decide({"text": clause}), f"component.{key}")
                for c in (components if isinstance(components, list) else [])
                if isinstance(c, dict)
                for key in ("valueString", "interpretation", "dataAbsentReason")
                for text in _texts_of(c.get(key))
                for clause in _sentences_and_pairs(text)
            ),
            # (and the text and displays of its coded value, whatever its codes mean: a pregnancy status coded
            # "Pregnant" whose text says "Not pregnant" contradicts itself; not its code's text, the name of what was
            # observed, such as "Abortions" for a count of them)
            (  # (each whole and each of its sentences: ``_whole_and_sentences``)
                ({"text": part}, v.could_decide({"text": part}), "valueCodeableConcept.text")
                for text in _value_texts(r.get("valueCodeableConcept"))
                for part in _whole_and_sentences(text)
            ),
        )
        for element, concepts, how in found:
            if not concepts:
                continue
            named = ", ".join(sorted({v.label(c) for c in concepts}))
            # (by value: the element whose value says it is absent, the record or a component)
            codeable, value = (element.get("code"), _value_text(element)) if how == "value" else (element, "")
            if how == "value":
                message = f"a value of {value} for {_codes_text(codeable)} makes it a {named}"
            elif how == "code":
                message = f"{_codes_text(codeable)} lies in a value set that could change the decision ({named})"
            else:
                message = f'its {how} says "{element["text"]}", which could change the decision ({named})'
            self.problem(
                ref,
                f"{what}, but {message}: the record is not read, so it is listed as missing data",
                field=field if how in ("value", "code") else how,
            )
            self._not_understood_record(
                r, ref, concepts, codeable, "/not-understood", *(when if when is not None else (self.when(r, ref)[1],))
            )
            return
        ours = not self._other_focus(r, ref)
        final = ours and RESULT_STATUS.get(str(r.get("status"))) == "final"
        # (a final result of hers: not of a gestational carrier, its focus (a focus naming her is hers); that shows a
        # pregnancy, or a level that neither shows one nor says there is none: 12, "<10", not a report of one; a
        # preliminary level too, when it shows none: a low one is no less worrying for being preliminary)
        pregnant = ours and v.shows_a_pregnancy(r)
        shows = final and pregnant
        classes = v.level_classes(r) if ours and r.get("resourceType") == "Observation" else []
        level = bool(classes) and (final or (r.get("status") == "preliminary" and not pregnant))
        if shows or level:
            # (an effective time it gives that is not read (a period with only an end, a Timing): not dated by
            # ``issued``, a report's time)
            effective = any(k.startswith(("effective", "_effective")) for k in r)
            own = (when[0] if when else None) or (
                _own_time(r) if not effective or _time_of(r, EFFECTIVE[:-1])[0] else None
            )
            if shows:
                self.pregnancy_results.append(own)
            self.levels.append((own, ref, shows, level, v.level_weeks(classes) if level else None))
        # (the words of an Observation's other elements: a method, an interpretation; said there when they could
        # change the decision: not used, but...)
        if r.get("resourceType") == "Observation" and self.elsewhere(
            r, ref, what, skip=_OBSERVATION_UNREAD, quiet=True
        ):
            return
        self.problem(ref, f"{what}; not used", field=field)

    def _not_understood_record(
        self, r: dict, ref: str, concepts: list[URIRef], codeable: Any, suffix: str, when: TimeInterval | None
    ) -> None:
        """A record not understood (E2) of ``r`` for what ``concepts`` mean, typed with those of them that are
        classes of such records, dated by ``when`` for the 'this pregnancy' rule; one made at one point in time (an
        Observation's effectiveDateTime, instant or issued, not a period, nor a Condition that holds on) is
        remembered as such (kgr:uninformativeBeforeWeek)."""
        v = self.v
        kinds = [c for c in concepts if v.is_a(c, KGR.UninterpretedRecord)]
        rec = self.record(KGR.hasRecord, [KGR.UninterpretedRecord, *kinds], ref, codeable, suffix)
        if any(v.is_a(c, KGR.Finding) for c in kinds):  # (a finding states its presence: this record's)
            self.g.add((rec, KGR.presence, KGR.Present))
        if _time_of(r, EFFECTIVE)[0] in ("effectiveDateTime", "effectiveInstant", "issued"):
            self.point_records.add(rec)
        self.episode_record(rec, concepts, ref, when)

    def elsewhere(
        self, r: dict, ref: str, what: str | None, skip: frozenset[str] = frozenset(), quiet: bool = False
    ) -> bool:
        """A resource of a kind the guidance does not read (an Encounter, a ClinicalImpression, an EpisodeOfCare)
        or one whose code it does not read (a Procedure of a kind it does not know): any of its codes (its
        reasonCode, its diagnosis...) that means an event condition of the guidance (a loss) is not passed
        over. Unless a record read states the same (``_finish``), it makes a record not understood (E2).
        ``what``: why it is not read, said when no code of it bears on the decision (None: nothing said). ``skip``:
        its top-level elements already read (of a record read by its code: what else it says, its evidence, a
        complication, an outcome). ``quiet``: ``what`` is said only with a code that bears on the decision, and a code
        of a pregnancy shows none (the caller says and weighs the rest). A cancelled record: only why it was cancelled,
        or what it was for (``_WHY_CANCELLED``). Returns whether a code or words of it bear on the decision."""
        cancelled = _cancelled(r)
        if _withdrawn(r) and not cancelled:
            return False
        if cancelled:  # (only why it was cancelled, or what it was for: once, whichever reader comes first)
            if id(r) in self._cancelled_read:
                return False
            self._cancelled_read.add(id(r))
            skip = _all_but_why_cancelled(r)
            what = "cancelled (what it records did not happen; why, and what it was for, are read)"
        v = self.v
        said = False
        states = v.states(r.get("code"), r.get("resourceType")) if "code" not in skip else []
        if states:  # (its own code means a state the guidance cannot weigh, e.g. an allergy to its treatment)
            named = ", ".join(sorted(v.label(c) for c in states))
            verification = _status_code(r.get("verificationStatus"), VERIFICATION_SYSTEM, *ALLERGY_SYSTEMS)
            clinical = _status_code(r.get("clinicalStatus"), CLINICAL_SYSTEM, *ALLERGY_SYSTEMS)
            then = (  # (over now, as of a time given: whether it was over then cannot be told, unless updated before)
                self.as_of is not None
                and clinical in NOT_PRESENT
                and verification not in ("refuted", "entered-in-error")
                and not self._unchanged_since(r)
            )
            if then:
                self.problem(
                    ref,
                    f"{named}: clinicalStatus {clinical}, but whether it was over as of the time the assessment is "
                    f"made as of ({self.now_text}) cannot be told: read as present then",
                    field="clinicalStatus",
                )
            if not _current(verification, clinical) and not then:
                self.problem(
                    ref, f"{named}: recorded as refuted or no longer present; not used", field="clinicalStatus"
                )
            else:
                self.problem(
                    ref,
                    f"its code {_codes_text(r.get('code'))} means {named}, which this guidance does not weigh: the "
                    "record is not read, so it is listed as missing data",
                    field="code",
                )
                self.record(KGR.hasRecord, [KGR.UninterpretedRecord, *states], ref, r.get("code"), "/not-understood")
            said = True
        # (its codes, and its words where its codes are read: a reason coded as a threatened miscarriage, or as an
        # IVF pregnancy, whose text says "Complete miscarriage")
        asked = [] if "item" in skip else [("item", q) for q in v.questions_answered_yes(r)]
        found = [
            (codeable, concepts, text, element)
            for element, codeable in [*_said(r, skip), *asked]
            for concepts, text in v.beside(codeable)
        ]
        if (
            v.pregnancy_classes
            and not quiet  # (the caller weighs whether the record shows a pregnancy: an unread Observation's values)
            and r.get("status") not in ("planned", "draft", "proposed", "not-done", "preparation", "cancelled")
            and any(v.meanings(c, lambda k: k in v.pregnancy_classes) for c in _codeables(r, skip=skip))
        ):  # (a prenatal Encounter for her pregnancy, a claim of its supervision: she was pregnant then)
            self.pregnancy_results.append(_unread_time(r))
        if found:
            if what is None and skip:  # (a record read by its code or its medication: the rest of it is not)
                what = (
                    "its medication is read, not its reasons"
                    if str(r.get("resourceType")).startswith("Medication")
                    else "its code is read, not its other elements"
                )
            self.pending.append((r, ref, what, found))
        elif what is not None and not said and not cancelled and not quiet:
            self.problem(ref, what, field="code")
        return bool(found)

    def _pending(self) -> None:
        """The codes of records not read that mean an event condition (``elsewhere``): each a record not
        understood (E2), dated by the resource's own time; ``_stated`` later withdraws one that a present record
        of this pregnancy states."""
        for r, ref, what, found in self.pending:
            codes = "; ".join(text for _, _, text, _ in found)
            self.problem(
                ref,
                f"{what or 'read only for its dates'}, but {codes} could change the decision (e.g. a pregnancy loss): "
                "the record is not read, so it is listed as missing data",
                # (the elements that say it: its code, a reasonCode, a description...)
                field=", ".join(dict.fromkeys(element for *_, element in found)),
            )
            concepts = sorted({c for _, k, _, _ in found for c in k}, key=str)
            rec = self.record(KGR.hasRecord, [KGR.UninterpretedRecord], ref, found[0][0], "/not-understood")
            period = next((k for k in _OWN_PERIODS if isinstance(r.get(k), dict) and "end" in r[k]), None)
            started = next((k for k in _OWN_PERIODS[2:] if isinstance(r.get(k), dict) and "start" in r[k]), None)
            served = _served(r)
            if served is not None:  # (a claim's items: when their services were given, its billable period aside:
                # Synthea bills an ExplanationOfBenefit for a year after the encounter)
                when = self.when({"serviced": served}, ref, ("serviced",), keep_future=True)[1]
            elif period is not None:  # (its period's end, else its date: a claim's billable period, its creation)
                when = self._end(r, ref, period, keep_future=True)
            elif started is not None and not any(k in r for k in _OWN_TIME):  # (a procedure going on since then)
                when = self.when({"start": r[started]["start"]}, ref, ("start",), keep_future=True)[1]
            else:
                when = self.when(r, ref, _OWN_TIME, keep_future=True)[1]
            self.episode_record(rec, concepts, ref, when)
            self.stating.append((rec, concepts, len(self.problems) - 1, ref, codes))

    def _stated(self) -> None:
        """After this pregnancy's records are told from earlier ones: a record not read whose codes only state
        what a present record of this pregnancy states (every antenatal Encounter of an IVF pregnancy carrying
        the ART code beside the ART record) adds nothing, and is only said."""
        present = {
            c
            for rec in self.g.objects(self.me, KGR.hasFinding)
            if (rec, KGR.presence, KGR.Present) in self.g
            for c in self.g.objects(rec, RDF.type)
        }
        for rec, concepts, at, _ref, codes in self.stating:
            if (self.me, KGR.hasRecord, rec) in self.g and set(concepts) <= present:
                self.g.remove((self.me, KGR.hasRecord, rec))
                self.problems[at] = dict(
                    self.problems[at],
                    severity="info",
                    message=f"its codes ({codes}) state what a present record of this pregnancy states",
                )

    # -- resources --------------------------------------------------------------------------------
    def observation(self, r: dict, ref: str) -> None:
        v = self.v
        kinds = {
            "measurement": lambda c: v.is_a(c, KGR.Measurement),
            "gestational age": lambda c: c == KGR.gestationalAgeWeeks,
            "date dating the pregnancy": lambda c: c in v.weeks_on_date,
            "patient attribute": lambda c: c in v.attribute_units,
            "symptom course": lambda c: c == KGR.symptomCourse,
            "symptom": lambda c: v.is_a(c, KGR.Symptom),
            "imaging": lambda c: v.is_a(c, KGR.ImagingResult),
        }
        concepts = v.meanings(r.get("code"), lambda c: any(k(c) for k in kinds.values()))
        if not concepts:
            known = v.meanings(r.get("code"), lambda c: not v.is_a(c, KGR.Presence))
            what = (
                f"Observation code {_codes_text(r.get('code'))} means {', '.join(v.label(c) for c in known)}, which "
                "this guidance does not read"
                if known
                else f"unrecognised Observation code ({_codes_text(r.get('code'))})"
            )
            scan = self.scan_results.get(ref) or self.scan_results.get(str(r.get("_fullUrl")))
            if scan is not None and not _withdrawn(r):  # (a result of a scan report: its flag is the scan's)
                self._interpretation_not_read(r, ref, "imaging", _own_time(r), scan)
            self.unread(r, ref, what, "code")
            return
        found = {name for name, k in kinds.items() if any(k(c) for c in concepts)}
        if len(found) > 1:
            self.refuse(
                ref,
                f"its codings ({_codes_text(r.get('code'))}) mean different kinds of fact ({', '.join(sorted(found))})",
                field="code",
            )
            return
        kind = found.pop()
        if self._about_another(r, ref, kind, concepts):
            return
        if r.get("status") not in IGNORED_STATUS:
            self._components(r, ref)
            # (its code read, its words may name what it does not: a bleeding whose code's text says "passed products
            # of conception", a scan whose code's text says "missed miscarriage")
            self._code_words(r, ref, concepts, lambda r, ref: ((_own_time(r),), None))
        if kind == "measurement":
            self._measurement(r, ref, concepts)
            return
        if r.get("status") in IGNORED_STATUS:
            return
        usable, when = self.when(r, ref, keep_future=True)
        if not usable:
            return
        self._interpretation_not_read(r, ref, kind, when, concepts)
        if kind != "imaging":  # (a scan's conclusion: ``_imaging``)
            # (its value, read by its codes or not read, may say in words what could change the decision: a
            # bleeding valued "Mild" whose text says "passed products of conception")
            value = r.get("valueCodeableConcept")
            string = r.get("valueString")
            self._words_beside_codes(
                [*([string] if isinstance(string, str) else []), *_value_texts(value)],
                v.value_meanings(value),
                ref,
                value if isinstance(value, dict) else r.get("code"),
                "/value-words",
                "valueCodeableConcept" if isinstance(value, dict) else "valueString",
                f"its value ({_codes_text(value)}) is read only by its codes"
                if isinstance(value, dict)
                else "its value is not read",
                when,
                episode=concepts,
            )
        if "dataAbsentReason" in r and not any(
            k in r for k in ("valueQuantity", "valueCodeableConcept", "valueBoolean")
        ):
            self.problem(
                ref,
                f"no value (dataAbsentReason {_codes_text(r['dataAbsentReason'])}): unknown, not absent",
                severity="info",
                field="dataAbsentReason",
            )
            return
        if kind == "symptom course":
            course = v.meanings(r.get("valueCodeableConcept"), lambda c: v.is_a(c, KGR.SymptomCourse))
            if len(course) == 1:
                self.courses.append((when, course[0]))
            else:
                self.problem(
                    ref,
                    f"unrecognised or ambiguous symptom course ({_codes_text(r.get('valueCodeableConcept'))})",
                    field="valueCodeableConcept",
                )
        elif kind == "gestational age":
            self._gestational_age(r, ref, when)
        elif kind == "date dating the pregnancy":
            self._dating_date(r, ref, when, concepts)
        elif kind == "patient attribute":
            props = sorted({c for c in concepts if c in v.attribute_units})
            if len(props) != 1:
                self.problem(
                    ref,
                    f"its codings mean several patient attributes ({_codes_text(r.get('code'))}); not used",
                    field="code",
                )
            else:
                self._attribute(r, ref, props[0], when)
        elif kind == "symptom":
            self._symptom(r, ref, concepts, when)
        else:
            conclusions = [r["valueCodeableConcept"]] if "valueCodeableConcept" in r else []
            self._imaging(conclusions, ref, concepts, r.get("code"), when, "valueCodeableConcept")

    def _quantity(self, r: dict, ref: str, what: str, units: Iterable[str], in_words: str) -> tuple | None:
        """The (value, unit in lower case) of an Observation's valueQuantity in one of ``units``, or None
        after saying why it is not used (no number, another unit, a number out of range)."""
        q = r.get("valueQuantity")
        unit = q.get("code") or q.get("unit") if isinstance(q, dict) else None
        value = q.get("value") if isinstance(q, dict) else None
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float, Decimal))
            or not isinstance(unit, str)
            or unit.lower() not in units
        ):
            self.problem(ref, f"{what} needs valueQuantity in {in_words}; not used", field="valueQuantity")
            return None
        if number_problem(value):
            self.problem(ref, f"{number_problem(value)}; the {what} is not used", field="valueQuantity.value")
            return None
        q = cast(dict, q)  # (a value came from it)
        if "comparator" in q:  # (">12 wk" bounds the value; it is not the value)
            self.problem(
                ref,
                f"valueQuantity is a bound ({q['comparator']}{value}), not a value; the {what} is not used",
                field="valueQuantity.comparator",
            )
            return None
        code, text = q.get("code"), q.get("unit")
        if (
            isinstance(units, dict)
            and isinstance(code, str)
            and isinstance(text, str)
            and code.lower() in units
            and text.lower() in units
            and units[code.lower()] != units[text.lower()]
        ):  # ("d" coded, "weeks" written: which the number counts cannot be told)
            self.problem(
                ref,
                f"valueQuantity's code {code!r} and unit {text!r} name different units; the {what} is not used",
                field="valueQuantity.unit",
            )
            return None
        return Decimal(str(value)), unit.lower()

    def _gestational_age(self, r: dict, ref: str, when: TimeInterval | None) -> None:
        units = self.v.per_week
        q = self._quantity(r, ref, "gestational age", units, f"a unit of time ({', '.join(sorted(units))})")
        if q is not None:
            self.gestational_ages.append((when, q[0] / units[q[1]], ref))

    def _dating_date(self, r: dict, ref: str, when: TimeInterval | None, concepts: list[URIRef]) -> None:
        """A date on which the gestational age is so many weeks (an estimated delivery date: 40) dates the
        pregnancy as a dated gestational age does: read as the gestational age it implies at the record's time.
        With no time of its own (or one in the future) it counts as of the assessment, as an undated gestational
        age does, but only when nothing dated dates the pregnancy. Unread (no date, a date of less than a day's
        precision, a gestational age it implies that cannot be), the pregnancy stays undated (the cautious way)."""
        v = self.v
        label = ", ".join(sorted(v.label(c) for c in concepts))
        weeks = {v.weeks_on_date[c] for c in concepts}
        if len(weeks) != 1:
            self.problem(
                ref,
                f"its codings ({_codes_text(r.get('code'))}) disagree on what the date means; not used",
                field="code",
            )
            return
        try:
            date = parse_time(r.get("valueDateTime"))
        except ValueError as exc:
            self.problem(
                ref, f"the {label} needs valueDateTime: {exc}; not used, so it dates nothing", field="valueDateTime"
            )
            return
        if date.latest - date.earliest > _dt.timedelta(days=3):  # (a year or a month: weeks of doubt)
            self.problem(
                ref,
                f"the {label} {date.text} is not a day; not used, so it dates nothing",
                field="valueDateTime",
            )
            return
        on_date = weeks.pop()
        at = when if when is not None else TimeInterval(self.now, self.now, "the assessment")
        # (from the middle of the date's interval, so that a date and an instant compare without the zone widening)
        middle = date.earliest + (date.latest - date.earliest) / 2
        at_record = on_date - Decimal((middle - at.earliest).total_seconds()) / Decimal(7 * 86400)
        beyond = self.v.stale_after
        if at_record < 0 or (beyond is None and at_record > on_date + 4):
            self.problem(
                ref,
                f"the {label} {date.text} puts the gestational age at {at.text} at {round(at_record, 1)} weeks, "
                "which cannot be; not used, so it dates nothing",
                field="valueDateTime",
            )
            return
        if beyond is not None and at_record > beyond:
            # (long past: the pregnancy it dates was over by then; never a reason to read her as undated. Whether
            # something else dates this pregnancy is known once every record is read: ``_finish``)
            self.stale_dates.append(
                (
                    ref,
                    f"the {label} {date.text} puts the gestational age at {at.text} at {round(at_record, 1)} weeks: "
                    f"past {beyond} weeks, the longest a pregnancy lasts, so the pregnancy it dates was over by then",
                    date,
                )
            )
            return
        (self.gestational_ages if when is not None else self.undated_dating).append((at, at_record, ref))

    def _attribute(self, r: dict, ref: str, prop: URIRef, when: TimeInterval | None) -> None:
        """A numeric patient attribute the guidance declares (e.g. BMI): a valueQuantity in its unit; the
        latest observation of it is used."""
        unit_label, units = self.v.attribute_units[prop]
        q = self._quantity(r, ref, str(self.v.g.value(prop, RDFS.label) or prop), units, unit_label)
        if q is not None:
            self.attributes.setdefault(prop, []).append((when, q[0], ref))

    def _symptom(self, r: dict, ref: str, concepts: list, when: TimeInterval | None) -> None:
        v = self.v
        other = sorted(k for k in r if k.startswith("value") and k not in ("valueBoolean", "valueCodeableConcept"))
        if other:  # ("No" as a string, 0 as a count: neither says present or absent; read as present, it met C2)
            self.problem(
                ref,
                f"{other[0]} does not say whether the symptom is present or absent (a boolean or a coded answer "
                "does); it stays unknown, not used",
                field=other[0],
            )
            return
        presence, severity = KGR.Present, None
        if r.get("valueBoolean") is False:
            presence = KGR.Absent
        elif "valueCodeableConcept" in r:
            answer = v.meanings(r["valueCodeableConcept"], lambda c: c in (KGR.Present, KGR.Absent))
            if len(answer) == 1:
                presence = answer[0]
            elif answer:
                self.refuse(ref, "its value says both yes and no", field="valueCodeableConcept")
                return
            else:
                severity = r["valueCodeableConcept"]
        rec = self.record(KGR.hasFinding, concepts, ref, r.get("code"))
        self.g.add((rec, KGR.presence, presence))
        if presence == KGR.Present and severity is not None:
            self._severity(rec, concepts, severity, ref)
        if when is not None:
            add_time(self.g, rec, when)
        self.episode_record(rec, concepts, ref, when)

    def _severity(self, rec, symptoms: list, codeable, ref) -> None:
        if not codeable:
            return
        allowed = {s for symptom in symptoms for s in self.v.g.objects(symptom, KGR.allowedSeverity)}
        sev = self.v.meanings(codeable, lambda c: c in allowed)
        if len(sev) == 1:
            self.g.add((rec, KGR.severity, sev[0]))
        elif sev:
            # codings naming different grades: every one is stated, OWL-RL finds the contradiction (fail closed)
            for s in sev:
                self.g.add((rec, KGR.severity, s))
            self.problem(
                ref,
                f"its severity codings name different grades ({_codes_text(codeable)})",
                severity="error",
                field="severity",
            )
        else:
            self.problem(ref, f"unrecognised severity ({_codes_text(codeable)}); severity unknown", field="severity")

    def _other_focus(self, r: dict, ref: str) -> list[dict]:
        """The entries of a resource's ``focus`` that do not name her (her subject, another reference of hers)."""
        focus = [f for f in r.get("focus") or [] if isinstance(f, dict)]
        if not focus:
            return []
        subject = _subject_key(r)
        # (her id on the server the record came from: the base of its own fullUrl, as R4 resolves a reference
        # in a Bundle; the same id on another server is another patient's, or cannot be told)
        own = str(r.get("_fullUrl") or "")
        here = f"{own[: -len(ref)]}Patient/{self.pid}" if own.endswith(f"/{ref}") else None
        return [
            f
            for f in focus
            if (key := _reference_key(f.get("reference"))) is None
            or not (key == subject or key in self.references or key == here)
        ]

    def _about_another(self, r: dict, ref: str, kind: str, concepts: list[URIRef]) -> bool:
        """Whether an Observation the guidance reads is about someone or something other than her: its focus
        (R4 Observation.focus: "when it is not the patient of record", such as a fetus, a donor, a parent) names
        another. What it is about cannot be told (a fetus's heart rate is of this pregnancy, an egg donor's
        progesterone is not hers), so it is a record not understood (E2), named; never read as hers."""
        others = self._other_focus(r, ref)
        if not others or _withdrawn(r):
            return False
        named = "; ".join(
            str(f.get("reference") or f.get("display") or (f.get("identifier") or {}).get("value") or "no reference")
            for f in others
        )
        elsewhere = any(str(f.get("reference") or "").endswith(f"/Patient/{self.pid}") for f in others)
        self.listed_missing(
            ref,
            f"an Observation ({kind}) whose focus ({named}) is not the patient: it is about someone or something else "
            "(a fetus, a donor, a family member"
            + (", or a patient of her id on another server" if elsewhere else "")
            + "), which the reader cannot tell; it could change the decision, so it is "
            "not read as hers and is listed as missing data",
            [KGR.UninterpretedRecord],
            r.get("code"),
            "/focus",
            field="focus",
            when=self.when(r, ref, keep_future=True)[1],
            episode=concepts,
        )
        return True

    def _in_use_then(self, r: dict, ref: str, status: Any) -> bool:
        """A medication completed or stopped, by the record's present status, whose period ended after the time the
        assessment is made as of: it was in use then (a retrospective assessment), and is read so, said."""
        if self.as_of is None or status not in ("completed", "stopped"):  # (at the present, an end to come is its plan)
            return False
        # (when the use ended: a statement's effective period's end (its effectiveDateTime says she was taking it then,
        # not that she stopped); a request's dosage bounds, the period it is to be taken in, of every dosage (one
        # bounded otherwise, by a duration, or not at all, gives no end): not its validityPeriod, the period it may
        # be dispensed in)
        period = r.get("effectivePeriod")
        end = period.get("end") if isinstance(period, dict) else None
        if r.get("resourceType") == "MedicationRequest":
            dosages = r["dosageInstruction"] if isinstance(r.get("dosageInstruction"), list) else []
            bounds = [_bounds_end(d) for d in dosages]
            end = max(bounds, key=str) if bounds and all(isinstance(b, str) for b in bounds) else None
        if end is None and self._unchanged_since(r):  # (its status was already completed or stopped then)
            return False
        if end is None:  # (over at a time it does not give: it may have been in use then)
            self.problem(
                ref,
                f"status {status} with no date of its end: whether it was in use as of the time the assessment is made "
                f"as of ({self.now_text}) cannot be told; read as in use (the cautious reading for the safety flags)",
                field="status",
            )
            return True
        try:
            ended = parse_time(end)
        except ValueError:
            return False
        if not self.after_now(ended) and ended.latest <= self.now:  # (over by then; an end that may be after: not)
            return False
        self.problem(
            ref,
            f"status {status} with a period that ended after the time the assessment is made as of ({end}), or may "
            "have: in use then, read as in use",
            severity="info",
            field="status",
        )
        return True

    def _interpretation_not_read(
        self, r: dict, ref: str, kind: str, when: TimeInterval | None, concepts: list[URIRef]
    ) -> None:
        """The interpretation flags of an Observation the guidance reads by its value, not as a measurement. Normal
        (N) agrees with any reading of it; another (A abnormal, AA critical, a local code) is not read, and is never
        passed over: on an examination (an ultrasound) it may say the examination was abnormal whatever its
        coded conclusion says, so the record is one not understood (E2); on another kind of record it is named."""
        v = self.v
        flags = [c for c in r.get("interpretation") or [] if isinstance(c, dict)]
        if kind == "imaging":  # (and its components' flags: a crown-rump length flagged abnormal)
            components = r.get("component")
            flags += [
                c
                for comp in (components if isinstance(components, list) else [])
                if isinstance(comp, dict) and isinstance(comp.get("interpretation"), list)
                for c in comp["interpretation"]
                if isinstance(c, dict)
            ]
        other = [
            c for c in flags if not v.meanings(c, lambda m: m == KGR.Normal) and (v.readable(c) or not _says_normal(c))
        ]
        if not other:
            return
        text = "; ".join(_codes_text(c) for c in other)
        if kind != "imaging":
            self.problem(ref, f"its interpretation ({text}) is not read for a {kind}; not used", field="interpretation")
            return
        rec = self.listed_missing(
            ref,
            f"its interpretation ({text}) is not read: it may say the examination was abnormal whatever its "
            "conclusion says, so it is listed as missing data and makes the outcome more cautious until it is read",
            [KGR.UninterpretedRecord],
            r.get("code"),
            "/interpretation",
            field="interpretation",
            when=when,
            episode=concepts,
        )
        for codeable in other:
            for system, c in _codings(codeable):
                self.g.add((rec, KGR.sourceCode, Literal(f"{system}|{c}")))

    def _words_beside_codes(
        self,
        texts: list[str],
        meaning: list[URIRef],
        ref: str,
        codeable: Any,
        suffix: str,
        field_name: str,
        what: str,
        *times: TimeInterval | None,
        episode: list[URIRef] | None = None,
        ended: TimeInterval | None = None,
    ) -> None:
        """Words read beside codes (a scan conclusion's text and displays, a report's ``conclusion``; a Condition's
        or a Procedure's code's text and displays; the words of a coded value) judged by the ontology's names
        (``FhirVocabulary.words_naming``): what they name that could change the decision and the codes' meanings
        do not agree with (kgr:wordsAgreeWith) is a record not understood (E2), named: ``what`` says how the words'
        element was read ("its code ... is read"). It is dated by ``times`` and, when ``episode`` gives the source
        record's kinds, remembered with them for the 'this pregnancy' rule."""
        v = self.v
        named, quotes = v.words_naming(texts, meaning)
        if not named:
            return
        rec = self.record(KGR.hasRecord, [KGR.UninterpretedRecord], ref, codeable, suffix)
        when = next((t for t in times if t is not None), None)
        if when is not None:
            add_time(self.g, rec, when)
        if episode is not None:
            self.episode_record(rec, [*episode, *named], ref, *times, ended=ended)
        labels = ", ".join(sorted({v.label(c) for c in named}))
        quoted = "; ".join(f'"{_quoted(q)}"' for q in quotes)
        self.problem(
            ref,
            f"{what}, but its words ({quoted}) name what could change the decision ({labels}): "
            "they are not read, so the record is listed as missing data",
            field=field_name,
        )

    def _imaging(
        self, conclusions: list, ref: str, classes: list, code, when, field_name: str, conclusion_text: Any = None
    ) -> None:
        """One imaging record per recognised conclusion (every entry, every coding); a conclusion the reader
        cannot interpret, or none at all, makes a record not understood (it could show a demise). A report's
        ``conclusion`` in words (``conclusion_text``), beside coded conclusions, is judged as their words are
        (``_words_beside_codes``)."""
        allowed = {c for cls in classes for c in self.v.g.objects(cls, KGR.allowedConclusion)}
        found: list[URIRef] = []
        unread: list[str] = []
        stated = 0
        v = self.v
        for j, codeable in enumerate(conclusions):
            meaning = v.meanings(codeable, lambda c: c in allowed)
            found += [m for m in meaning if m not in found]
            if meaning:
                # (its words beside its codes: a conclusion coded normal whose text says "No fetal heartbeat seen"
                # contradicts itself; what they name is not read, and it is said, E2)
                self._words_beside_codes(
                    _value_texts(codeable),
                    meaning,
                    ref,
                    codeable,
                    f"/conclusion-words/{j}",
                    field_name,
                    f"conclusion {_codes_text(codeable)} is read by its codes",
                    when,
                    episode=classes,
                )
                continue
            # a conclusion that names a loss (a missed miscarriage) is a record of it, as a Condition would be
            events = v.events(codeable)
            if events:
                stated += 1
                rec = self.record(KGR.hasFinding, events, ref, codeable, f"/conclusion-finding/{j}")
                self.g.add((rec, KGR.presence, KGR.Present))
                if when is not None:
                    add_time(self.g, rec, when)
                self.episode_record(rec, events, ref, when)
                vague = sorted(v.label(c) for c in events if v.is_a(c, KGR.UninterpretedRecord))
                if vague:  # (a conclusion named, not coded, as a loss or no heart activity: said, as E2 holds)
                    self.problem(
                        ref,
                        f"conclusion {_codes_text(codeable)} is not read, but it could change the decision "
                        f"({', '.join(vague)}): it is listed as missing data",
                        field=field_name,
                    )
            else:
                unread.append(_codes_text(codeable))
        if isinstance(conclusion_text, str) and found:
            self._words_beside_codes(
                [conclusion_text],
                found,
                ref,
                {"text": conclusion_text},
                "/conclusion-words",
                "conclusion",
                "the report's coded conclusion is read",
                when,
                episode=classes,
            )
        for i, conclusion in enumerate(found):
            rec = self.record(KGR.hasImagingResult, classes, ref, code, f"/conclusion/{i}" if len(found) > 1 else "")
            self.g.add((rec, KGR.conclusion, conclusion))
            if when is not None:
                add_time(self.g, rec, when)
            self.episode_record(rec, classes, ref, when)
        if unread or not (found or stated):
            what = f"unrecognised conclusion ({'; '.join(unread)})" if unread else "no coded conclusion"
            rec = self.record(KGR.hasRecord, [KGR.UninterpretedRecord], ref, code, "/not-understood")
            for codeable in conclusions:
                for system, c in _codings(codeable):
                    self.g.add((rec, KGR.sourceCode, Literal(f"{system}|{c}")))
            if when is not None:
                add_time(self.g, rec, when)
            self.problem(
                ref,
                f"{what}: the examination could show a demise, so it is listed as missing data and "
                "makes the outcome more cautious until it is read",
                field=field_name,
            )

    def _measurement(self, r: dict, ref: str, classes: list) -> None:
        status = r.get("status")
        if status not in IGNORED_STATUS and self._time_unread(r, ref):
            return
        if status not in IGNORED_STATUS and self._result_to_come(r, ref):
            return
        usable, when = self.when(r, ref)
        if not usable:
            return
        key, text = _time_of(r, EFFECTIVE)
        if when is None and key is not None and status not in IGNORED_STATUS:
            try:
                parse_time(text)
            except ValueError as exc:  # (read as untimed it would count as older than every timed result)
                self.refuse(
                    ref,
                    f"{key}: {exc}: when the specimen was taken cannot be told, so which result is the latest "
                    "cannot either",
                    field=key,
                )
                return
        rec = self.record(KGR.hasMeasurement, classes, ref, r.get("code"))
        if when is not None:
            add_time(self.g, rec, when)
        self.episode_record(rec, classes, ref, when)
        if status in RESULT_STATUS:
            term = next(
                (
                    t
                    for t in self.v.g.subjects(KGR.summaryValue, Literal(RESULT_STATUS[status]))
                    if self.v.is_a(t, KGR.ResultStatus)
                ),
                None,
            )
            if term is not None:
                self.g.add((rec, KGR.resultStatus, term))
        interpretations = r.get("interpretation") or []
        below: set[URIRef] = set()
        for i, codeable in enumerate(interpretations):
            found = self.v.meanings(codeable, lambda c: self.v.is_a(c, KGR.Interpretation))
            if not found:
                self.problem(
                    ref,
                    f"unrecognised interpretation ({_codes_text(codeable)}); not used",
                    field=f"interpretation[{i}]",
                )
            below |= set(found)
        if len(below) == 1:
            self.g.add((rec, KGR.interpretation, below.pop()))
        elif below:
            self.problem(
                ref,
                "its interpretations disagree ("
                + ", ".join(sorted(str(b).rsplit("#", 1)[-1] for b in below))
                + "); none is used",
                field="interpretation",
            )
        q = r.get("valueQuantity")
        if not isinstance(q, dict) or q.get("value") is None:
            if "valueQuantity" in r or not interpretations:
                reason = f" (dataAbsentReason {_codes_text(r['dataAbsentReason'])})" if "dataAbsentReason" in r else ""
                self.problem(
                    ref,
                    f"no numeric valueQuantity.value{reason}; the result cannot be compared with a range",
                    field="valueQuantity",
                )
            return
        unit = self.v.unit(q)
        if unit is None:
            self.problem(
                ref,
                f"missing or unknown unit ({q.get('code') or q.get('unit')!r}); the value is not used (never guessed)",
                field="valueQuantity.unit",
            )
            return
        if number_problem(q["value"]):
            self.problem(ref, f"{number_problem(q['value'])}; the value is not used", field="valueQuantity.value")
            return
        if "comparator" in q and q["comparator"] not in ("<", "<=", ">", ">="):
            # (R4's QuantityComparator has these four; R5's "ad", "sufficient to achieve", is no bound of a result)
            self.problem(
                ref,
                f"comparator {q['comparator']!r} is not one of R4's (<, <=, >, >=): what {q['value']} bounds "
                "cannot be told; the value is not used",
                field="valueQuantity.comparator",
            )
            return
        self.g.add((rec, KGR.value, decimal_literal(q["value"])))
        self.g.add((rec, KGR.unit, unit))
        if q.get("comparator") in ("<", "<=", ">", ">="):
            self.g.add((rec, KGR.comparator, Literal(q["comparator"])))
            self.problem(
                ref,
                f"value reported as {q['comparator']}{q['value']}: it decides C1 only when the bound is conclusive",
                severity="info",
                field="valueQuantity.comparator",
            )
        if r.get("referenceRange"):
            self.measured.append(_Measured(rec, when, list(r["referenceRange"]), unit, ref))

    def _reference_range(self, m: _Measured, ga_weeks: Decimal | None) -> None:
        """Of several reference ranges, the pregnancy's (by appliesTo, text, and the trimester of the
        gestational age at the result's time); one unlabelled range is the result's own. Otherwise the
        ranges do not decide, and the explanation says why (decision-spec section 4)."""
        chosen, why_not, specific = [], [], set()
        for i, rr in enumerate(m.ranges):
            pops = self.v.populations_of(rr)
            label = ", ".join(sorted(str(p.iri).rsplit("#", 1)[-1] for p in pops)) or "no population named"
            if any(not p.includes for p in pops):
                why_not.append(f"[{i}] is for another population ({label})")
            elif not pops:
                chosen.append((i, rr, False))
            elif any(p.window is not None for p in pops):  # the most specific population (a trimester) decides
                if ga_weeks is None:
                    why_not.append(f"[{i}] is for a trimester ({label}) and the gestational age is unknown")
                elif any(p.window[0] <= ga_weeks < p.window[1] for p in pops if p.window is not None):
                    chosen.append((i, rr, True))
                    specific.add(i)
                else:
                    why_not.append(f"[{i}] is for another trimester ({label})")
            else:
                chosen.append((i, rr, True))
        pregnancy = [c for c in chosen if c[2]]
        if pregnancy:  # the trimester's range, when one matches, before a range for any pregnancy
            chosen = [c for c in pregnancy if c[0] in specific] or pregnancy
        elif len(m.ranges) > 1:
            why_not += [f"[{i}] names no population" for i, _, _ in chosen]
            chosen = []
        lows = {_number(rr.get("low", {}).get("value")) for _, rr, _ in chosen}
        lows = {low if low is None or not number_problem(low) else None for low in lows}
        if len(chosen) >= 1 and len(lows) == 1 and None not in lows:
            i, rr, _ = chosen[0]
            if self.v.unit(rr["low"]) == m.unit:
                self.g.add((m.rec, KGR.referenceLow, decimal_literal(lows.pop())))
                if len(m.ranges) > 1:
                    self.problem(
                        m.ref,
                        f"referenceRange[{i}] used as the pregnancy range; " + "; ".join(why_not),
                        severity="info",
                        field="referenceRange",
                    )
            else:
                self.problem(
                    m.ref,
                    f"referenceRange[{i}].low is in another or no unit; the range is not used",
                    field=f"referenceRange[{i}].low",
                )
            return
        if chosen and len(lows) > 1:
            why_not.append("several ranges apply and their lower bounds differ")
        elif chosen:
            why_not.append("the range that applies has no numeric lower bound")
        self.problem(
            m.ref,
            "no reference range can be chosen for this pregnancy ("
            + "; ".join(why_not)
            + "): the ranges do not decide whether the value is below the normal range",
            severity="info",
            field="referenceRange",
        )

    def condition(self, r: dict, ref: str) -> None:
        v = self.v
        verification = _status_code(r.get("verificationStatus"), VERIFICATION_SYSTEM)
        if verification == "entered-in-error":
            return
        concepts = v.meanings(r.get("code"), lambda c: v.is_a(c, KGR.Finding) or v.is_a(c, KGR.UninterpretedRecord))
        # (what else it says, whatever its code and status: its evidence, an outcome extension, a stage; its abatement
        # in words too, unless it is read below with its code, as a confirmed record of what the guidance reads)
        uninterpreted = bool(concepts) and all(v.is_a(c, KGR.UninterpretedRecord) for c in concepts)
        read_below = (
            bool(concepts) and verification not in UNCONFIRMED and not (verification == "refuted" and uninterpreted)
        )
        self.elsewhere(r, ref, None, skip=_CONDITION_READ | ({"abatementString"} if read_below else set()))
        if not concepts and not v.readable(r.get("code")):
            if verification != "refuted":
                ended = None
                if _status_code(r.get("clinicalStatus"), CLINICAL_SYSTEM) in NOT_PRESENT:  # (over: since when)
                    ended = self._abated(r, ref)
                self.not_understood(ref, r.get("code"), "Condition", ended)
            return
        if not concepts:
            self.problem(ref, f"unrecognised Condition code ({_codes_text(r.get('code'))}); not used", field="code")
            return
        event = any(v.is_a(c, KGR.EventCondition) for c in concepts)
        if verification in UNCONFIRMED:
            if event:
                # an unconfirmed loss (or conception by ART) can be neither used nor ignored
                self.problem(
                    ref,
                    f"verificationStatus {verification}: not confirmed; it could change the decision, "
                    "so it is listed as missing data",
                    field="verificationStatus",
                )
                rec = self.record(KGR.hasRecord, [KGR.UninterpretedRecord], ref, r.get("code"))
                times, ended = self._onset(r, ref)
                self.episode_record(rec, concepts, ref, *times, ended=ended)
            else:
                self.problem(
                    ref, f"verificationStatus {verification}: not confirmed, not used", field="verificationStatus"
                )
                # (its words may name a loss: "Incomplete miscarriage" beside a provisional threatened one)
                self._code_words(r, ref, concepts, self._onset)
            return
        if verification == "refuted" and uninterpreted:
            return
        clinical = _status_code(r.get("clinicalStatus"), CLINICAL_SYSTEM)
        times, ended = self._onset(r, ref)
        # (its code read, its words may name what the code does not: a threatened miscarriage whose text says
        # "Incomplete miscarriage", a pregnancy whose text says "Missed miscarriage")
        self._code_words(r, ref, concepts, lambda r, ref: (times, ended))
        abated = (ended is not None and not self.after_now(ended)) or (ended is None and _abated(r))
        # (an abatement given as a value, not only as an extension in its place: "unknown" says nothing ended)
        valued = ended is not None or _abated(r, valued=True)
        stated = clinical  # (as recorded: over, with an end to come, a pregnancy it shows is past, event or not)
        doubt = None  # (why whether it is current cannot be told: it is read as current, and named, E2)
        if event:
            pass  # (a loss, a conception by ART, once begun, has happened: its status does not change that)
        elif "clinicalStatus" in r and clinical not in CURRENT_CLINICAL | NOT_PRESENT:
            doubt = f"its clinicalStatus ({_codes_text(r.get('clinicalStatus'))}) is not an HL7 code of one"
        elif clinical in NOT_PRESENT and ended is not None and ended.earliest > self.present:
            doubt = f"clinicalStatus {clinical} with an end in the future ({ended.text})"
        elif (
            (clinical in NOT_PRESENT or "clinicalStatus" not in r)
            and (begins := _period_start(r.get("abatementPeriod")))
            and begins.earliest > self.present
        ):
            doubt = f"clinicalStatus {clinical or 'not given'} with an end in a period to come (from {begins.text})"
        elif clinical in CURRENT_CLINICAL and abated:
            doubt = (
                f"clinicalStatus {clinical} but an abatement given (FHIR R4 con-4: an abated condition is not active)"
            )
        elif clinical in NOT_PRESENT and self.as_of is not None and ended is not None and self.after_now(ended):
            began_to_end = _period_start(r.get("abatementPeriod"))
            if began_to_end is not None and began_to_end.earliest <= self.now:
                doubt = f"clinicalStatus {clinical} with an end within a period ({ended.text}) that began before it"
        elif "clinicalStatus" not in r and abated and not valued:
            doubt = "no clinicalStatus, and an abatement given only as an extension"
        if doubt is not None:
            # (present, read as its class: a cause still decides; and a record not understood beside it)
            self.listed_missing(
                ref,
                f"{doubt}: whether it is over as of {self.now_text} cannot be told; read as current, and, as it "
                "could change the decision, listed as missing data",
                [KGR.UninterpretedRecord],
                r.get("code"),
                "/status-in-doubt",
                field="clinicalStatus",
                when=times[0],
                episode=concepts,
            )
            clinical = "active"
        elif "clinicalStatus" not in r and abated and valued:
            clinical = "resolved"  # (abated with no status: over, as a resolved condition is)
        if clinical in NOT_PRESENT and ended is not None and self.after_now(ended):
            clinical = "active"  # (over only after the time the assessment is made as of: not over then)
        # (over by its present status, since a time it does not give, or gives less precisely than the time given
        # ("2026-11" for 2026-11-20): whether it was over as of the time given cannot be told; read as over it could
        # make her indicated, read as present it could not be right)
        if clinical in NOT_PRESENT and self.as_of is not None and not event and verification != "refuted":
            if (ended is None or ended.latest > self.now) and not self._unchanged_since(r):
                end = "no date of its end" if ended is None else f"an end ({ended.text}) that may be after it"
                self.listed_missing(
                    ref,
                    f"clinicalStatus {clinical} with {end}: whether it was over as of the time the assessment is made "
                    f"as of ({self.now_text}) cannot be told; it could change the decision, so it is not read and is "
                    "listed as missing data",
                    [KGR.UninterpretedRecord],
                    r.get("code"),
                    "/then",
                    field="clinicalStatus",
                    when=times[0],
                    episode=concepts,
                )
                return
        present = _current(verification, clinical, event)
        rec = self.record(KGR.hasFinding, concepts, ref, r.get("code"))
        self.g.add((rec, KGR.presence, KGR.Present if present else KGR.Absent))
        if (
            clinical in NOT_PRESENT
            or doubt is not None
            or (stated in NOT_PRESENT and ended is not None and ended.earliest > self.present)  # (an end to come)
            or abated
            or ("clinicalStatus" in r and clinical not in CURRENT_CLINICAL)
        ):
            # (over, or not known to be current (a status no HL7 code says): a pregnancy it shows is past)
            self.over.add(rec)
        if any(v.is_a(c, KGR.UninterpretedRecord) for c in concepts):
            self.in_value_set(ref, r.get("code"), concepts)
        if present and any(v.is_a(c, KGR.Symptom) for c in concepts):
            self._severity(rec, concepts, r.get("severity"), ref)
        self.episode_record(rec, concepts, ref, *times, ended=ended)
        if isinstance(r.get("abatementString"), str):
            self._words_beside_codes(
                [r["abatementString"]],
                concepts,
                ref,
                None,
                "/abatement-words",
                "abatementString",
                "its abatement is read as an end only",
                *times,
                episode=concepts,
                ended=ended,
            )

    def _code_words(
        self,
        r: dict,
        ref: str,
        concepts: list[URIRef],
        times: Callable[[dict, str], tuple[tuple[TimeInterval | None, ...], TimeInterval | None]],
    ) -> None:
        """The words of a record's code read by its codes (its text, its codings' displays), judged beside its
        meanings ``concepts`` (``_words_beside_codes``), dated by ``times`` (called only when they name something)."""
        texts = _value_texts(r.get("code"))
        if not texts or not self.v.words_naming(texts, concepts)[0]:
            return
        when, ended = times(r, ref)
        self._words_beside_codes(
            texts,
            concepts,
            ref,
            r.get("code"),
            "/code-words",
            "code",
            f"its code {_codes_text(r.get('code'))} is read",
            *when,
            episode=concepts,
            ended=ended,
        )

    def in_value_set(self, ref: str, codeable: Any, concepts: list[URIRef]) -> None:
        """A record whose code means a class of records not understood (E2), named in data_problems."""
        v = self.v
        named = ", ".join(sorted(v.label(c) for c in concepts if v.is_a(c, KGR.UninterpretedRecord)))
        self.problem(
            ref,
            f"its code ({_codes_text(codeable)}) is not read by this guidance but lies in a value set "
            f"that could change the decision ({named}); it is listed as missing data",
            field="code",
        )

    def _onset(self, r: dict, ref: str) -> tuple[tuple[TimeInterval | None, ...], TimeInterval | None]:
        """When a condition began at the latest: its onset, its recording date, the end of the encounter it was
        recorded in, its onsetAge from her birth date and its abatement (it began no later than any of them);
        and when it ended (its abatement), or None."""
        period = r.get("onsetPeriod")
        if isinstance(period, dict):  # it began within the period: no later than its end (no bound without one)
            onset = self._end(r, ref, "onsetPeriod")
            began = self.when({"start": period["start"]}, ref, ("start",))[1] if "start" in period else None
        else:
            onset = began = self.when(r, ref, ("onsetDateTime",))[1]
        abated = self._abated(r, ref)
        bounds = {
            "recordedDate": self.when(r, ref, ("recordedDate",))[1],
            "encounter": self._encounter_end(r, ref),
            "onsetAge": self._onset_age(r, ref),
            "abatement": abated if abated is not None and not self.after_now(abated) else None,
        }
        # (recorded, abated or its encounter over before it began: the dates cannot all be right)
        wrong = [key for key, b in bounds.items() if b is not None and began is not None and b.latest < began.earliest]
        if wrong:
            self.problem(
                ref,
                f"its dates contradict each other ({', '.join(wrong)} before its onset): when it began cannot be told",
                "warning",
                field=wrong[0],
            )
            return (None,), None
        return (onset, *bounds.values()), abated

    def _abated(self, r: dict, ref: str) -> TimeInterval | None:
        """When a condition abated at the latest: its abatementDateTime, or the end of its abatementPeriod. One in
        the future (an expected date) is said as a note: it bounds nothing, but the condition has not ended yet."""
        period = r.get("abatementPeriod")
        if "abatementDateTime" not in r and isinstance(period, dict) and "end" in period:
            r = {"abatementPeriod.end": period["end"]}
        return self.when(r, ref, ("abatementDateTime", "abatementPeriod.end"), future_note="not ended yet")[1]

    def _encounter_end(self, r: dict, ref: str) -> TimeInterval | None:
        encounter = r.get("encounter")
        key = _reference_key(encounter.get("reference")) if isinstance(encounter, dict) else None
        found = self.encounters.get(key) if key is not None else None
        subject = _subject_key(found) if isinstance(found, dict) else None
        if isinstance(found, dict) and (
            found.get("status") in ("entered-in-error", "cancelled")
            or (subject is not None and not subject.endswith(f"Patient/{self.pid}"))
        ):
            return None  # (withdrawn, or someone else's: it dates nothing of hers)
        # (an encounter without an end may still go on: no bound)
        return self._end(found, f"{ref} encounter {key}", "period") if isinstance(found, dict) else None

    def _onset_age(self, r: dict, ref: str) -> TimeInterval | None:
        """onsetAge in years (UCUM ``a``) from her birth date: between her birthday of that age and the next."""
        age = r.get("onsetAge")
        if not isinstance(age, dict) or age.get("code", age.get("unit")) != "a":
            return None
        years = _number(age.get("value"))
        if years is None or number_problem(age.get("value")) or not 0 <= years < 150:
            return None
        if self.birth is None:
            self.problem(ref, "onsetAge cannot be dated: the Patient has no birthDate", "info", field="onsetAge")
            return None
        whole = int(years)

        def plus(moment: _dt.datetime, n: int) -> _dt.datetime:
            try:
                return moment.replace(year=moment.year + n)
            except ValueError:  # 29 February
                return moment.replace(year=moment.year + n, day=28)

        return TimeInterval(plus(self.birth.earliest, whole), plus(self.birth.latest, whole + 1), f"age {years} a")

    def procedure(self, r: dict, ref: str) -> None:
        v = self.v
        status = r.get("status")
        if status == "entered-in-error":
            return
        concepts = v.meanings(r.get("code"), lambda c: v.is_a(c, KGR.Finding))
        if not concepts and v.readable(r.get("code")):  # (its reasonCode may still name a loss: a D&C for one)
            self.elsewhere(r, ref, f"procedure code ({_codes_text(r.get('code'))}) not used by this guidance")
            return
        # (what else it says, done or not: its reasons, outcome, complications, follow-up)
        self.elsewhere(r, ref, None, skip=frozenset(("code",)))
        if not concepts:
            if status not in PROCEDURE_ABSENT:
                self.not_understood(ref, r.get("code"), "Procedure")
            return
        if status not in PROCEDURE_PRESENT | PROCEDURE_ABSENT:
            if any(v.is_a(c, KGR.EventCondition) for c in concepts):
                # (a loss or a conception by ART that may have happened can be neither used nor ignored)
                self.problem(
                    ref,
                    f"procedure status {status!r}: whether it was done is not known, and it could change the "
                    "decision, so it is listed as missing data",
                    field="status",
                )
                usable, when = self.when(r, ref, PERFORMED)
                rec = self.record(KGR.hasRecord, [KGR.UninterpretedRecord], ref, r.get("code"))
                self.episode_record(rec, concepts, ref, when if usable else None)
                return
            self.problem(ref, f"procedure status {status!r}: not known to have been done; not used", field="status")
            return
        uninterpreted = all(v.is_a(c, KGR.UninterpretedRecord) for c in concepts)
        if uninterpreted and status in PROCEDURE_ABSENT:  # (not done: it records nothing to read)
            self.problem(ref, f"procedure status {status!r}: not done, so not used", "info", field="status")
            return
        usable, when = self.when(r, ref, PERFORMED, keep_future=True)
        if not usable:
            return
        self._code_words(r, ref, concepts, lambda r, ref: ((when,), None))
        rec = self.record(KGR.hasFinding, concepts, ref, r.get("code"))
        self.g.add((rec, KGR.presence, KGR.Present if status in PROCEDURE_PRESENT else KGR.Absent))
        if any(v.is_a(c, KGR.UninterpretedRecord) for c in concepts):
            self.in_value_set(ref, r.get("code"), concepts)
        self.episode_record(rec, concepts, ref, when)

    def diagnostic_report(self, r: dict, ref: str) -> None:
        if r.get("status") in IGNORED_STATUS:
            return
        # (what else it says: the display of a result it cites, a coded element beside what is read)
        self.elsewhere(r, ref, None, skip=frozenset(("code", "conclusionCode", "conclusion", "category")))
        usable, when = self.when(r, ref, keep_future=True)
        if not usable:
            return
        v = self.v
        conclusions = list(r.get("conclusionCode") or [])
        classes = v.meanings(r.get("code"), lambda c: v.is_a(c, KGR.ImagingResult))
        if not classes:  # an unrecognised report code: a conclusion may still name an imaging result
            # the ontology's imaging-result classes that name their allowed conclusions
            for cls in sorted(cast(Iterable[URIRef], v.g.subjects(KGR.allowedConclusion, None)), key=str):
                allowed = set(v.g.objects(cls, KGR.allowedConclusion))
                if any(v.meanings(c, allowed.__contains__) for c in conclusions):
                    classes = [cls]
                    break
        if not classes:
            self.unread(r, ref, f"unrecognised DiagnosticReport ({_codes_text(r.get('code'))})", "code", (when,))
            return
        self._imaging(conclusions, ref, classes, r.get("code"), when, "conclusionCode", r.get("conclusion"))

    def note_scan_results(self, r: dict, ref: str) -> None:
        """Before her records are read: the results a scan report gives (``scan_results``), by each way they can
        be cited (Type/id, a fullUrl, an absolute URL's Type/id, a contained #id as its container's citation)."""
        if r.get("resourceType") != "DiagnosticReport" or _withdrawn(r):
            return
        v = self.v
        classes = v.meanings(r.get("code"), lambda c: v.is_a(c, KGR.ImagingResult))
        results = r.get("result")
        for result in results if isinstance(results, list) and classes else []:
            key = _reference_key(result.get("reference")) if isinstance(result, dict) else None
            if key is None:
                continue
            tail = re.search(r"(?:^|/)(Observation/[^/]+)$", key)
            for k in (f"{ref}{key}" if key.startswith("#") else key, tail.group(1) if tail else None):
                if k is not None:
                    self.scan_results[k] = classes

    def medication(
        self, r: dict, ref: str, kind: str, medications: dict, requests: dict[str, tuple[str | None, bool]]
    ) -> None:
        # (its reasons, in use or not: a misoprostol for a missed miscarriage, a progesterone for an incomplete one)
        self.elsewhere(r, ref, None, skip=_MEDICATION_READ)
        self._reaction(r, ref, kind, medications)
        status = r.get("status")
        then = status in NOT_IN_USE[kind] and self._in_use_then(r, ref, status)
        why_not = (
            f"status {status}: not in use"
            if status in NOT_IN_USE[kind] and not then
            else f"intent {r['intent']}: a suggestion, not an order (R4: with no intention to ensure it occurs)"
            if kind == "MedicationRequest" and r.get("intent") in NOT_AN_ORDER
            else None
        )
        if why_not is not None:  # (said of a medicine the guidance weighs: never passed over in silence)
            if self._substances(r, ref, kind, medications):
                self.problem(
                    ref, f"{why_not}; not read as a use", "info", "status" if "status" in why_not else "intent"
                )
            return
        if r.get("doNotPerform") is True:  # (an R4 modifier element: a request NOT to give it, never a use)
            self.problem(
                ref, "doNotPerform: a request not to give the medication; not read as a use", "info", "doNotPerform"
            )
            return
        if status not in IN_USE[kind] and not then:
            self.problem(
                ref,
                f"status {status!r} is not one the reader knows; read as in use (the cautious reading "
                "for the safety flags)",
                field="status",
            )
        codeable, where = self._medication_code(r, ref, medications)
        v = self.v
        substances = v.meanings(codeable, lambda c: any(True for _ in v.g.subjects(KGR.substance, c)))
        if not substances:
            self.problem(ref, f"unrecognised medication ({_codes_text(codeable)}); not used", field=where)
            return
        if not any(v._known(s, c) for s, c in _codings(codeable)):  # (by its name: said)
            self.problem(
                ref,
                f"its medication ({_codes_text(codeable)}) is read as {', '.join(v.label(c) for c in substances)} by "
                "its name, not by a code the guidance reads",
                field=where,
            )
        supervised: bool | None = kind in ("MedicationRequest", "MedicationAdministration")
        if kind == "MedicationRequest":
            supervised = self._prescribed(r, ref)
        if kind == "MedicationDispense":  # (dispensed on her prescription in force: supervised; else unknown)
            supervised = None
            for b in r.get("authorizingPrescription") or []:
                key = _reference_key(b.get("reference")) if isinstance(b, dict) else None
                if key in requests and requests[key] == (self.pid, True):
                    supervised = True
            if supervised is None:
                self.problem(
                    ref,
                    "no prescription of hers in force authorises the dispense: whether the use is prescribed "
                    "is unknown",
                    field="authorizingPrescription",
                )
        if kind == "MedicationStatement":
            supervised = False
            for i, b in enumerate(r.get("basedOn") or []):
                key = _reference_key(b.get("reference")) if isinstance(b, dict) else None
                owner, in_force = requests.get(key, (None, False)) if key is not None else (None, False)
                if key in requests and owner == self.pid and in_force:
                    supervised = True
                    break
                if key in requests and owner != self.pid:
                    self.problem(
                        ref,
                        f"basedOn {key} is a request for another patient ({owner}): not a "
                        "prescription for her, read as self-medication",
                        field=f"basedOn[{i}]",
                    )
                elif key in requests:
                    self.problem(
                        ref,
                        f"basedOn {key}, a request that is not in force (its status): not a "
                        "prescription now, read as self-medication",
                        field=f"basedOn[{i}]",
                    )
                elif supervised is False:
                    supervised = None
                    self.problem(
                        ref,
                        f"basedOn {key or 'a reference'} is not in the input: whether the use is prescribed is unknown",
                        field=f"basedOn[{i}]",
                    )
        # the ontology's medication-use classes of these substances
        uses = {cast(URIRef, cls) for s in substances for cls in v.g.subjects(KGR.substance, s)}
        for cls in sorted(uses, key=str):
            rec = self.record(KGR.hasMedicationUse, [cls], ref, codeable)
            if supervised is not None:
                self.g.add((rec, KGR.medicallySupervised, Literal(supervised)))

    def _reaction(self, r: dict, ref: str, kind: str, medications: dict) -> None:
        """A medication record whose status reason says she is allergic to its medication or does not tolerate it
        (kgr:ReactionToItsMedication: HL7's salg, saig, sintol), whatever its status: a record of an allergy or
        intolerance to each substance of it the guidance weighs (kgr:reactionClass), not understood (E2). (Entered in
        error: no record; cancelled: why it was cancelled is still true of her.)"""
        if _withdrawn(r) and not _cancelled(r):
            return
        # (R4's statusReason, a dispense's statusReasonCodeableConcept, R5's notPerformedReason; and why a request
        # not to give it was made)
        keys = ["statusReason", "statusReasonCodeableConcept", "notPerformedReason"]
        if r.get("doNotPerform") is True:
            keys += ["reasonCode", "reason"]
        v = self.v
        found = [
            (key, concept)
            for key in keys
            for c in (r[key] if isinstance(r.get(key), list) else [r.get(key)])
            if isinstance(c, dict)
            # (an R5 CodeableReference holds its concept)
            for concept in [c["concept"] if isinstance(c.get("concept"), dict) else c]
            if v.meanings(concept, lambda k: k == KGR.ReactionToItsMedication, kind)
        ]
        reasons = [c for _, c in found]
        if not reasons:
            return
        substances = self._substances(r, ref, kind, medications)
        uses = {cls for s in substances for cls in v.g.subjects(KGR.substance, s)}
        for allergy in sorted({a for cls in uses for a in v.g.objects(cls, KGR.reactionClass)}, key=str):
            self.problem(
                ref,
                f"its reason ({'; '.join(_codes_text(c) for c in reasons)}) says she is allergic to its "
                f"medication or does not tolerate it: {v.label(cast(URIRef, allergy))}, which this guidance does not "
                "weigh: the record is not read for it, so it is listed as missing data",
                field=found[0][0],
            )
            self.record(KGR.hasRecord, [KGR.UninterpretedRecord, cast(URIRef, allergy)], ref, reasons[0], "/reaction")

    def _substances(self, r: dict, ref: str, kind: str, medications: dict) -> list[URIRef]:
        """The substances the guidance weighs (progesterone) that a medication record names, read quietly (a record
        not read as a use is said only when it names one)."""
        saved = len(self.problems)
        try:
            codeable, _ = self._medication_code(r, ref, medications)
            v = self.v
            return v.meanings(codeable, lambda c: any(True for _ in v.g.subjects(KGR.substance, c)))
        finally:
            del self.problems[saved:]

    def _prescribed(self, r: dict, ref: str) -> bool | None:
        """Whether a MedicationRequest is a prescription: not when she requested it herself (requester is her
        Patient), unknown when it is reported from another source (reported[x])."""
        requester = r.get("requester")
        key = _reference_key(requester.get("reference")) if isinstance(requester, dict) else None
        if key is not None and key.endswith(f"Patient/{self.pid}"):
            self.problem(ref, "requested by the patient herself: read as self-medication", "info", "requester")
            return False
        if r.get("reportedBoolean") is True or "reportedReference" in r:
            self.problem(
                ref, "reported by another source (reported[x]): whether it is prescribed is unknown", field="reported"
            )
            return None
        return True

    def _medication_code(self, r: dict, ref: str, medications: dict) -> tuple[Any, str]:
        """The medication's CodeableConcept: inline (R4 medicationCodeableConcept, R5 medication.concept) or
        referenced (R4 medicationReference, R5 medication.reference) to a contained or listed Medication."""
        medication = r.get("medication")
        r5 = medication if isinstance(medication, dict) else {}
        if "medicationCodeableConcept" in r:
            return r["medicationCodeableConcept"], "medicationCodeableConcept"
        if "concept" in r5:
            return r5["concept"], "medication.concept"
        target, where = (
            (r.get("medicationReference") or r5.get("reference") or {}).get("reference"),
            "medicationReference" if "medicationReference" in r else "medication.reference",
        )
        med: dict | RefusedResource | None
        if isinstance(target, str) and target.startswith("#"):
            med = next(
                (
                    c
                    for c in r.get("contained") or []
                    if isinstance(c, dict) and c.get("resourceType") == "Medication" and c.get("id") == target[1:]
                ),
                None,
            )
            if med is not None and shape_problems(med):
                med = RefusedResource(shape_problems(med))
        else:
            med = medications.get(_reference_key(target))
        if isinstance(med, RefusedResource):
            self.refuse(
                ref,
                f"its medication {target} cannot be read: " + "; ".join(f"{p}: {m}" for p, m in med.problems),
                field=where,
            )
            return None, where
        if med is None:
            cited = r.get("medicationReference") or r5.get("reference") or {}
            display = cited.get("display") if isinstance(cited, dict) else None
            if target:
                self.problem(
                    ref,
                    f"{where} {target} is not in the input; the medication is "
                    + (f"read by its display ({display!r}) only" if isinstance(display, str) else "unknown"),
                    field=where,
                )
            # (its display names it, as a concept's text would: never dropped for a reference that cannot be followed)
            return ({"text": display} if isinstance(display, str) else None), where
        # (a Medication coded only by its ingredients, or by a product code beside them: every coding counts)
        code: dict = med["code"] if isinstance(med.get("code"), dict) else {}
        codings = list(code.get("coding") or [])
        # (an ingredient as R4 writes it: a concept, or a reference to a contained Substance or Medication, as
        # HL7's med0310 does; R5's item.concept and item.reference)
        contained = [c for c in (r.get("contained") or []) + (med.get("contained") or []) if isinstance(c, dict)]
        for ingredient in med.get("ingredient") or []:
            if not isinstance(ingredient, dict):
                continue
            r5item: dict = ingredient["item"] if isinstance(ingredient.get("item"), dict) else {}
            item = ingredient.get("itemCodeableConcept") or r5item.get("concept")
            cited = ingredient.get("itemReference") or r5item.get("reference")
            key = cited.get("reference") if isinstance(cited, dict) else None
            if item is None and isinstance(key, str):
                found = next((c for c in contained if key == f"#{c.get('id')}"), None) if key.startswith("#") else None
                found = found or medications.get(_reference_key(key))
                item = found.get("code") if isinstance(found, dict) else None
                if item is None:
                    self.problem(ref, f"its medication's ingredient {key} is not in the input", field=where)
            codings += list(item.get("coding") or []) if isinstance(item, dict) else []
        return ({**code, "coding": codings} if codings else med.get("code")), where

    # -- the patient --------------------------------------------------------------------------------
    def finish(self) -> PatientInput:
        try:
            self._finish()
        except (ArithmeticError, ValueError) as exc:  # e.g. a gestational age of a billion weeks
            self.refuse("gestational age", f"the dates and gestational ages cannot be combined ({exc})")
        return PatientInput(self.pid, self.me, self.g, self.source, self.problems)

    def _finish(self) -> None:
        self._pending()
        for prop, values in self.attributes.items():
            latest = _latest(values)
            if latest is not None:
                self.g.add((self.me, prop, decimal_literal(latest[1])))
        ga = _latest(self.gestational_ages)
        if (ga is None or ga[0] is None) and self.undated_dating:
            # (a delivery date with no time of its own dates the pregnancy when nothing dated does)
            undated, ga = ga, _latest(self.undated_dating)
            assert ga is not None
            if undated is not None and abs(undated[1] - ga[1]) * 7 > DATING_TOLERANCE.days:
                self.problem(
                    "gestational age",
                    f"the gestational age with no date ({round(undated[1], 1)} weeks, {undated[2]}) and the one a date "
                    f"with no time of its own implies as of the assessment ({round(ga[1], 1)} weeks, {ga[2]}) "
                    "disagree; the date is used, as it dates the pregnancy",
                    field="valueQuantity",
                )
        latest_start = ga[0].earliest - _dt.timedelta(weeks=float(ga[1])) if ga is not None and ga[0] else None
        # (only the estimates made during this pregnancy, as the latest dates it: a 30-week age of 2024 is of
        # an earlier one; a date with no time of its own is compared as of the assessment)
        starts = sorted(
            w.earliest - _dt.timedelta(weeks=float(g))
            for w, g, _ in [*self.gestational_ages, *self.undated_dating]
            if w is not None and latest_start is not None and w.latest >= latest_start
        )
        disagree = bool(starts) and starts[-1] - starts[0] > DATING_TOLERANCE
        if disagree:  # (estimates more than two weeks apart: said)
            self.problem(
                "gestational age",
                f"the dated gestational ages disagree: they put the start of this pregnancy between "
                f"{starts[0].date().isoformat()} and {starts[-1].date().isoformat()}; the latest is used, and a "
                "record that began between the two is taken to belong to this pregnancy",
                field="valueQuantity",
            )
        start = None
        if ga is not None:
            when, weeks, ga_ref = ga
            self.g.add((self.me, KGR.gestationalAgeWeeks, decimal_literal(round(weeks, 4))))
            if when is not None:
                start = when.earliest - _dt.timedelta(weeks=float(weeks))
                self.g.add((self.me, KGR.episodeStart, time_literal(start)))
                self._stale_dating(when, weeks, ga_ref)
        # (this pregnancy's start as another record dates it, a gestational age with no date as of the assessment)
        began = start if start is not None or ga is None else self.now - _dt.timedelta(weeks=float(ga[1]))
        for ref, why, due in self.stale_dates:
            if began is not None and due.latest + DATING_TOLERANCE < began:  # (due before this one began)
                self.problem(
                    ref,
                    f"{why}: it dates an earlier pregnancy (due {due.text}, before this one began about "
                    f"{began.date().isoformat()}), not applied to this one",
                    severity="info",
                )
            else:
                self.listed_missing(
                    ref,
                    f"{why}, or a later one began that no record dates; it dates nothing, and it is listed as "
                    "missing data",
                    [KGR.StaleDatingRecord],
                    suffix="/stale-dating",
                    field="valueDateTime",
                )
        for m in self.measured:
            self._reference_range(m, _ga_at(ga, m.when))
        if ga is not None and ga[0] is not None:
            for rec in self.g.objects(self.me, KGR.hasMeasurement):
                # an xsd:dateTime literal this builder wrote (time_literal)
                at = cast("Literal | None", self.g.value(rec, KGR.effectiveTime))
                if at is not None:
                    self.g.add(
                        (rec, KGR.gestationalAgeAtRecordWeeks, decimal_literal(_weeks_between(ga, at.toPython())))
                    )
        # (between disagreeing estimates the dates cannot tell: the earliest start decides what is earlier)
        # (the week a record was made in is counted from the earliest start the estimates allow: the cautious way)
        earliest = min(start, starts[0]) if start is not None and starts else start
        self._this_pregnancy(min(start, starts[0]) if start is not None and disagree else start, earliest)
        # (a dated start: the earliest the estimates allow; an undated estimate, as of the assessment: the latest)
        self._falling_levels(earliest, began if start is None else None)
        # (before ``_stated``: an Encounter's pregnancy code beside the ART record shows a pregnancy too)
        self._pregnancy_shown(ga)
        self._stated()
        latest_course = _latest(self.courses)  # None only when there is no course
        if latest_course is not None:
            # the symptom course is reported about the current treatment: it applies to each medication use
            course = latest_course[1]
            for use in self.g.objects(self.me, KGR.hasMedicationUse):
                self.g.add((use, KGR.symptomCourse, course))

    def _falling_levels(self, start: _dt.datetime | None, latest_start: _dt.datetime | None) -> None:
        """A level that neither shows a pregnancy nor says there is none (an hCG of 12, one "<10", one in a unit not
        read; final or preliminary) may show this pregnancy ending, so it is a record not understood (E2), named,
        unless it is known to be earlier than a level that showed one (12, then 150: a pregnancy beginning). After
        a level that showed one (150 then 12; one made within kgr:showsAPregnancyForWeeks), always; with none, in a
        pregnancy a gestational age or delivery date dates, from the week of it before which such a level says
        nothing (kgr:uninformativeBeforeWeek on the class of levels: 12 at four weeks is expected, at five it is
        not), counted from the earliest start the dating allows (``start``, dated) or from the latest (``latest_start``,
        an estimate with no date, as of the assessment: a week surely reached); otherwise when it is not known to be
        earlier than every other record that showed this pregnancy (a positive test or pregnancy status, a
        pregnancy on her problem list, an obstetric scan, made within kgr:showsAPregnancyForWeeks: a positive test
        then 12). In a pregnancy dated by a dated estimate, the levels wholly before its start are of an earlier one
        and weigh nothing."""
        if not self.levels:
            return
        _, since = self._shows_since()
        # (in a dated pregnancy, a level wholly before its start, by more than the dating's tolerance, is of an
        # earlier one: 150 then 12 in April, a loss; one closer may be of this one, the dating off)
        cut = start - DATING_TOLERANCE if start is not None else None
        levels = [x for x in self.levels if cut is None or x[0] is None or x[0].latest >= cut]
        shown = [
            t
            for t, _, shows, level, _ in levels
            if shows and level and (t is None or since is None or t.latest >= since)
        ]
        # (and, in a dated pregnancy, none of an earlier one: a positive test before its start, by more than the
        # dating's tolerance)
        recent = since if cut is None or (since is not None and since > cut) else cut
        others = [
            *(t.earliest for t in self.pregnancy_results if t is not None and (recent is None or t.latest >= recent)),
            *(m for m in self._shown_by_records() if recent is None or m >= recent),
        ]
        dating = start if start is not None else latest_start
        for t, ref, shows, level, silent in levels:
            if shows or not level:
                continue
            # (known to be earlier only when wholly before one that showed a pregnancy: "2026-11" may be its end)
            if t is not None and any(s is not None and t.latest < s.earliest for s in shown):
                continue
            late = (
                dating is not None
                and silent is not None
                and (t is None or t.latest - dating >= _dt.timedelta(weeks=float(silent)))
            )
            after_another = bool(others) and (t is None or not all(t.latest < m for m in others))
            if not (shown or late or after_another):
                continue  # (before the week a level shows this pregnancy, and before any record showed it)
            self.listed_missing(
                ref,
                "a level that neither shows a pregnancy nor records there is none (between the values that do, or "
                "in a unit or form not read), not known to be earlier than one that showed a pregnancy: it may show "
                "that pregnancy ending; it is listed as missing data",
                [KGR.UninterpretedRecord],
                suffix="/level",
                field="valueQuantity",
                when=t,
            )

    def _shows_since(self) -> tuple[Decimal | None, _dt.datetime | None]:
        """How many weeks a record that shows a pregnancy shows a current one (kgr:showsAPregnancyForWeeks, else
        kgr:datesNoPregnancyBeyondWeek), and the time from which it does, as of the assessment (None: no bound)."""
        weeks = self.v.shows_for_weeks if self.v.shows_for_weeks is not None else self.v.stale_after
        return weeks, self.now - _dt.timedelta(weeks=float(weeks)) if weeks is not None else None

    def _shown_by_records(self) -> list[_dt.datetime]:
        """When each of her records read into the graph that shows a pregnancy (kgr:showsAPregnancy, by its class
        or its codes; present, not over) was made: its earliest time, else the latest it can have begun (an onset,
        a procedure's time, a recorded date). A record with no time is left out. (A time of hers after the present
        is not used by the reading: none is left here to compare.)"""
        v, g = self.v, self.g
        out: list[_dt.datetime] = []
        for link, rec in g.predicate_objects(self.me):
            if link == KGR.hasEarlierEpisodeRecord or (rec, KGR.sourceRecord, None) not in g or rec in self.over:
                continue
            if (rec, KGR.presence, KGR.Absent) in g:
                continue
            shows = any(t in v.pregnancy_classes for t in g.objects(rec, RDF.type)) or any(
                rx.search(code)
                for system, _, code in (str(c).partition("|") for c in g.objects(rec, KGR.sourceCode))
                for rx in v.pregnancy_codes.get(system, [])
            )
            made = [cast(Literal, t).toPython() for t in g.objects(rec, KGR.effectiveTime)] or [
                cast(Literal, t).toPython() for t in g.objects(rec, KGR.beganNoLaterThan)
            ]
            if shows and made:
                out.append(min(made))
        return out

    def _pregnancy_shown(self, ga: tuple | None) -> None:
        """decision-spec sections 1 and 3: one assessment is about the current pregnancy. When the guidance says
        which records show one (kgr:showsAPregnancy) and none of hers does (present, not over, and made within
        kgr:showsAPregnancyForWeeks before the time the assessment is as of, from the earliest its time allows: a
        record of "2026" may be of January; one with no time, or a time that cannot be read, is not known to be that
        recent and shows nothing now), nor does a gestational age or delivery date date one, a record not understood
        (kgr:PregnancyNotShownRecord, E2): an assisted reproduction, a progesterone level or a bleeding alone does
        not say she is pregnant."""
        v = self.v
        if ga is not None or not (v.pregnancy_classes or v.pregnancy_codes):
            return
        weeks, since = self._shows_since()
        if any(
            t is not None and (since is None or t.earliest >= since) and t.earliest <= self.now
            for t in self.pregnancy_results
        ):
            return
        if any(since is None or made >= since for made in self._shown_by_records()):
            return
        self.listed_missing(
            f"Patient/{self.pid}",
            "no record shows that she is pregnant now (no gestational age or delivery date; no pregnancy on her "
            "problem list, positive pregnancy test or record of a pregnancy, its symptoms, scans or losses that is "
            f"not over and was made within {weeks} weeks before {self.now_text}): the assessment is about a current "
            "pregnancy, so it is listed as missing data",
            [KGR.PregnancyNotShownRecord],
            suffix="/pregnancy-not-shown",
        )

    def _stale_dating(self, when: TimeInterval, weeks: Decimal, ref: str) -> None:
        """The dating of this pregnancy, projected to the time the assessment is as of, past the week a pregnancy
        lasts at most (kgr:datesNoPregnancyBeyondWeek): the pregnancy it dates is over, or a later one began that
        no record dates. A record not understood (kgr:StaleDatingRecord, E2), named with the way to assess as of
        an earlier time. (Projected from the latest instant of the record's time: only a dating surely stale.)"""
        beyond = self.v.stale_after
        if beyond is None:
            return
        now = weeks + Decimal((self.now - when.latest).total_seconds()) / Decimal(7 * 86400)
        if now <= beyond:
            return
        self.listed_missing(
            ref,
            f"it dates this pregnancy at {round(weeks, 1)} weeks on {when.text}, which puts it at {round(now, 1)} weeks "
            f"on {self.now_text}, the time the assessment is made as of: past {beyond} weeks, the longest "
            "a pregnancy lasts, so the pregnancy it dates is over or a later one began that no dated record dates; it "
            "is listed as missing data (to assess as of another time, a retrospective assessment: assess --as-of)",
            [KGR.StaleDatingRecord],
            suffix="/stale-dating",
        )

    def _this_pregnancy(self, start: _dt.datetime | None, earliest: _dt.datetime | None = None) -> None:
        """decision-spec section 3, This pregnancy: a record of one episode that began before the episode's
        start is of an earlier one and does not apply; when the dates cannot tell, it belongs to this one. A
        record made at one point before a week of it before which its kind says nothing (not pregnant, before a
        test can show it; counted from the earliest start the estimates allow) is not applied either, unless it
        is of another kind as well (a name of a loss)."""
        aside: set[str] = set()  # (the records set aside as of an earlier pregnancy, by citation)
        kept: set[str] = set()
        for rec, link, began, ref, event, ended in self.episode:
            kinds = {cast(URIRef, c) for c in self.g.objects(rec, RDF.type)} - {KGR.UninterpretedRecord}
            silent = (
                max(self.v.uninformative[c] for c in kinds)
                if rec in self.point_records and kinds and all(c in self.v.uninformative for c in kinds)
                else None
            )
            if silent is not None and earliest is not None and began is not None:
                week = Decimal((began - earliest).total_seconds()) / Decimal(7 * 86400)
                if 0 <= week < silent:  # (not pregnant before a test can show it: says nothing of this pregnancy)
                    self.g.remove((self.me, link, rec))
                    self.g.remove((rec, None, None))
                    self.problem(
                        ref,
                        f"made in week {int(week)} of this pregnancy (which began about {earliest.date().isoformat()} at the "
                        "earliest), "
                        f"before week {silent}, when it says nothing of it: not applied",
                        severity="info",
                    )
                    continue
            if began is not None:
                self.g.add((rec, KGR.beganNoLaterThan, time_literal(began)))
            if start is not None and began is not None and began < start and not _overlaps(began, ended, start):
                self.g.remove((self.me, link, rec))
                self.g.add((self.me, KGR.hasEarlierEpisodeRecord, rec))
                self.problem(
                    ref,
                    f"began before this pregnancy (which began about {start.date().isoformat()}): not applied to it",
                    severity="info",
                )
                aside.add(ref)
                continue
            kept.add(ref)
            if event and (start is None or began is None):
                why = (
                    "the gestational age has no date" if began is not None else "the record has no usable onset or date"
                )
                if not self.gestational_ages:
                    why = "no gestational age is recorded"
                self.problem(
                    ref,
                    f"whether it began in this pregnancy cannot be told ({why}): taken to belong to this pregnancy",
                    severity="info",
                )
        # (a record of an earlier pregnancy is no missing data of this one: its line saying so is a note, not a
        # warning beside "not applied")
        for problem in self.problems:
            if problem["record"] in aside - kept and problem["severity"] == "warning":
                if "listed as missing data" in problem["message"]:
                    problem["severity"] = "info"
                    problem["message"] = problem["message"].replace(
                        "listed as missing data", "of an earlier pregnancy, not applied to this one"
                    )


def _overlaps(began: _dt.datetime, ended: _dt.datetime | None, start: _dt.datetime) -> bool:
    """Whether a record that began before this pregnancy's estimated start overlaps it all the same: it began
    within the dating's tolerance before the start and is known to have ended after it (a pregnancy condition
    dated a few days before the start estimated from the gestational age, and abated in this pregnancy)."""
    return began >= start - DATING_TOLERANCE and ended is not None and ended >= start


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _current(verification: str | None, clinical: str | None, event: bool = False) -> bool:
    """Whether a record states something present now, from the codes of its verification and clinical statuses:
    not refuted (nor entered in error), and not resolved, inactive or in remission, unless it is an event
    condition (a loss, once begun, has happened: over is not undone)."""
    return verification not in ("refuted", "entered-in-error") and (event or clinical not in NOT_PRESENT)


def _status_code(codeable: Any, *systems: str) -> str | None:
    """A status CodeableConcept's code: that of its coding in a standard code system (``systems``), wherever it
    is in the list (a local coding listed first does not hide it: every coding counts), else the first coding's."""
    codings = _codings(codeable)
    for s, c in codings:
        if s in systems:
            return c
    return codings[0][1] if codings else None


def _latest(items: list[tuple]) -> tuple | None:
    """The item with the latest time; an untimed one counts as older than any timed one."""
    if not items:
        return None
    floor = _dt.datetime.min.replace(tzinfo=_dt.timezone.utc)
    return max(items, key=lambda t: (t[0] is not None, t[0].earliest if t[0] is not None else floor))


def _weeks_between(ga: tuple, moment: _dt.datetime) -> Decimal:
    when, weeks, _ = ga
    days = Decimal((moment - when.earliest).total_seconds()) / Decimal(86400)
    return round(weeks + days / Decimal(7), 4)


def _ga_at(ga: tuple | None, when: TimeInterval | None) -> Decimal | None:
    """The gestational age at a result's time (decision-spec section 4): the dated value projected to it,
    an undated one as it is, none when either is missing."""
    if ga is None:
        return None
    if ga[0] is None:
        return ga[1]
    return _weeks_between(ga, when.earliest) if when is not None else None


def _reference_key(ref: Any) -> str | None:
    return ref.split("/_history/")[0] if isinstance(ref, str) else None


def _subject_key(r: dict) -> str | None:
    subject = r.get("subject") if "subject" in r else r.get("patient")
    if isinstance(subject, dict):
        return _reference_key(subject.get("reference"))
    return _reference_key(subject) if isinstance(subject, str) else None


def _cancelled(r: dict) -> bool:
    """Whether a resource is cancelled (its status): what it records did not happen, but why it was cancelled, or
    what it was for, may still be true of her (``_WHY_CANCELLED``)."""
    return r.get("status") == "cancelled"


def _all_but_why_cancelled(r: dict) -> frozenset[str]:
    """The elements of a cancelled record not read: all but why it was cancelled and what it was for."""
    return frozenset(k for k in r if k not in _WHY_CANCELLED)


def _contained_reasons(r: dict) -> set[int]:
    """``id()`` of each resource a record contains that its ``_WHY_CANCELLED`` elements cite ("#id"): a cancelled
    Appointment's reasonReference to the Condition it contains."""
    contained = {
        f"#{c.get('id')}": c for c in (r.get("contained") or []) if isinstance(c, dict) and isinstance(c.get("id"), str)
    }
    cited: set[int] = set()

    def walk(x: Any) -> None:
        if isinstance(x, dict):
            key = x.get("reference")
            if isinstance(key, str) and key in contained:
                cited.add(id(contained[key]))
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    if contained:
        for k in _WHY_CANCELLED & r.keys():
            walk(r[k])
    return cited


def _withdrawn(r: dict) -> bool:
    """Whether a resource is no record of anything: entered in error or cancelled (its status), or a Condition
    entered in error (its verificationStatus). Read before its shape is checked, so any shape is taken."""
    status = r.get("status")
    return (isinstance(status, str) and status in IGNORED_STATUS) or _status_code(
        r.get("verificationStatus"), VERIFICATION_SYSTEM
    ) == "entered-in-error"


def _maybe_of(subject: str | None, pids: set, r: dict, named: frozenset = frozenset(), cancelled: bool = False) -> set:
    """The patients of the input a record whose subject matches none of them may still belong to: all of them
    when it names no subject, the one whose id ends its reference when it is written another way (an absolute
    URL of ``Patient/P1``, ``http`` for ``https``), each whose Patient entry has no ``urn:`` fullUrl
    (``named``: those that have one) when it is a ``urn:uuid:`` no entry has; none when it is entered in
    error, or names another kind of subject (a Device, a Group) or a patient the input does not hold.
    ``cancelled``: a cancelled record may be hers too (why it was cancelled may name a loss: ``_WHY_CANCELLED``)."""
    if _withdrawn(r) and not (cancelled and _cancelled(r)):
        return set()
    if subject is None:
        return set(pids)
    if subject.startswith(("urn:uuid:", "urn:oid:")):  # a Bundle's own reference that no entry's fullUrl has:
        return set(pids) - named  # hers, if her Patient entry lost its fullUrl
    m = re.search(r"(?:^|/)Patient/([^/]+)$", subject.strip(), re.IGNORECASE)  # (" Patient/P1", "patient/P1")
    if m:
        return {m.group(1)} & pids
    given = r.get("subject") if "subject" in r else r.get("patient")
    if isinstance(given, dict) and given.get("type") == "Patient":  # (a bare id, its type given: "P1")
        return {subject.strip()} & pids
    return set()


def _bounds_end(dosage: Any) -> str | None:
    """The end of a dosage's ``timing.repeat.boundsPeriod``, or None (bounded otherwise, or not at all)."""
    timing = dosage.get("timing") if isinstance(dosage, dict) else None
    repeat = timing.get("repeat") if isinstance(timing, dict) else None
    bounds = repeat.get("boundsPeriod") if isinstance(repeat, dict) else None
    end = bounds.get("end") if isinstance(bounds, dict) else None
    return end if isinstance(end, str) else None


def _two_people(pid: str, resources: list[tuple[dict, str]], versioned: bool) -> tuple[str, str] | None:
    """Whether the Patient resources of one id may be two people: (the element, why), or None. From two servers (the
    bases of absolute fullUrls, http and https alike), or contradicting each other (two birth dates neither of which
    is a precision of the other, two genders but "unknown", family names with none in common); one leaving out what
    another gives is no sign, and versions that ``meta`` orders (``versioned``: a history, an export keeping each) are
    one record."""
    if len(resources) < 2:
        return None
    servers = {
        re.sub(r"^https?://", "", str(r.get("_fullUrl"))[: -len(f"Patient/{pid}")]).lower().rstrip("/")
        for r, _ in resources
        if str(r.get("_fullUrl", "")).endswith(f"/Patient/{pid}") and "://" in str(r.get("_fullUrl"))
    }
    if len(servers) > 1:
        return "fullUrl", (
            f"Patient resources of id {pid} come from {len(servers)} servers ({', '.join(sorted(servers))}): they may "
            "be different people, and which records are whose cannot be told; not assessed"
        )
    if versioned:  # (versions of one record on one server: one woman)
        return None
    births = sorted({r["birthDate"] for r, _ in resources if isinstance(r.get("birthDate"), str)})
    genders = sorted({r["gender"] for r, _ in resources if isinstance(r.get("gender"), str)} - {"unknown"})
    families = [  # (the words of her family names: "Smith" and "Smith-Jones" share one)
        {
            w
            for n in r["name"]
            if isinstance(n, dict) and isinstance(n.get("family"), str)
            for w in re.findall(r"\w+", n["family"].lower())
        }
        for r, _ in resources
        if isinstance(r.get("name"), list)
    ]
    families = [f for f in families if f]
    clash = (
        any(not (b.startswith(a) or a.startswith(b)) for i, a in enumerate(births) for b in births[i + 1 :])
        or len(genders) > 1
        or any(a.isdisjoint(b) for i, a in enumerate(families) for b in families[i + 1 :])
    )
    if not clash:
        return None
    given = [f"birthDate {b}" for b in births] + [f"gender {g}" for g in genders]
    given += ["family " + "/".join(sorted(f)) for f in families]
    return "birthDate", (
        f"Patient resources of id {pid} give different birth dates, genders or names ({'; '.join(given)}): they may "
        "be different people, and which records are whose cannot be told; not assessed"
    )


def _unread_time(r: dict) -> TimeInterval | None:
    """When a record the guidance does not read happened, read quietly (as ``_pending`` dates one): a claim's latest
    service date, its period's end (else its start: an episode of care still open), else its own time; None when it
    has none or it cannot be read."""
    period = next((r[k] for k in _OWN_PERIODS if isinstance(r.get(k), dict)), None)
    text = _served(r) or (period.get("end") or period.get("start") if period is not None else None)
    if text is None:
        text = _time_of(r, _OWN_TIME)[1]
    try:
        return parse_time(text) if isinstance(text, str) else None
    except ValueError:
        return None


def _served(r: dict, earliest: bool = False) -> str | None:
    """When the services of a Claim's or an ExplanationOfBenefit's items were given, the latest: an item's
    ``servicedDate`` or the end of its ``servicedPeriod`` (as written), or None; ``earliest``: the earliest
    (``servicedDate``, or the start of ``servicedPeriod``)."""
    chosen: tuple | None = None
    items: list = r["item"] if isinstance(r.get("item"), list) else []
    for item in items:
        if not isinstance(item, dict):
            continue
        period = item.get("servicedPeriod")
        text = item.get("servicedDate") or (
            period.get("start" if earliest else "end") if isinstance(period, dict) else None
        )
        try:
            when = parse_time(text)
        except ValueError:
            continue
        if chosen is None or (when.earliest < chosen[0] if earliest else when.latest > chosen[0]):
            chosen = (when.earliest if earliest else when.latest, when.text)
    return chosen[1] if chosen is not None else None


def _could_matter(vocab: FhirVocabulary, r: dict) -> bool:
    """Whether a record of a kind the reader reads could change an assessment were it hers: a code of it has a
    meaning in the ontology (or a name of a loss), or it is a Condition or Procedure whose code is in no code
    system the guidance reads (such a record is not understood, E2). An Observation with a local code only (the
    father's race in a fetal death report) would be named and not used."""
    # (a value of presence, "No", is no meaning of a record: a stranger's yes/no answer is not hers)
    if any(vocab.meanings(cc, lambda c: not vocab.is_a(c, KGR.Presence)) for cc in _codeables(r)):
        return True
    return r.get("resourceType") in ("Condition", "Procedure") and not vocab.readable(r.get("code"))


def _patient_of(patients: dict[str, str], r: dict, identified: dict | None = None) -> str | None:
    """The id of the patient a resource's subject (or patient) names, None when it names none in the input; a subject
    given only by an identifier (R4's logical reference) names the one Patient of the input with that identifier
    (``identified``: (system, value) -> patient ids), none when several have it."""
    key = _subject_key(r)
    if key is not None:
        return patients.get(key)
    subject = r.get("subject") if "subject" in r else r.get("patient")
    ident = subject.get("identifier") if isinstance(subject, dict) else None
    if identified and isinstance(ident, dict) and isinstance(ident.get("system"), str):
        pids = identified.get((ident["system"], ident.get("value")), set())
        return next(iter(pids)) if len(pids) == 1 else None
    return None


def _with_contained(r: dict, where: str) -> list[tuple[dict, str]]:
    """A resource, and the records contained in it that the guidance reads (a Condition contained in an
    Encounter, the Observations contained in a DiagnosticReport): each is a record of its own, cited as
    ``Container/id#id``, about the container's subject when it names none. (A contained Medication is read
    where a medicationReference cites it.) Of a cancelled record, only those its reasons cite
    (``_contained_reasons``: a Condition it was for is still hers); of one entered in error, none."""
    out = [(r, where)]
    contained = r.get("contained")
    cited: set[int] | None = None
    if _withdrawn(r):
        if not _cancelled(r):
            return out  # (entered in error: what it contains is withdrawn with it)
        # (cancelled: what it contains is withdrawn with it, but a reason it cites, a Condition it was for, is hers)
        cited = _contained_reasons(r)
    holder = _Container(  # (one for all it contains; no dict or list, so that no reader walks into it)
        tuple(_container_references(r)),
        {
            f"#{b['id']}": b.get("resourceType")
            for b in (contained if isinstance(contained, list) else [])
            if isinstance(b, dict) and isinstance(b.get("id"), str)
        },
    )
    for i, c in enumerate(contained if isinstance(contained, list) else []):
        if cited is not None and id(c) not in cited:
            continue
        if isinstance(c, dict) and isinstance(c.get("resourceType"), str) and c["resourceType"] not in _NOT_RECORDS:
            inner = dict(c, _container=_ref(r))
            if "subject" not in inner and isinstance(r.get("subject", r.get("patient")), dict):
                inner["subject"] = r.get("subject", r.get("patient"))
            inner["_container_of"] = holder  # (checked against the record's own subject: ``_container_patient``)
            out.append((inner, f"{where}/contained/{i}"))
    return out


def _binaries(items: list[tuple[dict, str]]) -> dict[str, list[dict]]:
    """The Binary resources of the input that have data, by "Binary/id" and by their entry's fullUrl (a
    "urn:uuid:..." or the address the Bundle gives them): what an Attachment's ``url`` may cite. Every Binary a key
    names, in the input's order: two of one id are both read (``_with_binaries``), neither wins silently."""
    out: dict[str, list[dict]] = defaultdict(list)
    held: set[tuple[str, int]] = set()  # (key, id of the Binary): each once, found in constant time
    for r, _ in items:
        if r.get("resourceType") == "Binary" and isinstance(r.get("data"), str):
            keys = [f"Binary/{r['id']}"] if isinstance(r.get("id"), str) else []
            keys += [r["_fullUrl"]] if isinstance(r.get("_fullUrl"), str) else []
            for key in dict.fromkeys(keys):
                if (key, id(r)) not in held:
                    held.add((key, id(r)))
                    out[key].append(r)
    return dict(out)


#: the elements of R4 whose type is Attachment (an Attachment elsewhere is known by its ``contentType``): only there
#: does a ``url`` cite a Binary whose data is read (not an extension's url, nor a reference's); a RelatedArtifact's
#: ``document`` too
_ATTACHMENT_KEYS = frozenset(
    (
        "attachment",
        "presentedForm",
        "content",
        "valueAttachment",
        "contentAttachment",
        "photo",
        "sourceAttachment",
        "document",
    )
)


def _binary_data(binaries: list[dict], media: Any) -> tuple[str, str | None]:
    """The data and content type an Attachment citing ``binaries`` is read with: the one Binary's (its own type,
    ``media``, when the Binary has none); of several Binaries the url names (two entries of one id), the words of
    all that are text, one after the other, as UTF-8 text (each judged: a first "all well" does not hide a second
    "complete miscarriage"), else the first's."""
    typed = [
        (
            b["data"],
            b["contentType"] if isinstance(b.get("contentType"), str) else media if isinstance(media, str) else None,
        )
        for b in binaries
    ]
    if len(typed) == 1:
        return typed[0]
    texts = [
        t
        for data, kind in typed
        if (t := _attachment_text({"data": data} | ({"contentType": kind} if kind is not None else {}))) is not None
    ]
    if not texts:
        return typed[0]
    return base64.b64encode("\n".join(texts).encode("utf-8")).decode("ascii"), "text/plain; charset=utf-8"


def _with_binaries(r: dict, binaries: dict[str, list[dict]]) -> dict:
    """A resource whose Attachments without data cite by ``url`` a Binary of the input ("Binary/id", its
    fullUrl, "urn:uuid:...") or one it contains ("#id"): a copy with each such Attachment given the Binary's data
    and content type (its own type when the Binary has none; the words of all when the url names several:
    ``_binary_data``), to be read as an Attachment with its data is (``_attachment_text``). An Attachment is an
    element of that type (``_ATTACHMENT_KEYS``) or an object with a ``contentType``; no other object's url (an
    extension's) is given data. Nothing is fetched: a url citing no Binary of the input (an http address of a
    server, a document store) leaves its Attachment unread."""
    contained: dict[str, list[dict]] = defaultdict(list)
    for c in r["contained"] if isinstance(r.get("contained"), list) else []:
        if (
            isinstance(c, dict)
            and c.get("resourceType") == "Binary"
            and isinstance(c.get("id"), str)
            and isinstance(c.get("data"), str)
        ):
            contained[f"#{c['id']}"].append(c)
    if not binaries and not contained:
        return r
    # (walked with a stack, not by recursion: a resource nested as deep as a JSON parser allows is read, not lost)
    # (its parent's index, its key or index there, the node, the element it is or is an item of)
    nodes: list[tuple[int, Any, Any, Any]] = [(-1, None, r, None)]
    found: list[tuple[int, list[dict]]] = []
    stack = [0]
    while stack:
        i = stack.pop()
        key, node, element = nodes[i][1], nodes[i][2], nodes[i][3]
        if isinstance(node, list):
            children: Iterable[tuple[Any, Any]] = enumerate(node)
        elif isinstance(node, dict) and key not in ("contained", "meta", "text"):
            url = node.get("url")
            if (
                isinstance(url, str)
                and "data" not in node
                and (element in _ATTACHMENT_KEYS or "contentType" in node)
                and "resourceType" not in node
            ):
                cited = contained.get(url) or binaries.get(url)
                if cited:
                    found.append((i, cited))
            children = node.items()
        else:
            continue
        for k, v in children:
            if isinstance(v, (dict, list)):
                nodes.append((i, k, v, element if isinstance(node, list) else k))
                stack.append(len(nodes) - 1)
    if not found:
        return r
    copies: dict[int, Any] = {0: dict(r)}  # (a node on the way to an Attachment, copied once)

    for i, cited in found:
        way = [i]  # (from the Attachment up to the first node already copied)
        while way[-1] not in copies:
            way.append(nodes[way[-1]][0])
        for j in reversed(way[:-1]):
            parent, key, node, _ = nodes[j]
            copies[j] = dict(node) if isinstance(node, dict) else list(node)
            copies[parent][key] = copies[j]
        attachment = copies[i]
        attachment["data"], media = _binary_data(cited, attachment.get("contentType"))
        if media is not None:
            attachment["contentType"] = media
    return cast(dict, copies[0])


@dataclass(frozen=True)
class _Container:
    """Whose a resource holding records is (``_container_references``), and the types of what it contains by
    "#id", which a contained record's subject may name."""

    references: tuple
    beside: dict


def _container_references(r: dict) -> list[dict]:
    """The references that name whose a resource holding records is: its subject or patient, else (an Appointment,
    which has none: R4 names its patient as a participant) its participants' actors."""
    subject = r.get("subject", r.get("patient"))
    if isinstance(subject, dict):
        return [subject]
    participants = r["participant"] if isinstance(r.get("participant"), list) else []
    return [p["actor"] for p in participants if isinstance(p, dict) and isinstance(p.get("actor"), dict)]


def _contained_elsewhere(r: dict, ref: str, holder: str) -> BrokenRecord:
    """A record her record contains whose subject is another patient, or one the input does not hold (a Condition of
    Patient/G in her Appointment): which of them it is about cannot be told, so she fails closed."""
    message = (
        f"is contained in {r['_container']}, which is about Patient/{holder}, but its subject is "
        f"{_subject_key(r) or 'another'}: which patient it belongs to cannot be told"
    )
    return BrokenRecord(ref, message, [f"Patient/{holder}"], r.get("resourceType"), "", "subject")


def _container_patient(r: dict, patients: dict[str, str], identified: dict) -> str | None:
    """The patient of the input a contained record's container is about: the one its subject or patient names
    (by reference or identifier), else the one patient of the input among its participants. None also for a record
    about what is contained beside it and is no patient (a Device, a Group, a RelatedPerson: "#dev"): it is not
    about her, nor about another patient (a Patient contained beside it may be anyone)."""
    container = r["_container_of"]
    if container.beside.get(_subject_key(r)) not in (None, "Patient"):
        return None
    pids: set = set()
    everyone = set(patients.values())
    for ref in container.references:
        given = {"subject": ref}
        pid = _patient_of(patients, given, identified)
        key = _subject_key(given)
        # (her reference written another way: an absolute URL of Patient/F with no fullUrl; not a reference to no one)
        pids |= {pid} if pid is not None else (_maybe_of(key, everyone, given) if key is not None else set())
    return pids.pop() if len(pids) == 1 else None


#: the resources that are no record of a patient (a definition, a library, a measure, a person or place of care; a
#: contained Medication is read where a medicationReference cites it): never read as maybe hers. Any other contained
#: resource is a record of its own, read as the input's are (stop 47: a contained AllergyIntolerance, Encounter or
#: ClinicalImpression was not read at all)
_NOT_RECORDS = frozenset(
    (
        "Patient",
        "Medication",
        "Substance",
        "Practitioner",
        "PractitionerRole",
        "Organization",
        "Location",
        "HealthcareService",
        "Endpoint",
        "Device",
        "DeviceDefinition",
        "Group",
        "RelatedPerson",
        "Person",
        "Questionnaire",
        "ValueSet",
        "CodeSystem",
        "ConceptMap",
        "StructureDefinition",
        "Library",
        "PlanDefinition",
        "ActivityDefinition",
        "Measure",
        "ObservationDefinition",
        "SpecimenDefinition",
        "Provenance",
        "Binary",
        "Bundle",
        "Parameters",
        "OperationOutcome",
        "Coverage",
        "InsurancePlan",
        "Contract",
        "Schedule",
        "Slot",
        "Evidence",
        "EvidenceVariable",
        "EventDefinition",
        "ResearchDefinition",
        "ResearchElementDefinition",
        "ChargeItemDefinition",
        "MessageDefinition",
        "GraphDefinition",
        "OperationDefinition",
        "SearchParameter",
        "CapabilityStatement",
        "TerminologyCapabilities",
        "ImplementationGuide",
        "NamingSystem",
        "CompartmentDefinition",
        "StructureMap",
        "TestScript",
        "TestReport",
        "ExampleScenario",
    )
)


def _ref(r: dict) -> str:
    """How a resource is cited: Type/id, or its fullUrl when it has no id (transaction bundles); a contained
    resource as its container's citation, then #id."""
    rid = r.get("id")
    if isinstance(r.get("_container"), str):
        return f"{r['_container']}#{rid}"
    return (
        f"{r['resourceType']}/{rid}"
        if isinstance(rid, str) and rid
        else str(r.get("_fullUrl") or f"{r['resourceType']}/?")
    )


@dataclass
class RefusedResource:
    """A resource that is not R4-shaped, kept in place of it so that whoever uses it fails closed."""

    problems: list


@dataclass
class BrokenRecord:
    """A line of a bulk export that could not be read, or an input that says it is incomplete (a searchset
    page with more pages, a search the server reports as failed): its patients (if they can be told, else
    every patient of the input) fail closed."""

    where: str
    message: str
    patients: list[str]
    resource_type: str | None
    #: said after the message when it names no patient
    whose: str = "; which patient it belongs to cannot be told"
    #: the element at fault, when one is
    field: str | None = None


@dataclass
class Deletion:
    """A Bundle entry that deletes a resource (``request.method`` DELETE, as a transaction or a history
    Bundle writes it): a record the input also holds may no longer be current."""

    where: str
    url: str
    method: str = "DELETE"


def _versions(group: list[tuple[dict, str]]) -> list[tuple[dict, str]] | None:
    """Several resources with one citation (a history Bundle, an export holding each version), latest first,
    when their versions order them: every ``meta.versionId`` a distinct whole number, else every
    ``meta.lastUpdated`` a distinct instant. None when they cannot be ordered."""

    def meta(r: dict, key: str) -> Any:
        return r["meta"].get(key) if isinstance(r.get("meta"), dict) else None

    ids = [meta(r, "versionId") for r, _ in group]
    if all(isinstance(v, str) and v.isdigit() for v in ids) and len({int(v) for v in ids}) == len(ids):
        return sorted(group, key=lambda t: -int(meta(t[0], "versionId")))
    try:
        times = [parse_time(meta(r, "lastUpdated")) for r, _ in group]
    except ValueError:
        return None
    if all(t.precise for t in times) and len({t.earliest for t in times}) == len(times):
        order = sorted(range(len(group)), key=lambda i: times[i].earliest, reverse=True)
        return [group[i] for i in order]
    return None


def _whole_input(where: str, message: str) -> BrokenRecord:
    """A sign that the input is incomplete: no patient is named, so every patient of it fails closed."""
    return BrokenRecord(where, message, [], None, "")


def _incomplete_search(bundle: dict, where: str) -> BrokenRecord | None:
    """A searchset Bundle that is one page of more (a ``next`` link): the records of the other pages are not
    in the input, and any of them could decide (a loss on page 2)."""
    links = bundle.get("link")
    if (
        bundle.get("type") == "searchset"
        and isinstance(links, list)
        and any(isinstance(k, dict) and k.get("relation") == "next" for k in links)
    ):
        return _whole_input(
            f"{where}/link",
            "the searchset Bundle is one page of a longer result (a 'next' link): the records on the other pages "
            "are not in the input; give every page",
        )
    entries: list = bundle["entry"] if isinstance(bundle.get("entry"), list) else []
    matches = [
        e
        for e in entries
        if isinstance(e, dict)
        and (e["search"].get("mode", "match") if isinstance(e.get("search"), dict) else "match") == "match"
    ]
    total = bundle.get("total")
    if bundle.get("type") == "searchset" and isinstance(total, int) and total > len(matches):
        return _whole_input(
            f"{where}/total",
            f"the searchset Bundle says it matched {total} records and holds {len(matches)}: the others are not "
            "in the input",
        )
    meta: dict = bundle["meta"] if isinstance(bundle.get("meta"), dict) else {}
    security = [c for c in meta.get("security") or [] if isinstance(c, dict)]
    if any(c.get("code") in ("REDACTED", "REDACTEDINFO") for c in security):
        return _whole_input(
            f"{where}/meta/security",
            "the Bundle is labelled REDACTED (v3 ObservationValue): records were withheld from it",
        )
    failed = [
        (i, e["response"])
        for i, e in enumerate(entries)
        if isinstance(e, dict)
        and isinstance(e.get("response"), dict)
        and str(e["response"].get("status", "")).strip()[:1] in ("4", "5")
    ]
    if failed:
        i, response = failed[0]
        return _whole_input(
            f"{where}/entry/{i}/response",
            f"a request of the batch or transaction failed (status {response.get('status')}): what it would have "
            "returned is not in the input",
        )
    return None


#: OperationOutcome issue codes that say records were left out, whatever the issue's severity
_LEFT_OUT = ("suppressed", "incomplete", "too-costly", "throttled", "timeout", "too-long")


def _failed_search(r: dict, where: str) -> BrokenRecord | None:
    """An OperationOutcome that reports an error or a fatal issue (a search the server could not complete)."""
    issues = r.get("issue")
    bad = (
        [
            i
            for i in issues
            if isinstance(i, dict) and (i.get("severity") in ("error", "fatal") or i.get("code") in _LEFT_OUT)
        ]
        if isinstance(issues, list)
        else []
    )
    if not bad:
        return None
    said = "; ".join(
        str(
            (i["details"].get("text") if isinstance(i.get("details"), dict) else None)
            or i.get("diagnostics")
            or i.get("code")
        )
        for i in bad
    )
    return _whole_input(
        where,
        f"the input holds an OperationOutcome reporting an error or records left out ({said}): records may be "
        "missing from it",
    )


def read_resources(
    resources: Iterable[tuple[dict, str] | BrokenRecord | Deletion],
    vocab: FhirVocabulary,
    source: str,
    now: _dt.datetime | None = None,
    as_of: _dt.date | _dt.datetime | None = None,
) -> Iterator[PatientInput | InputError]:
    """Group resources (each with where it came from) by patient and read each patient on her own. ``now``: the
    time they are read as of (default: the present); ``as_of``: that time as given for a retrospective
    assessment (a day or an instant), when one was: a record made after it is not read."""
    now = now or _dt.datetime.now(_dt.timezone.utc)
    patients: dict[str, str] = {}  # reference key (Patient/id, fullUrl) -> patient id
    by_patient: dict[str, list] = defaultdict(list)
    medications: dict[str, dict | RefusedResource] = {}
    requests: dict[str, tuple[str | None, bool]] = {}  # MedicationRequest reference -> (its patient, in force)
    refused: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    broken: list[BrokenRecord] = []
    others: list = []
    links: dict[str, list[tuple[str, str]]] = defaultdict(list)  # patient id -> (link type, other patient)
    births: dict[str, Any] = {}
    deceased: dict[str, Any] = {}  # patient id -> when she died (None: only that she did)
    her_patients: dict[str, list[tuple[dict, str]]] = defaultdict(list)  # patient id -> her Patient resources
    identified: dict[tuple[str, str], set[str]] = defaultdict(set)
    encounters: dict[str, dict] = {}
    items = []
    deletions: list[Deletion] = []
    for item in resources:
        if isinstance(item, BrokenRecord):
            broken.append(item)
        elif isinstance(item, Deletion):
            deletions.append(item)
        else:
            items.append(item)
    items = [x for r, where in items for x in _with_contained(r, where)]
    binaries = _binaries(items)
    items = [(_with_binaries(r, binaries), where) for r, where in items]
    for r, where in items:
        if r.get("resourceType") == "Patient":
            full_url = r.get("_fullUrl") if isinstance(r.get("_fullUrl"), str) else None
            pid = r.get("id") or (full_url.rsplit("/", 1)[-1].rsplit(":", 1)[-1] if full_url else None)
            if not isinstance(pid, str) or not pid:
                yield PatientDataError(
                    "a Patient resource needs an id (or a Bundle entry fullUrl)", source=source, field=where
                )
                continue
            patients[f"Patient/{pid}"] = pid
            her_patients[pid].append((r, where))
            for ident in r["identifier"] if isinstance(r.get("identifier"), list) else []:
                if (
                    isinstance(ident, dict)
                    and isinstance(ident.get("system"), str)
                    and isinstance(ident.get("value"), str)
                ):
                    identified[(ident["system"], ident["value"])].add(pid)
            if full_url:
                patients[full_url] = pid
            links[pid] += [
                (link["type"], key if link["other"].get("type") != "RelatedPerson" else f"RelatedPerson?{key}")
                for link in (r["link"] if isinstance(r.get("link"), list) else [])
                if isinstance(link, dict)
                and isinstance(link.get("type"), str)
                and isinstance(link.get("other"), dict)
                and (key := _reference_key(link["other"].get("reference"))) is not None
            ]
    versioned: dict[str, bool] = {}  # patient id -> whether meta orders her Patient resources as versions
    for pid, group in her_patients.items():
        ordered = _versions(group) if len(group) > 1 else None
        versioned[pid] = ordered is not None
        # (her birth date and death: of the latest version when meta orders them, else of each in turn)
        for r, _ in ordered[:1] if ordered is not None else group:
            if "birthDate" in r:
                births[pid] = r["birthDate"]
            if r.get("deceasedBoolean") is True or "deceasedDateTime" in r:
                deceased[pid] = r.get("deceasedDateTime")
    same_person, unfound = _linked(patients, links)
    # (two Patient resources with one identifier may be one person, or two who share a placeholder or a
    # reused number: not joined, but each is told the other's records are not read with hers)
    shared: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for (system, value), pids in sorted(identified.items()):
        people = sorted({same_person[p][1] if p in same_person else p for p in pids})
        for pid in people:
            shared[pid] += [(f"{system}|{value}", other) for other in people if other != pid]
    patients = {key: same_person[pid][1] if pid in same_person else pid for key, pid in patients.items()}
    named = frozenset(pid for key, pid in patients.items() if key.startswith("urn:"))  # (for _maybe_of)
    by_identifier = {k: {same_person[p][1] if p in same_person else p for p in pids} for k, pids in identified.items()}
    for r, _where in items:
        rtype = r.get("resourceType")
        keys = [
            k
            for k in (f"{rtype}/{r.get('id')}" if isinstance(r.get("id"), str) else None, r.get("_fullUrl"))
            if isinstance(k, str) and k
        ]
        if rtype == "Medication":
            # a Medication that is not R4-shaped (or carries a modifier extension) is kept as its refusal
            problems = shape_problems(r)
            medications.update({k: (r if not problems else RefusedResource(problems)) for k in keys})
        elif rtype == "Substance":  # (an ingredient a Medication cites: read for its code)
            medications.update({k: r for k in keys if k not in medications})
        elif rtype == "Encounter":
            encounters.update({k: r for k in keys})
        elif rtype == "MedicationRequest":
            # a request supervises a use only while it is in force (not entered in error, cancelled, a draft)
            in_force = (
                r.get("status") in IN_USE["MedicationRequest"]
                and r.get("doNotPerform") is not True
                and r.get("intent") not in NOT_AN_ORDER
            )
            requests.update({k: (_patient_of(patients, r, by_identifier), in_force) for k in keys})
    superseded = _superseded(items, now if as_of is not None else None, as_of)
    notes: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for r, where in items:
        rtype = r.get("resourceType")
        ref = _ref(r)
        if rtype == "OperationOutcome" and (failed := _failed_search(r, where)) is not None:
            broken.append(failed)
            continue
        holder = _container_patient(r, patients, by_identifier) if "_container_of" in r else None
        if holder is not None and "subject" not in r and "patient" not in r:
            r["subject"] = {"reference": f"Patient/{holder}"}  # (a record her Appointment contains, naming no one)
        if rtype not in READ_TYPES:
            others.append((r, ref, holder))
            continue
        owner = (
            (r.get("id") if isinstance(r.get("id"), str) else None)
            if rtype == "Patient"
            else _patient_of(patients, r, by_identifier)
        )
        problems = shape_problems(r)
        if problems and owner is not None:
            refused[owner] += [(ref, path, message) for path, message in problems]
            continue
        if holder is not None and holder != owner and _could_matter(vocab, r):
            broken.append(_contained_elsewhere(r, ref, holder))
            if owner is None:
                continue
        if rtype in ("Patient", "Medication"):
            if problems and rtype == "Patient":  # a refused Medication fails whoever uses it (RefusedResource)
                yield PatientDataError(
                    f"{ref}: " + "; ".join(f"{p}: {m}" for p, m in problems), source=source, field=where
                )
            continue
        if owner is None:
            subject = _subject_key(r)
            message = f"refers to {subject or 'no patient'}, which is not in the input (broken reference)" + (
                "; " + "; ".join(f"{p}: {m}" for p, m in problems) if problems else ""
            )
            # (one that could not change anything were it hers, a local-coded race of the father, fails no one)
            whose = _maybe_of(subject, set(patients.values()), r, named) if _could_matter(vocab, r) else set()
            if whose:  # (it may be hers, under another form of her reference: she fails closed)
                message += "; it may be hers (which patient it belongs to cannot be told)"
                broken.append(BrokenRecord(ref, message, [f"Patient/{p}" for p in sorted(whose)], rtype, "", "subject"))
            else:  # (about someone or something else: a Device, a Group, a patient the input does not hold)
                yield PatientDataError(f"{ref} {message}", source=source, field=where)
            continue
        if id(r) in superseded:
            notes[owner].append((ref, superseded[id(r)]))
            continue
        by_patient[owner].append((r, ref))
    for d in deletions:  # a record the input both holds and deletes: whether it is current cannot be told
        key = _reference_key(d.url)
        owners = sorted({pid for pid, held in by_patient.items() for r, ref in held if _names(key, ref, r)})
        verb = "deletes" if d.method == "DELETE" else "patches"
        if owners:
            message = (
                f"the input {verb} {d.url} (Bundle entry request {d.method}) and also holds it: whether the record "
                "is current, or what it now says, cannot be told"
            )
            broken.append(BrokenRecord(d.where, message, [f"Patient/{p}" for p in owners], None, "", "request"))
        else:
            yield UnreadableInputError(
                f"a Bundle entry {verb} {d.url}, which the input does not hold: nothing of it is read",
                source=source,
                field=d.where,
            )
    # the Encounters her records were made in: read to date those records (FhirPatientBuilder._encounter_end)
    cites = {
        _reference_key(r["encounter"].get("reference"))
        for r, _ in items
        if r.get("resourceType") in READ_TYPES and isinstance(r.get("encounter"), dict)
    }
    # (as cited, and as Type/id when an absolute URL: looked up, never scanned, per Encounter)
    dating = {k for c in cites if isinstance(c, str) for k in (c, "/".join(c.rsplit("/", 2)[-2:]))}
    others_of: dict[str, list[tuple[dict, str]]] = defaultdict(list)  # (by patient: read once, not per patient)
    maybe_of: dict[str, list[tuple[dict, str]]] = defaultdict(list)
    for r, ref, holder in others:
        owner = _patient_of(patients, r, by_identifier)
        if holder is not None and holder != owner and _names_an_event(vocab, r):
            broken.append(_contained_elsewhere(r, ref, holder))
        if owner is not None:
            others_of[owner].append((r, ref))
        elif r.get("resourceType") not in _NOT_RECORDS and _names_an_event(vocab, r):
            # (an Encounter for a miscarriage whose subject is written another way, or missing: it may be hers)
            # (a cancelled one too: why it was cancelled names the event, ``_names_an_event``)
            for pid in _maybe_of(_subject_key(r), set(patients.values()), r, named, cancelled=True):
                maybe_of[pid].append((r, ref))
    attached: set[int] = set()
    for pid in sorted(set(patients.values())):
        builder = FhirPatientBuilder(vocab, pid, source, now, as_of)
        builder.encounters = encounters
        builder.references = {key for key, owner in patients.items() if owner == pid}
        if pid in births:
            builder.birth = builder.when({"birthDate": births[pid]}, f"Patient/{pid}", ("birthDate",))[1]
        two = _two_people(pid, her_patients.get(pid, []), versioned.get(pid, False))
        if two is not None:  # (one id, two people perhaps: which records are whose cannot be told)
            builder.refuse(f"Patient/{pid}", two[1], field=two[0])
        if pid in deceased and not builder.died_after_as_of(deceased[pid]):
            # (no current pregnancy to assess: said, never a status)
            on = f" on {deceased[pid]}" if isinstance(deceased[pid], str) else ""
            builder.refuse(f"Patient/{pid}", f"the patient is recorded as deceased{on}: not assessed", field="deceased")
        for other, kind in sorted((o, k) for o, (k, rep) in same_person.items() if rep == pid and o != pid):
            builder.problem(
                f"Patient/{other}",
                f"is the same person as Patient/{pid} (Patient.link {kind}): its records are read as hers",
                "info",
                field="link",
            )
        for kind, other in unfound.get(pid, []):
            builder.linked_elsewhere(kind, other)
        for identifier, other in shared.get(pid, []):
            builder.problem(
                f"Patient/{pid}",
                f"Patient/{other} has the same identifier ({identifier}): if they are one person, the records "
                "under it are hers and could change the decision, so they are listed as missing data",
                field="identifier",
            )
            builder.record(KGR.hasRecord, [KGR.UninterpretedRecord], f"Patient/{other}", None)
        for ref, path, message in refused.get(pid, []):
            builder.refuse(ref, message, field=path)
        for b in broken:
            if any(p.endswith(f"Patient/{pid}") for p in b.patients) or (
                not b.patients and b.resource_type in (None, *READ_TYPES) and b.resource_type != "Patient"
            ):
                attached.add(id(b))
                builder.refuse(b.where, b.message + ("" if b.patients else b.whose), field=b.field)
        for ref, message in notes.get(pid, []):
            builder.problem(ref, message, "info", field="meta")
        for r, ref in by_patient.get(pid, []):
            try:
                builder.note_scan_results(r, ref)
            except Exception:  # noqa: BLE001 - the record is read below, and refused by name if it cannot be
                continue
        for r, ref in sorted(by_patient.get(pid, []), key=lambda t: t[1]):
            try:
                builder.begin(ref)
                if builder.made_after_as_of(r, ref):
                    continue
                _read_one(builder, r, ref, medications, requests)
                if _cancelled(r):  # (why it was cancelled: read once, if its reader did not)
                    builder.elsewhere(r, ref, None)
            except Exception as exc:  # never a traceback: the resource is named, the patient fails closed
                builder.refuse(ref, f"could not be read ({type(exc).__name__}: {exc})")
        unread = [
            # (an Encounter her records cite dates them: said only for a code)
            (
                r,
                ref,
                None
                if ref in dating or r.get("_fullUrl") in dating
                else f"resource type {r['resourceType']} is not used by this guidance",
            )
            for r, ref in others_of.get(pid, [])
        ] + [
            (r, ref, f"its subject ({_subject_key(r) or 'none'}) matches no patient but may be hers")
            for r, ref in maybe_of.get(pid, [])
        ]
        for r, ref, what in unread:
            try:
                if builder.made_after_as_of(r, ref):
                    continue
                # (one a record contains: said only when it bears on the decision, its container said already)
                builder.elsewhere(r, ref, what, quiet="_container" in r)
            except Exception as exc:  # never a traceback: the resource is named, the patient fails closed
                builder.refuse(ref, f"could not be read ({type(exc).__name__}: {exc})")
        yield builder.finish()
    for b in broken:  # a lost Patient line, or a line of a type this guidance does not read: said, not hidden
        if id(b) not in attached:
            yield UnreadableInputError(b.message, source=source, field=b.where)


#: a reference that names a Patient (Patient/id, or an absolute URL ending in it), or a urn:uuid of unknown type
_PATIENT_KEY = re.compile(r"(^|/)Patient/[^/]+$|^urn:uuid:")


def _linked(
    patients: dict[str, str], links: dict[str, list[tuple[str, str]]]
) -> tuple[dict[str, tuple[str, str]], dict[str, list[tuple[str, str]]]]:
    """Patients of the input that Patient.link makes one person (replaces, replaced-by, refer, seealso: R4's
    link types all name the same person): each linked patient id -> (the link type, the patient id her records
    are read under). That one is the patient no link says is replaced or not the main record (replaced-by,
    refer), else the first by id. And the links to patients the input does not hold, by patient id."""
    parent = {pid: pid for pid in set(patients.values())}

    def root(p: str) -> str:
        while parent[p] != p:
            p = parent[p]
        return p

    kinds: dict[str, str] = {}
    unfound: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for pid, out in links.items():
        for kind, key in out:
            other = patients.get(key) or next((o for k, o in patients.items() if key.endswith(f"/{k}")), None)
            if other is None:
                if _PATIENT_KEY.search(key):  # (a RelatedPerson is the person in another role: not her records)
                    unfound[pid].append((kind, key))
            elif other != pid:
                parent[root(pid)] = root(other)
                kinds.setdefault(pid, kind)
                kinds.setdefault(other, kind)
    groups: dict[str, list[str]] = defaultdict(list)
    for pid in parent:
        groups[root(pid)].append(pid)
    same: dict[str, tuple[str, str]] = {}
    for members in groups.values():
        if len(members) > 1:
            main = [m for m in sorted(members) if not any(k in ("replaced-by", "refer") for k, _ in links.get(m, []))]
            rep = (main or sorted(members))[0]
            same.update({m: (kinds[m], rep) for m in members})
    return same, unfound


def _names_an_event(vocab: FhirVocabulary, r: dict) -> bool:
    """Whether a code of the resource means an event condition of the guidance (``elsewhere``'s test)."""
    return any(vocab.beside(c) for _, c in _said(r, _all_but_why_cancelled(r) if _cancelled(r) else frozenset()))


def _said(r: dict, skip: frozenset[str]) -> Iterator[tuple[str, dict]]:
    """What else a resource says, as ``elsewhere`` and ``_names_an_event`` read it: its codes and concepts, and its
    strings of words unless it is about someone else (``_ABOUT_OTHERS``), each with the element it stands in."""
    return _elements(r, skip, strings=r.get("resourceType") not in _ABOUT_OTHERS)


def _names(url: str | None, ref: str, r: dict) -> bool:
    """Whether a reference names the resource (cited ``ref``): its citation, its fullUrl, or an absolute URL
    ending with its citation."""
    return url is not None and (url in (ref, r.get("_fullUrl")) or url.endswith(f"/{ref}"))


def _superseded(
    items: list[tuple[dict, str]], now: _dt.datetime | None = None, as_of: _dt.date | _dt.datetime | None = None
) -> dict[int, str]:
    """Of several versions of one resource that ``meta`` orders (a history Bundle, an export keeping every
    version), all but the current one, by ``id()`` of the resource: what to say of each. Assessed as of a time
    (``now``, ``as_of`` as given), the current one is the latest not updated after it, when there is one. Read before the
    records are given to their patients, so that a later version that moves a record to another patient, is
    entered in error or refuted withdraws it from the first. The same id under two fullUrl bases (two
    servers) is two records; versions that cannot be ordered are each read."""
    groups: dict[str, list[tuple[dict, str]]] = defaultdict(list)
    for r, where in items:
        if r.get("resourceType") in READ_TYPES and r.get("resourceType") != "Patient":
            groups[_ref(r)].append((r, where))
    out: dict[int, str] = {}
    for ref, group in groups.items():
        if len(group) < 2 or ref.endswith("/?"):
            continue
        bases = {str(r.get("_fullUrl"))[: -len(ref)] for r, _ in group if str(r.get("_fullUrl", "")).endswith(ref)}
        ordered = _versions(group) if len(bases) <= 1 else None
        if ordered is None:
            continue
        # (assessed as of a time: a version updated after it is not the record as it stood then, when an earlier
        # version is in the input)
        then = [t for t in ordered if not _updated_after(t[0], now, as_of)] if now is not None else ordered
        current = then[0][0] if then else ordered[0][0]
        latest = current["meta"]
        label = f"version {latest.get('versionId') or latest.get('lastUpdated')}"
        for r, _ in ordered:
            if r is current:
                continue
            version = str(r["meta"].get("versionId") or r["meta"].get("lastUpdated"))
            out[id(r)] = (
                f"version {version} was updated after the time the assessment is made as of ({r['meta'].get('lastUpdated')}), "
                f"when {label} was the record; not read"
                if then and not any(r is t[0] for t in then)
                else f"version {version} is superseded by {label} in the input; not read"
            )
    return out


def _updated_after(r: dict, now: _dt.datetime, as_of: _dt.date | _dt.datetime | None) -> bool:
    """Whether a version of a record was updated (``meta.lastUpdated``) after the time an assessment is made as of."""
    updated = r["meta"].get("lastUpdated") if isinstance(r.get("meta"), dict) else None
    try:
        return isinstance(updated, str) and after(parse_time(updated), now, as_of)
    except ValueError:
        return False


#: the elements that say when a record was made, began, was performed, recorded or issued (a Period: its start)
_RECORD_TIMES = (
    "effectiveDateTime",
    "effectiveInstant",
    "effectivePeriod",
    "issued",
    "onsetDateTime",
    "onsetPeriod",
    "recordedDate",
    "performedDateTime",
    "performedPeriod",
    "authoredOn",
    "dateAsserted",
    "whenHandedOver",
    "period",  # (an Encounter's: its start)
    "billablePeriod",  # (a Claim's, an ExplanationOfBenefit's: its start)
    "created",
    "date",  # (a DocumentReference's, a Composition's)
)


def _read_one(builder: FhirPatientBuilder, r: dict, ref: str, medications: dict, requests: dict) -> None:
    rtype = r["resourceType"]
    if rtype == "Observation":
        builder.observation(r, ref)
    elif rtype == "Condition":
        builder.condition(r, ref)
    elif rtype == "DiagnosticReport":
        builder.diagnostic_report(r, ref)
    elif rtype == "Procedure":
        builder.procedure(r, ref)
    else:
        builder.medication(r, ref, rtype, medications, requests)


def bundle_resources(
    bundle: dict, source: str, _where: str = "", _depth: int = 0
) -> Iterator[tuple[dict, str] | InputError | BrokenRecord | Deletion]:
    """The resources of a Bundle (a Bundle inside an entry is read too, to MAX_BUNDLE_DEPTH levels), or the
    single resource itself; a ``BrokenRecord`` when a searchset Bundle is one page of more."""
    if not isinstance(bundle.get("resourceType"), str):
        yield UnreadableInputError(
            "resourceType must be a string naming an R4 resource type", source=source, field=f"{_where}/resourceType"
        )
        return
    if bundle.get("resourceType") != "Bundle":
        yield (bundle, _where or "/")
        return
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        yield UnreadableInputError("Bundle.entry must be a list (R4)", source=source, field=f"{_where}/entry")
        return
    incomplete = _incomplete_search(bundle, _where)
    if incomplete is not None:
        yield incomplete
    for i, entry in enumerate(entries):
        here = f"{_where}/entry/{i}"
        r = entry.get("resource") if isinstance(entry, dict) else None
        request = entry.get("request") if isinstance(entry, dict) else None
        if (
            isinstance(request, dict)
            and (request.get("method") == "PATCH" or (r is None and request.get("method") == "DELETE"))
            and isinstance(request.get("url"), str)
        ):  # (a PATCH changes a record in ways this reader does not apply: as uncertain as a deletion)
            yield Deletion(here, request["url"], request["method"])
            continue
        if r is None and isinstance(entry, dict) and isinstance(entry.get("response"), dict):
            continue  # (a batch or transaction response without a resource: a failed one is said above)
        if not isinstance(r, dict) or not isinstance(r.get("resourceType"), str):
            yield UnreadableInputError("a Bundle entry has no resource with a resourceType", source=source, field=here)
            continue
        if r["resourceType"] == "Bundle":
            if _depth + 1 >= MAX_BUNDLE_DEPTH:
                yield UnreadableInputError(
                    f"Bundles nested deeper than {MAX_BUNDLE_DEPTH} levels are refused", source=source, field=here
                )
                continue
            yield from bundle_resources(r, source, f"{here}/resource", _depth + 1)
            continue
        if entry.get("fullUrl"):
            r = dict(r, _fullUrl=entry["fullUrl"])
        yield (r, here)


def ndjson_resources(paths: list[Path]) -> Iterator[tuple[dict, str] | InputError | BrokenRecord | Deletion]:
    for path in paths:
        # bulk data files are named by resource type (Observation.ndjson, Observation.001.ndjson.gz)
        named = (re.match(r"([A-Z][A-Za-z]+)(?:[.-]|$)", path.name) or [None, None])[1]
        for item in numbered_lines(path):
            if isinstance(item, ReadStopped):
                yield BrokenRecord(
                    f"{path.name}:{item.line}",
                    f"{path.name} cannot be read past line {item.line - 1} ({item.reason})",
                    [],
                    named,
                )
                break
            n, line = item
            where = f"{path.name}:{n}"
            try:
                r = json_loads(line)
            except ValueError as exc:
                yield BrokenRecord(
                    where,
                    f"line {n} of {path.name} is not valid JSON ({exc})",
                    sorted({key for m in _PATIENT_REF.findall(line) if (key := _reference_key(m)) is not None}),
                    next(iter(_RESOURCE_TYPE.findall(line)), named),
                )
                continue
            if not isinstance(r, dict) or not isinstance(r.get("resourceType"), str):
                yield BrokenRecord(
                    where, f"line {n} of {path.name} is not a FHIR resource (no resourceType)", [], named
                )
                continue
            if r["resourceType"] == "Bundle":  # a Bundle on a line of an export: its resources are read
                yield from bundle_resources(r, str(path), where)
                continue
            yield (r, where)


def read_fhir(
    items: Iterable[tuple[dict, str] | InputError | BrokenRecord | Deletion],
    vocab: FhirVocabulary,
    source: str,
    now: _dt.datetime | None = None,
    as_of: _dt.date | _dt.datetime | None = None,
) -> Iterator[PatientInput | InputError]:
    """The patients of FHIR resources, or the errors of what could not be read. ``now``: the time the
    assessment is made as of (default: the present); a record of a later time is in the future. ``as_of``: that
    time as given for a retrospective assessment (``read_resources``)."""
    resources, said = [], False
    for item in items:
        if isinstance(item, InputError):
            said = True
            yield item
        else:
            resources.append(item)
    for out in read_resources(resources, vocab, source, now, as_of):
        said = True
        yield out
    if not said:  # nothing read and nothing wrong said would be a silent loss
        yield UnreadableInputError("holds no Patient resource: there is no patient to assess", source=source)
