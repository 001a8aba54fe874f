"""Command line: ``kg-reasoner assess FILE... [--format text|json|turtle]``.

Exit codes (few, and the same for every command):

  0  every patient of every input was read and assessed
  1  every input was read, but some patient could not be assessed
     (fail closed: inconsistent or invalid data; see data_problems)
  2  some input could not be read (bad file, bad patient record), or the
     command line was wrong; the other patients were still assessed
130  interrupted (Ctrl-C); every outcome already written is complete
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import multiprocessing
import os
import signal
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Iterator, Sequence

from kg_reasoner import __version__
from kg_reasoner.api import ENGINES, Reasoner
from kg_reasoner.guidance import PROGESTERONE, Guidance
from kg_reasoner.progress import Progress
from kg_reasoner.errors import InputError, KgReasonerError

EXIT_OK, EXIT_NOT_ASSESSED, EXIT_INPUT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kg-reasoner",
        description="Knowledge-graph reasoning for clinical guidance: can progesterone prevent miscarriage?",
        epilog="Exit codes: 0 all assessed; 1 some patient could not be assessed (fail closed), or "
               "(release) a check of the ontology failed and nothing was written; 2 some input could not be "
               "read, bad arguments, or a missing optional dependency; 130 interrupted.",
    )
    p.add_argument("--version", action="version", version=f"kg-reasoner {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("assess", help="assess patients from files and directories",
                       description="Assess every patient of the given files and directories: patient summary "
                                   "JSON (one object or an array), Turtle (.ttl), N-Triples (.nt) or JSON-LD "
                                   "(.jsonld) in the kg-reasoner vocabulary.")
    a.add_argument("inputs", nargs="+", metavar="FILE", help="files or directories (searched recursively)")
    a.add_argument("--format", choices=FORMATS, default="text",
                   help="text: readable explanation (default); json: one array of outcome objects; "
                        "ndjson: one outcome object per line; csv: one row per patient (patient, status, rules, "
                        "missing, flags); turtle: asserted and inferred graphs with the ontology context; "
                        "trig: one asserted and one inferred named graph per patient")
    a.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")
    a.add_argument("--resume", action="store_true",
                   help="with --output and --format ndjson or csv: skip patients already in FILE and append")
    a.add_argument("--jobs", "-j", type=int, default=1, metavar="N", help="assess in N processes (default 1)")
    a.add_argument("--quiet", "-q", action="store_true",
                   help="no progress bar and no summary of statuses and rule firings on stderr")
    a.add_argument("--engine", choices=ENGINES, default="fast",
                   help="fast (default): compiled OWL-RL and SHACL on pyoxigraph; reference: owlrl + pySHACL. "
                        "Both give the same outcomes (a test proves it on seeded random patients)")
    a.add_argument("--dask", metavar="ADDRESS",
                   help="assess on a dask.distributed cluster (scheduler address, e.g. tcp://host:8786); "
                        "needs the 'dask' extra")
    a.add_argument("--store", metavar="PATH",
                   help="also write every patient's asserted and inferred graphs into the on-disk SPARQL store "
                        "PATH (created if needed; a patient assessed again is replaced)")
    a.add_argument("--reference-table", metavar="TTL",
                   help="Turtle file replacing the default serum progesterone reference table")
    a.add_argument("--ontology", action="append", default=[], metavar="TTL",
                   help="extra ontology file loaded beside the bundled guidance (repeatable)")
    a.add_argument("--guidance-module", action="append", default=[], metavar="TTL",
                   help="assess under another guidance: its ontology module (importing the kg-reasoner core) "
                        "replaces the bundled progesterone guidance (repeatable)")
    a.add_argument("--guidance-rules", action="append", default=[], metavar="TTL",
                   help="with --guidance-module: the module's own SHACL rule shapes, if any (repeatable)")
    q = sub.add_parser("query", help="run a SPARQL query on a store or on files written by assess",
                       description="Run a SPARQL 1.1 query (a .rq file, --query TEXT, or --name NAME of the "
                                   "bundled query library) on an on-disk store (--store) or on TriG / N-Quads / "
                                   "Turtle files written by 'kg-reasoner assess' (read with the bundled ontology).")
    q.add_argument("file", nargs="?", metavar="FILE.rq", help="the query file")
    q.add_argument("--query", metavar="TEXT", help="the query text")
    q.add_argument("--name", metavar="NAME", help="a query of the library: " + ", ".join(library_names()))
    q.add_argument("--store", metavar="PATH", help="the store written by 'assess --store'")
    q.add_argument("--data", nargs="+", default=[], metavar="FILE", help="TriG / N-Quads / Turtle files instead")
    q.add_argument("--bind", action="append", default=[], metavar="VAR=VALUE",
                   help="a value for a variable (an IRI, \"a string\", a number or a date-time); repeatable")
    q.add_argument("--format", choices=("table", "csv", "json"), default="table",
                   help="table (default), csv, or json (the standard SPARQL 1.1 results format)")
    v = sub.add_parser("serve", help="serve a store as a read-only SPARQL 1.1 endpoint",
                       description="A read-only SPARQL 1.1 Protocol endpoint over a store written by "
                                   "'kg-reasoner assess --store' (do not write to the store while serving it).")
    v.add_argument("--store", required=True, metavar="PATH")
    v.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1: this machine only)")
    v.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    v.add_argument("--timeout", type=float, default=10.0, metavar="S", help="time limit per query (default 10 s)")
    v.add_argument("--max-rows", type=int, default=10_000, metavar="N",
                   help="result-size limit in rows or triples (default 10,000)")
    v.add_argument("--max-bytes", type=int, default=50_000_000, metavar="N",
                   help="result-size limit in bytes (default 50,000,000)")
    v.add_argument("--max-queries", type=int, default=4, metavar="N",
                   help="query processes at once; more requests queue (default 4)")
    v.add_argument("--queue-wait", type=float, default=10.0, metavar="S",
                   help="seconds a request may wait in that queue before it gets 503 (default 10)")
    v.add_argument("--verbose", action="store_true", help="log every request on stderr")
    v.add_argument("--cors", action="append", default=[], metavar="ORIGIN",
                   help="a web origin (e.g. https://notebooks.example.org) whose pages may read the results; "
                        "repeatable. Default: none (no Access-Control-Allow-Origin header)")
    v.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="a host name clients use to reach the endpoint, besides the bound address and "
                        "localhost; other Host headers are refused (DNS rebinding); repeatable")
    r = sub.add_parser("release", help="check the ontology and write its release artefacts",
                       description="Check the bundled ontology (OWL 2 RL profile, quality-control queries, "
                                   "HermiT) and, when every check passes, write it as Turtle, RDF/XML and "
                                   "JSON-LD with a Protégé catalog, pyLODE HTML documentation and release.json. "
                                   "Needs the 'ontology' extra (owlready2, pyLODE) and Java.")
    r.add_argument("--out", metavar="DIR", help=f"output folder (default dist/ontology/{__version__}; replaced)")
    r.add_argument("--no-html", action="store_true", help="skip the HTML documentation")
    r.add_argument("--skip-hermit", action="store_true", help="skip the HermiT check (no Java here)")
    return p


def release_main(args) -> int:
    from kg_reasoner.ontology_checks import ReasonerUnavailable
    from kg_reasoner.release import ReleaseCheckFailed, release
    try:
        report = release(args.out, html=not args.no_html, hermit=not args.skip_hermit)
    except ReleaseCheckFailed as exc:
        print(f"kg-reasoner release: {exc}", file=sys.stderr)
        return EXIT_NOT_ASSESSED
    except (ImportError, ReasonerUnavailable) as exc:
        print(f"kg-reasoner release: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    print(f"kg-reasoner release {report.version}: {len(report.files)} files in {report.out}; "
          f"see {report.out / 'release.json'}", file=sys.stderr)
    return EXIT_OK


def serve_main(args) -> int:
    from kg_reasoner.endpoint import Access, Limits, make_server
    if not os.path.isdir(args.store):
        print(f"kg-reasoner: file {args.store}: is not a store written by 'kg-reasoner assess --store'",
              file=sys.stderr)
        return EXIT_INPUT_ERROR
    try:
        server = make_server(args.store, args.host, args.port,
                             Limits(args.timeout, args.max_rows, max_bytes=args.max_bytes, max_queries=args.max_queries,
                                    queue_wait=args.queue_wait),
                             Access(tuple(args.cors), tuple(args.allow_host)))
    except OSError as exc:
        print(f"kg-reasoner: cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    server.verbose = args.verbose
    host, port = server.server_address[:2]
    print(f"kg-reasoner: SPARQL endpoint on http://{host}:{port}/sparql (store {args.store}); Ctrl-C stops it",
          file=sys.stderr, flush=True)
    def stop(signum, frame):                  # SIGTERM stops the server as Ctrl-C does
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return EXIT_OK


def library_names() -> list[str]:
    from kg_reasoner.resources import query_names
    return query_names()


FORMATS = ("text", "json", "ndjson", "csv", "turtle", "trig")
#: Formats whose output is one line (or row) per patient: they can be appended to and resumed.
RESUMABLE = ("ndjson", "csv")
CSV_FIELDS = ("patient", "status", "rules", "missing", "flags", "source")


def format_one(a, fmt: str) -> str:
    """One patient's output in a format (a complete record: lines are never split across patients)."""
    if fmt in ("json", "ndjson"):
        return json.dumps(a.to_dict(), indent=2 if fmt == "json" else None, default=str, ensure_ascii=False)
    if fmt == "csv":
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(
            [a.patient, a.status or "", ";".join(a.rules), ";".join(a.missing), ";".join(a.flags), a.source or ""])
        return buf.getvalue()
    if fmt == "turtle":
        return a.to_turtle() + "\n"
    if fmt == "trig":
        return a.dataset.serialize(format="trig")
    return a.to_text()


def _summary(a) -> tuple:
    return (a.patient, a.source, a.status, a.assessed, tuple(r["id"] for r in a.fired_rules))


# -- worker processes (--jobs) -----------------------------------------------------------------
_worker: dict = {}


def _init_worker(reference_table, ontology, engine="fast", guidance=PROGESTERONE) -> None:
    _worker["reasoner"] = Reasoner(reference_table, ontology, engine=engine, guidance=guidance)


def _guidance(args) -> Guidance:
    if not args.guidance_module:
        return PROGESTERONE
    return Guidance.from_files("custom", args.guidance_module, args.guidance_rules)


def _assess_in_worker(job: tuple) -> tuple:
    fmt, pid, iri, source, problems, ntriples, *store = job
    from rdflib import Graph, URIRef
    from kg_reasoner.loader import PatientInput
    pi = PatientInput(pid, URIRef(iri), Graph().parse(data=ntriples, format="nt"), source, problems)
    a = _worker["reasoner"].assess_input(pi)
    return _outcome(a, fmt, bool(store))


def _outcome(a, fmt: str, with_graphs: bool) -> tuple:
    """The formatted outcome and its summary, and the patient's two graphs as N-Quads for --store."""
    if with_graphs:
        return format_one(a, fmt), _summary(a), a.dataset.serialize(format="nquads")
    return format_one(a, fmt), _summary(a)


def _done(pi, skip: set) -> bool:
    """Whether --resume already holds this patient: keyed by id and source (an old CSV without a source
    column, by id)."""
    return (pi.patient_id, pi.source) in skip or (pi.patient_id, None) in skip


def _results(reasoner: Reasoner, args, skip: set) -> Iterator[InputError | tuple[str, tuple]]:
    """Formatted outcomes in input order, or the errors of what could not be read."""
    inputs = (item for item in reasoner.read_many(args.inputs)
              if isinstance(item, InputError) or not _done(item, skip))
    if args.jobs <= 1 and not args.dask:
        for item in inputs:
            if isinstance(item, InputError):
                yield item
            else:
                yield _outcome(reasoner.assess_input(item), args.format, bool(args.store))
        return
    def jobs():
        for item in inputs:
            if isinstance(item, InputError):
                yield item
            else:
                yield (args.format, item.patient_id, str(item.iri), item.source, item.data_problems,
                       item.graph.serialize(format="nt")) + (("store",) if args.store else ())

    if args.dask:
        from kg_reasoner.distributed import dask_results
        config = (args.reference_table, tuple(args.ontology), args.engine, _guidance(args))
        yield from dask_results(args.dask, jobs(), config)
        return
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(args.jobs, initializer=_init_worker,
                  initargs=(args.reference_table, args.ontology, args.engine, _guidance(args))) as pool:
        yield from ordered_bounded(lambda job: pool.apply_async(_assess_in_worker, (job,)), jobs(),
                                   window=args.jobs * 16)


def ordered_bounded(submit, items, window: int):
    """Submit every job of ``items`` (InputErrors pass straight through, in their place) and yield
    the results in input order, with at most ``window`` jobs in flight: memory stays bounded
    however large the cohort (multiprocessing's imap would read the whole input ahead)."""
    from collections import deque
    pending: deque = deque()
    for item in items:
        pending.append(item if isinstance(item, InputError) else submit(item))
        while len(pending) > window or (pending and isinstance(pending[0], InputError)):
            head = pending.popleft()
            yield head if isinstance(head, InputError) else head.get() if hasattr(head, "get") else head.result()
    while pending:
        head = pending.popleft()
        yield head if isinstance(head, InputError) else head.get() if hasattr(head, "get") else head.result()


def _drop_incomplete_last_line(path: str) -> None:
    """An interrupted run may leave a partial last line; it is removed before appending (complete
    records are never touched) and that patient is assessed again."""
    with open(path, "rb+") as fh:
        data = fh.read()
        if data and not data.endswith(b"\n"):
            fh.truncate(data.rfind(b"\n") + 1)


def _already_written(path: str, fmt: str) -> set:
    if not os.path.exists(path):
        return set()
    _drop_incomplete_last_line(path)
    done = set()       # (patient id, source): the same id read from another source is another patient
    with open(path, encoding="utf-8") as fh:
        if fmt == "ndjson":
            for line in fh:
                try:
                    row = json.loads(line)
                    done.add((row["patient"], row.get("source")))
                except (ValueError, KeyError, TypeError, AttributeError):
                    continue   # a line cut by an interruption is assessed again
        else:
            done = {(row[0], row[5] if len(row) > 5 else None) for row in csv.reader(fh) if row and row[0] != "patient"}
    return done


def query_main(args, parser) -> int:
    from kg_reasoner.resources import read_text
    from kg_reasoner.store import CohortStore, QueryError, load_files, parse_binding, rdflib_query, serialize
    given = [x for x in (args.file, args.query, args.name) if x]
    if len(given) != 1:
        parser.error("give exactly one of FILE.rq, --query TEXT or --name NAME")
    if bool(args.store) == bool(args.data):
        parser.error("give either --store PATH or --data FILE...")
    try:
        if args.name:
            if args.name not in library_names():
                parser.error(f"no query named {args.name!r}; the library has: {', '.join(library_names())}")
            text = read_text("queries", f"{args.name}.rq")
        elif args.file:
            try:
                text = open(args.file, encoding="utf-8").read()
            except OSError as exc:
                raise InputError(f"cannot be read: {exc.strerror}", source=args.file) from None
        else:
            text = args.query
        bindings = dict(parse_binding(b) for b in args.bind)
        if args.store:
            if not os.path.isdir(args.store):
                raise InputError("is not a store written by 'kg-reasoner assess --store'", source=args.store)
            result = CohortStore(args.store, read_only=True).query(text, bindings)
        else:
            result = rdflib_query(load_files(args.data, Reasoner(engine="reference").kb), text, bindings)
        sys.stdout.write(serialize(result, args.format))
    except (QueryError, KgReasonerError) as exc:
        print(f"kg-reasoner: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    return EXIT_OK


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
    if args.resume and (args.format not in RESUMABLE or not args.output):
        parser.error(f"--resume needs --output FILE with --format {' or '.join(RESUMABLE)}")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if args.guidance_rules and not args.guidance_module:
        parser.error("--guidance-rules needs --guidance-module")
    try:
        reasoner = Reasoner(args.reference_table, args.ontology, engine=args.engine, guidance=_guidance(args))
    except KgReasonerError as exc:
        print(f"kg-reasoner: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    skip = _already_written(args.output, args.format) if args.resume else set()
    appending = bool(skip) or (args.resume and args.output and os.path.exists(args.output))
    store = None
    if args.store:
        from kg_reasoner.store import CohortStore
        try:
            store = CohortStore(args.store)
        except KgReasonerError as exc:
            print(f"kg-reasoner: {exc}", file=sys.stderr)
            return EXIT_INPUT_ERROR
        store.ensure_ontology(reasoner.kb)
    try:
        out = Output(args.output, args.inputs, appending) if args.output else sys.stdout
    except (InputError, OSError) as exc:
        print(f"kg-reasoner: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    statuses: Counter = Counter()
    rules: Counter = Counter()
    counts = Counter()
    first, finished = True, False
    try:
        if args.format == "json":
            out.write("[")
        elif args.format == "csv" and not appending:
            out.write(",".join(CSV_FIELDS) + "\n")
        progress = Progress(args.inputs, enabled=not args.quiet and sys.stderr.isatty() and out is not sys.stderr)
        for item in _results(reasoner, args, skip):
            progress.step()
            if isinstance(item, InputError):
                counts["unreadable"] += 1
                print(f"kg-reasoner: error: {item}", file=sys.stderr)
                continue
            text, (pid, source, status, assessed, fired), *graphs = item
            if store is not None and graphs:
                try:
                    store.put_nquads(graphs[0])
                except InputError as exc:    # refused by the store: said, and the run goes on
                    counts["unreadable"] += 1
                    print(f"kg-reasoner: error: patient {pid}: {exc}", file=sys.stderr)
                    continue
            counts["assessed" if assessed else "not assessed"] += 1
            statuses[status or "not assessed"] += 1
            rules.update(fired)
            if not assessed:
                print(f"kg-reasoner: patient {pid} ({source}) was not assessed: see data_problems", file=sys.stderr)
            if args.format == "json":
                out.write(("\n" if first else ",\n") + text)
            elif args.format == "ndjson":
                out.write(text + "\n")
            else:
                out.write(text if args.format != "text" or first else "\n" + text)
            out.flush()
            first = False
        if args.format == "json":
            out.write("\n]\n" if not first else "]\n")
        finished = True
    except KeyboardInterrupt:
        finished = True       # every outcome written so far is complete: kept, and resumable
        if args.format == "json":
            out.write("\n]\n" if not first else "]\n")     # still a valid JSON array
        print("kg-reasoner: interrupted; every outcome written so far is complete"
              + (" (rerun with --resume to continue)" if args.format in RESUMABLE and args.output else ""),
              file=sys.stderr)
        return EXIT_INTERRUPTED
    except InputError as exc:  # the output cannot be written (a full disk, /dev/full): said, FILE left as it was
        print(f"kg-reasoner: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    finally:
        if "progress" in locals():
            progress.close()
        if store is not None:
            store.flush()
        if out is not sys.stdout:
            # the finished (or interrupted, resumable) output replaces FILE only now; after a failure FILE
            # keeps what it held
            out.close() if finished else out.discard()
    if not args.quiet:
        print(f"kg-reasoner: {counts['assessed']} assessed, {counts['not assessed']} not assessed, "
              f"{counts['unreadable']} unreadable" + (f", {len(skip)} skipped (--resume)" if skip else ""),
              file=sys.stderr)
        if statuses:
            print("kg-reasoner: statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())),
                  file=sys.stderr)
        if rules:
            print("kg-reasoner: rules fired: " + ", ".join(f"{k} {v}" for k, v in sorted(rules.items())),
                  file=sys.stderr)
    if counts["unreadable"]:
        return EXIT_INPUT_ERROR
    return EXIT_NOT_ASSESSED if counts["not assessed"] else EXIT_OK


class Output:
    """``--output FILE``: written to a temporary file beside FILE and renamed over it when the run ends,
    so that FILE is never emptied before anything can fail; appended to in place with --resume. An
    output that is also an input, or lies inside an input directory, is refused. A device (e.g.
    /dev/null) is written directly."""

    def __init__(self, path: str, inputs: Sequence[str], appending: bool):
        target = Path(path).resolve()
        for given in inputs:
            source = Path(given).resolve()
            if target == source or (source.is_dir() and source in target.parents):
                raise InputError("is also an input (or lies in an input folder): writing it would destroy or "
                                 "re-read the data; choose another output file", source=path)
        if not target.parent.is_dir():
            raise InputError(f"cannot be written: the folder {target.parent} does not exist", source=path)
        self.path, self.tmp = target, None
        if appending or (target.exists() and not target.is_file()):
            self.fh = open(target, "a" if appending else "w", encoding="utf-8")
        else:
            fd, self.tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(self.tmp, 0o666 & ~umask)        # the mode a plain open() would have given FILE
            self.fh = os.fdopen(fd, "w", encoding="utf-8")

    def write(self, text: str) -> int:
        try:
            return self.fh.write(text)
        except OSError as exc:
            raise InputError(f"cannot be written: {exc.strerror or exc}", source=str(self.path)) from None

    def flush(self) -> None:
        try:
            self.fh.flush()
        except OSError as exc:
            raise InputError(f"cannot be written: {exc.strerror or exc}", source=str(self.path)) from None

    def close(self) -> None:
        self.fh.close()
        if self.tmp is not None:
            os.replace(self.tmp, self.path)

    def discard(self) -> None:
        self.fh.close()
        if self.tmp is not None and os.path.exists(self.tmp):
            os.unlink(self.tmp)


def run() -> None:  # console-script entry point
    try:
        sys.exit(main())
    except BrokenPipeError:          # the reader went away (e.g. `| head`): stop quietly, as Unix tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(EXIT_OK)


if __name__ == "__main__":
    run()
