"""A query's operator tree compiled into one Python function (``plans.QueryPlan.generated``,
``kg_reasoner.reason.plan_source``) answers as the operators' generators do: the same rows in the same
order, on the plan cases of tests/test_plans.py, on 1,000 seeded random queries (tests/sparql_fuzz.py) and
on every query call of the corpus."""

from __future__ import annotations

import pickle

import pyoxigraph as ox
import pytest
from sparql_fuzz import case, loaded
from test_plans import CASES, PREFIXES, THIS_CASES, _assess_corpus, _compare, both_ways, world  # noqa: F401 - a fixture

from kg_reasoner.reason import plans
from kg_reasoner.reason.plans import Fallback, TripleIndex, compile_select, select_algebra


@pytest.fixture
def tree_checked(monkeypatch):
    """Every query call run both ways, its compiled tree and the operators' generators: the same rows in the
    same order, or an AssertionError."""
    return both_ways(monkeypatch, plans.QueryPlan, "check_tree")


@pytest.mark.parametrize("where", CASES.values(), ids=CASES.keys())
def test_the_compiled_tree_answers_as_the_operators(world, where, tree_checked):  # noqa: F811
    _compare(world, where)


@pytest.mark.parametrize("where", THIS_CASES.values(), ids=THIS_CASES.keys())
def test_the_compiled_tree_answers_as_the_operators_with_this_bound(world, where, tree_checked):  # noqa: F811
    _compare(world, where, this="http://example.org/a", select="?this ?x")


def _both_ways(seed: int) -> str:
    """A seeded random query's rows from its compiled tree and from its operators: the same rows in the same
    order, or both hand the call to pyoxigraph."""
    c = case(seed)
    store, graphs = loaded(c)
    try:
        algebra = select_algebra(c.query)
    except Exception:  # noqa: BLE001 - a query rdflib refuses (tests/test_plans_fuzz.py counts them)
        return "refused"
    plan = compile_select(algebra=pickle.loads(pickle.dumps(algebra)))
    if plan is None:
        return "outside"
    parts = tuple(TripleIndex.from_store(store, g) for g in graphs)
    bindings = {"this": ox.NamedNode(c.this)} if c.this else {}
    answers = []
    for generated in (True, False):
        plan.generated = generated
        try:
            answers.append(plan.solutions(parts, bindings))
        except Fallback:
            answers.append("fallback")
    assert answers[0] == answers[1], f"seed {seed}\n{c.query}\ntree: {answers[0]}\noperators: {answers[1]}"
    return "fallback" if answers[0] == "fallback" else "rows" if answers[0] else "none"


def test_random_queries_answer_alike_both_ways():
    kinds = [_both_ways(seed) for seed in range(1000)]
    assert kinds.count("rows") >= 80, kinds


def test_every_query_call_of_the_corpus_answers_as_the_operators(tree_checked):
    """Every vignette, case, HL7 example and 40 synthetic patients, summary and full explanation: each query
    call (rules, constraints, explanations) run on its compiled tree and on its operators."""
    _assess_corpus()
    assert len(tree_checked) > 1000  # (query calls compared)


def test_the_compiled_tree_reads_as_nested_loops():
    """OPTIONAL, UNION, BIND and FILTER as loops and tests of one function; a left-deep chain of OPTIONALs
    too deep for one function is split into functions of its own."""
    where = (
        "?s ex:p ?x . OPTIONAL { ?s ex:q ?q } { ?s ex:r ?r } UNION { ?s ex:next ?n } BIND (?x AS ?y) FILTER (?y != 7)"
    )
    plan = compile_select(PREFIXES + f"SELECT ?s ?y ?q WHERE {{ {where} }}")
    assert plan is not None
    plan.solutions((TripleIndex(),), {})
    assert plan._tree is not None
    source = plan._tree.source
    assert "yield" not in source and "_extended(" in source and "_passes(" in source and "append(" in source
    chain = " ".join(f"OPTIONAL {{ ?s ex:o{i} ?v{i} }}" for i in range(20))
    deep = compile_select(PREFIXES + f"SELECT * WHERE {{ ?s ex:p ?x . {chain} }}")
    assert deep is not None
    index = TripleIndex([(ox.NamedNode("http://example.org/a"), ox.NamedNode("http://example.org/p"), ox.Literal("1"))])
    rows = deep.solutions((index,), {})
    assert callable(deep._tree) and deep._tree.source.count("for ") < 20
    deep.generated = False
    assert rows == deep.solutions((index,), {})


def test_the_operand_of_an_order_by_distinct_or_aggregate_runs_compiled(world, monkeypatch):  # noqa: F811
    """ORDER BY, DISTINCT and an aggregate run as themselves in a compiled tree, over their operand's tree
    compiled as a function of its own (``plans._operand_rows``): the rows of the operators' generators, in
    their order, compared on each call (``check_tree``)."""
    _store, _graphs, parts = world
    wheres = (
        "SELECT ?s ?x ?q WHERE { ?s ex:p ?x . OPTIONAL { ?s ex:q ?q } } ORDER BY ?x",
        "SELECT DISTINCT ?s WHERE { ?s ex:p ?x . OPTIONAL { ?s ex:q ?q } }",
        "SELECT ?s (COUNT(?q) AS ?n) WHERE { ?s ex:p ?x . OPTIONAL { ?s ex:q ?q } } GROUP BY ?s",
    )
    for text in wheres:
        plan = compile_select(PREFIXES + text)
        assert plan is not None
        compiled = plan.solutions(parts, {})
        owners = [n for n in _nodes(plan.root) if n._tree_made]
        assert owners and all(callable(n._tree) for n in owners), text
        with monkeypatch.context() as m:
            m.setattr(plans.QueryPlan, "generated", False)
            assert compiled == plan.solutions(parts, {}), text
    checked = both_ways(monkeypatch, plans.QueryPlan, "check_tree")
    for text in wheres:
        compile_select(PREFIXES + text).solutions(parts, {})  # (an AssertionError if they differ)
    assert len(checked) >= 2 * len(wheres)  # (the root's tree and its operand's)


def _nodes(node) -> list:
    """A plan's operators, depth first."""
    out = [node]
    for attr in ("p", "a", "b", "_base"):
        child = getattr(node, attr, None)
        if isinstance(child, plans._Plan):
            out += _nodes(child)
    return out
