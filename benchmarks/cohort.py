"""Cohort benchmark: the fast engine against the reference engine and the naive single-graph pipeline.
Prints figures and writes them to a Markdown file; asserts nothing.

    python benchmarks/cohort.py [--sizes 1000 10000 100000] [--jobs 1 2] [--reference-n 1000]
                                [--naive-n 1000] [--output benchmarks/results.md]

Measured, all on seeded synthetic cohorts (``kg_reasoner.testing.synthetic``):
  * fast engine in-process, one patient at a time: p50 / p95 latency (1,000 patients after warm-up);
  * CLI wall time for one patient (knowledge-base cache warm);
  * cohort throughput (patients/s) and peak RSS (whole process tree, sampled) of
    ``kg-reasoner assess COHORT.ndjson --format ndjson`` (and ``csv`` with ``--formats ndjson csv``)
    at each size, with each --jobs;
  * the reference engine (owlrl + pySHACL per patient) on the same CLI run at --reference-n;
  * the naive pipeline at --naive-n: ONE rdflib graph holding the ontology and every patient,
    owlrl closure, pySHACL validation and rules, then the explanation queries per patient
    (our ontology, shapes and queries; the textbook way to run them).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _tree_rss(pid: int) -> int:
    """Resident memory of a process and all its descendants, in bytes (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, []))
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def run_measured(cmd: list[str], env: dict) -> tuple[float, int, subprocess.CompletedProcess]:
    """Wall time and peak RSS (process tree, sampled every 0.2 s) of a command."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    peak = [0]

    def sample():
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            time.sleep(0.2)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - start
    t.join()
    return wall, peak[0], subprocess.CompletedProcess(cmd, proc.returncode, "", err)


def assess_command(path: Path, fmt: str, output: Path, jobs: int, *extra: str) -> list[str]:
    """``kg-reasoner assess`` of a cohort file into ``output``, quietly."""
    return [sys.executable, "-m", "kg_reasoner", "assess", str(path), "--format", fmt, "--output", str(output),
            "--jobs", str(jobs), *extra, "--quiet"]  # fmt: skip


def write_cohort(path: Path, n: int, seed: int) -> None:
    from kg_reasoner.testing.synthetic import cohort

    with path.open("w", encoding="utf-8") as fh:
        for p in cohort(n, seed):
            fh.write(json.dumps(p) + "\n")


def in_process_latency(n: int) -> tuple[float, float, float]:
    from kg_reasoner.api import Reasoner
    from kg_reasoner.testing.synthetic import cohort

    r = Reasoner(engine="fast")
    inputs = [r.read(p)[0] for p in cohort(n + 50, seed=99)]
    for pi in inputs[:50]:
        r.assess_input(pi)
    times = []
    for pi in inputs[50:]:
        t = time.perf_counter()
        r.assess_input(pi)
        times.append(time.perf_counter() - t)
    times.sort()
    return statistics.median(times), times[int(0.95 * len(times)) - 1], statistics.mean(times)


def naive_pipeline(n: int) -> float:
    """Ontology + all n patients in one graph; owlrl; pySHACL validation and rules; explanations."""
    import owlrl
    import pyshacl
    from rdflib import Graph

    from kg_reasoner.api import Reasoner
    from kg_reasoner.explain.explanation import explain
    from kg_reasoner.reason.knowledge import load_knowledge_base
    from kg_reasoner.testing.synthetic import cohort

    kb = load_knowledge_base()
    r = Reasoner(engine="reference")
    inputs = [r.read(p)[0] for p in cohort(n, seed=42)]
    start = time.perf_counter()
    g = Graph()
    g.addN((s, p, o, g) for s, p, o in kb.ontology)
    for pi in inputs:
        g.addN((s, p, o, g) for s, p, o in pi.graph)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(g)
    pyshacl.validate(g, shacl_graph=kb.validation_shapes, inference="none", advanced=True, allow_warnings=True)
    pyshacl.shacl_rules(
        g, shacl_graph=kb.rule_shapes, inference="none", advanced=True, iterate_rules=True, inplace=True
    )
    for pi in inputs:
        explain(g, pi.iri)
    return time.perf_counter() - start


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument(
        "--formats",
        nargs="+",
        default=["ndjson"],
        choices=["ndjson", "csv"],
        help="output formats of the fast engine's runs (ndjson: full explanations; csv: summary rows)",
    )
    ap.add_argument(
        "--skip", nargs="*", default=[], metavar="N:JOBS", help="size/jobs combinations not to run, e.g. 100000:1"
    )
    ap.add_argument("--reference-n", type=int, default=1000, help="0 skips the reference engine")
    ap.add_argument("--reference-jobs", type=int, default=2)
    ap.add_argument("--naive-n", type=int, default=1000, help="0 skips the naive pipeline")
    ap.add_argument(
        "--naive-timeout",
        type=float,
        default=3600,
        help="stop the naive pipeline after this many seconds and report the bound",
    )
    ap.add_argument("--output", default=str(ROOT / "benchmarks" / "results.md"))
    ap.add_argument(
        "--keep-outputs",
        metavar="DIR",
        help="copy each fast run's output to DIR/fast-N-JOBS.FORMAT (e.g. to compare two versions' outcomes)",
    )
    args = ap.parse_args(argv)

    lines: list[str] = []
    stopped: set = set()

    def say(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)
        Path(args.output).write_text("\n".join(lines) + "\n", encoding="utf-8")  # partial results survive

    say("# kg-reasoner cohort benchmark")
    say()
    say(
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}. "
        f"Command: `python benchmarks/cohort.py {' '.join(argv or sys.argv[1:])}`".rstrip()
        + "."
    )
    say()
    p50, p95, mean = in_process_latency(1000)
    say(
        f"- fast engine, in-process, one patient at a time (1,000 synthetic patients, full explanation): "
        f"p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, mean {mean * 1000:.1f} ms"
    )

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = dict(os.environ, KG_REASONER_CACHE_DIR=str(folder / "cache"))
        one = [sys.executable, "-m", "kg_reasoner", "assess", str(ROOT / "examples/P01-luteal-insufficiency.json")]
        subprocess.run(one, check=True, capture_output=True, env=env)  # warms the cache
        walls = []
        for _ in range(5):
            wall, _rss, _ = run_measured(one, env)
            walls.append(wall)
        say(f"- CLI wall time, one patient, cache warm: median {statistics.median(walls):.2f} s of 5 runs")
        say()
        say("| engine | N | --jobs | wall time (s) | patients/s | peak RSS, process tree (MB) |")
        say("|---|---:|---:|---:|---:|---:|")
        rates: dict = {}
        for n in args.sizes:
            path = folder / f"cohort-{n}.ndjson"
            write_cohort(path, n, seed=n)
            for fmt in args.formats:
                for jobs in args.jobs:
                    label = f"fast, {fmt}"
                    if f"{n}:{jobs}" in args.skip or f"{n}:{jobs}:{fmt}" in args.skip:
                        say(f"| {label} | {n:,} | {jobs} | not run (--skip) | | |")
                        continue
                    cmd = assess_command(path, fmt, folder / f"out.{fmt}", jobs)
                    wall, rss, proc = run_measured(cmd, env)
                    if proc.returncode not in (0, 1):
                        say(f"| {label} | {n:,} | {jobs} | failed: {proc.stderr.strip()[:200]} | | |")
                        continue
                    rates[("fast", n, jobs, fmt)] = n / wall
                    if args.keep_outputs:
                        Path(args.keep_outputs).mkdir(parents=True, exist_ok=True)
                        shutil.copyfile(folder / f"out.{fmt}", Path(args.keep_outputs) / f"fast-{n}-{jobs}.{fmt}")
                    say(f"| {label} | {n:,} | {jobs} | {wall:.1f} | {n / wall:,.0f} | {rss / 2**20:,.0f} |")
        if args.reference_n:
            n = args.reference_n
            path = folder / f"cohort-ref-{n}.ndjson"
            write_cohort(path, n, seed=n)
            cmd = assess_command(path, "ndjson", folder / "ref.ndjson", args.reference_jobs, "--engine", "reference")
            wall, rss, _ = run_measured(cmd, env)
            rates[("reference", n, args.reference_jobs, "ndjson")] = n / wall
            say(f"| reference | {n:,} | {args.reference_jobs} | {wall:.1f} | {n / wall:,.1f} | {rss / 2**20:,.0f} |")
    if args.naive_n:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(1) as pool:
            job = pool.apply_async(naive_pipeline, (args.naive_n,))
            try:
                wall = job.get(timeout=args.naive_timeout)
                rates[("naive", args.naive_n, 1, "ndjson")] = args.naive_n / wall
                say(f"| naive single graph | {args.naive_n:,} | 1 | {wall:.1f} | {args.naive_n / wall:,.2f} | |")
            except multiprocessing.TimeoutError:
                pool.terminate()
                wall = args.naive_timeout
                rates[("naive", args.naive_n, 1, "ndjson")] = args.naive_n / wall  # an upper bound on its rate
                stopped.add("naive")
                say(
                    f"| naive single graph | {args.naive_n:,} | 1 | > {wall:.0f} (stopped) | "
                    f"< {args.naive_n / wall:,.2f} | |"
                )
    say()
    # compared like with like: the full explanation (ndjson) of the fast engine against the others'
    fast = [(v, k) for k, v in rates.items() if k[0] == "fast" and k[3] == "ndjson"]
    best = max(fast) if fast else None
    for other in ("naive", "reference"):
        base = [(k, v) for k, v in rates.items() if k[0] == other]
        if best and base:
            (k, v) = base[0]
            bound = "at least " if other in stopped else ""
            say(
                f"- fast, ndjson ({best[1][1]:,} patients, --jobs {best[1][2]}) vs {other} ({k[1]:,} patients, "
                f"--jobs {k[2]}): {bound}{best[0] / v:,.0f}x the throughput"
            )
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
