"""RDF terms between rdflib and pyoxigraph, the canonical form of inferred literals, and query rows."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import SH, XSD, DefinedNamespace

#: Entries of each term cache below. The terms every patient shares (the ontology's IRIs, labels and codes) are
#: a few thousand and stay in; a patient's own terms pass through. 8,192 misses as often as 65,536 did on
#: 12,000 full explanations (``named_node`` and ``uri_ref`` equally, ``_literal`` 5% more), and a worker's
#: memory stays at about 115 MB instead of growing to about 200 MB by 100,000 patients.
_TERMS = 8192

_XSD_STRING = str(XSD.string)
_STRING, _DECIMAL = XSD.string, XSD.decimal


@functools.lru_cache(maxsize=_TERMS)
def named_node(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def to_ox(t):
    # (``type(t) is URIRef`` first: the common case, and rdflib's terms are ABCs, whose isinstance is slow)
    if type(t) is URIRef or isinstance(t, URIRef):
        return named_node(str(t))
    if isinstance(t, BNode):
        return ox.BlankNode(str(t))
    if t.language:
        return ox.Literal(str(t), language=t.language)
    return ox.Literal(str(t), datatype=named_node(str(t.datatype)) if t.datatype else None)


#: One object per IRI of the knowledge base, for the process (``known_iri``): the namespaces' own terms
#: (``RDF.type``, ``XSD.decimal``, ``KGR.Patient``...) and every IRI the cached knowledge base holds.
_KNOWN: dict[str, URIRef] = {}


def known_iri(iri: str) -> URIRef:
    """The process's one URIRef for an IRI of the knowledge base (the cache reads the knowledge base's IRIs
    through it, ``knowledge._read_cache``): its graphs, compiled rules, shapes and OWL 2 RL tables, and the
    code's namespace terms, then hold the same objects, which sets and dicts compare by identity (two equal
    but distinct URIRefs cost a call of rdflib's Python ``__eq__``: hundreds a patient)."""
    t = _KNOWN.get(iri)
    if t is None:
        if not _SEEDED:
            with _SEEDING:  # (the namespaces' objects first, once, whichever thread comes first)
                if not _SEEDED:
                    _seed_known()
                    _SEEDED.append(True)
        t = _KNOWN.setdefault(iri, URIRef(iri))
    return t


_SEEDED: list = []
_SEEDING = threading.Lock()


def _seed_known() -> None:
    """The namespaces' own objects first (rdflib keeps one per term of a ``DefinedNamespace``)."""
    from rdflib.namespace import OWL, RDF, RDFS, SKOS

    from kg_reasoner import namespaces

    spaces = [RDF, RDFS, OWL, XSD, SH, SKOS]
    spaces += [v for v in vars(namespaces).values() if isinstance(v, type) and issubclass(v, DefinedNamespace)]
    for ns in spaces:
        for name in getattr(ns, "__annotations__", {}):
            try:
                term = getattr(ns, name)
            except AttributeError:
                continue
            if type(term) is URIRef:
                _KNOWN.setdefault(str(term), term)


@functools.lru_cache(maxsize=_TERMS)
def uri_ref(iri: str) -> URIRef:
    """One URIRef per IRI (equal terms that are the same object compare at once in sets and dicts): the
    knowledge base's own object for its IRIs."""
    return _KNOWN.get(iri) or URIRef(iri)


#: rdflib's term for each pyoxigraph term ``from_ox`` converted, keyed by the pyoxigraph term: one hash (in
#: Rust) per call, where ``uri_ref(t.value)`` also built the IRI's Python string and hashed that. Emptied when
#: it holds ``_TERMS`` terms (those every patient shares come back at once from the caches below).
_FROM_OX: dict = {}


def from_ox(t):
    r = _FROM_OX.get(t)
    if r is None:
        if type(t) is ox.NamedNode:
            r = uri_ref(t.value)
        elif type(t) is ox.BlankNode:
            return BNode(t.value)
        else:
            r = _literal(t)
        if len(_FROM_OX) >= _TERMS:
            _FROM_OX.clear()
        _FROM_OX[t] = r
    return r


@functools.lru_cache(maxsize=_TERMS)
def _literal(t: ox.Literal) -> Literal:
    """One rdflib Literal per pyoxigraph literal (lexical form, datatype, language: terms equal only when
    all three are): building one costs rdflib several microseconds, and the explanations' rows hold the
    ontology's labels and codes for every patient. (rdflib's terms are immutable.)"""
    if t.language:
        return Literal(t.value, lang=t.language)
    dt = t.datatype.value
    return Literal(t.value) if dt == _XSD_STRING else Literal(t.value, datatype=uri_ref(dt))


def canonical_literal(term):
    """One lexical form per value for the literals a derivation computes: xsd:decimal in its
    canonical form (95.400 -> 95.4), xsd:string as a simple literal. Both engines apply it to
    what they infer, so their graphs compare triple by triple."""
    if type(term) is URIRef or not isinstance(term, Literal) or term.language:
        return term
    if term.datatype == _STRING:
        return Literal(str(term))
    if term.datatype == _DECIMAL:
        try:
            text = format(Decimal(str(term)).normalize(), "f")
        except InvalidOperation:
            return term
        return Literal(text if "." in text else text + ".0", datatype=XSD.decimal)
    return term


def prefix_block(shapes: Graph, node) -> str:
    lines = []
    for pnode in shapes.objects(node, SH.prefixes):
        for decl in shapes.objects(pnode, SH.declare):
            lines.append(f"PREFIX {shapes.value(decl, SH.prefix)}: <{shapes.value(decl, SH.namespace)}>")
    return "\n".join(lines) + "\n"


def solutions(results) -> Iterable:
    names = [v.value for v in results.variables]
    for sol in results:
        yield sol, names


class Row:
    """A pyoxigraph solution that reads like an rdflib result row (terms converted to rdflib)."""

    __slots__ = ("_d",)

    def __init__(self, sol, names):
        self._d = {n: from_ox(sol[n]) for n in names if sol[n] is not None}

    @classmethod
    def of(cls, values: dict) -> Row:
        """A row of a plan's solution (its variables in projection order, those unbound absent or None)."""
        row = object.__new__(cls)
        row._d = {n: from_ox(v) for n, v in values.items() if v is not None}
        return row

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._d.get(name)

    def __getitem__(self, name):
        return self._d.get(name)

    def asdict(self) -> dict:
        return dict(self._d)
