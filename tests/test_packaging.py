"""The wheel carries the ontology, shapes and queries as package data, identical to the top-level folders."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import zipfile

import pytest
from conftest import ROOT

#: the full tier only (builds the wheel): run with --with-slow
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    wheels = list(out.glob("kg_reasoner-*.whl"))
    assert len(wheels) == 1
    return zipfile.ZipFile(wheels[0])


@pytest.mark.parametrize("folder", ["ontology", "shapes", "queries"])
def test_wheel_contains_package_data(wheel, folder):
    names = set(wheel.namelist())
    sources = sorted(p for p in (ROOT / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    assert sources
    for src in sources:
        rel = src.relative_to(ROOT / folder).as_posix()
        member = f"kg_reasoner/_data/{folder}/{rel}"
        assert member in names, member
        assert wheel.read(member) == src.read_bytes(), f"{member} differs from {folder}/{rel}"
    if folder == "queries":
        assert any(n.startswith("kg_reasoner/_data/queries/qc/") and n.endswith("-violation.rq") for n in names)


def test_wheel_has_console_script_and_version(wheel):
    from kg_reasoner import __version__

    entry = next(n for n in wheel.namelist() if n.endswith("entry_points.txt"))
    assert "kg-reasoner = kg_reasoner.cli:run" in wheel.read(entry).decode()
    meta = next(n for n in wheel.namelist() if n.endswith("METADATA"))
    assert f"Version: {__version__}" in wheel.read(meta).decode()


def test_version_defined_once():
    from kg_reasoner import __version__

    assert importlib.metadata.version("kg-reasoner") == __version__


def test_wheel_contains_the_authoring_shapes(wheel):
    """``kg-reasoner check`` and the load-time check of a guidance module read shapes/authoring.ttl from the
    installed package."""
    from rdflib import Graph
    from rdflib.namespace import RDF, SH

    member = "kg_reasoner/_data/shapes/authoring.ttl"
    assert member in wheel.namelist()
    shapes = Graph().parse(data=wheel.read(member).decode("utf-8"), format="turtle")
    assert len(set(shapes.subjects(RDF.type, SH.NodeShape))) > 20
