"""The package's shape (docs/architecture.md): subpackages by pipeline stage, no import cycle and no
private name imported across modules. Imports inside functions count too: a cycle hidden in a function
is still a cycle."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "kg_reasoner"

#: The stages and what each owns (docs/architecture.md draws the same tree).
STAGES = {"read", "reason", "explain", "write", "cohort", "serve", "curation", "testing", "cli"}
TOP_LEVEL = {
    "__init__.py",
    "__main__.py",
    "_version.py",
    "_compat.py",
    "api.py",
    "errors.py",
    "guidance.py",
    "namespaces.py",
    "resources.py",
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(path: Path, name: str, modules: dict) -> list[tuple[str, list[str], bool]]:
    """(imported module, names, under TYPE_CHECKING) for every kg_reasoner import of the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only: set = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only.update(id(n) for b in node.body for n in ast.walk(b))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            if not base.startswith("kg_reasoner"):
                continue
            names = [a.name for a in node.names]
            # "from kg_reasoner.x import y" where y is itself a module: an import of that module
            submodules = [f"{base}.{n}" for n in names if f"{base}.{n}" in modules]
            for m in submodules:
                out.append((m, [], id(node) in typing_only))
            rest = [n for n in names if f"{base}.{n}" not in modules]
            if rest or not submodules:
                out.append((base, rest, id(node) in typing_only))
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("kg_reasoner"):
                    out.append((a.name, [], id(node) in typing_only))
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        for target, _names, typing_only in _imports(path, name, modules):
            # importing kg_reasoner.a.b runs kg_reasoner/__init__ and kg_reasoner/a/__init__ first; those
            # package edges are Python's, not the module's: only the module named is counted
            if not typing_only and target != name and target in modules:
                graph[name].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle():
    graph = _graph()
    # the package root re-exports the public API: an import of "kg_reasoner" itself from inside the
    # package would close a cycle through it, so none is allowed
    inward = sorted(m for m, targets in graph.items() if "kg_reasoner" in targets and m != "kg_reasoner")
    assert not inward, f"modules importing the package root (import the defining module instead): {inward}"
    assert _cycles(graph) == []


def test_no_private_name_is_imported_across_modules():
    modules = _modules()
    found = []
    for name, path in modules.items():
        for target, names, _typing in _imports(path, name, modules):
            found += [f"{name} imports {target}.{n}" for n in names if n.startswith("_") and not n.startswith("__")]
    # the version is the one dunder imported across modules
    assert found == []


def test_the_tree_is_the_pipeline():
    top = {p.name for p in PACKAGE.iterdir() if p.is_file() and p.suffix == ".py"}
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))}
    assert top == TOP_LEVEL
    assert folders == STAGES
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for name in sorted(TOP_LEVEL):
        assert f"kg_reasoner/{name}" in text or name in ("__main__.py",), f"docs/architecture.md does not place {name}"
    for name in sorted(STAGES):
        for path in sorted((PACKAGE / name).glob("*.py")):
            if path.name == "__init__.py" and name != "cli":
                continue
            assert f"{name}/{path.name}" in text, f"docs/architecture.md does not place {name}/{path.name}"


def test_every_moved_name_resolves_with_a_deprecation_warning():
    """The 0.1 import paths (kg_reasoner._compat.MOVED) keep working for one minor version: each name
    resolves to the object at its new place, with a DeprecationWarning naming it."""
    import importlib

    import pytest

    from kg_reasoner._compat import MOVED

    for old, names in MOVED.items():
        module = importlib.import_module(f"kg_reasoner.{old}")
        for name, (where, new) in names.items():
            with pytest.warns(DeprecationWarning, match=f"kg_reasoner.{where}.{new}"):
                value = getattr(module, name)
            assert value is getattr(importlib.import_module(f"kg_reasoner.{where}"), new), f"{old}.{name}"
