"""The fast engine gives exactly the reference engine's outcomes and inferred triples.

30 seeded synthetic patients (every second as a FHIR R4 Bundle, every third broken in RDF so that
the fail-closed paths and their data problems are compared) are assessed by both engines; the whole
outcome record and the inferred patient graph (by isomorphism) must agree, and the fast engine must
have run every stage compiled (``Assessment.stages``), or the check compares the reference with itself.
The default tier runs the first 8 of them; the full tier (``--with-slow``) all 30 (the reference engine
takes some 5-7 s a patient there; every vignette and every second case also runs on both engines, and
``python -m kg_reasoner.testing.differential --n 200 --jobs 2`` compares 200 in 11 minutes).
``python -m kg_reasoner.testing.differential --n 10000 --jobs 2`` runs the same check on 10,000.
"""

from __future__ import annotations

from collections import Counter

import pytest

from kg_reasoner.testing.differential import BREAKAGES, Broken, applies, compare_one, inputs
from kg_reasoner.testing.synthetic import CAUSES, cohort

N, SEED, QUICK = 30, 20261156, 8
#: every key of the patient summary (decision-spec section 6), each of which the cohort must give and leave out
KEYS = (
    "gestational_age_weeks",
    "conception",
    "progesterone",
    "vaginal_bleeding",
    "abdominal_pain",
    "ultrasound",
    "miscarriage",
    "causes",
    "progesterone_use",
)
ITEMS = list(inputs(N, SEED, fhir_every=2, broken_every=3))


def _id(item) -> str:
    if isinstance(item, Broken):
        return item.id
    if "resourceType" in item:
        patient = next(e["resource"] for e in item["entry"] if e["resource"]["resourceType"] == "Patient")
        return f"fhir-{patient['id']}"
    return item["id"]


def test_the_cohort_has_the_size_and_spread_the_check_needs():
    """30 patients, FHIR among them, every kind of breakage, and every key of the summary in each of its states."""
    assert len(ITEMS) == N
    fhir = sum(1 for i in ITEMS if isinstance(i, dict) and "resourceType" in i)
    assert fhir >= 6
    broken = [i for i in ITEMS if isinstance(i, Broken)]
    assert {i.kind for i in broken} == set(range(len(BREAKAGES)))
    for item in broken:  # every breakage breaks something (broken_graph refuses a patient it cannot break)
        assert applies(item.summary, item.kind), item.id
    quick = ITEMS[:QUICK]
    assert any(isinstance(i, Broken) for i in quick) and any(isinstance(i, dict) and "resourceType" in i for i in quick)
    summaries = list(cohort(N, SEED))
    seen = Counter()
    for p in summaries:
        for key in KEYS:
            seen[(key, key in p)] += 1
        for r in p.get("progesterone", []):
            seen[("unit", r["unit"])] += 1
            seen[("status", r.get("status"))] += 1
            seen[("timed", "time" in r)] += 1
        seen[("serial", len(p.get("progesterone", [])) > 1)] += 1
        for c in CAUSES:
            seen[("cause", p.get("causes", {}).get(c, "absent"))] += 1
    for key in KEYS:
        assert seen[(key, True)] and seen[(key, False)], key
    for state in (
        ("unit", "ng/mL"),
        ("unit", "nmol/L"),
        ("status", "cancelled"),
        ("status", "entered-in-error"),
        ("status", "preliminary"),
        ("timed", False),
        ("serial", True),
        ("cause", True),
        ("cause", False),
        ("cause", "absent"),
    ):
        assert seen[state], state


@pytest.mark.parametrize(
    "item",
    [pytest.param(item, id=_id(item), marks=[pytest.mark.slow] if i >= QUICK else []) for i, item in enumerate(ITEMS)],
)
def test_fast_engine_equals_reference(item):
    patient, diffs = compare_one(item)
    assert not diffs, f"{patient}:\n  " + "\n  ".join(diffs)
