"""What every command of the command line shares: the exit codes and the guidance it was asked for."""

from __future__ import annotations

from kg_reasoner.guidance import PROGESTERONE, Guidance

EXIT_OK, EXIT_NOT_ASSESSED, EXIT_INPUT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130

#: ``check`` (and ``release``): a check found an error. The same number as EXIT_NOT_ASSESSED: a problem
#: found in what was read, not a failure to read it.
EXIT_FINDINGS = EXIT_NOT_ASSESSED


def guidance_of(args) -> Guidance:
    if not args.guidance_module:
        return PROGESTERONE
    return Guidance.from_files("custom", args.guidance_module, args.guidance_rules)


def open_store(args, read_only: bool):
    """The store of ``--store``: a folder, or a SPARQL server's URL with its endpoints
    (``--query-endpoint``, ``--graph-store``) and its timeout (``--store-timeout``). Raises InputError when
    it cannot be opened."""
    import math

    from kg_reasoner.cohort.remote import is_url
    from kg_reasoner.cohort.store import CohortStore
    from kg_reasoner.errors import InputError

    server = {}
    if getattr(args, "query_endpoint", None):
        server["query_endpoint"] = args.query_endpoint
    if getattr(args, "graph_store", None):
        server["graph_store"] = args.graph_store
    if getattr(args, "store_timeout", None) is not None:
        if not (math.isfinite(args.store_timeout) and args.store_timeout > 0):
            raise InputError(f"--store-timeout must be a number of seconds above 0, not {args.store_timeout:g}")
        server["timeout"] = args.store_timeout
    if is_url(args.store):
        return CohortStore.open(args.store, read_only=read_only, **server)
    if server:
        raise InputError(
            "--query-endpoint, --graph-store and --store-timeout are for a store on a SPARQL server (an http(s):// URL)"
        )
    if read_only:
        import os

        if not os.path.isdir(args.store):
            raise InputError("is not a store written by 'kg-reasoner assess --store'", source=args.store)
    return CohortStore(args.store, read_only=read_only)
