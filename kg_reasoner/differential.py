"""Differential check: the fast engine against the reference engine (owlrl + pySHACL).

``python -m kg_reasoner.differential --n 10000 --jobs 2 [--seed 1] [--fhir-every 5]``
assesses seeded synthetic patients (``kg_reasoner.synthetic``; every fifth also
written as a FHIR R4 Bundle) with both engines and compares the whole outcome
record and the inferred patient graph. It prints one line per disagreement and a
summary; the exit code is 0 when every patient agreed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
import zlib
from typing import Any

from rdflib import Graph
from rdflib.compare import graph_diff, to_isomorphic


def differences(fast, reference) -> list[str]:
    """What differs between two Assessments of the same patient: outcome fields, then the
    inferred graph (compared by isomorphism; the triples only one side has are listed)."""
    out = []
    a, b = fast.to_dict(), reference.to_dict()
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            out.append(f"{key}: fast {a.get(key)!r} != reference {b.get(key)!r}")
    ga, gb = Graph(), Graph()
    for t in fast.inferred:
        ga.add(t)
    for t in reference.inferred:
        gb.add(t)
    ia, ib = to_isomorphic(ga), to_isomorphic(gb)
    if ia != ib:
        _both, only_fast, only_ref = graph_diff(ia, ib)
        for s, p, o in sorted(only_fast)[:10]:
            out.append(f"inferred only by fast: {s.n3()} {p.n3()} {o.n3()}")
        for s, p, o in sorted(only_ref)[:10]:
            out.append(f"inferred only by reference: {s.n3()} {p.n3()} {o.n3()}")
    return out


def fhir_bundle(summary: dict) -> dict | None:
    """The patient as a FHIR R4 collection Bundle, or None when the summary has a fact the
    verified codes cannot carry (``kg_reasoner.synthetic_fhir``)."""
    from kg_reasoner.synthetic_fhir import Unrepresentable, bundle, summary_to_resources
    try:
        return bundle(summary_to_resources(summary, variant=zlib.crc32(summary["id"].encode()) % 4))
    except Unrepresentable:
        return None


_reasoners: dict = {}


def compare_one(item: Any) -> tuple[str, list[str]]:
    """Assess one input (a summary dict or a FHIR Bundle dict) with both engines."""
    from kg_reasoner.api import Reasoner
    if not _reasoners:
        _reasoners["fast"], _reasoners["reference"] = Reasoner(engine="fast"), Reasoner(engine="reference")
    pi = _reasoners["fast"].read(item)[0]
    fast = _reasoners["fast"].assess_input(pi)
    reference = _reasoners["reference"].assess_input(pi)
    return pi.patient_id, differences(fast, reference)


def inputs(n: int, seed: int, fhir_every: int):
    from kg_reasoner.synthetic import cohort
    for i, summary in enumerate(cohort(n, seed)):
        if fhir_every and i % fhir_every == fhir_every - 1:
            b = fhir_bundle(summary)
            if b is not None:
                yield b
                continue
        yield summary


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--fhir-every", type=int, default=5, help="every k-th patient as a FHIR Bundle (0: none)")
    args = p.parse_args(argv)
    start = time.perf_counter()
    items = list(inputs(args.n, args.seed, args.fhir_every))
    bad = 0
    if args.jobs > 1:
        with multiprocessing.get_context("spawn").Pool(args.jobs) as pool:
            results = pool.imap(compare_one, items, chunksize=8)
            bad = _report(results)
    else:
        bad = _report(map(compare_one, items))
    print(f"{len(items)} patients compared ({sum(1 for i in items if 'resourceType' in i)} as FHIR Bundles), "
          f"{bad} disagreed, {time.perf_counter() - start:.0f} s")
    return 1 if bad else 0


def _report(results) -> int:
    bad = 0
    for pid, diffs in results:
        if diffs:
            bad += 1
            print(f"DISAGREE {pid}: " + " | ".join(diffs), flush=True)
    return bad


if __name__ == "__main__":
    raise SystemExit(main())
