"""SPARQL for users: the query library on both back ends (rdflib over written files, pyoxigraph
store), the store's add / replace behaviour, PROV-O provenance, and the query command."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from conftest import VIGNETTES, load_case, run_cli
from rdflib import Literal, URIRef
from rdflib.namespace import OWL, PROV, RDF

from kg_reasoner.api import Reasoner
from kg_reasoner.cohort.store import CohortStore, load_files, parse_binding, rdflib_query, rows
from kg_reasoner.resources import query_names, read_text
from kg_reasoner.testing.synthetic import cohort

#: Library queries and the bindings each is run with (besides unbound), as the header says.
LIBRARY = {
    "patients-by-status": [{}, {"statusCode": '"indicated"'}],
    "rule-firing-counts": [{}, {"code": '"R1"'}],
    "flags-across-cohort": [{}, {"flagCode": '"monitor"'}],
    "missing-data": [{}, {"criterionCode": '"C1"'}],
    "why-rule-not-fired": [{"ruleCode": '"R1"'}],
    "evidence-for-conclusion": [{}, {"concludesCode": '"indicated"'}],
    "indicated-without-followup-test": [{"since": "2026-11-25T00:00:00Z"}],
    "explain-outcome": [{}],
    "status-counts": [{}, {"status": '"indicated"'}],
}


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """A cohort assessed by the CLI into a store and, in the same run, into a TriG file."""
    folder = tmp_path_factory.mktemp("store")
    data = folder / "cohort.json"
    patients = [load_case(p)["patient"] for p in VIGNETTES] + list(cohort(25, seed=5))
    data.write_text(json.dumps(patients), encoding="utf-8")
    store, trig = folder / "store", folder / "cohort.trig"
    run = run_cli("assess", str(data), "--format", "trig", "--output", str(trig), "--store", str(store), "--jobs", "2")
    assert run.returncode in (0, 1), run.stderr
    return {"store": store, "trig": trig, "data": data, "n": len(patients)}


def _cell(v) -> str:
    """A result term as text; numbers by value (the store keeps decimals in canonical form: 7, not 7.0)."""
    if v is None:
        return ""
    if isinstance(v, Literal) and isinstance(v.toPython(), (Decimal, int)):
        return format(Decimal(v.toPython()).normalize(), "f")
    return str(v)


def _table(result) -> list[tuple]:
    names, data = rows(result)
    return sorted(tuple(_cell(v) for v in r) for r in data)


def test_every_library_query_documents_itself():
    """Each query says in its header what it answers and which variables can be bound."""
    for name in LIBRARY:
        text = read_text("queries", f"{name}.rq")
        header = "\n".join(line for line in text.splitlines() if line.startswith("#"))
        assert "Bind" in header, name
        for var in {k for b in LIBRARY[name] for k in b}:
            assert f"?{var}" in header, (name, var)
            assert re.search(rf"SELECT[^{{]*\?{var}\b", text), f"{name}: ?{var} must be projected to be bound"
    assert set(LIBRARY) <= set(query_names())


@pytest.mark.parametrize(
    "name,binding",
    [(n, b) for n, bs in LIBRARY.items() for b in bs],
    ids=[f"{n}-{'-'.join(b) or 'unbound'}" for n, bs in LIBRARY.items() for b in bs],
)
def test_library_query_same_answer_on_rdflib_and_store(written, name, binding):
    text = read_text("queries", f"{name}.rq")
    bindings = dict(parse_binding(f"{k}={v}") for k, v in binding.items())
    kb = Reasoner().kb
    on_files = _table(rdflib_query(load_files([str(written["trig"])], kb), text, bindings))
    on_store = _table(CohortStore(written["store"], read_only=True).query(text, bindings))
    assert on_files == on_store
    if name in ("patients-by-status", "rule-firing-counts", "explain-outcome", "evidence-for-conclusion"):
        assert on_files, f"{name} found nothing in the cohort"


def test_store_holds_each_patient_once_and_replaces_on_rerun(written, tmp_path):
    store = CohortStore(written["store"], read_only=True)
    count = "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?p a <https://w3id.org/kg-reasoner/ontology#Patient> }"
    triples = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    n_patients = int(rows(store.query(count))[1][0][0])
    n_triples = int(rows(store.query(triples))[1][0][0])
    assert n_patients == written["n"]
    del store
    again = run_cli("assess", str(written["data"]), "--format", "csv", "--store", str(written["store"]), "--quiet")
    assert again.returncode in (0, 1), again.stderr
    store = CohortStore(written["store"], read_only=True)
    assert int(rows(store.query(count))[1][0][0]) == n_patients
    # the patients' graphs were replaced, not added to (only the provenance times differ)
    assert int(rows(store.query(triples))[1][0][0]) == n_triples


def test_ontology_is_loaded_once_into_its_own_graph(written):
    store = CohortStore(written["store"], read_only=True)
    q = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <https://w3id.org/kg-reasoner/graph/ontology> { ?s ?p ?o } }"
    kb = Reasoner().kb
    assert int(rows(store.query(q))[1][0][0]) == len(kb.ontology)


def test_provenance_links_conclusions_to_facts_rule_and_activity():
    a = Reasoner().assess(load_case(VIGNETTES[0])["patient"])  # P01: indicated by R1
    prov, inferred = a.provenance, a.inferred
    activity = URIRef(f"{a.iri}/assessment")
    assert (activity, RDF.type, PROV.Activity) in prov
    agent = prov.value(activity, PROV.wasAssociatedWith)
    assert "fast" in str(agent) and prov.value(agent, OWL.versionInfo) is not None
    used = set(prov.objects(activity, PROV.used))
    assert URIRef("https://w3id.org/kg-reasoner/ontology/0.1.0/core") in used
    assert prov.value(activity, PROV.startedAtTime) is not None
    status = URIRef(f"{a.iri}/conclusion/status")
    r1 = URIRef(f"{a.iri}/conclusion/R1")
    assert (status, PROV.wasDerivedFrom, r1) in inferred
    assert (r1, PROV.wasInfluencedBy, URIRef("https://w3id.org/kg-reasoner/ontology/progesterone#R1")) in inferred
    for entity in inferred.subjects(RDF.type, PROV.Entity):
        assert (entity, PROV.wasGeneratedBy, activity) in prov
    sources = {
        str(r.source)
        for r in a.graph.query(read_text("queries", "evidence-for-conclusion.rq"), initBindings={"patient": a.iri})
        if r.source
    }
    assert any("progesterone/0" in s for s in sources), sources


def test_asserted_inferred_and_provenance_are_separate_graphs():
    a = Reasoner().assess(load_case(VIGNETTES[0])["patient"])
    names = {str(g.identifier) for g in a.dataset.graphs() if len(g)}
    assert names == {f"{a.iri}/graph/{n}" for n in ("asserted", "inferred", "provenance")}
    assert not set(a.asserted) & set(a.inferred)


def test_query_command_json_is_standard_sparql_results(written):
    run = run_cli(
        "query",
        "--name",
        "patients-by-status",
        "--store",
        str(written["store"]),
        "--bind",
        'statusCode="contraindicated"',
        "--format",
        "json",
    )
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert doc["head"]["vars"] == ["patient", "patientId", "statusCode", "statusLabel"]
    assert doc["results"]["bindings"]
    assert {b["statusCode"]["value"] for b in doc["results"]["bindings"]} == {"contraindicated"}
    assert all(b["patient"]["type"] == "uri" for b in doc["results"]["bindings"])


def test_query_command_on_files_and_text_and_table(written):
    run = run_cli(
        "query",
        "--query",
        "PREFIX kgr: <https://w3id.org/kg-reasoner/ontology#> "
        "SELECT ?id WHERE { ?p kgr:patientId ?id } ORDER BY ?id LIMIT 3",
        "--data",
        str(written["trig"]),
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1] == "(3 rows)"


@pytest.mark.parametrize(
    "args,message",
    [
        (["--name", "no-such-query"], "no query named"),
        (["--query", "SELECT WHERE {"], "not valid SPARQL 1.1"),
        (["--query", "SELECT * WHERE { ?s ?p ?o }", "--bind", "novalue"], "var=value"),
    ],
    ids=["unknown-name", "malformed", "bad-bind"],
)
def test_query_command_errors_are_clear(written, args, message):
    run = run_cli("query", *args, "--store", str(written["store"]))
    assert run.returncode == 2
    assert message in run.stderr
