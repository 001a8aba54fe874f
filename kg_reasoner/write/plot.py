"""Pictures for notebooks (the ``notebooks`` extra: matplotlib).

``derivation(a)`` lays out how one assessment was reached, left to right: the patient's facts (with
their source record), the criteria they decided, the rules (with the guidance sentence they cite),
and the status and flags. ``plot_derivation(a)`` draws it. Every node and edge comes from the
Assessment's explanation, which the SPARQL queries of ``queries/`` produced; nothing is re-derived here.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from kg_reasoner.explain.assessment import Assessment


#: the four columns of the picture
LAYERS = ("facts", "criteria", "rules", "outcome")


_COLOURS = {
    "met": "#c8e6c9",
    "not_met": "#ffcdd2",
    "unknown": "#fff3c4",
    "fact": "#e3f2fd",
    "rule": "#ede7f6",
    "partly_met": "#fff3c4",
    "status": "#b2dfdb",
    "flag": "#f8bbd0",
}


@dataclass
class Derivation:
    """Nodes (id -> layer, title, text, style) and edges (from, to, style) of one assessment."""

    nodes: dict[str, dict] = field(default_factory=dict)
    edges: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, node_id: str, layer: str, title: str, text: str = "", style: str = "fact") -> str:
        self.nodes.setdefault(node_id, {"layer": layer, "title": title, "text": text, "style": style})
        return node_id

    def link(self, a: str, b: str, style: str = "solid") -> None:
        if (a, b, style) not in self.edges:
            self.edges.append((a, b, style))


def _short(sentence: str, limit: int = 160) -> str:
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rsplit(" ", 1)[0] + " …"


def derivation(a: Assessment) -> Derivation:
    """The derivation of ``a``: facts -> criteria -> rules -> status and flags, plus the rules that
    are partly met (dashed: an unknown criterion stops them) with what is missing."""
    d = Derivation()
    out_status = d.add("status", "outcome", f"status: {a.status or 'not assessed'}", style="status")

    def fact(e: dict) -> str:
        title, _, source = e["fact"].partition(" [source: ")
        return d.add(f"fact:{e['record']}", "facts", title, source.rstrip("]"), "fact")

    rules_of_criteria: dict[str, str] = {}
    for code, c in a.criteria.items():
        node = d.add(
            f"criterion:{code}",
            "criteria",
            f"{code} {c['label']}: {c['state']}",
            "" if c["state"] != "unknown" else f"needs: {c.get('needs') or ''}",
            c["state"],
        )
        rules_of_criteria[code] = c["rule"]
        for e in c["evidence"]:
            d.link(fact(e), node)
    for r in a.fired_rules:
        rule = d.add(
            f"rule:{r['id']}",
            "rules",
            f"{r['id']} {r['label']}",
            "“" + _short(r["sentences"][0]) + "”" if r["sentences"] else "",
            "rule",
        )
        own = [c for c, rid in rules_of_criteria.items() if rid == r["id"]]
        for c in own:
            d.link(f"criterion:{c}", rule)
        if not own:
            for e in r["evidence"]:
                d.link(fact(e), rule)
        if r["kind"] == "status":
            if r["concludes"] == a.status:
                d.link(rule, out_status)
            else:
                d.link(
                    rule,
                    d.add(
                        f"status:{r['concludes']}",
                        "outcome",
                        f"proposed: {r['concludes']}",
                        "outranked by the status's precedence",
                        "status",
                    ),
                    "dotted",
                )
        else:
            d.link(rule, d.add(f"flag:{r['concludes']}", "outcome", f"flag: {r['concludes']}", "", "flag"))
    for s in a.rule_states:
        if s["relation"] != "partly_met":
            continue
        rule = d.add(
            f"rule:{s['rule']}",
            "rules",
            f"{s['rule']} partly met",
            f"unknown: {s['criterion']} {s['label']}",
            "partly_met",
        )
        for code, rid in rules_of_criteria.items():
            if rid == s["rule"]:
                d.link(f"criterion:{code}", rule, "dashed")
        d.link(rule, out_status, "dashed")
    return d


def plot_derivation(a: Assessment, ax=None, width: float = 15.0):
    """Draw the derivation of ``a`` with matplotlib and return the Axes. Solid arrows: what decided
    the outcome; dashed: a partly met rule (its unknown criterion is the missing data); dotted: a
    status that a higher-precedence status outranked."""
    try:
        import matplotlib.pyplot as plt
        from matplotlib.patches import FancyBboxPatch
    except ImportError:
        raise ImportError("pictures need matplotlib: pip install 'kg-reasoner[notebooks]'") from None
    d = derivation(a)
    columns = {layer: [n for n, v in d.nodes.items() if v["layer"] == layer] for layer in LAYERS}
    rows = max(1, max(len(v) for v in columns.values()))
    if ax is None:
        _, ax = plt.subplots(figsize=(width, max(3.0, 1.35 * rows + 1)))
    xs = {layer: i * 1.0 for i, layer in enumerate(LAYERS)}
    box_w, pos = 0.86, {}
    for layer, nodes in columns.items():
        for i, n in enumerate(nodes):
            pos[n] = (xs[layer], rows - (i + 0.5) * rows / len(nodes))
    for a_, b_, style in d.edges:
        (x1, y1), (x2, y2) = pos[a_], pos[b_]
        ax.annotate(
            "",
            xy=(x2 - box_w / 2, y2),
            xytext=(x1 + box_w / 2, y1),
            arrowprops=dict(
                arrowstyle="-|>",
                color="#555",
                lw=1.2,
                linestyle={"solid": "-", "dashed": "--", "dotted": ":"}[style],
                shrinkA=2,
                shrinkB=2,
            ),
        )
    for n, v in d.nodes.items():
        x, y = pos[n]
        title = "\n".join(textwrap.wrap(v["title"], 30))
        text = "\n".join(textwrap.wrap(v["text"], 44)[:6])
        h = 0.17 + 0.085 * (title.count("\n") + 1) + 0.07 * (text.count("\n") + 1 if text else 0)
        ax.add_patch(
            FancyBboxPatch(
                (x - box_w / 2, y - h / 2),
                box_w,
                h,
                boxstyle="round,pad=0.02",
                fc=_COLOURS.get(v["style"], "#eee"),
                ec="#666",
                lw=0.8,
            )
        )
        ax.text(
            x,
            y + (0.035 * (text.count("\n") + 1) if text else 0),
            title,
            ha="center",
            va="center",
            fontsize=8.5,
            weight="bold",
        )
        if text:
            ax.text(
                x,
                y - 0.045 * (title.count("\n") + 1),
                text,
                ha="center",
                va="top",
                fontsize=6.5,
                style="italic" if v["style"] == "rule" else "normal",
            )
    for layer, x in xs.items():
        ax.text(x, rows + 0.25, layer, ha="center", fontsize=10, color="#333")
    ax.set_xlim(-0.55, len(LAYERS) - 0.45)
    ax.set_ylim(-0.3, rows + 0.5)
    ax.axis("off")
    ax.set_title(f"How patient {a.patient} was assessed", fontsize=12)
    return ax
