"""What a user's SPARQL query asks for, decided on the parsed query, never on its text.

A text filter can be fooled (a ``# \"\"\"`` comment makes the filter see a string where the parser
sees a ``SERVICE`` clause) and refuses valid queries that merely contain a word (``?service``,
``"FROM"`` in a string). This module parses the query with rdflib's SPARQL 1.1 grammar and walks
the parse tree: an update is refused, a ``SERVICE`` clause (which would make the store fetch from
another endpoint, SSRF) is refused, and the dataset the query names (``FROM`` / ``FROM NAMED``) is
returned so that the caller can honour it. Used by ``kg-reasoner serve``, ``kg-reasoner query`` and
``CohortStore.query``.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from pyparsing import ParseException, ParseResults
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import Variable

_ESCAPE = re.compile(r"\\[uU]")


#: rdflib's pyparsing grammar keeps state while it parses: one parse at a time (the endpoint parses in threads).
_PARSING = threading.Lock()


class QueryRefused(Exception):
    """A query that cannot be run here, with the HTTP status a protocol endpoint answers."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class QueryPlan:
    form: str  # SelectQuery, AskQuery, ConstructQuery, DescribeQuery
    from_default: list[str] = field(default_factory=list)
    from_named: list[str] = field(default_factory=list)
    #: the variables it uses only inside subqueries that no subquery projects (``_only_in_subqueries``)
    only_in_subqueries: frozenset[str] = frozenset()


def inspect_query(text: str) -> QueryPlan:
    """The parsed query's form and dataset; raises QueryRefused for an update, a SERVICE clause, a
    query nested too deeply to parse, or one that is not SPARQL 1.1."""
    if not isinstance(text, str) or not text.strip():
        raise QueryRefused(400, "give a SPARQL query")
    if _ESCAPE.search(text):
        # rdflib expands \u escapes before it parses, pyoxigraph after: the two would read different queries
        raise QueryRefused(400, "\\u and \\U escapes are not accepted: write the character itself")
    try:
        with _PARSING:
            parsed = parseQuery(text)
    except RecursionError:
        raise QueryRefused(400, "the query is nested too deeply to be parsed") from None
    except ParseException as exc:
        if _is_update(text):
            raise QueryRefused(
                403,
                "this is a read-only query service: SPARQL Update (INSERT, DELETE, LOAD, CLEAR, ...) is not accepted",
            ) from None
        raise QueryRefused(400, f"the query is not valid SPARQL 1.1: {exc}") from None
    query = parsed[1]
    try:
        names = {node.name for node in _walk(parsed)}
        hidden = _only_in_subqueries(parsed)
    except RecursionError:
        raise QueryRefused(400, "the query is nested too deeply to be run") from None
    if "ServiceGraphPattern" in names:
        raise QueryRefused(403, "SERVICE is not accepted: this query service never queries other endpoints")
    default, named = [], []
    # (CompValue.get answers a missing key with the key's own name: test membership instead)
    for clause in query["datasetClause"] if "datasetClause" in query else []:
        if "default" in clause:
            default.append(str(clause["default"]))
        if "named" in clause:
            named.append(str(clause["named"]))
    return QueryPlan(query.name, default, named, hidden)


def _is_update(text: str) -> bool:
    try:
        with _PARSING:
            parseUpdate(text)
        return True
    except (ParseException, RecursionError):
        return False


def _only_in_subqueries(parsed) -> frozenset[str]:
    """The variables a parsed query uses only inside subqueries (``{ SELECT ... }``) and no subquery projects: a
    value bound from outside (a ``VALUES`` block at the top of the WHERE clause) does not reach them, since a
    subquery is evaluated on its own. What a subquery projects (or all it uses, with a star projection) is in scope
    outside it."""
    where: dict[str, set[bool]] = {}
    stack: list = [(parsed, False)]
    while stack:
        node, inside = stack.pop()
        if isinstance(node, CompValue) and node.name == "SubSelect" and "projection" in node:
            for key, value in node.items():
                if key != "projection":
                    stack.append((value, True))
                    continue
                for item in value or []:  # (what it projects is in scope outside it; the expressions are not)
                    stack += [(item.get("var"), inside), (item.get("evar"), inside), (item.get("expr"), True)]
        elif isinstance(node, CompValue):
            stack += [(value, inside) for value in node.values()]
        elif isinstance(node, (list, tuple, ParseResults)):
            stack += [(value, inside) for value in node]
        elif isinstance(node, Variable):
            where.setdefault(str(node), set()).add(inside)
    return frozenset(name for name, places in where.items() if places == {True})


def _walk(node):
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, CompValue):
            yield n
            stack.extend(n.values())
        elif isinstance(n, (list, tuple, ParseResults)):
            stack.extend(n)


_NO_LOADING = threading.Lock()


def rdflib_query(graph, text: str, bindings: dict | None = None, known_graphs=None, init_ns: dict | None = None):
    """Run a user's query with rdflib, after inspect_query: no SERVICE, and FROM / FROM NAMED read only
    graphs the dataset already holds (rdflib would otherwise fetch a FROM IRI from the network:
    SPARQL_LOAD_GRAPHS is switched off for the call). ``known_graphs``: the graph names FROM may use;
    ``init_ns``: prefixes the query may use undeclared (default: the graph's)."""
    plan = inspect_query(text)
    if known_graphs is not None:
        for iri in plan.from_default + plan.from_named:
            if iri not in known_graphs:
                raise QueryRefused(400, f"graph <{iri}> is not in the data; nothing outside it is ever loaded")
    import rdflib.plugins.sparql as rdflib_sparql

    with _NO_LOADING:
        before = rdflib_sparql.SPARQL_LOAD_GRAPHS
        rdflib_sparql.SPARQL_LOAD_GRAPHS = False
        try:
            return graph.query(text, initBindings=bindings or None, initNs=init_ns or None)
        finally:
            rdflib_sparql.SPARQL_LOAD_GRAPHS = before
