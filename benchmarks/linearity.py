"""Is a cohort run's cost linear in N? Prints, block by block over one long seeded synthetic cohort, the CPU
time per patient and the resident memory of each side of a ``--jobs`` run, measured apart so that the other
side and the machine's other work do not blur them. Prints figures, asserts nothing.

    python benchmarks/linearity.py main   [--n 100000] [--block 10000]
    python benchmarks/linearity.py worker [--n 20000]  [--block 2000] [--format csv|ndjson]

* ``main``: what the main process does for each patient of ``kg-reasoner assess COHORT.ndjson --jobs N``:
  read the NDJSON line, keep the run-wide checks (a patient id read twice, a node two patients describe),
  turn the patient into a job and pickle it for a worker.
* ``worker``: what a worker does for each job: assess the patient (fast engine) and format her outcome.

Flat CPU per patient and flat memory (once the caches are warm) mean linear cost. CPU time, not wall time,
is printed: on a shared machine it is the steadier of the two (it still varies by 10-20% from block to
block with what the other core does).
"""

from __future__ import annotations

import argparse
import pickle
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _rss_mb() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    return 0


def _report(i: int, block: int, cpu: float) -> None:
    print(f"{i:>9,} patients  {1000 * cpu / block:7.3f} ms CPU/patient  RSS {_rss_mb():5d} MB", flush=True)


def main_side(n: int, block: int) -> None:
    from cohort import write_cohort  # (benchmarks/cohort.py, beside this script)

    from kg_reasoner.api import Reasoner
    from kg_reasoner.cohort.batch import queued_jobs

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cohort.ndjson"
        write_cohort(path, n, seed=11)
        reasoner = Reasoner(engine="fast")
        started, i = time.process_time(), 0
        for job in queued_jobs(reasoner, [path], fmt="csv", store=False):
            pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
            i += 1
            if i % block == 0:
                now = time.process_time()
                _report(i, block, now - started)
                started = now


def worker_side(n: int, block: int, fmt: str) -> None:
    from kg_reasoner.api import Reasoner, init_worker
    from kg_reasoner.cohort.batch import assess_job, job
    from kg_reasoner.errors import InputError
    from kg_reasoner.testing.synthetic import cohort

    reasoner = Reasoner(engine="fast")
    init_worker((None, (), "fast"))
    # the jobs are made as they are used (a list of 100,000 would be memory of this script, not a worker's);
    # making them is timed apart and left out
    made = 0.0
    started, i = time.process_time(), 0
    for record in cohort(n, seed=11):
        t = time.process_time()
        jobs = [job(pi, fmt, False) for pi in reasoner.read(record) if not isinstance(pi, InputError)]
        made += time.process_time() - t
        for j in jobs:
            assess_job(j)
        i += 1
        if i % block == 0:
            now = time.process_time()
            _report(i, block, now - started - made)
            started, made = now, 0.0


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("side", choices=["main", "worker"])
    ap.add_argument("--n", type=int, help="patients (default: 100,000 for main, 20,000 for worker)")
    ap.add_argument("--block", type=int, help="patients per printed line (default: n / 10)")
    ap.add_argument("--format", default="csv", choices=["csv", "ndjson"], help="the worker's output format")
    args = ap.parse_args(argv)
    n = args.n or (100_000 if args.side == "main" else 20_000)
    block = args.block or max(1, n // 10)
    print(f"# {args.side} side, N = {n:,}" + (f", --format {args.format}" if args.side == "worker" else ""))
    if args.side == "main":
        main_side(n, block)
    else:
        worker_side(n, block, args.format)


if __name__ == "__main__":
    main()
