"""Explanations by SPARQL: every field of an Assessment comes from a query of ``queries/``.

The queries run on the patient's *explanation graph*: her asserted and
inferred triples plus the ontology's statements about the terms they mention.
That graph is what ``--format turtle`` prints, so the printed Turtle answers
the same queries on its own. Python here only groups rows and formats text.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import XSD

from kg_reasoner.explain.queries import run_query
from kg_reasoner.read.patient import canonical_decimal

_NUMERIC = {XSD.decimal, XSD.integer, XSD.double, XSD.float}


def _py(term: Any) -> Any:
    """A query result term as JSON-friendly Python: numbers in canonical lexical form, times in ISO 8601."""
    if term is None:
        return None
    if isinstance(term, Literal):
        if term.datatype in _NUMERIC:
            value = term.toPython()
            return canonical_decimal(value) if isinstance(value, Decimal) else str(value)
        value = term.toPython()
        return value.isoformat() if hasattr(value, "isoformat") else value
    return str(term)


def _num(v: Any) -> str:
    """A computed decimal for people: at most 4 decimals, trailing zeros dropped."""
    try:
        d = Decimal(str(v))
    except ArithmeticError:
        return str(v)
    if d.as_tuple().exponent < -4:
        d = d.quantize(Decimal("0.0001"))
    return format(d.normalize(), "f")


def _record_facts(q, patient: URIRef) -> dict[str, dict]:
    facts: dict[str, dict] = {}
    for row in q("explain-records", patient=patient):
        d = {k: _py(v) for k, v in row.asdict().items()}
        d.pop("patient", None)
        facts[d.pop("record")] = d
    types: dict[str, list] = defaultdict(list)
    for row in q("explain-record-types", patient=patient):
        types[str(row.record)].append((bool(row.entry.toPython()), str(row.label)))
    for rec, labels in types.items():
        entry = sorted(lbl for is_entry, lbl in labels if is_entry)
        facts.setdefault(rec, {})["kind"] = entry[0] if entry else ", ".join(sorted(lbl for _, lbl in labels))
    for row in q("explain-record-codes", patient=patient):
        facts.setdefault(str(row.record), {}).setdefault("codes", []).append(str(row.code))
    for row in q("explain-judgements", patient=patient):
        d = {k: _py(v) for k, v in row.asdict().items()}
        d.pop("patient", None)
        facts.setdefault(d.pop("record"), {}).setdefault("judgements", []).append(d)
    return facts


def describe_record(iri: str, f: dict) -> str:
    """One line a clinician can check against the record: what, value, when, from where."""
    parts = [f.get("kind") or iri]
    detail = []
    if f.get("measurement"):
        if f.get("value") is not None:
            detail.append(f"{f['value']} {f.get('unit') or '(no unit)'}")
        if f.get("referenceLow") is not None:
            detail.append(f"reference lower bound {f['referenceLow']} {f.get('unit') or ''}".rstrip())
        if f.get("interpretation"):
            detail.append(f"interpreted {f['interpretation']}")
        if f.get("resultStatus"):
            detail.append(f"status {f['resultStatus']}")
    if f.get("presence") == "absent":
        detail.append("absent")
    elif f.get("severity"):
        detail.append(f["severity"])
    elif f.get("presence"):
        detail.append(f["presence"])
    if f.get("conclusion"):
        detail.append(f["conclusion"])
    if f.get("supervised") is not None:
        detail.append("under medical supervision" if f["supervised"] else "without medical supervision")
    if f.get("course"):
        detail.append(f"symptoms {f['course']}")
    if f.get("timeAsRecorded"):
        detail.append(f"at {f['timeAsRecorded']} (compared as the interval it covers)")
    elif f.get("time"):
        detail.append(f"at {f['time']}")
    text = parts[0] + (": " + ", ".join(detail) if detail else "")
    if f.get("source"):
        codes = f"; codes: {', '.join(sorted(f['codes']))}" if f.get("codes") else ""
        text += f" [source: {f['source']}{codes}]"
    return text


def _judgement_text(j: dict, f: dict) -> str:
    verdict = "below the normal range" if j["below"] else "not below the normal range"
    how = f"decided by {j['methodLabel']}"
    if j.get("limit") is not None and f.get("normalized") is not None:
        unit = j.get("canonicalUnit") or "canonical unit"
        how += f": {_num(f['normalized'])} {unit} {'<' if j['below'] else '>='} {_num(j['limit'])} {unit}"
    if j.get("rangeLabel"):
        how += f"; reference '{j['rangeLabel']}'"
        if j.get("rangeSource"):
            how += f" (source: {j['rangeSource']})"
    return f"{verdict}, {how}"


def explain(graph: Graph | Callable, patient: URIRef) -> dict:
    """All fields of the outcome record (decision-spec section 5) for one patient.

    ``graph`` is an rdflib Graph, or a callable ``q(name, **bindings)`` that runs the query
    ``queries/NAME.rq`` on some other store (the fast engine's) and returns rows alike."""
    if isinstance(graph, Graph):

        def q(name, **bindings):
            return run_query(name, graph, **bindings)
    else:
        q = graph
    out = next(iter(q("explain-outcome", patient=patient)), None)
    facts = _record_facts(q, patient)

    evidence: dict[str, list] = defaultdict(list)
    for row in q("explain-evidence", patient=patient):
        ctx = str(row.context)
        if row.record is not None:
            rec = str(row.record)
            evidence[ctx].append(
                {
                    "record": rec,
                    "source": facts.get(rec, {}).get("source"),
                    "fact": describe_record(rec, facts.get(rec, {})),
                }
            )
        else:
            evidence[ctx].append(
                {"record": str(patient), "source": None, "fact": f"{row.propertyLabel}: {row.valueLabel}"}
            )
    for ctx in evidence:
        evidence[ctx] = sorted({e["fact"]: e for e in evidence[ctx]}.values(), key=lambda e: e["fact"])

    criteria: dict[str, dict] = {}
    for row in q("explain-criteria", patient=patient):
        code = str(row.code)
        c = criteria.setdefault(
            code,
            {
                "label": str(row.label),
                "state": str(row.stateCode),
                "sentence": _py(row.sentence),
                "needs": None,
                "rule": _py(row.ruleCode),
                "evidence": [],
                "decided_by": [],
                "_assessment": str(row.assessment),
                "_rules": set(),
            },
        )
        if row.ruleCode is not None:
            # a criterion of several rules: all of them for "why not", the first in natural order as its rule
            c["_rules"].add(str(row.ruleCode))
            c["rule"] = min(c["_rules"], key=_natural)
        c["needs"] = "; ".join(sorted(filter(None, {*(c["needs"] or "").split("; "), _py(row.needs)})))
        c["evidence"] = evidence.get(str(row.assessment), [])
        for e in c["evidence"]:
            for j in facts.get(e["record"], {}).get("judgements", []):
                text = _judgement_text(j, facts[e["record"]])
                if text not in c["decided_by"]:
                    c["decided_by"].append(text)

    for row in q("explain-thresholds", patient=patient):
        c = next((c for c in criteria.values() if c.get("_assessment") == str(row.assessment)), None)
        if c is not None:
            text = _threshold_text(row)
            if text not in c["decided_by"]:
                c["decided_by"].append(text)
    counts: dict[str, dict] = {}
    for row in q("explain-counts", patient=patient):
        k = counts.setdefault(str(row.assessment), {"minimum": int(row.minimum.toPython()), "factors": []})
        k["factors"].append((str(row.factorCode), str(row.factorLabel), str(row.factorState)))
    for c in criteria.values():
        k = counts.get(c.get("_assessment") or "")
        if k is not None:
            c["decided_by"].append(_count_text(k))
    for c in criteria.values():
        c.pop("_assessment", None)

    fired, order = _fired(q, patient, evidence)

    rule_states: list[dict] = []
    for row in q("explain-rule-states", patient=patient):
        state = {
            "rule": str(row.code),
            "relation": str(row.relation),
            "criterion": str(row.criterionCode),
            "label": str(row.criterionLabel),
            "needs": _py(row.needs),
        }
        same = next(
            (
                s
                for s in rule_states
                if (s["rule"], s["relation"], s["criterion"]) == (state["rule"], state["relation"], state["criterion"])
            ),
            None,
        )
        if same is None:
            rule_states.append(state)
        elif state["needs"] and state["needs"] not in same["needs"]:
            same["needs"] = "; ".join(sorted({*same["needs"].split("; "), state["needs"]}))
    for code, r in fired.items():
        if r["kind"] == "status" and not r["evidence"]:
            r["evidence"] = [e for c in criteria.values() if c["rule"] == code for e in c["evidence"]]

    missing, missing_records = _missing(q, patient)
    flags = _flags(q, patient)
    diagnoses = [
        {"diagnosis": str(r.label), "iri": str(r["class"]), "rule": str(r.ruleCode)}
        for r in q("explain-diagnoses", patient=patient)
    ]
    unassessed = [str(r.label) for r in q("explain-unassessed-causes", patient=patient)]
    unassessed_contra = [str(r.label) for r in q("explain-unassessed-contraindications", patient=patient)]
    not_fired = _not_fired(q, patient, criteria, rule_states)
    for c in criteria.values():
        c.pop("_rules", None)
    general = sorted(str(r.advice) for r in q("explain-general-advice", patient=patient))

    deciding = sorted((c for c, r in fired.items() if r["decides"]), key=order.__getitem__)
    for r in fired.values():
        r["outranked_by"] = deciding if r["decides"] is False else []
    advice = advice_of([fired[code] for code in sorted(fired, key=order.__getitem__)], general)

    ignored = sorted(
        describe_record(rec, f) for rec, f in facts.items() if f.get("measurement") and f.get("valid") is not True
    )
    # superseded only when a later result of the same kind is the latest (a result no criterion reads has no latest)
    latest_kinds = {f.get("kind") for f in facts.values() if f.get("measurement") and f.get("latest") is True}
    superseded = sorted(
        describe_record(rec, f)
        for rec, f in facts.items()
        if f.get("measurement")
        and f.get("valid") is True
        and f.get("latest") is not True
        and f.get("kind") in latest_kinds
    )
    return {
        **_outcome_fields(out, fired, order),
        "criteria": dict(sorted(criteria.items())),
        "rule_states": rule_states,
        "missing": missing,
        "missing_records": missing_records,
        "flags": flags,
        "diagnoses": diagnoses,
        "advice": advice,
        "general_advice": general,
        "not_fired": not_fired,
        "unassessed_causes": unassessed,
        "unassessed_contraindications": unassessed_contra,
        "ignored_results": ignored,
        "superseded_results": superseded,
    }


def _fired(q, patient: URIRef, evidence: dict) -> tuple[dict[str, dict], dict[str, tuple]]:
    """The rules that fired, with their display order."""
    fired: dict[str, dict] = {}
    order: dict[str, tuple] = {}
    for row in q("explain-fired-rules", patient=patient):
        code = str(row.code)
        # kgr:displayOrder first; rules without one after, by code in natural order (R2 before R10)
        order[code] = (
            row.order is None,
            int(row.order.toPython()) if row.order is not None else 0,
            [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", code)],
        )
        r = fired.setdefault(
            code,
            {
                "id": code,
                "label": str(row.label),
                "kind": "status" if row.isStatusRule.toPython() else "flag",
                "concludes": _py(row.concludes) or _py(row.flag),
                "sentences": [],
                "advice": _py(row.advice),
                "extension": bool(_py(row.extension)),
                "evidence": evidence.get(str(row.rule), []),
                "lists_evidence": bool(_py(row.listsEvidence)),
                "decides": bool(_py(row.decides)) if row.decides is not None else None,
            },
        )
        if row.sentence is not None and str(row.sentence) not in r["sentences"]:
            r["sentences"].append(str(row.sentence))

    return fired, order


def _missing(q, patient: URIRef) -> tuple[list[dict], list[str]]:
    """The criteria still unknown for a partly met rule, with what would decide them; and which of them are
    records the reader could not interpret (their source records)."""
    missing_needs: dict[str, dict] = {}
    records: set[str] = set()
    for r in q("explain-missing", patient=patient):
        m = missing_needs.setdefault(
            str(r.code), {"criterion": str(r.code), "label": str(r.label), "needs": set(), "codes": set()}
        )
        if r.isRecord is not None:
            records.add(str(r.code))
        m["needs"].add(_py(r.needs))
        if r.sourceCode is not None:
            m["codes"].add(str(r.sourceCode))
    missing = [
        {
            "criterion": m["criterion"],
            "label": m["label"],
            "needs": "; ".join(sorted(filter(None, m["needs"])))
            + (f" (codes: {', '.join(sorted(m['codes']))})" if m["codes"] else ""),
        }
        for _, m in sorted(missing_needs.items())
    ]
    return missing, sorted(records)


def _flags(q, patient: URIRef) -> list[dict]:
    return [
        {"flag": str(r.code), "label": str(r.label), "rule": _py(r.ruleCode)}
        for r in q("explain-flags", patient=patient)
    ]


@functools.lru_cache(maxsize=8)
def status_free_rules(kb) -> frozenset[str]:
    """The codes of the rules whose firing does not depend on a status (``queries/status-free-rules.rq``):
    all a patient who could not be assessed is told of her fired rules."""
    return frozenset(str(r.code) for r in run_query("status-free-rules", kb.closure))


def advice_of(fired: list[dict], general: list[str]) -> list[str]:
    """The advice of the fired rules (in display order), then the general advice: a rule's advice unless it
    was outranked (decision-spec section 2: advice follows the decision), with its evidence listed when the
    rule says so (kgr:adviceListsEvidence)."""
    advice: list[str] = []
    for r in fired:
        if not r["advice"] or r.get("outranked_by"):  # advice follows the decision: not an outranked rule's
            continue
        text = r["advice"]
        if r["lists_evidence"] and r["evidence"]:
            text += ": " + ", ".join(sorted({e["fact"].split(":")[0] for e in r["evidence"]})) + "."
        if text not in advice:
            advice.append(text)
    return advice + [g for g in general if g not in advice]


def _outcome_fields(out, fired: dict, order: dict) -> dict:
    """The patient, her status and the rules that fired, in display order."""
    return {
        "patient": _py(out.patientId) if out else None,
        "status": _py(out.statusCode) if out else None,
        "status_label": _py(out.statusLabel) if out else None,
        "gestational_age_weeks": _py(out.gestationalAge) if out else None,
        "fired": [fired[c] for c in sorted(fired, key=order.__getitem__)],
    }


#: the library queries ``explain_summary`` runs (what an engine's session must derive for it)
SUMMARY_QUERIES = frozenset({"explain-outcome", "explain-fired-rules", "explain-missing", "explain-flags"})


def explain_summary(q: Callable, patient: URIRef) -> dict:
    """The fields a summary row needs (status, the rules that fired, missing criteria, flags), and only
    those: four of the explanation's queries (what ``--format csv`` writes). The other fields are empty."""
    out = next(iter(q("explain-outcome", patient=patient)), None)
    fired, order = _fired(q, patient, {})
    missing, missing_records = _missing(q, patient)
    return {
        **_outcome_fields(out, fired, order),
        "criteria": {},
        "rule_states": [],
        "missing": missing,
        "missing_records": missing_records,
        "flags": _flags(q, patient),
        "diagnoses": [],
        "advice": [],
        "general_advice": [],
        "not_fired": [],
        "unassessed_causes": [],
        "unassessed_contraindications": [],
        "ignored_results": [],
        "superseded_results": [],
    }


_BOUND_SIGNS = (
    ("minInclusive", ">=", "<"),
    ("minExclusive", ">", "<="),
    ("maxInclusive", "<=", ">"),
    ("maxExclusive", "<", ">="),
)


def _threshold_text(row) -> str:
    """A threshold stated with its numbers: "32.5 kg/m2 > 30 kg/m2" (met), "28 kg/m2 <= 30 kg/m2" (not met)."""
    unit = f" {row.unit}" if row.unit is not None else ""
    what = str(row.onLabel) if row.onLabel is not None else "value"
    if row.observed is None:
        wanted = " and ".join(
            f"{sign} {_num(row[name].toPython())}{unit}" for name, sign, _ in _BOUND_SIGNS if row[name] is not None
        )
        return f"no comparable {what} (needed: {wanted})"
    v = row.observed.toPython()
    holds = {"minInclusive": v.__ge__, "minExclusive": v.__gt__, "maxInclusive": v.__le__, "maxExclusive": v.__lt__}
    parts = [
        f"{_num(v)}{unit} {sign if holds[name](row[name].toPython()) else neg} {_num(row[name].toPython())}{unit}"
        for name, sign, neg in _BOUND_SIGNS
        if row[name] is not None
    ]
    return f"{what}: " + ", ".join(parts)


def _count_text(k: dict) -> str:
    """A k-of-n criterion with its numbers: "2 of 3 factors met (at least 2 needed): M1 met, ..."."""
    met = sum(1 for _, _, s in k["factors"] if s == "met")
    unknown = sum(1 for _, _, s in k["factors"] if s == "unknown")
    states = ", ".join(f"{code} ({label}) {state}" for code, label, state in k["factors"])
    return f"{met} of {len(k['factors'])} factors met, {unknown} unknown (at least {k['minimum']} needed): {states}"


def _natural(code: str) -> list:
    """R2 before R10: a code's digits compared as numbers."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", code)]


def _not_fired(q, patient: URIRef, criteria: dict, rule_states: list) -> list[dict]:
    """Why each rule that did not fire did not: its criteria, the evidence it reads, or the status."""
    out: dict[str, dict] = {}
    for row in q("explain-rules-not-fired", patient=patient):
        code = str(row.code)
        r = out.setdefault(
            code,
            {
                "rule": code,
                "label": str(row.label),
                "kind": "status" if row.isStatusRule.toPython() else "flag",
                "concludes": _py(row.concludes),
                "reasons": [],
                "_order": int(row.order.toPython()) if row.order is not None else 10**6,
            },
        )
        reasons = r["reasons"]
        if str(row.kind) == "criteria":
            states = [f"{c} ({v['label']}) {v['state']}" for c, v in criteria.items() if code in v["_rules"]]
            text = "criteria: " + ", ".join(states) if states else "its criteria are not all met"
        elif str(row.kind) == "status-dependent":
            text = f"its condition on the final status ({_py(row.statusLabel) or 'none'}) does not hold"
        elif row.propertyLabel is not None:
            text = f"{row.propertyLabel}: {row.valueLabel if row.valueLabel is not None else 'not recorded'}"
        elif row.evidenceLabel is not None:
            recorded = row.evidenceRecorded is not None and row.evidenceRecorded.toPython()
            text = (
                f"a record of {row.evidenceLabel} exists, but the rule's class was not inferred"
                if recorded
                else f"no record of: {row.evidenceLabel}"
            )
        else:
            text = "the patient is not of the class the rule applies to"
        if text not in reasons:
            reasons.append(text)
    for s in rule_states:
        r = out.get(s["rule"])
        if r is not None and s["relation"] == "partly_met":
            r["partly_met"] = True
    rows = sorted(out.values(), key=lambda r: (r.pop("_order"), r["rule"]))
    for r in rows:
        r.setdefault("partly_met", False)
        r["reason"] = "; ".join(sorted(r.pop("reasons")))
    return rows
