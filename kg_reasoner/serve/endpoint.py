"""A read-only SPARQL 1.1 Protocol endpoint over a cohort store: ``kg-reasoner serve --store PATH``.

Server stack: the standard library's ``ThreadingHTTPServer`` (one thread per request) in front of
pyoxigraph. It adds no dependency that could fall out of maintenance, it is enough for a
localhost or intranet service, and every query runs in its own process (``forkserver``) that opens
the store read-only: a query over its time limit is killed without touching the server, and a slow
query never blocks the others. Put a reverse proxy (TLS, authentication) in front of it for
anything public; by default it binds to 127.0.0.1 only.

Protocol: ``GET /sparql?query=...``, ``POST /sparql`` as a form (``query=``) or with the query as
the body (``application/sparql-query``), ``default-graph-uri`` / ``named-graph-uri`` parameters.
Results by content negotiation: SELECT / ASK as SPARQL JSON (default), XML, CSV or TSV; CONSTRUCT /
DESCRIBE as Turtle (default), JSON-LD, N-Triples or RDF/XML. ``GET /`` is a page where a person can
type a query.

Refused with a 4xx status and a message saying why, decided on the parsed query (rdflib's SPARQL 1.1
grammar, ``kg_reasoner.sparql_guard``), never on its text: SPARQL Update in any form (403), ``SERVICE``
(403), ``FROM`` / ``FROM NAMED`` / graph parameters naming a graph the store does not hold (400), a
malformed query (400), a result over the row limit (413), a Host header that is not a name of this
endpoint (400, DNS rebinding). A query over the time limit gets 503. ``FROM`` / ``FROM NAMED`` are
honoured; ``default-graph-uri`` / ``named-graph-uri`` override them (SPARQL 1.1 Protocol). Every query
process runs in a network namespace of its own where Linux allows it: it cannot reach any address.
No CORS header is sent unless ``--cors ORIGIN`` names the origin.
"""

from __future__ import annotations

import ctypes
import html
import multiprocessing
import os
import signal
import socket
import sys
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pyoxigraph as ox

from kg_reasoner.cohort.store import dataset_arguments
from kg_reasoner.explain.guard import QueryRefused, inspect_query
from kg_reasoner.resources import read_text

RESULT_TYPES = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "application/xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}


GRAPH_TYPES = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    # Turtle is N3 too: clients asking for N3 (SPARQLWrapper's N3) get Turtle under the type they asked for
    "text/n3": ox.RdfFormat.TURTLE,
    "text/rdf+n3": ox.RdfFormat.TURTLE,
    "application/n3": ox.RdfFormat.TURTLE,
}


#: A graph result asked for as "JSON" or "XML" is given in the RDF syntax of that name.
GRAPH_ALIASES = {
    "application/sparql-results+json": "application/ld+json",
    "application/json": "application/ld+json",
    "application/sparql-results+xml": "application/rdf+xml",
    "application/xml": "application/rdf+xml",
    "text/xml": "application/rdf+xml",
}


#: Short names clients send as ?format= / ?output= (SPARQLWrapper, browsers' form on the page).
FORMAT_NAMES = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "turtle": "text/turtle",
    "json-ld": "application/ld+json",
    "jsonld": "application/ld+json",
    "nt": "application/n-triples",
    "rdfxml": "application/rdf+xml",
    "rdf+xml": "application/rdf+xml",
    "n3": "text/n3",
}


@dataclass(frozen=True)
class Limits:
    timeout: float = 10.0  # seconds per query
    max_rows: int = 10_000  # solutions (SELECT) or triples (CONSTRUCT / DESCRIBE) per result
    max_bytes: int = 50_000_000  # bytes of one serialized result
    max_body: int = 1_000_000  # bytes of a request body (a POSTed query or form)
    max_queries: int = 4  # query processes at once; more requests wait in a queue ...
    queue_wait: float = 10.0  # ... this many seconds at most, then get 503 with Retry-After
    read_timeout: float = 10.0  # seconds a connection may take to send its request (slowloris)
    backlog: int = 128  # connections the kernel queues before the server accepts them


@dataclass(frozen=True)
class Access:
    """Who may talk to the endpoint from a browser. No CORS header is sent unless an origin is named
    (a web page the user visits must not read the patient store), and a request whose Host header is
    not a name of this endpoint is refused (DNS rebinding)."""

    cors_origins: tuple[str, ...] = ()  # e.g. ("https://notebooks.example.org",); "*" allows any
    allowed_hosts: tuple[str, ...] = ()  # names besides the bound address, localhost, 127.0.0.1, ::1


Refused = QueryRefused


def check_query(text: str, graphs: frozenset[str], default_graphs: list[str], named_graphs: list[str]) -> dict:
    """Decide on the parsed query (sparql_guard): refuse what a read-only endpoint over this store must
    not run (raises Refused), and return the dataset to query. The protocol's default-graph-uri /
    named-graph-uri override the query's FROM / FROM NAMED (SPARQL 1.1 Protocol, 2.1.4); with
    neither, the default graph is the union of the store's graphs."""
    plan = inspect_query(text)
    if default_graphs or named_graphs:
        return dataset_arguments(default_graphs, named_graphs, graphs)
    return dataset_arguments(plan.from_default, plan.from_named, graphs)


def negotiate(fmt: str | None, accept: str, graph: bool) -> str:
    """The media type of the answer (RFC 9110 content negotiation): a ``format=`` the endpoint can satisfy
    wins; otherwise the Accept header's ranges by quality (q=0 excluded), exact types, ``text/*`` and
    ``*/*``; no Accept header at all gets the default. Raises 406 when nothing asked for can be given."""
    table, default = (GRAPH_TYPES, "text/turtle") if graph else (RESULT_TYPES, "application/sparql-results+json")

    def usable(mime: str) -> str | None:
        mime = GRAPH_ALIASES.get(mime, mime) if graph else mime
        if mime in table:
            return mime
        if mime == "*/*":
            return default
        if mime.endswith("/*"):
            return next((m for m in [default, *table] if m.startswith(mime[:-1])), None)
        return None

    if fmt:
        chosen = usable(FORMAT_NAMES.get(fmt.strip().lower(), fmt.strip().lower()))
        if chosen:
            return chosen
    if not accept.strip():
        if fmt:
            raise Refused(406, f"cannot answer in format {fmt!r}; ask for one of: {', '.join(table)}")
        return default
    ranges = []
    for i, part in enumerate(accept.split(",")):
        mime, *params = [x.strip() for x in part.split(";")]
        q = 1.0
        for param in params:
            if param.lower().startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        if mime:
            ranges.append((-q, mime.count("*"), i, mime.lower()))
    for neg_q, _, _, mime in sorted(ranges):
        if -neg_q > 0 and (chosen := usable(mime)):
            return chosen
    raise Refused(406, f"cannot answer in {accept}; ask for one of: {', '.join(table)}")


CLONE_NEWUSER, CLONE_NEWNET = 0x10000000, 0x40000000


def cut_off_network() -> bool:
    """Move this process into a network namespace of its own, with no interface but a down loopback:
    whatever the query engine tries, it cannot reach any address (defence in depth behind the parsed
    refusal of SERVICE). As root CLONE_NEWNET suffices; an unprivileged user needs a user namespace
    too (allowed by most Linux kernels). Returns whether it worked (False off Linux or where refused)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return False
    for flags in ((CLONE_NEWNET,) if os.geteuid() == 0 else ()) + (CLONE_NEWUSER | CLONE_NEWNET,):
        if libc.unshare(flags) == 0:
            return True
    return False


PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Linux: this process is killed when its parent (the forkserver, which ends with the server) dies, so
    that no query process outlives a server stopped by SIGTERM or SIGKILL."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
        if os.getppid() == 1:  # the parent died before the signal was set
            os._exit(1)


def _child(
    conn,
    store_path: str,
    query: str,
    dataset: dict,
    accept: tuple[str | None, str],
    max_rows: int,
    max_bytes: int = Limits.max_bytes,
    base_iri: str | None = None,
) -> None:
    """Runs in its own process, cut off from the network: opens the store read-only, runs the query,
    sends (status, type, body)."""
    try:
        die_with_parent()
        cut_off_network()
        store = ox.Store.read_only(store_path)
        conn.send("ready")  # the time limit counts from here: the query's own time
        kwargs = (
            {"use_default_graph_as_union": True}
            if dataset.get("union")
            else {
                "default_graph": [ox.NamedNode(g) for g in dataset["default"]],
                "named_graphs": [ox.NamedNode(g) for g in dataset["named"]],
            }
        )
        fmt, accept_header = accept
        try:
            result = store.query(query, base_iri=base_iri, **kwargs)
        except SyntaxError as exc:
            raise Refused(400, f"the query is not valid SPARQL 1.1: {exc}") from None
        if isinstance(result, ox.QueryBoolean):
            mime = negotiate(fmt, accept_header, graph=False)
            conn.send((200, mime, result.serialize(format=RESULT_TYPES[mime])))
            return
        graph = isinstance(result, ox.QueryTriples)
        table = GRAPH_TYPES if graph else RESULT_TYPES
        mime = negotiate(fmt, accept_header, graph)
        count = sum(1 for _ in result)  # the limit is checked before anything is serialized
        if count > max_rows:
            raise Refused(
                413,
                f"the result has more than {max_rows:,} {'triples' if graph else 'rows'} "
                f"({count:,}); add a LIMIT or narrow the query",
            )
        result = store.query(query, base_iri=base_iri, **kwargs)
        body = result.serialize(format=table[mime])
        if len(body) > max_bytes:
            raise Refused(413, f"the result is larger than {max_bytes:,} bytes; add a LIMIT or narrow the query")
        conn.send((200, mime, body))
    except Refused as exc:
        conn.send((exc.status, "text/plain; charset=utf-8", (str(exc) + "\n").encode()))
    except Exception as exc:  # any other failure of the query is the query's, reported as such
        conn.send((400, "text/plain; charset=utf-8", f"the query cannot be run: {exc}\n".encode()))
    finally:
        conn.close()


def service_description(url: str, limits: Limits) -> str:
    """The endpoint described in the SPARQL 1.1 Service Description vocabulary (Turtle)."""
    formats = " , ".join(
        f"<http://www.w3.org/ns/formats/{f}>"
        for f in (
            "SPARQL_Results_JSON",
            "SPARQL_Results_XML",
            "SPARQL_Results_CSV",
            "SPARQL_Results_TSV",
            "Turtle",
            "JSON-LD",
            "N-Triples",
            "RDF_XML",
        )
    )
    return f"""@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<{url}> a sd:Service ;
    rdfs:label "kg-reasoner read-only SPARQL 1.1 endpoint" ;
    rdfs:comment "Read-only: no SPARQL Update, no SERVICE. FROM / FROM NAMED name graphs of the store; without them the default graph is the union of all graphs. Limits: {limits.timeout:g} s, {limits.max_rows} rows, {limits.max_bytes} bytes per query." ;
    sd:endpoint <{url}> ;
    sd:supportedLanguage sd:SPARQL11Query ;
    sd:feature sd:UnionDefaultGraph ;
    sd:resultFormat {formats} .
"""


def _plain(dataset: dict) -> dict:
    """The dataset as plain strings, to send to the query process."""
    if dataset.get("use_default_graph_as_union"):
        return {"union": True}
    return {"default": [g.value for g in dataset["default_graph"]], "named": [g.value for g in dataset["named_graphs"]]}


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kg-reasoner SPARQL</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:60em}}textarea{{width:100%;height:14em;
font-family:monospace}}</style></head>
<body><h1>kg-reasoner SPARQL endpoint</h1>
<p>Read-only SPARQL 1.1 over the cohort store <code>{store}</code>. Each query may run {timeout:g} s and
return {rows:,} rows. The query library of kg-reasoner (<code>queries/*.rq</code>) runs here as it is.</p>
<form method="post" action="/sparql">
<textarea name="query">{example}</textarea>
<p>Results as <select name="format"><option value="application/sparql-results+json">JSON</option>
<option value="text/csv">CSV</option><option value="text/tab-separated-values">TSV</option>
<option value="application/sparql-results+xml">XML</option></select>
<button type="submit">Run</button></p></form></body></html>
"""


#: Seconds a query process may take to start and open the store (not counted in the time limit).
STARTUP_LIMIT = 60.0


def _warm_up() -> None:
    """Runs once in a fresh process: makes the forkserver import what every query process needs."""


LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def _host_name(value: str) -> str:
    """The name of a Host header without its port: example.org:8000 -> example.org, [::1]:8000 -> ::1."""
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def make_server(
    store_path: str, host: str = "127.0.0.1", port: int = 8000, limits: Limits = Limits(), access: Access = Access()
):
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["kg_reasoner.serve.endpoint", "pyoxigraph", "kg_reasoner.serve.forkserver"])
    warm = ctx.Process(target=_warm_up)  # start the forkserver now, not on the first request
    warm.start()
    warm.join()
    # the store does not change while it is served (a writer beside read-only readers is undefined
    # behaviour in RocksDB): its graphs are listed once
    known = frozenset(g.value for g in ox.Store.read_only(store_path).named_graphs() if isinstance(g, ox.NamedNode))

    def graphs() -> frozenset[str]:
        return known

    class Handler(BaseHTTPRequestHandler):
        server_version = "kg-reasoner-sparql"

        def log_message(self, fmt, *args):  # quiet unless asked: one line per request on stderr
            if getattr(self.server, "verbose", False):
                sys.stderr.write(f"{self.address_string()} - {fmt % args}\n")

        def _send(self, status: int, mime: str, body: bytes, extra: dict | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", mime)
            self.send_header("Content-Length", str(len(body)))
            for name, value in {**self._cors(), **(extra or {})}.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _cors(self) -> dict:
            origin = self.headers.get("Origin")
            if origin and (origin in access.cors_origins or "*" in access.cors_origins):
                return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
            return {}

        def _check_host(self) -> None:
            """DNS rebinding: a page of another site, resolved to this address, sends its own Host."""
            given = (self.headers.get("Host") or "").strip().lower()
            name = _host_name(given)
            allowed = {h.lower() for h in (host, *LOOPBACK_NAMES, *access.allowed_hosts)}
            if host in ("0.0.0.0", "::"):
                allowed |= {socket.gethostname().lower()}
            if name not in allowed:
                raise Refused(
                    400,
                    f"unexpected Host header {given!r}: this endpoint answers to "
                    f"{', '.join(sorted(allowed))} (add names with --allow-host)",
                )

        def do_OPTIONS(self):  # noqa: N802
            """CORS preflight and the methods this read-only endpoint allows."""
            try:
                self._check_host()
            except Refused as exc:
                self._send(exc.status, "text/plain; charset=utf-8", (str(exc) + "\n").encode())
                return
            extra = {"Allow": "GET, HEAD, POST, OPTIONS"}
            if self._cors():
                extra.update(
                    {
                        "Access-Control-Allow-Methods": "GET, HEAD, POST, OPTIONS",
                        "Access-Control-Allow-Headers": "Accept, Content-Type",
                        "Access-Control-Max-Age": "600",
                    }
                )
            self._send(204, "text/plain; charset=utf-8", b"", extra)

        def _params(self) -> dict:
            params = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
            if self.command == "POST":
                given = self.headers.get("Content-Length")
                if given is None:
                    raise Refused(411, "a POST needs a Content-Length")
                if not given.strip().isdigit():
                    raise Refused(400, f"Content-Length {given!r} is not a number of bytes")
                length = int(given)
                if length > limits.max_body:
                    raise Refused(413, f"the request body is larger than {limits.max_body:,} bytes")
                raw = self.rfile.read(length) if length else b""
                if len(raw) != length:
                    raise Refused(400, "the request body is shorter than its Content-Length")
                try:
                    body = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise Refused(400, "the request body is not UTF-8 text") from None
                ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
                if ctype == "application/x-www-form-urlencoded":
                    for k, v in parse_qs(body, keep_blank_values=True).items():
                        params.setdefault(k, []).extend(v)
                elif ctype == "application/sparql-query":
                    params["query"] = [body]
                elif ctype == "application/sparql-update":
                    raise Refused(403, "this endpoint is read-only: SPARQL Update is not accepted")
                else:
                    raise Refused(
                        415, "POST a form (application/x-www-form-urlencoded) or a query (application/sparql-query)"
                    )
            return params

        def _handle(self) -> None:
            path = urlsplit(self.path).path
            try:
                self._check_host()
                params = self._params()
                if path == "/" and "query" not in params:
                    self._send(200, "text/html; charset=utf-8", self._page())
                    return
                if path not in ("/", "/sparql"):
                    raise Refused(404, "the endpoint is /sparql")
                if "update" in params:
                    raise Refused(403, "this endpoint is read-only: SPARQL Update is not accepted")
                queries = params.get("query", [])
                wanted = (params.get("format") or params.get("output") or [None])[0]
                accept = (wanted, self.headers.get("Accept") or "")
                if not queries and self.command in ("GET", "HEAD"):
                    self._service_description(accept)
                    return
                if len(queries) != 1 or not queries[0].strip():
                    raise Refused(400, "give exactly one query (the 'query' parameter)")
                default_graphs = params.get("default-graph-uri", [])
                named_graphs = params.get("named-graph-uri", [])
                dataset = check_query(queries[0], graphs(), default_graphs, named_graphs)
                self._send(*self._run(queries[0], _plain(dataset), accept))
            except Refused as exc:
                self._send(exc.status, "text/plain; charset=utf-8", (str(exc) + "\n").encode())

        def _endpoint_url(self) -> str:
            return f"http://{self.headers.get('Host') or f'{host}:{self.server.server_address[1]}'}/sparql"

        def _service_description(self, accept) -> None:
            """GET /sparql without a query: a SPARQL 1.1 Service Description of this endpoint."""
            if "text/html" in accept[1] and not accept[0]:
                self._send(200, "text/html; charset=utf-8", self._page())
                return
            mime = negotiate(accept[0], accept[1], graph=True)
            text = service_description(self._endpoint_url(), limits)
            g = ox.parse(text.encode(), format=ox.RdfFormat.TURTLE)
            self._send(200, mime, ox.serialize(g, format=GRAPH_TYPES[mime]))

        def _page(self) -> bytes:
            return PAGE.format(
                store=html.escape(store_path),
                timeout=limits.timeout,
                rows=limits.max_rows,
                example=html.escape(read_text("queries", "status-counts.rq")),
            ).encode()

        def _run(self, query, dataset, accept):
            if not slots.acquire(timeout=limits.queue_wait):
                raise Refused(
                    503,
                    f"{limits.max_queries} queries are running and the queue did not move for "
                    f"{limits.queue_wait:g} s; try again shortly",
                )
            try:
                return self._run_one(query, dataset, accept)
            finally:
                slots.release()

        def _run_one(self, query, dataset, accept):
            parent, child = ctx.Pipe(duplex=False)
            proc = ctx.Process(
                target=_child,
                args=(
                    child,
                    store_path,
                    query,
                    dataset,
                    accept,
                    limits.max_rows,
                    limits.max_bytes,
                    self._endpoint_url(),
                ),
                daemon=True,
            )
            proc.start()
            child.close()
            try:
                if not parent.poll(STARTUP_LIMIT):
                    raise Refused(503, "the query process did not start; the machine is overloaded, try again")
                ready = parent.recv()
                if ready != "ready":
                    return ready
                if parent.poll(limits.timeout):
                    return parent.recv()
                raise Refused(
                    503,
                    f"the query ran longer than the time limit of {limits.timeout:g} s and was "
                    "stopped; narrow it or add a LIMIT",
                )
            except EOFError:
                return 500, "text/plain; charset=utf-8", b"the query process ended without an answer\n"
            finally:
                if proc.is_alive():
                    proc.kill()
                proc.join()
                parent.close()

        do_GET = do_POST = do_HEAD = _handle

        def do_PUT(self):  # noqa: N802
            self._send(405, "text/plain; charset=utf-8", b"read-only endpoint: use GET or POST with a query\n")

        do_DELETE = do_PATCH = do_PUT

    Handler.timeout = limits.read_timeout  # a connection that sends nothing is closed (slowloris)
    slots = threading.BoundedSemaphore(limits.max_queries)

    class Server(ThreadingHTTPServer):
        request_queue_size = limits.backlog
        daemon_threads = True

        def handle_error(self, request, client_address):  # a client that went away is not an error to print
            if getattr(self, "verbose", False):
                super().handle_error(request, client_address)

    return Server((host, port), Handler)
