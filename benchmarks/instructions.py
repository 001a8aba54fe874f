"""CPU instructions per patient of a cohort worker, counted by valgrind (cachegrind): a figure that does not
drift with the machine's load, so a change of 1 % is seen (wall and CPU times on a shared 2-core machine drift
by 10-40 % from run to run). Prints figures, asserts nothing.

    python benchmarks/instructions.py [--format csv|ndjson] [--n 200] [--warm 200] [--seed 11]

Each worker's job is run as the cohort command runs it (``cohort.batch.assess_line`` on a raw line of a
patient-summary NDJSON file of the seeded synthetic cohort). The process is run twice under valgrind, after
``--warm`` patients once with ``--n`` more and once with none: the difference over ``--n`` is the count per
patient, start-up and warm-up left out. Needs valgrind on the PATH (not a dependency of the package); a run of
200 patients takes about a minute.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _child(path: str, fmt: str, warm: int, n: int) -> None:
    """Run in the counted process: ``warm`` jobs, then ``n`` more."""
    sys.path.insert(0, str(HERE.parent))
    from kg_reasoner.api import _CONFIG, Reasoner, init_worker
    from kg_reasoner.cohort.batch import assess_line

    init_worker(Reasoner().config)
    _CONFIG["pool_worker"] = True
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    if len(lines) < warm + n:
        raise SystemExit(f"{path} holds {len(lines)} patients, fewer than --warm + --n ({warm + n})")
    for i, line in enumerate(lines[: warm + n]):
        assess_line((fmt, path, i + 1, line))


def _count(path: str, fmt: str, warm: int, n: int) -> int:
    """Instructions of a whole child run (valgrind's "I refs")."""
    out = subprocess.run(
        [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
            sys.executable,
            __file__,
            "--child",
            path,
            "--format",
            fmt,
            "--warm",
            str(warm),
            "--n",
            str(n),
        ],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ, PYTHONHASHSEED="0"),
    ).stderr
    m = re.search(r"I\s+refs:\s+([\d,]+)", out)
    if m is None:
        raise SystemExit(f"valgrind printed no instruction count:\n{out[-2000:]}")
    return int(m.group(1).replace(",", ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--format", default="csv", choices=("csv", "ndjson"))
    ap.add_argument("--n", type=int, default=200, help="patients counted")
    ap.add_argument("--warm", type=int, default=200, help="patients run first, not counted")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--child", metavar="NDJSON", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child, args.format, args.warm, args.n)
        return
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not on the PATH: this benchmark counts instructions with it")
    sys.path.insert(0, str(HERE))
    from cohort import write_cohort

    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "cohort.ndjson")
        write_cohort(Path(path), args.warm + args.n, args.seed)
        base = _count(path, args.format, args.warm, 0)
        total = _count(path, args.format, args.warm, args.n)
    per = (total - base) / args.n
    print(
        f"{args.format}: {per / 1e6:.2f} million instructions per patient (N={args.n} after {args.warm}, seed "
        f"{args.seed}; start-up and warm-up {base / 1e9:.2f} billion)"
    )


if __name__ == "__main__":
    main()
