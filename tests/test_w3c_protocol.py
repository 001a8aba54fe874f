"""The W3C SPARQL 1.1 Protocol test suite, run against ``kg-reasoner serve``.

The manifest and its data are W3C material copied unchanged from w3c/rdf-tests
(``sparql/sparql11/protocol/``, 3-clause BSD or W3C Test Suite License; see
tests/data/w3c-sparql-protocol/SOURCES.md). Every request of the manifest is sent as it is written
(method, path, query string, headers, body in its character encoding) and checked against the
expected status class, boolean and result format. The endpoint is read-only: the update tests that
expect success are checked to be refused (4xx) instead, and every bad_update test applies as written.
"""

from __future__ import annotations

import http.client
import json
import urllib.parse
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import ROOT, serving
from rdflib import Graph, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS

SUITE = ROOT / "tests" / "data" / "w3c-sparql-protocol"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
DATA0 = "http://kasei.us/2009/09/sparql/data/data0.rdf"


def _manifest() -> tuple[Graph, list[URIRef]]:
    g = Graph().parse(SUITE / "manifest.ttl", format="turtle", publicID=(SUITE / "manifest.ttl").as_uri())
    manifest = next(g.subjects(RDF.type, MF.Manifest))
    return g, list(Collection(g, g.value(manifest, MF.entries)))


GRAPH, TESTS = _manifest()


def _name(test: URIRef) -> str:
    return str(test).rsplit("#", 1)[-1]


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    """A store holding the suite's graphs (data1-3 from their files, data0 empty), served read-only."""
    path = tmp_path_factory.mktemp("w3c") / "store"
    store = ox.Store(str(path))
    store.add_graph(ox.NamedNode(DATA0))
    for data in sorted(set(GRAPH.objects(None, UT.graphData))):
        name = ox.NamedNode(str(GRAPH.value(data, RDFS.label)))
        file = Path(str(GRAPH.value(data, UT.graph)).replace("file://", ""))
        store.add_graph(name)
        store.extend(
            ox.Quad(t.subject, t.predicate, t.object, name)
            for t in ox.parse(file.read_bytes(), format=ox.RdfFormat.N_TRIPLES)
        )
    store.flush()
    del store
    with serving(path, "--allow-host", "www.example") as (url, _):
        yield urllib.parse.urlsplit(url).port


def _send(port: int, request) -> tuple[int, str, bytes]:
    method = str(GRAPH.value(request, HT.methodName))
    path = str(GRAPH.value(request, HT.absolutePath)).replace("/sparql/", "/sparql", 1)
    headers = {"Host": "www.example"}
    if GRAPH.value(request, HT.headers) is not None:
        for h in Collection(GRAPH, GRAPH.value(request, HT.headers)):
            headers[str(GRAPH.value(h, HT.fieldName))] = str(GRAPH.value(h, HT.fieldValue))
    body = GRAPH.value(request, HT.body)
    data = None
    if body is not None:
        encoding = str(GRAPH.value(body, CNT.characterEncoding) or "UTF-8")
        data = str(GRAPH.value(body, CNT.chars)).encode(encoding)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, body=data, headers=headers)
    resp = conn.getresponse()
    out = resp.status, resp.getheader("Content-Type") or "", resp.read()
    conn.close()
    return out


FORMATS = {
    "boolean": ("application/sparql-results+json", "application/sparql-results+xml"),
    "tabular": (
        "application/sparql-results+json",
        "application/sparql-results+xml",
        "text/csv",
        "text/tab-separated-values",
    ),
    "RDF": ("text/turtle", "application/rdf+xml", "application/n-triples", "application/ld+json"),
}


@pytest.mark.parametrize("test", TESTS, ids=_name)
def test_w3c_sparql11_protocol(endpoint, test):
    name = _name(test)
    read_only_refusal = name.startswith("update_")  # a read-only endpoint refuses what these expect to succeed
    for request in Collection(GRAPH, GRAPH.value(GRAPH.value(test, MF.action), HT.requests)):
        status, ctype, body = _send(endpoint, request)
        if read_only_refusal:
            assert 400 <= status < 500, (name, status, body)
            return  # the update was refused; its check query has nothing to check
        resp = GRAPH.value(request, HT.resp)
        expected = {str(s).rsplit("StatusCode", 1)[-1] for s in GRAPH.objects(resp, MF.expectedStatus)}
        assert f"{status // 100}xx" in expected, (name, status, body[:300])
        fmt = GRAPH.value(resp, MF.expectedFormat)
        if fmt is not None:
            assert ctype.split(";")[0] in FORMATS[str(fmt)], (name, ctype)
        boolean = GRAPH.value(resp, MF.expectedBoolean)
        if boolean is not None:
            assert json.loads(body)["boolean"] is boolean.toPython(), (name, body)
