"""Seeded random SPARQL for the plans' differential test (tests/test_plans_fuzz.py): small graphs and
SELECT queries built from the algebra the plans compile (BGPs with paths and blank nodes, OPTIONAL,
UNION, FILTER, BIND, (NOT) EXISTS, VALUES, subqueries, DISTINCT, aggregates, ``$this``) and the
expressions our shapes and queries use, with their error cases (unbound variables, type errors,
mixed kinds of literal). A case is a function of its seed alone: a failing seed is its own reproduction.

The queries are written so that they are legal SPARQL 1.1 (a BIND never rebinds a variable in scope; an
aggregate query projects only its GROUP BY keys and aggregates), so a parse error in one engine is not a
finding of the other."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

PREFIXES = (
    "PREFIX ex: <http://example.org/> PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> "
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
)
TURTLE_PREFIXES = (
    "@prefix ex: <http://example.org/> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> . "
    "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
)

NODES = ["ex:a", "ex:b", "ex:c", "ex:d", "ex:e"]
CLASSES = ["ex:C", "ex:D", "ex:E"]
PREDICATES = ["ex:p", "ex:q", "ex:r", "ex:next"]
LITERALS = [
    "1",
    "2",
    "3",
    "0",
    "-1",
    "1.5",
    "2.0",
    '"01"^^xsd:integer',
    '"x"',
    '"y#z"',
    '"1"',
    '"x"@en',
    "true",
    "false",
    '"2020-01-01T10:00:00Z"^^xsd:dateTime',
    '"2020-01-02T09:00:00+01:00"^^xsd:dateTime',
    '"2020-01-01"^^xsd:date',
]
#: the graphs of a case: the ontology's part, her asserted and her inferred graph (the default graph
#: is their multiset union, as in a patient's run)
GRAPH_NAMES = ("ontology", "asserted", "inferred")


def random_graphs(rng: random.Random) -> dict[str, str]:
    """Three small Turtle graphs over a few nodes, predicates, classes and literals; some triples in two
    graphs, a class hierarchy in the ontology's, a blank node now and then."""
    graphs: dict[str, list[str]] = {name: [] for name in GRAPH_NAMES}
    graphs["ontology"] += ["ex:D rdfs:subClassOf ex:C .", 'ex:C rdfs:label "C" .', 'ex:D rdfs:label "D" .']
    if rng.random() < 0.5:
        graphs["ontology"].append("ex:E rdfs:subClassOf ex:D .")
    for _ in range(rng.randint(6, 20)):
        s = rng.choice(NODES)
        roll = rng.random()
        if roll < 0.2:
            t = f"{s} a {rng.choice(CLASSES)} ."
        elif roll < 0.45:
            t = f"{s} {rng.choice(PREDICATES)} {rng.choice(NODES)} ."
        elif roll < 0.52:
            t = f"{s} {rng.choice(PREDICATES)} [ {rng.choice(PREDICATES)} {rng.choice(LITERALS + NODES)} ] ."
        else:
            t = f"{s} {rng.choice(PREDICATES)} {rng.choice(LITERALS)} ."
        where = rng.choices(GRAPH_NAMES, weights=(1, 4, 2))[0]
        graphs[where].append(t)
        if rng.random() < 0.1:  # (the same triple in another graph: counted twice in the union)
            graphs[rng.choice([g for g in GRAPH_NAMES if g != where])].append(t)
    return {name: "\n".join(lines) for name, lines in graphs.items()}


@dataclass
class _Scope:
    """The variables a pattern may bind so far (for BIND's fresh names and the expressions' reads)."""

    names: list[str] = field(default_factory=list)
    fresh: list[int] = field(default_factory=lambda: [0])

    def new(self, prefix: str = "b") -> str:
        self.fresh[0] += 1
        return f"?{prefix}{self.fresh[0]}"

    def child(self) -> _Scope:
        return _Scope(list(self.names), self.fresh)


class QueryMaker:
    """One random query from a seed (``make``); ``depth`` bounds the nesting of groups."""

    VARIABLES = ["?s", "?o", "?x", "?y", "?n"]

    def __init__(self, rng: random.Random, *, this: bool = False, depth: int = 3):
        self.rng = rng
        self.this = this
        self.depth = depth

    # -- terms ------------------------------------------------------------
    def _variable(self, scope: _Scope) -> str:
        choices = list(self.VARIABLES)
        if self.this:
            choices.append("$this")
        v = self.rng.choice(choices)
        if v not in scope.names:
            scope.names.append(v)
        return v

    def _node_or_variable(self, scope: _Scope, *, literal: bool = False) -> str:
        roll = self.rng.random()
        if roll < 0.65:
            return self._variable(scope)
        if literal and roll < 0.82:
            return self.rng.choice(LITERALS)
        return self.rng.choice(NODES + CLASSES[:1])

    def _path(self) -> str:
        p, q = self.rng.sample(PREDICATES, 2)
        return self.rng.choice([f"{p}|{q}", f"{p}/{q}", f"^{p}", f"{p}*", f"{p}+", f"{p}?", f"({p}|{q})/{q}?"])

    def _triple(self, scope: _Scope) -> str:
        rng = self.rng
        s = self._node_or_variable(scope)
        roll = rng.random()
        if roll < 0.12:
            return f"{s} a {rng.choice(CLASSES + [self._variable(scope)])} ."
        if roll < 0.2:
            return f"{s} {self._path()} {self._node_or_variable(scope)} ."
        if roll < 0.25:
            return f"{s} {rng.choice(PREDICATES)} [ {rng.choice(PREDICATES)} {self._node_or_variable(scope, literal=True)} ] ."
        if roll < 0.3:
            return f"{s} {self._variable(scope)} {self._node_or_variable(scope, literal=True)} ."
        return f"{s} {rng.choice(PREDICATES)} {self._node_or_variable(scope, literal=True)} ."

    # -- expressions ------------------------------------------------------
    def _operand(self, scope: _Scope) -> str:
        rng = self.rng
        if scope.names and rng.random() < 0.6:
            return rng.choice(scope.names + ["?unbound"])
        return rng.choice(LITERALS + NODES[:2])

    def expression(self, scope: _Scope, depth: int = 2) -> str:
        rng = self.rng
        if depth <= 0:
            return self._operand(scope)
        kind = rng.randrange(16)
        sub = lambda: self.expression(scope, depth - 1)  # noqa: E731
        if kind < 3:
            return f"({sub()} {rng.choice(['=', '!=', '<', '>', '<=', '>='])} {sub()})"
        if kind == 3:
            return f"({sub()} {rng.choice(['&&', '||'])} {sub()})"
        if kind == 4:
            return f"(!{sub()})"
        if kind == 5:
            return f"({sub()} {rng.choice(['+', '-', '*', '/'])} {sub()})"
        if kind == 6:
            return f"BOUND({rng.choice(scope.names or ['?unbound'])})"
        if kind == 7:
            return f"{rng.choice(['isIRI', 'isLITERAL', 'isNUMERIC', 'isBLANK', 'STR'])}({sub()})"
        if kind == 8:
            return f"({sub()} {rng.choice(['IN', 'NOT IN'])} ({', '.join(sub() for _ in range(rng.randint(1, 3)))}))"
        if kind == 9:
            return f"COALESCE({', '.join(sub() for _ in range(rng.randint(1, 3)))})"
        if kind == 10:
            return f"IF({sub()}, {sub()}, {sub()})"
        if kind == 11 and self.depth > 0:
            maker = QueryMaker(rng, this=self.this, depth=min(self.depth - 1, 1))
            inner = maker.group(scope.child())
            return f"{rng.choice(['EXISTS', 'NOT EXISTS'])} {{ {inner} }}"
        if kind == 12:
            fn, arg = rng.choice(["STRSTARTS", "STRAFTER", "CONCAT"]), rng.choice(['"x"', '""', '"y"', '"http"'])
            return f"{fn}(STR({sub()}), {arg})"
        if kind == 13:
            return f"{rng.choice(['FLOOR', 'ABS', 'STRLEN', 'LCASE', 'DATATYPE', 'LANG'])}({sub()})"
        if kind == 14:
            return f"(-{sub()})"
        return self._operand(scope)

    # -- patterns ---------------------------------------------------------
    def group(self, scope: _Scope) -> str:
        """A group graph pattern's body: a few elements, each a triple or a nested form."""
        rng = self.rng
        parts = []
        for _ in range(rng.randint(1, 4)):
            roll = rng.random()
            if roll < 0.45 or self.depth <= 0:
                parts.append(self._triple(scope))
            elif roll < 0.57:
                parts.append(f"OPTIONAL {{ {self._nested().group(scope)} }}")
            elif roll < 0.65:
                left, right = self._nested().group(scope.child()), self._nested().group(scope.child())
                parts.append(f"{{ {left} }} UNION {{ {right} }}")
                for v in self.VARIABLES:  # (either branch may bind them)
                    if v in left or v in right:
                        if v not in scope.names:
                            scope.names.append(v)
            elif roll < 0.77:
                parts.append(f"FILTER ({self.expression(scope)})")
            elif roll < 0.86:
                expr = self.expression(scope)
                name = scope.new()
                parts.append(f"BIND ({expr} AS {name})")
                scope.names.append(name)
            elif roll < 0.9:
                parts.append(self._values(scope))
            elif roll < 0.95:
                parts.append(f"{{ {self._nested().group(scope)} }}")
            else:
                parts.append(self._subquery(scope))
        return " ".join(parts)

    def _nested(self) -> QueryMaker:
        return QueryMaker(self.rng, this=self.this, depth=self.depth - 1)

    def _values(self, scope: _Scope) -> str:
        rng = self.rng
        names = rng.sample(self.VARIABLES, rng.randint(1, 2))
        rows = []
        for _ in range(rng.randint(1, 3)):
            cells = [rng.choice(LITERALS[:6] + NODES[:3] + ["UNDEF"]) for _ in names]
            rows.append(f"({' '.join(cells)})")
        for n in names:
            if n not in scope.names:
                scope.names.append(n)
        return f"VALUES ({' '.join(names)}) {{ {' '.join(rows)} }}"

    def _subquery(self, scope: _Scope) -> str:
        rng = self.rng
        inner_scope = _Scope([], scope.fresh)
        body = self._nested().group(inner_scope)
        seen = [v for v in inner_scope.names if v.startswith("?") and v != "?unbound"]
        if not seen:
            return f"{{ SELECT * WHERE {{ {body} }} }}"
        if rng.random() < 0.3:
            key = rng.choice(seen)
            n = scope.new("k")
            scope.names += [key, n] if key not in scope.names else [n]
            what = rng.choice(
                ["COUNT(*)", f"COUNT(DISTINCT {rng.choice(seen)})", f"COUNT({rng.choice(seen)})", f"SAMPLE({key})"]
                + [f"{fn}({rng.choice(seen)})" for fn in ("SUM", "MIN", "MAX", "AVG")]
            )
            return f"{{ SELECT {key} ({what} AS {n}) WHERE {{ {body} }} GROUP BY {key} }}"
        chosen = rng.sample(seen, rng.randint(1, len(seen)))
        for v in chosen:
            if v not in scope.names:
                scope.names.append(v)
        distinct = "DISTINCT " if rng.random() < 0.4 else ""
        return f"{{ SELECT {distinct}{' '.join(chosen)} WHERE {{ {body} }} }}"

    def make(self) -> str:
        rng = self.rng
        scope = _Scope()
        body = self.group(scope)
        distinct = "DISTINCT " if rng.random() < 0.15 else ""
        order = ""
        keys = [v for v in scope.names if v.startswith("?") and v != "?unbound"]
        if keys and rng.random() < 0.2:  # (an order the plans decide, or hand to pyoxigraph: Fallback)
            order = " ORDER BY " + " ".join(
                rng.choice(["{}", "DESC({})", "ASC({})"]).format(k) for k in rng.sample(keys, rng.randint(1, len(keys)))
            )
        return PREFIXES + f"SELECT {distinct}* WHERE {{ {body} }}{order}"


@dataclass(frozen=True)
class Case:
    seed: int
    graphs: dict
    query: str
    this: str | None


def case(seed: int) -> Case:
    """The seed's graphs, query and ``$this`` (a node, or None: the query does not use it)."""
    rng = random.Random(seed)
    graphs = random_graphs(rng)
    this = rng.random() < 0.25
    query = QueryMaker(rng, this=this, depth=rng.choice([1, 2, 2, 3])).make()
    node = rng.choice(NODES + ["ex:nobody"]).replace("ex:", "http://example.org/")
    # (pyoxigraph substitutes $this only into a query that projects it)
    return Case(seed, graphs, query, node if this and "$this" in query else None)


def loaded(c: Case):
    """A case's graphs loaded into a new pyoxigraph store: (store, the named graphs in the case's order)."""
    import pyoxigraph as ox

    store, graphs = ox.Store(), []
    for name, turtle in c.graphs.items():
        g = ox.NamedNode(f"urn:test:{name}")
        store.load((TURTLE_PREFIXES + turtle).encode(), format=ox.RdfFormat.TURTLE, to_graph=g)
        graphs.append(g)
    return store, graphs
