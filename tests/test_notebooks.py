"""The notebooks (notebooks/*.ipynb) run top to bottom from a fresh clone and produce their pictures.

They are stored without outputs; the suite executes each in a fresh kernel of this Python (the
`notebooks` extra is part of the `test` extra) and checks the pictures and rich displays it expects."""

from __future__ import annotations

import ast
import json

import pytest
from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: notebook -> (at least this many plots, rich displays it must show)
EXPECT = {
    "01-quickstart.ipynb": (0, ["kg-reasoner-assessment"]),
    "02-cohort-analysis.ipynb": (3, ["kg-reasoner-cohort", "kg-reasoner-assessment"]),
    "03-why-this-outcome.ipynb": (2, ["kg-reasoner-assessment"]),
    "04-extending-the-guidance.ipynb": (0, ["kg-reasoner-assessment"]),
}
#: what notebooks may import from the package: its public API
PUBLIC = {"kg_reasoner", "kg_reasoner.write.plot", "kg_reasoner.testing.synthetic"}


def test_every_notebook_is_listed():
    assert [p.name for p in NOTEBOOKS] == sorted(EXPECT)


def _code(path):
    return [
        "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
        if c["cell_type"] == "code"
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    dirty = [
        i
        for i, c in enumerate(nb["cells"])
        if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count") is not None)
    ]
    assert dirty == [], f"strip the outputs of cells {dirty}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_uses_the_public_api_only(path):
    for source in _code(path):
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kg_reasoner"):
                assert node.module in PUBLIC, node.module
                assert not any(a.name.startswith("_") for a in node.names)
            if isinstance(node, ast.Import):
                assert all(a.name in PUBLIC or not a.name.startswith("kg_reasoner") for a in node.names)


@pytest.mark.slow  # executes the notebooks
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path):
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=1200, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()  # raises on any error
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    plots = sum("image/png" in o.get("data", {}) for o in outputs)
    html = " ".join(o.get("data", {}).get("text/html", "") for o in outputs)
    min_plots, displays = EXPECT[path.name]
    assert plots >= min_plots, f"{path.name} drew {plots} plots"
    for css_class in displays:
        assert css_class in html, f"{path.name} shows no {css_class}"
