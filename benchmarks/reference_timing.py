"""Timing of the reference engine (owlrl + pyshacl per patient). Prints figures; asserts nothing.

    python benchmarks/reference_timing.py

Measures: knowledge-base load (ontology closure), in-process latency per patient over the bundled
vignettes and cases (p50 / p95), CLI wall time for one patient, and CLI wall time for the 15 public
vignettes in one call.
"""

from __future__ import annotations

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


def main() -> None:
    from kg_reasoner import Reasoner
    from kg_reasoner.reason.knowledge import load_knowledge_base

    t = time.perf_counter()
    reasoner = Reasoner()
    load = time.perf_counter() - t
    kb = load_knowledge_base()
    cases = [json.loads(p.read_text()) for p in sorted((ROOT / "tests/data/vignettes").glob("*.json"))]
    cases += [json.loads(p.read_text()) for p in sorted((ROOT / "tests/data/cases").glob("*.json"))]
    latencies = []
    for case in cases:
        t = time.perf_counter()
        reasoner.assess(case["patient"])
        latencies.append(time.perf_counter() - t)
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, int(round(0.95 * len(latencies))) - 1)]

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for case in cases[:15]:
            (folder / f"{case['id']}.json").write_text(json.dumps(case["patient"]))
        one = [sys.executable, "-m", "kg_reasoner", "assess", str(ROOT / "examples/P01-luteal-insufficiency.json")]
        env = dict(os.environ, KG_REASONER_CACHE_DIR=str(folder / "cache"))
        timings = []
        for _ in range(2):  # cold (builds the knowledge-base cache), then warm
            t = time.perf_counter()
            subprocess.run(one, check=True, capture_output=True, env=env)
            timings.append(time.perf_counter() - t)
        cli_cold, cli_one = timings
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "kg_reasoner", "assess", str(folder), "--format", "json"],
            check=True,
            capture_output=True,
            env=env,
        )
        cli_15 = time.perf_counter() - t

    print(
        f"ontology: {len(kb.ontology)} asserted triples, closure {len(kb.closure)}, "
        f"per-patient owlrl base {len(kb.reasoning_base)}, SHACL base {len(kb.rules_base)}"
    )
    print(f"knowledge base load (parse + OWL-RL closure + shapes): {load:.2f} s")
    print(
        f"in-process, {len(latencies)} patients: p50 {statistics.median(latencies):.2f} s, "
        f"p95 {p95:.2f} s, mean {statistics.mean(latencies):.2f} s"
    )
    print(f"CLI wall time, one patient: {cli_cold:.2f} s cold, {cli_one:.2f} s with the knowledge-base cache warm")
    print(f"CLI wall time, 15 public vignettes in one call (cache warm): {cli_15:.2f} s")


if __name__ == "__main__":
    main()
