"""``kg-reasoner serve``: the read-only SPARQL endpoint over a cohort store."""

from __future__ import annotations

import os
import signal
import sys

from kg_reasoner.cli.common import EXIT_INPUT_ERROR, EXIT_OK


def serve_main(args) -> int:
    from kg_reasoner.serve.endpoint import Access, Limits, make_server

    if not os.path.isdir(args.store):
        print(
            f"kg-reasoner: file {args.store}: is not a store written by 'kg-reasoner assess --store'", file=sys.stderr
        )
        return EXIT_INPUT_ERROR
    try:
        server = make_server(
            args.store,
            args.host,
            args.port,
            Limits(
                args.timeout,
                args.max_rows,
                max_bytes=args.max_bytes,
                max_queries=args.max_queries,
                queue_wait=args.queue_wait,
            ),
            Access(tuple(args.cors), tuple(args.allow_host)),
        )
    except OSError as exc:
        print(f"kg-reasoner: cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    server.verbose = args.verbose
    host, port = server.server_address[:2]
    print(
        f"kg-reasoner: SPARQL endpoint on http://{host}:{port}/sparql (store {args.store}); Ctrl-C stops it",
        file=sys.stderr,
        flush=True,
    )

    def stop(signum, frame):  # SIGTERM stops the server as Ctrl-C does
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return EXIT_OK
