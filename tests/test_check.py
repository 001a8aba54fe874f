"""Checked guidance modules (issue 13): ``kg-reasoner check MODULE.ttl`` names every axiom outside OWL 2 RL
or ignored by owlrl, every authoring error, the QC and HermiT findings; loading a module that is not
packaged (``Guidance.from_files``, ``assess --guidance-module``) refuses it on a blocking one."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import owlrl
import pytest
from conftest import DATA, ROOT, VIGNETTES, load_case, run_cli
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import OWL, RDF

from kg_reasoner import Guidance, GuidanceModuleError, OntologyError, Reasoner
from kg_reasoner.curation.authoring import authoring_shapes
from kg_reasoner.curation.findings import Finding
from kg_reasoner.curation.module import ModuleReport, check_module
from kg_reasoner.curation.profile import profile_findings
from kg_reasoner.guidance import PACKAGED, PROGESTERONE
from kg_reasoner.reason.base import closure_errors
from kg_reasoner.reason.plans import rdflib_drops_constant_filters
from kg_reasoner.resources import data_folder

ASPIRIN = DATA / "second-guidance" / "aspirin.ttl"
GOOD = DATA / "check" / "good-authoring.ttl"
BAD = DATA / "check" / "bad-authoring.ttl"
OWLRL_TESTS = DATA / "standard-corpora" / "owl-rl" / "test"
T = Namespace("https://example.org/rl#")

PREFIXES = """
@prefix : <https://example.org/rl#> . @prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
:p a owl:ObjectProperty . :d a owl:DatatypeProperty . :A a owl:Class . :B a owl:Class . :C a owl:Class .
"""

FACET = "[ a rdfs:Datatype ; owl:onDatatype xsd:integer ; owl:withRestrictions ( [ xsd:minInclusive 18 ] ) ]"

#: (id, axiom, check, what the message says, refused at load). Outside OWL 2 RL (W3C OWL 2 Profiles 4.2), then
#: inside it but ignored by owlrl, then what is only reported.
CONSTRUCTS = [
    (
        "someValuesFrom-as-superclass",
        ":A rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :p ; owl:someValuesFrom :B ] .",
        "profile",
        "someValuesFrom is not allowed as a superclass expression",
        True,
    ),
    (
        "unionOf-as-superclass",
        ":A rdfs:subClassOf [ a owl:Class ; owl:unionOf ( :B :C ) ] .",
        "profile",
        "ObjectUnionOf is not allowed as a superclass expression",
        True,
    ),
    (
        "oneOf-as-superclass",
        ":A rdfs:subClassOf [ a owl:Class ; owl:oneOf ( :x :y ) ] .",
        "profile",
        "ObjectOneOf is not allowed as a superclass expression",
        True,
    ),
    (
        "allValuesFrom-as-subclass",
        "[ a owl:Restriction ; owl:onProperty :p ; owl:allValuesFrom :B ] rdfs:subClassOf :A .",
        "profile",
        "allValuesFrom is not allowed as a subclass expression",
        True,
    ),
    (
        "complementOf-as-subclass",
        "[ a owl:Class ; owl:complementOf :B ] rdfs:subClassOf :A .",
        "profile",
        "ObjectComplementOf is not allowed as a subclass expression",
        True,
    ),
    (
        "minCardinality",
        ":A rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :p ; owl:minCardinality 1 ] .",
        "profile",
        "minCardinality is not allowed as a superclass expression: OWL 2 RL cannot count",
        True,
    ),
    (
        "minCardinality-as-subclass",
        "[ a owl:Restriction ; owl:onProperty :p ; owl:minCardinality 2 ] rdfs:subClassOf :A .",
        "profile",
        "minCardinality is not allowed as a subclass expression",
        True,
    ),
    (
        "exact-cardinality",
        ":A rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :p ; owl:cardinality 1 ] .",
        "profile",
        "cardinality is not allowed as a superclass expression",
        True,
    ),
    (
        "maxCardinality-2",
        ":A rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :p ; owl:maxCardinality 2 ] .",
        "profile",
        "max cardinality 2 (only 0 or 1) is not allowed",
        True,
    ),
    (
        "qualified-maxCardinality-2",
        ":A rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :p ; owl:maxQualifiedCardinality 2 ; owl:onClass :B ] .",
        "profile",
        "max cardinality 2 (only 0 or 1) is not allowed",
        True,
    ),
    (
        "qualified-minCardinality",
        ":A rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :p ; owl:minQualifiedCardinality 1 ; owl:onClass :B ] .",
        "profile",
        "minQualifiedCardinality is not allowed as a superclass expression",
        True,
    ),
    (
        "qualified-exact-cardinality",
        ":A rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :p ; owl:qualifiedCardinality 1 ; owl:onClass :B ] .",
        "profile",
        "qualifiedCardinality is not allowed as a superclass expression",
        True,
    ),
    (
        "hasSelf",
        ":A rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :p ; owl:hasSelf true ] .",
        "profile",
        "hasSelf is not allowed as a superclass expression",
        True,
    ),
    (
        "facet-restriction-as-range",
        f":d rdfs:range {FACET} .",
        "profile",
        "datatype restrictions (facets) are not in OWL 2 RL: owlrl ignores datatype facets",
        True,
    ),
    (
        "facet-restriction-in-a-definition",
        f"[ a owl:Restriction ; owl:onProperty :d ; owl:someValuesFrom {FACET} ] rdfs:subClassOf :A .",
        "profile",
        "kgr:ThresholdCriterion",
        True,
    ),
    (
        "facet-datatype-definition",
        f":Adult a rdfs:Datatype ; owl:equivalentClass {FACET} .",
        "profile",
        "datatype restrictions (facets) are not in OWL 2 RL",
        True,
    ),
    (
        "facet-datatype-named-by-its-restriction",
        ":Adult a rdfs:Datatype ; owl:onDatatype xsd:integer ; owl:withRestrictions ( [ xsd:minInclusive 18 ] ) .",
        "profile",
        "datatype restrictions (facets) are not in OWL 2 RL",
        True,
    ),
    (
        "datatype-union",
        ":d rdfs:range [ a rdfs:Datatype ; owl:unionOf ( xsd:integer xsd:string ) ] .",
        "profile",
        "only datatypes and their intersections",
        True,
    ),
    ("owl-real", ":d rdfs:range owl:real .", "profile", "datatype owl:real is not in OWL 2 RL", True),
    ("xsd-date", ":d rdfs:range xsd:date .", "profile", "datatype xsd:date is not in OWL 2 RL", True),
    ("disjointUnion", ":A owl:disjointUnionOf ( :B :C ) .", "profile", "DisjointUnion is not in OWL 2 RL", True),
    ("reflexive-property", ":p a owl:ReflexiveProperty .", "profile", "reflexive properties are not in OWL 2 RL", True),
    ("thing-as-subclass", "owl:Thing rdfs:subClassOf :A .", "profile", "owl:Thing is not allowed", True),
    (
        "someValuesFrom-in-equivalence",
        ":A owl:equivalentClass [ a owl:Restriction ; owl:onProperty :p ; owl:someValuesFrom :B ] .",
        "profile",
        "someValuesFrom is not allowed in an equivalence",
        True,
    ),
    (
        "data-allValuesFrom",
        ":A rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :d ; owl:allValuesFrom xsd:integer ] .",
        "unsupported",
        "DataAllValuesFrom is not honoured by owlrl",
        True,
    ),
    (
        "data-maxCardinality-1",
        ":A rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :d ; owl:maxCardinality 1 ] .",
        "unsupported",
        "DataMaxCardinality(1 ...) is not honoured by owlrl",
        True,
    ),
    (
        "data-qualified-maxCardinality-0",
        ":A rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :d ; owl:maxQualifiedCardinality 0 ; "
        "owl:onDataRange xsd:integer ] .",
        "unsupported",
        "DataMaxCardinality(0 ...) is not honoured by owlrl",
        True,
    ),
    (
        "data-intersection",
        ":d rdfs:range [ a rdfs:Datatype ; owl:intersectionOf ( xsd:integer xsd:decimal ) ] .",
        "unsupported",
        "DataIntersectionOf is not honoured by owlrl",
        True,
    ),
    (
        "functional-datatype-property",
        ":d a owl:FunctionalProperty .",
        "unsupported",
        "a functional datatype property is not enforced by owlrl",
        False,
    ),
    (
        "undeclared-class",
        ":x a :Undeclared .",
        "declaration",
        "used as a class but not declared owl:Class",
        False,
    ),
    (
        "literal-datatype-in-an-annotation",
        ':A rdfs:comment "2026-11-26"^^xsd:date .',
        "profile",
        "datatype xsd:date is not in OWL 2 RL",
        False,
    ),
]


def _graph(axiom: str) -> Graph:
    g = Graph().parse(data=PREFIXES + axiom, format="turtle")
    g.bind("", str(T))
    return g


@pytest.mark.parametrize("axiom, check, says, blocking", [c[1:] for c in CONSTRUCTS], ids=[c[0] for c in CONSTRUCTS])
def test_profile_finding_names_the_axiom(axiom, check, says, blocking):
    findings = [f for f in profile_findings(_graph(axiom)) if f.check == check and says in f.message]
    assert findings, [f.to_text() for f in profile_findings(_graph(axiom))]
    f = findings[0]
    assert f.blocking is blocking
    assert f.term and f.term in f.axiom, f
    if blocking:  # the message says what to write instead
        assert ": " in f.message and len(f.message.split(": ", 1)[1]) > 20, f.message


def test_profile_findings_are_limited_to_the_module():
    """The core's own axioms (e.g. its functional datatype properties) are not the module's findings."""
    module = _graph(":A rdfs:subClassOf :B .")
    core = _graph(":d a owl:FunctionalProperty .")
    core += module
    assert [f for f in profile_findings(core) if f.check == "unsupported"]
    assert profile_findings(core, module) == []


#: Why the check refuses what it refuses: on the same small ontologies, owlrl (the reference engine, which the
#: fast engine follows) derives the consequence of each honoured construct and misses that of each ignored one.
#: (id, axiom with data, the consequence: a (subject, predicate, object) of :x terms, or "inconsistent")
HONOURED = [
    (
        "someValuesFrom-as-subclass",
        "[ a owl:Restriction ; owl:onProperty :p ; owl:someValuesFrom :B ] rdfs:subClassOf :C . :x :p :y . :y a :B .",
        ("x", RDF.type, "C"),
    ),
    (
        "allValuesFrom-as-superclass",
        ":A rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :p ; owl:allValuesFrom :B ] . :x a :A ; :p :y .",
        ("y", RDF.type, "B"),
    ),
    (
        "complementOf-as-superclass",
        ":A rdfs:subClassOf [ a owl:Class ; owl:complementOf :B ] . :x a :A , :B .",
        "inconsistent",
    ),
    (
        "maxCardinality-0",
        ":A rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :p ; owl:maxCardinality 0 ] . :x a :A ; :p :y .",
        "inconsistent",
    ),
    (
        "qualified-maxCardinality-1",
        ":A rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :p ; owl:maxQualifiedCardinality 1 ; owl:onClass :B ] . :x a :A ; :p :y , :z . :y a :B . :z a :B .",
        ("y", OWL.sameAs, "z"),
    ),
    (
        "data-someValuesFrom-as-subclass",
        "[ a owl:Restriction ; owl:onProperty :d ; owl:someValuesFrom xsd:decimal ] rdfs:subClassOf :C . :x :d 5.5 .",
        ("x", RDF.type, "C"),
    ),
    (
        "data-hasValue-as-subclass",
        "[ a owl:Restriction ; owl:onProperty :d ; owl:hasValue 5 ] rdfs:subClassOf :C . :x :d 5 .",
        ("x", RDF.type, "C"),
    ),
    (
        "data-maxCardinality-0",
        ":A rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :d ; owl:maxCardinality 0 ] . :x a :A ; :d 1 .",
        "inconsistent",
    ),
    ("hasKey", ":A owl:hasKey ( :d ) . :x a :A ; :d 1 . :y a :A ; :d 1 .", ("x", OWL.sameAs, "y")),
    ("propertyChainAxiom", ":p owl:propertyChainAxiom ( :p :p ) . :x :p :y . :y :p :z .", ("x", T.p, "z")),
    ("oneOf-as-subclass", "[ a owl:Class ; owl:oneOf ( :x :y ) ] rdfs:subClassOf :C .", ("x", RDF.type, "C")),
]
IGNORED = [
    (
        "minCardinality",
        ":A rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :p ; owl:minCardinality 1 ] . [ a owl:Restriction ; owl:onProperty :p ; owl:someValuesFrom owl:Thing ] rdfs:subClassOf :C . :x a :A .",
        ("x", RDF.type, "C"),
    ),
    (
        "facet-restriction-in-a-definition",
        f"[ a owl:Restriction ; owl:onProperty :d ; owl:someValuesFrom {FACET} ] rdfs:subClassOf :C . :x :d 30 .",
        ("x", RDF.type, "C"),
    ),
    ("facet-restriction-as-range", f":d rdfs:range {FACET} . :x :d 5 .", "inconsistent"),
    (
        "unionOf-as-superclass",
        ":A rdfs:subClassOf [ a owl:Class ; owl:unionOf ( :B :C ) ] . :B rdfs:subClassOf :D . :C rdfs:subClassOf :D . :D a owl:Class . :x a :A .",
        ("x", RDF.type, "D"),
    ),
    (
        "data-allValuesFrom",
        ':A rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :d ; owl:allValuesFrom xsd:integer ] . :x a :A ; :d "abc" .',
        "inconsistent",
    ),
    (
        "data-maxCardinality-1",
        ":A rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :d ; owl:maxCardinality 1 ] . :x a :A ; :d 1 , 2 .",
        "inconsistent",
    ),
    (
        "data-qualified-maxCardinality-0",
        ":A rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :d ; owl:maxQualifiedCardinality 0 ; owl:onDataRange xsd:integer ] . :x a :A ; :d 1 .",
        "inconsistent",
    ),
    (
        "data-intersection",
        ":d rdfs:range [ a rdfs:Datatype ; owl:intersectionOf ( xsd:integer xsd:decimal ) ] . :x :d true .",
        "inconsistent",
    ),
    ("functional-datatype-property", ":d a owl:FunctionalProperty . :x :d 1 , 2 .", "inconsistent"),
]


def _owlrl_derives(axiom: str, consequence) -> bool:
    g = _graph(axiom)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(g)
    if consequence == "inconsistent":
        return bool(closure_errors(g))
    s, p, o = consequence
    return (T[s], p, T[o]) in g


@pytest.mark.parametrize("axiom, consequence", [c[1:] for c in HONOURED], ids=[c[0] for c in HONOURED])
def test_what_owlrl_honours_is_no_finding(axiom, consequence):
    assert _owlrl_derives(axiom, consequence)
    assert [f for f in profile_findings(_graph(axiom)) if f.check != "declaration"] == []


@pytest.mark.parametrize("axiom, consequence", [c[1:] for c in IGNORED], ids=[c[0] for c in IGNORED])
def test_what_owlrl_ignores_is_a_finding(axiom, consequence):
    assert not _owlrl_derives(axiom, consequence)
    assert [f for f in profile_findings(_graph(axiom)) if f.check in ("profile", "unsupported")]


def _owlrl_case_data(path: Path, function: str) -> str:
    """The Turtle a test of owlrl's own suite parses (its ``data = ...`` string)."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef) and node.name == function:
            for stmt in node.body:
                if isinstance(stmt, ast.Assign) and getattr(stmt.targets[0], "id", None) == "data":
                    return ast.literal_eval(stmt.value)
    raise AssertionError(f"no data in {path.name}::{function}")


def test_owlrl_suite_datatype_restriction_is_outside_owl2_rl_and_ignored_by_our_semantics():
    """owlrl's own test case of datatype facets (test_owlrl_extras.py, run there with owlrl's OWL RL *Extension*,
    which neither engine uses): the check calls it outside OWL 2 RL, and OWLRL_Semantics (the engines' rules)
    does not classify the value the case expects classified."""
    data = _owlrl_case_data(OWLRL_TESTS / "test_owlrl_extras.py", "test_one_time_rules")
    g = Graph().parse(data=data, format="n3")
    findings = profile_findings(g)
    assert any(f.check == "profile" and "facets" in f.message and f.term == ":t" for f in findings), findings
    assert any(f.blocking for f in findings)
    integer = URIRef("http://www.w3.org/2001/XMLSchema#integer")
    lt = Literal(2, datatype=integer)
    g.add((lt, RDF.type, integer))
    g.add((URIRef("http://test.org/a"), URIRef("http://test.org/p"), lt))
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(g)
    assert (lt, RDF.type, URIRef("http://test.org/t")) not in g


def test_owlrl_suite_ontology_is_inside_owl2_rl():
    g = Graph().parse(OWLRL_TESTS / "relatives.ttl")
    assert [f for f in profile_findings(g) if f.check in ("profile", "unsupported")] == []


# -- the authoring shapes ---------------------------------------------------------


def test_authoring_shapes_are_package_data():
    assert data_folder("shapes").joinpath("authoring.ttl").is_file()
    shapes = authoring_shapes()
    assert len(shapes) > 200


#: (term of tests/data/check/bad-authoring.ttl, what a finding about it says)
BAD_CASES = [
    ("bad:NoCode", "a rule needs exactly one kgr:code"),
    ("bad:TwoCodes", "a rule needs exactly one kgr:code"),
    ("bad:NoLabel", "a rule needs an rdfs:label"),
    ("bad:NoSentence", "quotes at least one sentence"),
    ("bad:BothConclusions", "either concludes a status"),
    ("bad:BothConclusions", "a status rule or a flag rule, not both"),
    ("bad:NoConclusion", "either concludes a status"),
    ("bad:MisspeltStatus", "not a declared status"),
    ("bad:MisspeltFlag", "not a declared flag"),
    ("bad:SharedCodeA", "two rules share the code DUP"),
    ("bad:NoCriteria", "at least one criterion"),
    ("bad:MisspeltPartialStatus", "kgr:partialStatus is one declared status"),
    ("bad:UndeclaredCriterion", "not a declared criterion"),
    ("bad:TwoClasses", "exactly one class of patients"),
    ("bad:UndeclaredClass", "declared OWL class of patients"),
    ("bad:NotPatients", "declared OWL class of patients"),
    ("bad:TwoWays", "a rule fires in one way"),
    ("bad:DependentStatus", "flag rule"),
    ("bad:NoConditions", "at least one kgr:firesWhen"),
    ("bad:EmptyCondition", "an empty firing condition always holds"),
    ("bad:IndividualCondition", "kgr:statusOfClass names a class of statuses"),
    ("bad:StrayCondition", "a firing condition states only"),
    ("bad:NeverFires", "can never fire"),
    ("bad:NoKind", "exactly one kind, and this one is of none"),
    ("bad:TwoKinds", "exactly one kind, and this one is of 2: record, threshold"),
    ("bad:NotMetOnly", "it needs kgr:metByClass"),
    ("bad:NotMetOnly", "kgr:notMetRecordClass needs kgr:notMetWhenEachRecorded"),
    ("bad:NotAMeasurement", "declared measurement class"),
    ("bad:NoBound", "at least one bound"),
    ("bad:QuotedBound", "kgr:minInclusive is one number"),
    ("bad:EmptyWindow", "the lower bound 20.0 is above the upper bound 10.0"),
    ("bad:OnAString", "numeric patient attribute"),
    ("bad:WrongUnit", "the attribute bad:bmi is in bad:Unit"),
    ("bad:NoConversion", "bad:Hb has no kgr:UnitConversion"),
    ("bad:CountsOne", "at least two criteria"),
    ("bad:Nested", "counts are not nested"),
    ("bad:CountTooHigh", "kgr:minimumCount 3 is more than the 2 criteria"),
    ("bad:CountZero", "an integer of at least 1"),
    ("bad:NoCriterionCode", "a criterion needs exactly one kgr:code"),
    ("bad:smoker", "rdfs:range xsd:decimal or xsd:string"),
    ("bad:ethnicity", "unit of a numeric patient attribute"),
    ("bad:parity", "one declared unit"),
]


@pytest.fixture(scope="module")
def checked():
    """The good and the bad module checked once, as one module, through the command line (JSON). The two
    share no term: each term's findings are its own."""
    done = run_cli("check", str(GOOD), str(BAD), "--skip-hermit", "--format", "json")
    assert done.returncode == 1, done.stderr
    return json.loads(done.stdout)


def test_good_module_has_no_finding_that_matters(checked):
    """Nothing about the good module's terms but quality-control findings (it has no definitions) and, until the
    core declares the authoring vocabulary, undeclared names."""
    assert [
        f for f in checked["findings"] if f["term"].startswith("good:") and f["check"] not in ("qc", "declaration")
    ] == []


@pytest.mark.parametrize("term, says", BAD_CASES, ids=[f"{t[4:]}-{i}" for i, (t, _s) in enumerate(BAD_CASES)])
def test_authoring_shapes_name_the_term_and_the_problem(checked, term, says):
    found = [f for f in checked["findings"] if f["check"] == "authoring" and f["term"] == term]
    assert any(says in f["message"] for f in found), found
    assert all(f["blocking"] and f["axiom"].startswith(term) for f in found), found


def test_authoring_findings_are_about_the_modules_terms_only(checked):
    authoring = [f for f in checked["findings"] if f["check"] == "authoring"]
    assert {f["term"].split(":")[0] for f in authoring} == {"bad", "kgr"}
    # a kgr: term is named only as a misspelling of the core's (the module's own misspelt statuses)
    assert sorted(f["term"] for f in authoring if f["term"].startswith("kgr:")) == [
        "kgr:Indicted",
        "kgr:InsufficentData",
        "kgr:statusOfClas",
    ]
    assert all("is not a term of the core ontology" in f["message"] for f in authoring if f["term"][:4] == "kgr:")
    assert checked["clean"] is False and checked["refused_at_load"] is True


def test_packaged_guidance_checks_clean():
    # the shared pregnancy module comes from the package through progesterone.ttl's owl:imports (like the core)
    docs = PROGESTERONE.authored_documents()
    report = check_module(
        [_packaged_file(d) for d in docs], [_packaged_file(d) for d in PROGESTERONE.rules], hermit=False
    )
    assert [f.to_text() for f in report.findings] == []


def _packaged_file(doc: str) -> Path:
    folder, _, name = doc[len(PACKAGED) :].partition("/")
    return Path(str(data_folder(folder).joinpath(name)))


def test_rule_shapes_and_consistency_are_checked(tmp_path):
    module = tmp_path / "module.ttl"
    module.write_text(
        ASPIRIN.read_text(encoding="utf-8")
        + "\nasp:Clash a owl:NamedIndividual , kgr:StatusSupportingTreatment , kgr:StatusAdvisingAgainst .\n"
        'asp:A3 a kgr:FlagRule , owl:NamedIndividual ; rdfs:label "status flag"@en ; kgr:code "A3" ;\n'
        '    kgr:sourceSentence "A sentence the SHACL rule below fires on." ; kgr:raisesFlag asp:Flag .\n'
        'asp:Flag a kgr:Flag , owl:NamedIndividual ; rdfs:label "flag"@en ; kgr:code "flag" .\n',
        encoding="utf-8",
    )
    rules = tmp_path / "rules.ttl"
    rules.write_text(
        """@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix kgr: <https://w3id.org/kg-reasoner/ontology#> .
@prefix ex: <https://example.org/rules#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:prefixes sh:declare [ sh:prefix "kgr" ; sh:namespace "https://w3id.org/kg-reasoner/ontology#"^^xsd:anyURI ] ,
    [ sh:prefix "asp" ; sh:namespace "https://example.org/kg-reasoner-test/aspirin#"^^xsd:anyURI ] .
ex:Fires a sh:NodeShape ; sh:targetClass kgr:Patient ; sh:order 75 ;
    sh:rule [ a sh:SPARQLRule ; sh:prefixes ex:prefixes ;
              sh:construct "CONSTRUCT { $this kgr:firedRule asp:A3 . } WHERE { $this kgr:hasStatus ?s . }" ] .
ex:Broken a sh:NodeShape ; sh:targetClass kgr:Patient ; sh:minCount "many" ;
    sh:rule [ a sh:SPARQLRule ; sh:prefixes ex:prefixes ; sh:construct "CONSTRUCT { $this kgr:x ?y } WHERE { $this nope:y ?y }" ] .
""",
        encoding="utf-8",
    )
    report = check_module([module], [rules], hermit=False)
    by_check = {f.check: f for f in report.findings}
    assert "inconsistent under OWL 2 RL" in by_check["consistency"].message and by_check["consistency"].blocking
    rule_findings = [f for f in report.findings if f.check == "rules"]
    assert any("does not parse" in f.message and f.term == "ex:Broken" for f in rule_findings), rule_findings
    assert any("not a well-formed SHACL shape" in f.message and f.term == "ex:Broken" for f in rule_findings)
    # asp:A3 is of no firing kind, but a SHACL rule of the module fires it: it can fire (bad:NeverFires cannot)
    assert not [f for f in report.findings if "can never fire" in f.message]


# -- the command line -------------------------------------------------------------


def test_cli_checks_the_second_guidance_clean():
    done = run_cli("check", str(ASPIRIN), "--skip-hermit")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "clean: no errors" in done.stdout and "HermiT was not run (--skip-hermit)" in done.stdout


def test_cli_check_usage_and_unreadable_files(tmp_path):
    assert run_cli("check").returncode == 2
    missing = run_cli("check", str(tmp_path / "missing.ttl"), "--skip-hermit")
    assert missing.returncode == 2 and "missing.ttl" in missing.stderr
    broken = tmp_path / "broken.ttl"
    broken.write_text("not turtle .", encoding="utf-8")
    done = run_cli("check", str(ASPIRIN), "--rules", str(broken), "--skip-hermit")
    assert done.returncode == 2 and "broken.ttl" in done.stderr


def test_cli_help_documents_check():
    done = run_cli("check", "--help")
    assert done.returncode == 0 and "OWL 2 RL" in done.stdout and "Exit codes" in done.stdout


# -- refused at load --------------------------------------------------------------

FACET_MODULE = """
asp:AtLeast20Weeks a owl:Class ; rdfs:subClassOf kgr:Patient ; rdfs:label "at least 20 weeks"@en .
[ a owl:Restriction ; owl:onProperty kgr:gestationalAgeWeeks ;
  owl:someValuesFrom [ a rdfs:Datatype ; owl:onDatatype xsd:decimal ; owl:withRestrictions ( [ xsd:minInclusive 20.0 ] ) ] ]
    rdfs:subClassOf asp:AtLeast20Weeks .
"""
MIN_CARDINALITY_MODULE = """
asp:TwoRiskFactors a owl:Class ; rdfs:subClassOf kgr:Patient ; rdfs:label "two risk factors"@en .
[ a owl:Restriction ; owl:onProperty kgr:hasFinding ; owl:minQualifiedCardinality 2 ; owl:onClass asp:IdentifiedRiskFactor ]
    rdfs:subClassOf asp:TwoRiskFactors .
"""
REFUSED = [
    ("facet-restriction", FACET_MODULE, "asp:AtLeast20Weeks", "datatype restrictions (facets) are not in OWL 2 RL"),
    ("min-cardinality", MIN_CARDINALITY_MODULE, "asp:TwoRiskFactors", "minQualifiedCardinality is not allowed"),
]


def _module(tmp_path, extra: str) -> Path:
    path = tmp_path / "module.ttl"
    path.write_text(ASPIRIN.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return path


@pytest.mark.parametrize("extra, term, says", [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_loading_refuses_an_axiom_no_engine_honours(tmp_path, extra, term, says):
    path = _module(tmp_path, extra)
    with pytest.raises(GuidanceModuleError) as caught:
        Reasoner(guidance=Guidance.from_files("refused", ontology=[path]))
    exc = caught.value
    assert isinstance(exc, OntologyError)
    assert [f.term for f in exc.findings] == [term] and all(isinstance(f, Finding) for f in exc.findings)
    assert says in str(exc) and "SubClassOf(" in str(exc) and "module.ttl" in str(exc)


@pytest.mark.parametrize("extra, term, says", [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_assess_refuses_the_module_with_exit_2(tmp_path, write_json, extra, term, says):
    path = _module(tmp_path, extra)
    patient = write_json("a1.json", {"id": "A1", "causes": {"chronic_hypertension": True}})
    done = run_cli("assess", str(patient), "--guidance-module", str(path), "--quiet")
    assert done.returncode == 2, done.stderr
    assert done.stdout == "" and term in done.stderr and says in done.stderr


def test_check_text_marks_what_loading_refuses():
    refused = Finding("profile", "asp:X", "SubClassOf(asp:X ...)", "facets are not in OWL 2 RL: use a threshold")
    reported = Finding("qc", "asp:Y", "queries/qc/missing-label-violation.rq", "has no rdfs:label")
    warned = Finding("unsupported", "asp:d", "FunctionalDataProperty(asp:d)", "not enforced", severity="warning")
    text = ModuleReport(("m.ttl",), (), [refused, reported, warned]).to_text()
    assert (
        "error [profile; refused at load] asp:X: facets are not in OWL 2 RL: use a threshold\n    in SubClassOf("
        in text
    )
    assert "error [qc] asp:Y: has no rdfs:label" in text and "warning [unsupported] asp:d" in text
    assert text.endswith(
        "2 error(s), 1 warning(s); 1 of them make loading (assess --guidance-module) refuse the module\n"
    )
    assert ModuleReport(("m.ttl",), (), [warned]).to_text().endswith("clean: no errors (1 warning(s))\n")


@pytest.mark.parametrize(
    "extra, term, near",
    [
        ("\nasp:M4 kgr:maxExlusive 50.0 .\n", "kgr:maxExlusive", "kgr:maxExclusive"),
        ("\nasp:M4 a kgr:ThresholdCriterio .\n", "kgr:ThresholdCriterio", "kgr:ThresholdCriterion"),
        ("\nasp:M4 kgr:madeUpByTheModule true .\n", "kgr:madeUpByTheModule", None),
    ],
    ids=["misspelt-property", "misspelt-class", "minted-in-the-core-namespace"],
)
def test_loading_refuses_a_core_term_the_core_does_not_have(tmp_path, extra, term, near):
    """Found by writing a third guideline: a misspelt kgr:maxExlusive beside a correct bound was accepted and
    the bound silently ignored; check only warned. Now loading refuses it and suggests the core's term."""
    path = _module(tmp_path, extra)
    with pytest.raises(GuidanceModuleError) as caught:
        Reasoner(guidance=Guidance.from_files("refused", ontology=[path]))
    found = [f for f in caught.value.findings if f.term == term]
    assert [(f.check, f.blocking) for f in found] == [("authoring", True)], caught.value.findings
    assert (f"did you mean {near}?" in found[0].message) if near else "its own namespace" in found[0].message
    assert found[0].axiom.startswith("asp:M4 ")
    report = check_module([path], hermit=False)
    assert any(f.term == term and f.blocking for f in report.findings)


@pytest.mark.parametrize("key, other", [("chronic_hypertension", "asp:ChronicHypertension"), ("id", "kgr:patientId")])
def test_loading_refuses_a_summary_key_that_names_two_terms(tmp_path, key, other):
    """Found by writing a third guideline: a key shared by two terms, or a core key such as "id", was
    accepted; the summary reader then read one fact for two, or a patient id as a finding."""
    path = tmp_path / "module.ttl"
    text = ASPIRIN.read_text(encoding="utf-8")
    path.write_text(text.replace('kgr:summaryKey "previous_preeclampsia"', f'kgr:summaryKey "{key}"'))
    with pytest.raises(GuidanceModuleError) as caught:
        Reasoner(guidance=Guidance.from_files("refused", ontology=[path]))
    found = [f for f in caught.value.findings if f.term == "asp:PreviousPreEclampsia"]
    assert [(f.check, f.property) for f in found] == [("authoring", "kgr:summaryKey")], caught.value.findings
    assert f"the summary key {key} is also the key of {other}" in found[0].message


def test_loading_refuses_an_import_it_cannot_load(tmp_path):
    """owl:imports of an ontology neither packaged nor given is never fetched: its axioms would be missing
    without a word, so loading refuses the module; given beside it, the import is satisfied."""
    extra = "\n<https://example.org/kg-reasoner-test/aspirin> owl:imports <http://example.com/x> .\n"
    path = _module(tmp_path, extra)
    with pytest.raises(GuidanceModuleError) as caught:
        Reasoner(guidance=Guidance.from_files("refused", ontology=[path]))
    assert [(f.term, f.property) for f in caught.value.findings] == [("<http://example.com/x>", "owl:imports")]
    assert "never fetches a document" in str(caught.value)
    imported = tmp_path / "x.ttl"
    imported.write_text(
        "@prefix owl: <http://www.w3.org/2002/07/owl#> .\n<http://example.com/x> a owl:Ontology .\n", encoding="utf-8"
    )
    report = check_module([path, imported], hermit=False)
    assert not any(f.property == "owl:imports" for f in report.findings)


def test_loading_refuses_an_authoring_error(tmp_path):
    path = _module(tmp_path, "\nasp:A1 kgr:appliesToClass asp:PatientWithBleedingDisorder .\n")
    with pytest.raises(GuidanceModuleError) as caught:
        Reasoner(guidance=Guidance.from_files("refused", ontology=[path]))
    assert [(f.check, f.term, f.property) for f in caught.value.findings] == [
        ("authoring", "asp:A1", "kgr:appliesToClass")
    ]
    assert "exactly one class of patients" in str(caught.value)


#: a module rule shape whose SPARQL has a FILTER of one constant that rdflib drops (RDFLib/rdflib#3381)
_SWITCHED_OFF = """@prefix sh: <http://www.w3.org/ns/shacl#> . @prefix kgr: <https://w3id.org/kg-reasoner/ontology#> .
@prefix ex: <https://example.org/rules#> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:prefixes sh:declare [ sh:prefix "kgr" ; sh:namespace "https://w3id.org/kg-reasoner/ontology#"^^xsd:anyURI ] ,
    [ sh:prefix "asp" ; sh:namespace "https://example.org/kg-reasoner-test/aspirin#"^^xsd:anyURI ] .
ex:SwitchedOff a sh:NodeShape ; sh:targetClass kgr:Patient ; sh:order 75 ;
    sh:rule [ a sh:SPARQLRule ; sh:prefixes ex:prefixes ;
              sh:construct \"\"\"CONSTRUCT { $this kgr:firedRule asp:A1 . }
                            WHERE { $this kgr:hasStatus ?s . FILTER (CONSTANT) }\"\"\" ] .
"""


@pytest.mark.skipif(
    not rdflib_drops_constant_filters(), reason="this rdflib applies FILTER (false) (RDFLib/rdflib#3381)"
)
@pytest.mark.parametrize(
    "constant",
    ["false", "0", '""', "(0.0)", '"0"^^<http://www.w3.org/2001/XMLSchema#integer>'],
    ids=["false", "zero", "empty-string", "bracketed", "typed"],
)
def test_a_filter_rdflib_would_drop_is_refused_at_load(tmp_path, constant):
    """rdflib (the reference engine's SPARQL) ignores ``FILTER (false)``; the fast engine's plans and pyoxigraph
    apply it. A module rule with one would be concluded differently by the two engines: refused, named."""
    rules = tmp_path / "rules.ttl"
    rules.write_text(_SWITCHED_OFF.replace("CONSTANT", constant.replace('"', '\\"')), encoding="utf-8")
    report = check_module([ASPIRIN], [rules], hermit=False)
    dropped = [f for f in report.findings if "RDFLib/rdflib#3381" in f.message]
    assert [(f.check, f.term, f.property, f.blocking) for f in dropped] == [
        ("authoring", "<https://example.org/rules#SwitchedOff>", "sh:construct", True)
    ]
    with pytest.raises(GuidanceModuleError) as caught:
        Reasoner(guidance=Guidance.from_files("refused", ontology=[ASPIRIN], rules=[rules]))
    assert "RDFLib/rdflib#3381" in str(caught.value)


def test_a_module_rule_that_does_not_parse_is_refused_by_name_not_with_a_traceback(tmp_path):
    """A SPARQL syntax error in a module's rule file: ``kg-reasoner check`` named it, but loading raised
    pyparsing's ParseException (a traceback from ``assess --guidance-rules``, exit code 1). It is now a
    GuidanceModuleError naming the shape, and the command line says so with exit code 2."""
    rules = tmp_path / "rules.ttl"
    rules.write_text(_SWITCHED_OFF.replace("FILTER (CONSTANT) }", "FILTER (?s = }"), encoding="utf-8")
    with pytest.raises(GuidanceModuleError) as caught:
        Reasoner(guidance=Guidance.from_files("refused", ontology=[ASPIRIN], rules=[rules]))
    assert [(f.check, f.term, f.property) for f in caught.value.findings] == [
        ("rules", "ex:SwitchedOff", "sh:construct")
    ]
    assert "does not parse" in str(caught.value)
    vignette = tmp_path / "patient.json"
    vignette.write_text('{"id": "X"}', encoding="utf-8")
    run = run_cli("assess", "--guidance-module", str(ASPIRIN), "--guidance-rules", str(rules), str(vignette))
    assert run.returncode == 2 and "does not parse" in run.stderr and "Traceback" not in run.stderr


@pytest.mark.parametrize(
    "head, named, hint",
    [
        ("$this kgr:firedRul asp:A1", "kgr:firedRul", "did you mean kgr:firedRule?"),
        ("$this asp:undeclaredProperty asp:A1", "asp:undeclaredProperty", "declare it"),
        ("$this <https://w3id.org/kg-reasoner/ontology#firedRul> asp:A1", "kgr:firedRul", "kgr:firedRule"),
    ],
    ids=["misspelt-core-property", "undeclared-module-property", "full-iri"],
)
def test_a_module_rule_using_an_undeclared_name_is_refused(tmp_path, head, named, hint):
    """Found by writing a third guideline: a rule writing an undeclared property was accepted, and what it
    wrote was read by nothing. A name of the core or of the module that no document declares is refused."""
    rules = tmp_path / "rules.ttl"
    text = _SWITCHED_OFF.replace("$this kgr:firedRule asp:A1", head).replace(" FILTER (CONSTANT)", "")
    rules.write_text(text, encoding="utf-8")
    with pytest.raises(GuidanceModuleError) as caught:
        Reasoner(guidance=Guidance.from_files("refused", ontology=[ASPIRIN], rules=[rules]))
    found = [f for f in caught.value.findings if f.term == "ex:SwitchedOff"]
    assert [(f.check, f.blocking) for f in found] == [("authoring", True)], caught.value.findings
    assert f"its SPARQL uses {named}, which no document declares" in found[0].message and hint in found[0].message
    rules.write_text(_SWITCHED_OFF.replace(" FILTER (CONSTANT)", ""), encoding="utf-8")  # the names it had
    assert not [f for f in check_module([ASPIRIN], [rules], hermit=False).findings if "no document" in f.message]


def test_check_with_the_source_text_finds_a_sentence_the_guidance_does_not_hold(tmp_path):
    """Found by writing a third guideline: a rule citing words the guidance never says was accepted.
    ``check --source TXT`` holds every kgr:sourceSentence against the text (spacing aside)."""
    example = ROOT / "examples" / "guidance" / "aspirin-preeclampsia"
    text = (example / "module.ttl").read_text(encoding="utf-8")
    quoted = sorted(set(re.findall(r'kgr:sourceSentence "([^"]+)"', text)))[0]
    path = tmp_path / "module.ttl"
    path.write_text(text.replace(f'"{quoted}"', '"Aspirin must always be given."', 1), encoding="utf-8")
    clean = check_module([example / "module.ttl"], hermit=False, source=example / "source.txt")
    assert not [f for f in clean.findings if f.property == "kgr:sourceSentence"]
    report = check_module([path], hermit=False, source=example / "source.txt")
    found = [f for f in report.findings if f.property == "kgr:sourceSentence"]
    assert [(f.property, "does not hold verbatim" in f.message) for f in found] == [("kgr:sourceSentence", True)]
    run = run_cli("check", str(path), "--skip-hermit", "--source", str(example / "source.txt"))
    assert run.returncode == 1 and "Aspirin must always be given." in run.stdout
    run = run_cli("check", str(path), "--skip-hermit", "--source", str(tmp_path / "missing.txt"))
    assert run.returncode == 2 and "cannot be read" in run.stderr


@pytest.mark.parametrize(
    "head",
    [
        "$this kgr:firedRule asp:A1 . # (the old kgr:statusOfPatient here)",  # a comment
        '$this kgr:firedRule asp:A1 . FILTER (STR(asp:A1) != "kgr:notAName")',  # a string
        "$this kgr:firedRule <https://example.org/kg-reasoner-test/aspirin#A1>",  # a full IRI of a declared term
    ],
    ids=["comment", "string", "full-iri"],
)
def test_a_rule_file_is_not_refused_for_names_in_comments_or_strings(tmp_path, head):
    """Found by review: a name inside a SPARQL comment was refused as undeclared."""
    rules = tmp_path / "rules.ttl"
    rules.write_text(_SWITCHED_OFF.replace("$this kgr:firedRule asp:A1", head).replace(" FILTER (CONSTANT)", ""))
    found = check_module([ASPIRIN], [rules], hermit=False).findings
    assert not [f for f in found if "no document declares" in f.message], found


def test_an_import_of_a_w3c_vocabulary_is_only_a_warning(tmp_path):
    extra = "\n<https://example.org/kg-reasoner-test/aspirin> owl:imports <http://www.w3.org/2004/02/skos/core> .\n"
    found = [f for f in check_module([_module(tmp_path, extra)], hermit=False).findings if f.property == "owl:imports"]
    assert [(f.severity, f.blocking) for f in found] == [("warning", False)]


@pytest.mark.parametrize("broken", ["not-turtle", "missing"])
def test_a_module_file_that_cannot_be_read_is_said_not_a_traceback(tmp_path, broken):
    path = tmp_path / "module.ttl"
    if broken == "not-turtle":
        path.write_text(ASPIRIN.read_text(encoding="utf-8") + "\nasp:Broken a owl:Class , .\n", encoding="utf-8")
    vignette = tmp_path / "patient.json"
    vignette.write_text('{"id": "X"}', encoding="utf-8")
    run = run_cli("assess", "--guidance-module", str(path), str(vignette))
    assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
    assert run.stderr.startswith("kg-reasoner: the guidance module") and str(path) in run.stderr


def test_a_filter_of_a_true_constant_or_of_a_variable_is_no_finding(tmp_path):
    rules = tmp_path / "rules.ttl"
    rules.write_text(
        # (FILTER (0) beside another FILTER of its group: rdflib joins them by && and applies both)
        _SWITCHED_OFF.replace("FILTER (CONSTANT)", "FILTER (true) OPTIONAL { FILTER (0) FILTER (?s) }"),
        encoding="utf-8",
    )
    report = check_module([ASPIRIN], [rules], hermit=False)
    assert not [f for f in report.findings if "RDFLib/rdflib#3381" in f.message]


@pytest.mark.slow  # builds the bundled guidance's knowledge base again, from its files (about 20 s)
def test_packaged_guidance_loaded_from_its_files_passes_the_load_checks():
    """The bundled guidance, given as files (so checked like any module), loads and decides as packaged."""
    docs = [_packaged_file(d) for d in PROGESTERONE.ontology]
    rules = [_packaged_file(d) for d in PROGESTERONE.rules]
    table = _packaged_file(PROGESTERONE.reference_table)
    guidance = Guidance.from_files("progesterone-files", ontology=docs, rules=rules, reference_table=table)
    assert guidance.checked_at_load and not PROGESTERONE.checked_at_load
    case = load_case(VIGNETTES[0])
    a = Reasoner(guidance=guidance).assess(case["patient"])
    expect = case["expect"]
    assert (a.status, a.rules, a.missing, a.flags) == (
        expect["status"],
        expect["rules"],
        expect["missing"],
        expect["flags"],
    )


def test_load_checks_are_cached_with_the_knowledge_base(tmp_path, monkeypatch):
    """A module is checked once per content: loaded again (a new process: the in-process cache cleared) it
    comes from the on-disk cache without a check; changed, it is checked again."""
    from kg_reasoner.reason import knowledge

    monkeypatch.setenv("KG_REASONER_CACHE_DIR", str(tmp_path / "cache"))
    path = _module(tmp_path, "")
    guidance = Guidance.from_files("cached", ontology=[path])
    knowledge.load_knowledge_base.cache_clear()
    knowledge.load_knowledge_base(guidance=guidance)
    knowledge.load_knowledge_base.cache_clear()

    def no_check(*_args, **_kwargs):
        raise AssertionError("checked again")

    monkeypatch.setattr(knowledge, "profile_findings", no_check)
    knowledge.load_knowledge_base(guidance=guidance)  # from the disk cache: not checked again
    path.write_text(path.read_text(encoding="utf-8") + FACET_MODULE, encoding="utf-8")
    knowledge.load_knowledge_base.cache_clear()
    with pytest.raises(AssertionError, match="checked again"):
        knowledge.load_knowledge_base(guidance=Guidance.from_files("cached", ontology=[path]))
    knowledge.load_knowledge_base.cache_clear()


# -- HermiT (Java) ----------------------------------------------------------------


@pytest.mark.slow  # HermiT (Java)
def test_hermit_checks_the_packaged_and_the_second_guidance():
    # the shared pregnancy module comes from the package through progesterone.ttl's owl:imports (like the core)
    docs = PROGESTERONE.authored_documents()
    for files, rules in (
        ([_packaged_file(d) for d in docs], [_packaged_file(d) for d in PROGESTERONE.rules]),
        ([ASPIRIN], []),
    ):
        report = check_module(files, rules)
        if any("HermiT was not run" in n for n in report.notes):
            pytest.skip(report.notes[0])
        assert [f.to_text() for f in report.findings] == []


@pytest.mark.slow  # HermiT (Java)
def test_hermit_names_an_unsatisfiable_class(tmp_path):
    path = _module(
        tmp_path,
        '\nasp:Impossible a owl:Class ; rdfs:label "impossible"@en ; skos:definition "Both."@en ;\n'
        "    rdfs:subClassOf asp:ChronicHypertension , asp:BleedingDisorder .\n"
        "asp:ChronicHypertension owl:disjointWith asp:BleedingDisorder .\n",
    )
    done = run_cli("check", str(path), "--format", "json")
    report = json.loads(done.stdout)
    if any("HermiT was not run" in n for n in report["notes"]):
        pytest.skip(report["notes"][0])
    assert done.returncode == 1
    hermit = [f for f in report["findings"] if f["check"] == "hermit"]
    assert [f["term"] for f in hermit] == ["asp:Impossible"] and not hermit[0]["blocking"]
