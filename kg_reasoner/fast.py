"""The fast engine: the same ontology and the same shapes, executed faster.

* OWL 2 RL: the closed ontology compiled into lookup tables, each patient's
  triples pushed through the profile's instance rules (``owlrl_compiled``).
* SHACL rules: each ``sh:SPARQLRule`` of ``shapes/`` runs on pyoxigraph with
  ``$this`` substituted (SEP-0007 substitution, the SHACL pre-binding
  semantics), shape by shape in ``sh:order``, each to its fixpoint, exactly in
  pyshacl's schedule. A rule is re-run only when a predicate its WHERE clause
  reads has gained a triple since its last run (a re-run could find nothing new
  otherwise): the predicates are read from the parsed query, not written here.
* SHACL validation: the Core constraint components the shapes use, evaluated
  with pyshacl's own comparison helpers, and ``sh:SPARQLConstraint`` on
  pyoxigraph. A shapes graph using anything else is validated with pyshacl.
* Explanations: the very ``queries/*.rq`` of the reference engine, on pyoxigraph.

One oxigraph store per process holds the ontology once (two named graphs); a
patient's triples live in two named graphs of their own for the time of her
assessment, every query sees only ``[ontology, her asserted, her inferred]``
as its default graph, and the graphs are dropped afterwards. Nothing in this
module names a class, property, rule or status of the guidance.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Iterable

import pyoxigraph as ox
from pyshacl.rdfutil.compare import compare_literal
from rdflib import BNode, Graph, Literal, URIRef, Variable
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, XSD
from rdflib.paths import Path as RdfPath
from rdflib.plugins.sparql import prepareQuery

from kg_reasoner.owlrl_compiled import OwlRlTables, compile_owlrl
from kg_reasoner.resources import read_text

_ALL = "any predicate"   # the read set of a query with a variable predicate (a string: it survives pickling)
ONTOLOGY_RULES_GRAPH = ox.NamedNode("https://w3id.org/kg-reasoner/graph/ontology-rules")
ONTOLOGY_GRAPH = ox.NamedNode("https://w3id.org/kg-reasoner/graph/ontology")
_XSD_STRING = str(XSD.string)
_NUMERIC = {str(XSD.decimal), str(XSD.integer)}
_counter = itertools.count()
_THIS = ox.Variable("this")
_OWL_CLASS = URIRef("http://www.w3.org/2002/07/owl#Class")


# ---------------------------------------------------------------------------
# terms: rdflib <-> pyoxigraph
# ---------------------------------------------------------------------------

@functools.lru_cache(maxsize=65536)
def _named(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def to_ox(t):
    if isinstance(t, URIRef):
        return _named(str(t))
    if isinstance(t, BNode):
        return ox.BlankNode(str(t))
    if t.language:
        return ox.Literal(str(t), language=t.language)
    return ox.Literal(str(t), datatype=_named(str(t.datatype)) if t.datatype else None)


def from_ox(t):
    if isinstance(t, ox.NamedNode):
        return URIRef(t.value)
    if isinstance(t, ox.BlankNode):
        return BNode(t.value)
    if t.language:
        return Literal(t.value, lang=t.language)
    dt = t.datatype.value
    return Literal(t.value) if dt == _XSD_STRING else Literal(t.value, datatype=URIRef(dt))


def canonical_literal(term):
    """One lexical form per value for the literals a derivation computes: xsd:decimal in its
    canonical form (95.400 -> 95.4), xsd:string as a simple literal. Both engines apply it to
    what they infer, so their graphs compare triple by triple."""
    if not isinstance(term, Literal) or term.language:
        return term
    if term.datatype == XSD.string:
        return Literal(str(term))
    if term.datatype == XSD.decimal:
        try:
            text = format(Decimal(str(term)).normalize(), "f")
        except InvalidOperation:
            return term
        return Literal(text if "." in text else text + ".0", datatype=XSD.decimal)
    return term


# ---------------------------------------------------------------------------
# SHACL: compiled shapes
# ---------------------------------------------------------------------------

def _prefix_block(shapes: Graph, node) -> str:
    lines = []
    for pnode in shapes.objects(node, SH.prefixes):
        for decl in shapes.objects(pnode, SH.declare):
            lines.append(f"PREFIX {shapes.value(decl, SH.prefix)}: <{shapes.value(decl, SH.namespace)}>")
    return "\n".join(lines) + "\n"


def _read_set(algebra):
    """The predicates a query's WHERE clause can match (``_ALL`` for a variable predicate)."""
    preds: set = set()

    def walk(node):
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
        if isinstance(p, RdfPath):
            for attr in ("args", "path", "arg"):
                sub = getattr(p, attr, None)
                if sub is None:
                    continue
                for q in (sub if isinstance(sub, list) else [sub]):
                    if not walk_pred(q):
                        return False
            for q in getattr(p, "frm", None) or []:     # negated property sets
                preds.add(q)
            return True
        return False    # a variable predicate

    return frozenset(preds | {RDF.type, RDFS.subClassOf}) if walk(algebra) else _ALL


@dataclass
class _Rule:
    text: str                 # the rule's CONSTRUCT as a SELECT of the template's variables
    reads: Any
    uses_this: bool
    slots: list = field(default_factory=list)   # the template as projection indexes / constant terms
    this_index: int = 0
    last_run: int = -1


def _as_select(text: str, algebra) -> tuple[str, list, list]:
    """A CONSTRUCT query as the SELECT of its template's variables, and the template.

    pyoxigraph drops a substituted ``$this`` from CONSTRUCT solutions whose WHERE clause
    binds it only inside a FILTER; the SELECT keeps it, and the template is instantiated
    here exactly as CONSTRUCT does (triples with an unbound or ill-placed term are skipped)."""
    template = algebra.get("template")
    if template is None:
        raise _Unsupported("a SHACL rule that is not a CONSTRUCT with a template")
    upper = text.upper()
    start = upper.find("CONSTRUCT")
    open_ = text.find("{", start)
    if start < 0 or open_ < 0 or text[start + len("CONSTRUCT"):open_].strip():
        raise _Unsupported("a CONSTRUCT without an explicit template")
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
                raise _Unsupported("a rule template with blank nodes")
            else:
                row.append(("const", term))
        compiled.append(tuple(row))
    select = "SELECT " + " ".join(f"?{n}" for n in sorted(names))
    return text[:start] + select + " " + text[end + 1:], compiled, sorted(names)


@dataclass
class _RuleShape:
    node: Any
    order: float
    targets: list
    rules: list


def compile_rule_shapes(shapes: Graph) -> list[_RuleShape] | None:
    """The rule shapes as programs for ``_PatientRun.apply_rules`` (plain data: the knowledge base
    caches them on disk), or None when the shapes use something the fast engine does not run."""
    try:
        return _compile_rule_shapes(shapes)
    except _Unsupported:
        return None


def _compile_rule_shapes(shapes: Graph) -> list[_RuleShape]:
    out = []
    for node in set(shapes.subjects(SH.rule, None)):
        targets = list(shapes.objects(node, SH.targetClass))
        extra_targets = [p for p in (SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)
                         if (node, p, None) in shapes]
        if extra_targets:
            raise _Unsupported(f"shape {node} uses {extra_targets[0]}")
        rules = []
        for r in sorted(shapes.objects(node, SH.rule), key=lambda r: float(shapes.value(r, SH.order) or 0)):
            if (r, RDF.type, SH.SPARQLRule) not in shapes or (r, SH.condition, None) in shapes or \
                    (r, SH.deactivated, Literal(True)) in shapes:
                raise _Unsupported(f"rule {r} of {node} is not a plain sh:SPARQLRule")
            text = _prefix_block(shapes, r) + str(shapes.value(r, SH.construct))
            algebra = prepareQuery(text).algebra
            select, template, names = _as_select(text, algebra)
            slots = [tuple(names.index(v) if kind == "var" else v for kind, v in pattern) for pattern in template]
            rules.append(_Rule(select, _read_set(algebra), "$this" in text or "?this" in text,
                               slots=slots, this_index=names.index("this")))
        out.append(_RuleShape(node, float(shapes.value(node, SH.order) or 0), targets, rules))
    return sorted(out, key=lambda s: s.order)


_PROPERTY_KEYS = {SH.path, SH.minCount, SH.maxCount, SH.datatype, SH.minLength, SH.node, SH.minInclusive,
                  SH.maxInclusive, SH["class"], SH.nodeKind, SH["in"], SH.message, SH.severity, SH.name,
                  SH.description}
_NODE_KEYS = {SH.targetClass, SH.property, SH.sparql, SH.severity, SH.message, SH["or"], SH.datatype,
              SH.name, SH.description, SH.rule, SH.order}


class _Unsupported(Exception):
    pass


@dataclass
class _Shape:
    node: Any
    path: Any = None
    severity: Any = SH.Violation
    messages: list = field(default_factory=list)
    params: dict = field(default_factory=dict)
    properties: list = field(default_factory=list)
    ors: list = field(default_factory=list)
    sparql: list = field(default_factory=list)     # (query text, messages)
    targets: list = field(default_factory=list)


def compile_validation_shapes(shapes: Graph) -> list[_Shape]:
    cache: dict = {}

    def shape(node, is_property: bool) -> _Shape:
        if node in cache:
            return cache[node]
        keys = {p for p in shapes.predicates(node) if str(p).startswith(str(SH))}
        allowed = _PROPERTY_KEYS if is_property else _NODE_KEYS
        if keys - allowed:
            raise _Unsupported(f"shape {node} uses {sorted(keys - allowed)[0]}")
        s = _Shape(node, severity=shapes.value(node, SH.severity) or SH.Violation,
                   messages=[m for m in shapes.objects(node, SH.message)],
                   targets=list(shapes.objects(node, SH.targetClass)))
        cache[node] = s
        if is_property:
            s.path = shapes.value(node, SH.path)
            if not isinstance(s.path, URIRef):
                raise _Unsupported(f"property shape {node} has a complex path")
        for key in (SH.minCount, SH.maxCount, SH.datatype, SH.minLength, SH.minInclusive, SH.maxInclusive,
                    SH["class"], SH.nodeKind):
            values = list(shapes.objects(node, key))
            if len(values) > 1:
                raise _Unsupported(f"shape {node} has several {key}")
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
            if text is None or (c, SH.deactivated, Literal(True)) in shapes or \
                    any(v in str(text) for v in ("$shapesGraph", "$currentShape", "$PATH", "$path")):
                raise _Unsupported(f"SPARQL constraint {c} of {node}")
            s.sparql.append((_prefix_block(shapes, c) + str(text), list(shapes.objects(c, SH.message))))
        return s

    # targets other than sh:targetClass select focus nodes this validator would never visit: such a
    # shapes graph is validated by pyshacl (never silently unchecked)
    for target in (SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target):
        for n in shapes.subjects(target, None):
            raise _Unsupported(f"shape {n} uses {target}")
    shape_nodes = set(shapes.subjects(RDF.type, SH.NodeShape)) | set(shapes.subjects(RDF.type, SH.PropertyShape))
    for n in shape_nodes:
        if (n, RDF.type, RDFS.Class) in shapes or (n, RDF.type, _OWL_CLASS) in shapes:
            raise _Unsupported(f"shape {n} is also a class (an implicit class target)")
    top = [shape(n, False) for n in set(shapes.subjects(SH.targetClass, None))]
    for s in top:
        _check_messages(s)
    return top


def _check_messages(s: _Shape) -> None:
    """Every result the fast validator reports carries the shapes' own sh:message (pyshacl's generic
    messages are not reproduced): a shape that would need one is validated by pyshacl."""
    has_core = bool(s.ors) or any(k in s.params for k in _PROPERTY_KEYS)
    if has_core and not s.messages:
        raise _Unsupported(f"shape {s.node} has no sh:message")
    for p in s.properties:
        if not p.messages:
            raise _Unsupported(f"property shape {p.node} has no sh:message")
    for _text, messages in s.sparql:
        if not messages and not s.messages:
            raise _Unsupported(f"a SPARQL constraint of {s.node} has no sh:message")


# ---------------------------------------------------------------------------
# the engine
# ---------------------------------------------------------------------------

@dataclass
class FastResult:
    asserted: list
    inferred: list
    inconsistencies: list[str]
    violations: list[dict]
    warnings: list[dict]
    explanation: dict | None
    #: Which implementation ran each stage: {"owl": "compiled" | "owlrl", "validation": "compiled" |
    #: "pyshacl", "rules": "compiled" | "pyshacl", "explain": "pyoxigraph"}. A stage outside the
    #: compiled subset falls back to the reference library, and says so here.
    stages: dict

    @property
    def assessable(self) -> bool:
        return not self.inconsistencies and not self.violations


class FastEngine:
    """Compiled once per knowledge base (and per process); ``reason`` one patient at a time."""

    def __init__(self, kb):
        self.kb = kb
        self.owl: OwlRlTables | None = compile_owlrl(kb.reasoning_base)
        self.rule_shapes = _with_oxigraph_constants(kb.rule_programs)
        try:
            self.validation = compile_validation_shapes(kb.validation_shapes)
        except _Unsupported:
            self.validation = None
        self._ontology_quads = [ox.Quad(to_ox(s), to_ox(p), to_ox(o), ONTOLOGY_RULES_GRAPH)
                                for s, p, o in kb.rules_base if not isinstance(s, Literal)]
        self._ontology_quads += [ox.Quad(to_ox(s), to_ox(p), to_ox(o), ONTOLOGY_GRAPH)
                                 for s, p, o in kb.ontology if not isinstance(s, Literal)]
        self._new_store()
        self._closure_types: dict = {}
        for s, o in kb.rules_base.subject_objects(RDF.type):
            self._closure_types.setdefault(s, set()).add(o)
        self._closure_values: dict = {}
        for s, p, o in kb.rules_base:
            self._closure_values.setdefault((s, p), set()).add(o)
        self._sup: dict = {}
        for s, o in kb.rules_base.subject_objects(RDFS.subClassOf):
            self._sup.setdefault(s, set()).add(o)
        self._closure_set = frozenset(kb.closure)

    #: Patients assessed on one store before it is replaced by a fresh one. oxigraph's in-memory
    #: store never forgets a string it has seen: without this, memory and time per patient would
    #: grow with the cohort (every patient mints new IRIs).
    STORE_RENEWAL = 500

    def _new_store(self) -> None:
        self.store = ox.Store()
        self.store.extend(self._ontology_quads)
        self._uses = 0

    @functools.lru_cache(maxsize=64)
    def instances_of(self, targets: tuple) -> frozenset:
        """The target classes and their subclasses."""
        return frozenset(targets) | {s for s, sup in self._sup.items() if not sup.isdisjoint(targets)}

    # ------------------------------------------------------------------
    def reason(self, patient: URIRef, asserted: Graph, explain: Callable | None = None) -> FastResult:
        from kg_reasoner.engine import owl_inferred_filter, reference_owl, reference_rules, reference_validation
        asserted_triples = list(asserted)
        asserted_set = set(asserted_triples)
        if self.owl is not None and OwlRlTables.accepts(asserted_triples):
            data, errors = self.owl.closure(asserted_triples)
            stages = {"owl": "compiled"}
            owl = [t for t in data if t not in asserted_set and t not in self._closure_set
                   and owl_inferred_filter(None, t, ())]
        else:
            owl, errors = reference_owl(self.kb, asserted)
            stages = {"owl": "owlrl"}
        inconsistencies = sorted(errors)
        if self._uses >= self.STORE_RENEWAL:
            self._new_store()
        self._uses += 1
        n = next(_counter)
        ga, gi = ox.NamedNode(f"urn:kg-reasoner:run:{n}:asserted"), ox.NamedNode(f"urn:kg-reasoner:run:{n}:inferred")
        store = self.store
        store.extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o), ga) for s, p, o in asserted_triples
                     if not isinstance(s, Literal))
        store.extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o), gi) for s, p, o in owl)
        run = _PatientRun(self, ga, gi, asserted_triples, owl)
        try:
            violations: list[dict] = []
            warnings: list[dict] = []
            if not inconsistencies:
                if self.validation is not None:
                    violations, warnings = run.validate()
                    stages["validation"] = "compiled"
                else:
                    violations, warnings = reference_validation(self.kb, asserted, owl)
                    stages["validation"] = "pyshacl"
            derived: list = []
            if not inconsistencies and not violations:
                if self.rule_shapes is not None:
                    derived = run.apply_rules()
                    stages["rules"] = "compiled"
                else:
                    rdf_derived = reference_rules(self.kb, asserted, owl)
                    store.extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o), gi) for s, p, o in rdf_derived)
                    derived = [(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in rdf_derived]
                    stages["rules"] = "pyshacl"
            # an inconsistent patient keeps no inferred graph (as in the reference engine)
            inferred = set() if inconsistencies else {(s, p, canonical_literal(o)) for s, p, o in owl}
            for s, p, o in derived:
                t = (from_ox(s), from_ox(p), canonical_literal(from_ox(o)))
                if t not in self._closure_set and t not in asserted_set:
                    inferred.add(t)
            explanation = explain(run.query) if explain is not None else None
            if explain is not None:
                stages["explain"] = "pyoxigraph"
        finally:
            store.clear_graph(ga)
            store.clear_graph(gi)
        return FastResult(asserted_triples, sorted(inferred), inconsistencies, violations, warnings, explanation,
                          stages)


class _PatientRun:
    """One patient's graphs in the store, and the compiled shapes run over them."""

    def __init__(self, engine: FastEngine, ga, gi, asserted: list, owl: list):
        self.e = engine
        self.ga, self.gi = ga, gi
        self.default = [ONTOLOGY_RULES_GRAPH, ga, gi]
        self.version = 0
        self.pred_version: dict = {}
        self._literals: dict | None = None
        # rdflib-side indexes of the patient's triples, for the Core constraint components
        self.values: dict = {}
        self.types: dict = {}
        for s, p, o in itertools.chain(asserted, owl):
            self.values.setdefault((s, p), set()).add(o)
            if p == RDF.type:
                self.types.setdefault(s, set()).add(o)

    # -- queries ---------------------------------------------------------
    def query(self, name: str, **bindings):
        """Run the query queries/NAME.rq over the ontology and her two graphs (as the explanations do)."""
        text = query_text(name)
        default = [ONTOLOGY_GRAPH, self.ga, self.gi]
        subs = {ox.Variable(k): to_ox(v) for k, v in bindings.items()}
        return [_Row(sol, names) for sol, names in _solutions(self.e.store.query(text, default_graph=default,
                                                                                  substitutions=subs))]

    def _construct(self, rule: _Rule, this) -> list:
        """The rule's CONSTRUCT for one focus node: its SELECT, then the template instantiated."""
        subs = {_THIS: this} if rule.uses_this else None
        out = []
        literal, named = ox.Literal, ox.NamedNode
        for sol in self.e.store.query(rule.text, default_graph=self.default, substitutions=subs):
            row = [v for v in sol]
            if rule.uses_this:
                row[rule.this_index] = this
            for s_, p_, o_ in rule.slots:
                s = row[s_] if type(s_) is int else s_
                p = row[p_] if type(p_) is int else p_
                o = row[o_] if type(o_) is int else o_
                if s is None or o is None or type(p) is not named or type(s) is literal:
                    continue
                out.append((s, p, o))
        return out

    def _focus(self, targets: list) -> list:
        """The shape's focus nodes: instances of a target class or of a subclass (rdfs:subClassOf*)."""
        classes = self.e.instances_of(tuple(targets))
        return sorted(x for x, ts in self.types.items() if not ts.isdisjoint(classes))

    # -- SHACL rules ------------------------------------------------------
    def apply_rules(self) -> list:
        derived: list = []
        seen: set = set()
        for shape in self.e.rule_shapes:
            while True:
                shape_modified = False
                for rule in shape.rules:
                    focus = self._focus(shape.targets)
                    while True:
                        if not self._stale(rule):
                            break
                        rule.last_run = self.version
                        new = []
                        for f in focus:
                            for t in self._construct(rule, to_ox(f)):
                                if t not in seen and not self._present(t):
                                    seen.add(t)
                                    new.append(t)
                        if not new:
                            break
                        self._add(new)
                        derived.extend(new)
                        shape_modified = True
                if not shape_modified:
                    break
        for shape in self.e.rule_shapes:
            for rule in shape.rules:
                rule.last_run = -1
        return derived

    def _stale(self, rule: _Rule) -> bool:
        if rule.last_run < 0:
            return True
        if rule.reads == _ALL:
            return self.version > rule.last_run
        return any(self.pred_version.get(p, -1) > rule.last_run for p in rule.reads)

    def _present(self, t) -> bool:
        q = ox.Quad(t[0], t[1], t[2], self.gi)
        if q in self.e.store:
            return True
        return any(ox.Quad(t[0], t[1], t[2], g) in self.e.store for g in (self.ga, ONTOLOGY_RULES_GRAPH))

    def _add(self, triples: list) -> None:
        self.version += 1
        self.e.store.extend(ox.Quad(s, p, o, self.gi) for s, p, o in triples)
        for s, p, o in triples:
            rp = URIRef(p.value)
            self.pred_version[rp] = self.version
            if rp == RDF.type:
                self.types.setdefault(from_ox(s), set()).add(from_ox(o))

    # -- SHACL validation -------------------------------------------------
    def _values(self, node, path) -> set:
        return self.values.get((node, path), set()) | self.e._closure_values.get((node, path), set())

    def _types_of(self, node) -> set:
        return self.types.get(node, set()) | self.e._closure_types.get(node, set())

    def validate(self) -> tuple[list[dict], list[dict]]:
        results: list[tuple] = []
        for shape in self.e.validation:
            for focus in self._focus(shape.targets):
                results.extend(self._results(shape, focus))
        from kg_reasoner.engine import _problem_key, problem_record
        violations, warnings = [], []
        for severity, focus, path, value, messages in results:
            source = next(iter(self._values(focus, _SOURCE_RECORD)), None)
            item = problem_record(severity, focus, path, value, messages, source)
            (violations if severity == SH.Violation else warnings).append(item)
        return sorted(violations, key=_problem_key), sorted(warnings, key=_problem_key)

    def _results(self, shape: _Shape, focus) -> list[tuple]:
        out = []
        msgs = [str(m) for m in shape.messages]
        for alternatives in shape.ors:
            if not any(self._conforms(a, focus) for a in alternatives):
                out.append((shape.severity, focus, None, focus, msgs))
        for prop in shape.properties:
            pmsgs = [str(m) for m in prop.messages]
            for value in self._failing_values(prop, focus):
                out.append((prop.severity, focus, prop.path, value, pmsgs))
        for text, messages in shape.sparql:
            rows = self.e.store.query(text, default_graph=self.default,
                                      substitutions={ox.Variable("this"): to_ox(focus)})
            for sol, names in _solutions(rows):
                bound = {n: self._original(sol[n]) for n in names if sol[n] is not None}
                value = bound.get("value", focus)
                texts = [_format(str(m), bound) for m in messages] + [_format(m, bound) for m in msgs
                                                                      if m not in [str(x) for x in messages]]
                out.append((shape.severity, focus, bound.get("path"), value, texts))
        return out

    def _original(self, term):
        """The patient's own term for a query result (oxigraph keeps numbers in canonical form:
        a data problem quotes the value as the record gave it)."""
        if not isinstance(term, ox.Literal):
            return from_ox(term)
        if self._literals is None:
            self._literals = {canonical_literal(o): o for (_s, _p), objs in self.values.items() for o in objs
                              if isinstance(o, Literal)}
        lit = from_ox(term)
        return self._literals.get(canonical_literal(lit), lit)

    def _conforms(self, shape: _Shape, node) -> bool:
        if shape.path is not None:
            return not self._failing_values(shape, node)
        if any(not any(self._conforms(a, node) for a in alts) for alts in shape.ors):
            return False
        if any(self._failing_values(p, node) for p in shape.properties):
            return False
        return all(not bad for bad in (self._value_failures(shape, node, [node]),))

    def _failing_values(self, prop: _Shape, focus) -> list:
        """One entry per result pyshacl reports for this property shape: None for a count
        component (no sh:value), else the failing value node."""
        values = sorted(self._values(focus, prop.path), key=str)
        out: list = []
        p = prop.params
        if SH.minCount in p and len(values) < int(p[SH.minCount]):
            out.append(None)
        if SH.maxCount in p and len(values) > int(p[SH.maxCount]):
            out.append(None)
        out.extend(self._value_failures(prop, focus, values))
        return out

    def _value_failures(self, shape: _Shape, focus, values) -> list:
        p = shape.params
        out = []
        for key, check in ((SH.datatype, _datatype_ok), (SH.minLength, _min_length_ok),
                           (SH.minInclusive, _min_inclusive_ok), (SH.maxInclusive, _max_inclusive_ok),
                           (SH.nodeKind, _node_kind_ok)):
            if key in p:
                out.extend(v for v in values if not check(v, p[key]))
        if SH["class"] in p:
            cls = p[SH["class"]]
            out.extend(v for v in values if not self._instance_of(v, cls))
        if SH["in"] in p:
            out.extend(v for v in values if v not in p[SH["in"]])
        if SH.node in p:
            for node_shape in p[SH.node]:
                out.extend(v for v in values if not self._conforms(node_shape, v))
        return out

    def _instance_of(self, v, cls) -> bool:
        if isinstance(v, Literal):
            return False
        for t in self._types_of(v):
            if t == cls or cls in self.e._sup.get(t, ()):
                return True
        return False


_SOURCE_RECORD = URIRef("https://w3id.org/kg-reasoner/ontology#sourceRecord")


def _format(msg: str, bound: dict) -> str:
    import re
    for var, val in bound.items():
        msg = re.sub("{{[?$]{}}}".format(var), str(val), msg)
    return msg


def _datatype_ok(v, dt) -> bool:
    if not isinstance(v, Literal):
        return False
    if v.datatype == dt:
        if getattr(v, "ill_typed", None) is True:
            return False
        value = v.value
        if dt == XSD.string:
            return isinstance(value, (str, bytes))
        return value is not None
    return v.datatype is None and v.language is None and dt == XSD.string


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


def _node_kind_ok(v, kind) -> bool:
    kinds = {SH.IRI: (URIRef,), SH.BlankNode: (BNode,), SH.Literal: (Literal,),
             SH.BlankNodeOrIRI: (BNode, URIRef), SH.IRIOrLiteral: (URIRef, Literal),
             SH.BlankNodeOrLiteral: (BNode, Literal)}
    return isinstance(v, kinds.get(kind, ()))


def _solutions(results) -> Iterable:
    names = [v.value for v in results.variables]
    for sol in results:
        yield sol, names


class _Row:
    """A pyoxigraph solution that reads like an rdflib result row (terms converted to rdflib)."""

    __slots__ = ("_d",)

    def __init__(self, sol, names):
        self._d = {n: from_ox(sol[n]) for n in names if sol[n] is not None}

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._d.get(name)

    def __getitem__(self, name):
        return self._d.get(name)

    def asdict(self) -> dict:
        return dict(self._d)


def _with_oxigraph_constants(programs: list[_RuleShape] | None) -> list[_RuleShape] | None:
    """Fresh rule objects for one engine, the template constants as pyoxigraph terms."""
    if programs is None:
        return None
    out = []
    for shape in programs:
        rules = [_Rule(r.text, r.reads, r.uses_this, this_index=r.this_index,
                       slots=[tuple(x if type(x) is int else to_ox(x) for x in slot) for slot in r.slots])
                 for r in shape.rules]
        out.append(_RuleShape(shape.node, shape.order, shape.targets, rules))
    return out


@functools.lru_cache(maxsize=8)
def fast_engine(kb) -> FastEngine:
    return FastEngine(kb)


@functools.lru_cache(maxsize=None)
def query_text(name: str) -> str:
    return read_text("queries", f"{name}.rq")
