"""A cohort store on real SPARQL 1.1 servers of two makes, each started by the test on free local ports:
the Oxigraph server of the ``oxigraph`` package on PyPI (a test dependency) and Virtuoso Open Source 7
(Debian's ``virtuoso-opensource``, installed by .ci/run; skipped where absent). Patients are written with the SPARQL 1.1
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

import pyoxigraph as ox
import pytest
from rdflib import Literal, URIRef

from kg_reasoner import CohortStore, InputError, Reasoner, library_query
from kg_reasoner.cohort.remote import RemoteStore, StoreServerError, canonical_rows, with_values
from kg_reasoner.cohort.store import QueryError
from kg_reasoner.resources import query_names
from kg_reasoner.testing.synthetic import cohort as synthetic_cohort

ROOT = Path(__file__).resolve().parent.parent
OXIGRAPH = shutil.which("oxigraph") or str(Path(sys.executable).with_name("oxigraph"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running SPARQL server: its URL, the endpoint options ``CohortStore.open`` needs for it, and the
    same as command-line options."""

    def __init__(self, name: str, url: str, **endpoints: str):
        self.name, self.url, self.endpoints = name, url, endpoints
        self.cli = [x for k, v in endpoints.items() for x in (f"--{k.replace('_', '-')}", v)]

    def open(self, read_only: bool = True):
        return CohortStore.open(self.url, read_only=read_only, **self.endpoints)

    def __repr__(self) -> str:
        return self.name


def _wait_until_up(url: str, proc: subprocess.Popen, name: str) -> None:
    for _ in range(600):
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"{name} exited: {proc.stderr.read().decode() if proc.stderr else ''}")
            time.sleep(0.05)
    pytest.fail(f"{name} did not answer at {url}")


def _oxigraph(folder: Path):
    """``oxigraph serve`` on its own folder, without --union-default-graph: the client asks for the
    union itself (Oxigraph's request parameter)."""
    if not os.path.exists(OXIGRAPH):
        pytest.fail("the oxigraph server is a test dependency: pip install -e '.[test]'")
    port = _free_port()
    proc = subprocess.Popen(
        [OXIGRAPH, "serve", "--location", str(folder), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    _wait_until_up(f"{url}/query?query=ASK%7B%7D", proc, "oxigraph serve")
    return proc, Server("oxigraph", url)


#: Virtuoso Open Source 7 (Debian's package ``virtuoso-opensource``; CI installs it): a second server, of
#: another make, with its own endpoints, union default graph and rules for writing.
VIRTUOSO, VIRTUOSO_ISQL = shutil.which("virtuoso-t"), shutil.which("isql-vt") or shutil.which("isql")

_VIRTUOSO_INI = """[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
[Parameters]
ServerPort = {sql}
DisableUnixSocket = 1
CaseMode = 2
DirsAllowed = .
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
[HTTPServer]
ServerPort = {http}
ServerRoot = /var/lib/virtuoso-opensource-7/vsp
ServerThreads = 10
Charset = UTF-8
[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 120
"""


def _virtuoso(folder: Path):
    """``virtuoso-t`` on a fresh database in its own folder. Anonymous writes through its Graph Store
    endpoint are allowed the documented way (SPARQL_UPDATE granted to the SPARQL user, default graph
    permissions for nobody), as a test server may; its default graph is the union of its graphs."""
    if VIRTUOSO is None or VIRTUOSO_ISQL is None:
        pytest.skip("Virtuoso is not installed (Debian: apt-get install virtuoso-opensource; CI installs it)")
    sql, http = _free_port(), _free_port()
    ini = folder / "virtuoso.ini"
    ini.write_text(_VIRTUOSO_INI.format(d=folder, sql=sql, http=http), encoding="utf-8")
    proc = subprocess.Popen(
        [VIRTUOSO, "-f", "-c", str(ini)], cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{http}"
    _wait_until_up(f"{url}/sparql?query=ASK%7B%7D", proc, "virtuoso-t")
    grant = "GRANT SPARQL_UPDATE TO \"SPARQL\"; DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 7);"
    subprocess.run([VIRTUOSO_ISQL, str(sql), "dba", "dba", f"exec={grant}"], check=True, capture_output=True)
    return proc, Server("virtuoso", url, query_endpoint=f"{url}/sparql", graph_store=f"{url}/sparql-graph-crud")


@pytest.fixture(scope="module", params=["oxigraph", "virtuoso"])
def server(request, tmp_path_factory):
    proc, srv = {"oxigraph": _oxigraph, "virtuoso": _virtuoso}[request.param](tmp_path_factory.mktemp(request.param))
    yield srv
    proc.terminate()
    proc.wait(timeout=30)


PATIENTS = list(synthetic_cohort(40, seed=11))


@pytest.fixture(scope="module")
def cohort():
    return Reasoner().assess_cohort(PATIENTS)


@pytest.fixture(scope="module")
def stores(cohort, server, tmp_path_factory):
    local = tmp_path_factory.mktemp("local") / "store"
    cohort.to_store(local).close()
    cohort.to_store(server.url, batch=16, **server.endpoints)
    return CohortStore.open(local), server.open()


def _rows(result, server: Server | None = None) -> list:
    """The rows as sorted tuples of (variable, value as text), with their multiplicity. Virtuoso 7 answers
    a boolean computed in a query (EXISTS, a comparison, ``true``) as the integer 1 or 0 (its documented
    deviation, README): for it a boolean counts as that integer, which Python holds equal."""

    def text(v):
        if server is not None and server.name == "virtuoso" and isinstance(v, bool):
            return str(int(v))
        return str(v)

    return sorted(tuple(sorted((k, text(v)) for k, v in r.items())) for r in result.records())


@pytest.mark.parametrize("name", query_names())
def test_library_queries_answer_the_same_on_the_server(stores, server, name):
    local, remote = stores
    assert isinstance(remote, RemoteStore) and "SPARQL server" in repr(remote)
    expected = _rows(local.query(library_query(name)), server)
    assert _rows(remote.query(library_query(name)), server) == expected


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
    remote_w = server.open(read_only=False)
    remote_w.put(a)
    after = remote.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }").records()[0]["n"]
    assert after == before


def test_another_patients_node_is_refused_by_the_server_store(server, tmp_path):
    shared = "urn:lab:specimen-shared-remote"
    r = Reasoner()
    store = server.open(read_only=False)
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
    remote = server.open(read_only=False)
    remote.put(a)
    q = 'SELECT (COUNT(*) AS ?n) WHERE { ?p kgr:patientId "BN" ; kgr:hasFinding ?r . ?r ?x ?y }'
    assert _rows(remote.query(q)) == _rows(local.query(q))
    assert int(remote.query(q).records()[0]["n"]) > 3


def test_the_command_line_writes_and_queries_a_server_store(server):
    example = ROOT / "examples" / "P01-luteal-insufficiency.json"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "kg_reasoner",
            "assess",
            str(example),
            "--format",
            "csv",
            "--store",
            server.url,
            *server.cli,
            "-q",
        ],
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
            server.url,
            *server.cli,
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


def test_a_servers_literals_come_back_in_canonical_form():
    """The same value written another way by a server (Virtuoso writes ``true`` as ``"1"^^xsd:boolean``) is
    the embedded store's term; strings, language strings, IRIs and unbound cells are left as they are."""
    xsd = "http://www.w3.org/2001/XMLSchema#"
    rows = [
        [
            ox.Literal("1", datatype=ox.NamedNode(xsd + "boolean")),
            ox.Literal("007", datatype=ox.NamedNode(xsd + "integer")),
        ],
        [ox.Literal(" a "), ox.Literal("x", language="en"), ox.NamedNode("urn:x"), None],
        [
            ox.Literal("2.50", datatype=ox.NamedNode(xsd + "decimal")),
            ox.Literal("not a date", datatype=ox.NamedNode(xsd + "date")),
        ],
    ]
    out = canonical_rows(rows)
    assert [str(t) for t in out[0]] == [f'"true"^^<{xsd}boolean>', f'"7"^^<{xsd}integer>']
    assert out[1] == rows[1]
    assert out[2][0] == ox.Literal("2.5", datatype=ox.NamedNode(xsd + "decimal"))
    assert out[2][1] == rows[2][1]  # not a value of its datatype: kept as written


def test_a_server_answering_ask_with_a_table_is_refused(monkeypatch):
    store = RemoteStore.__new__(RemoteStore)
    store.query_endpoint, store.closed = "http://127.0.0.1:1/sparql", False
    table = b'{"head": {"vars": ["__ASK_RETVAL"]}, "results": {"bindings": [{"__ASK_RETVAL": {"type": "literal", "value": "1"}}]}}'
    monkeypatch.setattr(store, "_sparql", lambda *a, **k: table)
    with pytest.raises(StoreServerError, match="ASK query with a table"):
        store._run("ASK { ?s ?p ?o }", {}, "AskQuery")
