"""The compiled SHACL Core validation (``reason/shacl_constraints.py``) against pySHACL on seeded random shapes
and data, within the subset the compiler accepts: class targets over a class hierarchy, property shapes on a
predicate path with sh:minCount, sh:maxCount, sh:datatype, sh:minLength, sh:minInclusive, sh:maxInclusive,
sh:class, sh:nodeKind, sh:in and sh:node, node shapes with sh:or, sh:datatype and SPARQL constraints (run as
plans or on pyoxigraph), severities, and data with well- and
ill-typed literals, language strings, a datatype of its own, IRIs and blank nodes. Each case is compared exactly as the
standard corpora's validation cases are (tests/test_standard_corpora.py: ``_compiled_validation``,
``_pyshacl_validation``): conforms, and the results as (focus node, path, value, severity). A shapes graph
the compiler refuses (``Unsupported``) is counted, not compared.

The SPARQL constraints compare only well-typed numbers, and terms with ``sameTerm``: on an ill-typed literal
(``"abc"^^xsd:integer`` is numeric to rdflib) and on literals of two kinds (rdflib orders ``"x"`` and ``2``,
and ``"chat"@fr`` and ``"x"``; ``"x" != "abc"^^xsd:integer`` is true to it) rdflib, under pySHACL, departs
from SPARQL 1.1, where these are errors, which the fast engine follows (its plans are checked against pyoxigraph by tests/test_plans_fuzz.py). The shipped constraints
compare only record IRIs' strings and instants the readers write as xsd:dateTime.

The default tier runs 60 seeds, the full tier 300 more."""

from __future__ import annotations

import collections
import random

import pytest
from conftest import assert_none_differ, seed_block_id, seed_blocks
from rdflib import BNode, Graph, Literal, Namespace
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, XSD
from test_standard_corpora import _compiled_validation, _pyshacl_validation, _ShaclCase

from kg_reasoner.reason.base import Unsupported
from kg_reasoner.reason.shacl_constraints import compile_validation_shapes

EX = Namespace("http://example.org/")
CLASSES = [EX[c] for c in "ABCD"]
PREDICATES = [EX.p, EX.q, EX.r]
NODES = [EX[f"n{i}"] for i in range(1, 7)]
VALUES = [
    Literal(1),
    Literal(5),
    Literal(-2),
    Literal("7", datatype=XSD.integer),
    Literal("2.5", datatype=XSD.decimal),
    Literal("abc", datatype=XSD.integer),  # (ill-typed)
    Literal("x"),
    Literal("longer text"),
    Literal("chat", lang="fr"),
    Literal("true", datatype=XSD.boolean),
    Literal("2020-01-01", datatype=XSD.date),
    Literal("2020-01-01T10:00:00", datatype=XSD.dateTime),
    Literal("1.5e0", datatype=XSD.double),
    Literal("v1", datatype=EX.code),  # (a datatype neither engine knows)
]
QUICK = range(0, 60)
FULL = range(60, 360)


def random_case(seed: int) -> _ShaclCase:
    rng = random.Random(seed)
    data, shapes = Graph(), Graph()
    # the data: a class hierarchy, typed nodes, and values
    for _ in range(rng.randint(0, 3)):
        a, b = rng.sample(CLASSES, 2)
        data.add((a, RDFS.subClassOf, b))
    for n in NODES:
        for c in rng.sample(CLASSES, rng.choice([0, 1, 1, 2])):
            data.add((n, RDF.type, c))
    for _ in range(rng.randint(4, 16)):
        s, p = rng.choice(NODES), rng.choice(PREDICATES)
        roll = rng.random()
        o = rng.choice(VALUES) if roll < 0.6 else (rng.choice(NODES) if roll < 0.9 else BNode())
        data.add((s, p, o))

    def constraint(node, kind: int) -> None:
        """One constraint of a property shape (of kind 0-9), a value as the data has them."""
        if kind == 0:
            shapes.add((node, SH.minCount, Literal(rng.choice([1, 2]))))
        elif kind == 1:
            shapes.add((node, SH.maxCount, Literal(rng.choice([0, 1, 2]))))
        elif kind == 2:
            shapes.add(
                (
                    node,
                    SH.datatype,
                    rng.choice(
                        [
                            XSD.integer,
                            XSD.string,
                            XSD.decimal,
                            XSD.date,
                            RDF.langString,
                            RDFS.Literal,
                            RDFS.Datatype,
                            EX.code,
                            XSD.boolean,
                            XSD.dateTime,
                            XSD.double,
                            XSD.float,
                        ]
                    ),
                )
            )
        elif kind == 3:
            shapes.add((node, SH.minLength, Literal(rng.choice([1, 2, 5]))))
        elif kind == 4:
            shapes.add(
                (node, SH.minInclusive, rng.choice([Literal(0), Literal(2), Literal("2.5", datatype=XSD.decimal)]))
            )
        elif kind == 5:
            shapes.add(
                (node, SH.maxInclusive, rng.choice([Literal(3), Literal(5), Literal("2020-06-01", datatype=XSD.date)]))
            )
        elif kind == 6:
            shapes.add((node, SH["class"], rng.choice(CLASSES)))
        elif kind == 7:
            shapes.add(
                (node, SH.nodeKind, rng.choice([SH.IRI, SH.Literal, SH.BlankNode, SH.BlankNodeOrIRI, SH.IRIOrLiteral]))
            )
        elif kind == 8:
            members = rng.sample(VALUES[:8] + NODES[:3], rng.randint(1, 4))
            head = BNode()
            Collection(shapes, head, members)
            shapes.add((node, SH["in"], head))
        elif rng.random() < 0.5:
            inner = BNode()
            shapes.add((inner, RDF.type, SH.NodeShape))
            shapes.add((inner, SH.message, Literal("inner")))
            prop = property_shape()
            shapes.add((inner, SH.property, prop))
            shapes.add((node, SH.node, inner))
        else:  # (as the packaged NumberShape: sh:node to a node shape of alternative datatypes)
            inner, head = BNode(), BNode()
            members = []
            for dt in rng.sample([XSD.integer, XSD.decimal, XSD.double, XSD.float, XSD.string], 2):
                member = BNode()
                shapes.add((member, SH.datatype, dt))
                members.append(member)
            Collection(shapes, head, members)
            shapes.add((inner, RDF.type, SH.NodeShape))
            shapes.add((inner, SH.message, Literal("a number")))
            shapes.add((inner, SH["or"], head))
            shapes.add((node, SH.node, inner))

    def property_shape() -> BNode:
        node = BNode()
        shapes.add((node, SH.path, rng.choice(PREDICATES)))
        shapes.add((node, SH.message, Literal("a message")))
        if rng.random() < 0.3:
            shapes.add((node, SH.severity, rng.choice([SH.Warning, SH.Info])))
        for kind in rng.sample(range(10), rng.randint(1, 2)):  # (two of a kind are refused)
            constraint(node, kind)
        return node

    def sparql_constraint() -> str:
        p, q = (f"<{x}>" for x in rng.sample(PREDICATES, 2))
        threshold = rng.choice(["0", "2", "2.5"])
        return rng.choice(
            [
                # (well-typed numbers only, and sameTerm below: see the module's docstring)
                f'SELECT $this ?value WHERE {{ $this {p} ?value . FILTER (isNumeric(?value) && STR(?value) != "abc" '
                f"&& ?value > {threshold}) }}",
                f"SELECT $this WHERE {{ FILTER NOT EXISTS {{ $this {p} ?v }} }}",
                f"SELECT $this ?value WHERE {{ $this {p} ?value . OPTIONAL {{ ?value {q} ?w }} FILTER (!BOUND(?w)) }}",
                f"SELECT $this ?value WHERE {{ $this {p} ?value . ?value a <{rng.choice(CLASSES)}> }}",
                f"SELECT DISTINCT $this WHERE {{ $this {p} ?a , ?b . FILTER (!sameTerm(?a, ?b)) }}",
                f"SELECT $this (COUNT(?v) AS ?n) WHERE {{ $this {p} ?v }} GROUP BY $this HAVING (COUNT(?v) > 1)",
            ]
        )

    for i in range(rng.randint(1, 3)):
        shape = EX[f"Shape{i}"]
        shapes.add((shape, RDF.type, SH.NodeShape))
        shapes.add((shape, SH.targetClass, rng.choice(CLASSES)))
        shapes.add((shape, SH.message, Literal(f"shape {i}")))
        for _ in range(rng.randint(1, 3)):
            shapes.add((shape, SH.property, property_shape()))
        if rng.random() < 0.3:  # a SPARQL constraint (run as a plan, or on pyoxigraph)
            constraint_node = BNode()
            shapes.add((shape, SH.sparql, constraint_node))
            shapes.add((constraint_node, SH.select, Literal(sparql_constraint())))
            if rng.random() < 0.7:
                shapes.add((constraint_node, SH.message, Literal("a SPARQL message")))
        if rng.random() < 0.05:
            shapes.add((shape, SH.datatype, XSD.string))  # (of the focus node itself: an IRI never conforms)
        if rng.random() < 0.2:
            members = [property_shape() for _ in range(2)]
            head = BNode()
            Collection(shapes, head, members)
            shapes.add((shape, SH["or"], head))
    return _ShaclCase(f"fuzz-{seed}", "validate", data, shapes)


def outcome(seed: int) -> tuple[str, str]:
    """("same" | "differ" | "refused" | "reference cannot", detail) of a seed's case."""
    case = random_case(seed)
    try:
        compiled = compile_validation_shapes(case.shapes)
    except Unsupported as exc:
        return "refused", str(exc)
    reference, limitation = _pyshacl_validation(case)
    if reference is None or reference == "failure":
        return "reference cannot", str(limitation)
    got = _compiled_validation(case, compiled)
    if got != reference:
        return "differ", (
            f"seed {seed}: compiled {got}\npySHACL {reference}\n# data\n{case.data.serialize(format='turtle')}"
            f"\n# shapes\n{case.shapes.serialize(format='turtle')}"
        )
    return "same", "conforms" if got[0] else "results"


def _check(seeds: range) -> None:
    outcomes = [outcome(seed) for seed in seeds]
    assert_none_differ(outcomes, "cases validated")
    kinds = collections.Counter(kind if kind != "same" else f"same, {d}" for kind, d in outcomes)
    # (not vacuous: most cases are compared, most of them with results)
    assert kinds["same, results"] >= 0.5 * len(seeds) and kinds["same, conforms"] > 0, kinds


def test_random_shapes_validate_as_pyshacl():
    _check(QUICK)


@pytest.mark.slow  # 300 more seeds
@pytest.mark.parametrize("block", seed_blocks(FULL, 50), ids=seed_block_id)
def test_more_random_shapes_validate_as_pyshacl(block):
    _check(block)


def _shape_of_ex_p(parameter, value) -> Graph:
    """ex:Shape on the instances of ex:A, with one property shape on ex:p: ``parameter value`` and a message."""
    shapes, prop = Graph(), BNode()
    shapes.add((EX.Shape, RDF.type, SH.NodeShape))
    shapes.add((EX.Shape, SH.targetClass, EX.A))
    shapes.add((EX.Shape, SH.property, prop))
    shapes.add((prop, SH.path, EX.p))
    shapes.add((prop, parameter, value))
    shapes.add((prop, SH.message, Literal("a message")))
    return shapes


@pytest.mark.parametrize(
    "datatype, value, conforms",
    [
        (RDF.langString, Literal("chat", lang="fr"), True),
        (RDFS.Literal, Literal("chat", lang="fr"), True),
        (RDFS.Datatype, Literal("2.5", datatype=XSD.decimal), True),
        (EX.code, Literal("v1", datatype=EX.code), True),
        (XSD.string, Literal("chat", lang="fr"), False),
        (XSD.integer, Literal("abc", datatype=XSD.integer), False),
    ],
    ids=["langString", "rdfs-Literal", "rdfs-Datatype", "own-datatype", "string-not-langString", "ill-typed"],
)
def test_sh_datatype_decides_as_pyshacl(datatype, value, conforms):
    """The cases the fuzzer found: the first four were violations in the compiled validator and conform in
    pySHACL (the reference engine). rdf:langString and a datatype it does not know conform in SHACL too;
    rdfs:Literal and rdfs:Datatype are pySHACL's own special cases (SHACL 1.0, section 4.2.1, asks for the
    same datatype IRI), followed so that the two engines agree. The last two stay violations."""
    data = Graph()
    data.add((EX.n1, RDF.type, EX.A))
    data.add((EX.n1, EX.p, value))
    shapes = _shape_of_ex_p(SH.datatype, datatype)
    case = _ShaclCase("datatype", "validate", data, shapes)
    reference, _limitation = _pyshacl_validation(case)
    assert reference[0] is conforms
    assert _compiled_validation(case, compile_validation_shapes(shapes)) == reference


def test_the_python_types_are_pyshacls():
    """``_actual_datatype`` (the Python type of a well-typed value of each datatype) answers as pySHACL's own
    test, on every literal the fuzzer draws and every datatype the packaged shapes use."""
    from pyshacl.constraints.core.value_constraints import DatatypeConstraintComponent

    from kg_reasoner.reason.shacl_constraints import _PYTHON_TYPES, _actual_datatype

    for value in VALUES:
        for dt in [*_PYTHON_TYPES, XSD.double, XSD.time, RDFS.Literal, EX.code]:
            expected = DatatypeConstraintComponent._assert_actual_datatype(None, value, dt)  # type: ignore[arg-type]
            assert _actual_datatype(value, dt) == expected, (value, dt)


def test_a_sparql_constraint_reached_through_sh_node_is_not_left_unchecked():
    """The compiled validator tests a nested shape's Core constraints only: a shape with a SPARQL constraint
    reached through sh:node (or sh:or) leaves the shapes graph to pySHACL."""
    inner, constraint = BNode(), BNode()
    shapes = _shape_of_ex_p(SH.node, inner)
    shapes.add((inner, RDF.type, SH.NodeShape))
    shapes.add((inner, SH.sparql, constraint))
    shapes.add((constraint, SH.select, Literal("SELECT $this WHERE { $this <http://example.org/q> ?v }")))
    shapes.add((constraint, SH.message, Literal("inner")))
    with pytest.raises(Unsupported, match="reached through sh:node or sh:or"):
        compile_validation_shapes(shapes)


def test_a_node_shapes_own_datatype_is_checked_on_its_focus_node():
    """A node shape's sh:datatype applies to the focus node itself (an IRI is never of a datatype): the
    compiled validator accepted the parameter and checked it only in sh:or and sh:node, never on a
    targeted shape (found by the fuzzer)."""
    data, shapes = Graph(), Graph()
    data.add((EX.n1, RDF.type, EX.A))
    shapes.add((EX.Shape, RDF.type, SH.NodeShape))
    shapes.add((EX.Shape, SH.targetClass, EX.A))
    shapes.add((EX.Shape, SH.datatype, XSD.string))
    shapes.add((EX.Shape, SH.message, Literal("a message")))
    case = _ShaclCase("node-datatype", "validate", data, shapes)
    reference, _limitation = _pyshacl_validation(case)
    assert reference == (False, collections.Counter({(EX.n1, None, EX.n1, SH.Violation): 1}))
    assert _compiled_validation(case, compile_validation_shapes(shapes)) == reference
