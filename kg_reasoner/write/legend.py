"""What the card and the pictures call things, and their colours: the guidance's statuses in precedence
order, each coloured by its kind (advising against the treatment, supporting it, neither, the default),
the rules' labels and what each concludes, and the labels of the criterion states; and the one sentence
both say about who decided the status.

All of it is read from the ontology by ``queries/display-*.rq``, run on the assessment's full graph
(ontology + her graphs): no status, rule or criterion is named here, so another guidance is drawn with
its own statuses, precedence and labels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kg_reasoner.explain.queries import run_query

if TYPE_CHECKING:  # pragma: no cover
    from kg_reasoner.explain.assessment import Assessment


#: Badge colours by the kind of status (the ontology's kgr:StatusAdvisingAgainst,
#: kgr:StatusSupportingTreatment, neither, or the default status), the first for the status of highest
#: precedence of that kind. White text is readable on each.
PALETTES = {
    "against": ("#b71c1c", "#c43e00", "#880e4f", "#6d2c00"),
    "supporting": ("#2e7d32", "#33691e", "#00695c"),
    "neither": ("#8f6200", "#6a4c93", "#4e5d00"),
    "default": ("#546e7a",),
}

#: A status that is not in the ontology (or an assessment without one): neutral.
NEUTRAL = "#37474f"

#: Not assessed (fail closed): no status at all.
NOT_ASSESSED = "#000000"

#: Criterion states by their kgr:code (the core's three-valued logic: met, not met, unknown).
STATE_COLOURS = {"met": "#1b7f3b", "not_met": "#b3261e", "unknown": "#8f6200"}

#: The colour of a flag.
FLAG_COLOUR = "#7b1fa2"


def tint(colour: str, amount: float = 0.85) -> str:
    """``colour`` mixed with white (``amount`` of white): a fill that dark text stays readable on."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{round(c + (255 - c) * amount):02x}" for c in (r, g, b))


@dataclass(frozen=True)
class StatusTerm:
    code: str
    label: str
    precedence: int
    default: bool
    kind: str  # "against", "supporting", "neither" or "default"
    colour: str


@dataclass(frozen=True)
class RuleTerm:
    code: str
    label: str
    order: int | None
    status_rule: bool
    concludes: str | None
    partial: str | None
    withholds: tuple[str, ...]
    flag: str | None


@dataclass(frozen=True)
class Legend:
    """The guidance's statuses (highest precedence first), rules and criterion states."""

    statuses: tuple[StatusTerm, ...] = ()
    rules: dict[str, RuleTerm] = field(default_factory=dict)
    states: dict[str, str] = field(default_factory=dict)  # code -> label

    def status(self, code: str | None) -> StatusTerm | None:
        return next((s for s in self.statuses if s.code == code), None)

    def status_label(self, code: str | None) -> str:
        s = self.status(code)
        return s.label if s else (code or "not assessed")

    def status_colour(self, code: str | None) -> str:
        if code is None:
            return NOT_ASSESSED
        s = self.status(code)
        return s.colour if s else NEUTRAL

    @property
    def default_status(self) -> StatusTerm | None:
        return next((s for s in self.statuses if s.default), None)

    def rule_label(self, code: str) -> str:
        r = self.rules.get(code)
        return r.label if r else ""

    def rule_name(self, code: str) -> str:
        """The rule's code and label: "R1 luteal insufficiency" (the code alone if it has no label)."""
        return f"{code} {self.rule_label(code)}".strip()

    def rule_key(self, code: str) -> tuple:
        """Where a rule is listed: its kgr:displayOrder, then rules without one by code in natural order."""
        r = self.rules.get(code)
        order = r.order if r else None
        return (order is None, order or 0, [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", code)])

    def state_label(self, code: str) -> str:
        return self.states.get(code, code)


def rule_names(L: Legend, codes, fired: dict) -> str:
    """Rules by code and label ("R1 luteal insufficiency, R3 ..."); the label of a fired rule when the legend
    has none."""
    return ", ".join(
        L.rule_name(c) if L.rule_label(c) else f"{c} {fired.get(c, {}).get('label', '')}".strip() for c in codes
    )


def decision_summary(a: Assessment, L: Legend) -> str:
    """One sentence: who decided the status (a rule, a partly met rule, or the default: no status rule fired)."""
    if not a.assessed:
        return "not assessed: the data cannot be assessed safely, so no rule was applied"
    fired = {r["id"]: r for r in a.fired_rules}
    if a.decided_by:
        return f"{L.status_label(a.status)}, decided by {rule_names(L, a.decided_by, fired)}"
    partly = partly_met_deciding(a, L)
    if partly:
        return f"{L.status_label(a.status)}: {rule_names(L, partly, fired)} partly met (data missing)"
    default = L.default_status
    if default is not None and default.code == a.status:
        return f"{L.status_label(a.status)}: no status rule fired, so the default status"
    return L.status_label(a.status)


def partly_met_deciding(a: Assessment, L: Legend) -> list[str]:
    """The partly met rules whose partial status (kgr:partialStatus) is the status reached."""
    rules = dict.fromkeys(s["rule"] for s in a.rule_states if s["relation"] == "partly_met")
    return [r for r in rules if L.rules.get(r) and L.rules[r].partial == a.status]


def _text(term) -> str:
    return "" if term is None else str(term)


def read_legend(graph) -> Legend:
    """The legend of the guidance whose ontology ``graph`` holds."""
    rows = list(run_query("display-statuses", graph))
    seen: dict[str, dict] = {}
    for r in rows:  # one row per (status, label): the first of each status
        seen.setdefault(
            str(r.code),
            {
                "code": str(r.code),
                "label": _text(r.label) or str(r.code),
                "precedence": int(r.precedence.toPython()),
                "default": bool(r.isDefault is not None and r.isDefault.toPython()),
                "against": bool(r.advisesAgainst.toPython()),
                "supporting": bool(r.supportsTreatment.toPython()),
            },
        )
    statuses, used = [], {kind: 0 for kind in PALETTES}
    for s in sorted(seen.values(), key=lambda s: (-s["precedence"], s["code"])):
        kind = (
            "against" if s["against"] else "supporting" if s["supporting"] else "default" if s["default"] else "neither"
        )
        palette = PALETTES[kind]
        colour = palette[min(used[kind], len(palette) - 1)]
        used[kind] += 1
        statuses.append(StatusTerm(s["code"], s["label"], s["precedence"], s["default"], kind, colour))
    rules: dict[str, dict] = {}
    for r in run_query("display-rules", graph):
        code = str(r.code)
        d = rules.setdefault(
            code,
            {
                "code": code,
                "label": _text(r.label),
                "order": int(r.order.toPython()) if r.order is not None else None,
                "status_rule": bool(r.isStatusRule.toPython()),
                "concludes": _text(r.concludes) or None,
                "partial": _text(r.partial) or None,
                "withholds": (),
                "flag": _text(r.flag) or None,
            },
        )
        if r.withholds is not None and str(r.withholds) not in d["withholds"]:
            d["withholds"] += (str(r.withholds),)
    states: dict[str, str] = {}
    for r in run_query("display-criterion-states", graph):
        states.setdefault(str(r.code), _text(r.label) or str(r.code))
    return Legend(tuple(statuses), {c: RuleTerm(**d) for c, d in rules.items()}, states)


def legend(a: Assessment) -> Legend:
    """The legend of the guidance ``a`` was assessed against, from her full graph (which holds the
    ontology); an Assessment built without graphs gets an empty legend (codes stand for labels)."""
    if a.graph_source is None:
        return Legend()
    return read_legend(a.full_graph)
