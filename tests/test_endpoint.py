"""The read-only SPARQL 1.1 endpoint: protocol (GET, POST form, POST body), result formats by
content negotiation, refusals, limits, and real clients (SPARQLWrapper, rdflib's SPARQLStore).
The test starts ``kg-reasoner serve`` itself and stops it."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from conftest import VIGNETTES, run_cli, serving
from rdflib import Graph

KGR = "PREFIX kgr: <https://w3id.org/kg-reasoner/ontology#>\n"
STATUS_COUNTS = KGR + "SELECT ?status (COUNT(?p) AS ?n) WHERE { ?p kgr:hasStatus/kgr:code ?status } GROUP BY ?status"
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    folder = tmp_path_factory.mktemp("endpoint")
    store = folder / "store"
    run = run_cli("assess", *map(str, VIGNETTES), "--format", "csv", "--store", str(store), "--quiet")
    assert run.returncode in (0, 1), run.stderr
    with serving(store, "--timeout", "4", "--max-rows", "50") as (url, _):
        yield url


def request(
    url: str,
    *,
    query: str | None = None,
    method: str = "GET",
    accept: str | None = None,
    body: bytes | None = None,
    content_type: str | None = None,
    params: dict | None = None,
):
    params = dict(params or {})
    if query is not None and method == "GET":
        params["query"] = query
    if params:
        url += "?" + urllib.parse.urlencode(params, doseq=True)
    if query is not None and method == "POST" and body is None:
        body = urllib.parse.urlencode({"query": query}).encode()
        content_type = "application/x-www-form-urlencoded"
    req = urllib.request.Request(url, data=body, method=method)
    if accept:
        req.add_header("Accept", accept)
    if content_type:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.headers.get("Content-Type"), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type"), exc.read().decode()


def test_get_select_json(endpoint):
    status, ctype, body = request(endpoint, query=STATUS_COUNTS)
    assert status == 200 and ctype == "application/sparql-results+json"
    counts = {b["status"]["value"]: int(b["n"]["value"]) for b in json.loads(body)["results"]["bindings"]}
    assert sum(counts.values()) == len(VIGNETTES) and counts["indicated"] >= 1


def test_post_form_and_direct_body_agree(endpoint):
    form = request(endpoint, query=STATUS_COUNTS, method="POST")
    direct = request(endpoint, method="POST", body=STATUS_COUNTS.encode(), content_type="application/sparql-query")
    assert form[0] == direct[0] == 200
    assert json.loads(form[2]) == json.loads(direct[2])


@pytest.mark.parametrize(
    "accept,ctype,check",
    [
        ("application/sparql-results+xml", "application/sparql-results+xml", lambda b: "<sparql" in b),
        ("text/csv", "text/csv", lambda b: b.splitlines()[0] == "status,n"),
        ("text/tab-separated-values", "text/tab-separated-values", lambda b: b.splitlines()[0] == "?status\t?n"),
        ("application/json", "application/json", lambda b: "results" in json.loads(b)),
    ],
    ids=["xml", "csv", "tsv", "json"],
)
def test_select_formats_by_content_negotiation(endpoint, accept, ctype, check):
    status, got, body = request(endpoint, query=STATUS_COUNTS, accept=accept)
    assert status == 200 and got == ctype and check(body)


@pytest.mark.parametrize(
    "accept,ctype",
    [("text/turtle", "text/turtle"), ("application/ld+json", "application/ld+json")],
    ids=["turtle", "json-ld"],
)
def test_construct_as_turtle_and_jsonld(endpoint, accept, ctype):
    q = KGR + "CONSTRUCT { ?p kgr:hasStatus ?s } WHERE { ?p kgr:hasStatus ?s }"
    status, got, body = request(endpoint, query=q, accept=accept)
    assert status == 200 and got == ctype
    g = Graph().parse(data=body, format="turtle" if accept == "text/turtle" else "json-ld")
    assert len(g) == len(VIGNETTES)


def test_ask(endpoint):
    status, _, body = request(endpoint, query=KGR + "ASK { ?p a kgr:Patient }")
    assert status == 200 and json.loads(body)["boolean"] is True


def test_html_page_for_people(endpoint):
    status, ctype, body = request(endpoint.rsplit("/", 1)[0] + "/")
    assert status == 200 and ctype.startswith("text/html") and "<textarea" in body


@pytest.mark.parametrize(
    "kwargs,code,message",
    [
        (
            {
                "method": "POST",
                "body": b"update=DELETE+WHERE+%7B%3Fs+%3Fp+%3Fo%7D",
                "content_type": "application/x-www-form-urlencoded",
            },
            403,
            "read-only",
        ),
        (
            {"method": "POST", "body": b"DELETE WHERE { ?s ?p ?o }", "content_type": "application/sparql-update"},
            403,
            "read-only",
        ),
        ({"query": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}, 403, "read-only"),
        ({"query": "LOAD <http://example.org/data.ttl>"}, 403, "read-only"),
        ({"query": "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"}, 403, "SERVICE"),
        ({"query": "SELECT * FROM <http://example.org/other> WHERE { ?s ?p ?o }"}, 400, "not in this store"),
        (
            {"query": "SELECT * FROM NAMED <http://example.org/other> WHERE { GRAPH ?g { ?s ?p ?o } }"},
            400,
            "not in this store",
        ),
        (
            {"query": "SELECT * WHERE { ?s ?p ?o }", "params": {"default-graph-uri": "http://example.org/g"}},
            400,
            "not in this store",
        ),
        ({"query": "SELECT * WHERE { ?s ?p "}, 400, "not valid SPARQL"),
        ({"query": "SELECT * WHERE { ?s ?p ?o }"}, 413, "more than 50"),
        (
            {"method": "POST", "body": b"", "content_type": "application/x-www-form-urlencoded"},
            400,
            "exactly one query",
        ),
        ({"method": "PUT", "body": b"x", "content_type": "text/turtle"}, 405, "read-only"),
        ({"query": STATUS_COUNTS, "accept": "image/png"}, 406, "cannot answer"),
    ],
    ids=[
        "update-form",
        "update-body",
        "insert",
        "load",
        "service",
        "from",
        "from-named",
        "graph-param",
        "malformed",
        "too-many-rows",
        "no-query",
        "put",
        "unacceptable",
    ],
)
def test_refusals_are_clear_4xx(endpoint, kwargs, code, message):
    status, ctype, body = request(endpoint, **kwargs)
    assert status == code, body
    assert message in body


def test_from_a_graph_of_the_store_is_allowed(endpoint):
    q = "SELECT (COUNT(*) AS ?n) FROM <https://w3id.org/kg-reasoner/graph/ontology> WHERE { ?s ?p ?o }"
    status, _, body = request(endpoint, query=q)
    assert status == 200 and int(json.loads(body)["results"]["bindings"][0]["n"]["value"]) > 1000


def test_slow_query_is_stopped_and_does_not_block_others(endpoint):
    slow: dict = {}

    def run_slow():
        slow["result"] = request(endpoint, query=SLOW)
        slow["done"] = time.monotonic()

    t = threading.Thread(target=run_slow)
    t.start()
    time.sleep(0.5)
    status, _, _ = request(endpoint, query=STATUS_COUNTS)
    fast_done = time.monotonic()
    t.join()
    assert status == 200 and fast_done < slow["done"]  # answered while the slow query was running
    assert slow["result"][0] == 503 and "time limit of 4 s" in slow["result"][2]


def test_sparqlwrapper_client(endpoint):
    from SPARQLWrapper import JSON, SPARQLWrapper

    client = SPARQLWrapper(endpoint)
    client.setQuery(STATUS_COUNTS)
    client.setReturnFormat(JSON)
    data = client.query().convert()
    assert sum(int(b["n"]["value"]) for b in data["results"]["bindings"]) == len(VIGNETTES)


def test_rdflib_sparqlstore_client(endpoint):
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    g = Graph(store=SPARQLStore(endpoint, returnFormat="json"))
    rows = list(g.query(KGR + "SELECT ?id WHERE { ?p kgr:patientId ?id } ORDER BY ?id"))
    assert [str(r[0]) for r in rows][:2] == ["P01", "P02"]
