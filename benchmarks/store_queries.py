"""Time of the query library's cohort-level queries on an on-disk store. Prints figures; asserts nothing.

    python benchmarks/store_queries.py [--n 10000] [--jobs 2] [--output benchmarks/store-results.md]

Builds a store of N seeded synthetic patients with ``kg-reasoner assess --store`` (timed), then runs
each library query unbound (the whole cohort) three times on the store and reports the median
wall time and the number of rows.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COHORT_QUERIES = {
    "status-counts": {},
    "patients-by-status": {},
    "rule-firing-counts": {},
    "flags-across-cohort": {},
    "missing-data": {},
    "evidence-for-conclusion": {},
    "indicated-without-followup-test": {"since": "2026-11-25T00:00:00Z"},
    "why-rule-not-fired": {"ruleCode": '"R1"'},
}


def main(argv=None) -> None:
    from kg_reasoner.cohort.store import CohortStore, parse_binding, rows
    from kg_reasoner.resources import read_text
    from kg_reasoner.testing.synthetic import cohort

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--output", default=str(ROOT / "benchmarks" / "store-results.md"))
    args = ap.parse_args(argv)
    lines = [
        f"# Query library on a {args.n:,}-patient store",
        "",
        f"Command: `python benchmarks/store_queries.py --n {args.n} --jobs {args.jobs}`.",
        "",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        data, store_path = Path(tmp) / "cohort.ndjson", Path(tmp) / "store"
        with data.open("w") as fh:
            for p in cohort(args.n, seed=2026):
                fh.write(json.dumps(p) + "\n")
        t = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "kg_reasoner",
                "assess",
                str(data),
                "--format",
                "csv",
                "--output",
                str(Path(tmp) / "out.csv"),
                "--store",
                str(store_path),
                "--jobs",
                str(args.jobs),
                "--quiet",
            ],
            check=False,
            env=dict(os.environ),
        )
        build = time.perf_counter() - t
        store = CohortStore(store_path, read_only=True)
        size = rows(store.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"))[1][0][0]
        lines.append(
            f"Store built by `assess --store --jobs {args.jobs}` in {build:.0f} s "
            f"({args.n / build:,.0f} patients/s); {int(size):,} quads."
        )
        lines += ["", "| query | rows | median of 3 (s) |", "|---|---:|---:|"]
        for name, binding in COHORT_QUERIES.items():
            text = read_text("queries", f"{name}.rq")
            bindings = dict(parse_binding(f"{k}={v}") for k, v in binding.items())
            times, n = [], 0
            for _ in range(3):
                t = time.perf_counter()
                n = len(rows(store.query(text, bindings))[1])
                times.append(time.perf_counter() - t)
            lines.append(
                f"| `{name}`{' ' + str(binding) if binding else ''} | {n:,} | {statistics.median(times):.2f} |"
            )
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.output).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
