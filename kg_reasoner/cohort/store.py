"""Persistent cohort store (pyoxigraph, on disk) and SPARQL over it or over files.

Layout: the ontology in its own named graph, loaded once (replaced when the ontology changes);
each patient's asserted and inferred triples in her two named graphs
(``<patient>/graph/asserted``, ``<patient>/graph/inferred``). Re-assessing a patient replaces her
two graphs. Queries see the union of all graphs as their default graph.

Open a store written by ``CohortResult.to_store(path)`` or ``kg-reasoner assess --store PATH`` with
``CohortStore.open(path)`` (read-only by default) and query it with ``store.query(text, **values)``: the
package's prefixes are bound, ``patient=`` takes a patient id or IRI, and the result turns into a
DataFrame with ``.to_dataframe()``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import XSD

from kg_reasoner.cohort.layout import (
    LOADED,
    META_GRAPH,
    ONTOLOGY_GRAPH,
    QueryError,
    StoreWriting,
    ontology_key,
    query_result,
    rows,
    with_values,
)
from kg_reasoner.errors import InputError
from kg_reasoner.explain.guard import QueryRefused, inspect_query
from kg_reasoner.explain.guard import rdflib_query as guarded_rdflib_query
from kg_reasoner.explain.results import QueryResult, bind_values, package_prefixes
from kg_reasoner.reason.terms import from_ox, to_ox

if TYPE_CHECKING:
    from kg_reasoner.cohort.remote import RemoteStore


class StoreClosedError(InputError, AttributeError):
    """A closed store was used (an AttributeError too, so that ``hasattr`` answers False)."""


class CohortStore(StoreWriting):
    """An on-disk SPARQL 1.1 store of assessed patients (pyoxigraph).

    ``CohortStore.open(path)`` opens an existing store read-only (several processes may read it at
    once); ``CohortStore(path)`` opens or creates it for writing (``CohortResult.to_store`` does)."""

    def __init__(self, path: str | Path, read_only: bool = False):
        from kg_reasoner.cohort.remote import is_url

        if is_url(path):
            raise InputError(
                "is a SPARQL server's URL: open a store there with CohortStore.open(url, read_only=False)",
                source=str(path),
            )
        self.path = Path(path)
        self.read_only = read_only
        try:
            self.store = ox.Store.read_only(str(path)) if read_only else ox.Store(str(path))
        except OSError as exc:
            raise InputError(f"cannot open the store: {exc}", source=str(path)) from None

    @classmethod
    def open(cls, path: str | Path, read_only: bool = True, **server: Any) -> CohortStore | RemoteStore:
        """Open the store at ``path``, written by ``CohortResult.to_store(path)`` or ``kg-reasoner assess
        --store path``: read-only by default (it must exist); ``read_only=False`` to add patients to it.
        An ``http(s)://`` URL opens a store on a SPARQL 1.1 server (``cohort.remote``: ``query_endpoint=``
        and ``graph_store=`` name its two endpoints when they are not Oxigraph's ``/query`` and
        ``/store``). Raises InputError when it cannot be opened."""
        from kg_reasoner.cohort.remote import RemoteStore, is_url

        if is_url(path):
            return RemoteStore(str(path), read_only=read_only, **server)
        if server:
            raise TypeError(f"{', '.join(server)}: only for a store on a SPARQL server (an http(s):// URL)")
        if read_only and not Path(path).is_dir():
            raise InputError("is not a cohort store (no such folder)", source=str(path))
        return cls(path, read_only=read_only)

    def __repr__(self) -> str:
        return f"<CohortStore {str(self.path)!r}{' (read-only)' if self.read_only else ''}>"

    def ensure_ontology(self, kb) -> None:
        """Load the ontology into its graph unless this exact ontology is already there."""
        key = ox.Literal(ontology_key(kb))
        if ox.Quad(META_GRAPH, LOADED, key, META_GRAPH) in self.store:
            return
        self._writable()
        self.store.clear_graph(ONTOLOGY_GRAPH)
        self.store.extend(
            ox.Quad(to_ox(s), to_ox(p), to_ox(o), ONTOLOGY_GRAPH)
            for s, p, o in kb.ontology
            if not isinstance(s, Literal)
        )
        self.store.clear_graph(META_GRAPH)
        self.store.add(ox.Quad(META_GRAPH, LOADED, key, META_GRAPH))

    def _write_batch(self, patients: list[list]) -> None:
        """Each patient's graphs cleared, then every quad of the batch added in one ``extend`` (no patient
        comes twice in a batch: ``put_many`` sees to it)."""
        self._writable()
        for quads in patients:
            for g in {q.graph_name for q in quads}:
                self.store.clear_graph(g)
        self.store.extend(q for quads in patients for q in quads)

    def _writable(self) -> None:
        if self.read_only:
            raise InputError("is opened read-only: open it with read_only=False to write", source=str(self.path))

    def _graphs_holding(self, node: ox.NamedNode) -> Iterable[str]:
        return {
            q.graph_name.value
            for q in self.store.quads_for_pattern(node, None, None, None)
            if isinstance(q.graph_name, ox.NamedNode)
        }

    def flush(self) -> None:
        self.store.flush()

    def close(self) -> None:
        """Flush and release the store (its files and lock), so that another handle, e.g.
        ``CohortStore.open(path)`` read-only, sees a settled store. A closed store cannot be used again."""
        store = self.__dict__.pop("store", None)
        if store is not None and not self.read_only:
            store.flush()
        del store  # pyoxigraph closes the database when its last reference goes

    def __getattr__(self, name: str) -> Any:
        if name == "store":
            raise StoreClosedError(
                "the store was closed; open it again with CohortStore.open(path)", source=str(self.path)
            )
        raise AttributeError(name)

    def query(self, text: str, bindings: dict | None = None, **values: Any) -> QueryResult:
        """Run a read-only query and return a ``QueryResult`` (rows; ``.to_dataframe()``), the same type
        as ``Assessment.query``. The package's prefixes (kgr:, prg:, prov:, rdfs:, xsd:, ...) are bound
        unless the query declares its own. ``values`` are bound to variables: ``patient=`` takes a patient
        id or IRI, rdflib terms go as they are, other Python values as literals, and a plain string where an
        IRI is needed raises ``IriExpectedError``; ``bindings`` is a dict of rdflib terms, bound as given.

        Decided on the parsed query: no update, no SERVICE; FROM / FROM NAMED are honoured (graphs of
        the store only), else the default graph is the union of all graphs."""
        prefixes = package_prefixes()
        terms = dict(bindings or {})
        terms.update(bind_values(text, values, prefixes))
        try:
            plan = inspect_query(text)
            kwargs = dataset_arguments(plan.from_default, plan.from_named, self.graph_names())
            # (bound as a store on a SPARQL server binds them, first in the WHERE clause: pyoxigraph's
            # substitutions refuse a variable the SELECT does not project, e.g. ?patient of a COUNT)
            sent = with_values(text, terms, plan) if terms else text
            inspect_query(sent)  # (the text run: still no update, no SERVICE)
            result = self.store.query(sent, prefixes=prefixes, **kwargs)
            try:
                return query_result(result)
            finally:
                del result  # (freed in this thread: see RemoteStore._run)
        except QueryRefused as exc:
            raise QueryError(str(exc)) from None
        except (SyntaxError, RuntimeError, ValueError, OSError) as exc:
            raise QueryError(f"the query cannot be run: {exc}") from None

    def graph_names(self) -> frozenset[str]:
        return frozenset(g.value for g in self.store.named_graphs() if isinstance(g, ox.NamedNode))


# ---------------------------------------------------------------------------------------------
def parse_binding(text: str) -> tuple[str, Any]:
    """``var=value`` from the command line: <iri>, an http(s)/urn IRI, "a string", a number, or
    an xsd:dateTime (2026-11-01T00:00:00Z); anything else is a plain string."""
    if "=" not in text:
        raise QueryError(f"--bind {text!r}: write it as var=value")
    var, value = text.split("=", 1)
    var = var.strip().lstrip("?$")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", var):
        raise QueryError(f"--bind {text!r}: {var!r} is not a SPARQL variable name")
    value = value.strip()
    if value.startswith("<") and value.endswith(">"):
        return var, URIRef(value[1:-1])
    if re.match(r"^(https?|urn|file):", value):
        return var, URIRef(value)
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return var, Literal(value[1:-1])
    if re.fullmatch(r"-?\d+", value):
        return var, Literal(value, datatype=XSD.integer)
    try:
        if re.fullmatch(r"-?\d*\.\d+", value):
            Decimal(value)
            return var, Literal(value, datatype=XSD.decimal)
    except InvalidOperation:
        pass
    if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", value):
        return var, Literal(value, datatype=XSD.dateTime)
    return var, Literal(value)


def load_files(paths: Iterable[str], kb) -> Dataset:
    """Files written by ``kg-reasoner assess`` (TriG, N-Quads, Turtle, N-Triples, JSON-LD) in one
    dataset, with the ontology, queried as the union of its graphs."""
    ds = Dataset(default_union=True)
    onto = ds.graph(URIRef(ONTOLOGY_GRAPH.value))
    onto.addN((s, p, o, onto) for s, p, o in kb.ontology)
    formats = {".trig": "trig", ".nq": "nquads", ".ttl": "turtle", ".nt": "nt", ".jsonld": "json-ld"}
    for p in paths:
        fmt = formats.get(Path(p).suffix.lower())
        if fmt is None:
            raise InputError("is not a TriG, N-Quads, Turtle, N-Triples or JSON-LD file", source=str(p))
        try:
            if fmt in ("trig", "nquads"):
                ds.parse(p, format=fmt)
            else:
                g = ds.graph(URIRef(Path(p).resolve().as_uri()))
                g.parse(p, format=fmt)
        except Exception as exc:
            raise InputError(f"cannot be read as {fmt}: {exc}", source=str(p)) from None
    return ds


def rdflib_query(ds: Graph, text: str, bindings: dict | None = None):
    try:
        known = {str(g.identifier) for g in ds.graphs()} if hasattr(ds, "graphs") else set()
        return guarded_rdflib_query(ds, text, bindings, known)
    except QueryRefused as exc:
        raise QueryError(str(exc)) from None
    except Exception as exc:  # rdflib raises pyparsing and evaluation errors of many types
        raise QueryError(f"the query cannot be run: {exc}") from None


def dataset_arguments(from_default: list[str], from_named: list[str], known: frozenset[str]) -> dict:
    """pyoxigraph's dataset for a query: its FROM graphs as the default graph (FROM NAMED as the named
    graphs), or the union of the store's graphs when it names none. A graph the store does not hold is
    refused: nothing outside the store is ever loaded."""
    for iri in from_default + from_named:
        if iri not in known:
            raise QueryRefused(400, f"graph <{iri}> is not in this store; nothing outside the store is ever loaded")
    if not from_default and not from_named:
        return {"use_default_graph_as_union": True}
    return {
        "default_graph": [ox.NamedNode(g) for g in from_default],
        "named_graphs": [ox.NamedNode(g) for g in from_named],
    }


def serialize(result, fmt: str) -> str:
    """SPARQL 1.1 results: ``json`` (standard JSON results), ``csv``, or a readable ``table``."""
    if isinstance(result, (bool, ox.QueryBoolean)) or getattr(result, "type", None) == "ASK":
        value = bool(result) if isinstance(result, (bool, ox.QueryBoolean)) else bool(result.askAnswer)
        return ('{"head":{},"boolean":' + str(value).lower() + "}") if fmt == "json" else str(value).lower()
    if isinstance(result, ox.QueryTriples) or getattr(result, "type", None) in ("CONSTRUCT", "DESCRIBE"):
        g = Graph()
        for t in result:
            g.add(tuple(from_ox(x) for x in (t.subject, t.predicate, t.object)) if isinstance(t, ox.Triple) else t)
        return g.serialize(format="turtle")
    if fmt in ("json", "csv"):
        if isinstance(result, ox.QuerySolutions):
            f = ox.QueryResultsFormat.JSON if fmt == "json" else ox.QueryResultsFormat.CSV
            return result.serialize(format=f).decode("utf-8")
        return result.serialize(format=fmt).decode("utf-8")
    names, data = rows(result)
    cells = [[("" if t is None else str(t)) for t in r] for r in data]
    widths = [max([len(n)] + [len(c[i]) for c in cells]) for i, n in enumerate(names)]
    out = [" | ".join(n.ljust(w) for n, w in zip(names, widths)), "-+-".join("-" * w for w in widths)]
    out += [" | ".join(c.ljust(w) for c, w in zip(r, widths)) for r in cells]
    out.append(f"({len(cells)} row{'s' if len(cells) != 1 else ''})")
    return "\n".join(out) + "\n"


__all__ = ["CohortStore", "QueryError", "load_files", "parse_binding", "rdflib_query", "rows", "serialize"]
