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


#: Packaged modules that guidance modules share and import (``owl:imports`` of their IRI loads them from
#: the package): the pregnancy module (gestational age, conception, reference tables by gestational week).
SHARED_MODULES = (f"{PACKAGED}ontology/pregnancy.ttl",)


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
        ``https://w3id.org/kg-reasoner/ontology/core``; the core is always loaded from the package).
        A module the files import that the package ships (e.g. the pregnancy module,
        ``https://w3id.org/kg-reasoner/ontology/pregnancy``) is loaded from the package too, as
        ``ontology/catalog-v001.xml`` maps it: never from the network.

        When it is loaded (``Reasoner(guidance=...)``) the module is checked, once per content (the
        check is cached with the knowledge base): an axiom neither engine would honour or an authoring
        error refuses it with a ``GuidanceModuleError`` naming each term and axiom. ``kg-reasoner check``
        runs the same checks and the slower ones (quality-control queries, HermiT) without loading."""
        files = tuple(str(Path(p).resolve()) for p in ontology)
        return cls(
            name,
            packaged_imports(files) + files,
            tuple(str(Path(p).resolve()) for p in rules),
            str(Path(reference_table).resolve()) if reference_table else None,
        )

    def ontology_documents(self, with_reference_table: bool = True) -> tuple[str, ...]:
        return CORE_ONTOLOGY + self.module_documents(with_reference_table)

    def module_documents(self, with_reference_table: bool = True) -> tuple[str, ...]:
        """The guidance's own ontology documents (without the core)."""
        table = (self.reference_table,) if with_reference_table and self.reference_table else ()
        return self.ontology + table

    def shared_documents(self) -> tuple[str, ...]:
        """The packaged modules (e.g. the pregnancy module) among the guidance's documents: shared by
        several guidance modules and checked by the package's own tests, like the core."""
        return tuple(d for d in self.ontology if d in SHARED_MODULES)

    def authored_documents(self, with_reference_table: bool = True) -> tuple[str, ...]:
        """The documents the guidance's author wrote: its documents without the shared modules (what
        ``kg-reasoner check`` and the check at load report on)."""
        return tuple(d for d in self.module_documents(with_reference_table) if d not in SHARED_MODULES)

    @property
    def checked_at_load(self) -> bool:
        """Whether loading checks the module (``kg_reasoner.curation``: the OWL 2 RL profile, what owlrl
        does not honour, the authoring shapes) and refuses it on an error: any guidance with a document of
        its own, not shipped with the package. (The packaged guidance is checked by the test suite.)"""
        docs = self.ontology + self.rules + ((self.reference_table,) if self.reference_table else ())
        return any(not d.startswith(PACKAGED) for d in docs)

    def rule_documents(self) -> tuple[str, ...]:
        return CORE_RULES + self.rules


#: The bundled guidance "Can progesterone prevent miscarriage?".
PROGESTERONE = Guidance(
    "progesterone",
    ontology=(f"{PACKAGED}ontology/pregnancy.ttl", f"{PACKAGED}ontology/progesterone.ttl"),
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


def _catalog() -> dict[str, str]:
    """Module IRI -> packaged document, from the Protégé import catalog shipped with the ontologies."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(read_text("ontology", "catalog-v001.xml"))
    ns = "{urn:oasis:names:tc:entity:xmlns:xml:catalog}"
    return {u.get("name", ""): f"{PACKAGED}ontology/{u.get('uri')}" for u in root.iter(f"{ns}uri")}


def packaged_imports(files: Iterable[str]) -> tuple[str, ...]:
    """The packaged documents (other than the core, always loaded) that ``files`` import, directly or
    through each other, in an order where a document comes after those it imports."""
    from rdflib import Graph
    from rdflib.namespace import OWL

    from kg_reasoner.errors import OntologyError

    catalog = _catalog()
    always = set(CORE_ONTOLOGY)
    out: list[str] = []

    def visit(doc: str, text: str) -> None:
        g = Graph()
        try:
            g.parse(data=text, format="turtle", publicID=public_id(doc))
        except Exception as e:  # rdflib raises several kinds; the author needs the file and the parser's words
            raise OntologyError(f"the guidance module {doc} is not readable Turtle: {e}") from e
        for iri in sorted(str(o) for o in g.objects(None, OWL.imports)):
            packaged = catalog.get(iri)
            if packaged and packaged not in always and packaged not in out:
                visit(packaged, read_document(packaged))
                out.append(packaged)

    for f in files:
        try:
            text = read_document(f)
        except OSError as e:
            raise OntologyError(f"the guidance module {f} cannot be read: {e.strerror or e}") from e
        visit(f, text)
    return tuple(out)
