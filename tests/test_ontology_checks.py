"""Independent checks of the ontology: inside OWL 2 RL, clean under the quality-control queries,
and consistent and classified the same by HermiT (a complete OWL 2 DL reasoner) as by owlrl."""

from __future__ import annotations

import pytest
from conftest import DATA
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from kg_reasoner.curation.checks import (
    ReasonerUnavailable,
    hermit_classification,
    owl2rl_violations,
    qc_query_names,
    qc_violations,
)
from kg_reasoner.reason.knowledge import load_knowledge_base

PRG = "https://w3id.org/kg-reasoner/ontology/progesterone#"
KGR = "https://w3id.org/kg-reasoner/ontology#"
QC = qc_query_names()
#: one violation of each QC query in tests/data/qc/broken.ttl
BROKEN = {
    "missing-label-violation": "https://example.org/broken#NoLabel",
    "missing-definition-violation": "https://example.org/broken#NoDefinition",
    "rule-without-source-sentence-violation": "https://example.org/broken#RuleWithoutSentence",
    "malformed-code-violation": "https://example.org/broken#MalformedCode",
    "duplicate-label-violation": "https://example.org/broken#DuplicateOne",
    "ontology-metadata-violation": "https://example.org/broken",
}
PREFIXES = """
@prefix : <https://example.org/rl#> . @prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
:p a owl:ObjectProperty . :d a owl:DatatypeProperty .
"""
#: (id, axiom outside OWL 2 RL, what the report must say)
NOT_RL = [
    (
        "union-as-superclass",
        ":A rdfs:subClassOf [ owl:unionOf ( :B :C ) ] .",
        "SubClassOf(:A ObjectUnionOf(:B :C)): ObjectUnionOf is not allowed as a superclass expression",
    ),
    (
        "existential-as-superclass",
        ":A rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :p ; owl:someValuesFrom :B ] .",
        "SubClassOf(:A ObjectSomeValuesFrom(:p :B)): someValuesFrom is not allowed as a superclass expression",
    ),
    (
        "universal-as-subclass",
        "[ a owl:Restriction ; owl:onProperty :p ; owl:allValuesFrom :B ] rdfs:subClassOf :A .",
        "allValuesFrom is not allowed as a subclass expression",
    ),
    (
        "min-cardinality",
        ":A rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :p ; owl:minCardinality 1 ] .",
        "minCardinality is not allowed as a superclass expression",
    ),
    (
        "max-cardinality-2",
        ":A rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :p ; owl:maxCardinality 2 ] .",
        "max cardinality 2 (only 0 or 1) is not allowed",
    ),
    ("thing-as-subclass", "owl:Thing rdfs:subClassOf :A .", "owl:Thing is not allowed as a subclass expression"),
    (
        "existential-in-equivalence",
        ":A owl:equivalentClass [ a owl:Restriction ; owl:onProperty :p ; owl:someValuesFrom :B ] .",
        "someValuesFrom is not allowed in an equivalence",
    ),
    (
        "reflexive-property",
        ":p a owl:ReflexiveProperty .",
        "ReflexiveObjectProperty(:p): reflexive properties are not in OWL 2 RL",
    ),
    ("disjoint-union", ":A owl:disjointUnionOf ( :B :C ) .", "DisjointUnion is not in OWL 2 RL"),
    ("datatype-outside-rl", ":d rdfs:range xsd:date .", "datatype xsd:date is not in OWL 2 RL"),
    (
        "facet-restriction",
        ":d rdfs:range [ a rdfs:Datatype ; owl:onDatatype xsd:integer ; owl:withRestrictions ( [ xsd:minInclusive 0 ] ) ] .",
        "datatype restrictions (facets) are not in OWL 2 RL",
    ),
    ("literal-datatype", ':A rdfs:comment "2026-11-26"^^xsd:date .', "datatype xsd:date is not in OWL 2 RL"),
    ("undeclared-class", ":x a :Undeclared .", "Declaration(Class(:Undeclared)): used as a class but not declared"),
    ("undeclared-property", ":x :undeclared :y .", "Declaration(Property(:undeclared)): used as a property but not"),
]


@pytest.fixture(scope="module")
def kb():
    return load_knowledge_base()


def test_ontology_is_inside_owl2_rl(kb):
    assert owl2rl_violations(kb.ontology) == []


def test_profile_check_passes_a_declared_rl_ontology():
    g = Graph().parse(
        data=PREFIXES + ":A a owl:Class . :B a owl:Class . :A rdfs:subClassOf :B , "
        "[ a owl:Restriction ; owl:onProperty :p ; owl:allValuesFrom :B ] . :x a :A ; :p :y .",
        format="turtle",
    )
    assert owl2rl_violations(g) == []


def test_second_guidance_module_is_inside_owl2_rl(kb):
    g = Graph()
    g += kb.ontology
    g.parse(DATA / "second-guidance" / "aspirin.ttl")
    assert owl2rl_violations(g) == []


@pytest.mark.parametrize("axiom, expected", [c[1:] for c in NOT_RL], ids=[c[0] for c in NOT_RL])
def test_profile_check_names_the_axiom_outside_owl2_rl(axiom, expected):
    g = Graph().parse(data=PREFIXES + axiom, format="turtle")
    g.bind("", "https://example.org/rl#")
    report = owl2rl_violations(g)
    assert any(expected in line for line in report), report


def test_qc_queries_are_the_expected_set():
    assert QC == sorted(BROKEN)


@pytest.fixture(scope="module")
def bundled(kb):
    """Every QC query's rows on the bundled ontology (all queries run once, each test reads its own)."""
    return qc_violations(kb.ontology)


@pytest.mark.parametrize("name", QC)
def test_qc_query_finds_nothing_in_the_ontology(bundled, name):
    """The QC queries fail the build when they return rows."""
    assert bundled[name] == []


@pytest.fixture(scope="module")
def broken(kb):
    """The bundled ontology plus the broken fragment: the queries read the core (code systems, rule kinds)."""
    g = Graph()
    g += kb.ontology
    return qc_violations(g.parse(DATA / "qc" / "broken.ttl"))


@pytest.mark.parametrize("name", QC)
def test_qc_query_catches_its_violation(broken, name):
    rows = broken[name]
    assert BROKEN[name] in {term for term, _ in rows}, rows
    assert all(term.startswith("https://example.org/broken") for term, _ in rows), rows


def test_malformed_code_query_tells_malformed_from_unknown_system(broken):
    problems = dict(broken["malformed-code-violation"])
    assert "malformed code '12AB'" in problems["https://example.org/broken#MalformedCode"]
    assert "is in no known code system" in problems["https://example.org/broken#UnknownSystem"]


# -- HermiT ---------------------------------------------------------------------------------------

_META = (str(OWL), str(RDF), str(RDFS))


@pytest.fixture(scope="module")
def hermit(kb):
    try:
        return hermit_classification(kb.ontology)
    except ReasonerUnavailable as exc:  # only without Java: owlready2 is part of the test extra
        pytest.skip(str(exc))


@pytest.mark.slow  # HermiT (Java)
def test_hermit_finds_the_ontology_consistent_and_every_class_satisfiable(hermit):
    assert hermit.consistent and hermit.unsatisfiable == []


@pytest.mark.slow  # HermiT (Java)
def test_hermit_and_owlrl_classify_the_classes_identically(kb, hermit):
    """Every subsumption between named classes owlrl derives is entailed (HermiT is complete), and
    HermiT finds none owlrl misses: the OWL 2 RL encoding loses nothing of the class hierarchy."""
    owlrl = {
        (str(a), str(b))
        for a, b in kb.closure.subject_objects(RDFS.subClassOf)
        if isinstance(a, URIRef)
        and isinstance(b, URIRef)
        and a != b
        and not str(a).startswith(_META)
        and not str(b).startswith(_META)
    }
    assert len(hermit.subclasses) > 150
    assert sorted(owlrl - hermit.subclasses) == [] and sorted(hermit.subclasses - owlrl) == []


@pytest.mark.slow  # HermiT (Java)
def test_hermit_and_owlrl_type_the_individuals_identically(kb, hermit):
    individuals = {URIRef(i) for i, _ in hermit.types}
    owlrl = {
        (str(s), str(o))
        for s, o in kb.closure.subject_objects(RDF.type)
        if s in individuals and isinstance(o, URIRef) and not str(o).startswith(_META)
    }
    assert len(hermit.types) > 80
    assert sorted(owlrl - hermit.types) == [] and sorted(hermit.types - owlrl) == []


@pytest.mark.parametrize(
    "sub, sup",
    [
        (PRG + "MissedMiscarriage", PRG + "EmbryonicDemise"),
        (PRG + "EmbryonicDemise", PRG + "ConditionContraindicatingProgesterone"),
        (PRG + "UltrasoundShowingDemise", PRG + "UltrasoundShowingAbnormalDevelopment"),
        (PRG + "UterinePolyp", PRG + "CauseProgesteroneCannotAddress"),
        (PRG + "CauseProgesteroneCannotAddress", KGR + "Cause"),
        (KGR + "StatusRule", "http://www.w3.org/ns/prov#Plan"),
    ],
)
@pytest.mark.slow  # HermiT (Java)
def test_hermit_classifies_as_expected(hermit, sub, sup):
    assert (sub, sup) in hermit.subclasses


@pytest.mark.slow  # HermiT (Java)
def test_hermit_reports_an_inconsistent_ontology():
    g = Graph().parse(data=PREFIXES + ":A owl:disjointWith :B . :x a :A , :B .", format="turtle")
    try:
        result = hermit_classification(g)
    except ReasonerUnavailable as exc:
        pytest.skip(str(exc))
    assert not result.consistent


@pytest.mark.slow  # HermiT (Java)
def test_hermit_reports_an_unsatisfiable_class():
    g = Graph().parse(
        data=PREFIXES + ":A a owl:Class . :B a owl:Class . :A owl:disjointWith :B . "
        ":C a owl:Class ; rdfs:subClassOf :A , :B .",
        format="turtle",
    )
    try:
        result = hermit_classification(g)
    except ReasonerUnavailable as exc:
        pytest.skip(str(exc))
    assert result.consistent and result.unsatisfiable == ["https://example.org/rl#C"]


@pytest.mark.slow  # HermiT (Java)
def test_second_guidance_module_is_consistent_under_hermit(kb):
    g = Graph()
    g += kb.ontology
    g.parse(DATA / "second-guidance" / "aspirin.ttl")
    try:
        result = hermit_classification(g)
    except ReasonerUnavailable as exc:
        pytest.skip(str(exc))
    assert result.consistent and result.unsatisfiable == []
    assert ("https://example.org/kg-reasoner-test/aspirin#ChronicHypertension", KGR + "Cause") in result.subclasses
