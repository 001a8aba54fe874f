"""Seeded synthetic patients in the patient-summary format (decision-spec section 6).

For the differential test of the two engines, the benchmarks and the notebooks:
every key of the summary, each either given or absent (unknown), units both
ways, serial results with and without times (time zones, ties), result
statuses, interpretations, own reference ranges, causes true / false / absent,
and progesterone use. The same seed gives the same cohort on every machine.
The values are drawn from the ontology-defined vocabulary of the summary format
as documented in the spec; they are data, not rules.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

CAUSES = ("chromosomal_abnormality", "uterine_malformation", "uterine_polyp", "intrauterine_adhesions", "infection")


_TIMES = (
    "2026-11-10T08:00:00Z",
    "2026-11-18T08:00:00Z",
    "2026-11-18T09:00:00+02:00",
    "2026-11-20",
    "2026-11-20T09:00:00-05:00",
)


def _maybe(rng: random.Random, p: float = 0.5) -> bool:
    return rng.random() < p


def progesterone_result(rng: random.Random) -> dict:
    unit = rng.choice(("ng/mL", "nmol/L"))
    scale = 1 if unit == "ng/mL" else 3.18
    r: dict = {"value": round(rng.uniform(1, 40) * scale, rng.choice((0, 1, 2))), "unit": unit}
    if _maybe(rng, 0.5):
        r["reference_low"] = rng.choice((10, 10.0, 8)) if unit == "ng/mL" else rng.choice((31.8, 35, 25.44))
    if _maybe(rng, 0.25):
        r["interpretation"] = rng.choice(("low", "normal", "high"))
    if _maybe(rng, 0.6):
        r["time"] = rng.choice(_TIMES)
    if _maybe(rng, 0.3):
        r["status"] = rng.choice(("final", "preliminary", "entered-in-error", "cancelled"))
    return r


def patient(rng: random.Random, pid: str) -> dict:
    """One random patient summary."""
    p: dict = {"id": pid}
    if _maybe(rng, 0.8):
        p["gestational_age_weeks"] = rng.choice((rng.randint(4, 13), round(rng.uniform(4, 22), 1), 14, 20))
    if _maybe(rng, 0.7):
        p["conception"] = rng.choice(("art", "spontaneous", "spontaneous"))
    if _maybe(rng, 0.75):
        p["progesterone"] = [progesterone_result(rng) for _ in range(rng.choice((1, 1, 1, 2, 2, 3)))]
    if _maybe(rng, 0.8):
        p["vaginal_bleeding"] = rng.choice(("absent", "light", "light", "heavy"))
    if _maybe(rng, 0.6):
        p["abdominal_pain"] = rng.choice(("absent", "mild", "mild", "severe"))
    if _maybe(rng, 0.7):
        p["ultrasound"] = rng.choice(("normal", "normal", "normal", "abnormal", "demise"))
    if _maybe(rng, 0.12):
        p["miscarriage"] = rng.choice(("inevitable", "incomplete", "complete"))
    if _maybe(rng, 0.5):
        p["causes"] = {c: rng.random() < 0.15 for c in CAUSES if _maybe(rng, 0.6)}
    if _maybe(rng, 0.3):
        use: dict = {}
        if _maybe(rng, 0.8):
            use["supervised"] = _maybe(rng, 0.7)
        if _maybe(rng, 0.6):
            use["symptom_course"] = rng.choice(("improving", "unchanged", "worsening"))
        p["progesterone_use"] = use
    return p


def cohort(n: int, seed: int = 0, prefix: str = "S") -> Iterator[dict]:
    """``n`` random patient summaries, identifiers ``{prefix}{seed}-{i}``."""
    rng = random.Random(seed)
    for i in range(n):
        yield patient(rng, f"{prefix}{seed}-{i:06d}")
