"""The fast engine leaves out a rule whose query needs what the data lacks (``shacl_rules.needs_of``,
read from the parsed query): what every solution needs, and only what is certain. The derivations
with and without leaving rules out are the same."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from rdflib.plugins.sparql import prepareQuery

from kg_reasoner.api import Reasoner
from kg_reasoner.errors import InputError
from kg_reasoner.reason.fast import FastEngine, _PatientRun
from kg_reasoner.reason.shacl_rules import needs_of, watch_of
from kg_reasoner.testing.synthetic import cohort

EX = "http://example.org/"
DATA = Path(__file__).parent / "data"


def _needs(where: str):
    return needs_of(prepareQuery(f"PREFIX ex: <{EX}> CONSTRUCT {{ $this ex:out ?x }} WHERE {{ {where} }}").algebra)


def _names(terms) -> set:
    return {str(t).removeprefix(EX).split("#")[-1] for t in terms}


@pytest.mark.parametrize(
    "where,predicates,this_predicates,classes",
    [
        ("$this ex:p ?x ; a ex:C .", {"p", "type"}, {"p", "type"}, {"C"}),
        ("$this ex:p ?x . OPTIONAL { ?x ex:q ?y }", {"p"}, {"p"}, set()),
        ("$this ex:p ?x . FILTER NOT EXISTS { ?x ex:q ?y }", {"p"}, {"p"}, set()),
        ("{ $this ex:p ?x } UNION { $this ex:q ?x }", set(), set(), set()),
        ("{ $this ex:p ?x ; ex:r ?z } UNION { $this ex:p ?x }", {"p"}, {"p"}, set()),
        ("$this ex:p/ex:q ?x .", set(), set(), set()),
        ("$this ex:p ?x . { SELECT ?x WHERE { ?x ex:q ?this } }", {"p", "q"}, {"p"}, set()),
        ("{ SELECT (COUNT(?y) AS ?x) WHERE { ?y ex:q ?z } }", set(), set(), set()),
        ("VALUES ?x { 1 } ?x ex:p ?y .", {"p"}, set(), set()),
    ],
    ids=["bgp", "optional", "not-exists", "union-apart", "union-shared", "path", "subquery", "aggregate", "values"],
)
def test_needs_are_only_what_every_solution_needs(where, predicates, this_predicates, classes):
    n = _needs(where)
    assert _names(n.predicates) == predicates
    assert _names(n.this_predicates) == this_predicates
    assert _names(n.classes) == classes


def test_a_rule_left_out_would_have_derived_nothing():
    """Every vignette, case and 80 synthetic patients: the same inferred triples either way."""
    r = Reasoner()
    skipping = r._engine
    assert isinstance(skipping, FastEngine) and skipping.skip_unmatchable
    every = FastEngine(r.kb)
    every.skip_unmatchable = False
    inputs = sorted((DATA / "vignettes").glob("*.json")) + sorted((DATA / "cases").glob("*.json"))
    patients = [pi for pi in r.read_many(inputs) if not isinstance(pi, InputError)]
    patients += [pi for p in cohort(80, seed=31) for pi in r.read(p)]
    assert len(patients) > 100
    for pi in patients:
        with skipping.session(pi.iri, pi.graph) as a:
            left_out = sorted(a.inferred), a.violations, a.warnings
        with every.session(pi.iri, pi.graph) as b:
            run_all = sorted(b.inferred), b.violations, b.warnings
        assert left_out == run_all, pi.patient_id
        assert a.stages["rules"] == b.stages["rules"] == "compiled"


def _watch(where: str):
    return watch_of(prepareQuery(f"PREFIX ex: <{EX}> CONSTRUCT {{ $this ex:out ?x }} WHERE {{ {where} }}").algebra)


def _places(w) -> set:
    return {frozenset((_names([q]).pop(), at) for q, at in places) for places in w.class_places}


@pytest.mark.parametrize(
    "where,any_type,places",
    [
        ("$this ex:p ?x ; a ex:C .", False, set()),
        ("?c ex:metBy ?cls . $this ex:rec ?m . ?m a ?cls .", False, {frozenset({("metBy", "o")})}),
        ("?m a ?cls .", True, set()),
        (
            "?c ex:metBy ?cls . BIND (EXISTS { $this ex:rec ?m . ?m a ?cls } AS ?x)",
            False,
            {frozenset({("metBy", "o")})},
        ),
        ("?c ex:metBy ?cls . FILTER NOT EXISTS { ?m a ?other }", True, set()),
        ("?c ex:metBy ?cls . OPTIONAL { $this ex:rec ?m . ?m a ?cls }", False, {frozenset({("metBy", "o")})}),
        ("OPTIONAL { ?c ex:metBy ?cls } FILTER NOT EXISTS { ?m a ?cls }", True, set()),
        # (a FILTER of the OPTIONAL itself sees the left side's values: the LeftJoin's expression)
        (
            "?c ex:metBy ?cls . OPTIONAL { ?m ex:p ?y . FILTER NOT EXISTS { ?y a ?cls } }",
            False,
            {frozenset({("metBy", "o")})},
        ),
        ("?c ex:metBy ?cls . OPTIONAL { ?m ex:p ?y . { ?m ex:q ?z FILTER NOT EXISTS { ?y a ?cls } } }", True, set()),
        ("?c ex:metBy ?cls . OPTIONAL { ?m ex:p ?y . OPTIONAL { ?y a ?cls } }", True, set()),
        ("?c ex:metBy ?cls . MINUS { ?m a ?cls }", False, {frozenset({("metBy", "o")})}),
        ("?c ex:metBy ?cls . { SELECT ?cls WHERE { ?m a ?cls } }", True, set()),
        ("{ ?c ex:metBy ?cls } UNION { ?c ex:other ?cls } ?m a ?cls .", True, set()),
        ("?m a/ex:p ?x .", True, set()),
        ("GRAPH ?g { ?m ex:p ?x }", True, set()),
        # an OPTIONAL's variable given to an EXISTS: bound, among the OPTIONAL's places; free, its pattern
        # adds nothing when another pattern types the same node and it occurs nowhere else in the EXISTS
        (
            "?c ex:each ?t . OPTIONAL { ?c ex:notBy ?cls } FILTER NOT EXISTS { $this ex:rec ?m . ?m a ?t , ?cls }",
            False,
            {frozenset({("each", "o")}), frozenset({("notBy", "o")})},
        ),
        (
            "?c ex:each ?t . OPTIONAL { ?c ex:notBy ?cls } "
            "FILTER NOT EXISTS { ?c ex:each ?t2 . FILTER NOT EXISTS { $this ex:rec ?m . ?m a ?t2 , ?cls } }",
            False,
            {frozenset({("each", "o")}), frozenset({("notBy", "o")})},
        ),
        (
            "?c ex:each ?t . OPTIONAL { ?c ex:notBy ?cls } "
            "FILTER NOT EXISTS { $this ex:rec ?m . ?m a ?t , ?cls . FILTER (?cls != ex:A) }",
            True,
            {frozenset({("each", "o")})},
        ),
        (
            "?c ex:each ?t . OPTIONAL { ?c ex:notBy ?cls } FILTER NOT EXISTS { $this ex:rec ?m . ?n a ?t . ?m a ?cls }",
            True,
            {frozenset({("each", "o")})},
        ),
        (
            "?c ex:each ?t . OPTIONAL { ?c ex:notBy ?cls } OPTIONAL { ?c ex:alt ?cls } "
            "FILTER NOT EXISTS { $this ex:rec ?m . ?m a ?t , ?cls }",
            True,
            {frozenset({("each", "o")})},
        ),
        (
            "?c ex:each ?t . OPTIONAL { ?c ex:notBy ?cls } "
            "FILTER NOT EXISTS { $this ex:rec ?m . BIND (ex:B AS ?cls) ?m a ?t , ?cls }",
            True,
            {frozenset({("each", "o")})},
        ),
    ],
    ids=[
        "constant-class",
        "same-bgp",
        "free",
        "exists-substituted",
        "exists-free",
        "optional-joined",
        "optional-unbound",
        "filter-of-optional",
        "negation-inside-optional",
        "nested-optional",
        "minus",
        "subquery",
        "union-not-certain",
        "type-in-path",
        "graph",
        "optional-given-to-exists",
        "optional-given-to-nested-exists",
        "optional-used-again-in-exists",
        "optional-on-another-node",
        "two-optionals",
        "optional-bound-again-in-exists",
    ],
)
def test_watch_keeps_a_class_variable_to_the_places_every_solution_binds_it_from(where, any_type, places):
    """A new type can change a rule's solutions only when its class is read as a constant or can be the
    value of a class variable: the places that variable's value is certainly among (``watch_of``)."""
    w = _watch(where)
    assert w.any_type is any_type
    assert _places(w) == places


def test_watch_of_a_variable_predicate():
    w = _watch("$this ex:x ?x . ?x ?p ?e . ?p ex:sub ex:q .")
    assert not w.any_predicate
    assert {frozenset((_names([q]).pop(), at) for q, at in p) for p in w.predicate_places} == {
        frozenset({("sub", "s")})
    }
    assert _watch("$this ex:x ?x . ?x ?p ?e .").any_predicate


def test_a_rule_not_run_again_for_a_triple_it_cannot_read_would_have_derived_nothing_new(monkeypatch):
    """Every vignette, case and 30 synthetic patients: the same inferred triples whether a rule runs again
    for any new triple of a predicate it reads, or only for one its ``Watch`` says can change it; and
    the refinement does leave runs out."""
    r = Reasoner()
    refined = r._engine
    assert isinstance(refined, FastEngine) and refined.refine_staleness
    every = FastEngine(r.kb)
    every.refine_staleness = False
    inputs = sorted((DATA / "vignettes").glob("*.json")) + sorted((DATA / "cases").glob("*.json"))
    patients = [pi for pi in r.read_many(inputs) if not isinstance(pi, InputError)]
    patients += [pi for p in cohort(30, seed=37) for pi in r.read(p)]
    assert len(patients) > 100
    runs: Counter = Counter()
    stale = _PatientRun._stale

    def counted(run, rule):
        out = stale(run, rule)
        runs[run.e.refine_staleness] += out
        return out

    monkeypatch.setattr(_PatientRun, "_stale", counted)
    for pi in patients:
        with refined.session(pi.iri, pi.graph) as a:
            finer = sorted(a.inferred)
        with every.session(pi.iri, pi.graph) as b:
            coarser = sorted(b.inferred)
        assert finer == coarser, pi.patient_id
        assert a.stages["rules"] == b.stages["rules"] == "compiled"
    assert runs[True] < 0.9 * runs[False], runs


def _run_after(rule_where: str, added: list, static: list = (), refine: bool = True) -> bool:
    """Whether a rule that ran at version 0 is stale after ``added`` (pyoxigraph triples) were derived, with
    ``static`` in the ontology's part (``_PatientRun._stale`` on a run holding only that)."""
    import pyoxigraph as ox

    from kg_reasoner.reason.plans import TripleIndex
    from kg_reasoner.reason.shacl_rules import Rule, _ox_reads, _read_set, ox_watch

    algebra = prepareQuery(f"PREFIX ex: <{EX}> CONSTRUCT {{ $this ex:out ?x }} WHERE {{ {rule_where} }}").algebra
    rule = Rule("", _ox_reads(_read_set(algebra)), True, watch=ox_watch(watch_of(algebra)))

    class _Engine:
        refine_staleness = refine

    run = object.__new__(_PatientRun)
    run.e = _Engine()
    run.inferred_index = TripleIndex()
    run.parts = (TripleIndex(static), TripleIndex(), run.inferred_index)
    run.version, run.pred_changes, run.class_changes = 0, {}, {}
    run.last_run = {id(rule): 0}
    run.values, run.types, run.predicates, run.classes, run.pairs = {}, {}, set(), set(), set()
    run._unwritten, run._focus_cache = [], {}
    run._add([tuple(ox.NamedNode(EX + t) if not t.startswith("http") else ox.NamedNode(t) for t in x) for x in added])
    return run._stale(rule)


RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


@pytest.mark.parametrize(
    "where,added,static,stale",
    [
        (
            "?c ex:metBy ?cls . $this ex:rec ?m . ?m a ?cls .",
            [("m1", RDF_TYPE, "Other")],
            [("c", "metBy", "Met")],
            False,
        ),
        ("?c ex:metBy ?cls . $this ex:rec ?m . ?m a ?cls .", [("m1", RDF_TYPE, "Met")], [("c", "metBy", "Met")], True),
        (
            "?c ex:metBy ?cls . $this ex:rec ?m . ?m a ?cls .",
            [("m1", RDF_TYPE, "Other"), ("c2", "metBy", "Other")],
            [],
            True,
        ),
        ("$this a ex:C .", [("m1", RDF_TYPE, "C")], [], True),
        ("$this a ex:C .", [("m1", RDF_TYPE, "D")], [], False),
        ("$this ex:x ?x . ?x ?p ?e . ?p ex:sub ex:q .", [("m1", "r", "e")], [], False),
        ("$this ex:x ?x . ?x ?p ?e . ?p ex:sub ex:q .", [("m1", "r", "e")], [("r", "sub", "q")], True),
        ("$this ex:x ?x . ?x ?p ?e .", [("m1", "r", "e")], [], True),
        ("$this ex:x ?x .", [("m1", "x", "e")], [], True),
    ],
    ids=[
        "class-outside-the-places",
        "class-among-the-places",
        "class-made-a-place-value-too",
        "constant-class",
        "other-class",
        "predicate-outside-the-places",
        "predicate-among-the-places",
        "free-variable-predicate",
        "constant-predicate",
    ],
)
def test_stale_only_for_a_triple_the_rule_can_read(where, added, static, stale):
    import pyoxigraph as ox

    st = [tuple(ox.NamedNode(EX + t) for t in x) for x in static]
    assert _run_after(where, added, st) is stale
    assert _run_after(where, added, st, refine=False) is True  # (every rule reads rdf:type, and any predicate)


@pytest.mark.parametrize("path", ["!ex:p", "ex:q/!ex:p", "^!(ex:p|ex:q)"])
def test_a_negated_property_set_reads_every_predicate(path):
    """``!ex:p`` matches every predicate but ex:p: a new triple of any other predicate can change the rule
    (the read set once listed ex:p alone)."""
    from kg_reasoner.reason.shacl_rules import ANY_PREDICATE, _read_set

    algebra = prepareQuery(f"PREFIX ex: <{EX}> CONSTRUCT {{ $this ex:out ?x }} WHERE {{ $this {path} ?x }}").algebra
    assert _read_set(algebra) == ANY_PREDICATE
    assert watch_of(algebra).any_predicate and watch_of(algebra).any_type


def test_a_summary_derives_only_what_its_queries_read_and_answers_the_same():
    """``assess_input(summary=True)`` asks the fast engine for the summary's four queries only
    (``SUMMARY_QUERIES``): the rules none of them needs, directly or through another rule
    (``FastEngine.rules_demanded``), are left out. Every vignette, case and 60 synthetic patients: the
    same summary as with every rule, and the assessment's graphs derived again in full when read."""
    from kg_reasoner.explain.explanation import SUMMARY_QUERIES, explain_summary

    r = Reasoner()
    engine = r._engine
    assert isinstance(engine, FastEngine)
    chosen = engine.rules_demanded(SUMMARY_QUERIES)
    assert chosen is not None
    every_rule = [rule for shape in engine.rule_shapes for rule in shape.rules]
    assert 0 < len(chosen[0]) < len(every_rule)
    inputs = sorted((DATA / "vignettes").glob("*.json")) + sorted((DATA / "cases").glob("*.json"))
    patients = [pi for pi in r.read_many(inputs) if not isinstance(pi, InputError)]
    patients += [pi for p in cohort(60, seed=37) for pi in r.read(p)]
    left_out = 0
    for pi in patients:
        with engine.session(pi.iri, pi.graph, SUMMARY_QUERIES) as a:
            part = explain_summary(a.query, pi.iri)
            left_out += not a.complete
            with pytest.raises(RuntimeError, match="derived only what"):
                a.query("explain-criteria", patient=pi.iri)
        with engine.session(pi.iri, pi.graph) as b:
            whole = explain_summary(b.query, pi.iri)
            inferred = sorted(b.inferred)
        assert part == whole, pi.patient_id
        assert b.complete
        assessed = r.assess_input(pi, summary=True)
        assert sorted(assessed.graph_source().inferred) == inferred, pi.patient_id
    assert left_out > len(patients) // 2  # (an assessable patient: her rules ran, some were left out)


def test_a_patient_filling_a_place_the_choice_assumed_empty_gets_every_rule():
    """The choice of rules assumes a patient adds nothing to the ontology's places (e.g. no class of hers
    says what would decide a criterion, ``kgr:needs``); a patient whose graphs do is derived with every
    rule, and her summary is the same."""
    from rdflib import Literal, URIRef

    from kg_reasoner.explain.explanation import SUMMARY_QUERIES, explain_summary

    r = Reasoner()
    engine = r._engine
    _, assumed = engine.rules_demanded(SUMMARY_QUERIES)
    term, q, at = sorted(assumed, key=str)[0]
    pi = r.read(sorted((DATA / "vignettes").glob("*.json"))[0])[0]
    with engine.session(pi.iri, pi.graph, SUMMARY_QUERIES) as plain:
        assert not plain.complete  # (without the triple below, rules are left out)
    odd = URIRef(pi.iri + "/odd")
    pi.graph.add(
        (URIRef(term.value), URIRef(q.value), Literal("x")) if at == "s" else (odd, URIRef(q.value), URIRef(term.value))
    )
    with engine.session(pi.iri, pi.graph, SUMMARY_QUERIES) as a:
        part = explain_summary(a.query, pi.iri)
        assert a.complete and a.stages["rules"] == "compiled" and part["status"] is not None
        inferred = sorted(a.inferred)
    with engine.session(pi.iri, pi.graph) as b:
        assert explain_summary(b.query, pi.iri) == part
        assert sorted(b.inferred) == inferred  # (derived again with every rule: the whole graph)


_TOY_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
ex:E sh:targetClass ex:Q ; sh:order 0 ; sh:rule [ a sh:SPARQLRule ; sh:order 0 ;
    sh:construct "CONSTRUCT { ?x a <http://example.org/P> } WHERE { $this <http://example.org/in> ?x }" ] .
ex:A sh:targetClass ex:P ; sh:order 1 ; sh:rule [ a sh:SPARQLRule ; sh:order 0 ;
    sh:construct "CONSTRUCT { $this <http://example.org/a> ?x } WHERE { $this <http://example.org/in> ?x }" ] .
ex:B sh:targetClass ex:P ; sh:order 2 ;
    sh:rule [ a sh:SPARQLRule ; sh:order 0 ;
        sh:construct "CONSTRUCT { $this <http://example.org/b> ?x } WHERE { $this <http://example.org/a> ?x }" ] ,
    [ a sh:SPARQLRule ; sh:order 1 ;
        sh:construct "CONSTRUCT { $this <http://example.org/c> ?x } WHERE { $this <http://example.org/in> ?x }" ] ,
    [ a sh:SPARQLRule ; sh:order 2 ;
        sh:construct "CONSTRUCT { $this <http://example.org/a> ?x } WHERE { $this <http://example.org/in2> ?x }" ] .
ex:C sh:targetClass ex:Q ; sh:order 3 ; sh:rule [ a sh:SPARQLRule ; sh:order 0 ;
    sh:construct "CONSTRUCT { ?x a <http://example.org/P> } WHERE { $this <http://example.org/in> ?x }" ] .
ex:D sh:targetClass ex:P ; sh:order 4 ; sh:rule [ a sh:SPARQLRule ; sh:order 0 ;
    sh:construct "CONSTRUCT { $this a <http://example.org/Tagged> } WHERE { $this <http://example.org/in> ?x }" ] .
ex:F sh:targetClass ex:P ; sh:order 5 ; sh:rule [ a sh:SPARQLRule ; sh:order 0 ;
    sh:construct "CONSTRUCT { ?x a ?cls } WHERE { $this <http://example.org/in> ?x . ?cls <http://example.org/k> ?v }" ] .
"""
#: the toy rules in run order, by name
_TOY = ["E", "A", "B0", "B1", "B2", "C", "D", "F"]


def _toy_needed(query: str, ontology: str = "") -> tuple[set, set]:
    """The toy rules ``FastEngine.needed_rules`` keeps for one query, over a toy ontology (Turtle)."""
    from rdflib import Graph

    from kg_reasoner.reason.plans import TripleIndex
    from kg_reasoner.reason.shacl_rules import compile_rule_shapes, ox_watch, with_oxigraph_constants
    from kg_reasoner.reason.terms import to_ox

    engine = FastEngine.__new__(FastEngine)
    engine.rule_shapes = with_oxigraph_constants(compile_rule_shapes(Graph().parse(data=_TOY_SHAPES, format="turtle")))
    onto = Graph().parse(data=f"@prefix ex: <{EX}> .\n{ontology}", format="turtle")
    engine.static_index = engine.ontology_index = TripleIndex((to_ox(s), to_ox(p), to_ox(o)) for s, p, o in onto)
    engine._sup = {}
    rules = [(k, shape, r) for k, shape in enumerate(engine.rule_shapes) for r in shape.rules]
    assert len(rules) == len(_TOY)
    names = {id(r): name for (_, _, r), name in zip(rules, _TOY, strict=True)}
    needed, assumed = engine.needed_rules(
        rules, [ox_watch(watch_of(prepareQuery(f"PREFIX ex: <{EX}> {query}").algebra))]
    )
    return {names[i] for i in needed}, {(_names([t.value]).pop(), _names([q.value]).pop(), at) for t, q, at in assumed}


@pytest.mark.parametrize(
    "query,ontology,needed,assumed",
    [
        # ex:b needs B0, which reads ex:a: A (an earlier shape) and B2 (later in the same shape, which runs
        # to its fixpoint); the instances of B's target class come from E (an earlier shape), not from C
        ("SELECT * { ?p ex:b ?x }", "", {"E", "A", "B0", "B2"}, set()),
        ("SELECT * { ?p ex:c ?x }", "", {"E", "B1"}, set()),
        # a class read through a place the ontology leaves empty: D left out, on that assumption; F's
        # variable class may be any class, so F is kept, and E and C, which give it focus nodes
        ("SELECT * { ?x a ?c . ?c ex:needs ?n }", "", {"E", "C", "F"}, {("Tagged", "needs", "s")}),
        ("SELECT * { ?x a ?c . ?c ex:needs ?n }", 'ex:Tagged ex:needs "n" .', {"E", "C", "D", "F"}, set()),
        ("SELECT * { ?x a ex:Z }", "", {"E", "C", "F"}, set()),
        ("SELECT * { ?x ex:other ?y }", "", set(), set()),
    ],
    ids=["earlier-and-same-shape", "focus-only", "place-empty", "place-filled", "variable-class", "nothing"],
)
def test_needed_rules(query, ontology, needed, assumed):
    """``FastEngine.needed_rules`` on toy rule shapes: a rule is kept when a needed query or rule of its own
    or a later shape reads what it writes, or when it types a node into the target class of a needed rule
    of its own or a later shape; a place the ontology leaves empty is an assumption."""
    assert _toy_needed(query, ontology) == (needed, assumed)


def _solutions(where: str, graph) -> list:
    from rdflib import URIRef

    query = f"PREFIX ex: <{EX}> SELECT * WHERE {{ {where} }}"
    rows = graph.query(query, initBindings={"this": URIRef(EX + "this")})
    return sorted(tuple(sorted((str(k), str(v)) for k, v in r.asdict().items())) for r in rows)


_NOT_EACH = "FILTER NOT EXISTS { $this ex:rec ?m . ?m a ?t , ?cls }"


@pytest.mark.parametrize(
    "where,data",
    [
        (f"?c ex:each ?t . BIND (ex:C AS ?cls) OPTIONAL {{ ?c ex:notBy ?cls }} {_NOT_EACH}", ""),
        (f"?c ex:each ?t . VALUES ?cls {{ ex:C }} OPTIONAL {{ ?c ex:notBy ?cls }} {_NOT_EACH}", ""),
        (
            f"?c ex:each ?t . {{ ?c ex:alt ?cls }} UNION {{ ?c ex:x ?y }} OPTIONAL {{ ?c ex:notBy ?cls }} {_NOT_EACH}",
            "ex:c ex:alt ex:C .",
        ),
        (
            f"?c ex:each ?t . {{ SELECT ?cls WHERE {{ ?z ex:alt ?cls }} }} OPTIONAL {{ ?c ex:notBy ?cls }} {_NOT_EACH}",
            "ex:z ex:alt ex:C .",
        ),
        (
            f"?c ex:each ?t . OPTIONAL {{ ?c ex:notBy ?cls }} {{ ?c ex:alt ?cls }} UNION {{ ?c ex:x ?y }} {_NOT_EACH}",
            "ex:c ex:alt ex:C .",
        ),
        (
            "?c ex:each ?t . OPTIONAL { ?c ex:notBy ?c1 . ?c ex:alt ?c2 } "
            "FILTER NOT EXISTS { $this ex:rec ?m . ?m a ?c1 , ?c2 }",
            "",
        ),
    ],
    ids=["bind-before", "values-before", "union-before", "subquery-before", "union-after", "two-excusing-each-other"],
)
def test_watch_of_an_optional_variable_bound_otherwise_reads_any_type(where, data):
    """Where the OPTIONAL is not the only thing that may bind the variable given to an EXISTS (a BIND,
    VALUES, UNION or subquery beside it), or where two class patterns would excuse each other, a new type
    of a class no place names does change the solutions (checked here with rdflib): the watch must read
    any type. (Found by an independent review of the OPTIONAL refinement.)"""
    from rdflib import Graph, URIRef
    from rdflib.namespace import RDF

    graph = Graph().parse(
        data=f"@prefix ex: <{EX}> . ex:this ex:rec ex:m . ex:c ex:each ex:T . ex:m a ex:T . {data}", format="turtle"
    )
    if "?c1" in where:
        graph.remove((URIRef(EX + "m"), RDF.type, URIRef(EX + "T")))
    before = _solutions(where, graph)
    graph.add((URIRef(EX + "m"), RDF.type, URIRef(EX + "C")))
    assert _solutions(where, graph) != before  # (the new type matters)
    assert _watch(where).any_type
