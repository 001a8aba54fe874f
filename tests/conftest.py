"""Shared fixtures. The knowledge base is loaded once per test session."""

from __future__ import annotations

import contextlib
import io
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
#: Whether run_cli starts a separate process in the CLI's own tests (tests/test_cli.py, the full tier) or
#: calls the CLI in this process (the default tier; elsewhere in both tiers); set by ``_cli_as_process``.
_CLI_AS_PROCESS = False
#: The test modules whose run_cli calls start a separate process in the full tier: the command line's own
#: tests. Elsewhere the command line is the way to what a test checks, and starting Python, importing and
#: loading the knowledge base again for each call (about 2 s) bought the full tier minutes and no coverage
#: those tests and ``process=True`` do not give.
_CLI_PROCESS_MODULES = frozenset({"test_cli"})
#: --with-slow (set when pytest starts)
_WITH_SLOW = False
#: The public vignettes bundled from ../shared/vignettes/public.json (the suite asserts it ran them all).
EXPECTED_VIGNETTES = 15
#: tests/data holds data only: the copied standard test suites include upstream test modules (test_*.py) that
#: tests/test_standard_corpora.py imports and runs itself; pytest must not collect them on their own.
collect_ignore_glob = ["data/*"]


def pytest_addoption(parser):
    parser.addoption(
        "--with-slow",
        action="store_true",
        default=False,
        help="run the full tier too: tests marked slow (the reference engine on every vignette, rule test "
        "and second case, the differential run, notebooks, HermiT, release, wheel, Dask, the CLI's own "
        "tests as a process)",
    )


def pytest_collection_modifyitems(config, items):
    """The default tier leaves out the tests marked slow (run them with --with-slow)."""
    for item in items:
        # whatever runs the reference engine directly is full-tier (seconds per patient)
        if "reference_reasoner" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
    if config.getoption("--with-slow"):
        return
    kept, left_out = [], []
    for item in items:
        (left_out if item.get_closest_marker("slow") else kept).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


#: The present of the suite's assessments (KG_REASONER_NOW, also for the CLI it runs): its FHIR data are of
#: November 2026, and a dating more than 44 weeks old is stale (kgr:StaleDatingRecord), so the suite keeps a
#: fixed clock rather than outcomes that change with the day it runs.
AS_OF = "2026-12-05"


def pytest_configure(config):
    """The suite keeps its knowledge-base cache in its own temporary folder (also for the CLI it runs), and
    assesses as of a fixed present (``AS_OF``)."""
    global _WITH_SLOW
    _WITH_SLOW = config.getoption("--with-slow")
    os.environ.setdefault("KG_REASONER_NOW", AS_OF)
    if "KG_REASONER_CACHE_DIR" not in os.environ:
        import tempfile

        os.environ["KG_REASONER_CACHE_DIR"] = tempfile.mkdtemp(prefix="kg-reasoner-test-cache-")


def seed_blocks(seeds: range, size: int) -> list[range]:
    """The seeds of a seeded differential test (tests/test_*_fuzz.py) in blocks of ``size``, one test each."""
    return [range(start, min(start + size, seeds.stop)) for start in range(seeds.start, seeds.stop, size)]


def seed_block_id(block: range) -> str:
    return f"seeds-{block.start}-{block.stop - 1}"


def assert_none_differ(outcomes: list[tuple[str, str]], what: str, shown: int = 2) -> None:
    """A seeded differential test's (kind, detail) outcomes: none of kind "differ" (``what``: "queries answered",
    and so on, as the failure says it), the first ``shown`` differences printed."""
    found = [detail for kind, detail in outcomes if kind == "differ"]
    assert not found, f"{len(found)} of {len(outcomes)} {what} differently:\n\n" + "\n\n".join(found[:shown])


def load_case(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def outcome(a) -> dict:
    return {"status": a.status, "rules": a.rules, "missing": a.missing, "flags": a.flags}


_REASONERS: dict = {}


def _reasoner(engine: str) -> Reasoner:
    if engine not in _REASONERS:
        _REASONERS[engine] = Reasoner(engine=engine)
    return _REASONERS[engine]


#: The engines every vignette and rule test runs on: the reference engine only in the full tier (it takes
#: seconds per patient where the fast one takes milliseconds; the own cases choose theirs in test_vignettes).
ENGINES = ["fast", pytest.param("reference", marks=pytest.mark.slow)]


def engine_runs(paths: list[Path], reference_every: int = 2) -> list:
    """(engine, case file) parameters, test ids ``fast-<stem>`` and ``reference-<stem>``: every file on
    the fast engine, every ``reference_every``-th on the reference engine too (full tier; 4-7 s a patient,
    and the whole suite must stay within .ci/run's 20 minutes)."""
    return [pytest.param("fast", p, id=f"fast-{p.stem}") for p in paths] + [
        pytest.param("reference", p, id=f"reference-{p.stem}", marks=pytest.mark.slow) for p in paths[::reference_every]
    ]


def assess_case(reasoner_for, engine: str, path: Path):
    """A case file's patient assessed on ``reasoner_for(engine)``: the expected outcome, and on the
    reference engine the whole outcome record, not only the four fields, equal to the fast engine's.
    Returns the Assessment."""
    case = load_case(path)
    a = reasoner_for(engine).assess(case["patient"])
    assert outcome(a) == case["expect"], case["description"]
    if engine == "reference":
        assert a.to_dict() == reasoner_for("fast").assess(case["patient"]).to_dict()
    return a


@pytest.fixture(scope="session")
def reasoner() -> Reasoner:
    """The default (fast) engine."""
    return _reasoner("fast")


@pytest.fixture(scope="session")
def reference_reasoner() -> Reasoner:
    """The reference owlrl + pyshacl engine, which the fast engine must always agree with."""
    return _reasoner("reference")


@pytest.fixture(scope="session", params=ENGINES)
def engine_reasoner(request) -> Reasoner:
    """Each engine in turn: a test using it runs once per engine (test id ``[fast-...]``, ``[reference-...]``)."""
    return _reasoner(request.param)


class _QuickBuild:
    def __init__(self, engine, built):
        self.engine, self.built, self.calls = engine, built, []

    def __call__(self, *args):
        self.calls.append(args)
        assert args == (None, (), self.engine.PROGESTERONE), args  # the default configuration only
        return self.built


@pytest.fixture
def quick_build(monkeypatch):
    """For the tests of the knowledge-base cache's loader: ``_build_knowledge_base`` stays what the loader
    calls when it has no cache file it trusts (what those tests watch, in ``.calls``), but it hands back
    the knowledge base this process already has instead of spending 15-20 s building the same one again.
    That one was built or verified by the loader itself; tests/test_engine.py's
    ``test_knowledge_base_cache_is_reused_and_keyed`` builds one into an empty folder for real.
    Fails the test if the loader never built (the test would not exercise what it names)."""
    from kg_reasoner.reason import knowledge as engine

    stub = _QuickBuild(engine, engine.load_knowledge_base())  # before a test clears the in-process cache
    monkeypatch.setattr(engine, "_build_knowledge_base", stub)
    yield stub
    assert stub.calls, "the loader never built"


@pytest.fixture(scope="module", autouse=True)
def _cli_as_process(request):
    """run_cli starts a separate process in the full tier's CLI tests (``_CLI_PROCESS_MODULES``); module
    scope, so that a module's own fixtures calling run_cli see the same."""
    global _CLI_AS_PROCESS
    _CLI_AS_PROCESS = _WITH_SLOW and request.module.__name__.rpartition(".")[2] in _CLI_PROCESS_MODULES
    yield
    _CLI_AS_PROCESS = False


@contextlib.contextmanager
def serving(store: Path, *options: str):
    """``kg-reasoner serve`` on a free port for the duration of a with-block: yields (its /sparql URL, the
    process); the server is killed afterwards (a test may stop it earlier itself)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "kg_reasoner", "serve", "--store", str(store), "--port", "0", *options],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stderr.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+/sparql)", line)
        assert match, line
        yield match.group(1), proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def run_cli(*args: str, cwd: Path | None = None, process: bool | None = None) -> subprocess.CompletedProcess:
    """Run the command line: in this process (fast), or as a separate process, as a user would, when
    ``process=True`` or in the full tier's tests of the command line itself (``_CLI_PROCESS_MODULES``).
    Either way the result is a CompletedProcess with the exit code, stdout and stderr."""
    if process or (process is None and _CLI_AS_PROCESS):
        env = dict(os.environ, PYTHONIOENCODING="utf-8")
        return subprocess.run(
            [sys.executable, "-m", "kg_reasoner", *args],
            capture_output=True,
            text=True,
            cwd=cwd or ROOT,
            env=env,
            timeout=600,
        )
    from kg_reasoner.cli import main

    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    try:
        os.chdir(cwd or ROOT)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse's usage errors
                code = exc.code if isinstance(exc.code, int) else 1
    finally:
        os.chdir(here)
    return subprocess.CompletedProcess(["kg-reasoner", *args], code, out.getvalue(), err.getvalue())


@pytest.fixture
def write_json(tmp_path):
    def write(name: str, data) -> Path:
        path = tmp_path / name
        path.write_text(json.dumps(data), encoding="utf-8")
        return path

    return write


def _assessor(reasoner: Reasoner):
    def run(**patient):
        patient.setdefault("id", "T")
        return reasoner.assess(patient)

    return run


@pytest.fixture
def assess(engine_reasoner):
    """Assess a patient summary given as keyword arguments (id defaults to 'T'), on each engine in turn."""
    return _assessor(engine_reasoner)


@pytest.fixture
def assess_fast(reasoner):
    """``assess`` on the fast engine only, for tests of what tests/test_differential.py also compares
    between the engines on every patient (results in both units, serial and ignored results, the default
    table's citation in the whole outcome record): the reference engine takes 4-7 s a patient and the
    whole suite must stay within .ci/run's 20 minutes."""
    return _assessor(reasoner)
