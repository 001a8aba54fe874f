"""The SPARQL queries of ``queries/``, parsed once and run with bound variables.

Values reach a query only through ``initBindings``: no query text is ever built
from data.
"""

from __future__ import annotations

import functools
from typing import Any

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query

from kg_reasoner.reason.terms import Row, solutions, to_ox
from kg_reasoner.resources import read_text


@functools.cache
def prepared(name: str) -> Query:
    """The query ``queries/NAME.rq``, parsed and algebra-translated once per process."""
    return prepareQuery(read_text("queries", f"{name}.rq"))


def library_query(name: str) -> str:
    """The text of the bundled query ``queries/NAME.rq`` (see ``query_names()``), to run on an
    Assessment (``a.query(text, patient=a.iri)``), a cohort store (``store.select(text, ...)``) or any
    rdflib graph, with values passed as bindings."""
    return read_text("queries", f"{name}.rq")


def run_query(name: str, graph: Graph, **bindings: Any):
    return graph.query(prepared(name), initBindings=bindings or None)


def ontology_store(graph: Graph) -> ox.Store:
    """An rdflib graph (an ontology closure) in a pyoxigraph store, for ``store_rows``: its generalized
    triples (owlrl's ``"7.0"^^xsd:decimal a xsd:decimal``, a literal subject) left out, as RDF has none."""
    store = ox.Store()
    store.extend(
        ox.Quad(to_ox(s), to_ox(p), to_ox(o), ox.DefaultGraph())
        for s, p, o in graph
        if not isinstance(s, Literal) and isinstance(p, URIRef)
    )
    return store


def store_rows(name: str, store: ox.Store) -> list[Row]:
    """The rows of queries/NAME.rq over ``ontology_store(graph)``, each read as an rdflib result row (rdflib
    terms; None when unbound): the same as ``run_query(name, graph)``, without rdflib's SPARQL parser, which
    takes 30-150 ms per query at every process's start (the readers' vocabularies run six queries). Rows of
    a query without ORDER BY come sorted by their values: the same order on every run."""
    text = read_text("queries", f"{name}.rq")
    rows = [Row(sol, names) for sol, names in solutions(store.query(text))]
    if "ORDER BY" not in text.upper():  # (one order whatever the store's indexes: a reader may keep the last)
        rows.sort(key=lambda row: sorted((k, str(v)) for k, v in row.asdict().items()))
    return rows
