"""Command line: ``kg-reasoner assess FILE... [--format text|json|turtle]``.

Exit codes (few, and the same for every command):

  0  every patient of every input was read and assessed
  1  every input was read, but some patient could not be assessed
     (fail closed: inconsistent or invalid data; see data_problems)
  2  some input could not be read (bad file, bad patient record), the
     command line was wrong, or the guidance module was refused when loaded
     (kg-reasoner check MODULE.ttl says why); the other patients were still
     assessed
130  interrupted (Ctrl-C); every outcome already written is complete

``kg-reasoner check`` and ``release``: 0 no error found (check: warnings may
be listed), 1 a check found an error, 2 an unreadable file or a bad command
line (release: also a missing optional dependency).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from kg_reasoner._version import __version__
from kg_reasoner.api import ENGINES
from kg_reasoner.cli.assess import assess_main
from kg_reasoner.cli.check import check_main
from kg_reasoner.cli.common import EXIT_OK
from kg_reasoner.cli.query import library_names, query_main
from kg_reasoner.cli.release import release_main
from kg_reasoner.cli.serve import serve_main
from kg_reasoner.write.formats import FORMATS


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kg-reasoner",
        description="Knowledge-graph reasoning for clinical guidance: can progesterone prevent miscarriage?",
        epilog="Exit codes: 0 all assessed (check: no error found); 1 some patient could not be assessed "
        "(fail closed), (check) the module has errors, or (release) a check of the ontology failed and "
        "nothing was written; 2 some input could not be read, a guidance module was refused at load (run "
        "'kg-reasoner check' on it), bad arguments, or a missing optional dependency; 130 interrupted.",
    )
    p.add_argument("--version", action="version", version=f"kg-reasoner {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser(
        "assess",
        help="assess patients from files and directories",
        description="Assess every patient of the given files and directories: patient summary "
        "JSON (one object or an array), Turtle (.ttl), N-Triples (.nt) or JSON-LD "
        "(.jsonld) in the kg-reasoner vocabulary.",
    )
    a.add_argument("inputs", nargs="+", metavar="FILE", help="files or directories (searched recursively)")
    a.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="text: readable explanation (default); json: one array of outcome objects; "
        "ndjson: one outcome object per line; csv: one row per patient (patient, status, rules, "
        "missing, flags, source, as_of, not_assessed); turtle: asserted and inferred graphs with the ontology context; "
        "trig: one asserted and one inferred named graph per patient",
    )
    a.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")
    a.add_argument(
        "--resume",
        action="store_true",
        help="with --output and --format ndjson or csv: skip patients already in FILE and append",
    )
    a.add_argument("--jobs", "-j", type=int, default=1, metavar="N", help="assess in N processes (default 1)")
    a.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="no progress bar and no summary of statuses and rule firings on stderr",
    )
    a.add_argument(
        "--engine",
        choices=ENGINES,
        default="fast",
        help="fast (default): compiled OWL-RL and SHACL on pyoxigraph; reference: owlrl + pySHACL. "
        "Both give the same outcomes (a test proves it on seeded random patients)",
    )
    a.add_argument(
        "--as-of",
        metavar="TIME",
        help="assess FHIR records retrospectively, as of TIME (ISO 8601 date or date-time): a record whose every "
        "time is after it is not read, and a dating that puts the pregnancy past the longest a pregnancy lasts "
        "by then is stale (default: the present, or $KG_REASONER_NOW)",
    )
    a.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="assess on a dask.distributed cluster (scheduler address, e.g. tcp://host:8786); needs the 'dask' extra",
    )
    a.add_argument(
        "--store",
        metavar="PATH",
        help="also write every patient's asserted and inferred graphs into the on-disk SPARQL store "
        "PATH (created if needed; a patient assessed again is replaced), or into a SPARQL 1.1 server at "
        "an http(s):// URL (Graph Store HTTP Protocol; see --query-endpoint)",
    )
    _server_options(a)
    a.add_argument(
        "--reference-table", metavar="TTL", help="Turtle file replacing the default serum progesterone reference table"
    )
    a.add_argument(
        "--ontology",
        action="append",
        default=[],
        metavar="TTL",
        help="extra ontology file loaded beside the bundled guidance (repeatable)",
    )
    a.add_argument(
        "--guidance-module",
        action="append",
        default=[],
        metavar="TTL",
        help="assess under another guidance: its ontology module (importing the kg-reasoner core) "
        "replaces the bundled progesterone guidance (repeatable). The module is checked when loaded and "
        "refused (exit 2) if the engines would ignore part of it; 'kg-reasoner check' says why",
    )
    a.add_argument(
        "--guidance-rules",
        action="append",
        default=[],
        metavar="TTL",
        help="with --guidance-module: the module's own SHACL rule shapes, if any (repeatable)",
    )
    q = sub.add_parser(
        "query",
        help="run a SPARQL query on a store or on files written by assess",
        description="Run a SPARQL 1.1 query (a .rq file, --query TEXT, or --name NAME of the "
        "bundled query library) on an on-disk store (--store) or on TriG / N-Quads / "
        "Turtle files written by 'kg-reasoner assess' (read with the bundled ontology).",
    )
    q.add_argument("file", nargs="?", metavar="FILE.rq", help="the query file")
    q.add_argument("--query", metavar="TEXT", help="the query text")
    q.add_argument("--name", metavar="NAME", help="a query of the library: " + ", ".join(library_names()))
    q.add_argument(
        "--store", metavar="PATH", help="the store written by 'assess --store' (a folder, or a SPARQL server's URL)"
    )
    _server_options(q)
    q.add_argument("--data", nargs="+", default=[], metavar="FILE", help="TriG / N-Quads / Turtle files instead")
    q.add_argument(
        "--bind",
        action="append",
        default=[],
        metavar="VAR=VALUE",
        help=(
            'a value for a variable (an IRI, "a string", a number or a date-time; patient=ID takes a patient '
            "id or IRI); repeatable"
        ),
    )
    q.add_argument(
        "--format",
        choices=("table", "csv", "json"),
        default="table",
        help="table (default), csv, or json (the standard SPARQL 1.1 results format)",
    )
    v = sub.add_parser(
        "serve",
        help="serve a store as a read-only SPARQL 1.1 endpoint",
        description="A read-only SPARQL 1.1 Protocol endpoint over a store written by "
        "'kg-reasoner assess --store' (do not write to the store while serving it).",
    )
    v.add_argument("--store", required=True, metavar="PATH")
    v.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1: this machine only)")
    v.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    v.add_argument("--timeout", type=float, default=10.0, metavar="S", help="time limit per query (default 10 s)")
    v.add_argument(
        "--max-rows",
        type=int,
        default=10_000,
        metavar="N",
        help="result-size limit in rows or triples (default 10,000)",
    )
    v.add_argument(
        "--max-bytes", type=int, default=50_000_000, metavar="N", help="result-size limit in bytes (default 50,000,000)"
    )
    v.add_argument(
        "--max-queries",
        type=int,
        default=4,
        metavar="N",
        help="query processes at once; more requests queue (default 4)",
    )
    v.add_argument(
        "--queue-wait",
        type=float,
        default=10.0,
        metavar="S",
        help="seconds a request may wait in that queue before it gets 503 (default 10)",
    )
    v.add_argument("--verbose", action="store_true", help="log every request on stderr")
    v.add_argument(
        "--cors",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a web origin (e.g. https://notebooks.example.org) whose pages may read the results; "
        "repeatable. Default: none (no Access-Control-Allow-Origin header)",
    )
    v.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a host name clients use to reach the endpoint, besides the bound address and "
        "localhost; other Host headers are refused (DNS rebinding); repeatable",
    )
    c = sub.add_parser(
        "check",
        help="check a guidance module before using it",
        description="Check a guidance module (Turtle, importing the kg-reasoner core) with the packaged core: "
        "every axiom outside OWL 2 RL or inside it but ignored by the engines (owlrl), undeclared names, the "
        "consistency of its OWL 2 RL closure, its rules, criteria and patient attributes against the "
        "authoring vocabulary (shapes/authoring.ttl), its SHACL rule shapes, the quality-control queries, "
        "and HermiT (consistency, unsatisfiable classes; skipped with a note without Java). Each finding "
        "names the term, the property and the axiom, and says what to change. 'assess --guidance-module' "
        "refuses a module with a finding marked 'refused at load'.",
        epilog="Exit codes: 0 no error (warnings may be listed); 1 the module has errors; 2 a file could not "
        "be read, or bad arguments.",
    )
    c.add_argument("module", nargs="+", metavar="MODULE.ttl", help="the module's ontology files")
    c.add_argument(
        "--rules",
        action="append",
        default=[],
        metavar="RULES.ttl",
        help="the module's own SHACL rule shapes, as given to assess --guidance-rules (repeatable)",
    )
    c.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text (default): one finding per line; json: an object with documents, clean, findings "
        "(check, severity, blocking, term, property, axiom, message) and notes",
    )
    c.add_argument("--skip-hermit", action="store_true", help="skip HermiT (it needs Java; a few seconds)")
    c.add_argument(
        "--source",
        metavar="TXT",
        help="the guidance's text: every kgr:sourceSentence of the module must be in it verbatim (spacing aside)",
    )
    r = sub.add_parser(
        "release",
        help="check the ontology and write its release artefacts",
        description="Check the bundled ontology (OWL 2 RL profile, quality-control queries, "
        "HermiT) and, when every check passes, write it as Turtle, RDF/XML and "
        "JSON-LD with a Protégé catalog, pyLODE HTML documentation and release.json. "
        "Needs the 'ontology' extra (owlready2, pyLODE) and Java.",
    )
    r.add_argument("--out", metavar="DIR", help=f"output folder (default dist/ontology/{__version__}; replaced)")
    r.add_argument("--no-html", action="store_true", help="skip the HTML documentation")
    r.add_argument("--skip-hermit", action="store_true", help="skip the HermiT check (no Java here)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    # rdflib logs a traceback for every ill-typed literal it parses; the reader names each one in a single
    # clear line instead (the command line's choice, never made at import)
    logging.getLogger("rdflib.term").setLevel(logging.CRITICAL)
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "query":
        return query_main(args, parser)
    if args.command == "serve":
        return serve_main(args)
    if args.command == "release":
        return release_main(args)
    if args.command == "check":
        return check_main(args)
    return assess_main(args, parser)


def run() -> None:  # console-script entry point
    try:
        sys.exit(main())
    except BrokenPipeError:  # the reader went away (e.g. `| head`): stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(EXIT_OK)


if __name__ == "__main__":
    run()


def _server_options(p) -> None:
    p.add_argument(
        "--query-endpoint",
        metavar="URL",
        help="with --store URL: the server's SPARQL 1.1 query endpoint (default URL/query, as Oxigraph serves it)",
    )
    p.add_argument(
        "--graph-store",
        metavar="URL",
        help="with --store URL: the server's Graph Store HTTP Protocol endpoint (default URL/store, as Oxigraph)",
    )
    p.add_argument(
        "--store-timeout",
        type=float,
        metavar="SECONDS",
        help="with --store URL: how long to wait for the server's answer to one request (default 60)",
    )
