"""Jupyter-facing API: an Assessment renders as a readable HTML card; a cohort result converts to a
pandas DataFrame in one call, keeps the inputs it could not read, and writes a SPARQL store."""

from __future__ import annotations

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
    for rule in a.fired_rules:
        assert rule["id"] in text and all(" ".join(s.split()) in text for s in rule["sentences"])
    for code, c in a.criteria.items():
        assert f"{code} {c['label']} {c['rule']} {c['state']}" in text
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
    assert "R1 is partly met" in text


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
    assert list(df.columns) == list(COLUMNS) and len(df) == len(cohort)
    assert df["status"].value_counts().to_dict() == {k: v for k, v in cohort.status_counts().items()}
    assert df.set_index("patient").loc["P01", "rules"] == ["R1"]
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
