"""Explanations come from SPARQL over self-contained graphs; patients never touch each other."""

from __future__ import annotations

import json
import re

import pytest
from conftest import ROOT, VIGNETTES, load_case, run_cli
from rdflib import Graph
from rdflib.compare import graph_diff, to_isomorphic

from kg_reasoner.explain.explanation import explain


def assert_isomorphic(a: Graph, b: Graph):
    """Compare graphs by isomorphism and print the difference on failure."""
    ia, ib = to_isomorphic(a), to_isomorphic(b)
    if ia != ib:
        _, only_a, only_b = graph_diff(ia, ib)
        pytest.fail(
            "graphs differ\nonly in first:\n"
            + only_a.serialize(format="nt")
            + "\nonly in second:\n"
            + only_b.serialize(format="nt")
        )


@pytest.fixture(scope="module")
def assessments(reasoner):
    return {load_case(p)["id"]: reasoner.assess(load_case(p)["patient"]) for p in VIGNETTES}


@pytest.mark.parametrize("vid", [p.stem for p in VIGNETTES])
def test_turtle_output_answers_the_explanation_queries_alone(assessments, vid):
    """The Turtle of an assessment, loaded into a fresh graph, answers the explanation queries the same way."""
    a = assessments[vid]
    fresh = Graph().parse(data=a.to_turtle(), format="turtle")
    assert explain(fresh, a.iri) == explain(a.graph, a.iri)
    assert_isomorphic(fresh, a.graph)


def test_cli_turtle_output_is_one_loadable_document(write_json):
    path = write_json("p.json", load_case(VIGNETTES[8])["patient"])  # P09: R2, R6, R7, partly met R1
    proc = run_cli("assess", str(path), "--format", "turtle")
    assert proc.returncode == 0, proc.stderr
    g = Graph().parse(data=proc.stdout, format="turtle")
    from rdflib import URIRef

    e = explain(g, URIRef("https://w3id.org/kg-reasoner/patient/P09"))
    assert e["status"] == "indicated" and [r["id"] for r in e["fired"]] == ["R2", "R6", "R7"]
    assert [m["criterion"] for m in e["missing"]] == ["C1", "C3"]


def test_asserted_and_inferred_are_separate_named_graphs(reasoner):
    pi = reasoner.read({"id": "G", "conception": "art", "vaginal_bleeding": "light"})[0]
    a = reasoner.assess_input(pi)
    assert_isomorphic(a.asserted, pi.graph)
    assert not set(a.asserted) & set(a.inferred)
    names = {str(g.identifier) for g in a.dataset.graphs()}
    assert f"{a.iri}/graph/asserted" in names and f"{a.iri}/graph/inferred" in names
    trig = a.dataset.serialize(format="trig")
    assert "graph/asserted" in trig and "graph/inferred" in trig


def test_cohort_run_equals_single_runs(reasoner, write_json):
    """One patient's facts never touch another's reasoning: assessing a cohort gives each patient exactly
    the inferred graph she gets alone."""
    cases = [load_case(p)["patient"] for p in VIGNETTES[:6]]
    path = write_json("cohort.json", cases)
    together = {a.patient: a for a in reasoner.assess_many([path])}
    for patient in cases:
        alone = reasoner.assess(patient)
        assert_isomorphic(together[patient["id"]].inferred, alone.inferred)
        strip = lambda lines: [re.sub(r" \[source: [^]]*\]", "", line) for line in lines]  # noqa: E731
        assert strip(together[patient["id"]].explanation_lines()) == strip(alone.explanation_lines())


def test_explanation_cites_source_records_and_times(reasoner):
    a = reasoner.assess(
        {
            "id": "S",
            "progesterone": [{"value": 6, "unit": "ng/mL", "reference_low": 10, "time": "2026-11-20T09:00:00+01:00"}],
        }
    )
    fact = a.criteria["C1"]["evidence"][0]
    assert fact["source"] == "<dict>#/progesterone/0"
    assert "at 2026-11-20T09:00:00+01:00" in fact["fact"]


def test_every_fired_rule_sentence_is_in_the_guidance(assessments):
    guidance = (ROOT / "docs" / "progesterone-miscarriage.txt").read_text(encoding="utf-8")
    seen = 0
    for a in assessments.values():
        for r in a.fired_rules:
            assert r["sentences"], r["id"]
            for s in r["sentences"]:
                assert s in guidance, (r["id"], s)
                seen += 1
    assert seen > 15


def test_no_query_text_in_python():
    """SPARQL lives in .rq files (and in the shapes), never in Python strings."""
    pattern = re.compile(r"\b(SELECT|CONSTRUCT|ASK|DESCRIBE)\s+[?*{$]|WHERE\s*\{", re.I)
    offenders = [str(p) for p in (ROOT / "kg_reasoner").rglob("*.py") if pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_no_decision_vocabulary_in_python():
    """No clinical decision is made in Python: status, flag and rule tokens come from the ontology."""
    pattern = re.compile(
        r"""["'](indicated|contraindicated|not_recommended|insufficient_data|not_indicated|"""
        r"""monitor|escalate|self_medication|review_treatment|urgent_evaluation|R[1-8]|E[12]|C[1-3])["']"""
    )
    offenders = [
        f"{p.name}:{m.group(0)}"
        for p in (ROOT / "kg_reasoner").rglob("*.py")
        for m in pattern.finditer(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_json_record_fields(assessments):
    d = json.loads(json.dumps(assessments["P04"].to_dict(), default=str))
    for key in (
        "patient",
        "status",
        "rules",
        "missing",
        "flags",
        "criteria",
        "diagnosis",
        "advice",
        "explanation",
        "data_problems",
        "fired_rules",
    ):
        assert key in d
    assert d["criteria"]["C1"]["state"] == "met"
    assert {r["id"] for r in d["fired_rules"]} == {"R1", "R3"}
    assert all(r["sentences"] for r in d["fired_rules"])
