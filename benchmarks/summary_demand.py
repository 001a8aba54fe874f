"""A worker's CPU per summary row (``--format csv``) with and without ``FastEngine.skip_undemanded`` (the
rules no summary query reads left out), on the same seeded patients, in blocks of 100 that alternate which
setting goes first (the second run of a block is a little faster: warm caches). Prints figures, asserts
nothing.

    python benchmarks/summary_demand.py [--n 3000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv=None) -> None:
    from kg_reasoner.api import Reasoner, init_worker
    from kg_reasoner.cohort.batch import assess_job, job
    from kg_reasoner.errors import InputError
    from kg_reasoner.reason.fast import FastEngine
    from kg_reasoner.testing.synthetic import cohort

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=3000, help="patients measured (after 300 of warm-up)")
    args = ap.parse_args(argv)
    reasoner = Reasoner(engine="fast")
    init_worker((None, (), "fast"))
    jobs = [
        job(pi, "csv", False)
        for record in cohort(args.n + 300, seed=11)
        for pi in reasoner.read(record)
        if not isinstance(pi, InputError)
    ]
    for j in jobs[:300]:
        assess_job(j)
    per: dict[bool, list[float]] = {True: [], False: []}
    for rnd, i in enumerate(range(300, len(jobs) - 99, 100)):
        for setting in (True, False) if rnd % 2 == 0 else (False, True):
            FastEngine.skip_undemanded = setting
            started = time.process_time()
            for j in jobs[i : i + 100]:
                assess_job(j)
            per[setting].append(1000 * (time.process_time() - started) / 100)
    FastEngine.skip_undemanded = True
    for setting, times in per.items():
        print(f"skip_undemanded={setting}: median {statistics.median(times):.3f} ms CPU per patient")
    paired = statistics.median([a / b for a, b in zip(per[True], per[False], strict=True)])
    print(f"with / without, median of the {len(per[True])} paired blocks: {paired:.3f}")


if __name__ == "__main__":
    main()
