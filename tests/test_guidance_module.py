"""The core is guidance-independent: a second guidance module, given only as data (an ontology file
importing the core), is assessed by the same code, shapes and queries, with both engines."""

from __future__ import annotations

import re

import pytest
from conftest import DATA
from rdflib import Graph, URIRef
from rdflib.compare import graph_diff, isomorphic, to_isomorphic
from rdflib.namespace import OWL, RDF

from kg_reasoner import Guidance, PatientDataError, Reasoner
from kg_reasoner.guidance import CORE_ONTOLOGY, CORE_RULES, CORE_VALIDATION, read_document
from kg_reasoner.resources import data_folder

MODULE = DATA / "second-guidance" / "aspirin.ttl"
ASPIRIN = Guidance.from_files("aspirin", ontology=[MODULE])
PRG_NS = "https://w3id.org/kg-reasoner/ontology/progesterone#"
ASP_NS = "https://example.org/kg-reasoner-test/aspirin#"

#: (case id, patient summary, expected status, rules, unassessed causes)
CASES = [
    (
        "risk-factor-indicates",
        {"id": "A1", "causes": {"chronic_hypertension": True}},
        "indicated",
        ["A1"],
        ["pre-eclampsia in a previous pregnancy"],
    ),
    (
        "bleeding-disorder-contraindicates",
        {"id": "A2", "causes": {"previous_preeclampsia": True}, "bleeding_disorder": "von_willebrand"},
        "contraindicated",
        ["A1", "A2"],
        ["chronic hypertension"],
    ),
    (
        "nothing-known-is-not-absent",
        {"id": "A3"},
        "not_indicated",
        [],
        ["chronic hypertension", "pre-eclampsia in a previous pregnancy"],
    ),
    (
        "risk-factors-known-absent",
        {"id": "A4", "causes": {"chronic_hypertension": False, "previous_preeclampsia": False}},
        "not_indicated",
        [],
        [],
    ),
]


@pytest.fixture(scope="module", params=["fast", pytest.param("reference", marks=pytest.mark.slow)])
def aspirin(request) -> Reasoner:
    return Reasoner(guidance=ASPIRIN, engine=request.param)


@pytest.mark.parametrize("case_id, patient, status, rules, unassessed", CASES, ids=[c[0] for c in CASES])
def test_second_guidance_module_assesses_cases(aspirin, case_id, patient, status, rules, unassessed):
    a = aspirin.assess(patient)
    assert (a.status, a.rules, a.unassessed_causes) == (status, rules, unassessed)
    assert a.data_problems == []


def test_second_guidance_explains_with_its_own_sentences(aspirin):
    a = aspirin.assess(CASES[0][1])
    text = a.to_text()
    assert "Women at high risk of pre-eclampsia should take low-dose aspirin daily" in text
    assert "chronic hypertension: present [source: <dict>#/causes/chronic_hypertension]" in text
    assert a.advice[0].endswith("take low-dose aspirin daily from 12 weeks: chronic hypertension.")


@pytest.mark.slow  # the reference engine on every case
def test_engines_agree_on_the_second_guidance():
    fast, ref = Reasoner(guidance=ASPIRIN, engine="fast"), Reasoner(guidance=ASPIRIN, engine="reference")
    for _, patient, *_ in CASES:
        a, b = fast.assess(patient), ref.assess(patient)
        assert a.to_dict() == b.to_dict()
        if not isomorphic(a.inferred, b.inferred):
            _, only_fast, only_ref = graph_diff(to_isomorphic(a.inferred), to_isomorphic(b.inferred))
            pytest.fail(
                f"inferred graphs differ for {patient['id']}:\nfast only:\n"
                f"{only_fast.serialize(format='nt')}\nreference only:\n{only_ref.serialize(format='nt')}"
            )


def test_second_guidance_knows_nothing_of_progesterone():
    r = Reasoner(guidance=ASPIRIN)
    assert not [s for s in r.kb.ontology.subjects() if str(s).startswith(PRG_NS)]
    assert (URIRef(ASP_NS + "A1"), RDF.type, OWL.NamedIndividual) in r.kb.ontology
    with pytest.raises(PatientDataError, match="unknown key 'vaginal_bleeding'"):
        r.assess({"id": "X", "vaginal_bleeding": "light"})
    with pytest.raises(PatientDataError, match="unknown cause 'uterine_polyp'"):
        r.assess({"id": "X", "causes": {"uterine_polyp": True}})


def test_core_documents_mention_no_guidance_term():
    """The core (ontology, generic rules, validation shapes and every query) holds no IRI of a guidance
    module: a guidance imports the core, never the other way round."""
    docs = set(CORE_ONTOLOGY + CORE_RULES + CORE_VALIDATION)
    texts = {doc: read_document(doc) for doc in docs}
    texts.update(
        {
            f"queries/{p.name}": p.read_text(encoding="utf-8")
            for p in data_folder("queries").iterdir()
            if p.name.endswith(".rq")
        }
    )
    offenders = sorted(doc for doc, text in texts.items() if "ontology/progesterone" in text or "prg:" in text)
    assert offenders == []
    assert len(texts) > 20


def test_core_imports_nothing_and_guidance_imports_the_core():
    core = Graph().parse(data=read_document(CORE_ONTOLOGY[0]), format="turtle")
    assert list(core.objects(None, OWL.imports)) == []
    module = Graph().parse(MODULE, format="turtle")
    assert URIRef("https://w3id.org/kg-reasoner/ontology/core") in set(module.objects(None, OWL.imports))


def test_unreadable_module_file_names_the_file(tmp_path):
    bad = tmp_path / "broken.ttl"
    bad.write_text("this is not turtle .", encoding="utf-8")
    with pytest.raises(Exception, match=re.escape(str(bad))):
        Reasoner(guidance=Guidance.from_files("broken", ontology=[bad]))


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_cli_assesses_under_a_guidance_module(write_json, jobs):
    import csv
    import io

    from conftest import run_cli

    a1 = write_json("a1.json", CASES[0][1])
    a2 = write_json("a2.json", CASES[1][1])
    done = run_cli(
        "assess", str(a1), str(a2), "--guidance-module", str(MODULE), "--format", "csv", "--quiet", "--jobs", jobs
    )
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))[1:]
    assert [r[:5] for r in rows] == [["A1", "indicated", "A1", "", ""], ["A2", "contraindicated", "A1;A2", "", ""]]
    assert [r[5:] for r in rows] == [[str(a1), "", ""], [str(a2), "", ""]]  # (source, as_of, not_assessed)


def test_cli_guidance_rules_need_a_module(tmp_path):
    from conftest import run_cli

    done = run_cli("assess", "x.json", "--guidance-rules", str(MODULE))
    assert done.returncode == 2 and "--guidance-rules needs --guidance-module" in done.stderr
