"""SHACL Core constraint components and ``sh:SPARQLConstraint`` compiled for the fast engine, checked with
pySHACL's own comparison helpers. A shapes graph outside this subset raises ``Unsupported`` and is
validated by pySHACL: nothing is ever silently left unchecked.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pyoxigraph as ox
from pyshacl.rdfutil.compare import compare_literal
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, XSD

from kg_reasoner.explain.records import DataProblem
from kg_reasoner.reason.base import Unsupported, distinct_problems, problem_record
from kg_reasoner.reason.terms import canonical_literal, from_ox, prefix_block, solutions, to_ox

_OWL_CLASS = URIRef("http://www.w3.org/2002/07/owl#Class")


_PROPERTY_KEYS = {
    SH.path,
    SH.minCount,
    SH.maxCount,
    SH.datatype,
    SH.minLength,
    SH.node,
    SH.minInclusive,
    SH.maxInclusive,
    SH["class"],
    SH.nodeKind,
    SH["in"],
    SH.message,
    SH.severity,
    SH.name,
    SH.description,
}


_NODE_KEYS = {
    SH.targetClass,
    SH.property,
    SH.sparql,
    SH.severity,
    SH.message,
    SH["or"],
    SH.datatype,
    SH.name,
    SH.description,
    SH.rule,
    SH.order,
}


@dataclass
class Shape:
    node: Any
    path: Any = None
    severity: Any = SH.Violation
    messages: list = field(default_factory=list)
    params: dict = field(default_factory=dict)
    properties: list = field(default_factory=list)
    ors: list = field(default_factory=list)
    sparql: list = field(default_factory=list)  # (query text, messages)
    targets: list = field(default_factory=list)


def compile_validation_shapes(shapes: Graph) -> list[Shape]:
    cache: dict = {}

    def shape(node, is_property: bool) -> Shape:
        if node in cache:
            return cache[node]
        keys = {p for p in shapes.predicates(node) if str(p).startswith(str(SH))}
        allowed = _PROPERTY_KEYS if is_property else _NODE_KEYS
        if keys - allowed:
            raise Unsupported(f"shape {node} uses {sorted(keys - allowed, key=str)[0]}")
        s = Shape(
            node,
            severity=shapes.value(node, SH.severity) or SH.Violation,
            messages=[m for m in shapes.objects(node, SH.message)],
            targets=list(shapes.objects(node, SH.targetClass)),
        )
        cache[node] = s
        if is_property:
            s.path = shapes.value(node, SH.path)
            if not isinstance(s.path, URIRef):
                raise Unsupported(f"property shape {node} has a complex path")
        for key in (
            SH.minCount,
            SH.maxCount,
            SH.datatype,
            SH.minLength,
            SH.minInclusive,
            SH.maxInclusive,
            SH["class"],
            SH.nodeKind,
        ):
            values = list(shapes.objects(node, key))
            if len(values) > 1:
                raise Unsupported(f"shape {node} has several {key}")
            if values:
                s.params[key] = values[0]
        if (node, SH["in"], None) in shapes:
            s.params[SH["in"]] = set(Collection(shapes, shapes.value(node, SH["in"])))
        if (node, SH.node, None) in shapes:
            s.params[SH.node] = [shape(n, False) for n in shapes.objects(node, SH.node)]
        for lst in shapes.objects(node, SH["or"]):
            s.ors.append([shape(m, (m, SH.path, None) in shapes) for m in Collection(shapes, lst)])
        for p in shapes.objects(node, SH.property):
            s.properties.append(shape(p, True))
        for c in shapes.objects(node, SH.sparql):
            text = shapes.value(c, SH.select)
            if (
                text is None
                or (c, SH.deactivated, Literal(True)) in shapes
                or any(v in str(text) for v in ("$shapesGraph", "$currentShape", "$PATH", "$path"))
            ):
                raise Unsupported(f"SPARQL constraint {c} of {node}")
            s.sparql.append((prefix_block(shapes, c) + str(text), list(shapes.objects(c, SH.message))))
        return s

    # targets other than sh:targetClass select focus nodes this validator would never visit: such a
    # shapes graph is validated by pyshacl (never silently unchecked)
    for target in (SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target):
        for n in shapes.subjects(target, None):
            raise Unsupported(f"shape {n} uses {target}")
    # a constraint component the shapes graph declares itself (SHACL-SPARQL, section 6): its parameters
    # are not in the sh: namespace, so they would pass the key check below unseen
    for component in shapes.subjects(RDF.type, SH.ConstraintComponent):
        raise Unsupported(f"the shapes graph declares the constraint component {component}")
    if (None, SH.parameter, None) in shapes:
        raise Unsupported("the shapes graph declares a constraint component parameter")
    shape_nodes = set(shapes.subjects(RDF.type, SH.NodeShape)) | set(shapes.subjects(RDF.type, SH.PropertyShape))
    for n in shape_nodes:
        if (n, RDF.type, RDFS.Class) in shapes or (n, RDF.type, _OWL_CLASS) in shapes:
            raise Unsupported(f"shape {n} is also a class (an implicit class target)")
    top = [shape(n, False) for n in set(shapes.subjects(SH.targetClass, None))]
    for s in top:
        _check_messages(s)
        for nested in _nested_shapes(s):
            if nested.sparql:  # (``_conforms`` tests a nested shape's Core constraints only)
                raise Unsupported(
                    f"shape {nested.node} has a SPARQL constraint and is reached through sh:node or sh:or"
                )
    return top


def _nested_shapes(s: Shape) -> list[Shape]:
    """The shapes a focus node's values are tested against through sh:node and sh:or (``_conforms``), at any
    depth, each once."""
    out: list[Shape] = []
    seen: set = set()

    def visit(shape: Shape, nested: bool) -> None:
        if nested:
            if id(shape) in seen:
                return
            seen.add(id(shape))
            out.append(shape)
        for member in [m for alternatives in shape.ors for m in alternatives] + list(shape.params.get(SH.node, [])):
            visit(member, True)
        for prop in shape.properties:
            visit(prop, nested)

    visit(s, False)
    return out


def _check_messages(s: Shape) -> None:
    """Every result the fast validator reports carries the shapes' own sh:message (pyshacl's generic
    messages are not reproduced): a shape that would need one is validated by pyshacl."""
    has_core = bool(s.ors) or any(k in s.params for k in _PROPERTY_KEYS)
    if has_core and not s.messages:
        raise Unsupported(f"shape {s.node} has no sh:message")
    for p in s.properties:
        if not p.messages:
            raise Unsupported(f"property shape {p.node} has no sh:message")
    for _text, messages in s.sparql:
        if not messages and not s.messages:
            raise Unsupported(f"a SPARQL constraint of {s.node} has no sh:message")


def _format(msg: str, bound: dict) -> str:
    import re

    for var, val in bound.items():
        msg = re.sub(f"{{[?$]{var}}}", str(val), msg)
    return msg


def _datatype_ok(v, dt) -> bool:
    """sh:datatype as pySHACL's DatatypeConstraintComponent decides it (the reference engine): a language-tagged
    string is an rdf:langString, and an ill-typed literal fails, as SHACL says; a value of a datatype pySHACL
    does not know passes, and, as pySHACL's own special cases (not SHACL's), every literal is an rdfs:Literal
    and every literal with a datatype an rdfs:Datatype."""
    if not isinstance(v, Literal):
        return False
    if v.datatype == dt:
        return getattr(v, "ill_typed", None) is not True and _actual_datatype(v, dt)
    if dt == _RDFS_LITERAL:
        return True
    if dt == _RDFS_DATATYPE:
        return v.datatype is not None
    if v.datatype is None and v.language is None and dt == _XSD_STRING:
        return _actual_datatype(v, dt)
    return dt == _LANG_STRING and bool(v.language) and _actual_datatype(v, dt)


# (an rdflib namespace attribute costs a lookup each time)
_RDFS_LITERAL, _RDFS_DATATYPE, _XSD_STRING, _LANG_STRING = RDFS.Literal, RDFS.Datatype, XSD.string, RDF.langString


#: the Python type rdflib gives a well-typed value of each datatype, as pySHACL tests it
#: (``DatatypeConstraintComponent._assert_actual_datatype``, pySHACL 0.30-0.40); any other datatype passes
_PYTHON_TYPES: dict[URIRef, type | tuple[type, ...]] = {
    XSD.string: (str, bytes),
    RDF.langString: (str, bytes),
    XSD.integer: int,
    XSD.float: float,
    XSD.decimal: Decimal,
    XSD.boolean: bool,
    XSD.date: _dt.date,
    XSD.time: _dt.time,
    XSD.dateTime: _dt.datetime,
}


def _actual_datatype(v: Literal, dt) -> bool:
    """Whether a literal's Python value is of the datatype's type, as pySHACL tests it (``_PYTHON_TYPES``;
    tests/test_shacl_fuzz.py compares the two)."""
    kind = _PYTHON_TYPES.get(dt)
    return kind is None or isinstance(v.value, kind)


def _min_length_ok(v, n) -> bool:
    return not isinstance(v, BNode) and len(str(v)) >= int(n)


def _range_ok(v, bound, ok: Callable[[int], bool]) -> bool:
    if not isinstance(v, Literal):
        return False
    if isinstance(bound.value, str) != isinstance(v.value, str):
        return False
    try:
        return ok(compare_literal(v, bound))
    except (TypeError, NotImplementedError):
        return False


def _min_inclusive_ok(v, bound) -> bool:
    return _range_ok(v, bound, lambda c: c >= 0)


def _max_inclusive_ok(v, bound) -> bool:
    return _range_ok(v, bound, lambda c: c <= 0)


_NODE_KINDS = {
    SH.IRI: (URIRef,),
    SH.BlankNode: (BNode,),
    SH.Literal: (Literal,),
    SH.BlankNodeOrIRI: (BNode, URIRef),
    SH.IRIOrLiteral: (URIRef, Literal),
    SH.BlankNodeOrLiteral: (BNode, Literal),
}


def _node_kind_ok(v, kind) -> bool:
    return isinstance(v, _NODE_KINDS.get(kind, ()))


# the value components as terms once (an rdflib namespace attribute costs a lookup each time)
_VALUE_CHECKS = (
    (SH.datatype, _datatype_ok),
    (SH.minLength, _min_length_ok),
    (SH.minInclusive, _min_inclusive_ok),
    (SH.maxInclusive, _max_inclusive_ok),
    (SH.nodeKind, _node_kind_ok),
)
_SH_CLASS, _SH_IN, _SH_NODE, _SH_MIN_COUNT, _SH_MAX_COUNT = SH["class"], SH["in"], SH.node, SH.minCount, SH.maxCount


_SOURCE_RECORD = URIRef("https://w3id.org/kg-reasoner/ontology#sourceRecord")
_EMPTY: frozenset = frozenset()


def _both(mine: set | None, ontology: set | None) -> set | frozenset:
    """Her set and the ontology's together, for reading: one of them itself when the other is absent (no
    empty sets built and joined on the hot path)."""
    if ontology is None:
        return _EMPTY if mine is None else mine
    return ontology if mine is None else mine | ontology


class ConstraintChecker:
    """The compiled validation, run over one patient's indexes (mixed into the fast engine's patient run).

    It needs of its host: ``e`` (the engine: ``validation``, ``_closure_values``, ``_closure_types``,
    ``instances_of``), ``values`` and ``types`` (the patient's (node, predicate) -> values and
    node -> types indexes) and ``_focus(targets)`` (the instances of the target classes)."""

    # What the host (``fast._PatientRun``) provides: it sets these in its ``__init__``.
    e: Any  # the fast engine (``fast.FastEngine``, not imported: it imports this module)
    values: dict  # (node, predicate) -> the patient's values
    types: dict  # node -> the patient's types
    default: list  # the store's graphs the shapes' SPARQL constraints run over
    _literals: dict | None  # canonical literal -> the patient's own literal, built on first use

    def _focus(self, targets: list) -> list:
        """The shape's focus nodes (the host's)."""
        raise NotImplementedError

    # -- SHACL validation -------------------------------------------------
    def _values(self, node, path) -> set | frozenset:
        """The node's values of path, hers and the ontology's (read, never changed, by the callers)."""
        return _both(self.values.get((node, path)), self.e._closure_values.get((node, path)))

    def _types_of(self, node) -> set | frozenset:
        """The node's types, hers and the ontology's (read, never changed, by the callers)."""
        return _both(self.types.get(node), self.e._closure_types.get(node))

    def validate(self) -> tuple[list[DataProblem], list[DataProblem]]:
        results: list[tuple] = []
        for shape in self.e.validation:
            for focus in self._focus(shape.targets):
                results.extend(self._results(shape, focus))
        violations: list[DataProblem] = []
        warnings: list[DataProblem] = []
        for severity, focus, path, value, messages in results:
            source = next(iter(self._values(focus, _SOURCE_RECORD)), None)
            item = problem_record(severity, focus, path, value, messages, source)
            (violations if severity == SH.Violation else warnings).append(item)
        return distinct_problems(violations), distinct_problems(warnings)

    def _results(self, shape: Shape, focus) -> list[tuple]:
        out: list[tuple] = []
        msgs = [str(m) for m in shape.messages]
        if shape.params:  # (a node shape's own sh:datatype: most shapes have none, and this runs per focus node)
            for value in self._value_failures(shape, focus, [focus]):
                out.append((shape.severity, focus, None, value, msgs))
        for alternatives in shape.ors:
            if not any(self._conforms(a, focus) for a in alternatives):
                out.append((shape.severity, focus, None, focus, msgs))
        for prop in shape.properties:
            failing = self._failing_values(prop, focus)
            if failing:
                pmsgs = [str(m) for m in prop.messages]
                for value in failing:
                    out.append((prop.severity, focus, prop.path, value, pmsgs))
        for text, messages in shape.sparql:
            for sol, names in self._constraint_rows(text, focus):
                bound = {n: self._original(sol[n]) for n in names if sol[n] is not None}
                value = bound.get("value", focus)
                texts = [_format(str(m), bound) for m in messages] + [
                    _format(m, bound) for m in msgs if m not in [str(x) for x in messages]
                ]
                out.append((shape.severity, focus, bound.get("path"), value, texts))
        return out

    def _constraint_rows(self, text: str, focus) -> list:
        """The SPARQL constraint's rows for the focus node, as (solution, variable names) pairs."""
        rows = self._oxigraph().query(
            text, default_graph=self.default, substitutions={ox.Variable("this"): to_ox(focus)}
        )
        return list(solutions(rows))

    def _oxigraph(self) -> ox.Store:
        """The store holding the patient's graphs, up to date (the host's)."""
        raise NotImplementedError

    def _original(self, term):
        """The patient's own term for a query result (oxigraph keeps numbers in canonical form:
        a data problem quotes the value as the record gave it)."""
        if not isinstance(term, ox.Literal):
            return from_ox(term)
        if self._literals is None:
            self._literals = {
                canonical_literal(o): o
                for (_s, _p), objs in self.values.items()
                for o in objs
                if isinstance(o, Literal)
            }
        lit = from_ox(term)
        return self._literals.get(canonical_literal(lit), lit)

    def _conforms(self, shape: Shape, node) -> bool:
        if shape.path is not None:
            return not self._failing_values(shape, node)
        if any(not any(self._conforms(a, node) for a in alts) for alts in shape.ors):
            return False
        if any(self._failing_values(p, node) for p in shape.properties):
            return False
        return all(not bad for bad in (self._value_failures(shape, node, [node]),))

    def _failing_values(self, prop: Shape, focus) -> list:
        """One entry per result pyshacl reports for this property shape: None for a count
        component (no sh:value), else the failing value node."""
        values = sorted(self._values(focus, prop.path), key=str)
        out: list = []
        p = prop.params
        if _SH_MIN_COUNT in p and len(values) < int(p[_SH_MIN_COUNT]):
            out.append(None)
        if _SH_MAX_COUNT in p and len(values) > int(p[_SH_MAX_COUNT]):
            out.append(None)
        out.extend(self._value_failures(prop, focus, values))
        return out

    def _value_failures(self, shape: Shape, focus, values) -> list:
        p = shape.params
        out: list = []
        for key, check in _VALUE_CHECKS:
            if key in p:
                out.extend(v for v in values if not check(v, p[key]))
        if _SH_CLASS in p:
            cls = p[_SH_CLASS]
            out.extend(v for v in values if not self._instance_of(v, cls))
        if _SH_IN in p:
            out.extend(v for v in values if v not in p[_SH_IN])
        if _SH_NODE in p:
            for node_shape in p[_SH_NODE]:
                out.extend(v for v in values if not self._conforms(node_shape, v))
        return out

    def _instance_of(self, v, cls) -> bool:
        if isinstance(v, Literal):
            return False
        for t in self._types_of(v):
            if t == cls or cls in self.e._sup.get(t, ()):
                return True
        return False
