"""The reference engine: what it reuses, what it leaves out, and that neither changes a conclusion."""

from __future__ import annotations

import owlrl
import pyshacl
import pytest
from conftest import CASES, ROOT, VIGNETTES, load_case
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from rdflib import BNode, Graph, Literal, Namespace
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, RDF, RDFS

from kg_reasoner.reason.knowledge import PreparedQueryGraph, load_knowledge_base
from kg_reasoner.reason.reference import reason
from kg_reasoner.reason.terms import canonical_literal

EX = Namespace("urn:ex:")

SAMPLE = VIGNETTES + CASES[::6]


def _owl_inferences(kb, base: Graph, asserted: Graph) -> set:
    g = Graph()
    g.addN((s, p, o, g) for s, p, o in base)
    g.addN((s, p, o, g) for s, p, o in asserted)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(g)
    return {
        t for t in g if t not in kb.closure and t not in asserted and not isinstance(t[0], Literal) and t[0] != t[2]
    }


@pytest.mark.slow  # reference engine / knowledge-base rebuilds
@pytest.mark.parametrize("path", SAMPLE[:4], ids=[p.stem for p in SAMPLE[:4]])
def test_lean_reasoning_base_gives_the_same_patient_inferences(reasoner, path):
    """owlrl runs per patient on the ontology closure less the reflexive triples owlrl adds for every resource
    (``base.TRIVIAL_REFLEXIVE``) and its annotation triples; the
    patient's inferred triples are exactly those of a run on the full closure."""
    kb = reasoner.kb
    pi = reasoner.read(load_case(path)["patient"])[0]
    assert _owl_inferences(kb, kb.reasoning_base, pi.graph) == _owl_inferences(kb, kb.closure, pi.graph)


@pytest.mark.slow  # reference engine / knowledge-base rebuilds
@pytest.mark.parametrize("path", SAMPLE[:3], ids=[p.stem for p in SAMPLE[:3]])
def test_lean_rules_base_gives_the_same_conclusions(reasoner, path):
    """The SHACL rules on the lean base derive what they derive on the full ontology closure."""
    kb = reasoner.kb
    pi = reasoner.read(load_case(path)["patient"])[0]
    result = reason(kb, pi.iri, pi.graph)
    full = Graph()
    for g in (kb.closure, result.asserted):
        full.addN((s, p, o, full) for s, p, o in g)
    full.addN((s, p, o, full) for s, p, o in result.inferred)
    before = set(full)
    pyshacl.shacl_rules(
        full, shacl_graph=kb.rule_shapes, inference="none", advanced=True, iterate_rules=True, inplace=True
    )
    derived = {(s, p, canonical_literal(o)) for s, p, o in set(full) - before}
    assert derived - set(result.inferred) == set(), "the full-closure run derived something the engine did not"


def test_prepared_query_graph_answers_like_a_graph(reasoner):
    pi = reasoner.read(load_case(VIGNETTES[0])["patient"])[0]
    closed = Graph()  # the OWL-RL closure, once: what is compared is pySHACL's queries on the two graphs
    closed.addN((s, p, o, closed) for s, p, o in reasoner.kb.rules_base)
    closed.addN((s, p, o, closed) for s, p, o in pi.graph)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(closed)
    plain, prepared = Graph(), PreparedQueryGraph()
    for g in (plain, prepared):
        g.addN((s, p, o, g) for s, p, o in closed)
        pyshacl.shacl_rules(
            g, shacl_graph=reasoner.kb.rule_shapes, inference="none", advanced=True, iterate_rules=True, inplace=True
        )
    assert isomorphic(plain, prepared)


def test_ontology_closure_is_computed_once_per_process(reasoner):
    load_knowledge_base.cache_clear()
    from kg_reasoner import Reasoner

    Reasoner()
    misses = load_knowledge_base.cache_info().misses
    r = Reasoner()
    for patient in ({"id": "A"}, {"id": "B", "conception": "art"}):
        r.assess(patient)
    assert load_knowledge_base.cache_info().misses == misses


def test_knowledge_base_from_package_data():
    from kg_reasoner.resources import ONTOLOGY_FILES, RULE_SHAPES, VALIDATION_SHAPES, data_folder, query_names

    for folder, names in (("ontology", ONTOLOGY_FILES), ("shapes", RULE_SHAPES + VALIDATION_SHAPES)):
        for name in names:
            assert data_folder(folder).joinpath(name).is_file()
    assert "explain-fired-rules" in query_names()


@pytest.mark.slow  # reference engine / knowledge-base rebuilds
def test_knowledge_base_cache_is_reused_and_keyed(tmp_path, monkeypatch):
    """The closed knowledge base is cached on disk, keyed by a hash of everything it is built from."""
    from rdflib.compare import isomorphic

    from kg_reasoner.reason import knowledge as engine

    monkeypatch.setenv("KG_REASONER_CACHE_DIR", str(tmp_path))
    engine.load_knowledge_base.cache_clear()
    built = engine.load_knowledge_base()
    files = list(tmp_path.glob("knowledge-base-*.pickle"))
    assert len(files) == 1

    def no_rebuild(*args):
        raise AssertionError("rebuilt although the cache holds this configuration")

    monkeypatch.setattr(engine, "_build_knowledge_base", no_rebuild)
    engine.load_knowledge_base.cache_clear()
    cached = engine.load_knowledge_base()
    assert isomorphic(cached.closure, built.closure) and isomorphic(cached.rule_shapes, built.rule_shapes)

    table = tmp_path / "table.ttl"
    table.write_text("", encoding="utf-8")
    key_a = engine._cache_key(str(table), ())
    table.write_text("# changed", encoding="utf-8")
    assert engine._cache_key(str(table), ()) != key_a
    engine.load_knowledge_base.cache_clear()


def test_cached_values_are_computed_once_per_machine_keyed_by_their_text_and_never_trusted_when_altered(
    tmp_path, monkeypatch
):
    """``knowledge.cached`` (what the fast engine keeps of its parsed queries): computed once, read back by the
    next process (here: a second call), keyed by kind and text, refused when the file is altered or holds
    another type, and computed every time without a cache directory."""
    import pickle

    from kg_reasoner.reason import knowledge

    monkeypatch.setenv("KG_REASONER_CACHE_DIR", str(tmp_path))
    calls: list = []

    def build(value):
        def make():
            calls.append(value)
            return value

        return make

    assert knowledge.cached("kind-a", "SELECT 1", build((1, "one")), tuple) == (1, "one")
    (path,) = tmp_path.glob("kind-a-*.pickle")
    assert knowledge.cached("kind-a", "SELECT 1", build((2, "two")), tuple) == (1, "one")  # read back
    assert calls == [(1, "one")]
    assert knowledge.cached("kind-a", "SELECT 2", build((3,)), tuple) == (3,)  # another text
    assert knowledge.cached("kind-b", "SELECT 1", build((4,)), tuple) == (4,)  # another kind
    files = sorted(tmp_path.glob("kind-a-*.pickle"))
    assert len(files) == 2 and all(f.stat().st_mode & 0o077 == 0 for f in files)

    # a well-formed pickle of the right type behind a tag that does not verify it: only the check refuses it
    path.write_bytes(path.read_bytes()[:32] + pickle.dumps((9, "planted")))
    assert knowledge.cached("kind-a", "SELECT 1", build((5,)), tuple) == (5,)
    # a file that verifies but holds another type than the one asked for: computed again
    assert knowledge.cached("kind-a", "SELECT 1", build({"six": 6}), dict) == {"six": 6}
    assert calls[-2:] == [(5,), {"six": 6}]

    # a value that does not pickle, or a file that cannot be put in place, is only not cached: the value
    # returned, and nothing left in the folder
    unpicklable = (lambda: None,)
    assert knowledge.cached("kind-c", "SELECT 3", lambda: unpicklable, tuple) is unpicklable

    def no_replace(*args):
        raise OSError("read-only")

    with monkeypatch.context() as m:
        m.setattr(knowledge.os, "replace", no_replace)
        assert knowledge.cached("kind-c", "SELECT 4", build((8,)), tuple) == (8,)
    assert not list(tmp_path.glob("kind-c-*")) and not list(tmp_path.glob("*.tmp"))

    # the code that computes the values is part of the key: an edit to it is computed again
    with monkeypatch.context() as m:
        m.setattr(knowledge, "_code_digest", lambda: b"edited code")
        assert knowledge.cached("kind-a", "SELECT 2", build((10,)), tuple) == (10,)
        edited_key = knowledge._cache_key(None, ())
    assert edited_key != knowledge._cache_key(None, ())
    assert knowledge.cached("kind-a", "SELECT 2", build((11,)), tuple) == (3,)  # (the unedited file)

    monkeypatch.setenv("KG_REASONER_CACHE_DIR", "")
    n = len(calls)
    knowledge.cached("kind-a", "SELECT 1", build((7,)), tuple)
    knowledge.cached("kind-a", "SELECT 1", build((7,)), tuple)
    assert len(calls) == n + 2


def test_the_knowledge_bases_owl_tables_close_each_vignette_as_tables_compiled_afresh():
    """The OWL 2 RL tables the knowledge base carries (read with it from the cache) derive, for every vignette,
    the triples and errors of tables compiled here from its reasoning base; the fast engine uses them."""
    from kg_reasoner.api import Reasoner
    from kg_reasoner.reason.owlrl_tables import compile_owlrl

    reasoner = Reasoner(engine="fast")
    kb = reasoner.kb
    assert kb.owl_tables is not None and reasoner._engine.owl is kb.owl_tables[0]
    kept, fresh = kb.owl_tables[0], compile_owlrl(kb.reasoning_base)
    assert kept is not fresh
    for path in VIGNETTES:
        graph = reasoner.read(path)[0].graph
        (a, a_errors), (b, b_errors) = (
            kept.closure(kept.with_its_iris(graph)),
            fresh.closure(fresh.with_its_iris(graph)),
        )
        assert set(a) == set(b) and a_errors == b_errors, path.name


def test_query_plans_and_demand_from_the_cache_answer_as_those_parsed_in_process(tmp_path, monkeypatch):
    """Every library query's and SPARQL constraint's plan, compiled from its algebra as read back from the cache
    (no parse: the parser is made to fail), gives the rows of the plan compiled from a parse in this process,
    for each of six vignettes; the Watches of the queries read back are those computed, and so is the choice of
    rules a summary row demands (``rules_demanded``)."""
    from kg_reasoner.api import Reasoner
    from kg_reasoner.reason import fast as fast_module

    reasoner = Reasoner(engine="fast")  # (its knowledge base from the suite's cache, before the folder changes)
    engine = reasoner._engine
    try:
        _plans_and_demand_from_the_cache(reasoner, engine, tmp_path, monkeypatch)
    finally:
        fast_module.query_algebra.cache_clear()
        fast_module.query_watch.cache_clear()


def _plans_and_demand_from_the_cache(reasoner, engine, tmp_path, monkeypatch) -> None:
    from kg_reasoner.explain.explanation import SUMMARY_QUERIES
    from kg_reasoner.reason import fast as fast_module
    from kg_reasoner.reason.plans import compile_select
    from kg_reasoner.reason.shacl_rules import watch_of
    from kg_reasoner.resources import read_text

    # the choice of rules from the queries parsed here (no cache folder, nothing kept in memory)
    monkeypatch.setenv("KG_REASONER_CACHE_DIR", "")
    fast_module.query_watch.cache_clear()
    demanded_parsed = engine._rules_demanded(frozenset(SUMMARY_QUERIES))
    monkeypatch.setenv("KG_REASONER_CACHE_DIR", str(tmp_path))
    queries = {f.stem: read_text("queries", f.name) for f in sorted((ROOT / "queries").glob("*.rq"))}
    constraints = [(shape, text) for shape in engine.validation for text, _messages in shape.sparql]
    assert constraints  # (the shipped shapes have SPARQL constraints)
    texts = [*queries.values(), *(text for _shape, text in constraints)]
    watches = {}
    for text in texts:
        fast_module.query_algebra.cache_clear()
        fast_module.query_algebra(text)  # computed and written
        fast_module.query_watch.cache_clear()
        watches[text] = fast_module.query_watch(text)
        assert watches[text] == watch_of(fast_module.translated(text)[0].algebra)
    assert len(list(tmp_path.glob("query-algebra-*.pickle"))) == len(set(texts))

    def no_parse(*args):
        raise AssertionError("parsed again although the cache holds it")

    monkeypatch.setattr(fast_module, "select_algebra", no_parse)
    monkeypatch.setattr(fast_module, "translated", no_parse)
    fast_module.query_algebra.cache_clear()
    fast_module.query_watch.cache_clear()
    assert all(fast_module.query_watch(text) == watches[text] for text in texts)
    assert engine._rules_demanded(frozenset(SUMMARY_QUERIES)) == demanded_parsed
    from_cache = {text: compile_select(algebra=fast_module.query_algebra(text)) for text in texts}
    monkeypatch.undo()  # (the parser back, for the plans parsed here)

    for path in VIGNETTES[:6]:
        pi = reasoner.read(path)[0]
        with engine.session(pi.iri, pi.graph) as d:
            run = d.query.__self__
            for name, text in queries.items():
                parsed = compile_select(text)
                if parsed is None:
                    assert from_cache[text] is None, name
                    continue
                bindings = {"patient": fast_module.to_ox(pi.iri)}
                assert from_cache[text].solutions(run.explain_parts, bindings) == parsed.solutions(
                    run.explain_parts, bindings
                ), f"{name} for {path.name}"
            for shape, text in constraints:
                parsed = compile_select(text)
                for focus in run._focus(shape.targets):
                    bindings = {"this": fast_module.to_ox(focus)}
                    assert from_cache[text].solutions(run.parts, bindings) == parsed.solutions(run.parts, bindings)


@pytest.mark.slow  # reference engine / knowledge-base rebuilds
def test_damaged_cache_is_rebuilt_and_cache_can_be_disabled(tmp_path, monkeypatch, quick_build):
    engine = quick_build.engine
    monkeypatch.setenv("KG_REASONER_CACHE_DIR", str(tmp_path))
    engine.load_knowledge_base.cache_clear()
    path = tmp_path / f"knowledge-base-{engine._cache_key(None, ())}.pickle"
    path.write_bytes(b"not a pickle")
    assert len(engine.load_knowledge_base().closure) > 1000
    assert path.read_bytes() != b"not a pickle" and len(quick_build.calls) == 1
    other = tmp_path / "off"
    monkeypatch.setenv("KG_REASONER_CACHE_DIR", "")
    engine.load_knowledge_base.cache_clear()
    engine.load_knowledge_base()
    assert not other.exists() and engine.cache_dir() is None and len(quick_build.calls) == 2
    engine.load_knowledge_base.cache_clear()


def test_compiled_owl_rl_reports_what_owlrl_reports_for_complement_and_datatype_disjointness():
    """cls-com and cax-dw, the ontology's and the datatypes' (owlrl adds the disjointness of two datatypes a
    graph uses): the compiled tables give owlrl's own messages, each rule checked beside the others."""
    import owlrl
    from rdflib import Graph, Literal, Namespace
    from rdflib.namespace import OWL, RDF, RDFS, XSD

    from kg_reasoner.reason.base import closure_errors
    from kg_reasoner.reason.owlrl_tables import compile_owlrl

    ex = Namespace("urn:ex:")
    tbox = Graph()
    tbox.add((ex.A, RDF.type, OWL.Class))
    tbox.add((ex.B, RDF.type, OWL.Class))
    tbox.add((ex.A, OWL.complementOf, ex.B))
    tbox.add((ex.value, RDF.type, OWL.DatatypeProperty))
    tbox.add((ex.value, RDFS.range, XSD.decimal))
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(tbox)
    patient = [
        (ex.x, RDF.type, ex.A),
        (ex.x, RDF.type, ex.B),
        (ex.x, ex.value, Literal(6.0, datatype=XSD.double)),
        (ex.y, ex.value, Literal("2.0", datatype=XSD.decimal)),  # the graph uses both datatypes
    ]
    whole = Graph()
    for t in [*tbox, *patient]:
        whole.add(t)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(whole)
    _triples, errors = compile_owlrl(tbox).closure(patient)
    assert sorted(errors) == closure_errors(whole)
    assert any("complementarity" in e for e in errors) and any("XMLSchema#double" in e for e in errors)


# -- the compiled OWL 2 RL closure against owlrl, on small random ontologies and individuals ----------
@st.composite
def _owl_cases(draw):
    """A small ontology of the axioms the tables compile (subclasses and equivalences, disjointness and
    complements, domains and ranges, sub- and inverse properties, property characteristics, someValuesFrom,
    allValuesFrom and hasValue restrictions, intersections and unions), meeting in random combinations, and
    individuals (types, property values, sameAs, differentFrom)."""
    classes, props, people = [EX[c] for c in "ABCDE"], [EX[p] for p in "pqr"], [EX[i] for i in "abcd"]
    restrictions, combined = [EX.R1, EX.R2], [EX.I1, EX.U1]
    c, p, i = st.sampled_from(classes), st.sampled_from(props), st.sampled_from(people)
    any_class = st.sampled_from(classes + restrictions + combined)
    characteristic = st.sampled_from(
        [
            OWL.SymmetricProperty,
            OWL.TransitiveProperty,
            OWL.FunctionalProperty,
            OWL.InverseFunctionalProperty,
            OWL.IrreflexiveProperty,
            OWL.AsymmetricProperty,
        ]
    )
    single = st.one_of(
        st.tuples(any_class, st.sampled_from([RDFS.subClassOf, OWL.equivalentClass]), any_class),
        st.tuples(c, st.sampled_from([OWL.disjointWith, OWL.complementOf]), c),
        st.tuples(p, st.sampled_from([RDFS.domain, RDFS.range]), c),
        st.tuples(p, st.sampled_from([RDFS.subPropertyOf, OWL.inverseOf]), p),
        st.tuples(p, st.just(RDF.type), characteristic),
    )
    axioms = draw(st.lists(single, min_size=1, max_size=8))
    for r in restrictions:
        kind = draw(st.sampled_from([OWL.someValuesFrom, OWL.allValuesFrom, OWL.hasValue]))
        value = draw(i if kind == OWL.hasValue else st.sampled_from([*classes, OWL.Thing]))
        axioms += [(r, RDF.type, OWL.Restriction), (r, OWL.onProperty, draw(p)), (r, kind, value)]
    for node, operator in zip(combined, [OWL.intersectionOf, OWL.unionOf]):
        first, second = BNode(), BNode()
        axioms += [(node, operator, first), (first, RDF.first, draw(c)), (first, RDF.rest, second)]
        axioms += [(second, RDF.first, draw(c)), (second, RDF.rest, RDF.nil)]
    axioms += [(x, RDF.type, OWL.Class) for x in classes] + [(x, RDF.type, OWL.ObjectProperty) for x in props]
    fact = st.one_of(
        st.tuples(i, st.just(RDF.type), st.sampled_from(classes + restrictions + combined)),
        st.tuples(i, p, i),
        st.tuples(i, st.sampled_from([OWL.sameAs, OWL.differentFrom]), i),
    )
    return axioms, draw(st.lists(fact, min_size=1, max_size=8))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_owl_cases())
def test_compiled_owl_rl_closure_equals_owlrl_on_random_ontologies(case):
    """``OwlRlTables.closure`` (per-predicate rules read once, cax-sco skipped for the superclass of a class whose
    superclasses are closed, the sameAs lookups built at the first sameAs) derives what owlrl derives from the
    closed ontology and the individuals, and reports owlrl's inconsistencies."""
    from kg_reasoner.reason.base import TRIVIAL_REFLEXIVE, closure_errors
    from kg_reasoner.reason.owlrl_tables import compile_owlrl

    tbox_triples, facts = case
    tbox = Graph()
    for t in tbox_triples:
        tbox.add(t)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(tbox)
    assume(not closure_errors(tbox))  # (an inconsistent ontology: the knowledge base refuses it)
    closed = set(tbox)
    whole = Graph()
    for t in [*closed, *facts]:
        whole.add(t)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(whole)
    tables = compile_owlrl(tbox)
    data, errors = tables.closure(tables.with_its_iris(facts))

    individuals = {EX[i] for i in "abcd"}

    def kept(triples) -> set:
        # what is derived about the individuals: the tables run the instance-level rules only (owlrl also
        # derives schema triples from individuals' sameAs, e.g. two hasValue restrictions made equivalent;
        # their consequences for individuals are derived by both); owlrl's error nodes are blank nodes
        return {
            t
            for t in triples
            if t not in closed and not (t[1] in TRIVIAL_REFLEXIVE and t[0] == t[2]) and t[0] in individuals
        }

    assert kept(data) == kept(whole)
    assert sorted(errors) == closure_errors(whole)


def test_sorted_on_read_makes_its_set_when_first_read_and_once():
    """``SortedOnRead`` given a function (the fast engine's inferred graph: a summary row never reads it) calls
    it only when first read, and only once; read, it is the sorted set; pickled, the sorted list."""
    import pickle

    from kg_reasoner.reason.base import SortedOnRead

    calls: list = []

    def make() -> set:
        calls.append(1)
        return {(3,), (1,), (2,)}

    lazy = SortedOnRead(make)
    assert calls == []
    assert (2,) in lazy and (4,) not in lazy and calls == [1]
    assert list(lazy) == [(1,), (2,), (3,)] and len(lazy) == 3 and lazy[0] == (1,) and calls == [1]
    assert pickle.loads(pickle.dumps(SortedOnRead(make))) == [(1,), (2,), (3,)]
    assert SortedOnRead({(2,), (1,)}) == [(1,), (2,)]


def test_compiled_owl_rl_closure_follows_superclasses_the_tables_do_not_close():
    """cax-sco is skipped for the superclass of a class only when that class's superclasses are closed in the
    tables (``sup_closed``): on tables of an ontology that is not closed (A ⊑ B ⊑ C, D ≡ A) every superclass
    is still reached."""
    from kg_reasoner.reason.owlrl_tables import OwlRlTables

    tbox = Graph()
    for t in [(EX.A, RDFS.subClassOf, EX.B), (EX.B, RDFS.subClassOf, EX.C), (EX.D, OWL.equivalentClass, EX.A)]:
        tbox.add(t)
    tables = OwlRlTables(tbox)
    assert EX.A not in tables.sup_closed and EX.B in tables.sup_closed
    for start in (EX.A, EX.D):
        data, errors = tables.closure(tables.with_its_iris([(EX.x, RDF.type, start)]))
        assert {o for s, p, o in data if s == EX.x and p == RDF.type} == {EX.A, EX.B, EX.C, EX.D} and errors == []


def test_a_patient_read_as_triples_is_her_graph_in_its_order(reasoner):
    """A patient summary is read into triples (``PatientInput.triples``), of which a Graph is made only when
    ``graph`` is read: the triples are the Graph's, in the order it iterates them (the engine's indexes and
    explanations read them in that order); once the Graph is built, a triple added to it is hers."""
    from kg_reasoner.read.patient import in_graph_order, patient_graph
    from kg_reasoner.testing.synthetic import cohort

    for summary in cohort(40, seed=5):
        pi = reasoner.read(summary)[0]
        triples = pi.triples
        assert pi._graph is None, "the summary reader built a Graph nobody read"
        assert triples == tuple(patient_graph(triples)) == in_graph_order(triples + triples[:3])
        assert tuple(pi.graph) == triples
        extra = (pi.iri, RDFS.comment, Literal("added after reading"))
        pi.graph.add(extra)
        assert extra in pi.triples and len(pi.triples) == len(triples) + 1


@pytest.mark.parametrize("engine", ["fast", pytest.param("reference", marks=pytest.mark.slow)])
def test_an_engine_derives_the_same_from_her_triples_as_from_her_graph(reasoner, reference_reasoner, engine):
    """``session(iri, pi.triples)`` (a cohort worker's way: no Graph built) derives and explains what
    ``session(iri, pi.graph)`` does, in both engines."""
    from kg_reasoner.explain.explanation import explain
    from kg_reasoner.testing.synthetic import cohort

    r = reasoner if engine == "fast" else reference_reasoner
    for summary in list(cohort(12, seed=8)) + [load_case(p)["patient"] for p in VIGNETTES[:4]]:
        pi = r.read(summary)[0]
        outcomes = []
        for asserted in (pi.triples, pi.graph):
            with r._engine.session(pi.iri, asserted) as d:
                outcomes.append(
                    (sorted(d.asserted), sorted(d.inferred), d.violations, d.warnings, explain(d.query, pi.iri))
                )
        assert outcomes[0] == outcomes[1], pi.patient_id
