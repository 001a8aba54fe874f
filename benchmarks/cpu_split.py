"""Where a command-line run's CPU goes: runs ``kg-reasoner ARGS`` in this process and prints, at the end, the
wall time and the CPU time of this (the main) process and of its worker processes (``--jobs N``).
Prints figures, asserts nothing.

    python benchmarks/cpu_split.py assess COHORT.ndjson --format csv --jobs 2 --output OUT.csv --quiet
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kg_reasoner.cli import main  # noqa: E402


def run(argv: list[str]) -> None:
    started = time.perf_counter()
    try:
        main(argv)
    except SystemExit:
        pass
    me, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        f"wall {time.perf_counter() - started:.1f} s; main process CPU {me.ru_utime:.1f} s user "
        f"+ {me.ru_stime:.1f} s system; workers {workers.ru_utime:.1f} s user + {workers.ru_stime:.1f} s system",
        file=sys.stderr,
    )


if __name__ == "__main__":  # (the workers are spawned: they import this file without running it)
    run(sys.argv[1:])
