"""The compiled OWL 2 RL closure (``reason/owlrl_tables.py``) against owlrl on seeded random ontologies and
facts: the axioms of OWL 2 RL's instance rules (class and property hierarchies and equivalences, domains and
ranges, inverse, symmetric, transitive, functional and inverse-functional properties, irreflexive and
asymmetric ones, disjoint classes, complements, hasValue, someValuesFrom, allValuesFrom,
intersectionOf, unionOf, datatype ranges) over a few individuals with object and data facts, owl:sameAs and
owl:differentFrom. Each graph is split, closed and compared exactly as the standard corpora's owlrl cases are
(tests/test_standard_corpora.py: ``_Compiled``, ``_owlrl_reference``): the same inferred triples, the same
triples before the engine's filter, the same inconsistency messages. An ontology the tables refuse
(``compile_owlrl`` returns None) or that is inconsistent on its own is counted, not compared.

The default tier runs 40 seeds, the full tier 300 more (owlrl takes about 0.2 s a graph)."""

from __future__ import annotations

import collections
import random

import pytest
from conftest import assert_none_differ, seed_block_id, seed_blocks
from rdflib import BNode, Graph, Literal, Namespace
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, XSD
from test_standard_corpora import _Compiled, _not_trivial, _owlrl_reference

EX = Namespace("http://example.org/")
CLASSES = [EX[c] for c in "ABCDEF"]
OBJECT = [EX.p, EX.q, EX.r]
DATA = [EX.d, EX.e]
INDIVIDUALS = [EX[f"i{n}"] for n in range(1, 6)]
LITERALS = [
    Literal(1),
    Literal(2),
    Literal("x"),
    Literal("abc", datatype=XSD.integer),  # (ill-typed)
    Literal("2020-01-01", datatype=XSD.date),
    Literal(1.5),
]
QUICK = range(0, 40)
FULL = range(40, 340)


def random_graph(seed: int) -> Graph:
    """An ontology of a few axioms of each kind the tables compile, and facts about five individuals."""
    rng = random.Random(seed)
    g = Graph()
    c = lambda: rng.choice(CLASSES)  # noqa: E731
    p = lambda: rng.choice(OBJECT)  # noqa: E731
    for cls in CLASSES:
        g.add((cls, RDF.type, OWL.Class))
    for prop in OBJECT:
        g.add((prop, RDF.type, OWL.ObjectProperty))
    for prop in DATA:
        g.add((prop, RDF.type, OWL.DatatypeProperty))

    def restriction(on, kind, value) -> BNode:
        r = BNode()
        g.add((r, RDF.type, OWL.Restriction))
        g.add((r, OWL.onProperty, on))
        g.add((r, kind, value))
        return r

    def class_list(kind, members) -> BNode:
        node, head = BNode(), BNode()
        Collection(g, head, list(members))
        g.add((node, RDF.type, OWL.Class))
        g.add((node, kind, head))
        return node

    axioms = [
        lambda: g.add((c(), RDFS.subClassOf, c())),
        lambda: g.add((c(), OWL.equivalentClass, c())),
        lambda: g.add((p(), RDFS.subPropertyOf, p())),
        lambda: g.add((p(), OWL.equivalentProperty, p())),
        lambda: g.add((p(), RDFS.domain, c())),
        lambda: g.add((p(), RDFS.range, c())),
        lambda: g.add((p(), OWL.inverseOf, p())),
        lambda: g.add((p(), RDF.type, rng.choice([OWL.SymmetricProperty, OWL.TransitiveProperty]))),
        lambda: g.add((p(), RDF.type, rng.choice([OWL.FunctionalProperty, OWL.InverseFunctionalProperty]))),
        lambda: g.add((p(), RDF.type, rng.choice([OWL.IrreflexiveProperty, OWL.AsymmetricProperty]))),
        lambda: g.add((c(), OWL.disjointWith, c())),
        lambda: g.add((c(), OWL.equivalentClass, restriction(p(), OWL.hasValue, rng.choice(INDIVIDUALS)))),
        lambda: g.add((restriction(p(), OWL.someValuesFrom, c()), RDFS.subClassOf, c())),
        lambda: g.add((c(), RDFS.subClassOf, restriction(p(), OWL.allValuesFrom, c()))),
        lambda: g.add((c(), OWL.equivalentClass, class_list(OWL.intersectionOf, rng.sample(CLASSES, 2)))),
        lambda: g.add((class_list(OWL.unionOf, rng.sample(CLASSES, 2)), RDFS.subClassOf, c())),
        lambda: g.add((c(), OWL.complementOf, c())),
        lambda: g.add(
            (rng.choice(DATA), RDFS.range, rng.choice([XSD.integer, XSD.string, XSD.date, XSD.double, XSD.decimal]))
        ),
        lambda: g.add((rng.choice(DATA), RDFS.domain, c())),
        lambda: g.add((c(), OWL.equivalentClass, restriction(rng.choice(DATA), OWL.hasValue, rng.choice(LITERALS)))),
    ]
    for _ in range(rng.randint(2, 9)):
        rng.choice(axioms)()
    for _ in range(rng.randint(3, 12)):
        i, roll = rng.choice(INDIVIDUALS), rng.random()
        if roll < 0.3:
            g.add((i, RDF.type, c()))
        elif roll < 0.65:
            g.add((i, p(), rng.choice(INDIVIDUALS)))
        elif roll < 0.85:
            g.add((i, rng.choice(DATA), rng.choice(LITERALS)))
        elif roll < 0.93:
            g.add((i, OWL.sameAs, rng.choice(INDIVIDUALS)))
        else:
            g.add((i, OWL.differentFrom, rng.choice(INDIVIDUALS)))
    return g


def _datatype_disjointness(triples: set) -> set:
    """owlrl writes the disjointness of two datatypes the graph uses (xsd:decimal owl:disjointWith xsd:double)
    as triples; the tables apply it (cax-dw: ``_Run.datatype_disjoint``) without writing it. A schema triple,
    never kept in a patient's inferred graph: left out of the comparison before the engine's filter."""
    return {
        (s, p, o)
        for s, p, o in triples
        if p == OWL.disjointWith and str(s).startswith(str(XSD)) and str(o).startswith(str(XSD))
    }


def outcome(seed: int) -> tuple[str, str]:
    """("same" | "differ" | "refused" | "inconsistent ontology", detail) of a seed's graph."""
    triples = set(random_graph(seed))
    compiled = _Compiled(triples)
    if compiled.ontology_errors:
        return "inconsistent ontology", ""
    if compiled.tables is None:
        return "refused", ", ".join(compiled.refused_axioms())
    everything, errors, inferred = compiled.closure_of_individuals()
    ref_everything, ref_errors, ref_inferred = _owlrl_reference(triples, compiled)
    everything = _not_trivial(everything - set(compiled.closure))
    ref_everything = _not_trivial(ref_everything) - _datatype_disjointness(ref_everything)
    problems = []
    if errors != ref_errors:
        problems.append(f"errors: compiled {errors}; owlrl {ref_errors}")
    if inferred != ref_inferred:
        problems.append(
            f"inferred: compiled only {sorted(inferred - ref_inferred)}; owlrl only {sorted(ref_inferred - inferred)}"
        )
    if everything != ref_everything:
        problems.append(
            f"closure: compiled only {sorted(everything - ref_everything)}; owlrl only {sorted(ref_everything - everything)}"
        )
    if problems:
        text = Graph()
        for t in triples:
            text.add(t)
        text.bind("ex", EX)
        return "differ", f"seed {seed}:\n" + "\n".join(problems) + "\n" + text.serialize(format="turtle")
    return "same", "errors" if errors else ""


def _check(seeds: range) -> None:
    outcomes = [outcome(seed) for seed in seeds]
    assert_none_differ(outcomes, "graphs closed")
    kinds = collections.Counter(kind for kind, _ in outcomes)
    # (not vacuous: most graphs are compared, some of them inconsistent)
    assert kinds["same"] >= 0.7 * len(seeds), kinds
    assert any(detail == "errors" for _, detail in outcomes), "no inconsistent patient among the seeds"


def test_random_ontologies_close_as_owlrl():
    _check(QUICK)


@pytest.mark.slow  # 300 more seeds (about a minute)
@pytest.mark.parametrize("block", seed_blocks(FULL, 50), ids=seed_block_id)
def test_more_random_ontologies_close_as_owlrl(block):
    _check(block)


def test_a_reflexive_axiom_is_kept_a_trivial_reflexive_triple_is_not():
    """The reasoning base (``knowledge._reasoning_relevant``) leaves out what owlrl adds for every resource
    (C rdfs:subClassOf C, x owl:sameAs x), not an axiom that is reflexive: ``q owl:inverseOf q`` makes q
    symmetric and ``B owl:disjointWith B`` makes an instance of B inconsistent (seeds 10 and 18 found both
    dropped, in both engines)."""
    g = Graph()
    g.add((EX.q, OWL.inverseOf, EX.q))
    g.add((EX.B, OWL.disjointWith, EX.B))
    g.add((EX.B, RDF.type, OWL.Class))
    g.add((EX.i1, EX.q, EX.i2))
    g.add((EX.i3, RDF.type, EX.B))
    compiled = _Compiled(set(g))
    assert (EX.q, OWL.inverseOf, EX.q) in compiled.reasoning_base
    assert (EX.B, OWL.disjointWith, EX.B) in compiled.reasoning_base
    assert (EX.B, RDFS.subClassOf, EX.B) in compiled.closure and (
        EX.B,
        RDFS.subClassOf,
        EX.B,
    ) not in compiled.reasoning_base
    _everything, errors, inferred = compiled.closure_of_individuals()
    assert (EX.i2, EX.q, EX.i1) in inferred
    assert errors == [f"Disjoint classes {EX.B} and {EX.B} have a common individual {EX.i3}"]
