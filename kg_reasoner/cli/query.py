"""``kg-reasoner query``: a library or own SPARQL query over a cohort store or over files."""

from __future__ import annotations

import sys

from kg_reasoner.api import Reasoner
from kg_reasoner.cli.common import EXIT_INPUT_ERROR, EXIT_OK
from kg_reasoner.errors import InputError, KgReasonerError


def library_names() -> list[str]:
    from kg_reasoner.resources import query_names

    return query_names()


def cli_binding(text: str) -> tuple:
    """``--bind var=value`` (``cohort.store.parse_binding``), with ``patient=`` taking a patient id or IRI as
    the Python API's ``patient=`` does (``--bind patient=P01``: her IRI, not the string "P01")."""
    from rdflib import Literal

    from kg_reasoner.cohort.store import parse_binding
    from kg_reasoner.explain.results import patient_term

    var, value = parse_binding(text)
    raw = text.split("=", 1)[1].strip()
    if var == "patient" and isinstance(value, Literal) and not raw.startswith('"'):
        return var, patient_term(str(value))
    return var, value


def query_main(args, parser) -> int:
    from kg_reasoner.cli.common import open_store
    from kg_reasoner.cohort.store import QueryError, load_files, rdflib_query, serialize
    from kg_reasoner.resources import read_text

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
        bindings = dict(cli_binding(b) for b in args.bind)
        if args.store:
            store = open_store(args, read_only=True)
            try:
                result = store.query(text, bindings)
            finally:
                store.close()  # (a store on a server: its kept-alive connection)
        else:
            result = rdflib_query(load_files(args.data, Reasoner(engine="reference").kb), text, bindings)
        sys.stdout.write(serialize(result, args.format))
    except (QueryError, KgReasonerError) as exc:
        print(f"kg-reasoner: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    return EXIT_OK
