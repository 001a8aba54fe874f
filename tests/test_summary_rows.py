"""A summary row (``--format csv``) is computed from four of the explanation's queries only
(``explain_summary``): it must say exactly what the full explanation says, on both engines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kg_reasoner.api import Reasoner
from kg_reasoner.errors import InputError
from kg_reasoner.testing.differential import summary_fields as _summary
from kg_reasoner.testing.synthetic import cohort

DATA = Path(__file__).parent / "data"
INPUTS = [p for p in sorted((DATA / "vignettes").glob("*.json")) + sorted((DATA / "cases").glob("*.json"))]


@pytest.mark.parametrize("engine", ["fast", pytest.param("reference", marks=pytest.mark.slow)])
def test_summary_rows_equal_the_full_explanation_on_every_case(engine):
    """The fast engine on every vignette and case and 60 synthetic patients; the reference engine (about
    a second per patient) on two of them (the full tier; tests/test_differential.py proves the engines equal)."""
    r = Reasoner(engine=engine)
    inputs = INPUTS if engine == "fast" else INPUTS[::36]
    patients = [pi for pi in r.read_many(inputs) if not isinstance(pi, InputError)]
    if engine == "fast":
        patients += [pi for pi in r.read_many([_ndjson(60)]) if not isinstance(pi, InputError)]
    assert len(patients) >= (10 if engine == "fast" else 2)
    for pi in patients:
        full, short = r.assess_input(pi), r.assess_input(pi, summary=True)
        assert _summary(short) == _summary(full), pi.patient_id
        assert short.stages["explain"] == "summary" and full.stages["explain"] != "summary"


def _ndjson(n: int) -> str:
    import tempfile

    path = Path(tempfile.mkdtemp()) / "cohort.ndjson"
    path.write_text("\n".join(json.dumps(p) for p in cohort(n, seed=23)) + "\n", encoding="utf-8")
    return str(path)
