"""Guidance modules: the generic core plus one guidance's own ontology and rules.

The core (``ontology/core.ttl``, ``ontology/code-systems.ttl``, ``shapes/core-rules.ttl``,
``shapes/patient-validation.ttl``) holds the vocabulary every guidance shares: patients and their
records, findings with explicit presence, measurements, causes, conditions, interventions, rules,
criteria, statuses and flags, and the generic SHACL rules that fire any rule the ontology describes.
A guidance module is data on top of it: an ontology that imports the core and describes its causes,
findings and rules, optionally SHACL rule shapes for what the generic rules cannot express (the
progesterone guidance's status-dependent flags), and optionally a reference table.

``PROGESTERONE`` is the bundled guidance. Another guidance is a ``Guidance.from_files(...)``::

    from kg_reasoner import Guidance, Reasoner
    aspirin = Guidance.from_files("aspirin", ontology=["aspirin.ttl"])
    Reasoner(guidance=aspirin).assess({"id": "A1", "causes": {"chronic_hypertension": True}})
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kg_reasoner.resources import read_text

#: How a document shipped with the package is named: ``kg-reasoner:<folder>/<file>``.
PACKAGED = "kg-reasoner:"


#: The core every guidance builds on, in import order.
CORE_ONTOLOGY = (f"{PACKAGED}ontology/core.ttl", f"{PACKAGED}ontology/code-systems.ttl")


#: The generic SHACL rules (they contain no guidance-specific IRI).
CORE_RULES = (f"{PACKAGED}shapes/prefixes.ttl", f"{PACKAGED}shapes/core-rules.ttl")


#: The closed-world checks of patient graphs (generic too).
CORE_VALIDATION = (f"{PACKAGED}shapes/prefixes.ttl", f"{PACKAGED}shapes/patient-validation.ttl")


@dataclass(frozen=True)
class Guidance:
    """One guidance module: its ontology documents, its own SHACL rule shapes (beside the core's) and
    its default reference table. Documents are file paths or ``kg-reasoner:<folder>/<file>`` names
    of the package's own files."""

    name: str
    ontology: tuple[str, ...]
    rules: tuple[str, ...] = ()
    reference_table: str | None = None

    @classmethod
    def from_files(
        cls,
        name: str,
        ontology: Iterable[str | Path],
        rules: Iterable[str | Path] = (),
        reference_table: str | Path | None = None,
    ) -> Guidance:
        """A guidance module from Turtle files on disk (its ontology must import the core's IRI,
        ``https://w3id.org/kg-reasoner/ontology/core``; the core is always loaded from the package)."""
        return cls(
            name,
            tuple(str(Path(p).resolve()) for p in ontology),
            tuple(str(Path(p).resolve()) for p in rules),
            str(Path(reference_table).resolve()) if reference_table else None,
        )

    def ontology_documents(self, with_reference_table: bool = True) -> tuple[str, ...]:
        table = (self.reference_table,) if with_reference_table and self.reference_table else ()
        return CORE_ONTOLOGY + self.ontology + table

    def rule_documents(self) -> tuple[str, ...]:
        return CORE_RULES + self.rules


#: The bundled guidance "Can progesterone prevent miscarriage?".
PROGESTERONE = Guidance(
    "progesterone",
    ontology=(f"{PACKAGED}ontology/progesterone.ttl",),
    reference_table=f"{PACKAGED}ontology/progesterone-reference-ranges.ttl",
)


def read_document(doc: str) -> str:
    """The text of a guidance document (packaged or on disk)."""
    if doc.startswith(PACKAGED):
        folder, _, name = doc[len(PACKAGED) :].partition("/")
        return read_text(folder, name)
    return Path(doc).read_text(encoding="utf-8")


def public_id(doc: str) -> str:
    return doc if doc.startswith(PACKAGED) else Path(doc).as_uri()
