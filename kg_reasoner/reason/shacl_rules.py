"""SHACL-AF ``sh:SPARQLRule``s compiled for the fast engine: each rule's CONSTRUCT as a SELECT plus its
template, the predicates its WHERE clause reads (read from the parsed query), shape by shape in
``sh:order``. Outside this subset ``Unsupported`` is raised and pySHACL runs the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from rdflib import BNode, Graph, Literal, URIRef, Variable
from rdflib.namespace import RDF, RDFS, SH
from rdflib.paths import MulPath, NegatedPath, ZeroOrMore, ZeroOrOne
from rdflib.paths import Path as RdfPath
from rdflib.plugins.sparql import prepareQuery
from rdflib.term import Node

from kg_reasoner.reason.base import Unsupported
from kg_reasoner.reason.plans import EXISTS_OPERATORS as _EXISTS
from kg_reasoner.reason.plans import select_algebra
from kg_reasoner.reason.terms import prefix_block, to_ox

ANY_PREDICATE = "any predicate"  # the read set of a query with a variable predicate (a string: it survives pickling)


def _zero_length(path) -> bool:
    """A path that matches with zero steps (``ex:p*``, ``ex:p?``): it relates every node of the graph to
    itself, so any new triple can add a solution."""
    return isinstance(path, MulPath) and path.mod in (ZeroOrMore, ZeroOrOne)


def _read_set(algebra):
    """The predicates a query's WHERE clause can match (``ANY_PREDICATE`` for a variable predicate)."""
    preds: set = set()

    def walk(node):
        if isinstance(node, dict) and getattr(node, "name", None) in _EXISTS:
            # the translated pattern (translateExists sets it as an attribute; the item is the parse tree)
            graph = vars(node).get("graph")
            return graph is not None and walk(graph)
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "triples" and isinstance(v, list):
                    for triple in v:
                        if not walk_pred(triple[1]):
                            return False
                elif k != "template" and not walk(v):
                    return False
        elif isinstance(node, (list, tuple)):
            for v in node:
                if not walk(v):
                    return False
        return True

    def walk_pred(p):
        if isinstance(p, URIRef):
            preds.add(p)
            return True
        if isinstance(p, NegatedPath) or _zero_length(p):  # !ex:p reads every other predicate; ex:p* any node
            return False
        if isinstance(p, RdfPath):
            for attr in ("args", "path", "arg"):
                sub = getattr(p, attr, None)
                if sub is None:
                    continue
                for q in sub if isinstance(sub, list) else [sub]:
                    if not walk_pred(q):
                        return False
            return True
        return False  # a variable predicate

    return frozenset(preds | {RDF.type, RDFS.subClassOf}) if walk(algebra) else ANY_PREDICATE


_THIS = Variable("this")


class RuleSyntaxError(ValueError):
    """A rule shape's SPARQL CONSTRUCT does not parse: ``shape`` names the shape, ``reason`` the parser's error
    (``knowledge`` refuses the guidance module with it, never a traceback)."""

    def __init__(self, shape: Node, reason: str):
        self.shape, self.reason = shape, reason
        super().__init__(f"the SPARQL of a rule of {shape} does not parse: {reason}")


@dataclass(frozen=True)
class Watch:
    """Which new triples can change a rule's solutions (``watch_of``, read from its parsed query), finer than
    its predicates: a new ``rdf:type`` triple matters only when its class is read as a constant, or is a
    value a variable can take. Each pattern ``?x a ?v`` (or ``?x ?v ?y``) is read with what every
    solution that uses it binds ``?v`` to: the values at one place of another pattern (``(predicate,
    "s" | "o")``: ``?c kgr:metByClass ?v`` keeps ``?v`` to the objects of kgr:metByClass). A new
    triple whose class (or predicate) is none of them cannot take part in a solution, nor in the
    EXISTS, OPTIONAL or MINUS that decides one, so the rule need not run again for it."""

    #: the constant predicates of the patterns and paths (rdf:type aside)
    predicates: frozenset = frozenset()
    #: any new rdf:type triple can change the solutions
    any_type: bool = True
    #: classes read as constants (``?x a ex:C``)
    classes: frozenset = frozenset()
    #: for each ``?x a ?v``: the places (predicate, "s" or "o") whose values ?v is among, all at once
    class_places: frozenset = frozenset()
    #: any new triple can change the solutions (a variable predicate free of any other pattern)
    any_predicate: bool = True
    #: for each ``?x ?v ?y``: the places whose values ?v is among
    predicate_places: frozenset = frozenset()


def watch_of(algebra) -> Watch:
    """The ``Watch`` of a query's algebra (rdflib's ``translateQuery``). A variable's place is taken from
    another pattern of the same basic graph pattern; from what the operand of a FILTER or BIND certainly
    binds, for the patterns of its EXISTS (they are evaluated with those values substituted); and from
    what a join's, OPTIONAL's or MINUS's other side certainly binds, for the patterns whose matches
    join with it (never inside a negation or a nested OPTIONAL of that side, where a match need not
    bind the variable to the solution). A subquery, an aggregate or anything else is read with nothing
    known from outside."""
    preds: set = {RDFS.subClassOf}
    classes: set = set()
    class_places: set = set()
    pred_places: set = set()
    flags = {"any_type": False, "any_predicate": False}

    def part(node, key):
        return node[key] if key in node else None

    def places(triples) -> dict:
        """Each variable (or blank node) of a BGP: the places of its constant-predicate patterns, by
        pattern index."""
        out: dict = {}
        for i, (s, p, o) in enumerate(triples):
            if isinstance(p, URIRef):
                for term, where in ((s, "s"), (o, "o")):
                    if isinstance(term, (Variable, BNode)):
                        out.setdefault(term, []).append((i, (p, where)))
        return out

    def certain(node) -> dict:
        """What every solution of a node binds, each variable with places its value is among."""
        name = getattr(node, "name", None)
        if name == "BGP":
            return {v: {pl for _, pl in found} for v, found in places(part(node, "triples") or []).items()}
        if name == "Join":
            return merge(certain(part(node, "p1")), certain(part(node, "p2")))
        if name in ("LeftJoin", "Minus"):
            return certain(part(node, "p1"))
        if name in ("Filter", "Extend", "Project", "Distinct", "Reduced", "OrderBy", "Slice"):
            return certain(part(node, "p"))
        return {}

    def merge(*envs) -> dict:
        out: dict = {}
        for env in envs:
            for v, pls in env.items():
                out[v] = out.get(v, set()) | pls
        return out

    def possible(node) -> dict:
        """Beside what ``certain`` gives, the variables only an OPTIONAL of the node binds, each with the
        places its value is among when it is bound: a variable that anything else in the node mentions (a
        BIND, VALUES, a UNION, a subquery, another OPTIONAL) is left out."""
        name = getattr(node, "name", None)
        if name == "LeftJoin":
            p1, p2 = part(node, "p1"), part(node, "p2")
            sure = certain(p1)
            out = {v: pl for v, pl in possible(p1).items() if not occurrences(p2, v)}
            for v, pl in certain(p2).items():
                if v not in sure and not occurrences(p1, v):
                    out[v] = pl
            return out
        if name == "Join":
            p1, p2 = part(node, "p1"), part(node, "p2")
            return {
                **{v: pl for v, pl in possible(p1).items() if not occurrences(p2, v)},
                **{v: pl for v, pl in possible(p2).items() if not occurrences(p1, v)},
            }
        if name in ("Filter", "Project", "Distinct", "Reduced", "OrderBy", "Slice"):
            return possible(part(node, "p"))
        if name == "Extend":
            return {v: pl for v, pl in possible(part(node, "p")).items() if v != part(node, "var")}
        return certain(node) if name == "BGP" else {}

    def occurrences(node, v) -> int:
        """How often the variable occurs in a pattern or expression (an EXISTS: in its translated pattern)."""
        if isinstance(node, Variable):
            return int(node == v)
        if isinstance(node, dict):
            if getattr(node, "name", None) in _EXISTS:
                graph = vars(node).get("graph")
                return 2 if graph is None else occurrences(graph, v)  # (unknown: as if used twice)
            # (a VALUES row is a dict keyed by its variables; "_vars" only repeats what is counted elsewhere)
            return sum(occurrences(k, v) + occurrences(x, v) for k, x in node.items() if not str(k).startswith("_"))
        if isinstance(node, (list, tuple)):
            return sum(occurrences(x, v) for x in node)
        return 0

    def read_pattern(term, kind: str, own: set) -> None:
        """A variable in a class (``kind`` "class") or predicate position, with the places known for it."""
        if not own:
            flags["any_type" if kind == "class" else "any_predicate"] = True
        else:
            (class_places if kind == "class" else pred_places).add(frozenset(own))

    def rebound(node) -> set:
        """The variables a BIND or VALUES inside the node binds (not inside a subquery, an aggregate or an
        EXISTS, which are scopes of their own): a value known from outside does not hold for them there."""
        name = getattr(node, "name", None)
        if name in ("ToMultiSet", "Group", "AggregateJoin") and getattr(part(node, "p"), "name", None) != "values":
            return set()
        if name == "values":
            return {v for row in part(node, "res") or [] for v in row}
        out = {part(node, "var")} if name == "Extend" else set()
        for key in ("p", "p1", "p2"):
            sub = part(node, key) if isinstance(node, dict) else None
            if getattr(sub, "name", None):
                out |= rebound(sub)
        return out

    def implied_when_free(triples: list, i: int, local: dict, env: dict, pos: dict, scope) -> bool:
        """Whether the pattern ``?s a ?v`` (``triples[i]``) adds nothing to whether the BGP has a solution
        when ``?v`` is free: ``?v`` occurs nowhere else in the EXISTS pattern it was given to (``scope``),
        and another pattern of the BGP gives ``?s`` a type, which ``?v`` can then take; that pattern's
        class is a constant or a variable with places of its own (another pattern of the BGP, or what is
        bound around it), so that it is watched itself (two such patterns cannot excuse each other). A new
        type of any class cannot make such a pattern match where it did not."""
        s, _p, v = triples[i]
        if scope is None or occurrences(scope, v) != 1:
            return False
        for j, (sj, pj, oj) in enumerate(triples):
            if j == i or sj != s or pj != RDF.type:
                continue
            if not isinstance(oj, (Variable, BNode)):
                return True
            if {pl for k, pl in local.get(oj, []) if k != j} or env.get(oj) or pos.get(oj):
                return True
        return False

    def walk(node, env: dict, pos: dict, maybe: dict) -> None:
        """``maybe``: the variables an EXISTS is given that an OPTIONAL outside it may have bound, each with
        (the places of its value when bound, the outermost EXISTS pattern it was given to)."""
        name = getattr(node, "name", None)
        again = rebound(node) if env or pos or maybe else set()
        if again:
            env = {v: pl for v, pl in env.items() if v not in again}
            pos = {v: pl for v, pl in pos.items() if v not in again}
            maybe = {v: m for v, m in maybe.items() if v not in again}
        if name == "BGP":
            triples = part(node, "triples") or []
            local = places(triples)
            for i, (_s, p, o) in enumerate(triples):
                if isinstance(p, URIRef):
                    preds.add(p)
                    if p == RDF.type:
                        if isinstance(o, URIRef):
                            classes.add(o)
                        elif isinstance(o, (Variable, BNode)):
                            own = {pl for j, pl in local.get(o, []) if j != i}
                            known = own | env.get(o, set()) | pos.get(o, set())
                            if not known and o in maybe and implied_when_free(triples, i, local, env, pos, maybe[o][1]):
                                known = maybe[o][0]
                            read_pattern(o, "class", known)
                        else:
                            flags["any_type"] = True
                elif isinstance(p, (Variable, BNode)):
                    own = {pl for j, pl in local.get(p, []) if j != i}
                    read_pattern(p, "predicate", own | env.get(p, set()) | pos.get(p, set()))
                elif isinstance(p, RdfPath):
                    path_predicates(p)
                else:
                    flags["any_type"] = flags["any_predicate"] = True
            return
        if name == "Join":
            p1, p2 = part(node, "p1"), part(node, "p2")
            walk(p1, env, merge(pos, certain(p2)), maybe)
            walk(p2, env, merge(pos, certain(p1)), maybe)
            return
        if name == "LeftJoin":
            p1, p2 = part(node, "p1"), part(node, "p2")
            walk(p1, env, pos, maybe)
            walk(p2, env, certain(p1), maybe)
            expr(part(node, "expr"), merge(env, certain(p1), certain(p2)), maybe)
            return
        if name == "Minus":
            p1 = part(node, "p1")
            walk(p1, env, pos, maybe)
            walk(part(node, "p2"), {}, certain(p1), {})
            return
        if name == "Union":
            walk(part(node, "p1"), env, pos, maybe)
            walk(part(node, "p2"), env, pos, maybe)
            return
        if name in ("Filter", "Extend", "OrderBy"):
            p = part(node, "p")
            walk(p, env, pos, maybe)
            sure = certain(p)
            optional = {v: (pl, None) for v, pl in possible(p).items() if v not in sure and v not in env}
            expr(part(node, "expr"), merge(env, sure), {**optional, **maybe})
            return
        if name in ("SelectQuery", "ConstructQuery", "Project", "Distinct", "Reduced", "Slice"):
            walk(part(node, "p"), env, pos, maybe)
            return
        if name in ("ToMultiSet", "Group", "AggregateJoin"):
            # a subquery or an aggregate: evaluated on its own, nothing known from outside
            for key in ("p", "expr", "A"):
                sub = part(node, key)
                if sub is not None:
                    walk(sub, {}, {}, {}) if getattr(sub, "name", None) else expr(sub, {}, {})
            return
        if name in ("values", "Values"):
            return
        # anything else (GRAPH, SERVICE, ...): every new triple may matter
        flags["any_type"] = flags["any_predicate"] = True

    def path_predicates(path) -> None:
        if isinstance(path, NegatedPath) or _zero_length(path):  # !ex:p: every other predicate; ex:p*: any node
            flags["any_type"] = flags["any_predicate"] = True
            return
        if isinstance(path, URIRef):
            preds.add(path)
            if path == RDF.type:
                flags["any_type"] = True
            return
        for attr in ("args", "path", "arg"):
            sub = getattr(path, attr, None)
            if sub is not None:
                for q in sub if isinstance(sub, list) else [sub]:
                    path_predicates(q)

    def expr(e, known: dict, maybe: dict) -> None:
        """The EXISTS patterns of an expression, with what is substituted into them."""
        if isinstance(e, (list, tuple)):
            for x in e:
                expr(x, known, maybe)
            return
        if not isinstance(e, dict):
            return
        if getattr(e, "name", None) in _EXISTS:
            graph = vars(e).get("graph")  # (translateExists sets the translated pattern as an attribute)
            if graph is None:
                flags["any_type"] = flags["any_predicate"] = True
            else:
                walk(graph, known, {}, {v: (pl, graph if at is None else at) for v, (pl, at) in maybe.items()})
            return
        for v in e.values():
            expr(v, known, maybe)

    walk(algebra, {}, {}, {})
    return Watch(
        frozenset(preds - {RDF.type}),
        flags["any_type"],
        frozenset(classes),
        frozenset(class_places),
        flags["any_predicate"],
        frozenset(pred_places),
    )


@dataclass(frozen=True)
class Needs:
    """What every solution of a query needs in the data, read from its algebra: triples of these
    predicates, instances of these classes, and for the focus node ``$this`` triples of these predicates
    and these types. Without one of them the query has no solution, so the fast engine need not run it.
    Only what is certain is listed (an OPTIONAL, one branch of a UNION, a path, an aggregate that
    answers one row from nothing: nothing)."""

    predicates: frozenset = frozenset()
    classes: frozenset = frozenset()
    this_predicates: frozenset = frozenset()
    this_classes: frozenset = frozenset()

    def __or__(self, other: Needs) -> Needs:
        return Needs(*(a | b for a, b in zip(self._parts(), other._parts())))

    def __and__(self, other: Needs) -> Needs:
        return Needs(*(a & b for a, b in zip(self._parts(), other._parts())))

    def _parts(self) -> tuple:
        return self.predicates, self.classes, self.this_predicates, self.this_classes


#: operators whose solutions are solutions of their first operand (or a subset, or a projection of it)
_SAME_AS_FIRST = {
    "SelectQuery",
    "ConstructQuery",
    "Project",
    "Distinct",
    "Reduced",
    "Slice",
    "OrderBy",
    "Filter",
    "Extend",
    "LeftJoin",
    "Minus",
}


def needs_of(node) -> Needs:
    """The ``Needs`` of an algebra expression (rdflib's ``translateQuery``)."""
    name = getattr(node, "name", None)

    def part(key: str):  # (CompValue.get answers a missing key with the key's own name)
        return node[key] if key in node else None

    if name == "BGP":
        preds, classes, this_preds, this_classes = set(), set(), set(), set()
        for s, p, o in part("triples") or []:
            if not isinstance(p, URIRef):
                continue  # a variable or a path: nothing certain
            preds.add(p)
            if s == _THIS:
                this_preds.add(p)
            if p == RDF.type and isinstance(o, URIRef):
                classes.add(o)
                if s == _THIS:
                    this_classes.add(o)
        return Needs(frozenset(preds), frozenset(classes), frozenset(this_preds), frozenset(this_classes))
    if name in _SAME_AS_FIRST:
        return needs_of(part("p") if "p" in node else part("p1"))
    if name == "Join":
        return needs_of(part("p1")) | needs_of(part("p2"))
    if name == "Union":
        return needs_of(part("p1")) & needs_of(part("p2"))
    if name == "ToMultiSet":  # a subquery (inside it, ?this is another variable: not the focus node)
        inner = needs_of(part("p"))
        return Needs(inner.predicates, inner.classes)
    return Needs()  # anything else (VALUES, GROUP/aggregates, GRAPH, SERVICE...): nothing certain


@dataclass
class Rule:
    text: str  # the rule's CONSTRUCT as a SELECT of the template's variables
    reads: Any
    uses_this: bool
    slots: list = field(default_factory=list)  # the template as projection indexes / constant terms
    this_index: int = 0
    #: what every solution needs in the data (``needs_of``): without it the rule is not run
    needs: Needs = field(default_factory=Needs)
    #: the SELECT's algebra as plain data (``plans.select_algebra``), for the rule's Python plan
    algebra: Any = None
    #: which new triples can change its solutions (``watch_of``); None: any triple of ``reads``
    watch: Watch | None = None


def _as_select(text: str, algebra) -> tuple[str, list, list]:
    """A CONSTRUCT query as the SELECT of its template's variables, and the template.

    pyoxigraph drops a substituted ``$this`` from CONSTRUCT solutions whose WHERE clause
    binds it only inside a FILTER; the SELECT keeps it, and the template is instantiated
    here exactly as CONSTRUCT does (triples with an unbound or ill-placed term are skipped)."""
    template = algebra.get("template")
    if template is None:
        raise Unsupported("a SHACL rule that is not a CONSTRUCT with a template")
    upper = text.upper()
    start = upper.find("CONSTRUCT")
    open_ = text.find("{", start)
    if start < 0 or open_ < 0 or text[start + len("CONSTRUCT") : open_].strip():
        raise Unsupported("a CONSTRUCT without an explicit template")
    depth, end = 0, open_
    for end in range(open_, len(text)):
        depth += {"{": 1, "}": -1}.get(text[end], 0)
        if depth == 0:
            break
    compiled, names = [], {"this"}
    for triple in template:
        row = []
        for term in triple:
            if isinstance(term, Variable):
                names.add(str(term))
                row.append(("var", str(term)))
            elif isinstance(term, BNode):
                raise Unsupported("a rule template with blank nodes")
            else:
                row.append(("const", term))
        compiled.append(tuple(row))
    select = "SELECT " + " ".join(f"?{n}" for n in sorted(names))
    return text[:start] + select + " " + text[end + 1 :], compiled, sorted(names)


@dataclass
class RuleShape:
    node: Any
    order: float
    targets: list
    rules: list


def compile_rule_shapes(shapes: Graph) -> list[RuleShape] | None:
    """The rule shapes as programs for ``_PatientRun.apply_rules`` (plain data: the knowledge base
    caches them on disk), or None when the shapes use something the fast engine does not run."""
    try:
        return _compile_rule_shapes(shapes)
    except Unsupported:
        return None


def _order(shapes: Graph, node: Node) -> float:
    """A shape's or a rule's sh:order (0 when it has none). The rule shapes are the packaged guidance's
    own (``Guidance.rule_documents``), whose sh:order values are numeric literals."""
    return float(cast("Literal | None", shapes.value(node, SH.order)) or 0)


def _compile_rule_shapes(shapes: Graph) -> list[RuleShape]:
    out = []
    for node in set(shapes.subjects(SH.rule, None)):
        targets = list(shapes.objects(node, SH.targetClass))
        extra_targets = [
            p for p in (SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target) if (node, p, None) in shapes
        ]
        if extra_targets:
            raise Unsupported(f"shape {node} uses {extra_targets[0]}")
        rules = []
        for r in sorted(shapes.objects(node, SH.rule), key=lambda r: _order(shapes, r)):
            if (
                (r, RDF.type, SH.SPARQLRule) not in shapes
                or (r, SH.condition, None) in shapes
                or (r, SH.deactivated, Literal(True)) in shapes
            ):
                raise Unsupported(f"rule {r} of {node} is not a plain sh:SPARQLRule")
            text = prefix_block(shapes, r) + str(shapes.value(r, SH.construct))
            try:
                algebra = prepareQuery(text).algebra
            except Exception as exc:  # (pyparsing's error, or rdflib's on an unknown prefix)
                raise RuleSyntaxError(node, str(exc)) from None
            select, template, names = _as_select(text, algebra)
            slots = [tuple(names.index(v) if kind == "var" else v for kind, v in pattern) for pattern in template]
            rules.append(
                Rule(
                    select,
                    _read_set(algebra),
                    "$this" in text or "?this" in text,
                    slots=slots,
                    this_index=names.index("this"),
                    needs=needs_of(algebra),
                    algebra=select_algebra(select),
                    watch=watch_of(algebra),
                )
            )
        out.append(RuleShape(node, _order(shapes, node), targets, rules))
    return sorted(out, key=lambda s: s.order)


def with_oxigraph_constants(programs: list[RuleShape] | None) -> list[RuleShape] | None:
    """Fresh rule objects for one engine, the template constants and what a rule reads as pyoxigraph terms."""
    if programs is None:
        return None
    out = []
    for shape in programs:
        rules = [
            Rule(
                r.text,
                _ox_reads(r.reads),
                r.uses_this,
                this_index=r.this_index,
                slots=[tuple(x if type(x) is int else to_ox(x) for x in slot) for slot in r.slots],
                needs=r.needs,
                algebra=r.algebra,
                watch=ox_watch(r.watch),
            )
            for r in shape.rules
        ]
        out.append(RuleShape(shape.node, shape.order, shape.targets, rules))
    return out


def _ox_reads(reads):
    """A read set (``_read_set``) as pyoxigraph terms, the keys of the engine's ``pred_changes``."""
    return reads if reads == ANY_PREDICATE else frozenset(to_ox(p) for p in reads)


def ox_watch(w: Watch | None) -> Watch | None:
    """A Watch with its predicates, classes and places as pyoxigraph terms (what the engine's indexes and
    ``pred_changes`` hold)."""
    if w is None:
        return None
    return Watch(
        frozenset(to_ox(p) for p in w.predicates),
        w.any_type,
        frozenset(to_ox(c) for c in w.classes),
        frozenset(frozenset((to_ox(q), at) for q, at in places) for places in w.class_places),
        w.any_predicate,
        frozenset(frozenset((to_ox(q), at) for q, at in places) for places in w.predicate_places),
    )
