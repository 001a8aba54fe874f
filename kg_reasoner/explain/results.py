"""What a SPARQL query on an Assessment or a cohort store returns, and how values are bound to it.

``Assessment.query`` and ``CohortStore.query`` both return a ``QueryResult``: an rdflib query result
(iterate its rows, ``row.code`` or ``row["code"]``; ``bool()`` of an ASK; the triples of a CONSTRUCT)
with ``to_dataframe()`` and ``records()``. Both bind the package's prefixes (``package_prefixes``: those
the packaged ontology files declare, kgr:, prg:, prov:, rdfs:, xsd:, ...) unless the query declares its
own, and take values through ``bind_values``: ``patient=`` a patient id or IRI; a plain string where an
IRI is needed is refused with ``IriExpectedError`` rather than matched as a literal that finds nothing.
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal
from typing import Any

from rdflib import Literal, URIRef, Variable
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.query import Result
from rdflib.term import Identifier

from kg_reasoner.errors import IriExpectedError
from kg_reasoner.read.patient import patient_iri
from kg_reasoner.resources import data_folder

_PREFIX_LINE = re.compile(r"^\s*@prefix\s+([A-Za-z][\w.-]*)?:\s*<([^>]+)>", re.MULTILINE | re.IGNORECASE)
_LOOKS_LIKE_IRI = re.compile(r"^(https?://|urn:|file:|mailto:)\S+$")
_PREFIXED = re.compile(r"^([A-Za-z][\w.-]*):[^\s/]\S*$")


@functools.cache
def package_prefixes() -> dict[str, str]:
    """The prefixes the packaged ontology files declare (``ontology/*.ttl``), plus rdf:; read from the
    files, so a prefix added there is bound everywhere."""
    out = {"rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#"}
    for f in sorted(data_folder("ontology").iterdir(), key=lambda f: f.name):
        if f.name.endswith(".ttl"):
            for prefix, iri in _PREFIX_LINE.findall(f.read_text(encoding="utf-8")):
                if prefix:
                    out.setdefault(prefix, iri)
    return out


def bind_values(text: str, values: dict[str, Any], prefixes: dict[str, str], patient: URIRef | None = None) -> dict:
    """The values of a query's variables as RDF terms: rdflib terms as they are, ``patient`` (a patient id
    or IRI) as her IRI, other Python values as literals. Raises IriExpectedError for a plain string that
    reads as an IRI (``"https://..."``, ``"kgr:Status"``) or is bound to a variable the query uses where
    only an IRI can be (subject, predicate, graph)."""
    out: dict = {}
    plain: dict = {}
    for name, value in values.items():
        if name == "patient" and value is not None and not isinstance(value, Identifier):
            if not isinstance(value, str):
                raise IriExpectedError(f"patient={value!r}: give a patient id (a string) or her IRI")
            out[name] = patient if patient is not None else patient_term(value)
        elif isinstance(value, Identifier):
            out[name] = value
        elif isinstance(value, str):
            m = _PREFIXED.match(value)
            if _LOOKS_LIKE_IRI.match(value) or (m and m.group(1) in prefixes):
                raise IriExpectedError(
                    f"{name}={value!r} is a plain string, which SPARQL matches as a literal, never as an IRI: "
                    f"give rdflib.URIRef(...) for an IRI (or rdflib.Literal({value!r}) if a string is meant)"
                )
            plain[name] = value
            out[name] = Literal(value)
        else:
            out[name] = Literal(value)
    if plain:
        iri_only = _iri_positions(text, tuple(sorted(prefixes.items())))
        for name in sorted(set(plain) & iri_only):
            raise IriExpectedError(
                f"{name}={plain[name]!r}: ?{name} is the subject, predicate or graph of a pattern, which only an "
                "IRI can be; give rdflib.URIRef(...)"
            )
    return out


def patient_term(value: str) -> URIRef:
    """A patient given as her id (``"P01"``) or IRI, as her IRI."""
    return URIRef(value) if _LOOKS_LIKE_IRI.match(value) else patient_iri(value)


@functools.lru_cache(maxsize=256)
def _iri_positions(text: str, prefixes: tuple) -> frozenset[str]:
    """The variables of the query that stand as the subject or predicate of a triple pattern or as a graph."""
    try:
        algebra = prepareQuery(text, initNs=dict(prefixes)).algebra
    except Exception:  # the query's own errors are reported when it is run
        return frozenset()
    found: set[str] = set()
    stack: list = [algebra]
    while stack:
        node = stack.pop()
        if isinstance(node, CompValue):
            if node.name == "BGP":
                for s, p, _o in node.get("triples") or []:
                    found.update(str(t) for t in (s, p) if isinstance(t, Variable))
            if node.name == "Graph" and isinstance(node.get("term"), Variable):
                found.add(str(node["term"]))
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)):
            stack.extend(node)
    return frozenset(found)


class QueryResult(Result):
    """The result of a SPARQL query on an Assessment or a cohort store: an rdflib ``Result`` (rows with
    ``row.var`` / ``row["var"]``, ``bool()`` of an ASK, triples of a CONSTRUCT / DESCRIBE) that turns into a
    pandas DataFrame in one call (``to_dataframe()``) or into plain dicts (``records()``)."""

    @classmethod
    def of(cls, result: Result) -> QueryResult:
        """The same result, materialised (it can be read more than once)."""
        out = cls(result.type)
        if result.type == "SELECT":
            out.vars = list(result.vars or [])
            out.bindings = list(result.bindings)
        elif result.type == "ASK":
            out.askAnswer = bool(result.askAnswer)
        else:
            out.graph = result.graph
        return out

    @classmethod
    def select(cls, names: list[str], rows: list[list]) -> QueryResult:
        out = cls("SELECT")
        out.vars = [Variable(n) for n in names]
        out.bindings = [{Variable(n): t for n, t in zip(names, r) if t is not None} for r in rows]
        return out

    def records(self) -> list[dict]:
        """Rows as dicts of Python values (numbers, strings, dates; IRIs as strings; None when unbound);
        an ASK as ``[{"boolean": answer}]``, a graph as subject / predicate / object rows."""
        if self.type == "ASK":
            return [{"boolean": bool(self.askAnswer)}]
        if self.type != "SELECT":
            return [{"subject": _py(s), "predicate": _py(p), "object": _py(o)} for s, p, o in self.graph]
        names = [str(v) for v in self.vars]
        return [{n: _py(b.get(Variable(n))) for n in names} for b in self.bindings]

    def to_dataframe(self):
        """A pandas DataFrame: one column per variable (in the query's order), Python values."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("DataFrames need pandas: pip install 'kg-reasoner[notebooks]'") from None
        columns = (
            ["boolean"]
            if self.type == "ASK"
            else [str(v) for v in self.vars]
            if self.type == "SELECT"
            else ["subject", "predicate", "object"]
        )
        return pd.DataFrame(self.records(), columns=columns)

    def __repr__(self) -> str:
        if self.type == "ASK":
            return f"<QueryResult ask: {bool(self.askAnswer)}>"
        if self.type == "SELECT":
            return f"<QueryResult {len(self.bindings)} rows of {', '.join('?' + str(v) for v in self.vars)}>"
        return f"<QueryResult {len(self.graph)} triples>"


def _py(term) -> Any:
    if term is None:
        return None
    if isinstance(term, Literal):
        value = term.toPython()
        return float(value) if isinstance(value, Decimal) else value if not isinstance(value, Literal) else str(value)
    return str(term)


__all__ = ["QueryResult", "bind_values", "package_prefixes"]
