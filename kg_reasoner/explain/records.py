"""The outcome record's typed parts (decision-spec section 5) and its JSON Schema.

The records are ``TypedDict``s: what ``Assessment.to_dict()`` and the JSON / NDJSON outputs hold is
plain JSON (a ``data_problems[0]["severity"]`` reader keeps working), and the types are checked by
mypy where the records are built. ``outcome_schema()`` derives the published JSON Schema
(``docs/outcome.schema.json``) from these declarations; the suite checks that the file is current and
that every outcome of the bundled cases validates against it.
"""

from __future__ import annotations

import sys
import typing
from typing import Any, Literal, TypedDict, Union

SCHEMA_ID = "https://w3id.org/kg-reasoner/schema/outcome.schema.json"


class DataProblem(TypedDict):
    """Something in the input the reasoner could not use as given: ``error`` (the record could not be
    read, or the data are inconsistent) and ``violation`` fail the patient closed; ``warning`` and
    ``info`` (a record read but not used, e.g. outside this pregnancy) do not."""

    severity: Literal["error", "violation", "warning", "info"]
    record: str | None
    node: str | None
    field: str | None
    value: str | None
    message: str


class Evidence(TypedDict):
    """One fact a conclusion rests on, with the record it came from."""

    fact: str
    record: str
    source: str | None


class FiredRule(TypedDict):
    """A rule of the guidance that fired, the sentences of the guidance it cites and its evidence."""

    id: str
    label: str
    kind: Literal["status", "flag"]
    concludes: str
    extension: bool
    sentences: list[str]
    evidence: list[Evidence]
    advice: str | None
    outranked_by: list[str]


class Criterion(TypedDict):
    """A criterion of a rule (or a factor of a k-of-n criterion: ``rule`` is null), and its state for this
    patient (met / not met / unknown). ``decided_by`` states how: the judgement of a result, a threshold with
    its numbers ("BMI: 32.5 kg/m2 > 30 kg/m2"), or the factors of a k-of-n criterion."""

    label: str
    rule: str | None
    state: str
    sentence: str | None
    evidence: list[Evidence]
    decided_by: list[str]
    needs: str | None


class Diagnosis(TypedDict):
    diagnosis: str
    iri: str
    rule: str


class MissingData(TypedDict):
    """A criterion whose data are missing, and what would decide it."""

    criterion: str
    label: str
    needs: str


class Flag(TypedDict):
    flag: str
    label: str
    rule: str


class RuleState(TypedDict):
    """Why a rule did not fire: a criterion not met, or unknown (``partly_met``)."""

    rule: str
    relation: str
    criterion: str
    label: str
    needs: str | None


class NotFiredRule(TypedDict):
    """Why a rule did not fire (explaining a "no"): its criteria's states, the evidence it reads and the
    patient's value of it, or its condition on the final status."""

    rule: str
    label: str
    kind: str
    concludes: str | None
    partly_met: bool
    reason: str


class Outcome(TypedDict):
    """One patient's outcome record: ``Assessment.to_dict()``, one element of ``--format json``, one line of
    ``--format ndjson``. ``status`` is null when the patient could not be assessed (fail closed)."""

    patient: str
    source: str | None
    status: str | None
    rules: list[str]
    missing: list[str]
    flags: list[str]
    diagnosis: list[Diagnosis]
    criteria: dict[str, Criterion]
    fired_rules: list[FiredRule]
    decided_by: list[str]
    missing_details: list[MissingData]
    flag_details: list[Flag]
    advice: list[str]
    explanation: list[str]
    rule_states: list[RuleState]
    not_fired: list[NotFiredRule]
    unassessed_causes: list[str]
    unassessed_contraindications: list[str]
    ignored_results: list[str]
    superseded_results: list[str]
    data_problems: list[DataProblem]
    #: the time a retrospective assessment was made as of (ISO 8601), only when one was given
    as_of: str


#: keys a producer may leave out (all others are always present)
OPTIONAL = {
    ("Outcome", "as_of"),
    ("FiredRule", "advice"),
    ("FiredRule", "outranked_by"),
    ("Criterion", "sentence"),
    ("Criterion", "needs"),
    ("RuleState", "needs"),
}


def _schema(tp: Any, defs: dict) -> dict:
    origin = typing.get_origin(tp)
    if tp is str:
        return {"type": "string"}
    if tp is bool:
        return {"type": "boolean"}
    if tp is type(None):
        return {"type": "null"}
    if origin is Literal:
        return {"enum": list(typing.get_args(tp))}
    if origin is list:
        return {"type": "array", "items": _schema(typing.get_args(tp)[0], defs)}
    if origin is dict:
        return {"type": "object", "additionalProperties": _schema(typing.get_args(tp)[1], defs)}
    if origin is Union or (sys.version_info >= (3, 10) and origin is __import__("types").UnionType):
        return {"anyOf": [_schema(a, defs) for a in typing.get_args(tp)]}
    if isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__annotations__"):
        name = tp.__name__
        if name not in defs:
            defs[name] = {}
            hints = typing.get_type_hints(tp)
            defs[name] = {
                "type": "object",
                "description": " ".join((tp.__doc__ or "").split()),
                "properties": {k: _schema(v, defs) for k, v in hints.items()},
                "required": [k for k in hints if (name, k) not in OPTIONAL],
                "additionalProperties": False,
            }
        return {"$ref": f"#/$defs/{name}"}
    raise TypeError(f"no JSON Schema for {tp!r}")


def outcome_schema() -> dict:
    """The JSON Schema (draft 2020-12) of one outcome record."""
    defs: dict = {}
    ref = _schema(Outcome, defs)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "kg-reasoner outcome record",
        **ref,
        "$defs": dict(sorted(defs.items())),
    }
