"""A cohort store on a real SPARQL 1.1 server: the Oxigraph server of the ``oxigraph`` package on PyPI
(a test dependency), started by the test on a free local port. Patients are written with the SPARQL 1.1
Graph Store HTTP Protocol and read through the SPARQL 1.1 Protocol; every answer is compared with the
embedded store's on the same cohort."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from rdflib import Literal, URIRef

from kg_reasoner import CohortStore, InputError, Reasoner, library_query
from kg_reasoner.cohort.remote import RemoteStore, StoreServerError, with_values
from kg_reasoner.cohort.store import QueryError
from kg_reasoner.resources import query_names
from kg_reasoner.testing.synthetic import cohort as synthetic_cohort

ROOT = Path(__file__).resolve().parent.parent
OXIGRAPH = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``oxigraph serve`` on its own folder, without --union-default-graph: the client asks for the
    union itself (Oxigraph's request parameter)."""
    if not os.path.exists(OXIGRAPH):
        pytest.fail("the oxigraph server is a test dependency: pip install -e '.[test]'")
    port = _free_port()
    proc = subprocess.Popen(
        [OXIGRAPH, "serve", "--location", str(tmp_path_factory.mktemp("oxigraph")), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{url}/query?query=ASK%7B%7D", timeout=1).read()
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"oxigraph serve exited: {proc.stderr.read().decode() if proc.stderr else ''}")
            time.sleep(0.05)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


PATIENTS = list(synthetic_cohort(40, seed=11))


@pytest.fixture(scope="module")
def cohort():
    return Reasoner().assess_cohort(PATIENTS)


@pytest.fixture(scope="module")
def stores(cohort, server, tmp_path_factory):
    local = tmp_path_factory.mktemp("local") / "store"
    cohort.to_store(local).close()
    cohort.to_store(server, batch=16)
    return CohortStore.open(local), CohortStore.open(server)


def _rows(result) -> list:
    return sorted(tuple(sorted((k, str(v)) for k, v in r.items())) for r in result.records())


@pytest.mark.parametrize("name", query_names())
def test_library_queries_answer_the_same_on_the_server(stores, name):
    local, remote = stores
    assert isinstance(remote, RemoteStore) and "SPARQL server" in repr(remote)
    expected = _rows(local.query(library_query(name)))
    assert _rows(remote.query(library_query(name))) == expected


def test_patient_values_reach_the_server_as_bindings(stores, cohort):
    local, remote = stores
    one = cohort.assessments[3]
    q = library_query("evidence-for-conclusion")
    assert _rows(remote.query(q, patient=one.patient)) == _rows(local.query(q, patient=one.patient))
    assert len(remote.query("SELECT ?p WHERE { ?p a kgr:Patient }")) == len(PATIENTS)
    by_status = library_query("patients-by-status")
    for status in ("indicated", "not_indicated"):
        expected = _rows(local.query(by_status, statusCode=status))
        assert expected and _rows(remote.query(by_status, statusCode=status)) == expected


def test_a_patient_assessed_again_replaces_her_graphs_on_the_server(stores, cohort, server):
    _, remote = stores
    a = cohort.assessments[0]
    before = remote.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }").records()[0]["n"]
    remote_w = CohortStore.open(server, read_only=False)
    remote_w.put(a)
    after = remote.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }").records()[0]["n"]
    assert after == before


def test_another_patients_node_is_refused_by_the_server_store(server, tmp_path):
    shared = "urn:lab:specimen-shared-remote"
    r = Reasoner()
    store = CohortStore.open(server, read_only=False)
    store.put(r.assess(_ttl_patient(tmp_path, "RA", shared)))
    with pytest.raises(InputError, match="the store holds for another patient"):
        store.put(r.assess(_ttl_patient(tmp_path, "RB", shared)))
    # within one batch: the second patient is refused, the first written
    errors = store.put_many([r.assess(_ttl_patient(tmp_path, f"R{i}", "urn:lab:specimen-2")) for i in "CD"])
    assert [str(e) for e in errors] and "another patient of this run" in str(errors[0])
    assert store.query('ASK { ?p kgr:patientId "RC" }').askAnswer
    assert not store.query('ASK { ?p kgr:patientId "RD" }').askAnswer


def _ttl_patient(tmp_path, pid, record) -> Path:
    path = tmp_path / f"{pid}.ttl"
    path.write_text(
        "@prefix kgr: <https://w3id.org/kg-reasoner/ontology#> .\n"
        "@prefix prg: <https://w3id.org/kg-reasoner/ontology/progesterone#> .\n"
        f'<https://w3id.org/kg-reasoner/patient/{pid}> a kgr:Patient ; kgr:patientId "{pid}" ;\n'
        f"    kgr:hasFinding <{record}> .\n"
        f"<{record}> a prg:VaginalBleeding ; kgr:presence kgr:Present ; kgr:severity prg:Light .\n",
        encoding="utf-8",
    )
    return path


def test_read_only_and_refused_queries_on_the_server(stores, cohort):
    _, remote = stores
    with pytest.raises(InputError, match="read-only"):
        remote.put(cohort.assessments[0])
    with pytest.raises(QueryError, match="SERVICE"):
        remote.query("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }")
    with pytest.raises(QueryError, match="not in this store"):
        remote.query("SELECT * FROM <http://example.org/elsewhere> WHERE { ?s ?p ?o }")


def test_an_unreachable_server_is_named():
    with pytest.raises(StoreServerError, match="cannot be reached") as err:
        CohortStore.open(f"http://127.0.0.1:{_free_port()}")
    assert "127.0.0.1" in str(err.value)


@pytest.mark.parametrize(
    "text",
    [
        'PREFIX x: <http://x/#> CONSTRUCT { ?p x:y "{" } WHERE { ?p ?q ?r } # {',
        'SELECT ("{ # }" AS ?b) ?p # a comment {\nWHERE { ?p ?q ?r }',
        "ASK { ?p ?q ?r }",
        "SELECT ?construct ?p { ?p ?q ?r BIND (?r AS ?construct) }",
    ],
    ids=["construct-template", "string-and-comment", "ask", "variable-named-like-a-keyword"],
)
def test_values_go_first_in_the_where_clause(text):
    iri = URIRef("https://w3id.org/kg-reasoner/patient/P1")
    out = with_values(text, {"p": iri})
    at = out.index("VALUES (?p) { (<https://w3id.org/kg-reasoner/patient/P1>) }")
    assert out[:at].rstrip().endswith("{") and "?q ?r" in out[at:]
    assert at > out.index("WHERE") if "WHERE" in text else True


@pytest.mark.parametrize(
    "text,binding,message",
    [
        ("CONSTRUCT WHERE { ?p ?q ?r }", {"p": URIRef("urn:x")}, "short form"),
        ("DESCRIBE <urn:x>", {"p": URIRef("urn:x")}, "not a variable"),
        ("SELECT ?p WHERE { ?p ?q ?r }", {"nothere": URIRef("urn:x")}, "not a variable"),
    ],
    ids=["construct-where", "describe-without-where", "unknown-variable"],
)
def test_what_cannot_carry_values_is_refused_clearly(text, binding, message):
    with pytest.raises(QueryError, match=message):
        with_values(text, binding)


def test_a_datatype_cannot_smuggle_query_text(stores):
    _, remote = stores
    evil = Literal(
        "1", datatype=URIRef("http://x/dt> ) } SERVICE <http://169.254.169.254/x> { ?a ?b ?c } VALUES (?q) { (<urn:x")
    )
    with pytest.raises(QueryError):
        remote.query("SELECT ?n WHERE { ?p kgr:patientId ?n }", n=evil)


def test_from_is_honoured_on_the_server(stores, cohort):
    local, remote = stores
    graph = f"{cohort.assessments[2].iri}/graph/asserted"
    q = f"SELECT (COUNT(DISTINCT ?p) AS ?n) FROM <{graph}> WHERE {{ ?p a kgr:Patient }}"
    assert _rows(remote.query(q)) == _rows(local.query(q)) == [(("n", "1"),)]


def test_blank_node_records_stay_one_node_on_the_server(server, tmp_path):
    path = tmp_path / "bn.ttl"
    path.write_text(
        "@prefix kgr: <https://w3id.org/kg-reasoner/ontology#> .\n"
        "@prefix prg: <https://w3id.org/kg-reasoner/ontology/progesterone#> .\n"
        '<https://w3id.org/kg-reasoner/patient/BN> a kgr:Patient ; kgr:patientId "BN" ;\n'
        "    kgr:hasFinding [ a prg:VaginalBleeding ; kgr:presence kgr:Present ; kgr:severity prg:Light ] .\n",
        encoding="utf-8",
    )
    a = Reasoner().assess(path)
    local = CohortStore.open(tmp_path / "local", read_only=False)
    local.put(a)
    remote = CohortStore.open(server, read_only=False)
    remote.put(a)
    q = 'SELECT (COUNT(*) AS ?n) WHERE { ?p kgr:patientId "BN" ; kgr:hasFinding ?r . ?r ?x ?y }'
    assert _rows(remote.query(q)) == _rows(local.query(q))
    assert int(remote.query(q).records()[0]["n"]) > 3


def test_the_command_line_writes_and_queries_a_server_store(server):
    example = ROOT / "examples" / "P01-luteal-insufficiency.json"
    run = subprocess.run(
        [sys.executable, "-m", "kg_reasoner", "assess", str(example), "--format", "csv", "--store", server, "-q"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    q = subprocess.run(
        [
            sys.executable,
            "-m",
            "kg_reasoner",
            "query",
            "--store",
            server,
            "--format",
            "csv",
            "--query",
            'SELECT ?s WHERE { ?p kgr:patientId "P01" ; kgr:hasStatus/kgr:code ?s }',
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert q.returncode == 0 and "indicated" in q.stdout, q.stderr
