"""The SPARQL queries of ``queries/``, parsed once and run with bound variables.

Values reach a query only through ``initBindings``: no query text is ever built
from data.
"""

from __future__ import annotations

import functools
from typing import Any

from rdflib import Graph
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query

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
