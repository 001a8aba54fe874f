"""In-process latency of the fast engine, one patient at a time: the full explanation (``--format json`` /
``ndjson``) and the summary row (``--format csv``: four explanation queries). Prints figures, asserts nothing.

    python benchmarks/latency.py [--n 500] [--seed 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kg_reasoner import Reasoner  # noqa: E402
from kg_reasoner.testing.synthetic import cohort  # noqa: E402
from kg_reasoner.write.formats import format_one  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    r = Reasoner()
    patients = [pi for p in cohort(args.n, seed=args.seed) for pi in r.read(p)]
    for pi in patients[:20]:  # warm-up
        r.assess_input(pi)
    for label, summary, fmt in (("full explanation (ndjson)", False, "ndjson"), ("summary row (csv)", True, "csv")):
        times = []
        for pi in patients:
            t = time.perf_counter()
            format_one(r.assess_input(pi, summary=summary), fmt)
            times.append((time.perf_counter() - t) * 1000)
        q = statistics.quantiles(times, n=20)
        print(
            f"{label}: N={len(times)} p50 {statistics.median(times):.1f} ms, p95 {q[18]:.1f} ms, "
            f"mean {statistics.mean(times):.1f} ms ({1000 / statistics.mean(times):.0f} patients/s on one core)"
        )


if __name__ == "__main__":
    main()
