"""A worker's CPU per patient with and without one of the fast engine's economies, on the same seeded
patients, in blocks of 100 that alternate which setting goes first (the second run of a block is a little
faster: warm caches), all in one process (this machine's speed drifts more from minute to minute than
the changes measured). Prints figures, asserts nothing.

    python benchmarks/engine_ab.py --change summary-demand [--format csv] [--n 3000]
    python benchmarks/engine_ab.py --change optional-watch [--format csv|ndjson] [--n 3000]
    python benchmarks/engine_ab.py --change step-source [--format csv|ndjson] [--n 3000]
    python benchmarks/engine_ab.py --change whole-rows [--format csv|ndjson] [--n 3000]

* ``summary-demand``: a summary row derives only what its queries read (``FastEngine.skip_undemanded``).
* ``step-source``: a BGP's join steps run as compiled Python source (``step_source``), not interpreted
  (``plans._solve``).
* ``whole-rows``: a join passes its left row whole to a BGP reading only its own variables
  (``plans._takes_the_row``), not a new dict of the values it binds, merged with its solutions after.
* ``optional-watch``: a rule whose class variable comes from an OPTIONAL given to an EXISTS runs again
  only for a class it can read (``shacl_rules.watch_of``); "without" gives such a rule the watch it had
  before (any new type wakes it).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import itertools
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


#: the changes that are a class attribute of the engine switched on and off: (module, class, attribute)
_SWITCHES = {
    "summary-demand": ("kg_reasoner.reason.fast", "FastEngine", "skip_undemanded"),
    "step-source": ("kg_reasoner.reason.plans", "_Bgp", "generated"),
    "whole-rows": ("kg_reasoner.reason.plans", "_Plan", "whole_rows"),
}


def _settings(change: str, reasoner) -> dict:
    """setting name -> a function that puts the engine in that setting."""
    from kg_reasoner.explain.explanation import SUMMARY_QUERIES

    if change in _SWITCHES:
        module, name, attribute = _SWITCHES[change]
        owner = getattr(importlib.import_module(module), name)

        def switch(on: bool):
            return lambda: setattr(owner, attribute, on)

        return {"with": switch(True), "without": switch(False)}
    engine = reasoner._engine
    # the rules whose watch the change made finer: any_type before, places now
    changed = [
        (shape, i, r)
        for shape in engine.rule_shapes
        for i, r in enumerate(shape.rules)
        if r.watch is not None and not r.watch.any_type and "OPTIONAL" in r.text and "EXISTS" in r.text
    ]
    finer = {id(shape): list(shape.rules) for shape, _, _ in changed}
    coarser = {k: list(v) for k, v in finer.items()}
    for shape, i, r in changed:
        coarser[id(shape)][i] = dataclasses.replace(r, watch=dataclasses.replace(r.watch, any_type=True))
        engine.plans[id(coarser[id(shape)][i])] = engine.plans[id(r)]
    shapes = {id(shape): shape for shape, _, _ in changed}

    def use(rules: dict):
        def put():
            for k, shape in shapes.items():
                shape.rules = rules[k]
            engine._demanded.clear()  # (the rules a summary needs, chosen again for these rule objects)
            engine.rules_demanded(SUMMARY_QUERIES)

        return put

    return {"with": use(finer), "without": use(coarser)}


def main(argv=None) -> None:
    from kg_reasoner.api import Reasoner, init_worker, worker_reasoner
    from kg_reasoner.cohort.batch import assess_job, job
    from kg_reasoner.errors import InputError
    from kg_reasoner.testing.synthetic import cohort

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--change", required=True, choices=[*_SWITCHES, "optional-watch"])
    ap.add_argument("--format", default="csv", choices=["csv", "ndjson"])
    ap.add_argument("--n", type=int, default=3000, help="patients measured (after 300 of warm-up)")
    ap.add_argument("--input", help="read the patients from this file (as `assess` does), not the seeded cohort")
    args = ap.parse_args(argv)
    reasoner = Reasoner(engine="fast")
    init_worker((None, (), "fast"))
    settings = _settings(args.change, worker_reasoner(None))
    if args.input:
        read = itertools.islice(reasoner.read_many([args.input]), args.n + 300)
    else:
        read = (pi for record in cohort(args.n + 300, seed=11) for pi in reasoner.read(record))
    jobs = [job(pi, args.format, False) for pi in read if not isinstance(pi, InputError)]
    for j in jobs[:300]:
        assess_job(j)
    per: dict[str, list[float]] = {name: [] for name in settings}
    for rnd, i in enumerate(range(300, len(jobs) - 99, 100)):
        for name in list(settings) if rnd % 2 == 0 else list(settings)[::-1]:
            settings[name]()
            started = time.process_time()
            for j in jobs[i : i + 100]:
                assess_job(j)
            per[name].append(1000 * (time.process_time() - started) / 100)
    settings["with"]()
    for name, times in per.items():
        print(f"{args.change} {name}, --format {args.format}: median {statistics.median(times):.3f} ms CPU per patient")
    paired = statistics.median([a / b for a, b in zip(per["with"], per["without"], strict=True)])
    print(f"with / without, median of the {len(per['with'])} paired blocks: {paired:.3f}")


if __name__ == "__main__":
    main()
