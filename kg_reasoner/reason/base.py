"""What both engines share: the engine interface (``Engine.session`` -> ``Derivation``), data problems
from validation results, the patient's named graphs, owlrl's inconsistency triples, and the
``Unsupported`` signal of a part outside the compiled subset.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from rdflib import BNode, Dataset, Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SH

from kg_reasoner.explain.records import DataProblem
from kg_reasoner.namespaces import ERR

if TYPE_CHECKING:
    from kg_reasoner.reason.knowledge import KnowledgeBase


def problem_record(severity, focus, path, value, messages, source) -> DataProblem:
    """One validation result as a data problem naming the record and the field."""
    return {
        "severity": "violation" if severity == SH.Violation else "warning",
        "record": str(source) if source is not None else str(focus),
        "node": str(focus),
        "field": str(path) if path is not None else None,
        "value": str(value) if value is not None else None,
        "message": "; ".join(sorted(str(m) for m in messages)),
    }


def problem_key(d: DataProblem) -> tuple:
    return d["node"], d["field"] or "", d["message"], d["value"] or ""


def distinct_problems(problems: list[DataProblem]) -> list[DataProblem]:
    """Validation results as data problems, sorted, each said once: two results that name the same record,
    field, value and message (two solutions of one SPARQL constraint, two shapes with one message) are one
    problem to the reader, whichever engine found them."""
    out: list[DataProblem] = []
    seen: set = set()
    for p in sorted(problems, key=problem_key):
        key = tuple(sorted(p.items()))
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def patient_graphs(patient: URIRef, asserted, inferred) -> list[tuple[URIRef, list]]:
    """The patient's asserted and inferred triples under the names of her two graphs: what is exported
    (TriG, Turtle) and stored. An inferred link to one of the ontology's anonymous class expressions
    (``<patient> a [ owl:intersectionOf (...) ]``) is left out: outside the ontology that blank node is
    a fresh, undescribed node, so the export would not say what the store says (issue 12, item 12).
    The rules saw it; the named classes it entails are kept."""
    asserted = list(asserted)
    inferred = list(inferred)
    own = {s for s, _, _ in asserted} | {s for s, _, _ in inferred}
    return [
        (URIRef(f"{patient}/graph/asserted"), asserted),
        (
            URIRef(f"{patient}/graph/inferred"),
            [t for t in inferred if not (isinstance(t[2], BNode) and t[2] not in own)],
        ),
    ]


def patient_dataset(patient: URIRef, asserted, inferred) -> tuple[Dataset, Graph, Graph]:
    """``patient_graphs`` as two named graphs of one rdflib dataset."""
    ds = Dataset()
    (na, ta), (ni, ti) = patient_graphs(patient, asserted, inferred)
    a, i = ds.graph(na), ds.graph(ni)
    a.addN((s, p, o, a) for s, p, o in ta)
    i.addN((s, p, o, i) for s, p, o in ti)
    return ds, a, i


class Unsupported(Exception):
    pass


#: Reflexive triples owlrl adds for every resource (x owl:sameAs x, ...): true and uninformative.
TRIVIAL_REFLEXIVE = {OWL.sameAs, RDFS.subClassOf, RDFS.subPropertyOf, OWL.equivalentClass, OWL.equivalentProperty}


def closure_errors(graph: Graph) -> list[str]:
    """The inconsistencies owlrl wrote into a closure (its ErrorMessage triples: they do not raise)."""
    return sorted(str(m) for e in graph.subjects(RDF.type, ERR.ErrorMessage) for m in graph.objects(e, ERR.error))


class SortedOnRead(Sequence):
    """A set of triples read as a sorted sequence, sorted when first read: a summary row (``--format
    csv``) never reads a patient's inferred triples, and sorting them is a tenth of her reasoning. Given a
    function, the set is what it returns when first read (made then, not before)."""

    __slots__ = ("_make", "_set", "_sorted")

    def __init__(self, items: set | Callable[[], set]) -> None:
        self._set: set | None = None if callable(items) else items
        self._make = items if callable(items) else None
        self._sorted: list | None = None

    @property
    def _items(self) -> set:
        if self._set is None:  # (two threads reading it first at once both make it: the same set)
            self._set = self._make()  # type: ignore[misc]
        return self._set

    def _list(self) -> list:
        if self._sorted is None:
            self._sorted = sorted(self._items)
        return self._sorted

    def __iter__(self) -> Iterator:
        return iter(self._list())

    def __len__(self) -> int:
        return len(self._list())

    def __getitem__(self, i):
        return self._list()[i]

    def __contains__(self, t) -> bool:
        return t in self._items

    def __eq__(self, other) -> bool:
        return isinstance(other, (list, tuple, SortedOnRead)) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]  # (a sequence, compared by value)

    def __repr__(self) -> str:
        return f"SortedOnRead({self._list()!r})"

    def __reduce__(self):  # pickled as the sorted list it reads as
        return list, (self._list(),)


@dataclass
class Derivation:
    """What an engine derived for one patient: her asserted and inferred triples, why she cannot be
    assessed (OWL 2 RL inconsistencies, SHACL violations) and the warnings, which implementation ran
    each stage, and ``query(name, **bindings)``: the library query ``queries/NAME.rq`` over the
    ontology and her two graphs, valid while the engine's session lasts."""

    asserted: Iterable
    inferred: Iterable
    inconsistencies: list[str]
    violations: list[DataProblem]
    warnings: list[DataProblem]
    #: e.g. {"owl": "compiled", "validation": "compiled", "rules": "compiled", "explain": "plans"}
    stages: dict
    query: Callable[..., Iterable[Any]]
    #: the rdflib graph the rules saw, when the engine built one (the reference engine)
    work: Graph | None = None
    #: False when the session was asked for some queries only (``demand``) and left out rules none of
    #: them needs: ``inferred`` is then only part of what the patient's derivation holds
    complete: bool = True

    @property
    def assessable(self) -> bool:
        return not self.inconsistencies and not self.violations


class Engine(Protocol):
    """What ``api.Reasoner`` needs of an engine: a session per patient yielding her ``Derivation``."""

    name: str
    kb: KnowledgeBase

    def session(
        self, patient: URIRef, asserted: Graph | Sequence, demand: frozenset | None = None
    ) -> contextlib.AbstractContextManager[Derivation]: ...
