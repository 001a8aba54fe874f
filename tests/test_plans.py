"""SPARQL plans (``kg_reasoner.reason.plans``): the rules' queries compiled into Python plans over one
patient's index answer exactly as pyoxigraph does, on small queries that probe the algebra's corners
(scope of FILTER, OPTIONAL, EXISTS, subqueries, errors, literal values) and on every rule call of every
patient of the corpus. What a plan cannot evaluate as oxigraph would is handed to pyoxigraph."""

from __future__ import annotations

import gc
import pickle
from pathlib import Path

import hypothesis
import pyoxigraph as ox
import pytest
from hypothesis import strategies as st
from rdflib.namespace import RDF

from kg_reasoner.api import Reasoner
from kg_reasoner.errors import InputError
from kg_reasoner.explain.explanation import explain
from kg_reasoner.reason.fast import FastEngine
from kg_reasoner.reason.plans import Fallback, QueryPlan, TripleIndex, compile_select, select_algebra
from kg_reasoner.testing.synthetic import cohort

DATA = Path(__file__).parent / "data"
PREFIXES = "PREFIX ex: <http://example.org/> PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n"
TURTLE_PREFIXES = "@prefix ex: <http://example.org/> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"

# the patient's asserted graph, her inferred graph, and a graph standing for the ontology (one triple is
# in two graphs: the default graph is their multiset union, as oxigraph's list of default graphs)
GRAPHS = {
    "ontology": """
        ex:a ex:p 1 .
        ex:C ex:label "a class" .
    """,
    "asserted": """
        ex:a ex:p 1 ; ex:q 2 ; ex:r "x" ; ex:self ex:a ; ex:u 1.5 ; ex:flag "1"^^xsd:boolean ;
             ex:t "2020-01-01T10:00:00Z"^^xsd:dateTime ; ex:dec "95.400"^^xsd:decimal ; a ex:C .
        ex:b ex:p 3 ; ex:q 2.5 ; ex:next ex:c ; ex:self ex:x ;
             ex:t "2020-01-02T10:00:00+01:00"^^xsd:dateTime ; a ex:C .
        ex:c ex:p 2 ; ex:next ex:d ; ex:v [ ex:w 5 ] ; ex:local "2020-01-01T10:00:00"^^xsd:dateTime .
        ex:d ex:q 7 ; ex:r "y#z" ; ex:local "2020-01-03T10:00:00"^^xsd:dateTime ; ex:d2 1.0e0 .
    """,
    "inferred": """
        ex:b ex:r "b" .
        ex:c a ex:C .
    """,
}


@pytest.fixture(scope="module")
def world():
    store = ox.Store()
    graphs = []
    for name, turtle in GRAPHS.items():
        g = ox.NamedNode(f"urn:test:{name}")
        store.load(
            (
                "@prefix ex: <http://example.org/> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n" + turtle
            ).encode(),
            format=ox.RdfFormat.TURTLE,
            to_graph=g,
        )
        graphs.append(g)
    parts = tuple(TripleIndex.from_store(store, g) for g in graphs)
    return store, graphs, parts


def _rows(plan_names, rows):
    return sorted(tuple("" if r.get(n) is None else str(r[n]) for n in plan_names) for r in rows)


def _compare(world, where: str, this: str | None = None, select: str = "*"):
    store, graphs, parts = world
    text = PREFIXES + f"SELECT {select} WHERE {{ {where} }}"
    plan = QueryPlan(algebra=pickle.loads(pickle.dumps(select_algebra(text))))  # as the knowledge base keeps it
    bindings = {"this": ox.NamedNode(this)} if this else {}
    planned_sols = plan.solutions(parts, bindings)
    result = store.query(text, default_graph=graphs, substitutions={ox.Variable(k): v for k, v in bindings.items()})
    names = [v.value for v in result.variables]
    assert sorted(names) == sorted(plan.names)
    planned = _rows(names, planned_sols)
    oxigraph = _rows(names, [{n: sol[n] for n in names if sol[n] is not None} for sol in result])
    assert planned == oxigraph, f"\nplan:       {planned}\npyoxigraph: {oxigraph}"
    return planned


CASES = {
    "bgp-join": "?s ex:p ?x ; ex:q ?y .",
    "multiset-of-graphs": "?s ex:p ?x .",
    "same-variable-twice": "?s ex:self ?s .",
    "blank-node-pattern": "?s ex:v [ ex:w ?w ] .",
    "variable-predicate": "ex:a ?p ?o .",
    "alternative-path": "?s ex:q|ex:r ?x .",
    "sequence-path": "?s ex:next/ex:next ?x .",
    "sequence-path-from-object": "?s ex:next/ex:q 7 .",
    "inverse-path": "?x ^ex:next ?s .",
    "optional-filter-sees-both-sides": "?s ex:p ?x . OPTIONAL { ?s ex:q ?y FILTER (?y > ?x) }",
    "optional-unbound-then-filter": "?s ex:p ?x . OPTIONAL { ?s ex:r ?z } FILTER (!BOUND(?z))",
    "inner-group-filter-cannot-see-outer": "?s ex:p ?x . { ?s ex:q ?y FILTER (?x = 1) }",
    "join-on-a-variable-an-optional-may-leave-unbound": "{ ?s ex:p ?x OPTIONAL { ?s ex:q ?y } } { ?t ex:q ?y }",
    "not-exists-correlated": "?s ex:p ?x FILTER NOT EXISTS { ?s ex:q ?y FILTER (?y > ?x) }",
    "exists-with-optionals": (
        "?s a ex:C . FILTER NOT EXISTS { ?o a ex:C ; ex:t ?t2 . FILTER (?o != ?s) "
        "OPTIONAL { ?s ex:t ?t1 } FILTER (!BOUND(?t1) || ?t2 > ?t1) }"
    ),
    "exists-in-bind-with-its-own-filter": (
        "?s ex:p ?x . BIND (EXISTS { ?s ex:next ?n . FILTER NOT EXISTS { ?n ex:q ?y } } AS ?e)"
    ),
    "union-with-bind": "{ ?s ex:p ?x BIND (1 AS ?k) } UNION { ?s ex:q ?x BIND (2 AS ?k) }",
    "arithmetic": "?s ex:p ?x . BIND (?x * 3.18 AS ?a) BIND (?x / 7 AS ?b) BIND (?x + 1 AS ?c) BIND (FLOOR(?x / 7) AS ?d) BIND (-?x AS ?e)",
    "decimal-arithmetic": "?s ex:u ?x . BIND (?x * 10 AS ?a) BIND (?x - 1.5 AS ?z) BIND (?x / 0 AS ?err)",
    "numeric-comparisons": "?s ex:p ?x ; ex:q ?y . FILTER (?x < ?y || ?x = ?y) BIND (?x >= ?y AS ?ge) BIND (?x <= 1 AS ?le)",
    "in-and-not-in-with-errors": "?s ex:p ?x . BIND (?x IN (1, ?nothing, 2) AS ?i) BIND (?x NOT IN (5, 6) AS ?n)",
    "coalesce-and-if": '?s ex:p ?x . OPTIONAL { ?s ex:r ?z } BIND (COALESCE(?z, ?x) AS ?c) BIND (IF(BOUND(?z), "a", ?none) AS ?i)',
    "strings-and-iris": (
        '?s ex:r ?r . BIND (IRI(CONCAT(STR(?s), "/j")) AS ?j) BIND (STRAFTER(?r, "#") AS ?f) '
        'BIND (?r = "x" AS ?eq) BIND (?r < "y" AS ?lt)'
    ),
    "is-numeric": "{ ?s ?p ?o FILTER (?p != ex:d2) } BIND (isNUMERIC(?o) AS ?n)",
    "datetimes-with-zones": "ex:a ex:t ?x . ex:b ex:t ?y . BIND (?x < ?y AS ?lt) BIND (?x = ?y AS ?eq)",
    "local-datetimes": "ex:c ex:local ?x . ex:d ex:local ?y . FILTER (?x < ?y)",
    "canonical-literals-match": "?s ex:flag true ; ex:dec 95.4 .",
    "string-functions-of-str-and-constants": (
        '?s ex:p ?x . OPTIONAL { ?s ex:r ?r } BIND (CONCAT(STR(?x), "-", STR(?r)) AS ?c) '
        'BIND (STRSTARTS(STR(?s), "http") AS ?h) BIND (STRAFTER(STR(?s), "example.org/") AS ?a) '
        'BIND (CONCAT(?x, "y") AS ?err) BIND (CONTAINS(STR(?nothing), "a") AS ?none) FILTER (STRENDS(STR(?s), ?r) || true)'
    ),
    "a-filter-keeps-a-variable-to-iris": "?s a ?c ; ex:p ?x . FILTER (?c IN (ex:C, ex:D))",
    "a-scan-of-a-predicate-binds-two-variables": "?s ex:p ?x . ?t ex:next ?u . FILTER (?x != 2)",
    "effective-boolean-values": "?s ex:p ?x . FILTER (?x) OPTIONAL { ?s ex:r ?r FILTER (?r) }",
    "count-over-nothing": "{ SELECT (COUNT(?y) AS ?n) WHERE { ?y ex:nothing ?z } }",
    "count-by-group": "{ SELECT ?s (COUNT(*) AS ?n) (COUNT(DISTINCT ?x) AS ?d) WHERE { ?s ?p ?x } GROUP BY ?s }",
    "sample-of-one": "{ SELECT ?s (SAMPLE(?x) AS ?one) WHERE { ?s ex:q ?x } GROUP BY ?s }",
    "distinct-subquery": "{ SELECT DISTINCT ?c WHERE { ?s a ?c } } ?t a ?c .",
    "values-with-undef": "VALUES (?s ?x) { (ex:a 1) (ex:b UNDEF) (ex:zz 3) } ?s ex:p ?x .",
    "zero-or-more-path": "ex:b ex:next* ?x .",
    "one-or-more-path-backwards": "?x ex:next+ ex:d .",
    "zero-or-one-path": "ex:b ex:next? ?x .",
    "term-tests-and-string-tests": (
        '?s ?p ?o . BIND (isIRI(?o) AS ?i) BIND (isLITERAL(?o) AS ?l) BIND (STRSTARTS(STR(?p), "http://example.org/n") AS ?n)'
    ),
    # FILTER conjuncts tested as soon as what they read is bound, and IRI domains bound, not scanned
    "filter-pushed-into-a-join": "?s ex:p ?x . ?s ex:next ?n . ?n ex:p ?y . FILTER (?y > ?x)",
    "filter-on-an-optional-variable-stays-above": "?s ex:p ?x . OPTIONAL { ?s ex:q ?y } FILTER (!BOUND(?y) || ?y > 2)",
    "filter-on-a-bound-variable": "?s ex:p ?x . BIND (?x + 1 AS ?z) FILTER (?z > 2)",
    "filter-reading-a-variable-of-the-other-side": "{ ?s ex:p ?x } { ?t ex:q ?y FILTER (?x < ?y) }",
    "exists-reading-a-later-variable": "?s ex:p ?x . ?s ex:q ?y . FILTER NOT EXISTS { ?s ex:r ?r . FILTER (?y > 2) }",
    "iri-domain": "?s ?p ?o . FILTER (?p IN (ex:p, ex:q))",
    "iri-domain-against-literals": "?s ex:p ?o . FILTER (?o = ex:a || ?o = 1)",
    "iri-domains-on-two-variables": "?s ex:next ?n . FILTER (?s = ex:b && ?n IN (ex:c, ex:d))",
    "iri-domain-never-matched": "?s ex:p ?o . FILTER (?s IN (ex:nobody))",
    "bind-error-leaves-unbound": "?s ex:r ?r . BIND (?r * 2 AS ?bad) BIND (STR(?bad) AS ?worse)",
    # the steps _solve runs without its generic loop: one variable bound, or a bound triple tested
    "bound-triple-in-two-graphs-counts-twice": "?s ex:q ?y . ?s ex:p 1 .",
    "bound-triple-tested-per-solution": "?s ex:next ?n . ?n ex:p ?x . ?s ex:next ?n .",
    "subjects-of-a-bound-object": "?s a ex:C . ?t a ex:C . FILTER (?s != ?t)",
    "one-variable-with-a-filter-on-it": "?s ex:p ?x . ?s ex:q ?y . FILTER (?y > 2)",
    # filter tests moved past the bound-triple tests after them (plans._tests_after_lookups)
    "filter-after-a-bound-triple-in-two-graphs": "?s ex:q ?y . ?s ex:p 1 . FILTER (?y > 1)",
    "filter-erring-after-a-bound-triple": '?s ex:r ?r . ?s ex:p 1 . FILTER (?r * 2 > 1 || ?r = "x")',
    "most-specific-class-not-exists": (
        "?s a ?c . FILTER NOT EXISTS { ?s a ?sub . FILTER (isIRI(?sub) && ?sub != ?c) ?sub ex:label ?c }"
    ),
    # an EXISTS over triples tested depth first, a lookup and the bound-triple tests after it in one stage
    "exists-lookup-then-bound-triple": "?s ex:p ?x . FILTER EXISTS { ?s ex:next ?n . ?n ex:p 2 }",
    "not-exists-lookup-then-bound-triples": "?s ex:p ?x . FILTER NOT EXISTS { ?t ex:next ?s . ?t a ex:C . ?t ex:p 3 }",
    "exists-as-a-value": "?s a ex:C . BIND (EXISTS { ?s ex:p ?x . ?s ex:p 1 } AS ?one)",
    # a FILTER (NOT) EXISTS tested after the BGP's last step (plans._Bgp._order), not as soon as it can be
    "not-exists-after-the-last-step": "?s a ?c . ?x ex:label ?c . FILTER NOT EXISTS { ?c ex:next ?n }",
    "exists-reading-the-first-variable-only": "?s ex:p ?x ; ex:q ?y . FILTER EXISTS { ?s ex:next ?n }",
    "not-exists-on-a-last-path-step-binding-nothing": "?s ex:flag true . ?s ex:self|ex:next ?s . FILTER NOT EXISTS { ?s ex:q ?y }",
    "exists-on-a-last-path-step-binding-nothing": "?s ex:flag true . ?s ex:self|ex:next ?s . FILTER EXISTS { ?s ex:q ?y }",
    # a join passing its left row whole to a BGP that reads only its own variables (plans._takes_the_row)
    "optional-chain-with-paths-and-blanks": (
        "?s ex:p ?x . OPTIONAL { ?s ex:q ?y } OPTIONAL { ?s ex:next/ex:q ?n } OPTIONAL { ?s ex:v [ ex:w ?w ] }"
    ),
    "optional-whose-filter-reads-the-left-row": "?s ex:p ?x . OPTIONAL { ?s ex:q ?y FILTER (?y > ?x) } ",
    "group-with-its-own-filter-joined": "?s ex:p ?x . { ?s ex:q ?y FILTER (?y > 2) }",
    "optional-after-a-subquery": "{ SELECT ?s WHERE { ?s ex:p ?x } } OPTIONAL { ?s ex:q ?y }",
    "optional-binding-a-variable-the-left-row-has": "?s ex:q ?y . OPTIONAL { ?s ex:q ?y . ?s ex:p ?x }",
    # the types of a node bound at run time read after a narrower lookup (plans._estimate)
    "types-of-a-bound-node-after-a-lookup": "?s ex:next ?n . ?s ex:p ?x . ?n a ?c . ex:C ex:label ?l .",
}


@pytest.mark.parametrize("where", CASES.values(), ids=CASES.keys())
def test_a_plan_answers_as_pyoxigraph(world, where):
    _compare(world, where)


# A FILTER of one constant that Python reads as false: rdflib's translation drops it (RDFLib/rdflib#3381, found
# by tests/test_plans_fuzz.py); the plans apply it, as SPARQL 1.1 and pyoxigraph do (plans._keep_constant_filters)
CONSTANT_FILTERS = {
    "constant-false-filter": "?s ex:p ?x . FILTER (false)",
    "constant-zero-filter-on-an-empty-group": "FILTER (0)",
    "constant-empty-string-filter-in-an-optional": '?s ex:p ?x . OPTIONAL { ?s ex:q ?y FILTER ("") }',
    "bracketed-constant-filter-in-not-exists": "?s ex:p ?x . FILTER NOT EXISTS { ?s ex:q ?y FILTER ((0.0)) }",
    "constant-true-filter": "?s ex:p ?x . FILTER (1)",
    "typed-constant-filter": '?s ex:p ?x . FILTER ("false"^^xsd:boolean)',
    "constant-filter-beside-another": "?s ex:p ?x . FILTER (0) FILTER (?x > 1)",
}


@pytest.mark.parametrize("where", CONSTANT_FILTERS.values(), ids=CONSTANT_FILTERS.keys())
def test_a_filter_of_one_constant_applies_as_in_pyoxigraph(world, where):
    _compare(world, where)


def test_an_exists_over_triples_is_tested_depth_first(world, monkeypatch):
    """rdflib's algebra joins an EXISTS group onto an empty BGP; the plans drop that join, so the EXISTS
    runs on ``_Bgp.exists`` (depth first, stopping at the first solution; its steps in stages: ``_stages``)."""
    from kg_reasoner.reason import plans

    calls = []
    exists = plans._Bgp.exists
    monkeypatch.setattr(plans._Bgp, "exists", lambda self, mu, parts: calls.append(1) or exists(self, mu, parts))
    assert _compare(world, CASES["exists-lookup-then-bound-triple"]) == [
        ("<http://example.org/b>", '"3"^^<http://www.w3.org/2001/XMLSchema#integer>')
    ]
    assert calls
    lookup, test = ("get", (("1", "x"),), None, ()), ("get", (), None, ())
    walk = ("get", (), "a path", ())
    assert plans._stages((lookup, test, test, lookup, walk, test)) == ((lookup, test, test), (lookup,), (walk, test))


def test_filter_tests_wait_for_the_bound_triple_tests_after_them():
    """plans._tests_after_lookups: a step's filter tests move past the steps right after it that only test a
    bound triple (no variable bound, no path), onto the last of them; a step that binds or walks a path
    stops them."""
    from kg_reasoner.reason.plans import _tests_after_lookups

    lookup, test, path_step = ("get", (("1", "x"),), None), ("get", (), None), ("get", (), "a path")
    steps = [(*lookup, ("t1",)), (*test, ()), (*test, ("t2",)), (*lookup, ("t3",)), (*path_step, ()), (*lookup, ())]
    moved = _tests_after_lookups(steps)
    assert [step[3] for step in moved] == [(), (), ("t1", "t2"), ("t3",), (), ()]
    assert [step[:3] for step in moved] == [step[:3] for step in steps]


def test_an_index_builds_its_subject_and_object_indexes_when_first_read():
    """TripleIndex.s and .o are built from the other indexes when first read, and kept up to date after."""
    a, b, c, p, q = (ox.NamedNode(f"http://example.org/{n}") for n in "abcpq")
    idx = TripleIndex([(a, p, b), (a, q, c), (b, p, c)])
    assert idx._s is None and idx._o is None
    assert sorted(map(str, idx.s[a])) == sorted(map(str, [(p, b), (q, c)])) and idx.o[c] == [(a, q), (b, p)]
    idx.add((c, p, a))
    idx.add((c, p, a))  # (a triple already held: not indexed twice)
    assert idx.s[c] == [(p, a)] and idx.o[a] == [(c, p)]
    assert not [t for t in idx.triples if (t[1], t[2]) not in idx.s[t[0]] or (t[0], t[1]) not in idx.o[t[2]]]


def _steps(where: str, bound: frozenset, ontology: str = "ex:x a ex:A .") -> tuple:
    """(tests run on entry, join steps) of the query's one BGP for the variables bound on entry, ordered
    on the statistics of the Turtle ``ontology`` (the first part's)."""
    from kg_reasoner.reason.plans import _Bgp

    store, graph = ox.Store(), ox.NamedNode("urn:test:ontology")
    rdfs = "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
    store.load((TURTLE_PREFIXES + rdfs + ontology).encode(), format=ox.RdfFormat.TURTLE, to_graph=graph)
    node = QueryPlan(PREFIXES + f"SELECT * WHERE {{ {where} }}").root
    while not isinstance(node, _Bgp):
        node = node.p
    return node._order(bound, TripleIndex.from_store(store, graph))


def test_an_exists_filter_waits_for_the_last_step_of_its_bgp():
    """A FILTER (NOT) EXISTS matches a pattern for each row it tests: it runs after the BGP's last step, when
    the lookups have dropped the rows they drop, not as soon as the variables it reads are bound (a cheap
    filter still runs then)."""
    first, steps = _steps(
        "?s a ?c . ?x ex:label ?c . FILTER NOT EXISTS { ?c ex:next ?n } FILTER (isIRI(?c))", frozenset({"s"})
    )
    assert not first and len(steps) == 2
    assert [len(step[3]) for step in steps] == [1, 1]  # isIRI with the step binding ?c, NOT EXISTS at the end
    assert steps[0][3][0].costly is False and steps[1][3][0].costly is True
    # a test that reads only what is bound on entry still runs before every step (once per call)
    first, steps = _steps("?s a ?c . FILTER NOT EXISTS { ?s ex:next ?n }", frozenset({"s"}))
    assert len(first) == 1 and first[0].costly and not steps[0][3]


def test_the_types_of_a_node_bound_at_run_time_count_its_superclasses():
    """plans._estimate: a node bound at run time may be a patient's, whose types are closed under
    rdfs:subClassOf; the ontology's individuals (one or two types each) would make its types look like the
    cheapest step. With ?c and ?r bound, ``?c ex:p ?t`` (two objects per subject) runs first, then the
    type of ?r is a bound triple's test."""
    ontology = (
        "ex:A rdfs:subClassOf ex:B , ex:C , ex:D , ex:E . ex:x a ex:A . ex:y a ex:B . "
        "ex:k ex:p ex:B , ex:C . ex:k2 ex:p ex:D , ex:E ."
    )
    _first, steps = _steps("?r a ?t . ?c ex:p ?t .", frozenset({"c", "r"}), ontology)
    assert [step[0][1][1].value for step in steps] == ["http://example.org/p", str(RDF.type)]
    assert steps[1][1] == ()  # (binds nothing)


THIS_CASES = {
    "this-in-a-pattern": "$this ex:p ?x .",
    "this-only-in-an-optional": "OPTIONAL { $this ex:p ?x }",
    "this-in-a-filter": "?s ex:p ?x . FILTER (?s = $this)",
    "this-in-not-exists": "?s ex:p ?x . FILTER NOT EXISTS { $this ex:q ?x }",
    "this-not-seen-by-a-subquery": "{ SELECT ?x WHERE { ?this ex:p ?x } }",
    "this-in-a-union": "{ $this ex:p ?x } UNION { ?s ex:q ?x }",
}


@pytest.mark.parametrize("where", THIS_CASES.values(), ids=THIS_CASES.keys())
@pytest.mark.parametrize("this", ["http://example.org/a", "http://example.org/nobody"], ids=["a", "nobody"])
def test_this_is_substituted_as_pyoxigraph_does(world, where, this):
    _compare(world, where, this=this, select="?this ?x")


FALLBACKS = {
    "double-arithmetic": "?s ex:d2 ?x . BIND (?x * 2 AS ?y)",
    "datetimes-with-and-without-zone": "ex:a ex:t ?x . ex:c ex:local ?y . FILTER (?x < ?y)",
    "sample-with-a-choice": "{ SELECT (SAMPLE(?x) AS ?one) WHERE { ?s ex:q ?x } }",
    "string-against-number": '?s ex:p ?x . FILTER (?x = "1")',
    "repeated-path-with-both-ends-unbound": "?s ex:next* ?x .",
    "relative-iri": "?s ex:r ?r . BIND (IRI(?r) AS ?i)",
}


ORDERED = {
    "numbers": ("?s ex:p ?x .", "?x"),
    "descending-then-ascending": ("?s ex:p ?x ; ex:q ?y .", "DESC(?x) ?y"),
    "iris": ("?s ex:p ?x .", "?s"),
    "unbound-first": ("?s ex:p ?x . OPTIONAL { ?s ex:r ?r }", "?r ?s"),
}


@pytest.mark.parametrize("where,order", ORDERED.values(), ids=ORDERED.keys())
def test_an_ordered_plan_orders_as_pyoxigraph(world, where, order):
    store, graphs, parts = world
    text = PREFIXES + f"SELECT * WHERE {{ {where} }} ORDER BY {order}"
    plan = QueryPlan(text)
    result = store.query(text, default_graph=graphs)
    names = [v.value for v in result.variables]
    oxigraph = [tuple(str(sol[n]) if sol[n] is not None else "" for n in names) for sol in result]
    planned = [tuple(str(r[n]) if n in r else "" for n in names) for r in plan.solutions(parts, {})]
    assert planned == oxigraph


def test_an_order_by_sort_keys_is_the_order_of_the_comparisons(monkeypatch):
    """ORDER BY sorts by keys (``plans._order_keys``) when each key's values are of one kind: the rows, their
    order and the Fallbacks (rows left tied, kinds mixed) of the pairwise comparisons (``_order_compare``),
    on seeded random data of numbers, IRIs, strings, unbound values and ties, keys ascending and descending."""
    import random

    from kg_reasoner.reason import plans

    ex = "http://example.org/"
    integer, decimal = ox.NamedNode(XSD_INTEGER), ox.NamedNode("http://www.w3.org/2001/XMLSchema#decimal")
    orders = ("DESC(?x) ?y ?s", "?y DESC(?s)", "?x", "DESC(?y) DESC(?x)")
    kinds = {"fast": 0, "fallback": 0}
    for seed in range(60):
        rng = random.Random(seed)

        def value(rng=rng, seed=seed):
            roll = rng.randrange(4 if seed % 3 else 5)
            if roll == 0:
                return ox.Literal(str(rng.randrange(4)), datatype=integer)
            if roll == 1:
                return ox.Literal(f"{rng.randrange(4)}.{rng.choice('05')}", datatype=decimal)
            if roll == 2:
                return ox.NamedNode(ex + rng.choice("abc"))
            if roll == 3 and seed % 2:
                return ox.NamedNode(ex + rng.choice("de"))
            return ox.Literal(rng.choice("xyz"))  # (a string: a second kind of literal)

        triples = []
        for i in range(rng.randrange(1, 9)):
            node = ox.NamedNode(f"{ex}n{i}")
            triples.append((node, ox.NamedNode(ex + "a"), value()))
            if rng.random() < 0.6:
                triples.append((node, ox.NamedNode(ex + "b"), value()))
        parts = (TripleIndex(triples),)
        text = PREFIXES + "SELECT * WHERE { ?s ex:a ?x . OPTIONAL { ?s ex:b ?y } } ORDER BY " + orders[seed % 4]

        def answer(text=text, parts=parts):
            try:
                return [sorted((k, str(v)) for k, v in row.items()) for row in QueryPlan(text).solutions(parts, {})]
            except Fallback:
                return "fallback"

        by_keys = answer()
        with monkeypatch.context() as m:
            m.setattr(plans, "_order_keys", lambda rows, n: None)
            assert by_keys == answer(), text
        kinds["fallback" if by_keys == "fallback" else "fast"] += 1
    assert kinds["fast"] > 10 and kinds["fallback"] > 10


@pytest.mark.parametrize(
    "where,order",
    [("?s a ?c .", "?c"), ("?s ?p ?o .", "?o")],
    ids=["rows-left-tied", "kinds-of-literal-mixed"],
)
def test_an_order_oxigraph_would_decide_by_its_own_rules_falls_back(world, where, order):
    _store, _graphs, parts = world
    with pytest.raises(Fallback):
        QueryPlan(PREFIXES + f"SELECT * WHERE {{ {where} }} ORDER BY {order}").solutions(parts, {})


@pytest.mark.parametrize("where", FALLBACKS.values(), ids=FALLBACKS.keys())
def test_what_a_plan_cannot_evaluate_exactly_falls_back(world, where):
    _store, _graphs, parts = world
    with pytest.raises(Fallback):
        QueryPlan(PREFIXES + f"SELECT * WHERE {{ {where} }}").solutions(parts, {})


# Cases an independent review found (each a plan that answered differently from pyoxigraph 0.5): own
# data per case, the plan must answer as pyoxigraph or hand the call to it (Fallback).
NOBODY = "http://example.org/nobody"
REVIEWED = {
    "inverse-path-keeps-multiplicity": ({"o": "ex:a ex:p ex:b .", "a": "ex:a ex:p ex:b ."}, "ex:b ^ex:p ?s", None),
    "sequence-path-keeps-multiplicity": (
        {"a": "ex:a ex:p ex:b , ex:c . ex:b ex:q ex:d . ex:c ex:q ex:d ."},
        "ex:a ex:p/ex:q ?o",
        None,
    ),
    "alternative-then-optional-step": (
        {"o": "ex:r ex:has ex:c1 , ex:c2 . ex:c1 ex:counts ex:c2 ."},
        "ex:r (ex:has|ex:trig)/ex:counts? ?c",
        None,
    ),
    "zero-length-path-from-a-node-not-in-the-graph": ({"o": "ex:a ex:p ex:b ."}, "ex:zz ex:p* ?o", None),
    "a-nested-group-cannot-see-a-joined-variable": (
        {"a": "ex:a ex:q 2 . ex:t ex:s 9 ."},
        "?s2 ex:q ?x . { ?s ex:q ?x . { ?t ex:s ?z FILTER (!BOUND(?x)) } }",
        None,
    ),
    "a-union-branch-cannot-see-a-joined-variable": (
        {"a": "ex:a ex:q 2 . ex:t ex:s 9 ."},
        "?s2 ex:q ?x . { ?s ex:q ?x } UNION { ?t ex:s ?z FILTER (!BOUND(?x)) }",
        None,
    ),
    "this-into-a-subquery-projecting-it": (
        {"a": "ex:a ex:p 1 ."},
        "{ SELECT ?this WHERE { OPTIONAL { ?this ex:p ?x } } }",
        NOBODY,
    ),
    "exists-into-a-subquery": (
        {"a": "ex:a ex:q 2 ; ex:r ex:c . ex:c ex:r ex:d ."},
        "?s ex:r ?o FILTER EXISTS { SELECT ?s WHERE { OPTIONAL { ?s ex:q ?y } } }",
        None,
    ),
    "decimal-sum-of-28-digits": (
        {"a": "ex:a ex:d 12345678901.123456789012345678 ."},
        "ex:a ex:d ?x BIND (?x + 0 AS ?y)",
        None,
    ),
    "decimal-product-beyond-18-places": (
        {"a": "ex:a ex:d 151377538.45 ."},
        "ex:a ex:d ?x BIND (?x * 6.75207741380295685 AS ?y)",
        None,
    ),
    "zero-divided": ({"a": "ex:a ex:n 0 ."}, "ex:a ex:n ?n BIND (?n / 2.5 AS ?y) BIND (?n * 2.5 AS ?z)", None),
    "division-by-a-long-quotient": ({"a": "ex:a ex:n 1000 ."}, "ex:a ex:n ?n BIND (?n / (1 / 7) AS ?y)", None),
    "decimal-with-an-exponent": ({"a": 'ex:a ex:v "1e3"^^xsd:decimal .'}, "ex:a ex:v ?x BIND (?x = 1000 AS ?b)", None),
    "integer-beyond-64-bits": ({"a": "ex:a ex:v 99999999999999999999 ."}, "ex:a ex:v ?x BIND (?x > 1 AS ?b)", None),
    "datetime-below-a-microsecond": (
        {
            "a": 'ex:a ex:t "2020-01-01T10:00:00.0000001Z"^^xsd:dateTime . ex:b ex:t "2020-01-01T10:00:00Z"^^xsd:dateTime .'
        },
        "ex:a ex:t ?x . ex:b ex:t ?y BIND (?x = ?y AS ?e)",
        None,
    ),
    "datetime-not-in-xsd-form": (
        {"a": 'ex:a ex:t "2020-01-01 10:00:00Z"^^xsd:dateTime . ex:b ex:t "2020-01-01T10:00:00Z"^^xsd:dateTime .'},
        "ex:a ex:t ?x . ex:b ex:t ?y BIND (?x = ?y AS ?e)",
        None,
    ),
    "constant-date-kept-as-written": (
        {"a": 'ex:a ex:v "2020-01-01Z"^^xsd:date .'},
        '?s ex:v "2020-01-01Z"^^xsd:date',
        None,
    ),
    "booleans-ordered": ({"a": "ex:a ex:f false ."}, "ex:a ex:f ?f BIND (?f < true AS ?b)", None),
    "count-of-an-erring-expression": (
        {"a": 'ex:a ex:p 1 , "s" .'},
        "{ SELECT (COUNT(?x + 1) AS ?n) WHERE { ?s ex:p ?x } }",
        None,
    ),
    "the-string-undef-in-values": ({"a": 'ex:a ex:r "x" .'}, 'VALUES ?r { "UNDEF" } ?s ex:r ?r', None),
    "exists-binding-by-values": (
        {"a": "ex:a ex:p 1 . ex:b ex:p 3 ."},
        "?s ex:p ?x FILTER EXISTS { VALUES ?x { 1 2 } }",
        None,
    ),
    "not-a-number-decimal": ({"a": 'ex:a ex:v "NaN"^^xsd:decimal .'}, "?s ex:v ?x FILTER (?x < 1)", None),
    # the fresh variables of two expanded sequence paths, one in a BGP and one in the EXISTS it tests, named
    # alike: the EXISTS compared its own with the outer one and dropped the solution (review, 2026-12-04)
    "sequence-paths-inside-and-outside-an-exists": (
        {"a": "ex:s ex:n ex:m1 ; ex:e 1 . ex:m1 ex:m ex:t . ex:u ex:c ex:m2 . ex:m2 ex:d ex:w ."},
        "?s ex:n/ex:m ?t . FILTER EXISTS { ?s ex:e ?v . ?z ex:c/ex:d ?w }",
        None,
    ),
    "sequence-paths-inside-and-outside-an-exists-with-a-join": (
        {"a": "ex:s ex:n ex:m1 . ex:m1 ex:m ex:t . ex:u ex:c ex:m2 . ex:m2 ex:d ex:w . ex:s ex:k [ ex:j 1 ] ."},
        "?s ex:n/ex:m ?t . FILTER EXISTS { { ?s ex:k [ ex:j ?v ] } { ?z ex:c/ex:d ?w } }",
        None,
    ),
    "sequence-paths-inside-and-outside-an-exists-with-an-optional": (
        {"a": "ex:s ex:n ex:m1 . ex:m1 ex:m ex:t . ex:u ex:c ex:m2 . ex:m2 ex:d ex:w . ex:s ex:k [ ex:j 1 ] ."},
        "?s ex:n/ex:m ?t . FILTER EXISTS { ?s ex:k [ ex:j ?v ] OPTIONAL { ?z ex:c/ex:d ?w } FILTER (BOUND(?w)) }",
        None,
    ),
}


#: the corners a plan answers itself (the others are values it hands to pyoxigraph)
ANSWERED = {
    REVIEWED[k][1]
    for k in (
        "inverse-path-keeps-multiplicity",
        "sequence-path-keeps-multiplicity",
        "alternative-then-optional-step",
        "zero-length-path-from-a-node-not-in-the-graph",
        "a-nested-group-cannot-see-a-joined-variable",
        "a-union-branch-cannot-see-a-joined-variable",
        "decimal-sum-of-28-digits",
        "zero-divided",
        "division-by-a-long-quotient",
        "constant-date-kept-as-written",
        "the-string-undef-in-values",
        "exists-binding-by-values",
        "sequence-paths-inside-and-outside-an-exists",
        "sequence-paths-inside-and-outside-an-exists-with-a-join",
        "sequence-paths-inside-and-outside-an-exists-with-an-optional",
    )
}


@pytest.mark.parametrize("graphs,where,this", REVIEWED.values(), ids=REVIEWED.keys())
def test_a_reviewed_corner_answers_as_pyoxigraph_or_falls_back(graphs, where, this):
    store = ox.Store()
    names = []
    for name, turtle in graphs.items():
        g = ox.NamedNode(f"urn:test:{name}")
        store.load((TURTLE_PREFIXES + turtle).encode(), format=ox.RdfFormat.TURTLE, to_graph=g)
        names.append(g)
    parts = tuple(TripleIndex.from_store(store, g) for g in names)
    select = "?this ?x" if this else "*"
    text = PREFIXES + f"SELECT {select} WHERE {{ {where} }}"
    plan = QueryPlan(algebra=pickle.loads(pickle.dumps(select_algebra(text))))
    bindings = {"this": ox.NamedNode(this)} if this else {}
    try:
        planned = plan.solutions(parts, bindings)
    except Fallback:
        assert where not in ANSWERED, "the plan should answer this one itself"
        return  # pyoxigraph answers this call
    result = store.query(text, default_graph=names, substitutions={ox.Variable(k): v for k, v in bindings.items()})
    columns = [v.value for v in result.variables]
    oxigraph = _rows(columns, [{n: sol[n] for n in columns if sol[n] is not None} for sol in result])
    assert _rows(columns, planned) == oxigraph


@pytest.mark.parametrize(
    "where",
    [
        "?s ex:p ?x MINUS { ?s ex:q ?x }",
        "GRAPH ?g { ?s ex:p ?x }",
        "?s ex:p ?x FILTER (REGEX(?x, 'a'))",
    ],
    ids=["minus", "graph", "regex"],
)
def test_a_query_outside_the_subset_stays_on_pyoxigraph(where):
    assert compile_select(PREFIXES + f"SELECT * WHERE {{ {where} }}") is None


def _corpus(r: Reasoner, synthetic: int) -> list:
    inputs = sorted((DATA / "vignettes").glob("*.json")) + sorted((DATA / "cases").glob("*.json"))
    inputs += sorted((DATA / "fhir" / "hl7").glob("*.json"))
    patients = [pi for pi in r.read_many(inputs) if not isinstance(pi, InputError)]
    return patients + [pi for p in cohort(synthetic, seed=41) for pi in r.read(p)]


def _shipped_sparql() -> dict[str, str]:
    """Every SPARQL text the package ships: queries/**/*.rq and the shapes' sh:construct, sh:select, sh:ask."""
    from rdflib import Graph
    from rdflib.namespace import SH

    from kg_reasoner.reason.terms import prefix_block
    from kg_reasoner.resources import data_folder

    out = {}
    for path in sorted(Path(str(data_folder("queries"))).rglob("*.rq")):
        if path.parent.name != "probe":  # (queries/probe/ holds the FILTER (false) that probes rdflib itself)
            out[path.name] = path.read_text(encoding="utf-8")
    for path in sorted(Path(str(data_folder("shapes"))).glob("*.ttl")):
        g = Graph().parse(path, format="turtle")
        for kind in (SH.construct, SH.select, SH.ask):
            for i, (node, text) in enumerate(sorted(g.subject_objects(kind))):
                out[f"{path.name} {kind.fragment} {i}"] = prefix_block(g, node) + str(text)
    return out


def test_no_shipped_query_has_a_filter_rdflib_drops():
    """``FILTER (false)`` and its kin are dropped by rdflib and kept by the plans and pyoxigraph: the shipped
    SPARQL has none, so the reference engine and the fast one read it alike (a module's is refused at load)."""
    from kg_reasoner.reason.plans import filters_rdflib_drops

    texts = _shipped_sparql()
    assert len(texts) > 40 and any("core-rules.ttl construct" in name for name in texts), sorted(texts)
    assert {name: found for name, text in texts.items() if (found := filters_rdflib_drops(text))} == {}
    # (and it finds one when there is one: the only FILTER of its group, its datatype's prefix resolved; two
    # FILTERs are joined by && and applied by rdflib too)
    xsd = "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n"
    assert filters_rdflib_drops(xsd + 'SELECT * WHERE { ?s ?p ?o FILTER ("0"^^xsd:integer) }') == [
        '"0"^^<http://www.w3.org/2001/XMLSchema#integer>'
    ]
    assert filters_rdflib_drops("SELECT * WHERE { ?s ?p ?o FILTER ((0)) FILTER (?o) }") == []


def test_every_shipped_rule_compiles():
    """The core rules of shapes/ are inside the plans' subset (a rule outside it would run on pyoxigraph)."""
    engine = Reasoner()._engine
    assert isinstance(engine, FastEngine)
    missing = [r.text for s in engine.rule_shapes or [] for r in s.rules if engine.plans.get(id(r)) is None]
    assert not missing, missing


def test_every_rule_call_of_the_corpus_answers_as_pyoxigraph():
    """Every vignette, case, HL7 example and 120 synthetic patients: each rule call run both ways (the
    engine's check mode raises on the first difference), and the same inferred triples in the end."""
    r = Reasoner()
    checked = FastEngine(r.kb)
    checked.check_plans = True
    plain = FastEngine(r.kb)
    plain.use_plans = False
    patients = _corpus(r, 120)
    assert len(patients) > 150
    for pi in patients:
        with checked.session(pi.iri, pi.graph) as a:
            planned = sorted(a.inferred)
            explained = explain(a.query, pi.iri)  # every explanation query, each run both ways
        with plain.session(pi.iri, pi.graph) as b:
            assert planned == sorted(b.inferred), pi.patient_id
            assert explained == explain(b.query, pi.iri), pi.patient_id
    assert checked.plan_checks > 30 * len(patients)
    compiled = [name for name, plan in checked._query_plans.items() if plan is not None]
    assert len(compiled) >= 15, compiled


def test_nothing_of_a_patient_outlives_her_assessment():
    """A patient's index (her triples, for the plans) is gone once her assessment is written: a cohort run's
    memory stays flat (an expression error raised as one shared instance kept every traceback alive)."""
    r = Reasoner()
    engine = r._engine
    assert isinstance(engine, FastEngine)

    def indexes() -> set:
        gc.collect()
        return {id(o) for o in gc.get_objects() if isinstance(o, TripleIndex)}

    def assess(n: int, seed: int) -> None:
        for p in cohort(n, seed=seed):
            for pi in r.read(p):
                r.assess_input(pi).to_dict()

    # first past the use at which the library queries are compiled (once per process): a compile runs
    # inside a patient's session, and under pytest the frames of that one call can be kept by the run
    assess(engine.COMPILE_QUERY_AT + 5, 4)
    before = indexes()
    assess(40, 5)
    assert indexes() - before <= {id(engine.static_index), id(engine.ontology_index)}


def test_the_explanations_see_what_pyshacl_derived_when_the_rules_run_there():
    """Rules outside the compiled subset run on pySHACL (``stages["rules"] == "pyshacl"``): what they
    derive reaches her index too, so the explanation queries' plans answer as pyoxigraph and the
    outcome is the reference engine's (before the fix, the plans never saw those triples)."""
    r = Reasoner()
    checked = FastEngine(r.kb)
    checked.check_plans = True
    checked.rule_shapes = None  # as for a guidance whose rules the fast engine does not compile
    patients = _corpus(r, 10)
    for pi in patients[:40]:
        with checked.session(pi.iri, pi.graph) as a:
            explained = explain(a.query, pi.iri)  # each query run as a plan and on pyoxigraph
        with r._engine.session(pi.iri, pi.graph) as b:
            assert sorted(a.inferred) == sorted(b.inferred), pi.patient_id
            assert explained == explain(b.query, pi.iri), pi.patient_id
        assert a.stages["rules"] == "pyshacl" or a.inconsistencies or a.violations


class _Refusing:
    """A plan that hands every call to pyoxigraph (as ``plans.Fallback`` does for a value it cannot read)."""

    names: list = []

    def solutions(self, parts, bindings):
        raise Fallback("handed to pyoxigraph by the test")


def test_a_rule_handed_to_pyoxigraph_sees_what_the_plans_derived_before_it():
    """The rules' new triples reach the store only when a query runs there (``_PatientRun._oxigraph``):
    with every other rule handed to pyoxigraph, each still sees what the plans derived before it, and
    the derivations are the engine's without plans."""
    r = Reasoner()
    mixed = FastEngine(r.kb)
    rules = [rule for shape in mixed.rule_shapes or [] for rule in shape.rules]
    for rule in rules[1::2]:
        mixed.plans[id(rule)] = _Refusing()
    plain = FastEngine(r.kb)
    plain.use_plans = False
    fallbacks = 0
    for pi in _corpus(r, 30):
        with mixed.session(pi.iri, pi.graph) as a:
            got = sorted(a.inferred)
            explained = explain(a.query, pi.iri)
            fallbacks += a.query.__self__.fallbacks
        with plain.session(pi.iri, pi.graph) as b:
            assert got == sorted(b.inferred), pi.patient_id
            assert explained == explain(b.query, pi.iri), pi.patient_id
    assert fallbacks > 100


def test_a_patients_index_holds_what_the_store_would_hold():
    """Her graphs are indexed without the store (``fast._as_stored``): the same terms as the store gives back
    (canonical numbers, lower-case language tags, blank node labels, duplicates once, literal subjects out)."""
    from rdflib import BNode, Literal, URIRef
    from rdflib.namespace import XSD

    from kg_reasoner.reason.fast import _as_stored
    from kg_reasoner.reason.terms import to_ox

    s, p = URIRef("http://example.org/s"), URIRef("http://example.org/p")
    typed = [
        ("01", "integer"), ("1", "integer"), ("+5", "integer"), ("-0", "integer"), ("abc", "integer"),
        ("1.50", "decimal"), ("1E0", "double"), ("INF", "double"), ("1", "boolean"),
        ("2020-01-01T00:00:00.000Z", "dateTime"), ("2020-01-01", "date"), ("P1D", "duration"), ("x", "string"),
    ]  # fmt: skip
    values = [Literal(v, datatype=XSD[dt]) for v, dt in typed] + [
        Literal("x"),
        Literal("a", lang="EN-gb"),
        Literal("x", datatype=URIRef("http://example.org/dt")),
        BNode("b0"),
        URIRef("http://example.org/o"),
    ]
    triples = [(s, p, v) for v in values] + [(BNode("Ab"), p, s), (Literal("lit"), p, s)]
    store, g = ox.Store(), ox.NamedNode("urn:test:g")
    store.extend(ox.Quad(to_ox(a), to_ox(b), to_ox(c), g) for a, b, c in triples if not isinstance(a, Literal))
    assert TripleIndex(_as_stored(triples)).triples == TripleIndex.from_store(store, g).triples
    with pytest.raises(TypeError):
        list(_as_stored([(s, BNode("p"), s)]))  # (a generalized triple: refused, as the store refuses it)


@pytest.mark.parametrize("checked", [False, True], ids=["plans", "check-mode"])
def test_sessions_leave_the_store_as_they_found_it(checked):
    """Her graphs are written to the store only when a query runs there (check mode runs every one there),
    and every graph written is gone when her session ends."""
    r = Reasoner()
    engine = FastEngine(r.kb)
    engine.check_plans = checked
    engine.COMPILE_QUERY_AT = 1  # (every query a plan from its first use)
    before = len(engine.store)
    written = []
    for pi in _corpus(r, 12):
        with engine.session(pi.iri, pi.graph) as d:
            explain(d.query, pi.iri)
            run = d.query.__self__
            written.append(run.written)
            assert run.written == (len(engine.store) > before), pi.patient_id
        assert len(engine.store) == before, pi.patient_id
    if checked:
        assert all(written)
    else:
        assert written.count(False) >= 10, written  # (a call a plan hands to pyoxigraph writes them)


# --- the join steps as compiled Python source (plans._Bgp.generated, kg_reasoner.reason.step_source) -----


def both_ways(monkeypatch, owner, flag: str) -> list:
    """Set ``owner.flag`` (a check switch of the plans) for the test, and count the comparisons made
    (``plans._same_solutions``): the list it returns grows by one per comparison."""
    from kg_reasoner.reason import plans

    monkeypatch.setattr(owner, flag, True)
    calls: list = []
    same = plans._same_solutions
    monkeypatch.setattr(plans, "_same_solutions", lambda *a: calls.append(1) or same(*a))
    return calls


@pytest.fixture
def source_checked(monkeypatch):
    """Every BGP run both ways, its compiled source and the interpreter (``plans._solve``): the same
    solutions in the same order, or an AssertionError."""
    from kg_reasoner.reason import plans

    return both_ways(monkeypatch, plans._Bgp, "check_source")


@pytest.mark.parametrize("where", CASES.values(), ids=CASES.keys())
def test_the_compiled_steps_answer_as_the_interpreter(world, where, source_checked):
    _compare(world, where)
    assert source_checked or "ex:" not in where  # (its BGPs ran both ways)


@pytest.mark.parametrize("where", THIS_CASES.values(), ids=THIS_CASES.keys())
def test_the_compiled_steps_answer_as_the_interpreter_with_this_bound(world, where, source_checked):
    _compare(world, where, this="http://example.org/a", select="?this ?x")


def test_every_bgp_call_of_the_corpus_answers_as_the_interpreter(source_checked):
    """Every vignette, case, HL7 example and 40 synthetic patients, summary and full explanation: each
    BGP call run on its compiled steps and on the interpreter, the same solutions in the same order."""
    _assess_corpus()
    assert len(source_checked) > 1000  # (BGP calls compared)


def _assess_corpus(n: int = 40) -> None:
    """Every vignette, case, HL7 example and ``n`` synthetic patients assessed, summary and full explanation."""
    r = Reasoner()
    for pi in _corpus(r, n):
        r.assess_input(pi, summary=True)
        r.assess_input(pi).to_dict()


def test_the_compiled_steps_read_as_nested_loops():
    """A lookup binding one variable and a bound triple tested: two loops over the parts, the variable a
    local until the solution is written; a step of another kind (a path) is handed to the interpreter."""
    _first, steps = _steps("?s ex:next ?n . ?n ex:p 2 . ?n ex:q|ex:r ?x .", frozenset({"s"}))
    from kg_reasoner.reason import plans

    run, exists = plans.step_source.compiled(steps, plans._solve, plans._filter_passes)
    assert "idx.sp.get(" in run.source and "_solve((K" in run.source and "append(" in run.source
    assert "return True" in exists.source and "append(" not in exists.source
    store = ox.Store()
    g = ox.NamedNode("urn:test:a")
    store.load(
        (TURTLE_PREFIXES + "ex:a ex:next ex:b , ex:c . ex:b ex:p 2 ; ex:q 5 . ex:c ex:p 3 ; ex:q 6 .").encode(),
        format=ox.RdfFormat.TURTLE,
        to_graph=g,
    )
    parts = (TripleIndex(), TripleIndex.from_store(store, g))
    mu = {"s": ox.NamedNode("http://example.org/a")}
    assert (
        run(mu, parts)
        == plans._solve(steps, mu, parts)
        == [{**mu, "n": ox.NamedNode("http://example.org/b"), "x": ox.Literal("5", datatype=ox.NamedNode(XSD_INTEGER))}]
    )
    assert exists(mu, parts) is True
    assert exists({"s": ox.NamedNode("http://example.org/c")}, parts) is False
    # a None passed in: read by a step (the interpreter answers), or not read (copied into each solution)
    for given in ({"s": None}, {**mu, "other": None}):
        assert run(given, parts) == plans._solve(steps, given, parts)
        assert exists(given, parts) is bool(plans._solve(steps, given, parts))


def test_the_compiled_steps_skip_a_part_without_their_predicate():
    """A lookup of a constant predicate skips a part holding no triple of it (``TripleIndex.pids``): a
    predicate first numbered when the steps are compiled, then held by an index built, or grown by ``add``,
    after; the solutions those of the interpreter."""
    from kg_reasoner.reason import plans

    ex = "http://example.org/"
    fresh = f"urn:test:{id(object())}:"  # (predicates no earlier test numbered)
    _first, steps = _steps(f"?s <{fresh}next> ?n . ?n <{fresh}p> ?x .", frozenset({"s"}))
    run, exists = plans.step_source.compiled(steps, plans._solve, plans._filter_passes, plans.predicate_id)
    assert ".pids" in run.source and ".pids" in exists.source
    a, b, c = (ox.NamedNode(ex + n) for n in "abc")
    nxt, p = ox.NamedNode(fresh + "next"), ox.NamedNode(fresh + "p")
    built, grown = TripleIndex([(a, nxt, b), (b, p, c)]), TripleIndex([(a, nxt, c)])
    parts = (TripleIndex(), built, grown)
    mu = {"s": a}
    assert run(mu, parts) == plans._solve(steps, mu, parts) == [{"s": a, "n": b, "x": c}]
    assert exists({"s": c}, parts) is False
    grown.add((c, p, a))
    assert plans.predicate_id(p) in grown.pids
    assert run(mu, parts) == plans._solve(steps, mu, parts) == [{"s": a, "n": b, "x": c}, {"s": a, "n": c, "x": a}]


def test_the_compiled_steps_scan_a_predicate_and_bind_from_a_filters_iris():
    """A pattern binding its subject and object from the pairs of its predicate, and a variable bound from the
    IRIs a FILTER keeps it to: loops of the compiled steps (not the interpreter's), the interpreter's solutions
    in its order, a pair in two parts twice."""
    from kg_reasoner.reason import plans

    ex = "http://example.org/"
    a, b, c, d = (ox.NamedNode(ex + n) for n in ("a", "b", "C", "D"))
    p, t = ox.NamedNode(ex + "p"), ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    one, two = ox.Literal("1", datatype=ox.NamedNode(XSD_INTEGER)), ox.Literal("2", datatype=ox.NamedNode(XSD_INTEGER))
    parts = (TripleIndex([(a, p, one)]), TripleIndex([(a, p, one), (b, p, two), (a, t, c), (b, t, d), (b, t, c)]))
    for where, loop, count in (
        ("?s ex:p ?x . FILTER (?x != 3)", "idx.p.get(", 3),
        ("?s a ?c . FILTER (?c IN (ex:D, ex:C))", "for v1 in K", 3),
    ):
        _first, steps = _steps(where, frozenset())
        run, exists = plans.step_source.compiled(steps, plans._solve, plans._filter_passes, plans.predicate_id)
        assert loop in run.source and "_solve((K" not in run.source
        solved = plans._solve(steps, {}, parts)
        assert run({}, parts) == solved and len(solved) == count
        assert exists({}, parts) is True and exists({}, (TripleIndex(),)) is False
    assert [row["s"] for row in solved] == [b, a, b]  # (ex:D first, as the filter lists it)


def test_an_index_numbers_none_of_its_predicates_and_learns_a_number_given_later():
    """Only a compiled step numbers a predicate (``plans.predicate_id``): an index built of a patient's own
    predicates leaves the process's numbers as they were (nothing of hers accumulates there), and a predicate
    numbered once the index is built is added to its numbers, so a step compiled later still finds her triple."""
    from kg_reasoner.reason import plans

    fresh = f"urn:test:{id(object())}:"
    a, b = ox.NamedNode(fresh + "a"), ox.NamedNode(fresh + "b")
    mine, later = ox.NamedNode(fresh + "mine"), ox.NamedNode(fresh + "later")
    before = len(plans._PREDICATE_IDS)
    index = TripleIndex([(a, mine, b), (a, later, b)])
    index.add((b, mine, a))
    assert len(plans._PREDICATE_IDS) == before and not index.pids
    _first, steps = _steps(f"?s <{fresh}later> ?o .", frozenset({"s"}))
    run, _exists = plans.step_source.compiled(steps, plans._solve, plans._filter_passes, plans.predicate_id)
    assert index.pids == {plans._PREDICATE_IDS[later]} and len(plans._PREDICATE_IDS) == before + 1
    assert run({"s": a}, (index,)) == [{"s": a, "o": b}]


def test_steps_nested_deeper_than_python_allows_stay_interpreted():
    """CPython compiles at most 20 nested blocks: a BGP of more lookups than that runs on the interpreter."""
    from kg_reasoner.reason import plans

    chain = " . ".join(f"?v{i} ex:next ?v{i + 1}" for i in range(12))
    _first, steps = _steps(chain, frozenset({"v0"}))
    assert plans.step_source.compiled(steps, plans._solve, plans._filter_passes) is None
    _first, steps = _steps(" . ".join(f"?v{i} ex:next ?v{i + 1}" for i in range(5)), frozenset({"v0"}))
    assert plans.step_source.compiled(steps, plans._solve, plans._filter_passes) is not None


XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"


def test_a_join_passes_its_row_whole_only_to_a_bgp_reading_its_own_variables():
    """plans._takes_the_row: an OPTIONAL or group of triples (its own filters on its own variables) takes
    the left row as it is; one whose filter reads another variable of the row, or a group that is not a
    BGP, gets only the values it binds first (``_passing``), its solutions merged with the row after."""
    from kg_reasoner.reason import plans

    def joins(where: str) -> list:
        found, todo = [], [QueryPlan(PREFIXES + f"SELECT * WHERE {{ {where} }}").root]
        while todo:
            node = todo.pop()
            if isinstance(node, (plans._Join, plans._LeftJoin)):
                found.append(plans._takes_the_row(node.a, node.b))
            todo.extend(getattr(node, k) for k in ("a", "b", "p") if hasattr(node, k))
        return found

    assert joins("?s ex:p ?x . OPTIONAL { ?s ex:q ?y FILTER (?y > ?x) }") == [True]  # (the OPTIONAL's own test)
    assert joins("?s ex:p ?x . { ?s ex:q ?y FILTER (?y > 2) }") == [True]
    assert joins("?s ex:p ?x . { ?s ex:q ?y FILTER (?y > ?x) }") == [False]  # (reads ?x: unbound in there)
    assert joins("?s ex:p ?x . OPTIONAL { ?s ex:q ?y OPTIONAL { ?y ex:r ?z } }") == [False, True]
    assert joins("?s ex:p ?x . { SELECT ?s WHERE { ?s ex:q ?y } }") == [False]


_LEXICAL_CHARS = "0123456789+-."


@hypothesis.settings(max_examples=600, deadline=None, suppress_health_check=[hypothesis.HealthCheck.too_slow])
@hypothesis.given(
    number=st.text(alphabet=_LEXICAL_CHARS, max_size=24),
    day=st.sampled_from(
        ["0000-01-01", "1999-12-31", "2026-02-28", "2026-02-29", "2026-02-30", "2026-13-01", "0999-01-01"]
    ),
    clock=st.sampled_from(["00:00:00", "23:59:59", "24:00:00", "10:00:60", "10:5:00"]),
    fraction=st.sampled_from(["", ".", ".0", ".500", ".000001", ".1234567", ".0000000"]),
    zone=st.sampled_from(["", "Z", "+00:00", "-00:00", "+01:00", "-13:59", "+14:00", "-14:00", "+00:30", "+1:00"]),
    boolean=st.sampled_from(["true", "false", "1", "0", "TRUE", " true", ""]),
)
def test_a_literal_mapped_to_its_canonical_form_is_as_a_store_gives_it(number, day, clock, fraction, zone, boolean):
    """``plans.canonical_lexical`` (the common forms of xsd:integer, xsd:decimal, xsd:boolean and xsd:dateTime,
    mapped without a store) gives what an oxigraph store gives back, or None (then the store is asked)."""
    from kg_reasoner.reason.plans import _BOOLEAN, _DATETIME, _DECIMAL, _INTEGER, canonical_lexical, stored

    for datatype, lex in (
        (_INTEGER, number),
        (_DECIMAL, number),
        (_DATETIME, f"{day}T{clock}{fraction}{zone}"),
        (_BOOLEAN, boolean),
    ):
        mine = canonical_lexical(datatype, lex)
        if mine is not None:
            theirs = stored(ox.Literal(lex, datatype=datatype))
            assert (mine, datatype) == (theirs.value, theirs.datatype), lex


def test_the_common_literals_are_mapped_without_a_store():
    """The forms the readers write (a decimal "7.0", a UTC time "+00:00") are mapped by ``canonical_lexical``, not
    left to a store (the reason it exists)."""
    from kg_reasoner.reason.plans import _DATETIME, _DECIMAL, canonical_lexical

    assert canonical_lexical(_DECIMAL, "7.0") == "7"
    assert canonical_lexical(_DECIMAL, "19.080") == "19.08"
    assert canonical_lexical(_DATETIME, "2026-11-20T10:00:00+00:00") == "2026-11-20T10:00:00Z"
    assert canonical_lexical(_DATETIME, "2026-11-20T10:00:00.500-00:00") == "2026-11-20T10:00:00.5Z"
