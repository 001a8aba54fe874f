"""Differential check: the fast engine against the reference engine (owlrl + pySHACL).

``python -m kg_reasoner.testing.differential --n 10000 --jobs 2 [--seed 1] [--fhir-every 5] [--broken-every 7]
[--against reference|oxigraph]``
assesses seeded synthetic patients (``kg_reasoner.synthetic``; every fifth also
written as a FHIR R4 Bundle, every seventh read and then broken in RDF so that the
fail-closed paths are compared too) with both engines and compares the whole
outcome record (data problems included), the inferred patient graph, and the fast
engine's summary row (``--format csv``, derived with only the rules its queries read). A fast
assessment that did not run on the compiled path (``Assessment.stages``) is a
disagreement too: the check would otherwise compare the reference engine with
itself. It prints one line per disagreement and a summary; the exit code is 0
when every patient agreed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
import zlib
from dataclasses import dataclass
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.compare import graph_diff, to_isomorphic
from rdflib.namespace import XSD

from kg_reasoner.api import Reasoner
from kg_reasoner.read.patient import PatientInput
from kg_reasoner.testing.synthetic import cohort
from kg_reasoner.testing.synthetic_fhir import Unrepresentable, bundle, summary_to_resources
from kg_reasoner.write.formats import format_one

#: What the fast engine runs each stage with when it runs compiled (the point of the check).
COMPILED = {"owl": "compiled", "validation": "compiled", "rules": "compiled", "explain": "plans"}


_KGR = "https://w3id.org/kg-reasoner/ontology#"


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


def summary_fields(a) -> tuple:
    """What a summary row says of an Assessment: status, rules, missing criteria, flags, which fired rule
    decided, and the CSV row itself."""
    return (
        a.status,
        a.status_label,
        a.rules,
        a.missing,
        a.flags,
        [(r["id"], r["kind"], r["decides"]) for r in a.fired_rules],
        format_one(a, "csv"),
    )


def fhir_bundle(summary: dict) -> dict | None:
    """The patient as a FHIR R4 collection Bundle, or None when the summary has a fact the
    verified codes cannot carry (``kg_reasoner.synthetic_fhir``)."""
    try:
        return bundle(summary_to_resources(summary, variant=zlib.crc32(summary["id"].encode()) % 4))
    except Unrepresentable:
        return None


#: The ways a patient graph is broken to compare the fail-closed paths (``Broken``): each a
#: predicate of the core vocabulary and what is done to one of its triples.
BREAKAGES = (
    ("unit", "drop"),  # a measurement's unit removed
    ("value", "string"),  # a number given as a plain string
    ("value", "negative"),  # a negative measurement
    ("value", "double"),  # a number typed xsd:double where the ontology ranges over xsd:decimal
    ("presence", "drop"),  # a finding with no presence
    ("presence", "contradict"),  # a finding both present and absent
    ("effectiveTime", "string"),  # a time given as a plain string
    ("gestationalAgeWeeks", "duplicate"),  # two gestational ages
    ("patientId", "drop"),  # a patient without an id
)


@dataclass(frozen=True)
class Broken:
    """A synthetic patient read as usual, then one triple broken as ``BREAKAGES[kind]`` says."""

    summary: dict
    kind: int

    @property
    def id(self) -> str:
        return f"{self.summary['id']}-broken-{BREAKAGES[self.kind][0]}-{BREAKAGES[self.kind][1]}"


def applies(summary: dict, kind: int) -> bool:
    """Whether breakage ``kind`` has something to break in this patient summary (a breakage that changes
    nothing would compare an intact patient and call it broken)."""
    name, _how = BREAKAGES[kind]
    results = summary.get("progesterone", [])
    if name in ("unit", "value"):
        return any("value" in r for r in results)
    if name == "effectiveTime":
        return any("time" in r for r in results)
    if name == "presence":
        return any(k in summary for k in ("vaginal_bleeding", "abdominal_pain")) or bool(summary.get("causes"))
    if name == "gestationalAgeWeeks":
        return "gestational_age_weeks" in summary
    return True


def broken_graph(graph: Graph, kind: int) -> Graph:
    name, how = BREAKAGES[kind]
    pred = URIRef(_KGR + name)
    out = Graph()
    for t in graph:
        out.add(t)
    hits = sorted(graph.triples((None, pred, None)))
    if not hits:
        raise ValueError(f"nothing to break: the patient has no {name} (choose one that ``applies``)")
    s, p, o = hits[0]
    if how == "drop":
        out.remove((s, p, o))
    elif how == "string":
        out.remove((s, p, o))
        out.add((s, p, Literal(str(o))))
    elif how == "negative":
        out.remove((s, p, o))
        out.add((s, p, Literal(-abs(o.toPython()) - 1, datatype=o.datatype or XSD.decimal)))
    elif how == "double":
        out.remove((s, p, o))
        out.add((s, p, Literal(float(o.toPython()), datatype=XSD.double)))
    elif how == "contradict":
        other = URIRef(_KGR + ("Absent" if str(o).endswith("Present") else "Present"))
        out.add((s, p, other))
    elif how == "duplicate":
        out.add((s, p, Literal(o.toPython() + 1, datatype=o.datatype)))
    return out


_reasoners: dict = {}


def compare_one(item: Any) -> tuple[str, list[str]]:
    """Assess one input (a summary dict, a FHIR Bundle dict or a ``Broken`` patient) with both engines."""
    if not _reasoners:
        _reasoners["fast"] = Reasoner(engine="fast")
        _reasoners["reference"] = (
            _against(_reasoners["fast"]) if AGAINST[0] == "oxigraph" else Reasoner(engine="reference")
        )
    if isinstance(item, Broken):
        pi = _reasoners["fast"].read(item.summary)[0]
        pi = PatientInput(item.id, pi.iri, broken_graph(pi.graph, item.kind), pi.source, list(pi.data_problems))
    else:
        pi = _reasoners["fast"].read(item)[0]
    fast = _reasoners["fast"].assess_input(pi)
    reference = _reasoners["reference"].assess_input(pi)
    diffs = differences(fast, reference)
    # the summary row (``--format csv``): the fast engine derives only what its queries read
    short, whole = summary_fields(_reasoners["fast"].assess_input(pi, summary=True)), summary_fields(reference)
    if short != whole:
        diffs.append(f"summary row: fast {short!r} != reference {whole!r}")
    fell_back = {k: v for k, v in fast.stages.items() if COMPILED.get(k) != v}
    if fell_back:
        diffs.append(f"the fast engine did not run compiled: {fell_back}")
    return pi.patient_id, diffs


#: what the fast engine is compared with: "reference" (owlrl + pySHACL) or "oxigraph" (the fast engine
#: with every query on pyoxigraph, no plans, and every rule run again for any new triple of a predicate
#: it reads: the fast path before ``reason.plans`` and ``shacl_rules.Watch``)
AGAINST = ["reference"]


def _against(fast: Reasoner) -> Reasoner:
    from kg_reasoner.reason.fast import FastEngine

    other = Reasoner(engine="fast")
    engine = FastEngine(fast.kb)  # (its own engine: ``fast_engine`` is shared per knowledge base)
    engine.use_plans = False
    engine.refine_staleness = False
    other._engine = engine
    return other


def _init(against: str) -> None:
    AGAINST[0] = against


def inputs(n: int, seed: int, fhir_every: int, broken_every: int = 0):
    """``n`` seeded inputs: summaries, every ``fhir_every``-th as a FHIR Bundle, every ``broken_every``-th
    as a ``Broken`` patient (the kinds of breakage in turn)."""
    broken = 0
    for i, summary in enumerate(cohort(n, seed)):
        if broken_every and i % broken_every == broken_every - 1 and applies(summary, broken % len(BREAKAGES)):
            yield Broken(summary, broken % len(BREAKAGES))
            broken += 1
            continue
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
    p.add_argument(
        "--broken-every",
        type=int,
        default=7,
        help="every k-th patient broken in RDF, to compare the fail-closed paths (0: none)",
    )
    p.add_argument(
        "--against",
        choices=["reference", "oxigraph"],
        default="reference",
        help="the reference engine, or the fast engine with every query on pyoxigraph (no plans, no Watch)",
    )
    args = p.parse_args(argv)
    _init(args.against)
    start = time.perf_counter()
    items = list(inputs(args.n, args.seed, args.fhir_every, args.broken_every))
    bad = 0
    if args.jobs > 1:
        with multiprocessing.get_context("spawn").Pool(args.jobs, initializer=_init, initargs=(args.against,)) as pool:
            results = pool.imap(compare_one, items, chunksize=8)
            bad = _report(results)
    else:
        bad = _report(map(compare_one, items))
    print(
        f"{len(items)} patients compared ({sum(1 for i in items if isinstance(i, dict) and 'resourceType' in i)} "
        f"as FHIR Bundles, {sum(1 for i in items if isinstance(i, Broken))} broken), "
        f"{bad} disagreed, {time.perf_counter() - start:.0f} s"
    )
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
