"""The ontology: terms, metadata, citations, cross-references, and OWL axioms that do real work."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, SKOS

from kg_reasoner import Reasoner
from kg_reasoner.namespaces import KGR
from kg_reasoner.reason.knowledge import load_knowledge_base

KGR_NS = "https://w3id.org/kg-reasoner/ontology#"
PRG_NS = "https://w3id.org/kg-reasoner/ontology/progesterone#"
GUIDANCE = (ROOT / "docs" / "progesterone-miscarriage.txt").read_text(encoding="utf-8")
TERMINOLOGY = (ROOT / "docs" / "terminology.md").read_text(encoding="utf-8")
# expand the table's shorthand "Q51.21/.22/.28" into "Q51.21 Q51.22 Q51.28"
TERMINOLOGY += " ".join(
    f" {m.group(1)}{suffix}"
    for m in re.finditer(r"([A-Z]\d{2})\.\d+((?:/\.\d+)+)", TERMINOLOGY)
    for suffix in m.group(2).split("/")
    if suffix
)


@pytest.fixture(scope="module")
def onto() -> Graph:
    return load_knowledge_base().ontology


def test_every_term_used_in_code_exists(onto):
    declared = set(g for g in onto.subjects(RDF.type, None))
    used = [getattr(KGR, name) for name in KGR.__annotations__]
    missing = [str(t) for t in used if t not in declared]
    assert missing == []
    assert len(used) > 30


def test_the_typed_namespace_still_refuses_a_term_it_does_not_declare():
    """``KGR``'s terms are plain class attributes (``namespaces._as_attributes``, for speed), each the IRI
    rdflib's DefinedNamespace gives; a name it does not declare still fails (``_fail = True``)."""
    for name in KGR.__annotations__:
        assert KGR.__dict__[name] == URIRef(KGR_NS + name) == KGR[name]
    with pytest.raises(AttributeError, match="not in namespace"):
        KGR.NoSuchTerm  # noqa: B018
    assert URIRef(KGR_NS + "Patient") in KGR


# Labels, definitions, unique labels, metadata, rule citations and code formats are checked by the
# quality-control queries queries/qc/*-violation.rq (tests/test_ontology_checks.py).


@pytest.mark.parametrize("doc", ["core", "code-systems", "progesterone", "progesterone-reference-ranges"])
def test_ontology_metadata(onto, doc):
    iri = URIRef(f"https://w3id.org/kg-reasoner/ontology/{doc}")
    assert (iri, RDF.type, OWL.Ontology) in onto
    for p in (OWL.versionIRI, OWL.versionInfo, DCTERMS.license, DCTERMS.title):
        assert onto.value(iri, p) is not None, (doc, p)
    assert str(onto.value(iri, OWL.versionIRI)).startswith("https://w3id.org/kg-reasoner/ontology/")


def test_imports_are_bundled_ontologies_only(onto):
    """No owl:imports is ever fetched: each import names an ontology shipped with the package."""
    bundled = set(onto.subjects(RDF.type, OWL.Ontology))
    assert set(onto.objects(None, OWL.imports)) <= bundled


RULES = ["R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "E1"]


@pytest.mark.parametrize("code", RULES)
def test_rule_is_a_first_class_resource_citing_its_sentence(onto, code):
    rule = URIRef(PRG_NS + code)
    assert (rule, RDF.type, URIRef(KGR_NS + "GuidanceRule")) in load_knowledge_base().closure
    assert str(onto.value(rule, KGR.code)) == code
    sentences = [str(s) for s in onto.objects(rule, URIRef(KGR_NS + "sourceSentence"))]
    assert sentences, f"{code} cites no sentence"
    for s in sentences:
        assert s in GUIDANCE, f"{code}: not verbatim in the guidance: {s!r}"
    concludes = {URIRef(KGR_NS + "concludesStatus"), URIRef(KGR_NS + "raisesFlag")}
    assert any((rule, p, None) in onto for p in concludes), f"{code} concludes nothing"


def test_E1_is_marked_as_extension(onto):
    assert onto.value(URIRef(PRG_NS + "E1"), URIRef(KGR_NS + "extension")).toPython() is True


@pytest.mark.parametrize("code", ["C1", "C2", "C3"])
def test_criteria_cite_their_sentence(onto, code):
    c = URIRef(PRG_NS + code)
    s = str(onto.value(c, URIRef(KGR_NS + "sourceSentence")))
    assert s in GUIDANCE and onto.value(c, URIRef(KGR_NS + "needs")) is not None


def test_status_precedence(onto):
    """contraindicated > not_recommended > indicated > insufficient_data > not_indicated."""
    order = sorted(
        onto.subjects(URIRef(KGR_NS + "precedence"), None),
        key=lambda s: -onto.value(s, URIRef(KGR_NS + "precedence")).toPython(),
    )
    assert [str(onto.value(s, KGR.code)) for s in order] == [
        "contraindicated",
        "not_recommended",
        "indicated",
        "insufficient_data",
        "not_indicated",
    ]


SCHEMES = {
    "http://snomed.info/id/": re.compile(r"^\d{6,18}$"),
    "https://loinc.org/": re.compile(r"^(L[AP])?\d{1,7}-\d$"),  # (a term; LA an answer, LP a part)
    "http://purl.bioontology.org/ontology/ICD10CM/": re.compile(r"^[A-Z]\d{2}(\.[0-9A-Z]{1,4})?$"),
    "http://purl.bioontology.org/ontology/ICD10/": re.compile(r"^[A-Z]\d{2}(\.\d)?$"),
    "http://purl.bioontology.org/ontology/RXNORM/": re.compile(r"^\d+$"),
    "http://purl.bioontology.org/ontology/ATC/": re.compile(r"^[A-Z]\d{2}[A-Z]{2}\d{2}$"),
    "http://purl.obolibrary.org/obo/": re.compile(r"^(MONDO_\d{7}|HP_\d{7}|CHEBI_\d+|NCIT_C\d+)$"),
}


def _loinc_check_digit(code: str) -> bool:
    body, check = code.split("-")
    digits = body.zfill(6)[::-1]
    total = 0
    for i, d in enumerate(digits):
        n = int(d) * (2 if i % 2 == 0 else 1)
        total += n // 10 + n % 10
    return (10 - total % 10) % 10 == int(check)


def test_cross_references_are_well_formed_and_verified(onto):
    """Every code cross-reference is well formed, and every code appears in docs/terminology.md
    (the verified list): no invented codes."""
    preds = (SKOS.exactMatch, SKOS.closeMatch, SKOS.narrowMatch, SKOS.broadMatch)
    refs = [(s, o) for p in preds for s, o in onto.subject_objects(p)]
    assert len(refs) > 60
    problems = []
    for s, o in refs:
        iri = str(o)
        scheme = next((k for k in SCHEMES if iri.startswith(k)), None)
        if scheme is None:
            continue  # QUDT units, HL7 value-set codes
        code = iri[len(scheme) :]
        if not SCHEMES[scheme].match(code):
            problems.append(f"{s}: malformed {iri}")
        # (the mod 10 check digit is a LOINC term's; an answer's LA code is checked otherwise: LA26683-5)
        if scheme == "https://loinc.org/" and code[0].isdigit() and not _loinc_check_digit(code):
            problems.append(f"{s}: LOINC check digit wrong in {code}")
        bare = code.split("_")[-1] if scheme.endswith("/obo/") else code
        if bare not in TERMINOLOGY:
            problems.append(f"{s}: {iri} is not in docs/terminology.md")
    assert problems == []


def test_every_cause_and_symptom_has_a_code(onto):
    for cls in (
        "UterinePolyp",
        "IntrauterineAdhesions",
        "GenitalTractInfection",
        "UterineMalformation",
        "EmbryonicChromosomalAbnormality",
        "VaginalBleeding",
        "AbdominalPain",
        "ThreatenedMiscarriage",
        "InevitableMiscarriage",
        "MissedMiscarriage",
    ):
        c = URIRef(PRG_NS + cls)
        assert any((c, p, None) in onto for p in (SKOS.exactMatch, SKOS.closeMatch)), cls


# --- OWL axioms that do real work ---------------------------------------------------------------

NEW_CAUSE = """
@prefix prg: <https://w3id.org/kg-reasoner/ontology/progesterone#> .
@prefix kgr: <https://w3id.org/kg-reasoner/ontology#> .
@prefix ex:  <https://example.org/guidance-extension#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
ex:AntiphospholipidSyndrome a owl:Class ;
    rdfs:subClassOf prg:CauseProgesteroneCannotAddress ;
    rdfs:label "antiphospholipid syndrome"@en ;
    skos:definition "An autoimmune cause of recurrent miscarriage."@en ;
    kgr:summaryKey "antiphospholipid_syndrome" .
"""

NEW_SYMPTOM = """
@prefix prg: <https://w3id.org/kg-reasoner/ontology/progesterone#> .
@prefix kgr: <https://w3id.org/kg-reasoner/ontology#> .
@prefix ex:  <https://example.org/guidance-extension#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
ex:PelvicCramping a owl:Class ; rdfs:subClassOf kgr:Symptom ;
    rdfs:label "pelvic cramping"@en ; kgr:summaryKey "pelvic_cramping" ;
    kgr:allowedSeverity prg:Mild , prg:Severe .
"""


@pytest.mark.slow  # builds a knowledge base
def test_new_cause_is_an_ontology_edit_not_a_code_change(tmp_path):
    """A cause added as a subclass of 'cause progesterone cannot address' changes decisions (R3) with
    no code change: it is accepted in the patient summary and classified by OWL-RL."""
    ext = tmp_path / "extension.ttl"
    ext.write_text(NEW_CAUSE, encoding="utf-8")
    patient = {"id": "X", "conception": "art", "causes": {"antiphospholipid_syndrome": True}}
    with pytest.raises(Exception, match="unknown cause 'antiphospholipid_syndrome'"):
        Reasoner().assess(patient)
    a = Reasoner(extra_ontology=[ext]).assess(patient)
    assert (a.status, a.rules) == ("not_recommended", ["R2", "R3"])
    assert any(adv.endswith("evaluate and manage the identified cause: antiphospholipid syndrome.") for adv in a.advice)
    assert (a.iri, RDF.type, URIRef(PRG_NS + "PatientWithCauseProgesteroneCannotAddress")) in a.inferred
    assert "antiphospholipid syndrome" in Reasoner(extra_ontology=[ext]).assess({"id": "Y"}).unassessed_causes


@pytest.mark.slow  # builds a knowledge base
def test_new_symptom_graded_mild_counts_for_C2(tmp_path):
    """A new symptom with the mild grade is a symptom of threatened miscarriage by the OWL axiom on
    grades: C2 is met with no change to code or shapes."""
    ext = tmp_path / "symptom.ttl"
    ext.write_text(NEW_SYMPTOM, encoding="utf-8")
    a = Reasoner(extra_ontology=[ext]).assess(
        {
            "id": "X",
            "pelvic_cramping": "mild",
            "progesterone": [{"value": 5, "unit": "ng/mL", "interpretation": "low"}],
            "ultrasound": "normal",
        }
    )
    assert a.criteria["C2"]["state"] == "met" and a.status == "indicated"


def test_owl_rl_classifies_patients(reasoner):
    """The status rules R2-R4 fire on classes the OWL-RL closure infers, not on Python tests."""
    cases = {
        "PregnancyAfterAssistedReproduction": {"conception": "art"},
        "PatientWithContraindicatingCondition": {"ultrasound": "demise"},
        "PatientSelfMedicatingWithProgesterone": {"progesterone_use": {"supervised": False}},
        "PatientNotImprovingOnProgesterone": {"progesterone_use": {"symptom_course": "worsening"}},
        "PatientWithAlarmingSymptom": {"abdominal_pain": "severe"},
    }
    for cls, data in cases.items():
        a = reasoner.assess({"id": "O", **data})
        assert (a.iri, RDF.type, URIRef(PRG_NS + cls)) in a.inferred, cls


def test_missed_miscarriage_is_embryonic_demise(reasoner):
    """Subclass axioms: a missed miscarriage recorded in RDF is an embryonic demise and so contraindicates."""
    g = Graph().parse(
        data="""
@prefix kgr: <https://w3id.org/kg-reasoner/ontology#> .
@prefix prg: <https://w3id.org/kg-reasoner/ontology/progesterone#> .
<urn:p:M> a kgr:Patient ; kgr:patientId "M" ; kgr:hasFinding <urn:p:M-f> .
<urn:p:M-f> a prg:MissedMiscarriage ; kgr:presence kgr:Present .
""",
        format="turtle",
    )
    a = reasoner.assess(g)
    assert (a.status, a.rules) == ("contraindicated", ["R4"])


def test_ontology_is_consistent_under_owl_rl():
    kb = load_knowledge_base()
    errors = list(kb.closure.subjects(RDF.type, URIRef("http://www.daml.org/2002/03/agents/agent-ont#ErrorMessage")))
    assert errors == []


#: Verified codes of docs/terminology.md the ontology deliberately does not cross-reference, and why.
NOT_CROSS_REFERENCED = {
    "MONDO:0006774": "habitual (recurrent) spontaneous abortion: a history, not a state of this pregnancy",
    "102878001": "SNOMED CT habitual abortion (the SNOMED code of MONDO:0006774): same reason",
    "MONDO:0041526": "pregnancy disorder with abortive outcome: a grouping class, broader than every concept here",
    "R10.2": "pelvic and perineal pain is not the abdominal pain of the guidance",
    "65727000": "intrauterine pregnancy: location, not the embryonic development criterion C3 assesses",
    "O02.81": "inappropriate hCG change: the guidance does not use hCG",
}


def test_verified_terminology_codes_are_cross_referenced(onto):
    """Every verified (V / V*) code of docs/terminology.md is a cross-reference of the ontology, or is
    listed above with the reason it is not."""
    refs = {
        re.split(r"[/#_]", str(o))[-1]
        for p in (SKOS.exactMatch, SKOS.closeMatch, SKOS.narrowMatch, SKOS.broadMatch, SKOS.relatedMatch)
        for o in onto.objects(None, p)
    }
    table = (ROOT / "docs" / "terminology.md").read_text(encoding="utf-8").split("**URIs")[0]
    code = re.compile(
        r"\b(?:[A-Z]\d{2}(?:\.[0-9A-Z]{1,4})?|\d{4,18}(?:-\d)?|C\d{3,6}|HP:\d{7}|MONDO:\d{7}|CHEBI:\d+"
        r"|[A-Z]\d{2}[A-Z]{2}\d{2})\b"
    )
    checked, missing = 0, []
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 5 or not cells[4].startswith("V"):
            continue
        for c in code.findall(cells[2]):
            checked += 1
            if c.split(":")[-1] not in refs and c not in NOT_CROSS_REFERENCED:
                missing.append(f"{cells[0]} {cells[1]} {c}")
    assert checked > 80 and missing == []
    assert all(c.split(":")[-1] not in refs for c in NOT_CROSS_REFERENCED), "an exclusion is now cross-referenced"


def test_every_term_says_which_document_defines_it():
    """Ontology reuse (docs/iri-policy.md): every labelled term of the kg-reasoner namespaces has exactly one
    rdfs:isDefinedBy, the document that defines it (the file that labels it), so tools that merge the
    modules (Protégé, the release's merged document) can still tell where a term comes from."""
    from rdflib import Graph, URIRef
    from rdflib.namespace import OWL, RDF, RDFS

    problems = []
    for path in sorted((ROOT / "ontology").glob("*.ttl")):
        g = Graph().parse(path)
        doc = next(g.subjects(RDF.type, OWL.Ontology))
        for term in {s for s in g.subjects(RDFS.label) if isinstance(s, URIRef) and s != doc}:
            if not str(term).startswith("https://w3id.org/kg-reasoner/"):
                continue
            defined_by = set(g.objects(term, RDFS.isDefinedBy))
            if defined_by != {doc}:
                problems.append(f"{path.name}: {term} rdfs:isDefinedBy {sorted(defined_by)}, expected <{doc}>")
    assert problems == []


def test_core_classes_are_aligned_with_fhir_resource_types(onto):
    from rdflib import URIRef
    from rdflib.namespace import SKOS

    kgr = "https://w3id.org/kg-reasoner/ontology#"
    for cls, resource in (
        ("Patient", "Patient"),
        ("Measurement", "Observation"),
        ("Condition", "Condition"),
        ("MedicationUse", "MedicationStatement"),
        ("ImagingResult", "DiagnosticReport"),
    ):
        assert (URIRef(kgr + cls), SKOS.closeMatch, URIRef(f"http://hl7.org/fhir/{resource}")) in onto
