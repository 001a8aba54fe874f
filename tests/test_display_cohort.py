"""Jupyter-facing API: an Assessment renders as a readable HTML card; a cohort result converts to a
pandas DataFrame in one call, keeps the inputs it could not read, and writes a SPARQL store."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from conftest import DATA, VIGNETTES, load_case

from kg_reasoner.resources import read_text


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts, self.tags = [], []

    def handle_data(self, data):
        self.parts.append(data)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


def _visible(html: str) -> tuple[str, list[str]]:
    p = _Text()
    p.feed(html)
    return " ".join(" ".join(p.parts).split()), p.tags


def test_card_shows_status_rules_sentences_criteria_missing_flags_and_advice(reasoner):
    a = reasoner.assess(load_case(VIGNETTES[0])["patient"])  # P01: R1 with R6's monitor flag
    text, tags = _visible(a._repr_html_())
    assert "Patient P01" in text and "indicated" in text
    assert "indicated, decided by R1 luteal insufficiency." in text
    for rule in a.fired_rules:
        assert f"{rule['id']} {rule['label']}" in text and all(" ".join(s.split()) in text for s in rule["sentences"])
    # the criteria of R1 under it, by code and label, with their states' labels
    for code, c in a.criteria.items():
        assert text.index("R1 luteal insufficiency") < text.index(f"{code} {c['label']} met")
        assert all(e["fact"] in text for e in c["evidence"])
        assert all(d in text for d in c["decided_by"])
    assert "monitor" in text and all(adv in text for adv in a.advice)
    assert "script" not in tags


def test_card_shows_missing_data_and_partly_met_rule(reasoner):
    a = reasoner.assess({"id": "M", "vaginal_bleeding": "light", "ultrasound": "normal"})
    text, _ = _visible(a._repr_html_())
    assert a.status == "insufficient_data" and a.missing == ["C1"]
    assert "Missing data (unknown is not absent)" in text
    assert f"C1 ({a.missing_details[0]['label']}): {a.missing_details[0]['needs']}" in text
    assert "R1 luteal insufficiency is partly met: C1 (low progesterone) unknown → insufficient data" in text
    assert "insufficient data: R1 luteal insufficiency partly met (data missing)." in text


def test_card_escapes_data_and_shows_why_not_assessed(reasoner):
    from rdflib import Graph

    g = Graph().parse(
        data="""@prefix kgr: <https://w3id.org/kg-reasoner/ontology#> .
        <urn:p:X> a kgr:Patient ; kgr:patientId "<script>alert(1)</script>" ;
            kgr:gestationalAgeWeeks "7.0"^^<http://www.w3.org/2001/XMLSchema#decimal> , "9.0"^^<http://www.w3.org/2001/XMLSchema#decimal> .""",
        format="turtle",
    )
    a = reasoner.assess(g)
    html = a._repr_html_()
    text, tags = _visible(html)
    assert not a.assessed and "NOT ASSESSED" in text and "Data problems" in text
    assert "<script>" not in html and "script" not in tags and "&lt;script&gt;" in html


def _vignette(reasoner, name: str):
    return reasoner.assess(load_case(DATA / "vignettes" / f"{name}.json")["patient"])


def _badge_colours(html: str) -> list[str]:
    return re.findall(r'<span style="background:(#[0-9a-f]{6});', html)


def test_statuses_names_and_colours_come_from_the_ontology(reasoner):
    """The statuses in the ontology's precedence order, each with its label; the badge colour follows the
    status's kind (advising against: reds, supporting: green, the default: grey), one colour per status."""
    from kg_reasoner.write.legend import legend

    L = legend(_vignette(reasoner, "P01"))
    assert [s.code for s in L.statuses] == [
        "contraindicated",
        "not_recommended",
        "indicated",
        "insufficient_data",
        "not_indicated",
    ]
    assert [s.label for s in L.statuses][-1] == "not indicated" and L.default_status.code == "not_indicated"
    assert [s.kind for s in L.statuses] == ["against", "against", "supporting", "neither", "default"]
    assert len({s.colour for s in L.statuses}) == len(L.statuses)
    assert L.rule_name("R1") == "R1 luteal insufficiency" and L.state_label("not_met") == "not met"


@pytest.mark.parametrize("name", ["P01", "P03", "P04", "P05", "P06"])
def test_card_badge_is_coloured_by_status(reasoner, name):
    from kg_reasoner.write.legend import legend

    a = _vignette(reasoner, name)
    html = a._repr_html_()
    L = legend(a)
    assert _badge_colours(html)[0] == L.status_colour(a.status)
    label = L.status_label(a.status)
    assert _visible(html)[0].startswith(f"Patient {name} (<dict>) {label}")


def test_card_marks_the_deciding_rule_and_the_outranked_one(reasoner):
    """P04: R3 decides (not recommended); R1 fired too, but is outranked by R3 and its advice is not given."""
    a = _vignette(reasoner, "P04")
    html = a._repr_html_()
    text, _ = _visible(html)
    assert "not recommended, decided by R3 cause progesterone cannot address." in text
    assert "R3 cause progesterone cannot address → status not recommended (not_recommended) decides the status" in text
    assert (
        "R1 luteal insufficiency → status indicated (outranked by R3 cause progesterone cannot address: "
        "its advice is not given)" in text
    )
    r1 = next(r for r in a.fired_rules if r["id"] == "R1")
    assert r1["advice"] and r1["advice"] not in text
    # the precedence of the statuses, the one reached in bold
    assert "statuses by precedence: contraindicated > not recommended > indicated > insufficient data > " in text
    assert re.search(r"<b style='color:#[0-9a-f]{6}'>not recommended</b>", html)


def test_card_of_a_not_indicated_patient_shows_why(reasoner):
    """P06: no status rule fired; R1 does not apply (C1 not met), and each of its criteria is shown with its
    state and evidence; the other status rules are named as not fired."""
    a = _vignette(reasoner, "P06")
    text, _ = _visible(a._repr_html_())
    assert "not indicated: no status rule fired, so the default status." in text
    assert "R1 luteal insufficiency does not apply: C1 (low progesterone) not met; if it fired: indicated." in text
    assert "C1 low progesterone not met serum progesterone result: 25.0 ng/mL" in text
    assert "C2 symptom of threatened miscarriage met vaginal bleeding: light" in text
    assert "C3 normal embryonic development on ultrasound met obstetric ultrasound result" in text
    assert "Other status rules, not fired (nothing in the record matches them): R2 assisted reproduction" in text


def test_card_escapes_every_label_and_is_self_contained(reasoner):
    """Labels (from the ontology or the data) that hold markup are shown as text; the card loads nothing."""
    import dataclasses

    from kg_reasoner.write.html import assessment_html
    from kg_reasoner.write.legend import legend

    evil = "<script>alert(1)</script>"
    a = _vignette(reasoner, "P04")
    L = legend(a)
    L = dataclasses.replace(
        L,
        statuses=tuple(dataclasses.replace(s, label=s.label + evil) for s in L.statuses),
        rules={c: dataclasses.replace(r, label=r.label + evil) for c, r in L.rules.items()},
        states={c: label + evil for c, label in L.states.items()},
    )
    a = dataclasses.replace(
        a,
        patient=a.patient + evil,
        fired_rules=[
            dict(r, label=evil, sentences=[evil], evidence=[dict(e, fact=evil) for e in r["evidence"]])
            for r in a.fired_rules
        ],
        criteria={k: dict(c, label=evil, decided_by=[evil]) for k, c in a.criteria.items()},
        advice=[evil],
        unassessed_causes=[evil],
        graph_source=a.graph_source,
    )
    html = assessment_html(a, L)
    text, tags = _visible(html)
    assert "script" not in tags and "<script" not in html.lower() and html.count("&lt;script&gt;") > 10
    assert evil in text
    for name in ("P01", "P04", "P06", "P10"):
        html = _vignette(reasoner, name)._repr_html_()
        assert not re.search(r"<(script|link|img|iframe|style|object)|url\(|@import|src=|href=", html, re.I)


@pytest.fixture(scope="module")
def cohort(request):
    from kg_reasoner import Reasoner

    return Reasoner().assess_cohort(
        [DATA / "vignettes", {"id": "BAD", "vaginal_bleeding": "nope"}, {"id": "U", "ultrasound": "normal"}]
    )


def test_cohort_keeps_every_patient_and_every_error(cohort):
    assert len(cohort) == len(VIGNETTES) + 1
    assert [e.patient for e in cohort.errors] == ["BAD"]
    assert cohort.by_patient("U").status == "not_indicated"


@pytest.mark.slow  # a cohort
def test_cohort_to_dataframe_in_one_call(cohort):
    from kg_reasoner.cohort.result import COLUMNS

    df = cohort.to_dataframe()
    assert list(df.columns)[: len(COLUMNS)] == list(COLUMNS) and len(df) == len(cohort)
    counts = {k: v for k, v in df["status"].value_counts().to_dict().items() if v}
    assert counts == {k: v for k, v in cohort.status_counts().items() if k != "not assessed"}
    assert df.set_index("patient").loc["P01", "rules"] == "R1"
    rules = cohort.rules_dataframe()
    assert rules["rule"].value_counts().to_dict() == dict(cohort.rule_counts())
    errors = cohort.errors_dataframe()
    assert errors.loc[0, "patient"] == "BAD" and errors.loc[0, "field"] == "/vaginal_bleeding"


def test_cohort_html_summarises_counts(cohort):
    text, _ = _visible(cohort._repr_html_())
    assert f"{len(cohort)} patients assessed" in text and "1 input error(s)" in text
    assert "indicated: 4" in text


def test_cohort_store_answers_library_queries(cohort, tmp_path):
    store = cohort.to_store(tmp_path / "store")
    counts = {r["status"]: r["patients"] for r in store.select(read_text("queries", "status-counts.rq"))}
    assert counts == dict(cohort.status_counts())
    flagged = store.select(read_text("queries", "flags-across-cohort.rq"), flagCode="self_medication")
    assert {r["patientId"] for r in flagged} == {a.patient for a in cohort if "self_medication" in a.flags}
