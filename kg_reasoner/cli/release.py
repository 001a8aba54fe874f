"""``kg-reasoner release``: check the bundled ontology and write its release files."""

from __future__ import annotations

import sys

from kg_reasoner.cli.common import EXIT_FINDINGS, EXIT_INPUT_ERROR, EXIT_OK


def release_main(args) -> int:
    from kg_reasoner.curation.checks import ReasonerUnavailable
    from kg_reasoner.curation.release import ReleaseCheckFailed, release

    try:
        report = release(args.out, html=not args.no_html, hermit=not args.skip_hermit)
    except ReleaseCheckFailed as exc:
        print(f"kg-reasoner release: {exc}", file=sys.stderr)
        return EXIT_FINDINGS
    except (ImportError, ReasonerUnavailable) as exc:
        print(f"kg-reasoner release: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    print(
        f"kg-reasoner release {report.version}: {len(report.files)} files in {report.out}; "
        f"see {report.out / 'release.json'}",
        file=sys.stderr,
    )
    return EXIT_OK
