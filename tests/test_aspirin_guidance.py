"""The worked second guidance, examples/guidance/aspirin-preeclampsia (docs/authoring.md): a module written
with the core authoring vocabulary only. Every vignette on both engines (the reference engine in the full
tier), the module quotes its source verbatim and uses only terms the core defines, and its explanations
name each criterion with its state and numbers."""

from __future__ import annotations

import dataclasses
import json
import re
from decimal import Decimal

import pytest
from conftest import ROOT, assess_case, engine_runs, load_case, run_cli
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from kg_reasoner import Guidance, Reasoner
from kg_reasoner.guidance import read_document

EXAMPLE = ROOT / "examples" / "guidance" / "aspirin-preeclampsia"
MODULE = EXAMPLE / "module.ttl"
SOURCE = EXAMPLE / "source.txt"
VIGNETTES = sorted((EXAMPLE / "vignettes").glob("*.json"))
ASPIRIN = Guidance.from_files("aspirin-preeclampsia", ontology=[MODULE])
KGR = "https://w3id.org/kg-reasoner/ontology#"
ASP = "https://w3id.org/kg-reasoner/ontology/aspirin-preeclampsia#"
KGR_CODE = URIRef(KGR + "code")

_REASONERS: dict[str, Reasoner] = {}


def _reasoner(engine: str) -> Reasoner:
    if engine not in _REASONERS:
        _REASONERS[engine] = Reasoner(guidance=ASPIRIN, engine=engine)
    return _REASONERS[engine]


@pytest.fixture(scope="module")
def fast() -> Reasoner:
    return _reasoner("fast")


def _module() -> Graph:
    return Graph().parse(MODULE, format="turtle")


def _sentences() -> set[str]:
    """The numbered sentences of source.txt, without their labels ([S1], [K1], ...)."""
    return {
        m.group(1).strip()
        for m in re.finditer(r"^\[[SK]\d+\] (.+)$", SOURCE.read_text(encoding="utf-8"), flags=re.MULTILINE)
    }


def test_vignettes_are_bundled():
    ids = [load_case(p)["id"] for p in VIGNETTES]
    assert len(ids) >= 12
    assert ids == [f"A{i:02d}" for i in range(1, len(ids) + 1)]
    for path in VIGNETTES:
        case = load_case(path)
        assert set(case) == {"id", "description", "patient", "expect"}
        assert case["patient"]["id"] == case["id"] == path.stem


@pytest.mark.parametrize("engine,path", engine_runs(VIGNETTES))
def test_vignette(engine, path):
    assert assess_case(_reasoner, engine, path).data_problems == []


@pytest.mark.slow  # the reference engine
def test_engines_agree_on_the_whole_outcome_record():
    """A criterion of several rules (W1 of A1 and A2) is reported the same way by both engines and in every
    process (it was chosen by query result order)."""
    case = load_case(EXAMPLE / "vignettes" / "A03.json")
    assert (
        _reasoner("reference").assess(case["patient"]).to_dict() == _reasoner("fast").assess(case["patient"]).to_dict()
    )


def test_every_rule_and_criterion_quotes_source_txt_verbatim():
    g, sentences = _module(), _sentences()
    assert len(sentences) == 14
    quoted = {(s, str(o)) for s, o in g.subject_objects(URIRef(KGR + "sourceSentence"))}
    assert quoted
    assert sorted(str(o) for _, o in quoted if o not in sentences) == []


def test_module_passes_the_quality_control_queries():
    """The checks a release runs (queries/qc): a label names one term per kind, every rule and criterion cites a
    sentence, every code cross-reference is well formed in a known code system, and the OWL 2 RL profile."""
    from kg_reasoner.curation.checks import owl2rl_violations, qc_violations

    g = Graph()
    for doc in ASPIRIN.ontology_documents():
        g.parse(data=read_document(doc), format="turtle")
    assert {name: rows for name, rows in qc_violations(g).items() if rows} == {}
    assert owl2rl_violations(g) == []


def test_kg_reasoner_check_finds_no_error():
    """`kg-reasoner check` (docs/authoring.md section 8) on the module: no error; the warnings it may give are
    about functional datatype properties, which owlrl does not enforce."""
    done = run_cli("check", str(MODULE), "--skip-hermit", "--format", "json")
    report = json.loads(done.stdout)
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert (done.returncode, errors) == (0, []), done.stdout
    assert {f["check"] for f in report["findings"]} <= {"unsupported"}


def test_every_criterion_quotes_a_sentence():
    g = _module()
    criteria = {
        s for s in g.subjects(KGR_CODE, None) if str(s).startswith(ASP) and str(g.value(s, KGR_CODE))[0] in "HMWO"
    }
    assert len(criteria) == 18
    assert sorted(str(c) for c in criteria if g.value(c, URIRef(KGR + "sourceSentence")) is None) == []


def test_every_rule_is_complete():
    g = _module()
    rules = set(g.subjects(RDF.type, URIRef(KGR + "StatusRule"))) | set(g.subjects(RDF.type, URIRef(KGR + "FlagRule")))
    assert len(rules) == 6
    for rule in rules:
        for prop in ("code", "sourceSentence", "adviceText", "displayOrder", "guidance"):
            assert g.value(rule, URIRef(KGR + prop)) is not None, f"{rule} has no kgr:{prop}"


def test_every_term_has_a_label_and_a_definition():
    g = _module()
    terms = {s for s in g.subjects() if isinstance(s, URIRef) and str(s).startswith(ASP)}
    assert len(terms) > 50
    for term in terms:
        assert g.value(term, RDFS.label) is not None, term
        assert g.value(term, SKOS.definition) is not None, term


def test_module_uses_only_terms_the_core_defines():
    """Written with the core vocabulary only: every kgr: term it uses is one the core (or the pregnancy module it
    imports) declares (a typo would be silently ignored by the rules), and it holds no SHACL of its own."""
    core = Graph()  # the core and the packaged modules the aspirin module imports (the pregnancy module)
    for doc in ASPIRIN.ontology_documents():
        if doc != str(MODULE.resolve()):
            core.parse(data=read_document(doc), format="turtle")
    declared = {s for s in core.subjects() if isinstance(s, URIRef)}
    g = _module()
    used = {t for triple in g for t in triple if isinstance(t, URIRef) and str(t).startswith(KGR)}
    assert sorted(used - declared) == []
    assert set(g.objects(None, OWL.imports)) == {
        URIRef("https://w3id.org/kg-reasoner/ontology/core"),
        URIRef("https://w3id.org/kg-reasoner/ontology/pregnancy"),
    }
    assert ASPIRIN.ontology_documents()[-2:] == ("kg-reasoner:ontology/pregnancy.ttl", str(MODULE.resolve()))
    assert "http://www.w3.org/ns/shacl#" not in MODULE.read_text(encoding="utf-8")


def _block(a, code: str) -> str:
    """What the explanation says of criterion ``code``: its state (the end of its line, after the label) and the
    lines under it (evidence, what would decide it)."""
    lines = a.explanation_lines()
    i = next(n for n, line in enumerate(lines) if line.startswith(f"Criterion {code} "))
    body = []
    for line in lines[i + 1 :]:
        if not line.startswith("  "):
            break
        body.append(line)
    return "\n".join([lines[i].rsplit(": ", 1)[-1], *body])


def test_explanation_of_a_no_names_each_criterion_and_its_state(fast):
    """A 'no' (not_indicated, A03): nulliparity is the only factor present, every other one is recorded absent
    or below its threshold. The explanation names each criterion with its state and evidence, and why each
    rule does not apply."""
    a = fast.assess(load_case(EXAMPLE / "vignettes" / "A03.json")["patient"])
    assert (a.status, a.rules, a.missing) == ("not_indicated", [], [])
    states = {code: c["state"] for code, c in a.criteria.items()}
    assert states == {
        **{f"H{i}": "not_met" for i in range(1, 7)},
        "HR": "not_met",
        "M1": "met",
        **{f"M{i}": "not_met" for i in range(2, 7)},
        "MR": "not_met",
        "W1": "met",
        "W2": "not_met",
        "W3": "not_met",
        "OW": "not_met",
    }
    text = a.to_text()
    assert "Status: not_indicated" in text
    assert "Criterion H3 (chronic hypertension)" in text and "chronic hypertension: absent" in text
    assert "nulliparity: present" in text
    for code, state in states.items():
        assert _block(a, code).startswith(state), code
    assert "Rule A1 does not apply: HR (one or more high-risk factors) is not met." in text
    assert "Rule A2 does not apply: MR (more than one moderate-risk factor) is not met." in text


def test_threshold_and_count_criteria_keep_the_numbers_they_compared(fast):
    """The threshold rules keep the value compared (kgr:observedValue), the count rules how many factors are met
    and unknown (kgr:metCount, kgr:unknownCount): A10 has BMI exactly 30 (not above 30) and age 36."""
    a = fast.assess(load_case(EXAMPLE / "vignettes" / "A10.json")["patient"])
    rows = {
        str(r.code): (r.value, r.met, r.unknown)
        for r in a.full_graph.query(
            """PREFIX kgr: <https://w3id.org/kg-reasoner/ontology#>
            SELECT ?code ?value ?met ?unknown WHERE {
                ?p kgr:hasCriterionAssessment ?ca . ?ca kgr:assessedCriterion/kgr:code ?code .
                OPTIONAL { ?ca kgr:observedValue ?value } OPTIONAL { ?ca kgr:metCount ?met }
                OPTIONAL { ?ca kgr:unknownCount ?unknown } }"""
        )
    }
    assert float(rows["M2"][0]) == 30 and a.criteria["M2"]["state"] == "not_met"
    assert float(rows["M4"][0]) == 36 and a.criteria["M4"]["state"] == "met"
    assert float(rows["W1"][0]) == 14
    assert (int(rows["MR"][1]), int(rows["MR"][2])) == (1, 0)
    assert (int(rows["HR"][1]), int(rows["HR"][2])) == (0, 0)


def test_explanation_of_a_no_gives_the_numbers_it_compared(fast):
    """A10, not indicated: BMI exactly 30 is not above 30, age 36 is at least 35, so one moderate factor of the two
    needed. The explanation gives each comparison with its numbers and units, each count with its factors."""
    a = fast.assess(load_case(EXAMPLE / "vignettes" / "A10.json")["patient"])
    assert a.status == "not_indicated"
    assert "body mass index: 30 kg/m2 <= 30 kg/m2" in _block(a, "M2")
    assert "age: 36 years >= 35 years" in _block(a, "M4")
    assert "14 weeks >= 12 weeks, 14 weeks < 16 weeks" in _block(a, "W1")
    mr = _block(a, "MR")
    assert "1 of 6 factors met, 0 unknown (at least 2 needed)" in mr
    assert "M4 (age 35 years or older) met" in mr and "M2 (obesity (body mass index above 30 kg/m2)) not_met" in mr
    assert "0 of 6 factors met, 0 unknown (at least 1 needed)" in _block(a, "HR")
    text = a.to_text()
    assert "not_indicated is the default status" in text
    assert "Rule A1 does not apply: HR (one or more high-risk factors) is not met." in text
    assert "Rule A2 does not apply: MR (more than one moderate-risk factor) is not met." in text
    assert (
        "Rule A3 did not fire (contraindication to aspirin, status contraindicated): no record of: identified" in text
    )


def test_count_criterion_partly_met_lists_its_unknown_factors(fast):
    """One moderate factor known (BMI 32.5) and the others unknown: the k-of-n criterion MR is unknown, so A2 is
    partly met and each unknown factor is missing, with what would decide it."""
    a = fast.assess(load_case(EXAMPLE / "vignettes" / "A04.json")["patient"])
    assert (a.status, a.missing) == ("insufficient_data", ["M1", "M3", "M4", "M5", "M6"])
    assert a.criteria["MR"]["state"] == "unknown" and a.criteria["M2"]["state"] == "met"
    needs = {m["criterion"]: m["needs"] for m in a.missing_details}
    assert needs["M1"] == "whether she has given birth before"
    assert "age" in needs["M4"]
    assert "body mass index: 32.5 kg/m2 > 30 kg/m2" in _block(a, "M2")
    assert "1 of 6 factors met, 5 unknown (at least 2 needed)" in _block(a, "MR")
    assert "Rule A2 is partly met: M1 (nulliparity) is unknown" in a.to_text()


def test_unassessed_contraindications_are_derived(fast):
    """Unknown is not absent: each contraindication the data do not mention is derived as not assessed."""
    a = fast.assess(load_case(EXAMPLE / "vignettes" / "A05.json")["patient"])
    unassessed = set(a.inferred.objects(a.iri, URIRef(KGR + "unassessedContraindication")))
    assert unassessed == {
        URIRef(ASP + n) for n in ("AspirinHypersensitivity", "ActivePepticUlcer", "GastrointestinalBleeding")
    }


def test_explanation_lists_unassessed_contraindications(fast):
    a = fast.assess(load_case(EXAMPLE / "vignettes" / "A05.json")["patient"])
    assert a.unassessed_contraindications == [
        "active peptic ulcer",
        "aspirin allergy or hypersensitivity",
        "gastrointestinal bleeding",
    ]
    assert "Contraindications not assessed (treated as not identified, not as absent)" in a.to_text()


def test_a_contraindication_outranks_and_its_advice_decides(fast):
    a = fast.assess(load_case(EXAMPLE / "vignettes" / "A05.json")["patient"])
    assert (a.status, a.rules) == ("contraindicated", ["A1", "A3"])
    assert a.advice[0] == "Do not take aspirin; contraindication: bleeding disorder."
    assert not any("recommended" in advice for advice in a.advice)


def test_cli_assesses_the_vignette_folder():
    done = run_cli(
        "assess", "--guidance-module", str(MODULE), str(EXAMPLE / "vignettes"), "--format", "json", "--quiet"
    )
    assert done.returncode == 0, done.stderr
    got = {r["patient"]: r for r in json.loads(done.stdout)}
    for path in VIGNETTES:
        case = load_case(path)
        assert {k: got[case["id"]][k] for k in case["expect"]} == case["expect"], case["id"]


def test_sociodemographic_factors_are_not_keys(fast):
    """Race and income are left out of the encoding on purpose (README): the reader refuses them by name."""
    from kg_reasoner import PatientDataError

    with pytest.raises(PatientDataError, match="unknown key 'black_race'"):
        fast.assess({"id": "X", "black_race": "present"})
    assert Literal("bmi") in set(_module().objects(None, URIRef(KGR + "summaryKey")))


def _bundle(*observations) -> dict:
    patient = {"resourceType": "Patient", "id": "F1"}
    entries = [{"fullUrl": "urn:uuid:p", "resource": patient}]
    for i, (system, code, value, unit) in enumerate(observations):
        entries.append(
            {
                "fullUrl": f"urn:uuid:o{i}",
                "resource": {
                    "resourceType": "Observation",
                    "id": f"o{i}",
                    "status": "final",
                    "subject": {"reference": "urn:uuid:p"},
                    "effectiveDateTime": "2026-11-20",
                    "code": {"coding": [{"system": system, "code": code}]},
                    "valueQuantity": {
                        "value": value,
                        "unit": unit,
                        "system": "http://unitsofmeasure.org",
                        "code": unit,
                    },
                },
            }
        )
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def test_fhir_observations_of_the_modules_attributes_are_read(fast, tmp_path):
    """A guidance module's numeric attributes (BMI, age) are read from FHIR Observations coded with the
    attribute's cross-reference, in the attribute's unit: the thresholds compare them."""
    import json

    loinc, sct = "http://loinc.org", "http://snomed.info/sct"
    path = tmp_path / "bundle.json"
    path.write_text(
        json.dumps(
            _bundle((loinc, "39156-5", 32.5, "kg/m2"), (sct, "424144002", 36, "a"), (loinc, "49051-6", 14, "wk"))
        )
    )
    a = fast.assess(path)
    assert (a.criteria["M2"]["state"], a.criteria["M4"]["state"]) == ("met", "met"), a.to_text()
    assert a.data_problems == []


def test_fhir_attribute_in_another_unit_is_a_data_problem(fast, tmp_path):
    import json

    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(_bundle(("http://loinc.org", "39156-5", 32.5, "kg"))))
    a = fast.assess(path)
    assert a.criteria["M2"]["state"] == "unknown"
    [p] = [p for p in a.data_problems if p["field"] == "valueQuantity"]
    assert "body mass index needs valueQuantity in kg/m2" in p["message"]


#: the columns the readers read as numbers or booleans (the store keeps numbers in canonical form: "14.0" as "14")
_READ_AS_VALUES = {"strength", "includes", "fromWeek", "beforeWeek"}


def _kb(guidance: str):
    from kg_reasoner.guidance import PROGESTERONE
    from kg_reasoner.reason.knowledge import load_knowledge_base

    return load_knowledge_base(None, (), PROGESTERONE if guidance == "progesterone" else ASPIRIN)


@pytest.mark.parametrize("guidance", ["progesterone", "aspirin"])
@pytest.mark.parametrize(
    "name",
    [
        "summary-keys",
        "summary-values",
        "summary-attributes",
        "fhir-codes",
        "fhir-code-sets",
        "fhir-code-names",
        "reference-populations",
    ],
)
def test_reader_vocabulary_queries_answer_the_same_on_pyoxigraph_and_rdflib(guidance, name):
    """The readers' vocabularies run their seven queries on pyoxigraph (``explain.queries.store_rows``: rdflib's
    parser took about a second of every process's start): on both guidances' closures every query gives
    rdflib's rows, term for term (lexical forms included: the readers key dicts on them), but for the columns
    read as numbers, compared by value."""
    from kg_reasoner.explain.queries import ontology_store, run_query, store_rows

    kb = _kb(guidance)

    def row_of(row, names):
        return tuple(
            row[n].toPython() if n in _READ_AS_VALUES and isinstance(row[n], Literal) else row[n] for n in names
        )

    rdflib_rows = run_query(name, kb.closure)
    names = [str(v) for v in rdflib_rows.vars]
    expected = sorted((row_of(row, names) for row in rdflib_rows), key=repr)
    got = sorted((row_of(row, names) for row in store_rows(name, ontology_store(kb.closure))), key=repr)
    assert got == expected and (expected or guidance == "aspirin")  # (the progesterone guidance has rows for each)


@pytest.mark.parametrize("guidance", ["progesterone", "aspirin"])
def test_reader_vocabularies_are_the_same_built_on_pyoxigraph_or_rdflib(guidance, monkeypatch):
    """``SummaryVocabulary`` and ``FhirVocabulary`` built from the pyoxigraph rows equal those built from rdflib's
    rows in every order rdflib gives them (its rows in their order, then reversed): a reader that keeps the
    last of several rows (a key's record kinds, a property's ranges) keeps the same one."""
    from kg_reasoner.explain.queries import run_query
    from kg_reasoner.read import fhir, summary

    kb = _kb(guidance)

    def canon(x):  # (the readers' dicts and lists as sorted tuples; a number by value; a pattern by its text)
        if isinstance(x, dict):
            return tuple(sorted((repr(k), canon(v)) for k, v in x.items()))
        if isinstance(x, (list, tuple, set, frozenset)) and not hasattr(x, "_fields"):
            return tuple(sorted((canon(v) for v in x), key=repr))
        if isinstance(x, re.Pattern):
            return ("pattern", x.pattern, x.flags)
        if isinstance(x, Decimal):
            return ("number", x.normalize())
        if dataclasses.is_dataclass(x) or hasattr(x, "_fields"):
            return (type(x).__name__, canon(dataclasses.asdict(x) if dataclasses.is_dataclass(x) else x._asdict()))
        return repr(x)

    def described(vocabulary) -> dict:
        return {name: canon(value) for name, value in vars(vocabulary).items() if not isinstance(value, Graph)}

    built = [described(summary.SummaryVocabulary(kb.closure)), described(fhir.FhirVocabulary(kb.closure))]
    for flip in (False, True):
        with monkeypatch.context() as m:
            for module in (summary, fhir):
                m.setattr(module, "ontology_store", lambda graph: graph)
                m.setattr(
                    module, "store_rows", lambda name, g, step=-1 if flip else 1: list(run_query(name, g))[::step]
                )
            again = [described(summary.SummaryVocabulary(kb.closure)), described(fhir.FhirVocabulary(kb.closure))]
        assert again == built
