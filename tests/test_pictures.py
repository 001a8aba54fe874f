"""Derivation pictures (kg_reasoner.write.plot): each vignette's picture is rendered and every text is
measured as drawn: no text leaves its box or the axes, no two texts and no two boxes overlap. The
picture names rules, criteria and statuses by their labels, lists the statuses in the ontology's
precedence order, colours the status reached by its kind, marks the rule that decided it, and for a
patient no status rule fired for shows why: each criterion of R1 with its state and evidence, and the
default status reached."""

from __future__ import annotations

import pytest
from conftest import DATA, VIGNETTES, load_case

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from kg_reasoner.write.legend import legend  # noqa: E402
from kg_reasoner.write.plot import derivation, plot_derivation  # noqa: E402


def _assess(reasoner, name: str):
    return reasoner.assess(load_case(DATA / "vignettes" / f"{name}.json")["patient"])


@pytest.fixture
def drawn():
    """Draw an assessment (keyword arguments go to plot_derivation); the figures are closed afterwards."""
    figures = []

    def draw(a, **kw):
        ax = plot_derivation(a, **kw)
        figures.append(ax.figure)
        return ax

    yield draw
    for fig in figures:
        plt.close(fig)


def layout_problems(ax, dpi: float | None = None) -> list:
    """Render ``ax``'s figure (at ``dpi``) and measure every text artist: a text of a box (gid
    ``text:NODE:PART``) must lie inside that box (gid ``box:NODE``), every text inside the axes, and no two
    texts and no two boxes may overlap."""
    fig = ax.figure
    if dpi:
        fig.set_dpi(dpi)
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    texts = {t: t.get_window_extent(r) for t in ax.texts if t.get_text() and t.get_visible()}
    boxes = {p.get_gid()[4:]: p.get_window_extent(r) for p in ax.patches if (p.get_gid() or "").startswith("box:")}
    frame = ax.get_window_extent(r)
    found = []
    for t, bb in texts.items():
        gid = t.get_gid() or ""
        if gid.startswith("text:"):
            box = boxes[gid[5:].rsplit(":", 1)[0]]
            if bb.x0 < box.x0 or bb.x1 > box.x1 or bb.y0 < box.y0 or bb.y1 > box.y1:
                found.append(("text outside its box", gid, t.get_text()))
        if bb.x0 < frame.x0 or bb.x1 > frame.x1 or bb.y0 < frame.y0 or bb.y1 > frame.y1:
            found.append(("text outside the axes", gid, t.get_text()))
    items = list(texts.items())
    for i, (t1, b1) in enumerate(items):
        found += [("texts overlap", t1.get_gid(), t2.get_gid()) for t2, b2 in items[i + 1 :] if b1.overlaps(b2)]
    names = list(boxes)
    for i, n1 in enumerate(names):
        found += [("boxes overlap", n1, n2) for n2 in names[i + 1 :] if boxes[n1].overlaps(boxes[n2])]
    assert len(texts) > 10
    return found


def _text(ax, gid: str) -> str:
    return next(t.get_text() for t in ax.texts if t.get_gid() == gid)


def _patch(ax, gid: str):
    return next(p for p in ax.patches if p.get_gid() == gid)


#: vignettes whose pictures the quick tier checks: indicated with a flag (P01), contraindicated with R1 not
#: applicable (P03), an outranked rule (P04), insufficient data (P05), not indicated (P06), a partly met
#: rule beside the deciding one with two flags (P09), three unknown criteria and three fired rules (P10)
QUICK = ("P01", "P03", "P04", "P05", "P06", "P09", "P10")


@pytest.mark.parametrize("name", QUICK)
def test_every_text_stays_in_its_box_and_none_overlap(reasoner, drawn, name):
    assert layout_problems(drawn(_assess(reasoner, name))) == []


@pytest.mark.slow  # every vignette at its own and at other resolutions, every second case at its own
@pytest.mark.parametrize(
    "path", VIGNETTES + sorted((DATA / "cases").glob("*.json"))[::2], ids=lambda p: f"{p.parent.name}-{p.stem}"
)
def test_layout_holds_for_every_patient_and_at_other_resolutions(reasoner, drawn, path):
    """Boxes are sized at the figure's resolution; drawn at another (a saved file, a retina screen) the
    text still fits."""
    a = reasoner.assess(load_case(path)["patient"])
    # every vignette at other resolutions too (72: where hinting differs most); a case at its own (full tier time)
    for dpi in (None, 72, 150) if path in VIGNETTES else (None,):
        assert layout_problems(drawn(a), dpi) == [], dpi


@pytest.mark.slow  # two pictures in one figure
def test_pictures_share_a_figure_each_scaled_to_its_axes(reasoner):
    fig, axes = plt.subplots(1, 2, figsize=(16, 7))
    try:
        for ax, name in zip(axes, ("P09", "P06")):
            plot_derivation(_assess(reasoner, name), ax=ax)
            assert layout_problems(ax) == [], name
    finally:
        plt.close(fig)


def test_a_given_axes_is_filled_to_fit(reasoner):
    fig, ax = plt.subplots(figsize=(9, 5))
    try:
        plot_derivation(_assess(reasoner, "P04"), ax=ax)
        assert layout_problems(ax) == []
    finally:
        plt.close(fig)


def test_not_indicated_picture_shows_the_criteria_of_R1_and_the_default(reasoner, drawn):
    """P06: no status rule fired. The picture is not a lone status box: R1 does not apply because C1 is
    not met; C1, C2 and C3 are drawn with their states and the facts that decided them; the other status
    rules are named as not fired; the default status is reached, linked from the rules that did not fire."""
    a = _assess(reasoner, "P06")
    d = derivation(a)
    r1 = d.nodes["rule:R1"]
    assert r1.title == "R1 luteal insufficiency" and r1.tag == "does not apply: C1 low progesterone not met"
    states = {n.title: n.tag for n in d.nodes.values() if n.id.startswith("criterion:R1:")}
    assert states == {
        "C1 low progesterone": "not met",
        "C2 symptom of threatened miscarriage": "met",
        "C3 normal embryonic development on ultrasound": "met",
    }
    facts = {e.target: d.nodes[e.source] for e in d.edges if e.source.startswith("fact:")}
    assert facts["criterion:R1:C1"].title == "serum progesterone result"
    assert facts["criterion:R1:C1"].tag.startswith("25.0 ng/mL")
    assert facts["criterion:R1:C2"].title == "vaginal bleeding" and facts["criterion:R1:C2"].tag == "light"
    assert "judged: not below the normal range" in d.nodes["criterion:R1:C1"].text
    assert {(e.source, e.target) for e in d.edges if e.target == "rule:R1"} == {
        ("criterion:R1:C1", "rule:R1"),
        ("criterion:R1:C2", "rule:R1"),
        ("criterion:R1:C3", "rule:R1"),
    }
    status = d.nodes["status:not_indicated"]
    assert status.strong and status.text == "the default: no status rule fired"
    assert {e.source for e in d.edges if e.target == "status:not_indicated"} == {"rule:R1", "rule:others"}
    assert "R2 assisted reproduction" in d.nodes["rule:others"].text
    assert d.summary == "not indicated: no status rule fired, so the default status"
    # and drawn so: the texts as the picture shows them
    ax = drawn(a)
    assert _text(ax, "text:criterion:R1:C1:tag") == "not met"
    assert _text(ax, "text:rule:R1:tag").replace("\n", " ") == r1.tag


def test_insufficient_data_picture_shows_the_partly_met_rule_and_the_missing_record(reasoner):
    """P05: R1 is partly met (C3 unknown, no ultrasound recorded): its partial status is the status."""
    d = derivation(_assess(reasoner, "P05"))
    assert d.nodes["rule:R1"].tag == (
        "partly met: C3 normal embryonic development on ultrasound unknown → insufficient data"
    )
    missing = d.nodes["missing:R1:C3"]
    assert missing.title == "no record" and missing.text == "needed: an obstetric ultrasound of embryonic development"
    assert any((e.source, e.target, e.style) == ("rule:R1", "status:insufficient_data", "dashed") for e in d.edges)
    status = d.nodes["status:insufficient_data"]
    assert status.strong and status.text == "R1 luteal insufficiency partly met: data missing"


def test_deciding_rule_is_marked_and_the_status_coloured_by_it(reasoner, drawn):
    """P03: R4 decides (contraindicated): a thick border, linked solid to the status reached; R1 does not
    apply (C3 not met). The badge and the status box have the status's colour from the legend."""
    a = _assess(reasoner, "P03")
    L = legend(a)
    d = derivation(a)
    r4 = d.nodes["rule:R4"]
    assert r4.strong and r4.tag == "fired → contraindicated: decides the status"
    assert not any(n.strong for n in d.nodes.values() if n.id.startswith("rule:") and n.id != "rule:R4")
    assert any((e.source, e.target, e.style) == ("rule:R4", "status:contraindicated", "solid") for e in d.edges)
    assert d.nodes["rule:R1"].tag == "does not apply: C3 normal embryonic development on ultrasound not met"
    assert d.nodes["status:contraindicated"].text == "decided by R4 demise or inevitable miscarriage"
    ax = drawn(a)
    colour = L.status_colour("contraindicated")
    assert to_hex(_patch(ax, "box:badge").get_facecolor()) == colour
    assert to_hex(_patch(ax, "box:status:contraindicated").get_facecolor()) == colour
    assert _text(ax, "text:badge:title") == "contraindicated"
    widths = {p.get_gid(): p.get_linewidth() for p in ax.patches if (p.get_gid() or "").startswith("box:rule:")}
    assert widths["box:rule:R4"] > max(w for g, w in widths.items() if g != "box:rule:R4")


def test_outranked_rule_is_marked_with_what_outranked_it(reasoner):
    """P04: R1 fired (indicated) but R3 decides (not recommended): R1 says so and its advice is not given."""
    d = derivation(_assess(reasoner, "P04"))
    assert d.nodes["rule:R1"].tag == (
        "fired → indicated; outranked by R3 cause progesterone cannot address: its advice is not given"
    )
    assert any((e.source, e.target, e.style) == ("rule:R1", "status:indicated", "dotted") for e in d.edges)
    assert d.nodes["status:indicated"].text == "proposed by R1 luteal insufficiency: outranked"
    assert d.nodes["rule:R3"].strong


def test_statuses_are_labels_in_precedence_order_with_distinct_colours(reasoner, drawn):
    """The outcome column lists the guidance's statuses by label, highest precedence first, from the
    ontology; each is coloured by its status (the one reached filled, the others tinted)."""
    a = _assess(reasoner, "P01")
    L = legend(a)
    ax = drawn(a)
    titles = [
        t.get_text()
        for t in ax.texts
        if (t.get_gid() or "").startswith("text:status:") and t.get_gid().endswith(":title")
    ]
    assert titles == ["contraindicated", "not recommended", "indicated", "insufficient data", "not indicated"]
    assert titles == [s.label for s in L.statuses]
    assert to_hex(_patch(ax, "box:status:indicated").get_facecolor()) == L.status_colour("indicated")
    edges = {to_hex(_patch(ax, f"box:status:{s.code}").get_edgecolor()) for s in L.statuses if s.code != "indicated"}
    assert len(edges) == len(L.statuses) - 1
    # the flag raised, linked from its rule
    d = derivation(a)
    assert any((e.source, e.target) == ("rule:R6", "flag:monitor") for e in d.edges)
    assert d.nodes["rule:R1"].title == "R1 luteal insufficiency" and "diagnosis:" in d.nodes["rule:R1"].text


def test_text_is_drawn_as_given(reasoner, drawn):
    """A label is text, never mathtext: dollar signs and markup stay as they are."""
    import dataclasses

    a = _assess(reasoner, "P06")
    odd = "$\\alpha$ <b>x</b> " + "w" * 80  # a word longer than a box is broken, not left to overflow
    a = dataclasses.replace(
        a, criteria={k: dict(c, label=odd) for k, c in a.criteria.items()}, graph_source=a.graph_source
    )
    ax = drawn(a)
    assert layout_problems(ax) == []
    assert _text(ax, "text:criterion:R1:C1:title").replace("\n", "").startswith("C1 $\\alpha$ <b>x</b>")


def test_a_patient_not_assessed_is_drawn_with_her_data_problems(reasoner, drawn):
    from rdflib import Graph

    g = Graph().parse(
        data="""@prefix kgr: <https://w3id.org/kg-reasoner/ontology#> .
        <urn:p:X> a kgr:Patient ; kgr:patientId "X" ;
            kgr:gestationalAgeWeeks "7.0"^^<http://www.w3.org/2001/XMLSchema#decimal> ,
                                    "9.0"^^<http://www.w3.org/2001/XMLSchema#decimal> .""",
        format="turtle",
    )
    a = reasoner.assess(g)
    assert not a.assessed
    d = derivation(a)
    assert d.nodes["status:none"].title == "not assessed" and any(n.startswith("problem:") for n in d.nodes)
    assert layout_problems(drawn(a)) == []
