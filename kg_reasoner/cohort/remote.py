"""A cohort store on a standard SPARQL server: each patient's named graphs written with the SPARQL 1.1
Graph Store HTTP Protocol, queries through the SPARQL 1.1 Protocol (as URL-encoded POST, which every
server takes). Oxigraph server, Virtuoso, Apache Jena Fuseki, GraphDB and QLever speak both; Oxigraph
and Virtuoso 7 are tested (tests/test_remote_store.py).

    store = CohortStore.open("http://localhost:7878", read_only=False)   # Oxigraph server's layout
    store = CohortStore.open("http://host:3030/cohort", read_only=False,
                             query_endpoint="http://host:3030/cohort/sparql",
                             graph_store="http://host:3030/cohort/data")  # Fuseki's
    store = CohortStore.open("http://host:8890", read_only=False,
                             query_endpoint="http://host:8890/sparql",
                             graph_store="http://host:8890/sparql-graph-crud")  # Virtuoso's

The server must answer a query without FROM over the union of its named graphs (the layout of the local
store: one patient's graphs per patient, the ontology in its own graph). Oxigraph is asked to
(its ``union-default-graph`` request parameter, which other servers ignore); for Fuseki set
``tdb2:unionDefaultGraph true``. Opening a store that holds the ontology checks this and says so when
the server does not.

Values reach a query as a ``VALUES`` block placed first in its WHERE clause (the SPARQL 1.1 Protocol has
no other way to send bindings); each term is written in N-Triples syntax by pyoxigraph (IRIs checked),
never formatted in by hand, and the text actually sent is checked again (no update, no SERVICE). Blank
nodes become skolem IRIs under the patient's IRI. Nothing else is ever sent or fetched: only the two
endpoints given. Requests go over one kept-alive connection per endpoint host (a new connection per
request costs a loopback Oxigraph server 3.5 ms a PUT, against 1.2 ms); a redirect is an error, never
followed (the store is where the URL says). Where a proxy is configured (``http_proxy``...), urllib
sends each request through it instead.
"""

from __future__ import annotations

import http.client
import os
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from typing import Any

import pyoxigraph as ox
from rdflib import Graph, URIRef

from kg_reasoner._version import __version__
from kg_reasoner.cohort.layout import (
    LOADED,
    META_GRAPH,
    ONTOLOGY_GRAPH,
    QueryError,
    StoreServerError,
    StoreWriting,
    ontology_key,
    patient_of,
    query_result,
    with_values,
)
from kg_reasoner.errors import InputError
from kg_reasoner.explain.guard import QueryPlan, QueryRefused, inspect_query
from kg_reasoner.explain.results import QueryResult, bind_values, package_prefixes
from kg_reasoner.reason.terms import from_ox, to_ox

#: what a kept-alive connection raises when the server has closed it (sent again once); never a timeout
_DROPPED = (
    http.client.RemoteDisconnected,
    http.client.CannotSendRequest,
    http.client.ResponseNotReady,
    ConnectionResetError,
    ConnectionAbortedError,
    BrokenPipeError,
)


class _Refuse(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 3xx answer is returned as it is (an error naming its Location)


_NO_REDIRECTS = urllib.request.build_opener(_Refuse)


def is_url(location: object) -> bool:
    return isinstance(location, str) and location.startswith(("http://", "https://"))


class RemoteStore(StoreWriting):
    """``CohortStore`` on a SPARQL 1.1 server (see the module's documentation)."""

    def __init__(
        self,
        url: str,
        read_only: bool = True,
        *,
        query_endpoint: str | None = None,
        graph_store: str | None = None,
        timeout: float = 60.0,
    ):
        self.url = url.rstrip("/")
        self.path = self.url  # type: ignore[assignment]  # named in messages, as the local store's folder is
        self.read_only = read_only
        self.query_endpoint = query_endpoint or f"{self.url}/query"
        self.graph_store = graph_store or f"{self.url}/store"
        self.timeout = timeout
        self.closed = False
        #: (scheme, host:port) -> the kept-alive connection to it
        self._connections: dict[tuple, http.client.HTTPConnection] = {}
        try:
            self._check_union()
        except BaseException:
            self.close()
            raise

    def __repr__(self) -> str:
        return f"<CohortStore {self.url!r} (SPARQL server{', read-only' if self.read_only else ''})>"

    # -- HTTP ---------------------------------------------------------------------------------------
    def _request(self, method: str, url: str, body: bytes | None, headers: dict) -> bytes:
        if self.closed:
            raise InputError("the store was closed; open it again with CohortStore.open(url)", source=self.url)
        parts = urllib.parse.urlsplit(url)
        if urllib.request.getproxies().get(parts.scheme) and not urllib.request.proxy_bypass(parts.netloc):
            return self._request_urllib(method, url, body, headers)
        # one connection per process, thread and host: a store shared by threads or forked stays correct
        key = (os.getpid(), threading.get_ident(), parts.scheme, parts.netloc)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {"User-Agent": f"kg-reasoner/{__version__}", **headers}
        for attempt in (1, 2):
            reused = key in self._connections
            try:
                conn = self._connection(key, parts)
                conn.request(method, target or "/", body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except _DROPPED:
                self._drop(key)
                if reused and attempt == 1:
                    continue  # the server closed the idle connection before this request: once more, anew
                raise StoreServerError("the SPARQL server closed the connection", source=url) from None
            except TimeoutError:
                self._drop(key)
                raise StoreServerError(
                    f"the SPARQL server did not answer within {self.timeout:g} s (a longer wait: --store-timeout "
                    "SECONDS, or CohortStore.open(..., timeout=SECONDS))",
                    source=url,
                ) from None
            except (http.client.HTTPException, OSError, ValueError) as exc:
                self._drop(key)
                raise StoreServerError(f"the SPARQL server cannot be reached: {exc}", source=url) from None
            if resp.will_close:
                self._drop(key)
            return self._answer(method, url, resp.status, resp.reason, resp.headers, data)
        raise AssertionError("unreachable")  # pragma: no cover

    def _connection(self, key: tuple, parts) -> http.client.HTTPConnection:
        conn = self._connections.get(key)
        if conn is None:
            kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            conn = self._connections[key] = kind(parts.hostname or "", parts.port, timeout=self.timeout)
        return conn

    def _drop(self, key: tuple) -> None:
        conn = self._connections.pop(key, None)
        if conn is not None:
            conn.close()

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_connections": {}}  # connections stay with their process

    def _request_urllib(self, method: str, url: str, body: bytes | None, headers: dict) -> bytes:
        req = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with _NO_REDIRECTS.open(req, timeout=self.timeout) as resp:
                return self._answer(method, url, resp.status, resp.reason, resp.headers, resp.read())
        except urllib.error.HTTPError as exc:
            return self._answer(method, url, exc.code, exc.reason, exc.headers, exc.read())
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise StoreServerError(f"the SPARQL server cannot be reached: {reason}", source=url) from None

    @staticmethod
    def _answer(method: str, url: str, status: int, reason: str, headers, data: bytes) -> bytes:
        """The body of a successful answer; StoreServerError for anything else, naming what the server said."""
        if status >= 300:
            detail = data.decode("utf-8", "replace").strip()[:500]
            where = f" to {headers.get('Location')}" if 300 <= status < 400 and headers.get("Location") else ""
            raise StoreServerError(
                f"the SPARQL server answered {method} with HTTP {status} {reason}{where}: {detail}"
                + (" (a redirect is not followed: give the URL it names)" if 300 <= status < 400 else ""),
                source=url,
            )
        cut = headers.get("X-SPARQL-MaxRows")
        if cut is not None:  # Virtuoso's answer cut at its ResultSetMaxRows, with HTTP 200
            raise StoreServerError(
                f"the SPARQL server cut its answer at {cut} rows (its result limit, e.g. Virtuoso's "
                "ResultSetMaxRows): raise the limit, or ask for fewer rows (LIMIT / OFFSET)",
                source=url,
            )
        return data

    def _put_graph(self, name: str, triples: Iterable) -> None:
        if self.read_only:
            raise InputError("is opened read-only: open it with read_only=False to write", source=self.url)
        body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
        url = f"{self.graph_store}?{urllib.parse.urlencode({'graph': name})}"
        self._request("PUT", url, body, {"Content-Type": "application/n-triples"})

    def _sparql(self, text: str, accept: str, union: bool = True) -> bytes:
        # Oxigraph's union-default-graph parameter (a server that does not know it ignores it); never with a
        # query that names its dataset (FROM / FROM NAMED), which Oxigraph would then answer over the union
        url = f"{self.query_endpoint}?union-default-graph" if union else self.query_endpoint
        # the protocol's "query via URL-encoded POST", which every server takes (Virtuoso 7 never answers a
        # "query via POST directly"), and no length limit as a GET's URL has
        body = urllib.parse.urlencode({"query": text}).encode("ascii")
        return self._request("POST", url, body, {"Content-Type": "application/x-www-form-urlencoded", "Accept": accept})

    def _check_union(self) -> None:
        """The library's queries read the union of the graphs: refuse a server that answers otherwise."""
        if self._ask("union-check-in-graph", _LAYOUT) and not self._ask("union-check-default", _LAYOUT):
            raise StoreServerError(
                "the SPARQL server does not answer over the union of its named graphs, which the cohort "
                "store's queries read: serve it so (oxigraph serve --union-default-graph; Fuseki: "
                "tdb2:unionDefaultGraph true)",
                source=self.query_endpoint,
            )

    def _ask(self, name: str, terms: dict) -> bool:
        return bool(self._run(with_values(_store_query(name), terms), {}, "AskQuery").askAnswer)

    # -- writing ------------------------------------------------------------------------------------
    def ensure_ontology(self, kb) -> None:
        key = ontology_key(kb)
        found = self._select_terms(_store_query("loaded-ontology"), _LAYOUT)
        if any(row and str(row[0]) == key for row in found):
            return
        self._put_graph(ONTOLOGY_GRAPH.value, (ox.Triple(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in kb.ontology))
        self._put_graph(META_GRAPH.value, [ox.Triple(META_GRAPH, LOADED, ox.Literal(key))])
        self._check_union()

    def _write_batch(self, patients: list[list]) -> None:
        """Each patient's graphs replaced by an HTTP PUT (Graph Store HTTP Protocol). A blank node would
        not be the same node in two requests: each becomes a skolem IRI under her IRI
        (``<patient>/.well-known/genid/<id>``, RDF 1.1 section 3.5), the same in her three graphs."""
        for quads in patients:
            graphs = sorted({q.graph_name for q in quads}, key=str)
            owner = patient_of(graphs[0].value) if graphs else ""
            skolem: dict = {}

            def term(t, skolem=skolem, owner=owner):
                if isinstance(t, ox.BlankNode):
                    if t not in skolem:
                        skolem[t] = ox.NamedNode(f"{owner}/.well-known/genid/{t.value}")
                    return skolem[t]
                return t

            for g in graphs:
                self._put_graph(
                    g.value,
                    (ox.Triple(term(q.subject), q.predicate, term(q.object)) for q in quads if q.graph_name == g),
                )

    def _graphs_holding(self, node: ox.NamedNode) -> list[str]:
        rows = self._select_terms(_store_query("graphs-holding"), {"node": URIRef(node.value)})
        return [str(r[0]) for r in rows if r and r[0] is not None]

    def flush(self) -> None:
        """Nothing to do: every write is a finished HTTP request."""

    def close(self) -> None:
        self.closed = True
        for key in list(self._connections):
            self._drop(key)

    # -- reading ------------------------------------------------------------------------------------
    def graph_names(self) -> frozenset[str]:
        """The server's named graphs, as it lists them (``GRAPH ?g { }``; Virtuoso 7 lists none, and a
        query's FROM graph is then looked for by its triples)."""
        return frozenset(str(r[0]) for r in self._select_terms(_store_query("graph-names")) if r and r[0])

    def _select_terms(self, text: str, terms: dict | None = None) -> list[list]:
        result = self._run(text, terms or {})
        return [[row.get(v) for v in result.vars] for row in result.bindings]

    def query(self, text: str, bindings: dict | None = None, **values: Any) -> QueryResult:
        """As ``CohortStore.query``, answered by the server."""
        prefixes = package_prefixes()
        terms = dict(bindings or {})
        terms.update(bind_values(text, values, prefixes))
        try:
            plan = inspect_query(text)
        except QueryRefused as exc:
            raise QueryError(str(exc)) from None
        except (SyntaxError, ValueError) as exc:
            raise QueryError(f"the query cannot be run: {exc}") from None
        known = None
        for iri in plan.from_default + plan.from_named:
            known = known if known is not None else self.graph_names()
            if iri not in known and not self._ask("graph-has-triples", {"g": URIRef(iri)}):
                raise QueryError(f"graph <{iri}> is not in this store; nothing outside the store is ever loaded")
        declared = {p.lower() for p in _declared_prefixes(text)}
        preamble = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in prefixes.items() if p.lower() not in declared)
        union = not (plan.from_default or plan.from_named)
        return self._run(preamble + text, terms, plan.form, union, plan)

    def _run(
        self, text: str, terms: dict, form: str = "SelectQuery", union: bool = True, plan: QueryPlan | None = None
    ) -> QueryResult:
        sent = with_values(text, terms, plan) if terms else text
        try:
            inspect_query(sent)  # the text actually sent: still no update, no SERVICE
        except QueryRefused as exc:
            raise QueryError(str(exc)) from None
        if form in ("ConstructQuery", "DescribeQuery"):
            data = self._sparql(sent, "application/n-triples", union)
            out = QueryResult("CONSTRUCT")
            out.graph = Graph()
            for t in ox.parse(data, format=ox.RdfFormat.N_TRIPLES):
                out.graph.add((from_ox(t.subject), from_ox(t.predicate), from_ox(t.object)))
            return out
        data = self._sparql(sent, "application/sparql-results+json", union)
        result = ox.parse_query_results(data, format=ox.QueryResultsFormat.JSON)
        try:
            if form == "AskQuery" and not isinstance(result, ox.QueryBoolean):
                raise StoreServerError(
                    "the SPARQL server answered an ASK query with a table, not a boolean", source=self.query_endpoint
                )
            return query_result(result)
        finally:
            # freed here, in the thread that made it: pyoxigraph's results belong to one thread, and one
            # that another thread's garbage collector reaches (this frame kept alive by a reference cycle)
            # is never freed ("unsendable, but is being dropped on another thread")
            del result


#: the store's own graph and the property naming its ontology, bound into the store's queries
_LAYOUT = {"meta": URIRef(META_GRAPH.value), "loaded": URIRef(LOADED.value)}


def _store_query(name: str) -> str:
    """The store's own queries, queries/store/NAME.rq (package data, as every query)."""
    from kg_reasoner.resources import read_text

    return read_text("queries", f"store/{name}.rq")


def _declared_prefixes(text: str) -> list[str]:
    import re

    return re.findall(r"(?i)\bPREFIX\s+([A-Za-z][\w.-]*)?\s*:", text)
