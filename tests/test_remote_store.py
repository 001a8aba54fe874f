"""A cohort store on real SPARQL 1.1 servers of two makes, each started by the test on free local ports:
the Oxigraph server of the ``oxigraph`` package on PyPI (a test dependency) and Virtuoso Open Source 7
(Debian's ``virtuoso-opensource``, installed by .ci/run; skipped where absent). Patients are written with the SPARQL 1.1
Graph Store HTTP Protocol and read through the SPARQL 1.1 Protocol; every answer is compared with the
embedded store's on the same cohort."""

from __future__ import annotations

import contextlib
import http.client
import http.server
import os
import pickle
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Literal, URIRef, Variable

from kg_reasoner import CohortStore, InputError, Reasoner, library_query
from kg_reasoner.cli.common import EXIT_INPUT_ERROR
from kg_reasoner.cohort.remote import RemoteStore, StoreServerError, with_values
from kg_reasoner.cohort.store import QueryError
from kg_reasoner.reason.terms import from_ox
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


def _oxigraph(folder: Path, started: list) -> Server:
    """``oxigraph serve`` on its own folder, without --union-default-graph: the client asks for the
    union itself (Oxigraph's request parameter)."""
    if not os.path.exists(OXIGRAPH):
        pytest.fail("the oxigraph server is a test dependency: pip install -e '.[test]'")
    port = _free_port()
    started.append(
        subprocess.Popen(
            [OXIGRAPH, "serve", "--location", str(folder), "--bind", f"127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
    )
    url = f"http://127.0.0.1:{port}"
    _wait_until_up(f"{url}/query?query=ASK%7B%7D", started[0], "oxigraph serve")
    return Server("oxigraph", url)


#: Virtuoso Open Source 7 (Debian's package ``virtuoso-opensource``; .ci/run installs it): a second server,
#: of another make, with its own endpoints, union default graph and rules for writing. Where it is not
#: installed its tests are skipped, unless KG_REASONER_TEST_SERVERS names it (as .ci/run does): then they fail.
VIRTUOSO, VIRTUOSO_ISQL = shutil.which("virtuoso-t"), shutil.which("isql-vt")

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
ServerPort = 127.0.0.1:{sql}
DisableUnixSocket = 1
CaseMode = 2
DirsAllowed = .
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
[HTTPServer]
ServerPort = 127.0.0.1:{http}
ServerRoot = /var/lib/virtuoso-opensource-7/vsp
ServerThreads = 10
Charset = UTF-8
[SPARQL]
ResultSetMaxRows = {max_rows}
MaxQueryExecutionTime = 120
"""

#: what lets an anonymous client write through the Graph Store endpoint, and nothing more: SPARQL_UPDATE for
#: the SPARQL user, and read + write (3; not 7, which adds fetching remote data) on the graphs for nobody
VIRTUOSO_GRANTS = "GRANT SPARQL_UPDATE TO \"SPARQL\"; DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 3);"


def _virtuoso(folder: Path, started: list, max_rows: int = 1_000_000) -> Server:
    """``virtuoso-t`` on a fresh database in its own folder, on loopback only, writable the documented
    way (``VIRTUOSO_GRANTS``); its default graph is the union of its graphs."""
    if VIRTUOSO is None or VIRTUOSO_ISQL is None:
        message = "Virtuoso is not installed (Debian: apt-get install virtuoso-opensource; .ci/run installs it)"
        if "virtuoso" in os.environ.get("KG_REASONER_TEST_SERVERS", ""):
            pytest.fail(message)
        pytest.skip(message)
    sql, http = _free_port(), _free_port()
    ini = folder / "virtuoso.ini"
    ini.write_text(_VIRTUOSO_INI.format(d=folder, sql=sql, http=http, max_rows=max_rows), encoding="utf-8")
    started.append(
        subprocess.Popen(
            [VIRTUOSO, "-f", "-c", str(ini)], cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
    )
    url = f"http://127.0.0.1:{http}"
    _wait_until_up(f"{url}/sparql?query=ASK%7B%7D", started[0], "virtuoso-t")
    isql = subprocess.run(
        [VIRTUOSO_ISQL, f"127.0.0.1:{sql}", "dba", "dba", f"exec={VIRTUOSO_GRANTS}"], capture_output=True, text=True
    )
    if isql.returncode or "*** Error" in isql.stdout + isql.stderr:  # (isql-vt exits 0 on a failed statement)
        pytest.fail(f"the grants for writing failed: {isql.stdout}{isql.stderr}")
    return Server("virtuoso", url, query_endpoint=f"{url}/sparql", graph_store=f"{url}/sparql-graph-crud")


@contextlib.contextmanager
def _running(name: str, folder: Path, **options) -> Iterator[Server]:
    """The server NAME on FOLDER while the with-block runs; stopped afterwards whatever happened (killed when
    it does not stop within 30 s)."""
    started: list[subprocess.Popen] = []
    try:
        yield {"oxigraph": _oxigraph, "virtuoso": _virtuoso}[name](folder, started, **options)
    finally:
        for proc in started:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="module", params=["oxigraph", "virtuoso"])
def server(request, tmp_path_factory):
    """The server the comparisons read: written once, by ``stores``, never by a test."""
    with _running(request.param, tmp_path_factory.mktemp(request.param)) as srv:
        yield srv


@pytest.fixture(scope="module", params=["oxigraph", "virtuoso"])
def scratch_server(request, tmp_path_factory):
    """A server of the same make for the tests that write (so that no comparison sees their patients)."""
    with _running(request.param, tmp_path_factory.mktemp(f"scratch-{request.param}")) as srv:
        yield srv


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


def test_typed_values_come_back_as_the_embedded_store_holds_them(stores):
    """Every typed literal of the patients' graphs, compared as RDF terms (not as Python values)."""
    local, remote = stores
    q = """SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o }
             FILTER (STRSTARTS(STR(?g), "https://w3id.org/kg-reasoner/patient/") && isLiteral(?o)
                     && DATATYPE(?o) != xsd:string) }"""

    def terms(result) -> list:
        return sorted(tuple(row[v].n3() for v in result.vars) for row in result.bindings)

    expected = terms(local.query(q))
    assert len(expected) > 200 and any("XMLSchema#boolean" in row[3] for row in expected)
    assert terms(remote.query(q)) == expected


def test_a_value_the_server_writes_another_way_is_the_embedded_stores_term(scratch_server):
    """Values the server writes in forms of its own (Virtuoso: "1"^^xsd:boolean, "150.0"^^xsd:double where
    oxigraph writes "true", "150") come back as the terms the embedded store gives for them: rdflib reads
    each answer's literal in its canonical form."""
    xsd = "http://www.w3.org/2001/XMLSchema#"
    values = [
        ("5.0", "decimal"),
        ("2.50", "decimal"),
        ("1", "boolean"),
        ("007", "integer"),
        ("1.5E2", "double"),
        ("2026-01-01T10:00:00Z", "dateTime"),
        ("not a number", "integer"),
    ]
    s = ox.NamedNode("urn:kg-reasoner-test:values")
    triples = [
        ox.Triple(s, ox.NamedNode(f"urn:kg-reasoner-test:p{i}"), ox.Literal(lex, datatype=ox.NamedNode(xsd + dt)))
        for i, (lex, dt) in enumerate(values)
    ]
    remote = scratch_server.open(read_only=False)
    remote._put_graph(s.value, triples)
    embedded = ox.Store()
    embedded.extend(ox.Quad(t.subject, t.predicate, t.object, s) for t in triples)
    expected = sorted(
        (q.predicate.value, from_ox(q.object).n3()) for q in embedded.quads_for_pattern(None, None, None, s)
    )
    got = remote.query(f"SELECT ?p ?o WHERE {{ GRAPH <{s.value}> {{ ?s ?p ?o }} }}")
    assert sorted((str(r[Variable("p")]), r[Variable("o")].n3()) for r in got.bindings) == expected


def test_an_answer_the_server_cuts_short_is_an_error(tmp_path, cohort):
    """Virtuoso cuts an answer at its ResultSetMaxRows and still says HTTP 200 (with a header): that must be
    an error, never a silently short result."""
    with _running("virtuoso", tmp_path, max_rows=100) as srv:
        cohort.to_store(srv.url, batch=16, **srv.endpoints)
        store = srv.open()
        assert len(store.query("SELECT ?p WHERE { ?p a kgr:Patient }")) == len(PATIENTS)  # under the limit
        with pytest.raises(StoreServerError, match="cut its answer at 100 rows"):
            store.query("SELECT ?s ?p ?o WHERE { ?s ?p ?o }")


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


def test_a_patient_assessed_again_replaces_her_graphs_on_the_server(cohort, scratch_server):
    remote = scratch_server.open(read_only=False)
    a = cohort.assessments[0]
    remote.put(a)
    count = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    before = remote.query(count).records()[0]["n"]
    remote.put(a)
    assert remote.query(count).records()[0]["n"] == before


def test_another_patients_node_is_refused_by_the_server_store(scratch_server, tmp_path):
    shared = "urn:lab:specimen-shared-remote"
    r = Reasoner()
    store = scratch_server.open(read_only=False)
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


def test_the_command_line_waits_no_longer_than_its_store_timeout(capsys):
    """``--store-timeout`` bounds the wait for each request to a server that accepts the connection and
    never answers; the error names the wait and the option."""
    from kg_reasoner.cli import main

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)  # connections are accepted by the kernel, and never answered
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        code = main(["query", "--store", url, "--store-timeout", "1", "--query", "ASK { ?s ?p ?o }"])
        waited = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == EXIT_INPUT_ERROR and "did not answer within 1 s" in err and "--store-timeout" in err, err
    assert waited < 30  # (the default would wait 60 s per request)


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--store-timeout", "0"], "--store-timeout must be a number of seconds above 0"),
        (["--store-timeout", "inf"], "--store-timeout must be a number of seconds above 0"),
        (["--store-timeout", "nan"], "--store-timeout must be a number of seconds above 0"),
        (["--store-timeout", "5", "--store", "FOLDER"], "are for a store on a SPARQL server"),
    ],
    ids=["not-positive", "infinite", "not-a-number", "folder-store"],
)
def test_a_store_timeout_that_cannot_apply_is_refused(tmp_path, capsys, argv, message):
    from kg_reasoner.cli import main

    argv = [str(tmp_path) if a == "FOLDER" else a for a in argv]
    if "--store" not in argv:
        argv += ["--store", "http://127.0.0.1:9"]
    assert main(["query", *argv, "--query", "ASK { ?s ?p ?o }"]) == EXIT_INPUT_ERROR
    assert message in capsys.readouterr().err


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


def test_blank_node_records_stay_one_node_on_the_server(scratch_server, tmp_path):
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
    remote = scratch_server.open(read_only=False)
    remote.put(a)
    q = 'SELECT (COUNT(*) AS ?n) WHERE { ?p kgr:patientId "BN" ; kgr:hasFinding ?r . ?r ?x ?y }'
    assert _rows(remote.query(q)) == _rows(local.query(q))
    assert int(remote.query(q).records()[0]["n"]) > 3


def test_the_command_line_writes_and_queries_a_server_store(scratch_server):
    server = scratch_server
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


def test_a_server_answering_ask_with_a_table_is_refused(monkeypatch):
    store = RemoteStore.__new__(RemoteStore)
    store.query_endpoint, store.closed = "http://127.0.0.1:1/sparql", False
    table = b'{"head": {"vars": ["__ASK_RETVAL"]}, "results": {"bindings": [{"__ASK_RETVAL": {"type": "literal", "value": "1"}}]}}'
    monkeypatch.setattr(store, "_sparql", lambda *a, **k: table)
    with pytest.raises(StoreServerError, match="ASK query with a table"):
        store._run("ASK { ?s ?p ?o }", {}, "AskQuery")


def test_requests_share_one_kept_alive_connection(stores, monkeypatch):
    """Writes and queries to one host go over one connection; a connection the server has closed is
    replaced, and the request sent again, without the caller seeing it."""
    _, remote = stores
    opened = []
    connect = http.client.HTTPConnection.connect
    monkeypatch.setattr(http.client.HTTPConnection, "connect", lambda self: (opened.append(1), connect(self))[1])
    monkeypatch.setattr(urllib.request, "getproxies", dict)  # whatever proxy the machine names
    for conn in remote._connections.values():
        conn.close()
    remote._connections.clear()
    for _ in range(5):
        assert len(remote.query("SELECT ?p WHERE { ?p a kgr:Patient }")) == len(PATIENTS)
    assert len(opened) == 1
    for conn in remote._connections.values():
        assert conn.sock is not None
        conn.sock.shutdown(socket.SHUT_RDWR)  # as if the server had dropped it while idle
    assert len(remote.query("SELECT ?p WHERE { ?p a kgr:Patient }")) == len(PATIENTS)
    assert len(opened) == 2


def test_a_redirect_is_named_not_followed(monkeypatch):
    """A server answering with a redirect is an error naming where it points: the store is where its URL
    says, and a write is never sent on to another address."""

    class Redirect(http.server.BaseHTTPRequestHandler):
        def _go(self):
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = do_PUT = _go

        def log_message(self, *args):
            pass

    monkeypatch.setattr(urllib.request, "getproxies", dict)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        with pytest.raises(StoreServerError, match="HTTP 302.*to http://127.0.0.1:9/elsewhere.*not followed"):
            CohortStore.open(f"http://127.0.0.1:{httpd.server_address[1]}")
    finally:
        httpd.shutdown()


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_a_server_store_is_shared_by_threads_and_pickled(stores):
    """Each thread (and process) gets its own connection: a store shared by threads answers every query, and a
    pickled store carries no socket. No pyoxigraph result is left for another thread's garbage collector
    (pyo3 would refuse to free it there, and leak it: "unsendable, but is being dropped on another thread")."""
    _, remote = stores
    errors: list = []

    def ask():
        try:
            for _ in range(5):
                assert len(remote.query("SELECT ?p WHERE { ?p a kgr:Patient }")) == len(PATIENTS)
        except Exception as exc:  # noqa: BLE001 - collected and shown below
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    copy = pickle.loads(pickle.dumps(remote))
    assert len(copy.query("SELECT ?p WHERE { ?p a kgr:Patient }")) == len(PATIENTS)
