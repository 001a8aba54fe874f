"""Is a cohort run's cost linear in N? Prints, block by block over one long seeded synthetic cohort, the CPU
time per patient and the resident memory of each side of a ``--jobs`` run, measured apart so that the other
side and the machine's other work do not blur them. Prints figures, asserts nothing.

    python benchmarks/linearity.py main   [--n 100000] [--block 10000]
    python benchmarks/linearity.py worker [--n 20000]  [--block 2000] [--format csv|ndjson]

* ``main``: what the main process does for each patient of ``kg-reasoner assess COHORT.ndjson --jobs N``:
  split off the raw line, turn it into a job and pickle it for a worker, and admit the patient the worker
  read (the run-wide checks: a patient id read twice, a node two patients describe). ``--reads``: the main
  process of a run whose inputs it reads itself (FHIR, JSON, RDF; NDJSON before the workers read raw
  lines): read the patient, the checks, the job of her triples pickled.
* ``worker``: what a worker does for each job of an NDJSON run: read the raw line, assess the patient (fast
  engine) and format her outcome.

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


def main_side(n: int, block: int, reads: bool) -> None:
    from cohort import write_cohort  # (benchmarks/cohort.py, beside this script)

    from kg_reasoner.api import Reasoner
    from kg_reasoner.cohort.batch import line_job, queued_jobs
    from kg_reasoner.read.claims import RunClaims, claim_of
    from kg_reasoner.read.files import read_summary_line, summary_lines

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cohort.ndjson"
        write_cohort(path, n, seed=11)
        reasoner = Reasoner(engine="fast")
        claims, taken = RunClaims(), 0.0
        started, i = time.process_time(), 0
        jobs = queued_jobs(reasoner, [path], fmt="csv", store=False) if reads else summary_lines(path)
        for job in jobs:
            if not reads and isinstance(job, tuple):
                lineno, line = job
                job = line_job("csv", path, lineno, line, store=False)
                t = time.process_time()  # what the worker hands back, made untimed: her IRI, source, nodes
                pi = read_summary_line(reasoner.reader, path, lineno, line)
                claim = None if isinstance(pi, Exception) else claim_of(pi)
                taken += time.process_time() - t
                if claim is not None:
                    claims.admit_unchanged(claim)
            pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
            i += 1
            if i % block == 0:
                now = time.process_time()
                _report(i, block, now - started - taken)
                started, taken = now, 0.0


def worker_side(n: int, block: int, fmt: str) -> None:
    import json

    from kg_reasoner.api import init_worker
    from kg_reasoner.cohort.batch import assess_line, line_job
    from kg_reasoner.testing.synthetic import cohort

    init_worker((None, (), "fast"))
    # the jobs are made as they are used (a list of 100,000 would be memory of this script, not a worker's);
    # making them is timed apart and left out
    made = 0.0
    started, i = time.process_time(), 0
    for record in cohort(n, seed=11):
        t = time.process_time()
        job = line_job(fmt, Path("cohort.ndjson"), i + 1, json.dumps(record), store=False)
        made += time.process_time() - t
        assess_line(job)
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
    ap.add_argument("--reads", action="store_true", help="main: the main process reads the patients itself")
    args = ap.parse_args(argv)
    n = args.n or (100_000 if args.side == "main" else 20_000)
    block = args.block or max(1, n // 10)
    print(f"# {args.side} side, N = {n:,}" + (f", --format {args.format}" if args.side == "worker" else ""))
    if args.side == "main":
        main_side(n, block, args.reads)
    else:
        worker_side(n, block, args.format)


if __name__ == "__main__":
    main()
