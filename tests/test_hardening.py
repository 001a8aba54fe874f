"""Issue 12: the endpoint, the cache, the store and the CLI under attack, faults and bad input. Each
test is named after the issue's item it covers and failed on the main of 2026-12-01."""

from __future__ import annotations

import contextlib
import http.client
import http.server
import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
from conftest import ROOT, VIGNETTES, run_cli, serving

KGR = "PREFIX kgr: <https://w3id.org/kg-reasoner/ontology#>\n"
GOOD_ORIGIN = "https://notebooks.example.org"


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list = []

    def do_GET(self):  # noqa: N802
        _Recorder.hits.append(self.path)
        body = b'{"head":{"vars":["secret"]},"results":{"bindings":[{"secret":{"type":"literal","value":"internal"}}]}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def internal_service():
    """An 'internal' HTTP service on this machine that a SERVICE clause would make the endpoint fetch."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("hardening") / "store"
    run = run_cli("assess", *map(str, VIGNETTES[:4]), "--format", "csv", "--store", str(path), "--quiet")
    assert run.returncode in (0, 1), run.stderr
    return path


@pytest.fixture(scope="module")
def endpoint(store):
    with serving(store, "--timeout", "5", "--cors", GOOD_ORIGIN) as (url, _):
        yield url


def call(url, query=None, method="GET", headers=None, params=None, body=None):
    params = dict(params or {})
    if query is not None and method == "GET":
        params["query"] = query
    if params:
        url += "?" + urllib.parse.urlencode(params, doseq=True)
    if query is not None and method == "POST":
        body = urllib.parse.urlencode({"query": query}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


# --- 1. SERVICE through a comment trick; valid queries with the words ------------------------------
def test_1_service_hidden_behind_a_comment_trick_is_refused_and_nothing_is_fetched(endpoint, internal_service):
    _Recorder.hits.clear()
    trick = f'# """\nSELECT * WHERE {{ SERVICE <{internal_service}> {{ ?s ?p ?o }} }}\n# """'
    status, _, body = call(endpoint, trick)
    assert status == 403 and "SERVICE" in body
    status, _, _ = call(
        endpoint,
        f"SELECT * WHERE {{ OPTIONAL {{ SERVICE SILENT <{internal_service}> {{ ?s ?p ?o }} }} }}",
        method="POST",
    )
    assert status == 403
    assert _Recorder.hits == []


@pytest.mark.parametrize(
    "query",
    [
        "SELECT ?service ?from WHERE { ?service ?from ?x } LIMIT 1",
        'SELECT ?s WHERE { ?s ?p "FROM <http://elsewhere/> and SERVICE" } LIMIT 1',
        "# FROM <http://elsewhere/>\n# SERVICE <http://elsewhere/>\nSELECT ?s WHERE { ?s ?p ?o } LIMIT 1",
        "PREFIX sd: <http://www.w3.org/ns/sparql-service-description#>\nSELECT ?s WHERE { ?s a sd:Service } LIMIT 1",
    ],
    ids=["variables", "string", "comments", "sd-vocabulary"],
)
def test_1_valid_queries_that_merely_contain_the_words_run(endpoint, query):
    status, _, body = call(endpoint, query)
    assert status == 200, body


def test_1_the_query_process_cannot_reach_the_network():
    probe = (
        "import socket, sys\nfrom kg_reasoner.serve.endpoint import cut_off_network\n"
        "ok = cut_off_network()\n"
        "try:\n    socket.create_connection(('127.0.0.1', 1), timeout=2); print(ok, 'reached')\n"
        "except OSError as e:\n    print(ok, e.errno)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT).stdout.split()
    if out[0] != "True":
        pytest.skip("this kernel refuses network namespaces; the parsed SERVICE refusal still holds")
    assert out[1] != "reached"


def test_1_service_is_refused_by_query_and_the_python_api(store, internal_service):
    _Recorder.hits.clear()
    run = run_cli(
        "query", "--store", str(store), "--query", f"SELECT * {{ SERVICE <{internal_service}> {{ ?s ?p ?o }} }}"
    )
    assert run.returncode == 2 and "SERVICE" in run.stderr
    from kg_reasoner import assess

    a = assess(ROOT / "examples" / "P01-luteal-insufficiency.json")
    with pytest.raises(Exception, match="SERVICE"):
        a.query(f"SELECT * {{ SERVICE <{internal_service}> {{ ?s ?p ?o }} }}")
    assert _Recorder.hits == []


# --- 4. browsers: no wildcard CORS, Host checked, OPTIONS answered -----------------------------------
def test_4_no_wildcard_cors_and_only_the_named_origin(endpoint):
    _, headers, _ = call(endpoint, "ASK {}", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in headers
    _, headers, _ = call(endpoint, "ASK {}", headers={"Origin": GOOD_ORIGIN})
    assert headers["Access-Control-Allow-Origin"] == GOOD_ORIGIN


def test_4_unexpected_host_headers_are_refused(endpoint):
    port = urllib.parse.urlsplit(endpoint).port
    status, _, body = call(endpoint, "ASK {}", headers={"Host": f"attacker.example:{port}"})
    assert status == 400 and "Host" in body
    for host in (f"localhost:{port}", f"127.0.0.1:{port}"):
        assert call(endpoint, "ASK {}", headers={"Host": host})[0] == 200


def test_4_options_is_answered(endpoint):
    status, headers, _ = call(
        endpoint, method="OPTIONS", headers={"Origin": GOOD_ORIGIN, "Access-Control-Request-Method": "POST"}
    )
    assert status == 204 and "POST" in headers["Allow"]
    assert headers["Access-Control-Allow-Origin"] == GOOD_ORIGIN and "POST" in headers["Access-Control-Allow-Methods"]
    status, headers, _ = call(endpoint, method="OPTIONS", headers={"Origin": "https://evil.example"})
    assert status == 204 and "Access-Control-Allow-Origin" not in headers


# --- 10. FROM is honoured ------------------------------------------------------------------------------
def _count(result_body) -> int:
    return int(json.loads(result_body)["results"]["bindings"][0]["n"]["value"])


def test_10_from_is_honoured_by_serve_and_the_protocol_overrides_it(endpoint):
    graph = "https://w3id.org/kg-reasoner/patient/P01/graph/asserted"
    other = "https://w3id.org/kg-reasoner/patient/P02/graph/asserted"
    whole = _count(call(endpoint, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")[2])
    one = _count(call(endpoint, f"SELECT (COUNT(*) AS ?n) FROM <{graph}> {{ ?s ?p ?o }}")[2])
    assert 0 < one < whole
    overridden = _count(
        call(endpoint, f"SELECT (COUNT(*) AS ?n) FROM <{graph}> {{ ?s ?p ?o }}", params={"default-graph-uri": other})[2]
    )
    assert overridden == _count(call(endpoint, f"SELECT (COUNT(*) AS ?n) FROM <{other}> {{ ?s ?p ?o }}")[2])
    status, _, body = call(endpoint, "SELECT * FROM <http://elsewhere.example/g> { ?s ?p ?o }")
    assert status == 400 and "not in this store" in body


def test_10_from_is_honoured_by_query_store(store):
    graph = "https://w3id.org/kg-reasoner/patient/P01/graph/asserted"

    def count(q):
        run = run_cli("query", "--store", str(store), "--query", q, "--format", "json")
        assert run.returncode == 0, run.stderr
        return _count(run.stdout)

    assert (
        0
        < count(f"SELECT (COUNT(*) AS ?n) FROM <{graph}> {{ ?s ?p ?o }}")
        < count("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")
    )


def test_10_rdflib_never_fetches_a_from_graph(tmp_path, internal_service):
    _Recorder.hits.clear()
    data = tmp_path / "a.ttl"
    data.write_text("<urn:a> <urn:b> <urn:c> .\n")
    run = run_cli("query", "--data", str(data), "--query", f"SELECT * FROM <{internal_service}g> {{ ?s ?p ?o }}")
    assert run.returncode == 2 and "not in the data" in run.stderr
    assert _Recorder.hits == []


# --- 2. the knowledge-base cache is never an unchecked pickle -----------------------------------------
class _Payload:
    """A pickle that runs code when loaded (what an attacker would plant)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _rebuilds(engine, monkeypatch) -> bool:
    """Whether loading the knowledge base now builds it anew (the cache file was not used)."""
    rebuilt = []
    real = engine._build_knowledge_base
    monkeypatch.setattr(engine, "_build_knowledge_base", lambda *a: rebuilt.append(1) or real(*a))
    engine.load_knowledge_base()
    return rebuilt == [1]


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch, quick_build):
    """An empty cache folder of its own (and the knowledge base "built" by ``quick_build``)."""
    engine = quick_build.engine
    folder = tmp_path / "cache"
    monkeypatch.setenv("KG_REASONER_CACHE_DIR", str(folder))
    engine.load_knowledge_base.cache_clear()
    yield engine, folder, folder / f"knowledge-base-{engine._cache_key(None, ())}.pickle"
    engine.load_knowledge_base.cache_clear()


@pytest.mark.slow  # knowledge-base rebuilds, load tests, the fuzzer, both engines
def test_2_a_planted_pickle_never_runs(fresh_cache, tmp_path):
    import pickle

    engine, folder, path = fresh_cache
    engine.load_knowledge_base()  # creates the private directory and its key
    engine.load_knowledge_base.cache_clear()
    marker = tmp_path / "owned"
    path.write_bytes(pickle.dumps(_Payload(marker)))
    assert len(engine.load_knowledge_base().closure) > 1000
    assert not marker.exists()
    path.write_bytes(b"\0" * 32 + pickle.dumps(_Payload(marker)))  # a tag of the right length, wrong value
    engine.load_knowledge_base.cache_clear()
    engine.load_knowledge_base()
    assert not marker.exists()


@pytest.mark.slow  # knowledge-base rebuilds, load tests, the fuzzer, both engines
def test_2_a_planted_valid_knowledge_base_is_refused(fresh_cache, monkeypatch):
    """A well-formed knowledge base that would change decisions, written without the directory's key."""
    import pickle

    engine, folder, path = fresh_cache
    kb = engine.load_knowledge_base()
    engine.load_knowledge_base.cache_clear()
    path.write_bytes(b"\1" * 32 + pickle.dumps(kb))
    assert _rebuilds(engine, monkeypatch)


@pytest.mark.slow  # knowledge-base rebuilds, load tests, the fuzzer, both engines
def test_2_the_cache_directory_is_private_and_a_shared_one_is_not_used(fresh_cache, monkeypatch):
    engine, folder, path = fresh_cache
    engine.load_knowledge_base()
    assert folder.stat().st_mode & 0o777 == 0o700
    assert (folder / "cache.key").stat().st_mode & 0o777 == 0o600
    assert path.stat().st_mode & 0o077 == 0
    folder.chmod(0o777)  # our own folder opened up: closed again, its files still verified
    engine.load_knowledge_base.cache_clear()
    engine.load_knowledge_base()
    assert folder.stat().st_mode & 0o777 == 0o700
    if os.geteuid() != 0:
        pytest.skip("a folder owned by someone else needs root to make")
    folder.chmod(0o777)
    os.chown(folder, 1, 1)  # someone else's open folder: never used
    engine.load_knowledge_base.cache_clear()
    assert _rebuilds(engine, monkeypatch)


@pytest.mark.slow  # knowledge-base rebuilds, load tests, the fuzzer, both engines
@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="changing a file's owner needs root")
def test_2_a_cache_file_owned_by_another_user_is_not_loaded(fresh_cache, monkeypatch):
    engine, folder, path = fresh_cache
    engine.load_knowledge_base()
    os.chown(path, 1, 1)
    engine.load_knowledge_base.cache_clear()
    assert _rebuilds(engine, monkeypatch)


# --- 3. JSON-LD: no context is ever fetched or read from elsewhere ------------------------------------
@pytest.mark.parametrize(
    "context",
    [
        {"@import": "http://127.0.0.1:1/context.jsonld", "kgr": "https://w3id.org/kg-reasoner/ontology#"},
        [{"kgr": "https://w3id.org/kg-reasoner/ontology#"}, {"@import": "/etc/passwd"}],
        {
            "kgr": "https://w3id.org/kg-reasoner/ontology#",
            "kgr:hasFinding": {"@id": "kgr:hasFinding", "@context": "file:///etc/hosts"},
        },
        "http://127.0.0.1:1/context.jsonld",
    ],
    ids=["import", "import-in-list", "scoped-context", "remote"],
)
def test_3_non_inline_json_ld_contexts_are_refused(tmp_path, context, internal_service):
    _Recorder.hits.clear()
    doc = tmp_path / "p.jsonld"
    doc.write_text(json.dumps({"@context": context, "@id": "urn:p", "@type": "kgr:Patient"}))
    run = run_cli("assess", str(doc))
    assert run.returncode == 2 and ("not inline" in run.stderr or "@import" in run.stderr), run.stderr
    assert "Traceback" not in run.stderr and _Recorder.hits == []


# --- 6. exports never carry a machine path -----------------------------------------------------------------
def test_6_provenance_names_the_source_by_an_entity_not_a_path(tmp_path):
    data = tmp_path / "deep" / "folder"
    data.mkdir(parents=True)
    patient = data / "P01.json"
    patient.write_text((ROOT / "examples" / "P01-luteal-insufficiency.json").read_text())
    run = run_cli("assess", str(patient), "--format", "trig")
    assert run.returncode == 0, run.stderr
    assert str(tmp_path) not in run.stdout
    from rdflib import Dataset
    from rdflib.namespace import PROV, RDFS

    ds = Dataset()
    ds.parse(data=run.stdout, format="trig")
    sources = [o for _, _, o, _ in ds.quads((None, PROV.hadPrimarySource, None, None))]
    assert sources and all(str(s).startswith("https://w3id.org/kg-reasoner/source/") for s in sources)
    assert {str(o) for s in sources for _, _, o, _ in ds.quads((s, RDFS.label, None, None))} == {"P01.json"}


# --- 8. -o never empties a file before the run succeeds, and never destroys an input -----------------------
def test_8_an_output_that_is_an_input_is_refused_and_the_input_kept(tmp_path):
    patient = tmp_path / "P01.json"
    text = (ROOT / "examples" / "P01-luteal-insufficiency.json").read_text()
    patient.write_text(text)
    for out in (patient, tmp_path / "result.ndjson"):
        run = run_cli("assess", str(patient) if out == patient else str(tmp_path), "-o", str(out), "--format", "ndjson")
        assert run.returncode == 2 and "is also an input" in run.stderr
    assert patient.read_text() == text


def test_8_a_failed_run_leaves_the_old_output_as_it_was(tmp_path):
    out = tmp_path / "out.ndjson"
    out.write_text("precious\n")
    run = run_cli(
        "assess",
        str(ROOT / "examples" / "P01-luteal-insufficiency.json"),
        "-o",
        str(out),
        "--reference-table",
        str(tmp_path / "missing.ttl"),
    )
    assert run.returncode == 2
    assert out.read_text() == "precious\n"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]
    run = run_cli(
        "assess", str(ROOT / "examples" / "P01-luteal-insufficiency.json"), "-o", str(out), "--format", "ndjson"
    )
    assert run.returncode == 0 and json.loads(out.read_text())["patient"] == "P01"


@pytest.mark.parametrize("target", ["/dev/full", "missing-folder/out.ndjson"])
def test_8_and_14_unwritable_outputs_are_a_clear_error(tmp_path, target):
    out = target if target.startswith("/") else str(tmp_path / target)
    if target.startswith("/") and not os.path.exists(target):
        pytest.skip(f"{target} does not exist here")
    run = run_cli("assess", str(ROOT / "examples" / "P01-luteal-insufficiency.json"), "-o", out, "--format", "ndjson")
    assert run.returncode == 2 and "cannot be written" in run.stderr and "Traceback" not in run.stderr


# --- 5. one patient's file can never write another patient's facts ----------------------------------------
TTL = """@prefix kgr: <https://w3id.org/kg-reasoner/ontology#> .
@prefix prg: <https://w3id.org/kg-reasoner/ontology/progesterone#> .
<https://w3id.org/kg-reasoner/patient/{pid}> a kgr:Patient ; kgr:patientId "{pid}" ;
    kgr:hasFinding <{record}> .
<{record}> a prg:VaginalBleeding ; kgr:presence kgr:Present ; kgr:severity prg:Light .
{extra}
"""


def _ttl(tmp_path, name, pid, record=None, extra=""):
    path = tmp_path / f"{name}.ttl"
    record = record or f"https://w3id.org/kg-reasoner/patient/{pid}/bleeding"
    path.write_text(TTL.format(pid=pid, record=record, extra=extra))
    return path


@pytest.mark.parametrize(
    "extra,what",
    [
        ("<https://w3id.org/kg-reasoner/patient/P01> kgr:hasStatus kgr:Contraindicated .", "patient this file"),
        (
            "<https://w3id.org/kg-reasoner/patient/X> kgr:hasRecord <https://w3id.org/kg-reasoner/patient/P01/m> .\n"
            "<https://w3id.org/kg-reasoner/patient/P01/m> a prg:InevitableMiscarriage ; kgr:presence kgr:Present .",
            "a node of patient P01",
        ),
        ("kgr:Indicated kgr:precedence 99 .", "ontology term"),
    ],
    ids=["patient-iri", "patient-record", "ontology-term"],
)
def test_5_a_patient_file_stating_facts_about_others_is_refused(tmp_path, extra, what):
    bad = _ttl(tmp_path, "x", "X", extra=extra)
    store = tmp_path / "store"
    run = run_cli(
        "assess",
        str(bad),
        str(ROOT / "examples" / "P01-luteal-insufficiency.json"),
        "--format",
        "csv",
        "--store",
        str(store),
    )
    assert run.returncode == 2 and what in run.stderr, run.stderr
    assert "P01,indicated" in run.stdout
    status = run_cli(
        "query",
        "--store",
        str(store),
        "--format",
        "csv",
        "--query",
        KGR + "SELECT ?p ?s { ?p kgr:hasStatus/kgr:code ?s } ORDER BY ?p",
    )
    assert status.stdout.count("patient/P01,") == 1 and "contraindicated" not in status.stdout


def test_5_a_node_shared_by_two_patients_is_refused_across_a_run_and_the_store(tmp_path):
    shared = "urn:lab:specimen-1"
    a, b = _ttl(tmp_path, "a", "A", record=shared), _ttl(tmp_path, "b", "B", record=shared)
    run = run_cli("assess", str(a), str(b), "--format", "csv")
    assert run.returncode == 2 and "already describes" in run.stderr and "A,insufficient_data" in run.stdout
    store = tmp_path / "store"
    assert run_cli("assess", str(a), "--format", "csv", "--store", str(store)).returncode == 0
    run = run_cli("assess", str(b), "--format", "csv", "--store", str(store))
    assert run.returncode == 2 and "the store holds for another patient" in run.stderr


# --- 12. exports say what the store says: no undescribed blank nodes --------------------------------------
def test_12_exports_have_no_links_to_undescribed_blank_nodes():
    from rdflib import BNode, Dataset

    run = run_cli("assess", *map(str, VIGNETTES), "--format", "trig")
    assert run.returncode in (0, 1), run.stderr
    ds = Dataset()
    ds.parse(data=run.stdout, format="trig")
    described = {s for s, _, _, _ in ds.quads((None, None, None, None))}
    dangling = [
        (s, p, o) for s, p, o, _ in ds.quads((None, None, None, None)) if isinstance(o, BNode) and o not in described
    ]
    assert dangling == []


# --- 11. numbers: one numeric path, and values the engines cannot compare are named --------------------------
PRECISE = (
    '{"id": "%s", "progesterone": [{"value": 9.9999999999999999, "unit": "ng/mL", "reference_low": 10}], '
    '"vaginal_bleeding": "light", "ultrasound": "normal"}'
)


def test_11_json_and_ndjson_read_numbers_alike(tmp_path):
    """9.9999999999999999 is below 10 as a decimal and equal to it as a float: both files read decimals."""
    (tmp_path / "p.json").write_text(PRECISE % "PREC")
    (tmp_path / "p.ndjson").write_text(PRECISE % "PRECN" + "\n")
    run = run_cli("assess", str(tmp_path / "p.json"), str(tmp_path / "p.ndjson"), "--format", "csv")
    assert run.returncode == 0, run.stderr
    assert "PREC,indicated" in run.stdout and "PRECN,indicated" in run.stdout


@pytest.mark.slow  # knowledge-base rebuilds, load tests, the fuzzer, both engines
@pytest.mark.parametrize("engine", ["fast", "reference"])
@pytest.mark.parametrize("value", ["1e30", "0.00000000000000000001"], ids=["huge", "too-many-decimals"])
def test_11_values_beyond_exact_comparison_are_a_named_problem_in_both_engines(tmp_path, engine, value):
    (tmp_path / "p.json").write_text(
        '{"id": "BIG", "progesterone": [{"value": ' + value + ', "unit": "ng/mL", "reference_low": 10}]}'
    )
    run = run_cli("assess", str(tmp_path / "p.json"), "--engine", engine, "--format", "csv")
    assert run.returncode == 2 and "/progesterone/0/value" in run.stderr and "exactly" in run.stderr


# --- 14. inputs that used to stop the whole run --------------------------------------------------------------
P01 = ROOT / "examples" / "P01-luteal-insufficiency.json"
BAD_FILES = {
    "nan.json": '{"id": "N", "gestational_age_weeks": NaN}',
    "infinity.ndjson": '{"id": "N1", "progesterone": [{"value": Infinity, "unit": "ng/mL"}]}\n{"id": "N2"}\n',
    "fhir-value-true.json": json.dumps(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {"resource": {"resourceType": "Patient", "id": "F"}},
                {
                    "resource": {
                        "resourceType": "Observation",
                        "id": "o",
                        "status": "final",
                        "subject": {"reference": "Patient/F"},
                        "code": {"coding": [{"system": "http://loinc.org", "code": "2839-9"}]},
                        "valueQuantity": {"value": True, "unit": "ng/mL"},
                    }
                },
            ],
        }
    ),
    "fhir-low-x.json": json.dumps(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {"resource": {"resourceType": "Patient", "id": "F"}},
                {
                    "resource": {
                        "resourceType": "Observation",
                        "id": "o",
                        "status": "final",
                        "subject": {"reference": "Patient/F"},
                        "code": {"coding": [{"system": "http://loinc.org", "code": "2839-9"}]},
                        "valueQuantity": {"value": 5, "unit": "ng/mL"},
                        "referenceRange": [{"low": {"value": "x", "unit": "ng/mL"}}],
                    }
                },
            ],
        }
    ),
    "deep.json": "[" * 100_000 + "]" * 100_000,
    "surrogate.json": '{"id": "A\\ud800"}',
    "subject-string.json": json.dumps(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {"resource": {"resourceType": "Patient", "id": "F"}},
                {
                    "resource": {
                        "resourceType": "Condition",
                        "id": "c",
                        "subject": "Patient/F",
                        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "59363009"}]},
                    }
                },
            ],
        }
    ),
    "iri-space.ttl": "@prefix kgr: <https://w3id.org/kg-reasoner/ontology#> .\n"
    '<https://w3id.org/kg-reasoner/patient/A\\u0020B> a kgr:Patient ; kgr:patientId "A B" .\n',
    "ill-typed.ttl": "@prefix kgr: <https://w3id.org/kg-reasoner/ontology#> .\n"
    "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
    '<https://w3id.org/kg-reasoner/patient/A> a kgr:Patient ; kgr:patientId "A" ;\n'
    '    kgr:gestationalAgeWeeks "seven"^^xsd:decimal .\n',
}


@pytest.mark.parametrize("name", BAD_FILES)
def test_14_a_bad_input_is_named_and_the_run_goes_on(tmp_path, name):
    bad = tmp_path / name
    bad.write_text(BAD_FILES[name], encoding="utf-8")
    run = run_cli("assess", str(bad), str(P01), "--format", "csv")
    assert run.returncode in (1, 2), run.stderr
    assert "Traceback" not in run.stderr and "P01,indicated" in run.stdout
    assert name in run.stderr or "not assessed" in run.stderr
    assert len(run.stderr.splitlines()) <= 8  # one clear line, not a library's log


@pytest.mark.parametrize(
    "query,code", [("ASK {}", 0), ("SELECT * {" + "{" * 20_000 + "}" * 20_000 + "}", 2)], ids=["ask", "deep-nesting"]
)
def test_14_queries_that_used_to_crash(store, query, code):
    run = run_cli("query", "--store", str(store), "--query", query)
    assert run.returncode == code and "Traceback" not in run.stderr and run.returncode >= 0


# --- 9. availability of serve under load, slow clients and bad requests -------------------------------------
import socket  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def _raw(endpoint, data: bytes) -> str:
    host, port = urllib.parse.urlsplit(endpoint).hostname, urllib.parse.urlsplit(endpoint).port
    with socket.create_connection((host, port), timeout=20) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks).decode("latin-1")


@pytest.fixture(scope="module")
def busy_endpoint(store):
    with serving(store, "--timeout", "3", "--max-queries", "2") as served:
        yield served


@pytest.mark.slow  # knowledge-base rebuilds, load tests, the fuzzer, both engines
def test_9_fifty_parallel_requests_are_each_answered(busy_endpoint):
    url, _ = busy_endpoint
    started = time.monotonic()
    with ThreadPoolExecutor(50) as pool:
        statuses = list(pool.map(lambda i: call(url, "ASK { ?s ?p ?o }")[0], range(50)))
    elapsed = time.monotonic() - started
    assert set(statuses) <= {200, 503} and statuses.count(200) >= 2, statuses
    print(f"50 parallel requests: {statuses.count(200)} answered 200, {statuses.count(503)} 503, {elapsed:.1f} s")


@pytest.mark.slow  # knowledge-base rebuilds, load tests, the fuzzer, both engines
def test_9_two_hundred_slow_connections_do_not_block_a_query(busy_endpoint):
    url, _ = busy_endpoint
    host, port = "127.0.0.1", urllib.parse.urlsplit(url).port
    slow = []
    for _ in range(200):
        s = socket.create_connection((host, port), timeout=5)
        s.sendall(b"GET /sparql?query=ASK%20%7B%7D HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finishes its headers
        slow.append(s)
    try:
        started = time.monotonic()
        status, _, _ = call(url, "ASK {}")
        took = time.monotonic() - started
        assert status == 200 and took < 10, took
        print(f"with 200 slow connections open, a query answered in {took:.2f} s")
    finally:
        for s in slow:
            s.close()


@pytest.mark.parametrize(
    "request_bytes,status",
    [
        (
            b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
            b"Content-Length: 4\r\nConnection: close\r\n\r\n\xff\xfe\xfd\xfc",
            "400",
        ),
        (
            b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
            b"Content-Length: many\r\nConnection: close\r\n\r\nASK {}",
            "400",
        ),
        (
            b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
            b"Content-Length: 99999999\r\nConnection: close\r\n\r\nASK {}",
            "413",
        ),
    ],
    ids=["not-utf8", "bad-length", "too-large"],
)
def test_9_bad_requests_get_an_answer_not_a_dropped_connection(busy_endpoint, request_bytes, status):
    answer = _raw(busy_endpoint[0], request_bytes)
    assert answer.split(" ")[1] == status, answer[:200]


def test_9_a_result_over_the_byte_limit_is_refused(store):
    with serving(store, "--max-bytes", "2000", "--max-rows", "100000") as (url, _):
        status, _, body = call(url, "SELECT * { ?s ?p ?o } LIMIT 500")
        assert status == 413 and "bytes" in body


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = set(), [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.add(c)
            todo.append(c)
    return out


@pytest.mark.slow  # knowledge-base rebuilds, load tests, the fuzzer, both engines
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_9_query_processes_die_with_the_server(store, how):
    import signal

    def slow_query():
        # the server is killed under it: its connection is cut, as this test means (no thread warning)
        with contextlib.suppress(OSError, http.client.HTTPException):
            call(url, SLOW)

    with serving(store, "--timeout", "60") as (url, proc):
        threading.Thread(target=slow_query, daemon=True).start()
        time.sleep(3)  # the slow query is running in its own process
        family = _descendants(proc.pid)
        assert len(family) >= 2, family  # the forkserver and the query process
        proc.send_signal(getattr(signal, how))
        proc.wait(timeout=15)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(_running(p) for p in family):
            time.sleep(0.2)
        assert [p for p in family if _running(p)] == []


def _running(pid: int) -> bool:
    """Whether a process exists and is not a zombie (a zombie has ended; only its parent's reaping is due)."""
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


# --- 13. protocol conformance: base IRI, content negotiation, service description ------------------------------
def test_13_a_plain_get_returns_a_service_description(endpoint):
    status, headers, body = call(endpoint)
    assert status == 200 and headers["Content-Type"].startswith("text/turtle")
    from rdflib import Graph, URIRef
    from rdflib.namespace import RDF

    sd = Graph().parse(data=body, format="turtle")
    assert (URIRef(endpoint), RDF.type, URIRef("http://www.w3.org/ns/sparql-service-description#Service")) in sd


def test_13_relative_iris_resolve_against_the_endpoint(endpoint):
    status, _, body = call(endpoint, "SELECT ?x { BIND (<relative> AS ?x) }")
    assert status == 200, body
    assert json.loads(body)["results"]["bindings"][0]["x"]["value"].startswith("http://127.0.0.1:")


@pytest.mark.parametrize(
    "accept,expected",
    [
        ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
        ("text/*", "text/csv"),
        ("*/*", "application/sparql-results+json"),
        ("image/png, */*;q=0.1", "application/sparql-results+json"),
        ("application/sparql-results+json;q=0, text/tab-separated-values", "text/tab-separated-values"),
    ],
    ids=["q-values", "text-star", "star-star", "fallback", "q-zero"],
)
def test_13_content_negotiation_honours_q_values_and_wildcards(endpoint, accept, expected):
    status, headers, _ = call(endpoint, "SELECT ?s { ?s ?p ?o } LIMIT 1", headers={"Accept": accept})
    assert status == 200 and headers["Content-Type"].split(";")[0] == expected


@pytest.mark.parametrize("fmt", ["XML", "N3", "TURTLE", "JSONLD"])
def test_13_sparqlwrapper_construct_in_every_format(endpoint, fmt):
    import SPARQLWrapper as sw

    client = sw.SPARQLWrapper(endpoint)
    client.setQuery("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 3")
    client.setReturnFormat(getattr(sw, fmt))
    result = client.query()
    assert result.response.status == 200
    assert len(result.convert()) >= 1


# --- 7. duplicate patient ids: both kept, named, resumable, stored -------------------------------------------
def test_7_duplicate_ids_are_both_assessed_named_stored_and_resumed(tmp_path):
    p01 = json.loads((ROOT / "examples" / "P01-luteal-insufficiency.json").read_text())
    other = {"id": "P01", "vaginal_bleeding": "absent", "abdominal_pain": "absent"}
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.ndjson").write_text(json.dumps(p01) + "\n" + json.dumps(other) + "\n")
    (tmp_path / "in" / "b.json").write_text(json.dumps(p01))
    out, store = tmp_path / "out.ndjson", tmp_path / "store"
    run = run_cli("assess", str(tmp_path / "in"), "--format", "ndjson", "-o", str(out), "--store", str(store))
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["patient"] for r in rows] == ["P01"] * 3 and run.returncode == 0, run.stderr
    assert sum(any("was also read from" in p["message"] for p in r["data_problems"]) for r in rows) == 2
    assert sorted(r["status"] for r in rows) == ["indicated", "indicated", "not_indicated"]
    count = run_cli(
        "query",
        "--store",
        str(store),
        "--format",
        "csv",
        "--query",
        KGR + 'SELECT (COUNT(DISTINCT ?p) AS ?n) { ?p kgr:patientId "P01" ; kgr:hasStatus ?s }',
    )
    assert count.stdout.splitlines()[-1].strip() == "3"
    # an interrupted run loses its last outcome: --resume assesses exactly that one again
    out.write_text("\n".join(out.read_text().splitlines()[:2]) + "\n")
    run = run_cli("assess", str(tmp_path / "in"), "--format", "ndjson", "-o", str(out), "--resume")
    assert run.returncode == 0 and "2 skipped" in run.stderr
    assert len(out.read_text().splitlines()) == 3


def test_7_a_repeated_id_is_named_by_its_source_and_its_read_count(tmp_path):
    """The IRI a repeat is assessed under is stable (resume and the store key on it): the patient's IRI,
    "~", and the first ten hex digits of SHA-256 over "<its source>#<the how-many-th read>"; the warning
    names the first source. A different patient between the repeats changes nothing."""
    import hashlib

    from kg_reasoner import Reasoner

    lines = [{"id": "P9", "vaginal_bleeding": "absent"}, {"id": "Q1"}, {"id": "P9"}, {"id": "P9"}]
    path = tmp_path / "c.ndjson"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    read = list(Reasoner().read_many([path]))
    base = str(read[0].iri)
    assert [str(pi.iri) for pi in read[:2]] == [base, base.replace("P9", "Q1")]
    for pi, (line, times) in zip(read[2:], [(3, 2), (4, 3)]):
        digest = hashlib.sha256(f"{path}:{line}#{times}".encode()).hexdigest()[:10]
        assert str(pi.iri) == f"{base}~{digest}" and pi.source == f"{path}:{line}"
        assert any(f"was also read from {path}:1" in p["message"] for p in pi.data_problems)


# --- the fuzzer: seeded mutations of every reader's input, one run --------------------------------------------
KINDS = [None, True, -1, 1e308, "x", "", [], {}, [None], {"a": []}, "2026-13-40T99:00:00Z", "\u202e", 10**40]


def _mutate(obj, rng):
    """A copy of a JSON value with one element somewhere replaced by a value of another kind."""
    obj = json.loads(json.dumps(obj, default=float))
    node, path = obj, []
    while isinstance(node, (dict, list)) and node and (not path or rng.random() < 0.6):
        key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
        path.append((node, key))
        node = node[key]
    if path:
        parent, key = path[-1]
        parent[key] = rng.choice(KINDS)
    return obj


@pytest.mark.slow  # knowledge-base rebuilds, load tests, the fuzzer, both engines
def test_fuzzed_inputs_of_every_reader_never_stop_the_run(tmp_path, internal_service):
    import random

    from kg_reasoner.testing.synthetic_fhir import bundle, summary_to_resources

    _Recorder.hits.clear()
    rng = random.Random(12)
    cases = [json.loads(p.read_text()) for p in VIGNETTES]
    folder = tmp_path / "fuzz"
    folder.mkdir()
    for i in range(30):
        case = rng.choice(cases)
        (folder / f"summary-{i}.json").write_text(json.dumps(_mutate(dict(case["patient"], id=f"S{i}"), rng)))
        fhir = bundle(summary_to_resources(dict(case["patient"], id=f"F{i}"), i))
        (folder / f"bundle-{i}.json").write_text(json.dumps(_mutate(fhir, rng)))
    lines = [json.dumps(_mutate(dict(rng.choice(cases)["patient"], id=f"N{i}"), rng)) for i in range(30)]
    lines[7] = lines[7][:20]  # a truncated line
    (folder / "summaries.ndjson").write_text("\n".join(lines) + "\n")
    ttl = TTL.format(pid="T", record="https://w3id.org/kg-reasoner/patient/T/b", extra="")
    for i in range(15):
        tokens = ttl.split(" ")
        j = rng.randrange(len(tokens))
        tokens[j] = rng.choice(
            [
                "",
                "<http://127.0.0.1:1/x>",
                '"x"^^<http://www.w3.org/2001/XMLSchema#decimal>',
                ".",
                "@prefix",
                "<urn:\\u0020>",
                tokens[j] * 2,
            ]
        )
        (folder / f"turtle-{i}.ttl").write_text(" ".join(tokens).replace('"T"', f'"T{i}"'))
    (folder / "jsonld.jsonld").write_text(json.dumps({"@context": [{"@import": internal_service}], "@id": "urn:x"}))
    (folder / "P01.json").write_text((ROOT / "examples" / "P01-luteal-insufficiency.json").read_text())
    run = run_cli("assess", str(folder), "--format", "csv")
    assert run.returncode in (0, 1, 2)
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert "P01,indicated" in run.stdout
    said = run.stdout + run.stderr  # nothing is lost: each input assessed or named
    for name in (
        [f"summary-{i}.json" for i in range(30)]
        + [f"bundle-{i}.json" for i in range(30)]
        + [f"turtle-{i}.ttl" for i in range(15)]
        + ["jsonld.jsonld"]
    ):
        assert name in said, name
    for i in range(30):
        assert (
            f"N{i}," in run.stdout
            or f"patient N{i}" in run.stderr
            or f"summaries.ndjson:{i + 1}" in run.stderr
            or f"line {i + 1} " in run.stderr
        ), f"N{i}"
    assert _Recorder.hits == []


def test_9_a_full_queue_answers_503(store):
    with serving(store, "--timeout", "4", "--max-queries", "1", "--queue-wait", "0.5") as (url, _):
        with ThreadPoolExecutor(3) as pool:
            answers = list(pool.map(lambda i: call(url, SLOW), range(3)))
        statuses = sorted(a[0] for a in answers)
        assert 503 in statuses and any("queue" in a[2] for a in answers if a[0] == 503), statuses


def test_1_unicode_escapes_cannot_hide_a_service_clause(store, internal_service):
    """rdflib expands \\u escapes before parsing, pyoxigraph does not: such a query is refused outright."""
    _Recorder.hits.clear()
    q = 'SELECT * WHERE { ?a ?b "\\u0022" . SERVICE SILENT <' + internal_service + '> { ?s ?p ?o } ?c ?d "\\u0022" }'
    run = run_cli("query", "--store", str(store), "--query", q)
    assert run.returncode == 2 and "escapes" in run.stderr
    assert _Recorder.hits == []


def test_5_a_bare_patient_iri_described_by_another_file_is_refused(tmp_path):
    other = (
        "<https://w3id.org/kg-reasoner/patient/X> <https://w3id.org/kg-reasoner/ontology#hasRecord> "
        "<https://w3id.org/kg-reasoner/patient/P2> .\n<https://w3id.org/kg-reasoner/patient/P2> "
        "<https://w3id.org/kg-reasoner/ontology#gestationalAgeWeeks> 30.0 ."
    )
    a = _ttl(tmp_path, "a", "X", extra=other)
    b = _ttl(tmp_path, "b", "P2")
    run = run_cli("assess", str(a), str(b), "--format", "csv")
    assert run.returncode == 2 and "already describes" in run.stderr
    assert run.stdout.count("\nX,") + run.stdout.count("\nP2,") == 1


def test_7_two_ids_naming_one_patient_iri_are_kept_apart(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps({"id": "P1", "conception": "art"}))
    q = _ttl(tmp_path, "b", "P1").read_text().replace('kgr:patientId "P1"', 'kgr:patientId "Q"')
    (tmp_path / "b.ttl").write_text(q)
    run = run_cli("assess", str(tmp_path / "a.json"), str(tmp_path / "b.ttl"), "--format", "ndjson")
    rows = [json.loads(line) for line in run.stdout.splitlines()]
    assert sorted(r["patient"] for r in rows) == ["P1", "Q"]
    assert any("was also read from" in p["message"] for r in rows for p in r["data_problems"])
