"""``kg-reasoner check MODULE.ttl... [--rules RULES.ttl ...] [--source TXT]``: every check of a guidance module, with the
packaged core, as text or JSON (``kg_reasoner.curation.module``)."""

from __future__ import annotations

import json
import sys

from kg_reasoner.cli.common import EXIT_FINDINGS, EXIT_INPUT_ERROR, EXIT_OK
from kg_reasoner.errors import KgReasonerError


def check_main(args) -> int:
    from kg_reasoner.curation.module import check_module

    try:
        report = check_module(args.module, args.rules, hermit=not args.skip_hermit, source=args.source)
    except KgReasonerError as exc:
        print(f"kg-reasoner check: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    if args.format == "json":
        sys.stdout.write(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(report.to_text())
    return EXIT_OK if report.clean else EXIT_FINDINGS
