"""Command line: ``kg-reasoner assess FILE... [--format text|json|turtle]``.

Exit codes (few, and the same for every command):

  0  every patient of every input was read and assessed
  1  every input was read, but some patient could not be assessed
     (fail closed: inconsistent or invalid data; see data_problems)
  2  some input could not be read (bad file, bad patient record), or the
     command line was wrong; the other patients were still assessed
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from kg_reasoner import __version__
from kg_reasoner.api import Reasoner
from kg_reasoner.errors import InputError, KgReasonerError

EXIT_OK, EXIT_NOT_ASSESSED, EXIT_INPUT_ERROR = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kg-reasoner",
        description="Knowledge-graph reasoning for clinical guidance: can progesterone prevent miscarriage?",
        epilog="Exit codes: 0 all assessed; 1 some patient could not be assessed (fail closed); "
               "2 some input could not be read, or bad arguments.",
    )
    p.add_argument("--version", action="version", version=f"kg-reasoner {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("assess", help="assess patients from files and directories",
                       description="Assess every patient of the given files and directories: patient summary "
                                   "JSON (one object or an array), Turtle (.ttl), N-Triples (.nt) or JSON-LD "
                                   "(.jsonld) in the kg-reasoner vocabulary.")
    a.add_argument("inputs", nargs="+", metavar="FILE", help="files or directories (searched recursively)")
    a.add_argument("--format", choices=("text", "json", "turtle"), default="text",
                   help="text: readable explanation (default); json: one array of outcome objects; "
                        "turtle: asserted and inferred graphs with the ontology context")
    a.add_argument("--reference-table", metavar="TTL",
                   help="Turtle file replacing the default serum progesterone reference table")
    a.add_argument("--ontology", action="append", default=[], metavar="TTL",
                   help="extra ontology file loaded beside the bundled guidance (repeatable)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        reasoner = Reasoner(args.reference_table, args.ontology)
    except KgReasonerError as exc:
        print(f"kg-reasoner: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    out = sys.stdout
    read_error = not_assessed = False
    first = True
    if args.format == "json":
        out.write("[")
    for item in reasoner.assess_many(args.inputs):
        if isinstance(item, InputError):
            read_error = True
            print(f"kg-reasoner: error: {item}", file=sys.stderr)
            continue
        if not item.assessed:
            not_assessed = True
            print(f"kg-reasoner: patient {item.patient} ({item.source}) was not assessed: see data_problems",
                  file=sys.stderr)
        if args.format == "json":
            out.write(("\n" if first else ",\n") + json.dumps(item.to_dict(), indent=2, default=str,
                                                                ensure_ascii=False))
        elif args.format == "turtle":
            out.write(item.to_turtle() + "\n")
        else:
            out.write(("" if first else "\n") + item.to_text())
        out.flush()
        first = False
    if args.format == "json":
        out.write("\n]\n" if not first else "]\n")
    if read_error:
        return EXIT_INPUT_ERROR
    return EXIT_NOT_ASSESSED if not_assessed else EXIT_OK


def run() -> None:  # console-script entry point
    sys.exit(main())


if __name__ == "__main__":
    run()
