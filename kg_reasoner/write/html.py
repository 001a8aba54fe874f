"""Rich display for Jupyter: an Assessment as a readable HTML card, a cohort as a summary table.

Everything shown comes from the Assessment's fields (themselves the answers of the explanation
queries) and, for names, colours and the statuses' precedence, from the ontology (``write.legend``);
this module only lays them out. The card is self-contained (inline styles only: no script, no font, no
image, nothing fetched) and every text in it is HTML-escaped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from html import escape
from typing import TYPE_CHECKING

from kg_reasoner.explain.problems import grouped_problems, records_text
from kg_reasoner.write.legend import (
    FLAG_COLOUR,
    NOT_ASSESSED,
    STATE_COLOURS,
    Legend,
    decision_summary,
    legend,
    rule_names,
)

if TYPE_CHECKING:  # pragma: no cover
    from kg_reasoner.cohort.result import CohortResult
    from kg_reasoner.explain.assessment import Assessment


_CSS = (
    "font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:13px;line-height:1.45;"
    "border:1px solid #ccc;border-radius:6px;padding:10px 14px;max-width:60em"
)

_MUTED = "#6b6b6b"


def _badge(text: str, colour: str, title: str = "") -> str:
    tip = f' title="{escape(title)}"' if title else ""
    return (
        f'<span style="background:{colour};color:#fff;border-radius:3px;padding:1px 6px;'
        f'font-weight:600;white-space:nowrap"{tip}>{escape(text)}</span>'
    )


def _list(items: Iterable[str]) -> str:
    items = list(items)
    return (
        "<ul style='margin:2px 0 6px 1.2em;padding:0'>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"
        if items
        else ""
    )


def _section(title: str, body: str) -> str:
    return f"<div style='margin-top:8px'><b>{escape(title)}</b>{body}</div>" if body else ""


def _rule(L: Legend, code: str, fired: dict) -> str:
    """A rule's code in bold and its label: readable without knowing the codes."""
    label = L.rule_label(code) or fired.get(code, {}).get("label", "")
    return f"<b>{escape(code)}</b> {escape(label)}".rstrip()


def _status(L: Legend, code: str | None) -> str:
    """A status by its label, with its code when they differ: "not indicated (not_indicated)"."""
    label = L.status_label(code)
    return label if not code or label == code else f"{label} ({code})"


def _criteria_table(a: Assessment, L: Legend, codes: list[str]) -> str:
    rows = []
    for code in codes:
        c = a.criteria[code]
        facts = "<br>".join(escape(e["fact"]) for e in c["evidence"])
        judged = "<br>".join("judged: " + escape(d) for d in c["decided_by"])
        needs = (
            f"<span style='color:{STATE_COLOURS['unknown']}'>no record (unknown is not absent); needed: "
            f"{escape(c['needs'])}</span>"
            if c["state"] == "unknown" and not c["evidence"] and c.get("needs")
            else ""
        )
        detail = "<br>".join(x for x in (facts, judged, needs) if x) or "<span style='color:#888'>no data</span>"
        colour = STATE_COLOURS.get(c["state"], "#555")
        rows.append(
            f"<tr style='vertical-align:top'><td style='padding-right:8px'><b>{escape(code)}</b> "
            f"{escape(c['label'])}</td><td style='padding-right:8px'>"
            f"{_badge(L.state_label(c['state']), colour, c['state'])}</td><td>{detail}</td></tr>"
        )
    return (
        "<table style='border-collapse:collapse;margin:2px 0 4px 0;font-size:inherit'><tr style='text-align:left'>"
        "<th>criterion</th><th>state</th><th>evidence</th></tr>" + "".join(rows) + "</table>"
    )


def assessment_html(a: Assessment, legend_: Legend | None = None) -> str:
    """The card: the status (coloured by its kind) and who decided it, the statuses in precedence order,
    the rules that fired (the deciding one marked, outranked ones marked with what outranked them) with
    their guidance sentences, evidence and criteria, the rules that did not fire with their criteria's
    states, missing data, flags, advice, unassessed causes and data problems."""
    L = legend_ if legend_ is not None else legend(a)
    head = f"Patient {escape(a.patient)}"
    if a.source:
        head += f" <span style='color:#666'>({escape(a.source)})</span>"
    if a.as_of is not None:
        head += f" <span style='color:#666'>as of {escape(a.as_of)}</span>"
    if a.assessed:
        status = _badge(_status(L, a.status), L.status_colour(a.status))
    else:
        status = _badge("NOT ASSESSED", NOT_ASSESSED) + " the data cannot be assessed safely; no rule was applied."
    parts = [
        f"<div class='kg-reasoner-assessment' style=\"{_CSS}\">",
        f"<div style='font-size:15px'>{head} &nbsp; {status}</div>",
    ]
    if a.assessed:
        parts.append(f"<div class='kg-reasoner-decision'>{escape(decision_summary(a, L))}.</div>")
        if L.statuses:
            ladder = " &gt; ".join(
                (
                    f"<b style='color:{s.colour}'>{escape(s.label)}</b>"
                    if s.code == a.status
                    else f"<span style='color:{s.colour}'>{escape(s.label)}</span>"
                )
                + (" (default)" if s.default else "")
                for s in L.statuses
            )
            parts.append(f"<div style='color:{_MUTED};font-size:12px'>statuses by precedence: {ladder}</div>")

    fired = {r["id"]: r for r in a.fired_rules}
    criteria_of: dict[str, list[str]] = {}
    for code, c in a.criteria.items():
        criteria_of.setdefault(c.get("rule") or "", []).append(code)

    rules = []
    for r in a.fired_rules:
        if r["kind"] == "status":
            what = f"status <b>{escape(_status(L, r['concludes']))}</b>"
        else:
            flag = next((f for f in a.flag_details if f["flag"] == r["concludes"]), {})
            label = flag.get("label") or ""
            what = f"flag <b>{escape(r['concludes'])}</b>" + (
                f" ({escape(label)})" if label and label != r["concludes"] else ""
            )
        ext = " <i>(extension of the guidance, safety-first)</i>" if r.get("extension") else ""
        style = ""
        if r.get("outranked_by"):
            ext += f" <i>(outranked by {escape(rule_names(L, r['outranked_by'], fired))}: its advice is not given)</i>"
            style = f" style='color:{_MUTED}'"
        elif r.get("decides"):
            ext += " " + _badge("decides the status", L.status_colour(a.status))
        quotes = "".join(
            f"<blockquote style='margin:2px 0 2px 1em;color:#333;border-left:3px solid #bbb;"
            f"padding-left:6px'>“{escape(s)}”</blockquote>"
            for s in r["sentences"]
        )
        own = criteria_of.get(r["id"], [])
        evidence = _criteria_table(a, L, own) if own else _list(escape(e["fact"]) for e in r["evidence"])
        rules.append(f"<span{style}>{_rule(L, r['id'], fired)} → {what}{ext}</span>{quotes}{evidence}")
    parts.append(_section("Rules fired", _list(rules)))

    if a.diagnosis:
        parts.append(
            _section(
                "Diagnosis",
                _list(f"{escape(d['diagnosis'])} (rule {_rule(L, d['rule'], fired)})" for d in a.diagnosis),
            )
        )

    states: dict[str, list[dict]] = {}
    for s in a.rule_states:
        states.setdefault(s["rule"], []).append(s)
    quiet = sorted(
        (c for c in set(criteria_of) | set(states) if c and c not in fired),
        key=L.rule_key,
    )
    not_fired = []
    for code in quiet:
        said = []
        term = L.rules.get(code)
        for relation, state, verb in (
            ("not_applicable", "not_met", "does not apply"),
            ("partly_met", "unknown", "is partly met"),
        ):
            which = [s for s in states.get(code, []) if s["relation"] == relation]
            if which:
                said.append(
                    f"{verb}: "
                    + ", ".join(f"<b>{escape(s['criterion'])}</b> ({escape(s['label'])})" for s in which)
                    + f" {escape(L.state_label(state))}"
                )
                if relation == "partly_met" and term and term.partial:
                    said[-1] += f" → {escape(_status(L, term.partial))}"
                    if term.partial != a.status:
                        said[-1] += ", outranked"
        if not said:
            said.append("did not fire: its criteria are not all met")
        if term and term.concludes:
            said.append(f"if it fired: {escape(_status(L, term.concludes))}")
        table = _criteria_table(a, L, criteria_of[code]) if criteria_of.get(code) else ""
        not_fired.append(f"{_rule(L, code, fired)} " + "; ".join(said) + f".{table}")
    others = [
        c
        for c, t in sorted(L.rules.items(), key=lambda kv: L.rule_key(kv[0]))
        if t.status_rule and c not in fired and c not in quiet
    ]
    if others and a.assessed:
        not_fired.append(
            "Other status rules, not fired (nothing in the record matches them): "
            + ", ".join(_rule(L, c, fired) for c in others)
        )
    parts.append(_section("Rules that did not fire", _list(not_fired)))

    parts.append(
        _section(
            "Missing data (unknown is not absent)",
            _list(
                f"<b>{escape(m['criterion'])}</b> ({escape(m['label'])}): {escape(m['needs'])}"
                for m in a.missing_details
            ),
        )
    )
    parts.append(
        _section(
            "Flags",
            _list(
                f"{_badge(f['flag'], FLAG_COLOUR)} {escape(f.get('label') or '')}"
                + (f" (rule {_rule(L, f['rule'], fired)})" if f.get("rule") else "")
                for f in a.flag_details
            ),
        )
    )
    parts.append(_section("Advice", _list(escape(x) for x in a.advice)))
    if a.unassessed_causes:
        parts.append(
            _section(
                "Not assessed (treated as not identified, not as absent)", _list(escape(c) for c in a.unassessed_causes)
            )
        )
    parts.append(
        _section(
            "Data problems",
            _list(
                f"<b>{escape(p['severity'])}</b> {escape(records_text(records))}"
                + (f" field {escape(p['field'])}" if p.get("field") else "")
                + f": {escape(p['message'])}"
                for p, records in grouped_problems(a.data_problems)
            ),
        )
    )
    parts.append("</div>")
    return "".join(parts)


def cohort_html(cohort: CohortResult, limit: int = 20) -> str:
    """A cohort: counts by status, status-rule firings and flags, then the first ``limit`` patients."""
    assessments, errors = cohort.assessments, cohort.errors
    statuses, flags = cohort.status_counts(), cohort.flag_counts()
    rules = Counter(r for a in assessments for r in a.rules)
    L = legend(assessments[0]) if assessments else Legend()  # one guidance for the whole cohort

    def counts(c: Counter) -> str:
        return ", ".join(f"{escape(k)}: {v}" for k, v in sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))) or "none"

    rows = "".join(
        f"<tr><td>{escape(a.patient)}</td><td>"
        f"{_badge(L.status_label(a.status) if a.status else 'not assessed', L.status_colour(a.status), a.status or '')}"
        f"</td><td>{escape(' '.join(a.rules))}</td><td>{escape(' '.join(a.missing))}</td><td>{escape(' '.join(a.flags))}</td></tr>"
        for a in assessments[:limit]
    )
    more = f"<p>… and {len(assessments) - limit} more patients.</p>" if len(assessments) > limit else ""
    err = _section(f"{len(errors)} input error(s)", _list(escape(str(e)) for e in errors[:limit])) if errors else ""
    return (
        f"<div class='kg-reasoner-cohort' style=\"{_CSS}\"><b>{len(assessments)} patients assessed</b>"
        f"<div>status: {counts(statuses)}</div><div>rules fired: {counts(rules)}</div>"
        f"<div>flags: {counts(flags)}</div>{err}"
        "<table style='border-collapse:collapse;margin-top:6px;font-size:inherit'><tr style='text-align:left'><th>patient</th>"
        f"<th>status</th><th>rules</th><th>missing</th><th>flags</th></tr>{rows}</table>{more}</div>"
    )
