"""Is this an HL7 FHIR R4 resource the reader can read as written? Structure only, no meaning.

The FHIR reader reads a handful of elements of seven resource types. Before it reads one, this
module checks that each of those elements has its R4 shape (a list where R4 has 0..*, an object
where R4 has a complex type, a string where R4 has a code), so that an STU3- or R5-shaped resource
(a plain-string ``clinicalStatus``, an object where R4 has a list) is refused by name instead of
being misread (a refuted finding read as present) or crashing the run. It also enforces FHIR's own
rule on modifier extensions: a resource carrying a ``modifierExtension`` the reader does not know
cannot be processed (https://hl7.org/fhir/R4/extensibility.html#modifierExtension).

The element kinds below are transcribed from the R4 resource definitions
(https://hl7.org/fhir/R4/observation.html, condition.html, diagnosticreport.html, procedure.html,
medicationrequest.html, medicationstatement.html, medication.html); the R5 forms the reader
accepts on purpose (``MedicationStatement.medication`` as a CodeableReference) are marked.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

CC = "CodeableConcept"


CC_LIST = "CodeableConcept[]"


REF = "Reference"


REF_LIST = "Reference[]"


QTY = "Quantity"


STR = "string"


BOOL = "boolean"


PERIOD = "Period"


RANGE_LIST = "referenceRange[]"


CREF = "CodeableReference (R5)"


LIST = "list"


INT = "integer"


COMPONENT_LIST = "component[]"


#: an Observation.component entry (https://hl7.org/fhir/R4/observation-definitions.html#Observation.component):
#: the elements of it the reader uses; its code is 1..1
COMPONENT = {
    "code": CC,
    "valueQuantity": QTY,
    "valueCodeableConcept": CC,
    "valueString": STR,
    "valueBoolean": BOOL,
    "valueInteger": INT,
    "dataAbsentReason": CC,
    "interpretation": CC_LIST,
    "referenceRange": RANGE_LIST,
}


_COMMON = {
    "id": STR,
    "status": STR,
    "subject": REF,
    "patient": REF,
    "contained": LIST,
    "extension": LIST,
    "identifier": LIST,
    "note": LIST,
    "basedOn": REF_LIST,
    "partOf": REF_LIST,
}


ELEMENTS: dict[str, dict[str, str]] = {
    "Patient": {"id": STR, "extension": LIST, "identifier": LIST},
    "Observation": {
        "code": CC,
        "category": CC_LIST,
        "valueQuantity": QTY,
        "valueCodeableConcept": CC,
        "valueBoolean": BOOL,
        "valueString": STR,
        "valueInteger": INT,
        "dataAbsentReason": CC,
        "interpretation": CC_LIST,
        "referenceRange": RANGE_LIST,
        "effectiveDateTime": STR,
        "effectiveInstant": STR,
        "effectivePeriod": PERIOD,
        "issued": STR,
        "component": COMPONENT_LIST,
        "hasMember": REF_LIST,
        "derivedFrom": REF_LIST,
        "focus": REF_LIST,
    },
    "Condition": {
        "code": CC,
        "category": CC_LIST,
        "clinicalStatus": CC,
        "verificationStatus": CC,
        "severity": CC,
        "onsetDateTime": STR,
        "onsetPeriod": PERIOD,
        "recordedDate": STR,
        "abatementDateTime": STR,
        "bodySite": CC_LIST,
        "evidence": LIST,
        "stage": LIST,
        "abatementString": STR,
    },
    "DiagnosticReport": {
        "code": CC,
        "category": CC_LIST,
        "conclusionCode": CC_LIST,
        "conclusion": STR,
        "effectiveDateTime": STR,
        "effectivePeriod": PERIOD,
        "issued": STR,
        "result": REF_LIST,
    },
    "Procedure": {
        "code": CC,
        "category": CC,
        "performedDateTime": STR,
        "performedPeriod": PERIOD,
        "reasonCode": CC_LIST,
        "reasonReference": REF_LIST,
        "bodySite": CC_LIST,
        "statusReason": CC,
        "outcome": CC,
        "complication": CC_LIST,
        "complicationDetail": REF_LIST,
        "followUp": CC_LIST,
    },
    "MedicationRequest": {
        "category": CC_LIST,
        "medicationCodeableConcept": CC,
        "medicationReference": REF,
        "medication": CREF,
        "authoredOn": STR,
        "intent": STR,
        "dosageInstruction": LIST,
        "statusReason": CC,
        "reasonCode": CC_LIST,
        "reasonReference": REF_LIST,
    },
    "MedicationStatement": {
        "category": CC,
        "medicationCodeableConcept": CC,
        "medicationReference": REF,
        "medication": CREF,
        "effectiveDateTime": STR,
        "effectivePeriod": PERIOD,
        "dateAsserted": STR,
        "dosage": LIST,
        "derivedFrom": REF_LIST,
        "statusReason": CC_LIST,
        "reasonCode": CC_LIST,
        "reasonReference": REF_LIST,
    },
    "MedicationAdministration": {
        "medicationCodeableConcept": CC,
        "medicationReference": REF,
        "effectiveDateTime": STR,
        "effectivePeriod": PERIOD,
        "request": REF,
        "statusReason": CC_LIST,
        "reasonCode": CC_LIST,
        "reasonReference": REF_LIST,
    },
    "MedicationDispense": {
        "medicationCodeableConcept": CC,
        "medicationReference": REF,
        "authorizingPrescription": REF_LIST,
        "whenHandedOver": STR,
        "dosageInstruction": LIST,
    },
    "Medication": {"code": CC, "ingredient": LIST},
}


#: Elements of the read types that R4 does not have and whose meaning would be lost if ignored: STU3's
#: MedicationStatement.taken ("n" = not taken, R4 says it with status not-taken), notDone, and so on.
NOT_IN_R4: dict[str, dict[str, str]] = {
    "MedicationStatement": {"taken": "STU3 (R4 states it with status not-taken)", "reasonNotTaken": "STU3"},
    "MedicationRequest": {"context": "STU3"},
    "Condition": {"assertedDate": "STU3 (R4: recordedDate)", "context": "STU3 (R4: encounter)"},
    "Observation": {"context": "STU3 (R4: encounter)"},
    "DiagnosticReport": {"context": "STU3 (R4: encounter)", "codedDiagnosis": "STU3 (R4: conclusionCode)"},
    "Procedure": {"notDone": "STU3 (R4 states it with status not-done)", "context": "STU3 (R4: encounter)"},
}


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(type(value), "a number")


#: R4's choices of Observation.value[x] (and Observation.component.value[x]): any other ``value...`` element (a
#: "valueDecimal", a bare "value") is no R4 element, and a value it holds would be passed over
VALUE_CHOICES = frozenset(
    "value" + t
    for t in (
        "Quantity",
        "CodeableConcept",
        "String",
        "Boolean",
        "Integer",
        "Range",
        "Ratio",
        "SampledData",
        "Time",
        "DateTime",
        "Period",
    )
)


def _unknown_values(element: dict, path: str) -> list[tuple[str, str]]:
    return [
        (f"{path}{k}", f"not an R4 element: Observation's value is one of {', '.join(sorted(VALUE_CHOICES))}")
        for k in element
        if isinstance(k, str) and k.lower().startswith("value") and k not in VALUE_CHOICES  # (a "ValueQuantity" too)
    ]


def shape_problems(resource: dict) -> list[tuple[str, str]]:
    """(element path, what is wrong) for each element the reader uses that is not R4-shaped, and for
    each modifier extension anywhere in the resource. Empty when the resource can be read."""
    problems: list[tuple[str, str]] = []
    for path, ext in _modifier_extensions(resource, ""):
        urls = ", ".join(sorted({str(e.get("url")) for e in ext if isinstance(e, dict)})) or "no url"
        problems.append(
            (
                path,
                f"a modifier extension the reader does not know ({urls}) may change the meaning "
                "of this resource; FHIR requires it to be refused, not read as if absent",
            )
        )
    # every caller has checked that resourceType is a string; anything else names no resource type
    rtype = resource.get("resourceType")
    rtype = rtype if isinstance(rtype, str) else ""
    for name, version in NOT_IN_R4.get(rtype, {}).items():
        if name in resource:
            problems.append((name, f"not an R4 element: {version}"))
    if rtype == "Observation":
        problems += _unknown_values(resource, "")
    spec = {**_COMMON, **ELEMENTS.get(rtype, {})}
    for name, kind in spec.items():
        if name in resource:
            problems += _check(resource[name], kind, name)
    return problems


def _modifier_extensions(node: Any, path: str):
    """(path, extensions) of every modifierExtension in a resource, in document order; iterative, so that
    no nesting the JSON reader accepted can exhaust the stack."""
    stack = [(node, path)]
    while stack:
        item, where = stack.pop()
        children = []
        if isinstance(item, dict):
            for key, value in item.items():
                here = f"{where}.{key}" if where else key
                if key == "modifierExtension" and value not in (None, []):
                    yield here, value if isinstance(value, list) else [value]
                elif key != "contained":  # a contained resource is checked when it is read
                    children.append((value, here))
        elif isinstance(item, list):
            children = [(v, f"{where}[{i}]") for i, v in enumerate(item)]
        stack.extend(reversed(children))


def _check(value: Any, kind: str, path: str) -> list[tuple[str, str]]:
    def bad(expected: str) -> list[tuple[str, str]]:
        return [(path, f"R4 has {expected} here, the resource has {_kind(value)} (STU3 or R5 shape?)")]

    if kind in (CC_LIST, REF_LIST, RANGE_LIST, COMPONENT_LIST, LIST):
        if not isinstance(value, list):
            return bad("a list")
        item = {CC_LIST: CC, REF_LIST: REF, RANGE_LIST: "range", COMPONENT_LIST: "component"}.get(kind)
        return [p for i, v in enumerate(value) for p in (_check(v, item, f"{path}[{i}]") if item else [])]
    if kind == STR:
        return [] if isinstance(value, str) else bad("a string (a code or date)")
    if kind == BOOL:
        return [] if isinstance(value, bool) else bad("a boolean")
    if kind == INT:
        return [] if isinstance(value, int) and not isinstance(value, bool) else bad("an integer")
    if not isinstance(value, dict):
        return bad(
            {
                CC: "a CodeableConcept object",
                REF: "a Reference object",
                QTY: "a Quantity object",
                PERIOD: "a Period object",
                CREF: "a CodeableReference object",
                "range": "an object",
                "component": "a component object",
            }[kind]
        )
    if kind == "component":
        out = [] if "code" in value else [(f"{path}.code", "R4 requires a component's code (1..1); it has none")]
        out += _unknown_values(value, f"{path}.")
        return out + [p for k, sub in COMPONENT.items() if k in value for p in _check(value[k], sub, f"{path}.{k}")]
    if kind == CC:
        out = _check(value["coding"], LIST, f"{path}.coding") if "coding" in value else []
        if "coding" in value and not out:
            out = [p for i, c in enumerate(value["coding"]) for p in _coding(c, f"{path}.coding[{i}]")]
        return out + (_check(value["text"], STR, f"{path}.text") if "text" in value else [])
    if kind == REF:
        return (
            [] if isinstance(value.get("reference", ""), str) else _check(value["reference"], STR, f"{path}.reference")
        )
    if kind == QTY:
        out = []
        number = value.get("value")
        if "value" in value and (isinstance(number, bool) or not isinstance(number, (int, float, Decimal))):
            out.append((f"{path}.value", f"R4 has a number here, the resource has {_kind(value['value'])}"))
        for k in ("unit", "code", "system", "comparator"):
            if k in value and not isinstance(value[k], str):
                out += _check(value[k], STR, f"{path}.{k}")
        return out
    if kind == PERIOD:
        return [p for k in ("start", "end") if k in value for p in _check(value[k], STR, f"{path}.{k}")]
    if kind == CREF:
        out = _check(value["concept"], CC, f"{path}.concept") if "concept" in value else []
        return out + (_check(value["reference"], REF, f"{path}.reference") if "reference" in value else [])
    # a referenceRange entry
    out = [p for k in ("low", "high") if k in value for p in _check(value[k], QTY, f"{path}.{k}")]
    out += _check(value["appliesTo"], CC_LIST, f"{path}.appliesTo") if "appliesTo" in value else []
    out += _check(value["type"], CC, f"{path}.type") if "type" in value else []
    return out + (_check(value["text"], STR, f"{path}.text") if "text" in value else [])


def _coding(coding: Any, path: str) -> list[tuple[str, str]]:
    if not isinstance(coding, dict):
        return [(path, f"R4 has a Coding object here, the resource has {_kind(coding)}")]
    return [p for k in ("system", "code", "display") if k in coding for p in _check(coding[k], STR, f"{path}.{k}")]
