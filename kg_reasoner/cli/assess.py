"""``kg-reasoner assess``: assess every patient of the inputs and write the outcomes (text, JSON, NDJSON,
CSV, Turtle, TriG), optionally into a cohort store; ``--jobs`` and ``--dask`` spread the work."""

from __future__ import annotations

import os
import sys
from collections import Counter

from kg_reasoner.api import Reasoner
from kg_reasoner.cli.common import EXIT_INPUT_ERROR, EXIT_INTERRUPTED, EXIT_NOT_ASSESSED, EXIT_OK, guidance_of
from kg_reasoner.cli.output import Output, already_written, drop_incomplete_last_line
from kg_reasoner.cli.progress import Progress
from kg_reasoner.cohort.batch import batch_results
from kg_reasoner.errors import InputError, KgReasonerError
from kg_reasoner.write.formats import CSV_FIELDS, RESUMABLE


def assess_main(args, parser) -> int:
    if args.resume and (args.format not in RESUMABLE or not args.output):
        parser.error(f"--resume needs --output FILE with --format {' or '.join(RESUMABLE)}")
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if args.guidance_rules and not args.guidance_module:
        parser.error("--guidance-rules needs --guidance-module")
    try:
        guidance = guidance_of(args)  # (a module that cannot be read: said, never a traceback)
        reasoner = Reasoner(
            args.reference_table, args.ontology, engine=args.engine, guidance=guidance, as_of=args.as_of
        )
    except KgReasonerError as exc:
        print(f"kg-reasoner: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    given = reasoner.as_of_given.isoformat() if reasoner.as_of_given is not None else None
    try:
        skip, times = already_written(args.output, args.format) if args.resume else (set(), set())
    except InputError as exc:
        print(f"kg-reasoner: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    if times - {given}:  # (outcomes assessed as of another time: one file would mix two assessments, unsaid)
        earlier = ", ".join(sorted(t or "the present" for t in times))
        print(
            f"kg-reasoner: --resume: {args.output} holds outcomes assessed as of {earlier}; this run assesses as of "
            f"{given or 'the present'}: give the same --as-of, or another --output",
            file=sys.stderr,
        )
        return EXIT_INPUT_ERROR
    # (an output that exists but is empty is written anew: with its CSV header)
    appending = bool(skip) or (args.resume and args.output and os.path.exists(args.output) and _written(args.output))
    if appending:
        drop_incomplete_last_line(args.output)
    store = None
    if args.store:
        from kg_reasoner.cli.common import open_store

        try:
            store = open_store(args, read_only=False)
            store.ensure_ontology(reasoner.kb)
        except KgReasonerError as exc:
            print(f"kg-reasoner: {exc}", file=sys.stderr)
            return EXIT_INPUT_ERROR
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
        config = reasoner.config
        if args.dask:
            from kg_reasoner.cohort.dask import dask_batch_results  # the dask extra, only when asked for

            results = dask_batch_results(
                args.dask, reasoner, args.inputs, fmt=args.format, store=bool(args.store), config=config, skip=skip
            )
        else:
            results = batch_results(
                reasoner, args.inputs, fmt=args.format, store=bool(args.store), jobs=args.jobs, config=config, skip=skip
            )
        for item in results:
            progress.step()
            if isinstance(item, InputError):
                counts["unreadable"] += 1
                print(f"kg-reasoner: error: {item}", file=sys.stderr)
                continue
            text, (pid, source, status, assessed, fired), *graphs = item
            if store is not None and graphs:
                try:
                    store.put_nquads(graphs[0])
                except InputError as exc:  # refused by the store: said, and the run goes on
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
        finished = True  # every outcome written so far is complete: kept, and resumable
        if args.format == "json":
            out.write("\n]\n" if not first else "]\n")  # still a valid JSON array
        print(
            "kg-reasoner: interrupted; every outcome written so far is complete"
            + (" (rerun with --resume to continue)" if args.format in RESUMABLE and args.output else ""),
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except InputError as exc:  # the output cannot be written (a full disk, /dev/full): said, FILE left as it was
        print(f"kg-reasoner: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    finally:
        if "progress" in locals():
            progress.close()
        if store is not None:
            store.close()  # flushed, and its files and lock released, or the connection kept alive to its server
        if out is not sys.stdout:
            # the finished (or interrupted, resumable) output replaces FILE only now; after a failure FILE
            # keeps what it held
            out.close() if finished else out.discard()
    if not args.quiet:
        print(
            f"kg-reasoner: {counts['assessed']} assessed, {counts['not assessed']} not assessed, "
            f"{counts['unreadable']} unreadable" + (f", {len(skip)} skipped (--resume)" if skip else ""),
            file=sys.stderr,
        )
        if statuses:
            print(
                "kg-reasoner: statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())), file=sys.stderr
            )
        if rules:
            print(
                "kg-reasoner: rules fired: " + ", ".join(f"{k} {v}" for k, v in sorted(rules.items())), file=sys.stderr
            )
    if counts["unreadable"]:
        return EXIT_INPUT_ERROR
    return EXIT_NOT_ASSESSED if counts["not assessed"] else EXIT_OK


def _written(path: str) -> bool:
    """Whether an output file holds anything (a device, such as /dev/null, is taken to)."""
    try:
        return not os.path.isfile(path) or os.path.getsize(path) > 0
    except OSError:
        return True
