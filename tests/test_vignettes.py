"""The public vignettes (tests/data/vignettes, copied from ../shared/vignettes/public.json) and our own
cases (tests/data/cases), each through the Python API; the vignettes also through the CLI.

Every vignette and case runs on the fast engine (both tiers). The full tier runs every vignette and
every second case on the reference engine too (4-7 s a patient; the whole suite must stay within
.ci/run's 20 minutes), and requires there the whole outcome record to equal the fast engine's, not
only the expected four fields."""

from __future__ import annotations

import json

import pytest
from conftest import (
    CASES,
    EXPECTED_VIGNETTES,
    VIGNETTES,
    _reasoner,
    assess_case,
    engine_runs,
    load_case,
    run_cli,
)


def test_all_public_vignettes_are_bundled():
    assert len(VIGNETTES) == EXPECTED_VIGNETTES
    assert [load_case(p)["id"] for p in VIGNETTES] == [f"P{i:02d}" for i in range(1, 16)]


def test_own_cases_are_bundled():
    assert len(CASES) >= 50


@pytest.mark.parametrize("path", VIGNETTES, ids=[p.stem for p in VIGNETTES])
def test_vignette_api(engine_reasoner, path):
    assess_case(_reasoner, engine_reasoner.engine, path)


@pytest.mark.parametrize("engine,path", engine_runs(CASES))
def test_case_api(engine, path):
    assess_case(_reasoner, engine, path)


@pytest.fixture(scope="module")
def cli_outcomes(tmp_path_factory):
    """One CLI call over a directory holding every vignette's patient summary."""
    folder = tmp_path_factory.mktemp("vignettes")
    for path in VIGNETTES:
        case = load_case(path)
        (folder / f"{case['id']}.json").write_text(json.dumps(case["patient"]), encoding="utf-8")
    proc = run_cli("assess", str(folder), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    assert len(results) == EXPECTED_VIGNETTES
    return {r["patient"]: r for r in results}


@pytest.mark.parametrize("path", VIGNETTES, ids=[p.stem for p in VIGNETTES])
def test_vignette_cli(cli_outcomes, path):
    case = load_case(path)
    got = cli_outcomes[case["id"]]
    assert {k: got[k] for k in ("status", "rules", "missing", "flags")} == case["expect"], case["description"]
    for key in ("patient", "criteria", "diagnosis", "advice", "explanation", "data_problems"):
        assert key in got
