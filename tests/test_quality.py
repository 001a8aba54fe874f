"""The code base's own checks, as CI runs them: ruff (lint and format, configured in pyproject.toml) and
mypy on the read/ and reason/ stages."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from conftest import ROOT


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=ROOT, timeout=600)


@pytest.mark.skipif(
    shutil.which("ruff") is None and not _run("ruff", "--version").returncode == 0,
    reason="ruff is not installed (the test extra installs it)",
)
def test_ruff_lint_and_format():
    lint = _run("ruff", "check", ".")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = _run("ruff", "format", "--check", ".")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


@pytest.mark.slow  # mypy takes a while on a cold cache
def test_mypy_on_read_and_reason():
    proc = _run("mypy")
    assert proc.returncode == 0, proc.stdout + proc.stderr
