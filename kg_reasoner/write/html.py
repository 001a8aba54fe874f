"""Rich display for Jupyter: an Assessment as a readable HTML card, a cohort as a summary table.

Everything shown comes from the Assessment's fields (themselves the answers of the explanation
queries); this module only lays them out. All text is HTML-escaped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from kg_reasoner.cohort.result import CohortResult
    from kg_reasoner.explain.assessment import Assessment


#: One badge colour for every status: which statuses exist is the guidance's business (the
#: ontology), not this module's; the status text says which one it is.
_STATUS_COLOUR = "#1f4e79"


_STATE_COLOURS = {"met": "#1b7f3b", "not_met": "#b3261e", "unknown": "#6d5e00"}


_CSS = (
    "font-family:system-ui,-apple-system,'Segoe UI',sans-serif;font-size:13px;line-height:1.45;"
    "border:1px solid #ccc;border-radius:6px;padding:10px 14px;max-width:60em"
)


def _badge(text: str, colour: str) -> str:
    return (
        f'<span style="background:{colour};color:#fff;border-radius:3px;padding:1px 6px;'
        f'font-weight:600">{escape(text)}</span>'
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


def assessment_html(a: Assessment) -> str:
    """The card: status, fired rules with their guidance sentences and evidence, criteria with
    evidence and how they were judged, missing data, flags, advice, unassessed causes, data problems."""
    head = f"Patient {escape(a.patient)}"
    if a.source:
        head += f" <span style='color:#666'>({escape(a.source)})</span>"
    if a.assessed:
        label = f" ({a.status_label})" if a.status_label and a.status_label != a.status else ""
        status = _badge(a.status + label, _STATUS_COLOUR)
    else:
        status = _badge("NOT ASSESSED", "#000") + " the data cannot be assessed safely; no rule was applied."
    parts = [
        f"<div class='kg-reasoner-assessment' style=\"{_CSS}\">",
        f"<div style='font-size:15px'>{head} &nbsp; {status}</div>",
    ]

    rules = []
    for r in a.fired_rules:
        what = (
            f"status <b>{escape(r['concludes'])}</b>"
            if r["kind"] == "status"
            else f"flag <b>{escape(r['concludes'])}</b>"
        )
        ext = " <i>(extension of the guidance, safety-first)</i>" if r.get("extension") else ""
        if r.get("outranked_by"):
            ext += f" <i>(outranked by {escape(', '.join(r['outranked_by']))}: its advice is not given)</i>"
        elif r.get("decides"):
            ext += " <b>(decides the status)</b>"
        quotes = "".join(
            f"<blockquote style='margin:2px 0 2px 1em;color:#333;border-left:3px solid #bbb;"
            f"padding-left:6px'>“{escape(s)}”</blockquote>"
            for s in r["sentences"]
        )
        evidence = _list(escape(e["fact"]) for e in r["evidence"])
        rules.append(f"<b>{escape(r['id'])}</b> {escape(r['label'])} → {what}{ext}{quotes}{evidence}")
    parts.append(_section("Rules fired", _list(rules)))

    if a.diagnosis:
        parts.append(
            _section("Diagnosis", _list(f"{escape(d['diagnosis'])} (rule {escape(d['rule'])})" for d in a.diagnosis))
        )
    if a.criteria:
        rows = []
        for code, c in a.criteria.items():
            facts = "<br>".join(escape(e["fact"]) for e in c["evidence"])
            judged = "<br>".join("judged: " + escape(d) for d in c["decided_by"])
            detail = "<br>".join(x for x in (facts, judged) if x) or "<span style='color:#888'>no data</span>"
            rows.append(
                f"<tr><td><b>{escape(code)}</b></td><td>{escape(c['label'])}</td><td>{escape(c['rule'])}</td>"
                f"<td>{_badge(c['state'], _STATE_COLOURS.get(c['state'], '#555'))}</td><td>{detail}</td></tr>"
            )
        table = (
            "<table style='border-collapse:collapse;margin-top:2px'><tr style='text-align:left'><th>criterion</th>"
            "<th></th><th>rule</th><th>state</th><th>evidence</th></tr>" + "".join(rows) + "</table>"
        )
        parts.append(_section("Criteria", table))
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
            "Rules partly met or not applicable",
            _list(
                (
                    f"{escape(s['rule'])} is partly met: {escape(s['criterion'])} ({escape(s['label'])}) is unknown"
                    if s["relation"] == "partly_met"
                    else f"{escape(s['rule'])} does not apply: {escape(s['criterion'])} ({escape(s['label'])}) is not met"
                )
                for s in a.rule_states
            ),
        )
    )
    parts.append(
        _section(
            "Flags",
            _list(
                f"{_badge(f['flag'], '#7b1fa2')} {escape(f.get('label') or '')}"
                + (f" (rule {escape(f['rule'])})" if f.get("rule") else "")
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
                f"<b>{escape(p['severity'])}</b> {escape(p.get('record') or '')}"
                + (f" field {escape(p['field'])}" if p.get("field") else "")
                + f": {escape(p['message'])}"
                for p in a.data_problems
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

    def counts(c: Counter) -> str:
        return ", ".join(f"{escape(k)}: {v}" for k, v in sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))) or "none"

    rows = "".join(
        f"<tr><td>{escape(a.patient)}</td><td>{_badge(a.status or 'not assessed', _STATUS_COLOUR if a.status else '#000')}"
        f"</td><td>{escape(' '.join(a.rules))}</td><td>{escape(' '.join(a.missing))}</td><td>{escape(' '.join(a.flags))}</td></tr>"
        for a in assessments[:limit]
    )
    more = f"<p>… and {len(assessments) - limit} more patients.</p>" if len(assessments) > limit else ""
    err = _section(f"{len(errors)} input error(s)", _list(escape(str(e)) for e in errors[:limit])) if errors else ""
    return (
        f"<div class='kg-reasoner-cohort' style=\"{_CSS}\"><b>{len(assessments)} patients assessed</b>"
        f"<div>status: {counts(statuses)}</div><div>rules fired: {counts(rules)}</div>"
        f"<div>flags: {counts(flags)}</div>{err}"
        "<table style='border-collapse:collapse;margin-top:6px'><tr style='text-align:left'><th>patient</th>"
        f"<th>status</th><th>rules</th><th>missing</th><th>flags</th></tr>{rows}</table>{more}</div>"
    )
