"""Shared fixtures. The knowledge base is loaded once per test session."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kg_reasoner import Reasoner

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
VIGNETTES = sorted((DATA / "vignettes").glob("*.json"))
CASES = sorted((DATA / "cases").glob("*.json"))
#: The public vignettes bundled from ../shared/vignettes/public.json (the suite asserts it ran them all).
EXPECTED_VIGNETTES = 15
#: tests/data holds data only: the copied standard test suites include upstream test modules (test_*.py) that
#: tests/test_standard_corpora.py imports and runs itself; pytest must not collect them on their own.
collect_ignore_glob = ["data/*"]


def pytest_configure(config):
    """The suite keeps its knowledge-base cache in its own temporary folder (also for the CLI it runs)."""
    if "KG_REASONER_CACHE_DIR" not in os.environ:
        import tempfile
        os.environ["KG_REASONER_CACHE_DIR"] = tempfile.mkdtemp(prefix="kg-reasoner-test-cache-")


def load_case(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def outcome(a) -> dict:
    return {"status": a.status, "rules": a.rules, "missing": a.missing, "flags": a.flags}


@pytest.fixture(scope="session")
def reasoner() -> Reasoner:
    return Reasoner()


@pytest.fixture(scope="session")
def reference_reasoner() -> Reasoner:
    """The reference owlrl + pyshacl engine, which the fast engine must always agree with."""
    return Reasoner(engine="reference")


@contextlib.contextmanager
def serving(store: Path, *options: str):
    """``kg-reasoner serve`` on a free port for the duration of a with-block: yields (its /sparql URL, the
    process); the server is killed afterwards (a test may stop it earlier itself)."""
    proc = subprocess.Popen([sys.executable, "-m", "kg_reasoner", "serve", "--store", str(store), "--port", "0",
                             *options], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+/sparql)", line)
        assert match, line
        yield match.group(1), proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the installed command line as a user would (a separate process)."""
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    return subprocess.run([sys.executable, "-m", "kg_reasoner", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, env=env, timeout=600)


@pytest.fixture
def write_json(tmp_path):
    def write(name: str, data) -> Path:
        path = tmp_path / name
        path.write_text(json.dumps(data), encoding="utf-8")
        return path
    return write


@pytest.fixture
def assess(reasoner):
    """Assess a patient summary given as keyword arguments (id defaults to 'T')."""
    def run(**patient):
        patient.setdefault("id", "T")
        return reasoner.assess(patient)
    return run
