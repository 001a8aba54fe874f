"""Pictures for notebooks (the ``notebooks`` extra: matplotlib).

``derivation(a)`` lays out how one assessment was reached, left to right, one band per rule of the
guidance the explanation mentions: the patient's facts (with their source record), the criteria they
decided (met / not met / unknown), the rule (fired, outranked, partly met or not applicable, with the
guidance sentence it cites), and, in the last column, every status of the guidance in precedence order
(the one reached coloured by its kind and marked, with who decided it: a rule, a partly met rule, or the
default when no status rule fired) and the flags. ``plot_derivation(a)`` draws it.

Every node and edge comes from the Assessment's explanation (the SPARQL queries of ``queries/``); the
names, the statuses and their precedence from the ontology (``write.legend``). Nothing is re-derived.
Every box is sized to its text as the renderer measures it, so no text leaves its box and no two texts
overlap.
"""

from __future__ import annotations

import textwrap
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kg_reasoner.write.legend import (
    FLAG_COLOUR,
    NOT_ASSESSED,
    STATE_COLOURS,
    Legend,
    decision_summary,
    legend,
    partly_met_deciding,
    rule_names,
    tint,
)

if TYPE_CHECKING:  # pragma: no cover
    from kg_reasoner.explain.assessment import Assessment


#: the four columns of the picture
LAYERS = ("facts", "criteria", "rules", "outcome")

#: what each column shows (its heading)
HEADINGS = {
    "facts": "facts (source record)",
    "criteria": "criteria: met / not met / unknown",
    "rules": "rules of the guidance",
    "outcome": "statuses, highest precedence first",
}

_GREY = "#616161"
_LINESTYLES = {"solid": "-", "dashed": "--", "dotted": ":", "dashdot": "-."}
_FACT = ("#e3f2fd", "#78909c")
_RULE = ("#ede7f6", "#5e35b1")
_MUTED = ("#f5f5f5", "#9e9e9e")

#: column widths, gaps and paddings in points at scale 1
_COLUMN_WIDTH = {"facts": 190.0, "criteria": 190.0, "rules": 215.0, "outcome": 180.0}
_GAP, _PAD, _LINE, _STACK, _BAND_GAP, _BAND_PAD, _MARGIN = 46.0, 5.0, 2.0, 7.0, 16.0, 6.0, 10.0
#: font sizes in points at scale 1: a box's title, its tag line, its text; headings, picture title
_FONT = {"title": 8.5, "tag": 7.8, "text": 7.3, "heading": 9.0, "caption": 11.5, "summary": 8.5, "footer": 7.3}


@dataclass
class Node:
    """One box: a bold ``title``, an emphasised ``tag`` line in ``tag_colour`` and a ``text``."""

    id: str
    layer: str
    title: str
    tag: str = ""
    text: str = ""
    band: int | None = None  # the rule band (facts, criteria and rules columns); None in the outcome column
    row: int = 0  # the criterion row of the band a fact or criterion belongs to
    fill: str = "#ffffff"
    edge: str = _GREY
    tag_colour: str = _GREY
    title_colour: str = "#212121"
    text_colour: str = "#212121"
    border: str = "solid"  # solid, dashed, dotted
    strong: bool = False  # a thick border: the rule that decided the status, the status reached
    italic: bool = False


@dataclass
class Edge:
    source: str
    target: str
    #: solid: supports the conclusion; dashed: unknown / partly met; dotted: outranked; dashdot: did not fire,
    #: so the default status
    style: str = "solid"
    colour: str = _GREY


@dataclass
class Derivation:
    """The boxes and arrows of one assessment, and what the picture says above and below them."""

    title: str = ""
    status: str | None = None
    status_label: str = ""
    status_colour: str = NOT_ASSESSED
    summary: str = ""
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    bands: list[str] = field(default_factory=list)  # the rule (or group) each band shows, top to bottom

    def add(self, node: Node) -> str:
        self.nodes.setdefault(node.id, node)
        return node.id

    def link(self, source: str, target: str, style: str = "solid", colour: str = _GREY) -> None:
        if not any((e.source, e.target) == (source, target) for e in self.edges):
            self.edges.append(Edge(source, target, style, colour))


def _short(sentence: str, limit: int = 200) -> str:
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rsplit(" ", 1)[0] + " …"


def derivation(a: Assessment, legend_: Legend | None = None) -> Derivation:
    """The derivation of ``a``: one band per rule the explanation mentions (facts -> criteria -> rule),
    then the statuses of the guidance in precedence order and the flags."""
    L = legend_ if legend_ is not None else legend(a)
    status_colour = L.status_colour(a.status)
    d = Derivation(
        title=f"How patient {a.patient} was assessed",
        status=a.status,
        status_label=L.status_label(a.status) if a.assessed else "not assessed",
        status_colour=status_colour,
        summary=decision_summary(a, L),
    )
    if not a.assessed:
        d.bands.append("data problems")
        status = d.add(
            Node(
                "status:none",
                "outcome",
                "not assessed",
                "no rule was applied",
                fill=NOT_ASSESSED,
                edge=NOT_ASSESSED,
                tag_colour="#ffffff",
                title_colour="#ffffff",
                strong=True,
            )
        )
        for i, p in enumerate(x for x in a.data_problems if x["severity"] != "warning"):
            where = p.get("record") or ""
            node = d.add(
                Node(
                    f"problem:{i}",
                    "facts",
                    f"data problem ({p['severity']})",
                    where + (f" field {p['field']}" if p.get("field") else ""),
                    p["message"],
                    band=0,
                    fill="#fbe9e7",
                    edge="#b3261e",
                    tag_colour=_GREY,
                )
            )
            d.link(node, status, colour="#b3261e")
        return d

    fired = {r["id"]: r for r in a.fired_rules}
    criteria_of: dict[str, list[str]] = defaultdict(list)
    for code, c in a.criteria.items():
        if c.get("rule"):
            criteria_of[c["rule"]].append(code)
    states_of: dict[str, list[dict]] = defaultdict(list)
    for s in a.rule_states:
        states_of[s["rule"]].append(s)
    diagnoses_of: dict[str, list[str]] = defaultdict(list)
    for dx in a.diagnosis:
        diagnoses_of[dx["rule"]].append(dx["diagnosis"])
    partly_deciding = partly_met_deciding(a, L)

    # the outcome column: every status of the guidance, highest precedence first, then the flags
    statuses = list(L.statuses)
    if not any(s.code == a.status for s in statuses):  # a legend without the status: the status alone
        statuses = [s for s in statuses] + [None]
    for s in statuses:
        code = s.code if s else a.status
        label = s.label if s else L.status_label(a.status)
        colour = s.colour if s else status_colour
        proposed = [r["id"] for r in a.fired_rules if r["kind"] == "status" and r["concludes"] == code]
        partial = list(
            dict.fromkeys(
                x["rule"]
                for x in a.rule_states
                if x["relation"] == "partly_met" and L.rules.get(x["rule"]) and L.rules[x["rule"]].partial == code
            )
        )
        withheld = [r for r in fired if L.rules.get(r) and code in L.rules[r].withholds]
        lines = []
        if code == a.status:
            tag = "the status reached"
            if a.decided_by:
                lines.append(f"decided by {rule_names(L, a.decided_by, fired)}")
            elif partly_deciding:
                lines.append(f"{rule_names(L, partly_deciding, fired)} partly met: data missing")
            elif s is not None and s.default:
                lines.append("the default: no status rule fired")
            node = Node(
                f"status:{code}",
                "outcome",
                label,
                tag,
                "\n".join(lines),
                fill=colour,
                edge="#212121",
                tag_colour="#ffffff",
                title_colour="#ffffff",
                text_colour="#ffffff",
                strong=True,
            )
        else:
            tag = ""
            why = f"withheld by {rule_names(L, withheld, fired)}" if withheld else "outranked"
            others = [r for r in proposed if r not in a.decided_by]
            if others:
                lines.append(f"proposed by {rule_names(L, others, fired)}: {why}")
            if partial:
                lines.append(f"{rule_names(L, partial, fired)} partly met: {why}")
            if withheld and not others and not partial:
                lines.append(why)
            if s is not None and s.default:
                lines.append("the default, when no status rule fires")
            node = Node(
                f"status:{code}",
                "outcome",
                label,
                tag,
                "\n".join(lines),
                fill=tint(colour, 0.88),
                edge=colour,
                title_colour=colour,
                text_colour="#424242",
                border="solid" if lines else "dotted",
            )
        d.add(node)
    for f in sorted(a.flag_details, key=lambda f: L.rule_key(f["rule"]) if f.get("rule") else (True, 0, [])):
        d.add(
            Node(
                f"flag:{f['flag']}",
                "outcome",
                f"flag: {f.get('label') or f['flag']}",
                text=f"raised by {rule_names(L, [f['rule']], fired)}" if f.get("rule") else "",
                fill=tint(FLAG_COLOUR, 0.88),
                edge=FLAG_COLOUR,
                title_colour=FLAG_COLOUR,
            )
        )

    # one band per rule, in the guidance's display order
    shown = sorted(set(fired) | set(criteria_of) | set(states_of), key=L.rule_key)
    for code in shown:
        band = len(d.bands)
        d.bands.append(code)
        rule_id = f"rule:{code}"
        title = L.rule_name(code) if L.rule_label(code) else f"{code} {fired.get(code, {}).get('label', '')}".strip()
        r = fired.get(code)
        text: list[str] = []

        def rule_node(tag, fill, edge, tag_colour, strong=False, _id=rule_id, _title=title, _text=text, _band=band):
            return Node(
                _id,
                "rules",
                _title,
                tag,
                "\n".join(_text),
                band=_band,
                fill=fill,
                edge=edge,
                tag_colour=tag_colour,
                strong=strong,
                italic=True,
            )

        if r is not None:
            if r["sentences"]:
                text.append("“" + _short(r["sentences"][0]) + "”")
            text += [f"diagnosis: {dx}" for dx in diagnoses_of.get(code, [])]
            if r.get("extension"):
                text.append("an extension of the guidance (safety-first)")
            if r["kind"] == "status":
                target = f"status:{r['concludes']}"
                tag = f"fired → {L.status_label(r['concludes'])}"
                if r.get("outranked_by"):
                    tag += f"; outranked by {rule_names(L, r['outranked_by'], fired)}: its advice is not given"
                    node = rule_node(tag, _MUTED[0], _MUTED[1], _GREY)
                    link = ("dotted", _MUTED[1])
                elif r.get("decides"):
                    tag += ": decides the status"
                    node = rule_node(tag, _RULE[0], status_colour, status_colour, strong=True)
                    link = ("solid", status_colour)
                else:
                    node = rule_node(tag, _RULE[0], _RULE[1], _RULE[1])
                    link = ("dotted", _MUTED[1])
                if target in d.nodes:
                    d.link(rule_id, target, *link)
            else:
                flag = next((f for f in a.flag_details if f["flag"] == r["concludes"]), None)
                tag = f"fired → flag {(flag or {}).get('label') or r['concludes']}"
                node = rule_node(tag, _RULE[0], FLAG_COLOUR, FLAG_COLOUR)
                if f"flag:{r['concludes']}" in d.nodes:
                    d.link(rule_id, f"flag:{r['concludes']}", "solid", FLAG_COLOUR)
        else:
            rel = states_of.get(code, [])
            unmet = [x for x in rel if x["relation"] == "not_applicable"]
            partly = [x for x in rel if x["relation"] == "partly_met"]
            if unmet:
                tag = "does not apply: " + "; ".join(
                    f"{x['criterion']} {x['label']} {L.state_label('not_met')}" for x in unmet
                )
                colour = STATE_COLOURS["not_met"]
            elif partly:
                partial = L.rules[code].partial if code in L.rules else None
                tag = "partly met: " + "; ".join(
                    f"{x['criterion']} {x['label']} {L.state_label('unknown')}" for x in partly
                )
                if partial:
                    tag += f" → {L.status_label(partial)}"
                colour = STATE_COLOURS["unknown"]
            else:
                not_met = [c for c in criteria_of.get(code, []) if a.criteria[c]["state"] != "met"]
                tag = (
                    "did not fire: " + "; ".join(f"{c} {L.state_label(a.criteria[c]['state'])}" for c in not_met)
                    if not_met
                    else "did not fire"
                )
                colour = _GREY
            concludes = L.rules[code].concludes if code in L.rules else None
            node = Node(
                rule_id,
                "rules",
                title,
                tag,
                f"if it fired: {L.status_label(concludes)}" if concludes else "",
                band=band,
                fill=_MUTED[0],
                edge=colour,
                tag_colour=colour,
                border="dashed",
            )
            if partly:
                partial = L.rules[code].partial if code in L.rules else None
                if partial and f"status:{partial}" in d.nodes:
                    d.link(rule_id, f"status:{partial}", "dashed", STATE_COLOURS["unknown"])
        d.add(node)
        crits = criteria_of.get(code, [])
        for row, ccode in enumerate(crits):
            c = a.criteria[ccode]
            state = c["state"]
            colour = STATE_COLOURS.get(state, _GREY)
            judged = "; ".join(c.get("decided_by") or [])
            cid = d.add(
                Node(
                    f"criterion:{code}:{ccode}",
                    "criteria",
                    f"{ccode} {c['label']}",
                    L.state_label(state),
                    f"judged: {judged}" if judged else "",
                    band=band,
                    row=row,
                    fill=tint(colour, 0.9),
                    edge=colour,
                    tag_colour=colour,
                    border="dashed" if state == "unknown" else "solid",
                )
            )
            d.link(cid, rule_id, "dashed" if state == "unknown" else "solid", colour)
            for e in c["evidence"]:
                d.link(_fact(d, e, band, row), cid)
            if not c["evidence"] and state == "unknown":
                missing = d.add(
                    Node(
                        f"missing:{code}:{ccode}",
                        "facts",
                        "no record",
                        "unknown is not absent",
                        f"needed: {c.get('needs') or ''}".rstrip(": "),
                        band=band,
                        row=row,
                        fill="#fffde7",
                        edge=STATE_COLOURS["unknown"],
                        tag_colour=STATE_COLOURS["unknown"],
                        border="dashed",
                    )
                )
                d.link(missing, cid, "dashed", STATE_COLOURS["unknown"])
        if not crits and r is not None:
            for e in r["evidence"]:
                d.link(_fact(d, e, band, 0), rule_id)

    # the status rules that did not fire and that the explanation says nothing more about
    quiet = [
        c
        for c, t in sorted(L.rules.items(), key=lambda kv: L.rule_key(kv[0]))
        if t.status_rule and c not in fired and c not in shown
    ]
    if quiet or a.unassessed_causes:
        band = len(d.bands)
        d.bands.append("other status rules")
        rid = d.add(
            Node(
                "rule:others",
                "rules",
                "other status rules: not fired",
                "nothing in the record matches them" if quiet else "",
                "\n".join(L.rule_name(c) for c in quiet),
                band=band,
                fill=_MUTED[0],
                edge=_MUTED[1],
                border="dashed",
            )
        )
        if a.unassessed_causes:
            nid = d.add(
                Node(
                    "unassessed",
                    "facts",
                    "not assessed",
                    "treated as not identified, not as absent",
                    ", ".join(a.unassessed_causes),
                    band=band,
                    fill="#fffde7",
                    edge=STATE_COLOURS["unknown"],
                    tag_colour=STATE_COLOURS["unknown"],
                    border="dashed",
                )
            )
            d.link(nid, rid, "dashed", STATE_COLOURS["unknown"])
    # the default status, reached because no status rule fired: the status rules that did not fire lead to it
    default = L.default_status
    if default is not None and default.code == a.status and not a.decided_by and not partly_deciding:
        for code in [*shown, "others"]:
            rule = L.rules.get(code)
            if f"rule:{code}" in d.nodes and code not in fired and (code == "others" or (rule and rule.status_rule)):
                d.link(f"rule:{code}", f"status:{default.code}", "dashdot", _MUTED[1])
    return d


def _fact(d: Derivation, e: dict, band: int, row: int) -> str:
    """The box of one piece of evidence, in this band and row: what (title), the value (tag), the source."""
    text, _, source = e["fact"].partition(" [source: ")
    what, sep, value = text.partition(": ")
    return d.add(
        Node(
            f"fact:{band}:{row}:{e['record']}:{text}",
            "facts",
            what,
            value if sep else "",
            f"source: {source.rstrip(']')}" if source else "",
            band=band,
            row=row,
            fill=_FACT[0],
            edge=_FACT[1],
            tag_colour="#0d47a1",
        )
    )


# ---------------------------------------------------------------------------------------------------
# drawing


class _Box:
    """A node's patch and text artists, and its measured size (points)."""

    def __init__(self, node: Node):
        self.node = node
        self.patch = None  # its FancyBboxPatch
        self.parts: list = []  # (artist, role, text)
        self.heights: dict = {}  # artist -> measured height (points)
        self.text_at = (0.0, 0.0)
        self.w = self.h = 0.0
        self.x = self.y = 0.0  # top-left corner


#: Text is measured at the figure's resolution; drawn at another (a saved file, a retina display) the
#: renderer's hinting makes it up to a few percent wider or taller: boxes leave that much room.
_SLACK = 1.06


def _wrap(artist, raw: str, max_pt: float, renderer, px_per_pt: float) -> tuple[float, float]:
    """Wrap ``raw`` into ``artist`` at the most characters a line that still fit ``max_pt`` (with room to
    spare, ``_SLACK``), as the renderer measures the text; return the room it needs, (width, height) in
    points."""
    max_pt /= _SLACK
    if not raw:
        artist.set_text("")
        return 0.0, 0.0
    size = artist.get_fontsize()
    n = max(6, int(max_pt / (size * 0.42)))
    while True:
        lines: list[str] = []
        for para in raw.split("\n"):
            lines += textwrap.wrap(para, n, break_long_words=True, break_on_hyphens=False) or [""]
        artist.set_text("\n".join(lines))
        bb = artist.get_window_extent(renderer)
        if bb.width / px_per_pt <= max_pt or n <= 4:
            return bb.width / px_per_pt * _SLACK, bb.height / px_per_pt * _SLACK
        n = max(4, n - max(1, n // 12))


def plot_derivation(a: Assessment, ax=None, width: float | None = None):
    """Draw the derivation of ``a`` with matplotlib and return the Axes.

    Without ``ax`` the figure is sized to the picture (``width`` in inches scales it); with ``ax`` the
    picture is scaled to fit that Axes as it is now (size the figure before drawing into it). Solid
    arrows: what supports the conclusion; dashed: unknown (a partly met rule, missing data); dotted: a
    status proposed but outranked; dash-dot: no status rule fired, so the default status. The rule that
    decided the status and the status reached have a thick border."""
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("pictures need matplotlib: pip install 'kg-reasoner[notebooks]'") from None
    d = derivation(a)
    own = ax is None
    if own:
        fig = plt.figure(figsize=(12, 6))
        ax = fig.add_axes((0, 0, 1, 1))
    fig = ax.figure
    ax.set_axis_off()
    renderer = fig.canvas.get_renderer()
    px_per_pt = fig.dpi / 72.0
    artists = _Artists(ax, d)
    scale = 1.0
    W, H = artists.layout(scale, renderer, px_per_pt)
    if own:
        if width:
            scale = width * 72.0 / W
            W, H = artists.layout(scale, renderer, px_per_pt)
        fig.set_size_inches(W / 72.0, H / 72.0)
        aw, ah = W, H
    else:
        bb = ax.get_window_extent(renderer)
        aw, ah = bb.width / px_per_pt, bb.height / px_per_pt
        for _ in range(6):
            if W <= aw and H <= ah:
                break
            scale *= min(aw / W, ah / H) * 0.98
            W, H = artists.layout(scale, renderer, px_per_pt)
    artists.place(scale, W, H)
    # one data unit is one point: centred across, from the top down
    ax.set_xlim(-(aw - W) / 2, W + (aw - W) / 2)
    ax.set_ylim(H - ah, H)
    return ax


class _Artists:
    """The artists of a derivation, laid out in points: measured, then placed."""

    def __init__(self, ax, d: Derivation):
        from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

        self.ax, self.d = ax, d
        self.boxes: dict[str, _Box] = {}
        for n in d.nodes.values():
            b = _Box(n)
            b.patch = FancyBboxPatch(
                (0, 0),
                1,
                1,
                boxstyle="round,pad=0,rounding_size=3",
                fc=n.fill,
                ec=n.edge,
                lw=2.4 if n.strong else 0.9,
                ls=_LINESTYLES[n.border],
                zorder=2,
                gid=f"box:{n.id}",
            )
            ax.add_patch(b.patch)
            for role, raw, colour, weight, style in (
                ("title", n.title, n.title_colour, "bold", "normal"),
                ("tag", n.tag, n.tag_colour, "bold", "normal"),
                ("text", n.text, n.text_colour, "normal", "italic" if n.italic else "normal"),
            ):
                if raw:
                    t = ax.text(
                        0,
                        0,
                        "",
                        ha="left",
                        va="top",
                        color=colour,
                        weight=weight,
                        style=style,
                        zorder=3,
                        parse_math=False,
                        gid=f"text:{n.id}:{role}",
                        clip_on=False,
                    )
                    b.parts.append((t, role, raw))
            self.boxes[n.id] = b
        self.edges = []
        for e in d.edges:
            p = FancyArrowPatch(
                (0, 0),
                (1, 1),
                arrowstyle="-|>",
                color=e.colour,
                lw=1.1,
                linestyle=_LINESTYLES[e.style],
                shrinkA=0,
                shrinkB=1,
                zorder=1,
                gid=f"edge:{e.source}->{e.target}",
            )
            ax.add_patch(p)
            self.edges.append((e, p))
        self.bands = []
        for i in range(len(d.bands)):
            p = FancyBboxPatch(
                (0, 0),
                1,
                1,
                boxstyle="round,pad=0,rounding_size=5",
                fc="#fafafa",
                ec="#e0e0e0",
                lw=0.8,
                zorder=0,
                gid=f"band:{i}",
            )
            ax.add_patch(p)
            self.bands.append(p)
        # the caption (title and status badge), the decision summary, the column headings, the footer
        self.caption = ax.text(
            0,
            0,
            d.title + ":",
            ha="left",
            va="top",
            weight="bold",
            color="#212121",
            parse_math=False,
            gid="caption",
            zorder=3,
        )
        badge = Node(
            "badge", "caption", d.status_label, fill=d.status_colour, edge=d.status_colour, title_colour="#ffffff"
        )
        self.badge = _Box(badge)
        self.badge.patch = FancyBboxPatch(
            (0, 0),
            1,
            1,
            boxstyle="round,pad=0,rounding_size=3",
            fc=d.status_colour,
            ec=d.status_colour,
            zorder=2,
            gid="box:badge",
        )
        ax.add_patch(self.badge.patch)
        t = ax.text(
            0,
            0,
            "",
            ha="left",
            va="top",
            color="#ffffff",
            weight="bold",
            parse_math=False,
            gid="text:badge:title",
            zorder=3,
        )
        self.badge.parts.append((t, "caption", d.status_label))
        self.summary = ax.text(
            0, 0, "", ha="left", va="top", color="#424242", parse_math=False, gid="summary", zorder=3
        )
        self.headings = {
            layer: ax.text(
                0,
                0,
                "",
                ha="left",
                va="top",
                weight="bold",
                color="#455a64",
                parse_math=False,
                gid=f"heading:{layer}",
                zorder=3,
            )
            for layer in LAYERS
        }
        self.footer = ax.text(0, 0, "", ha="left", va="top", color=_GREY, parse_math=False, gid="footer", zorder=3)

    # -- measuring -----------------------------------------------------------------------------------
    def layout(self, s: float, renderer, px_per_pt: float) -> tuple[float, float]:
        """Measure every text at scale ``s`` and lay the boxes out; return the picture's (width, height)."""
        d = self.d
        colw = {k: v * s for k, v in _COLUMN_WIDTH.items()}
        gap, pad, line, stack = _GAP * s, _PAD * s, _LINE * s, _STACK * s
        self.x = {}
        x = _MARGIN * s + _BAND_PAD * s
        for layer in LAYERS:
            self.x[layer] = x
            x += colw[layer] + gap
        W = x - gap + _MARGIN * s
        for b in self.boxes.values():
            b.w = colw[b.node.layer]
            h = pad
            for t, role, raw in b.parts:
                t.set_fontsize(_FONT[role] * s)
                _, th = _wrap(t, raw, b.w - 2 * pad, renderer, px_per_pt)
                b.heights[t] = th
                h += th + line
            b.h = h - line + pad if b.parts else 2 * pad
        # the caption line: title, then the badge
        y = _MARGIN * s
        self.caption.set_fontsize(_FONT["caption"] * s)
        cw, ch = _wrap(self.caption, self.d.title + ":", W * 0.6, renderer, px_per_pt)
        bt, _, raw = self.badge.parts[0]
        bt.set_fontsize(_FONT["caption"] * s)
        bw, bh = _wrap(bt, raw, W / 3, renderer, px_per_pt)
        self.badge.w, self.badge.h = bw + 2 * pad, bh + 2 * pad
        line_h = max(ch, self.badge.h)
        self.caption_at = (_MARGIN * s, y + (line_h - ch) / 2)
        self.badge.x, self.badge.y = _MARGIN * s + cw + 3 * pad, y
        self.badge.text_at = (self.badge.x + pad, y + pad)
        y += line_h + line * 2
        self.summary.set_fontsize(_FONT["summary"] * s)
        _, sh = _wrap(self.summary, d.summary, W - 2 * _MARGIN * s, renderer, px_per_pt)
        self.summary_at = (_MARGIN * s, y)
        y += sh + stack * 1.5
        hh = 0.0
        for layer, t in self.headings.items():
            t.set_fontsize(_FONT["heading"] * s)
            _, th = _wrap(t, HEADINGS[layer], colw[layer], renderer, px_per_pt)
            hh = max(hh, th)
        self.headings_at = y
        y += hh + stack
        top = y
        # the bands: criteria rows (a criterion and its facts), the rule centred on its band
        self.band_spans = []
        by_band: dict[int, dict[str, list[_Box]]] = defaultdict(lambda: defaultdict(list))
        for b in self.boxes.values():
            if b.node.band is not None:
                by_band[b.node.band][b.node.layer].append(b)
        y += _BAND_PAD * s
        for band in range(len(d.bands)):
            cols = by_band[band]
            rows = sorted({b.node.row for layer in ("facts", "criteria") for b in cols[layer]}) or [0]
            start = y
            for row in rows:
                facts = [b for b in cols["facts"] if b.node.row == row]
                crits = [b for b in cols["criteria"] if b.node.row == row]
                fh = sum(b.h for b in facts) + stack * max(0, len(facts) - 1)
                ch_ = sum(b.h for b in crits) + stack * max(0, len(crits) - 1)
                rh = max(fh, ch_)
                for group, gh in ((facts, fh), (crits, ch_)):
                    yy = y + (rh - gh) / 2
                    for b in group:
                        b.x, b.y = self.x[b.node.layer], yy
                        yy += b.h + stack
                y += rh + stack
            y -= stack
            rules = cols["rules"]
            rh = sum(b.h for b in rules) + stack * max(0, len(rules) - 1)
            if rh > y - start:
                # the rule is taller than its criteria: centre those on it instead
                shift = (rh - (y - start)) / 2
                for layer in ("facts", "criteria"):
                    for b in cols[layer]:
                        b.y += shift
                y = start + rh
            yy = start + (y - start - rh) / 2
            for b in rules:
                b.x, b.y = self.x["rules"], yy
                yy += b.h + stack
            self.band_spans.append((start - _BAND_PAD * s, y + _BAND_PAD * s))
            y += _BAND_PAD * s + _BAND_GAP * s
        bands_bottom = y - _BAND_GAP * s
        # the outcome column: the statuses, then the flags
        yy = top
        for b in self.boxes.values():
            if b.node.band is None:
                b.x, b.y = self.x["outcome"], yy
                yy += b.h + stack
        outcome_bottom = yy - stack
        y = max(bands_bottom, outcome_bottom) + stack * 1.5
        self.footer.set_fontsize(_FONT["footer"] * s)
        _, fh = _wrap(
            self.footer,
            "Arrows: solid, what supports a conclusion (red: a criterion not met); dashed, unknown: a partly met "
            "rule or missing data (unknown is not absent); dotted, a status proposed but outranked; dash-dot, no "
            "status rule fired, so the default status. "
            "A thick border marks the rule that decided the status and the status reached.",
            W - 2 * _MARGIN * s,
            renderer,
            px_per_pt,
        )
        self.footer_at = (_MARGIN * s, y)
        y += fh + _MARGIN * s
        return W, y

    # -- placing -------------------------------------------------------------------------------------
    def place(self, s: float, W: float, H: float) -> None:
        """Put every artist where layout() measured it, in data units (points, y up)."""
        pad, line = _PAD * s, _LINE * s

        def up(y: float) -> float:
            return H - y

        for b in self.boxes.values():
            b.patch.set_bounds(b.x, up(b.y + b.h), b.w, b.h)
            b.patch.set_boxstyle("round", pad=0, rounding_size=3 * s)
            yy = b.y + pad
            for t, _role, _raw in b.parts:
                t.set_position((b.x + pad, up(yy)))
                yy += b.heights[t] + line
        self.caption.set_position((self.caption_at[0], up(self.caption_at[1])))
        bx = self.badge
        bx.patch.set_bounds(bx.x, up(bx.y + bx.h), bx.w, bx.h)
        bx.patch.set_boxstyle("round", pad=0, rounding_size=3 * s)
        bx.parts[0][0].set_position((bx.text_at[0], up(bx.text_at[1])))
        self.summary.set_position((self.summary_at[0], up(self.summary_at[1])))
        for layer, t in self.headings.items():
            t.set_position((self.x[layer], up(self.headings_at)))
        self.footer.set_position((self.footer_at[0], up(self.footer_at[1])))
        left, right = self.x["facts"] - _BAND_PAD * s, self.x["rules"] + _COLUMN_WIDTH["rules"] * s + _BAND_PAD * s
        for p, (y0, y1) in zip(self.bands, self.band_spans):
            p.set_bounds(left, up(y1), right - left, y1 - y0)
            p.set_boxstyle("round", pad=0, rounding_size=5 * s)
        for e, p in self.edges:
            a, b = self.boxes[e.source], self.boxes[e.target]
            p.set_positions((a.x + a.w, up(a.y + a.h / 2)), (b.x, up(b.y + b.h / 2)))
            p.set_mutation_scale(9 * s)
