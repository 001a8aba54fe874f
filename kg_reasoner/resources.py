"""Access to the ontology, shapes and queries shipped as package data.

The top-level folders ``ontology/``, ``shapes/`` and ``queries/`` are the
source of truth; the wheel build copies them into ``kg_reasoner/_data/`` (see
``pyproject.toml``). In a source checkout (editable install, or running the
tests from the repository) they are read from the top-level folders.
"""

from __future__ import annotations

import functools
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

#: Ontology documents of the bundled guidance, in import order.
ONTOLOGY_FILES = ("core.ttl", "code-systems.ttl", "pregnancy.ttl", "progesterone.ttl")


#: The default reference table (replaceable by the user's own table).
REFERENCE_TABLE_FILE = "progesterone-reference-ranges.ttl"


#: Shapes that validate patient graphs (closed-world checks).
VALIDATION_SHAPES = ("prefixes.ttl", "patient-validation.ttl")


#: Shapes whose SHACL rules derive criteria, statuses, flags and missing data.
RULE_SHAPES = ("prefixes.ttl", "core-rules.ttl")


@functools.cache
def data_folder(name: str) -> Traversable:
    """The folder ``name`` (ontology, shapes, queries) inside the installed package,
    or at the top of the source checkout."""
    packaged = resources.files("kg_reasoner").joinpath("_data", name)
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parent.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"kg-reasoner data folder {name!r} is missing from the installation")


def read_text(folder: str, filename: str) -> str:
    return data_folder(folder).joinpath(filename).read_text(encoding="utf-8")


def query_names() -> list[str]:
    return sorted(p.name[:-3] for p in data_folder("queries").iterdir() if p.name.endswith(".rq"))
