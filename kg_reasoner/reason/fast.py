"""The fast engine: the same ontology and the same shapes, executed faster.

* OWL 2 RL: the closed ontology compiled into lookup tables, each patient's
  triples pushed through the profile's instance rules (``reason.owlrl_tables``).
* SHACL rules: each ``sh:SPARQLRule`` of ``shapes/`` runs as a Python plan of its
  query (``reason.plans``; on pyoxigraph outside the plans' subset) with
  ``$this`` substituted (SEP-0007 substitution, the SHACL pre-binding
  semantics), shape by shape in ``sh:order``, each to its fixpoint, exactly in
  pyshacl's schedule. A rule is re-run only when a triple added since its last
  run can change its solutions (``shacl_rules.Watch``: a predicate it reads, a
  new type of a class it reads), or when its focus nodes changed; the re-run
  would find nothing new otherwise. What it reads is read from the parsed
  query, not written here.
* SHACL validation: the Core constraint components the shapes use, evaluated
  with pyshacl's own comparison helpers, and ``sh:SPARQLConstraint`` on
  pyoxigraph. A shapes graph using anything else is validated with pyshacl.
* Explanations: the very ``queries/*.rq`` of the reference engine, as plans
  once a process has used a query ``COMPILE_QUERY_AT`` times, on pyoxigraph
  before that and outside the plans' subset.

One oxigraph store per process holds the ontology once (two named graphs). A
patient's triples are indexed in memory for the plans, and written to two named
graphs of their own only when a query runs on pyoxigraph (a query not yet
compiled, one outside the plans' subset, check mode); every query sees only
``[ontology, her asserted, her inferred]`` as its default graph, and the graphs
are dropped afterwards. Nothing in this module names a class, property, rule
or status of the guidance.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
from collections.abc import Iterator, Sequence
from typing import cast

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, XSD

from kg_reasoner.explain.records import DataProblem
from kg_reasoner.read.patient import patient_graph
from kg_reasoner.reason.base import Derivation, SortedOnRead, Unsupported
from kg_reasoner.reason.knowledge import cached
from kg_reasoner.reason.owlrl_tables import IS_TYPE, TYPE, OwlRlTables, compile_owlrl
from kg_reasoner.reason.plans import Fallback, TripleIndex, canonical, compile_select, select_algebra, translated
from kg_reasoner.reason.reference import ReferenceEngine, owl_inferred
from kg_reasoner.reason.shacl_constraints import ConstraintChecker, compile_validation_shapes
from kg_reasoner.reason.shacl_rules import (
    ANY_PREDICATE,
    Needs,
    Rule,
    Watch,
    needs_of,
    ox_watch,
    watch_of,
    with_oxigraph_constants,
)
from kg_reasoner.reason.terms import Row, canonical_literal, from_ox, solutions, to_ox
from kg_reasoner.resources import read_text

ONTOLOGY_RULES_GRAPH = ox.NamedNode("https://w3id.org/kg-reasoner/graph/ontology-rules")


ONTOLOGY_GRAPH = ox.NamedNode("https://w3id.org/kg-reasoner/graph/ontology")
OX_TYPE = ox.NamedNode(str(TYPE))


_NUMERIC = {str(XSD.decimal), str(XSD.integer)}


_counter = itertools.count()


_THIS = ox.Variable("this")


class FastEngine:
    """Compiled once per knowledge base (and per process); one ``session`` per patient."""

    name = "fast"

    def __init__(self, kb):
        self.kb = kb
        #: what runs a stage outside the compiled subset
        self.reference = ReferenceEngine(kb)
        # (the knowledge base's own, read with it from the cache, or compiled here)
        self.owl: OwlRlTables | None = (
            kb.owl_tables[0] if kb.owl_tables is not None else compile_owlrl(kb.reasoning_base)
        )
        self.rule_shapes = with_oxigraph_constants(kb.rule_programs)
        try:
            self.validation = compile_validation_shapes(kb.validation_shapes)
        except Unsupported:
            self.validation = None
        self._ontology_quads = [
            ox.Quad(to_ox(s), to_ox(p), to_ox(o), ONTOLOGY_RULES_GRAPH)
            for s, p, o in kb.rules_base
            if not isinstance(s, Literal)
        ]
        self._ontology_quads += [
            ox.Quad(to_ox(s), to_ox(p), to_ox(o), ONTOLOGY_GRAPH)
            for s, p, o in kb.ontology
            if not isinstance(s, Literal)
        ]
        self._new_store()
        # the rules as Python plans over the patient's index (``reason.plans``); None: on pyoxigraph
        self.plans = {
            id(r): compile_select(r.text, algebra=r.algebra) for shape in self.rule_shapes or [] for r in shape.rules
        }
        self.static_index = TripleIndex.from_store(self.store, ONTOLOGY_RULES_GRAPH)
        self.ontology_index = TripleIndex.from_store(self.store, ONTOLOGY_GRAPH)
        self._query_plans: dict = {}
        self._query_uses: dict = {}
        #: demand -> ``rules_demanded``'s answer
        self._demanded: dict = {}
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
        #: the ontology's IRIs (its OWL 2 RL tables' objects, which a patient's triples hold:
        #: ``OwlRlTables.with_its_iris``) as pyoxigraph terms, converted once (``_as_stored``)
        self.known_ox: dict = {t: to_ox(t) for t in (self.owl.terms if self.owl is not None else ())}
        # what the ontology graph the rules read holds, for the rules' needs (``shacl_rules.Needs``)
        # (read off the indexes above: the (subject, predicate) keys and the types)
        self._static_pairs = self._closure_values.keys()
        self._static_predicates = frozenset(p for _, p in self._static_pairs)
        self._static_classes = frozenset(c for cs in self._closure_types.values() for c in cs)

    #: Leave out a rule whose parsed query needs what the data lacks (``shacl_rules.Needs``); False runs
    #: every rule (tests/test_rule_needs.py proves the two the same).
    skip_unmatchable = True

    #: Run a rule again only for a new triple that can change its solutions (``shacl_rules.Watch``: a
    #: new type of a class it reads, not any new type); False, for any new triple of a predicate it
    #: reads (tests/test_rule_needs.py proves the two the same).
    refine_staleness = True

    #: Given the queries a caller will run (``session(..., demand=...)``), run only the rules whose triples
    #: they read, directly or through the rules they need (``rules_demanded``); False runs every rule
    #: (tests/test_rule_needs.py proves the queries' answers the same).
    skip_undemanded = True

    #: Run the rules that compile (``reason.plans``) as Python plans; False runs every rule on pyoxigraph.
    use_plans = True

    #: Run every compiled rule both ways and raise ``AssertionError`` when the rows differ (the
    #: differential test, tests/test_plans.py).
    check_plans = False
    #: rule calls compared in check mode
    plan_checks = 0

    #: Patients assessed on one store before it is replaced by a fresh one. oxigraph's in-memory
    #: store never forgets a string it has seen: without this, memory and time per patient would
    #: grow with the cohort (every patient mints new IRIs).
    STORE_RENEWAL = 500

    #: A library query (queries/*.rq) is compiled into a plan at this use in the process: parsing costs
    #: about 60 ms, a run on pyoxigraph 0.1-2 ms, so a run of one or a few patients never pays for it.
    COMPILE_QUERY_AT = 20

    def query_plan(self, name: str, text: str | None = None):
        """The plan of the library query NAME (or of the query TEXT, named by itself), once it has been
        used COMPILE_QUERY_AT times (or in check mode); None before, or when it uses something outside
        the plans' subset."""
        if not self.use_plans:
            return None
        if name in self._query_plans:
            return self._query_plans[name]
        uses = self._query_uses[name] = self._query_uses.get(name, 0) + 1
        if uses < self.COMPILE_QUERY_AT and not self.check_plans:
            return None
        text = text if text is not None else query_text(name)
        plan = self._query_plans[name] = compile_select(algebra=query_algebra(text))
        return plan

    def rules_demanded(self, demand: frozenset) -> tuple[frozenset, frozenset] | None:
        """The rules the library queries ``demand`` need: those whose template writes a triple that can
        change a needed query's or a needed rule's solutions (``shacl_rules.Watch``, read from the parsed
        queries: the test that decides whether a rule runs again), or a type of a needed rule's target
        class. Returns (their ids, the assumptions made), or None when every rule is needed.

        A class or predicate a rule writes can matter by filling a place (``?c ex:q ?v``: ``?v`` among
        the subjects of ex:q). The ontology's triples of ex:q are read here; a patient's cannot be, so a
        place is assumed unfilled, as the ontology leaves it, and the assumption (term, ex:q, "s" or "o")
        returned, to be checked on her graphs once the rules have run (``_PatientRun.fills_any``). A
        place of a predicate that a left-out rule writes is taken as filled. The rules left out write
        nothing a needed query reads, so its answers are the same; her inferred graph is then only part
        of hers. (Kept per engine and demand.)"""
        demand = frozenset(demand)
        if demand not in self._demanded:
            self._demanded[demand] = self._rules_demanded(demand)
        return self._demanded[demand]

    def _rules_demanded(self, demand: frozenset) -> tuple[frozenset, frozenset] | None:
        if self.rule_shapes is None:
            return None
        # (shapes run in sh:order, each to its fixpoint, never again: a rule's triples reach only the rules
        # of its own shape and of later ones, and the queries)
        rules = [(k, shape, r) for k, shape in enumerate(self.rule_shapes) for r in shape.rules]
        if any(type(slot[1]) is int for _, _, r in rules for slot in r.slots):
            return None  # (a template with a variable predicate writes anything)
        demanded = [ox_watch(query_watch(query_text(name))) for name in sorted(demand)]
        if any(w is None for w in demanded):
            return None
        taken_filled: frozenset = frozenset()
        while True:
            needed, assumed = self.needed_rules(rules, demanded, taken_filled)
            if len(needed) == len(rules):
                return None
            left_out_writes = frozenset(slot[1] for _, _, r in rules if id(r) not in needed for slot in r.slots)
            if not {q for _, q, _ in assumed} & left_out_writes:
                return frozenset(needed), frozenset(assumed)
            taken_filled |= left_out_writes  # (a place a left-out rule may fill: taken as filled)

    def needed_rules(self, rules: list, demanded: list, taken_filled: frozenset = frozenset()) -> tuple[set, set]:
        """``rules_demanded``'s closure over ``rules`` ((shape index, shape, rule) in run order) for the
        Watches ``demanded`` (read after every rule has run): the ids of the rules needed, and the places
        a left-out rule's triples were found not to fill (term, predicate, "s" or "o"). A place of a
        predicate in ``taken_filled`` is taken as filled."""
        statics = (self.static_index, self.ontology_index)
        assumed: set = set()

        def fills(term, places) -> bool:
            for q, at in places:
                if q in taken_filled:
                    continue
                if not any(((term, q) in idx.sp) if at == "s" else ((q, term) in idx.po) for idx in statics):
                    assumed.add((term, q, at))
                    return False
            return True

        def relevant(rule: Rule, w: Watch) -> bool:
            for _s, p, o in rule.slots:
                if w.any_predicate or p in w.predicates or any(fills(p, pl) for pl in w.predicate_places):
                    return True
                if p == OX_TYPE:
                    if w.any_type:
                        return True
                    if type(o) is int:
                        if w.classes or w.class_places:
                            return True
                    elif o in w.classes or any(fills(o, pl) for pl in w.class_places):
                        return True
            return False

        after_all = len(self.rule_shapes or [])
        watches = [(after_all, w) for w in demanded]
        needed: set = set()
        targets_read: set = set()
        grew = True
        while grew:
            grew = False
            for k, shape, r in rules:
                if id(r) not in needed and any(relevant(r, w) for at, w in watches if at >= k):
                    needed.add(id(r))
                    watches.append((k, _read_by(r)))
                    if id(shape) not in targets_read:  # (a new instance of a target class: a new focus node)
                        targets_read.add(id(shape))
                        classes = frozenset(to_ox(c) for c in self.instances_of(tuple(shape.targets)))
                        watches.append((k, Watch(frozenset(), False, classes, any_predicate=False)))
                    grew = True
        # the assumptions are those that left a rule out (a needed rule's checks are moot)
        assumed.clear()
        for k, _shape, r in rules:
            if id(r) not in needed:
                for at, w in watches:
                    if at >= k:
                        relevant(r, w)
        return needed, assumed

    def _new_store(self) -> None:
        self.store = ox.Store()
        self.store.extend(self._ontology_quads)
        self._uses = 0

    @functools.lru_cache(maxsize=64)  # noqa: B019 - one engine per knowledge base and process (fast_engine)
    def instances_of(self, targets: tuple) -> frozenset:
        """The target classes and their subclasses."""
        return frozenset(targets) | {s for s, sup in self._sup.items() if not sup.isdisjoint(targets)}

    def _inferred(self, owl: list, derived: list, asserted: set, inconsistent: bool) -> set:
        """A patient's inferred graph in rdflib terms: what the OWL 2 RL closure and the rules derived that is
        neither asserted nor the ontology's (an inconsistent patient keeps none, as in the reference engine)."""
        inferred = set() if inconsistent else {(s, p, canonical_literal(o)) for s, p, o in owl}
        for s, p, o in derived:
            t = (from_ox(s), from_ox(p), canonical_literal(from_ox(o)))
            if t not in self._closure_set and t not in asserted:
                inferred.add(t)
        return inferred

    # ------------------------------------------------------------------
    @contextlib.contextmanager
    def session(
        self, patient: URIRef, asserted: Graph | Sequence, demand: frozenset | None = None
    ) -> Iterator[Derivation]:
        """Derive one patient and keep her graphs in the store while the with-block runs (its
        ``Derivation.query`` runs the library's queries on pyoxigraph). A stage outside the compiled
        subset is handed to the reference engine this engine holds, and ``stages`` says so.
        ``asserted``: her Graph, or her triples (``PatientInput.triples``: a Graph is made of them only
        for a stage handed to the reference engine).
        ``demand``: the only library queries the caller will run; the rules none of them needs are left
        out (``rules_demanded``), and ``Derivation.complete`` is then False."""
        demand = frozenset(demand) if demand else None
        given = _GraphWhenRead(asserted)
        # her IRIs as the tables' own objects (sets and dicts compare them by identity)
        asserted_triples = self.owl.with_its_iris(given) if self.owl is not None else list(given)
        asserted_set = set(asserted_triples)
        if self.owl is not None and OwlRlTables.accepts(asserted_triples):
            data, errors = self.owl.closure(asserted_triples)
            stages = {"owl": "compiled"}
            owl = owl_inferred(data, asserted_set, self._closure_set)
        else:
            owl, errors = self.reference.owl(given.graph())
            stages = {"owl": "owlrl"}
        inconsistencies = sorted(errors)
        if self._uses >= self.STORE_RENEWAL:
            self._new_store()
        self._uses += 1
        n = next(_counter)
        ga, gi = ox.NamedNode(f"urn:kg-reasoner:run:{n}:asserted"), ox.NamedNode(f"urn:kg-reasoner:run:{n}:inferred")
        run: _PatientRun | None = None
        try:
            run = _PatientRun(self, ga, gi, asserted_triples, owl)
            violations: list[DataProblem] = []
            warnings: list[DataProblem] = []
            if not inconsistencies:
                if self.validation is not None:
                    violations, warnings = run.validate()
                    stages["validation"] = "compiled"
                else:
                    violations, warnings = self.reference.validation(given.graph(), owl)
                    stages["validation"] = "pyshacl"
            derived: list = []
            left_out = False
            if not inconsistencies and not violations:
                if self.rule_shapes is not None:
                    chosen = self.rules_demanded(demand) if demand and self.skip_undemanded else None
                    if chosen is not None:
                        run.only = chosen[0]
                    derived = run.apply_rules()
                    if chosen is not None and run.fills_any(chosen[1]):
                        # her graphs fill a place the choice assumed empty: derive again with every rule
                        run.close()
                        run = _PatientRun(self, ga, gi, asserted_triples, owl)
                        derived = run.apply_rules()
                    else:
                        left_out = chosen is not None
                    stages["rules"] = "compiled"
                else:
                    rdf_derived = self.reference.rules(given.graph(), owl)
                    # (a generalized triple, a literal subject or predicate, is left out as the plans' rules leave it)
                    derived = [
                        (to_ox(s), to_ox(p), to_ox(o))
                        for s, p, o in rdf_derived
                        if not isinstance(s, Literal) and isinstance(p, URIRef)
                    ]
                    run._add(derived)  # into her inferred graph and its index (the explanations' plans read it)
                    stages["rules"] = "pyshacl"
            stages["explain"] = "plans" if self.use_plans else "pyoxigraph"
            d = Derivation(
                asserted_triples,
                # (made when first read: a summary row never reads it)
                SortedOnRead(functools.partial(self._inferred, owl, derived, asserted_set, bool(inconsistencies))),
                inconsistencies,
                violations,
                warnings,
                stages,
                run.query,
            )
            d.complete = not left_out
            # (only the demanded queries, whether or not a rule was left out for this patient)
            run.demand = demand
            yield d
        finally:
            if run is not None:
                run.close()


class _GraphWhenRead:
    """A patient's Graph or triples (iterated as they are), and a Graph of them made when first asked for
    (``graph``): only a stage handed to the reference engine reads one."""

    __slots__ = ("triples", "_graph")

    def __init__(self, triples: Graph | Sequence):
        self.triples = triples
        self._graph: Graph | None = triples if isinstance(triples, Graph) else None

    def __iter__(self):
        return iter(self.triples)

    def graph(self) -> Graph:
        if self._graph is None:
            self._graph = patient_graph(self.triples)
        return self._graph


def _read_by(rule: Rule) -> Watch:
    """What can change a rule's solutions: its Watch, or, without one, any triple of a predicate it reads."""
    if rule.watch is not None:
        return rule.watch
    every = rule.reads == ANY_PREDICATE
    return Watch(frozenset() if every else frozenset(rule.reads), True, any_predicate=every)


def _as_stored(triples, iris: dict | None = None, known: dict | None = None) -> Iterator[tuple]:
    """rdflib triples as pyoxigraph stores them: literals in canonical form (``plans.canonical``: "01"
    as "1", a language tag in lower case); a triple with a literal subject, which a store cannot hold,
    left out. ``known``: the ontology's IRIs already converted (``FastEngine.known_ox``), read first."""
    if iris is None:
        iris = {}  # (a patient's IRIs recur from triple to triple: each converted once)
    if known is None:
        known = {}
    for s, p, o in triples:
        if type(s) is URIRef or not isinstance(s, Literal):
            s_ = (known.get(s) or iris.get(s)) if type(s) is URIRef else None
            if s_ is None:
                s_ = to_ox(s)
                if type(s) is URIRef:
                    iris[s] = s_
            p_ = (known.get(p) or iris.get(p)) if type(p) is URIRef else None
            if p_ is None:
                p_ = to_ox(p)
                if type(p_) is not ox.NamedNode:
                    ox.Quad(s_, p_, to_ox(o))  # (a blank node or literal predicate: refused, as by the store)
                iris[p] = p_
            if type(o) is URIRef:
                o_ = known.get(o) or iris.get(o)
                if o_ is None:
                    o_ = iris[o] = to_ox(o)
                yield s_, p_, o_
            else:
                yield s_, p_, canonical(to_ox(o))


class _PatientRun(ConstraintChecker):
    """One patient's graphs in the store, and the compiled shapes run over them."""

    def __init__(self, engine: FastEngine, ga, gi, asserted: list, owl: list):
        self.e = engine
        self.ga, self.gi = ga, gi
        #: the store of her session (the one its end clears, even if the engine's is renewed meanwhile)
        self.store = engine.store
        self.default = [ONTOLOGY_RULES_GRAPH, ga, gi]
        # her graphs as oxigraph holds them (canonical literals), for the plans; they are written to the
        # store only when a query runs there (``_oxigraph``)
        iris: dict = {}  # (her IRIs, each converted once for both graphs)
        self.inferred_index = TripleIndex(_as_stored(owl, iris, engine.known_ox))
        asserted_index = TripleIndex(_as_stored(asserted, iris, engine.known_ox))
        self._unwritten_graphs: tuple | None = (asserted, owl)
        #: her graphs are in the store (cleared when the session ends)
        self.written = False
        #: what the rules and constraints read (the ontology's rules graph), and the explanations
        self.parts = (engine.static_index, asserted_index, self.inferred_index)
        self.explain_parts = (engine.ontology_index, asserted_index, self.inferred_index)
        self.version = 0
        #: when a rule last added a triple of each predicate and of each class (pyoxigraph terms): what
        #: ``_stale`` reads
        self.pred_changes: dict = {}
        self.class_changes: dict = {}
        #: when each rule last ran in this patient's run (per run: never shared between patients or threads)
        self.last_run: dict[int, int] = {}
        #: the focus nodes each rule last ran on
        self.last_focus: dict[int, list] = {}
        #: set when the session ends: her graphs are gone from the store, so a query would answer nothing
        self.closed = False
        #: the ids of the only rules to run (``FastEngine.rules_demanded``), or None: every rule
        self.only: frozenset | None = None
        #: the queries the rules run were chosen for, when some were left out (``query`` refuses others)
        self.demand: frozenset | None = None
        self._literals: dict | None = None
        #: rule runs handed from a plan to pyoxigraph (``plans.Fallback``)
        self.fallbacks = 0
        #: the rules' new triples not yet in the store (``_oxigraph``)
        self._unwritten: list = []
        #: the focus nodes of each target list, until a rule adds a type (``_add``)
        self._focus_cache: dict = {}
        #: the rules (ids), and (rule id, focus node) pairs, found matchable (``_may_match``,
        #: ``_may_match_at``): what they test only grows in a run, so a rule once matchable stays so
        self._matchable: set = set()
        self._matchable_at: set = set()
        # rdflib-side indexes of the patient's triples, for the Core constraint components
        self.values: dict = {}
        self.types: dict = {}
        for s, p, o in itertools.chain(asserted, owl):
            self.values.setdefault((s, p), set()).add(o)
            if p in IS_TYPE:
                self.types.setdefault(s, set()).add(o)
        # what her graphs hold so far, in rdflib terms, for the rules' needs (grown by ``_add``)
        self.predicates: set = {p for _, p in self.values}
        self.classes: set = {c for cs in self.types.values() for c in cs}
        self.pairs: set = set(self.values)

    # -- queries ---------------------------------------------------------
    def query(self, name: str, **bindings):
        """Run the query queries/NAME.rq over the ontology and her two graphs (as the explanations do)."""
        if self.closed:
            raise RuntimeError(
                f"Derivation.query({name!r}) after its session ended: the fast engine holds a patient's graphs "
                "only inside `with engine.session(...)`"
            )
        if self.demand is not None and name not in self.demand:
            raise RuntimeError(
                f"Derivation.query({name!r}): this session derived only what {sorted(self.demand)} read "
                "(session(..., demand=...)); open a session without demand for other queries"
            )
        text = query_text(name)
        planned = self._planned(
            self.e.query_plan(name), self.explain_parts, {k: canonical(to_ox(v)) for k, v in bindings.items()}
        )
        if planned is not None:
            sols, names = planned
            rows = [Row.of(sol) for sol in sols]
            if self.e.check_plans:
                _check_query_rows(name, bindings, rows, self._oxigraph_rows(text, bindings))
                self.e.plan_checks += 1
            return rows
        return self._oxigraph_rows(text, bindings)

    def _planned(self, plan, parts: tuple, bindings: dict) -> tuple[list, list] | None:
        """The plan's solutions and variable names, or None: no plan, or the call handed to pyoxigraph
        (``plans.Fallback``)."""
        if plan is None:
            return None
        try:
            return plan.solutions(parts, bindings), plan.names
        except Fallback:
            self.fallbacks += 1
            return None

    def _oxigraph_rows(self, text: str, bindings: dict) -> list:
        default = [ONTOLOGY_GRAPH, self.ga, self.gi]
        subs = {ox.Variable(k): to_ox(v) for k, v in bindings.items()}
        return [
            Row(sol, names)
            for sol, names in solutions(self._oxigraph().query(text, default_graph=default, substitutions=subs))
        ]

    def _constraint_rows(self, text: str, focus) -> list:
        """A SPARQL constraint's rows for the focus node: as a plan once compiled, else on pyoxigraph; none
        when the data lacks what every solution needs (``query_needs``, as for a rule: ``_may_match``)."""
        if self.e.skip_unmatchable:
            needs = query_needs(text)
            if not (self._has_needs(needs) and self._has_needs_at(needs, focus)):
                return []
        planned = self._planned(self.e.query_plan(text, text), self.parts, {"this": to_ox(focus)})
        if planned is not None:
            sols, names = planned
            rows = [(_Solution(sol), names) for sol in sols]
            if self.e.check_plans:
                _check_constraint_rows(text, focus, rows, super()._constraint_rows(text, focus))
                self.e.plan_checks += 1
            return rows
        return super()._constraint_rows(text, focus)

    def _construct(self, rule: Rule, this) -> list:
        """The rule's CONSTRUCT for one focus node: its SELECT (as a plan, else on pyoxigraph), then the
        template instantiated."""
        plan = self.e.plans.get(id(rule)) if self.e.use_plans else None
        planned = self._planned(plan, self.parts, {"this": this} if rule.uses_this else {})
        if planned is None:
            rows = self._select(rule, this)
        else:
            sols, names = planned
            rows = [[sol.get(n) for n in names] for sol in sols]
            if self.e.check_plans:
                _check_rows(rule, this, rows, self._select(rule, this))
                self.e.plan_checks += 1
        out = []
        literal, named = ox.Literal, ox.NamedNode
        for row in rows:
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

    def _select(self, rule: Rule, this) -> list:
        subs = {_THIS: this} if rule.uses_this else None
        # rule.text is a SELECT (``shacl_rules._as_select``): its result is solutions
        sols = cast(
            ox.QuerySolutions, self._oxigraph().query(rule.text, default_graph=self.default, substitutions=subs)
        )
        return [[v for v in sol] for sol in sols]

    def _focus(self, targets: list) -> list:
        """The shape's focus nodes: instances of a target class or of a subclass (rdfs:subClassOf*)
        (kept until a rule adds a type)."""
        key = tuple(targets)
        focus = self._focus_cache.get(key)
        if focus is None:
            classes = self.e.instances_of(key)
            focus = self._focus_cache[key] = sorted(x for x, ts in self.types.items() if not ts.isdisjoint(classes))
        return focus

    def close(self) -> None:
        """End her run: her graphs leave the store (a query would answer nothing)."""
        self.closed = True
        if self.written:
            self.store.clear_graph(self.ga)
            self.store.clear_graph(self.gi)

    # -- SHACL rules ------------------------------------------------------
    def fills_any(self, assumptions: frozenset) -> bool:
        """Whether her graphs hold one of the triples ``FastEngine.rules_demanded`` assumed absent:
        (term, q, "s"), a triple (term q ?x); (term, q, "o"), a triple (?x q term)."""
        for term, q, at in assumptions:
            for part in self.parts[1:]:
                if ((term, q) in part.sp) if at == "s" else ((q, term) in part.po):
                    return True
        return False

    def apply_rules(self) -> list:
        derived: list = []
        seen: set = set()
        only = self.only
        # (the tests of ``_may_match``, ``_may_match_at`` and ``_stale`` that decide at once read here, their
        # calls made only when they must look further; a candidate triple looked up only in the parts that hold
        # its predicate, ``_present``)
        skip = self.e.skip_unmatchable
        last_focus, last_run = self.last_focus, self.last_run
        matchable, matchable_at = self._matchable, self._matchable_at
        present = self._present
        for shape in self.e.rule_shapes:
            while True:
                shape_modified = False
                for rule in shape.rules:
                    rid = id(rule)
                    if only is not None and rid not in only:
                        continue
                    # (as pySHACL: the focus nodes are taken once for a rule's runs to its fixpoint; a rule
                    # whose focus nodes changed since it last ran runs again, even with nothing else new)
                    focus = self._focus(shape.targets)
                    before = last_focus.get(rid)
                    moved = before is not focus and before != focus
                    while True:
                        if not moved:
                            last = last_run.get(rid, -1)
                            if last >= 0 and self.version <= last:
                                break
                            if not self._stale(rule):
                                break
                        moved = False
                        last_focus[rid] = focus
                        last_run[rid] = self.version
                        new = []
                        if skip and rid not in matchable and not self._may_match(rule):
                            break  # a run could find nothing: as if it had found nothing
                        for f in focus:
                            if skip and (rid, f) not in matchable_at and not self._may_match_at(rule, f):
                                continue
                            for t in self._construct(rule, to_ox(f)):
                                # (a triple once present stays so: each is looked up once, its terms hashed once
                                # for ``seen``, a new one told by the set's size)
                                size = len(seen)
                                seen.add(t)
                                if len(seen) != size and not present(t):
                                    new.append(t)
                        if not new:
                            break
                        self._add(new)
                        derived.extend(new)
                        shape_modified = True
                if not shape_modified:
                    break
        return derived

    def _may_match(self, rule: Rule) -> bool:
        """False when the data lacks something every solution of the rule needs (``rule.needs``, read
        from its parsed query): the rule would construct nothing. (True is kept for the run: her
        predicates and classes only grow.)"""
        if id(rule) in self._matchable:
            return True
        if not self._has_needs(rule.needs):
            return False
        self._matchable.add(id(rule))
        return True

    def _has_needs(self, needs: Needs) -> bool:
        """Whether her graphs and the ontology's rules graph hold the predicates and classes ``needs`` lists."""
        e = self.e
        predicates, classes = self.predicates, self.classes
        for p in needs.predicates:
            if p not in predicates and p not in e._static_predicates:
                return False
        for c in needs.classes:
            if c not in classes and c not in e._static_classes:
                return False
        return True

    def _may_match_at(self, rule: Rule, focus) -> bool:
        """False when the focus node lacks a triple or a type every solution needs for ``$this``. (True is
        kept for the run: her triples and types only grow.)"""
        key = (id(rule), focus)
        if key in self._matchable_at:
            return True
        if not self._has_needs_at(rule.needs, focus):
            return False
        self._matchable_at.add(key)
        return True

    def _has_needs_at(self, needs: Needs, focus) -> bool:
        """Whether the focus node has the triples and types ``needs`` lists for ``$this``."""
        e, pairs = self.e, self.pairs
        for p in needs.this_predicates:
            if (focus, p) not in pairs and (focus, p) not in e._static_pairs:
                return False
        return not needs.this_classes or needs.this_classes <= self._types_of(focus)

    def _stale(self, rule: Rule) -> bool:
        """Whether a triple added since the rule last ran can change its solutions: one of the predicates
        it reads, or a new type of a class it reads (``Rule.watch``). (New focus nodes: ``apply_rules``.)"""
        last = self.last_run.get(id(rule), -1)
        if last < 0:
            return True
        if self.version <= last:
            return False
        w = rule.watch
        changes = self.pred_changes
        if w is None or not self.e.refine_staleness:
            if rule.reads == ANY_PREDICATE:
                return True
            return any(changes.get(p, -1) > last for p in rule.reads)
        # (the predicates changed since are few: each is looked up among those the rule reads, rather than each of
        # those looked up among the changes, a pyoxigraph term hashed for each)
        changed = [p for p, v in changes.items() if v > last]
        predicates = w.predicates
        for p in changed:
            if p in predicates:
                return True
        if w.any_predicate and changed:
            return True
        if any(self._among(p, places) for places in w.predicate_places for p in changed):
            return True
        # (a new type changes rdf:type and its class at the same version, ``_add``: no new class, no new type)
        new = [c for c, v in self.class_changes.items() if v > last]
        if not new:
            return False
        if w.any_type:
            return True
        return any(c in w.classes for c in new) or any(self._among(c, places) for places in w.class_places for c in new)

    def _among(self, term, places: frozenset) -> bool:
        """Whether the term is a value at each of the places ((predicate, "s" or "o")) in the rules' graphs."""
        for q, at in places:
            if at == "s":
                if not any((term, q) in part.sp for part in self.parts):
                    return False
            elif not any((q, term) in part.po for part in self.parts):
                return False
        return True

    def _present(self, t) -> bool:
        """Whether the rules' default graph (the ontology's rules graph and her two graphs) holds the
        triple: looked up in their indexes, which hold what the store holds (canonical literals), in those
        only that hold its predicate (``TripleIndex.p``: one term hashed, where a lookup of the triple hashes
        three)."""
        if type(t[2]) is ox.Literal:  # (``canonical`` leaves any other term as it is)
            t = (t[0], t[1], canonical(t[2]))
        p = t[1]
        for part in self.parts:
            if p in part.p and t in part.triples:
                return True
        return False

    def _oxigraph(self) -> ox.Store:
        """The store with her graphs up to date: the rules' new triples are written to it only when a
        query runs on pyoxigraph (a rule or query outside the plans, or check mode)."""
        store = self.store
        if self._unwritten_graphs is not None:
            asserted, owl = self._unwritten_graphs
            self._unwritten_graphs = None
            self.written = True
            store.extend(ox.Quad(s, p, o, self.ga) for s, p, o in _as_stored(asserted))
            store.extend(ox.Quad(s, p, o, self.gi) for s, p, o in _as_stored(owl))
        if self._unwritten:
            store.extend(ox.Quad(s, p, o, self.gi) for s, p, o in self._unwritten)
            self._unwritten = []
        return store

    def _add(self, triples: list) -> None:
        self.version += 1
        self._unwritten.extend(triples)
        index = self.inferred_index
        version = self.version
        for s, p, o in triples:
            if type(o) is ox.Literal:  # (``canonical`` leaves any other term as it is)
                o = canonical(o)
            index.add((s, p, o))
            rp = from_ox(p)
            self.pred_changes[p] = version
            rs = from_ox(s)
            self.predicates.add(rp)
            self.pairs.add((rs, rp))
            if p == OX_TYPE:
                self.class_changes[o] = version
                self._focus_cache.clear()  # (a new type: the focus nodes are computed again)
                ro = from_ox(o)
                self.types.setdefault(rs, set()).add(ro)
                self.classes.add(ro)


class _Solution(dict):
    """A plan's row read as a pyoxigraph solution (an unbound variable is None)."""

    def __missing__(self, key):
        return None


def _check_query_rows(name: str, bindings: dict, planned: list, oxigraph: list) -> None:
    def key(rows):
        out = [sorted((k, str(v)) for k, v in r.asdict().items()) for r in rows]
        return out if "ORDER BY" in query_text(name) else sorted(out)

    _same(f"queries/{name}.rq for {bindings}", key(planned), key(oxigraph))


def _check_constraint_rows(text: str, focus, planned: list, oxigraph: list) -> None:
    def key(rows):
        return sorted(sorted((n, str(sol[n])) for n in names if sol[n] is not None) for sol, names in rows)

    _same(f"a SPARQL constraint for $this = {focus}:\n{text}", key(planned), key(oxigraph))


def _check_rows(rule: Rule, this, planned: list, oxigraph: list) -> None:
    def key(rows):
        return sorted(tuple(str(v) for v in row) for row in rows)

    _same(f"a rule for $this = {this}:\n{rule.text}", key(planned), key(oxigraph))


def _same(what: str, planned: list, oxigraph: list) -> None:
    if planned != oxigraph:
        raise AssertionError(
            f"the plan of {what}\nanswers differently from pyoxigraph:\nplan: {planned}\npyoxigraph: {oxigraph}"
        )


@functools.lru_cache(maxsize=8)
def fast_engine(kb) -> FastEngine:
    return FastEngine(kb)


@functools.cache
def query_text(name: str) -> str:
    return read_text("queries", f"{name}.rq")


@functools.lru_cache(maxsize=256)
def query_algebra(text: str) -> tuple:
    """A query's algebra as ``plans.select_algebra`` gives it, parsed once per machine (``knowledge.cached``)
    rather than once per process: every worker of a cohort run compiles 10-25 queries."""
    return cached("query-algebra", text, lambda: select_algebra(text), tuple)


@functools.lru_cache(maxsize=256)
def query_needs(text: str) -> Needs:
    """What every solution of a query needs in the data (``shacl_rules.needs_of``), read once per machine as
    ``query_algebra``: a SPARQL constraint whose focus node lacks it has no result."""

    def needs() -> Needs:
        try:
            return needs_of(translated(text)[0].algebra)
        except Exception:  # noqa: BLE001 - a query rdflib cannot parse (pyoxigraph may): nothing is certain
            return Needs()

    return cached("query-needs", text, needs, Needs)


@functools.lru_cache(maxsize=256)
def query_watch(text: str) -> Watch:
    """The ``Watch`` of a library query (``shacl_rules.watch_of``), read once per machine as ``query_algebra``."""
    return cached("query-watch", text, lambda: watch_of(translated(text)[0].algebra), Watch)
