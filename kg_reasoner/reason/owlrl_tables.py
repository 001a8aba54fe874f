"""OWL 2 RL for one patient, specialised once to a closed ontology.

owlrl re-scans the whole graph (ontology closure included) on every cycle to
find the few triples a patient adds. Here the ontology's closure is read once
into lookup tables (superclasses, super-properties, inverses, domains and
ranges, restrictions, intersections, unions, disjointness, characteristics),
and each patient's triples are pushed through the instance-level rules of the
OWL 2 RL profile (tables 4-7: eq-*, prp-*, cls-*, cax-*, and dt-type2 /
dt-not-type) with a work queue: a new triple is joined with the patient's
triples and the closure, nothing else is ever visited.

The rules are the profile's, not the guidance's: editing the ontology
changes the tables, never this code. Error messages are owlrl's own texts,
so both engines report an inconsistency identically.

Two things make a closure unsuitable, and ``compile_owlrl`` then returns
``None`` (the caller runs owlrl instead):
  * the ontology uses an axiom this module does not implement
    (``UNSUPPORTED_PREDICATES``, ``UNSUPPORTED_TYPES``);
and ``OwlRlTables.accepts`` is false for a patient graph that carries schema
triples of its own (``rdfs:subClassOf``, ``owl:Restriction``, ...): such a
patient is reasoned with owlrl.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple

from owlrl.AxiomaticTriples import OWLRL_Datatypes_Disjointness
from owlrl.DatatypeHandling import AltXSDToPYTHON
from owlrl.XsdDatatypes import OWL_Datatype_Subsumptions, OWL_RL_Datatypes
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS

TYPE, SAME, DIFF = RDF.type, OWL.sameAs, OWL.differentFrom
_THING, _NOTHING, _LIST_PREDICATES = OWL.Thing, OWL.Nothing, frozenset((RDF.first, RDF.rest))  # (looked up once)
# (``p in IS_TYPE`` rather than ``p == TYPE`` on the hot paths: a set compares hashes first, where == calls
# rdflib's Python __eq__ for every pair)
IS_TYPE, _IS_SAME, _IS_DIFF, _IS_NOTHING = (
    frozenset((t,)) for t in (RDF.type, OWL.sameAs, OWL.differentFrom, OWL.Nothing)
)
#: the terms the rules add triples with (the tables' IRIs are these very objects)
_OWLRL_TERMS = (TYPE, SAME, DIFF, _THING, _NOTHING)


def _one_object_per_iri(triples: Iterable, terms: dict) -> list:
    """The triples with each IRI as the object ``terms`` holds for it (a new one is added): sets and dicts
    then compare IRIs by identity, without rdflib's __eq__ (a Python call for each equal pair of distinct
    objects). Literals stay as written: rdflib's equality ignores a language tag's case."""
    one = terms.setdefault

    def iri(t):
        return one(t, t) if type(t) is URIRef else t

    return [(iri(s), iri(p), iri(o)) for s, p, o in triples]


#: Ontology axioms this module does not implement: a closure using them is reasoned with owlrl.
UNSUPPORTED_PREDICATES = frozenset(
    {
        OWL.propertyChainAxiom,
        OWL.hasKey,
        OWL.maxCardinality,
        OWL.maxQualifiedCardinality,
        OWL.sourceIndividual,
        OWL.propertyDisjointWith,
    }
)


UNSUPPORTED_TYPES = frozenset({OWL.AllDisjointProperties, OWL.NegativePropertyAssertion})


#: Predicates and types that make a triple a schema statement rather than a fact about an individual.
_SCHEMA_NAMESPACES = (str(OWL), str(RDFS))


_INDIVIDUAL_PREDICATES = frozenset(
    {SAME, DIFF, RDFS.label, RDFS.comment, RDFS.seeAlso, RDFS.isDefinedBy, OWL.versionInfo}
)


_INDIVIDUAL_TYPES = frozenset({OWL.Thing, OWL.NamedIndividual})


_DATATYPES = frozenset(OWL_RL_Datatypes)


_NONE: frozenset = frozenset()


def _identity(v):
    return v


#: the datatypes as this module's objects (``_Run._datatypes``: a literal's datatype is an object of its own)
_DATATYPE_OBJECTS: dict = {
    d: d for d in (*_DATATYPES, *OWL_Datatype_Subsumptions, *(x for v in OWL_Datatype_Subsumptions.values() for x in v))
}


class _TripleIndex:
    """Triples with the five lookups the rules join on."""

    def __init__(self):
        self.triples: set = set()
        self.sp: dict = defaultdict(set)  # (s, p) -> objects
        self.po: dict = defaultdict(set)  # (p, o) -> subjects
        self.s_any: dict = defaultdict(set)  # s -> (p, o)
        self.o_any: dict = defaultdict(set)  # o -> (s, p)
        self.p_any: dict = defaultdict(set)  # p -> (s, o)

    def index(self, s, p, o) -> None:
        self.triples.add((s, p, o))
        self.sp[(s, p)].add(o)
        self.po[(p, o)].add(s)
        self.index_any(s, p, o)

    def index_any(self, s, p, o) -> None:
        """The triple in the lookups by subject, object and predicate alone (only owl:sameAs reads them)."""
        self.s_any[s].add((p, o))
        self.o_any[o].add((s, p))
        self.p_any[p].add((s, o))


class _PredicateRules(NamedTuple):
    """What the rules of ``_Run._fire`` do with a triple of one predicate, read from the tables once (a
    predicate none of them names has no entry)."""

    dom: tuple  # prp-dom
    rng: tuple  # prp-rng
    spo: tuple  # prp-spo1
    inv: tuple  # prp-inv1/2
    symmetric: bool  # prp-symp
    functional: bool  # prp-fp
    inverse_functional: bool  # prp-ifp
    irreflexive: bool  # prp-irp
    asymmetric: bool  # prp-asyp
    transitive: bool  # prp-trp
    svf: tuple  # cls-svf1/2, first premise: (restriction, class)
    avf: tuple  # cls-avf, second premise: (restriction, class)
    has_value: bool  # cls-hv2: some restriction has a value on this predicate


class OwlRlTables(_TripleIndex):
    """The closed ontology as lookup tables for the instance-level OWL 2 RL rules."""

    def __init__(self, tbox: Graph):
        super().__init__()  # the closure as indexes, for joins of a patient triple with an ontology triple
        #: one object per IRI of the tables (a parsed graph has one per occurrence; ``with_its_iris``)
        self.terms: dict = {t: t for t in (*_OWLRL_TERMS, *_DATATYPE_OBJECTS)}
        g = Graph()
        g.addN((s, p, o, g) for s, p, o in _one_object_per_iri(tbox, self.terms))
        self.sup: dict = defaultdict(set)
        self.spo: dict = defaultdict(set)
        self.dom: dict = defaultdict(set)
        self.rng: dict = defaultdict(set)
        self.inv: dict = defaultdict(set)
        self.characteristics: dict = defaultdict(set)
        self.inters: dict = {}
        self.member_inters: dict = defaultdict(set)
        self.member_unions: dict = defaultdict(set)
        self.svf_by_prop: dict = defaultdict(set)
        self.svf_by_class: dict = defaultdict(set)
        self.hv_by_r: dict = defaultdict(set)
        self.hv_by_pv: dict = defaultdict(set)
        self.avf_by_r: dict = defaultdict(set)
        self.avf_by_prop: dict = defaultdict(set)
        self.disjoint: dict = defaultdict(set)  # class -> {(c1, c2) as the axiom orders them}
        self.complement: dict = defaultdict(set)
        self.all_different: list[list] = []
        for s, p, o in g:
            self.index(s, p, o)
            if p == RDFS.subClassOf and s != o:
                self.sup[s].add(o)
            elif p == OWL.equivalentClass and s != o:
                self.sup[s].add(o)
                self.sup[o].add(s)
            elif p == RDFS.subPropertyOf and s != o:
                self.spo[s].add(o)
            elif p == OWL.equivalentProperty and s != o:
                self.spo[s].add(o)
                self.spo[o].add(s)
            elif p == RDFS.domain:
                self.dom[s].add(o)
            elif p == RDFS.range:
                self.rng[s].add(o)
            elif p == OWL.inverseOf:
                self.inv[s].add(o)
                self.inv[o].add(s)
            elif p == OWL.intersectionOf:
                members = list(Collection(g, o))
                self.inters[s] = members
                for m in members:
                    self.member_inters[m].add(s)
            elif p == OWL.unionOf:
                for m in Collection(g, o):
                    self.member_unions[m].add(s)
            elif p == OWL.disjointWith:
                self.disjoint[s].add((s, o))
                self.disjoint[o].add((s, o))
            elif p == OWL.complementOf:
                self.complement[s].add((s, o))
                self.complement[o].add((s, o))
            elif p == TYPE and o in (
                OWL.FunctionalProperty,
                OWL.InverseFunctionalProperty,
                OWL.SymmetricProperty,
                OWL.TransitiveProperty,
                OWL.IrreflexiveProperty,
                OWL.AsymmetricProperty,
            ):
                self.characteristics[o].add(s)
            elif p == TYPE and o == OWL.AllDisjointClasses:
                for lst in g.objects(s, OWL.members):
                    classes = list(Collection(g, lst))
                    for i, c1 in enumerate(classes[:-1]):
                        for c2 in classes[i + 1 :]:
                            self.disjoint[c1].add((c1, c2))
                            self.disjoint[c2].add((c1, c2))
            elif p == TYPE and o == OWL.AllDifferent:
                for lst in [*g.objects(s, OWL.members), *g.objects(s, OWL.distinctMembers)]:
                    self.all_different.append(list(Collection(g, lst)))
        for r, p in g.subject_objects(OWL.onProperty):
            for y in g.objects(r, OWL.someValuesFrom):
                self.svf_by_prop[p].add((r, y))
                self.svf_by_class[y].add((r, p))
            for v in g.objects(r, OWL.hasValue):
                self.hv_by_r[r].add((p, v))
                self.hv_by_pv[(p, v)].add(r)
            for y in g.objects(r, OWL.allValuesFrom):
                self.avf_by_r[r].add((p, y))
                self.avf_by_prop[p].add((r, y))
        self.functional = self.characteristics[OWL.FunctionalProperty]
        self.inverse_functional = self.characteristics[OWL.InverseFunctionalProperty]
        self.symmetric = self.characteristics[OWL.SymmetricProperty]
        self.transitive = self.characteristics[OWL.TransitiveProperty]
        self.irreflexive = self.characteristics[OWL.IrreflexiveProperty]
        self.asymmetric = self.characteristics[OWL.AsymmetricProperty]
        self.different_members = {m for lst in self.all_different for m in lst}
        #: whether the closure has an owl:sameAs triple (eq-rep-s/p/o have nothing to do without one)
        self.any_same = SAME in self.p_any
        #: for each predicate the property rules name, what they do with its triples (``_Run._fire``)
        self.by_predicate: dict = self._predicate_rules()
        #: the classes whose superclasses hold all their superclasses' superclasses (the closure's
        #: subsumptions are transitive): a type added as a superclass of such a class needs no cax-sco of
        #: its own (``_Run._type``)
        self.sup_closed: frozenset = frozenset(
            c for c, sups in self.sup.items() if all(self.sup.get(c2, set()) <= sups | {c} for c2 in sups)
        )

    def _predicate_rules(self) -> dict:
        with_value = {p for p, _v in self.hv_by_pv}
        named = (
            set(self.dom)
            | set(self.rng)
            | set(self.spo)
            | set(self.inv)
            | set(self.svf_by_prop)
            | set(self.avf_by_prop)
        )
        for c in self.characteristics.values():
            named |= c
        return {
            p: _PredicateRules(
                tuple(self.dom.get(p, ())),
                tuple(self.rng.get(p, ())),
                tuple(self.spo.get(p, ())),
                tuple(self.inv.get(p, ())),
                p in self.characteristics[OWL.SymmetricProperty],
                p in self.characteristics[OWL.FunctionalProperty],
                p in self.characteristics[OWL.InverseFunctionalProperty],
                p in self.characteristics[OWL.IrreflexiveProperty],
                p in self.characteristics[OWL.AsymmetricProperty],
                p in self.characteristics[OWL.TransitiveProperty],
                tuple(self.svf_by_prop.get(p, ())),
                tuple(self.avf_by_prop.get(p, ())),
                p in with_value,
            )
            for p in named | with_value
        }

    def with_its_iris(self, triples: Iterable) -> list:
        """A patient's triples with the tables' objects for their IRIs, and one object per IRI of her own."""
        return _one_object_per_iri(triples, dict(self.terms))

    @staticmethod
    def accepts(asserted: Iterable) -> bool:
        """Whether a patient's triples are facts about individuals only (no schema of their own)."""
        for _s, p, o in asserted:
            if type(p) is not URIRef and isinstance(p, BNode):  # (an IRI first: rdflib's isinstance is slow)
                return False
            if str(p).startswith(_SCHEMA_NAMESPACES) and p not in _INDIVIDUAL_PREDICATES:
                return False
            if p in IS_TYPE and str(o).startswith(_SCHEMA_NAMESPACES) and o not in _INDIVIDUAL_TYPES:
                return False
            if p in IS_TYPE and o in _DATATYPES:
                # (a node typed with a datatype: owlrl gives it the datatype's super-datatypes and their
                # disjointness, which these tables do only for literals; owlrl reasons on it)
                return False
            if p in _LIST_PREDICATES:
                return False
        return True

    # ------------------------------------------------------------------
    @staticmethod
    def used_datatypes(triples: Iterable) -> set:
        """The OWL 2 RL datatypes a graph uses, as owlrl counts them: its literals' datatypes and their
        super-datatypes, and every node typed with a datatype."""
        used: set = set()
        for _s, p, o in triples:
            if type(o) is not URIRef and isinstance(o, Literal) and o.datatype in _DATATYPES:
                used.add(o.datatype)
                used.update(OWL_Datatype_Subsumptions.get(o.datatype, ()))
            elif p in IS_TYPE and o in _DATATYPES:
                used.add(o)
        return used

    def closure(self, asserted: Iterable) -> tuple[set, list[str]]:
        """The triples OWL 2 RL derives from the patient's triples and the closure (the
        asserted triples included, generalized triples too), and owlrl's error messages."""
        return _Run(self).run(asserted)

    @functools.cached_property
    def classes_with_rules(self) -> frozenset:
        """The classes whose type triples a rule other than cax-sco/cax-eqc reads (cls-int1/2, cls-uni,
        cls-svf1, cls-hv1, cls-avf, cax-dw, cax-adc, cls-com): ``_Run._type`` does nothing else for the
        others (read from the tables once, when first used)."""
        out: set = set()
        for table in (
            self.inters,
            self.member_inters,
            self.member_unions,
            self.svf_by_class,
            self.hv_by_r,
            self.avf_by_r,
            self.disjoint,
            self.complement,
        ):
            out.update(c for c, entries in table.items() if entries)
        return frozenset(out | _IS_NOTHING)

    @functools.cached_property
    def inter_sets(self) -> dict:
        """Each intersection's members as a set (cls-int1 tests them at once; read from the tables once)."""
        return {c: frozenset(members) for c, members in self.inters.items()}

    @functools.cached_property
    def base_datatypes(self) -> frozenset:
        """The datatypes the closed ontology uses (owlrl adds the disjointness of two datatypes only when
        the graph uses both)."""
        return frozenset(self.used_datatypes(self.triples))


class _Run(_TripleIndex):
    """One patient's forward chaining: a work queue of new triples. (Only owl:sameAs reads the
    ``s_any``/``o_any``/``p_any`` lookups: they are built when a run's first sameAs triple is, and kept
    from then on.)"""

    def __init__(self, t: OwlRlTables):
        super().__init__()
        self.t = t
        #: the triples to fire, each with whether cax-sco is already done for it (``_type``)
        self.queue: list = []
        self.errors: list[str] = []
        self.datatype_disjoint: dict = defaultdict(set)
        #: whether the run holds an owl:sameAs triple (then the s/o/p lookups are kept)
        self.any_same = False
        #: ``add`` need not queue a type triple with cax-sco done: no rule reads rdf:type as a predicate and the
        #: ontology holds no sameAs; ``quiet_not``: the classes whose types a rule reads (``_type``)
        self.quiet_types = not t.any_same and not any(p in t.by_predicate for p in IS_TYPE)
        self.quiet_not = t.classes_with_rules

    # -- the data: closure + patient triples --------------------------------
    def has(self, triple) -> bool:
        return triple in self.triples or triple in self.t.triples

    def objs(self, s, p):
        return self.sp.get((s, p), set()) | self.t.sp.get((s, p), set())

    def subjs(self, p, o):
        return self.po.get((p, o), set()) | self.t.po.get((p, o), set())

    def types(self, x):
        """The classes of x, for membership tests only: her own set or the closure's as they are (not a copy,
        so a type added while it is read may be seen at once, as its own firing would find it), their union
        only when both have some."""
        key = (x, TYPE)
        mine, theirs = self.sp.get(key), self.t.sp.get(key)
        if theirs is None:
            return _NONE if mine is None else mine
        return theirs if mine is None else mine | theirs

    def add(self, s, p, o, sup_done: bool = False) -> None:
        triple = (s, p, o)
        triples = self.triples
        if triple in triples or triple in self.t.triples or (type(p) is not URIRef and isinstance(p, Literal)):
            return
        # (indexed here, not by ``_TripleIndex.index``: the hot path, and the lookups by subject, object and
        # predicate alone only once an owl:sameAs triple is held)
        triples.add(triple)
        self.sp[(s, p)].add(o)
        self.po[(p, o)].add(s)
        if self.any_same:
            self.index_any(s, p, o)
        elif p in _IS_SAME:
            self.any_same = True
            for t in triples:
                self.index_any(*t)
        elif sup_done and o not in self.quiet_not and self.quiet_types:
            # a superclass's type whose cax-sco is done and whose class no other rule reads: ``_fire`` would
            # do nothing with it (no sameAs yet; one that comes later copies it in ``_same``)
            return
        self.queue.append((triple, sup_done))

    def _add_types(self, x, classes, sup_done: bool) -> None:
        """``add(x, TYPE, c, sup_done)`` for each class c, in order (``add`` inlined: most of a patient's
        triples are the superclass types of cax-sco)."""
        triples, known, queue, po = self.triples, self.t.triples, self.queue, self.po
        objects = None
        quiet = sup_done and self.quiet_types
        for c in classes:
            triple = (x, TYPE, c)
            if triple in triples or triple in known:
                continue
            triples.add(triple)
            if objects is None:
                objects = self.sp[(x, TYPE)]
            objects.add(c)
            po[(TYPE, c)].add(x)
            if self.any_same:
                self.index_any(x, TYPE, c)
            elif quiet and c not in self.quiet_not:
                continue
            queue.append((triple, sup_done))

    def error(self, message: str) -> None:
        if message not in self.errors:
            self.errors.append(message)

    # -- the run ------------------------------------------------------------
    def run(self, asserted: Iterable) -> tuple[set, list[str]]:
        asserted = list(asserted)
        for s, p, o in asserted:
            self.add(s, p, o)
        self._datatypes(asserted)
        queue, fire = self.queue, self._fire
        while queue:
            fire(*queue.pop())
        return self.triples, self.errors

    def _datatypes(self, asserted) -> None:
        """dt-type2 and dt-not-type for the patient's literals, as owlrl does them."""
        # owlrl states the disjointness of two top-level datatypes when the graph uses both (cax-dw then
        # catches a literal typed with both, e.g. an xsd:double value of a property ranging over xsd:decimal)
        used = self.t.base_datatypes | OwlRlTables.used_datatypes(asserted)
        for left, _p, right in OWLRL_Datatypes_Disjointness:
            if left in used and right in used:
                self.datatype_disjoint[left].add((left, right))
                self.datatype_disjoint[right].add((left, right))
        if self.datatype_disjoint:
            self.quiet_not = self.quiet_not | self.datatype_disjoint.keys()
        for _s, _p, lt in asserted:
            if type(lt) is not URIRef and isinstance(lt, Literal) and lt.datatype in _DATATYPES:
                self.add(lt, TYPE, _DATATYPE_OBJECTS[lt.datatype])
                for dt in OWL_Datatype_Subsumptions.get(lt.datatype, ()):
                    self.add(lt, TYPE, dt)
                try:
                    AltXSDToPYTHON.get(lt.datatype, _identity)(str(lt))
                except ValueError:
                    self.error(f"Lexical value of the literal '{lt}' does not match its datatype ({lt.datatype})")

    def _fire(self, triple, sup_done: bool) -> None:
        s, p, o = triple
        t = self.t
        add = self.add
        rules = t.by_predicate.get(p)
        if rules is not None:
            # prp-dom, prp-rng, prp-spo1, prp-inv1/2, prp-symp
            for c in rules.dom:
                add(s, TYPE, c)
            for c in rules.rng:
                add(o, TYPE, c)
            for p2 in rules.spo:
                add(s, p2, o)
            for q in rules.inv:
                add(o, q, s)
            if rules.symmetric:
                add(o, p, s)
            # prp-fp, prp-ifp
            if rules.functional:
                for y2 in self.objs(s, p):
                    if y2 != o:
                        add(o, SAME, y2)
                        add(y2, SAME, o)
            if rules.inverse_functional:
                for x2 in self.subjs(p, o):
                    if x2 != s:
                        add(s, SAME, x2)
                        add(x2, SAME, s)
            # prp-irp, prp-asyp, prp-trp
            if rules.irreflexive and s == o:
                self.error(f"Irreflexive property used on {s} with {p}")
            if rules.asymmetric and self.has((o, p, s)):
                self.error(f"Erroneous usage of asymmetric property {p} on {s} and {o}")
                self.error(f"Erroneous usage of asymmetric property {p} on {o} and {s}")
            if rules.transitive:
                for z in self.objs(o, p):
                    add(s, p, z)
                for w in self.subjs(p, s):
                    add(w, p, o)
            # cls-svf1/2 (first premise), cls-hv2, cls-avf (second premise)
            for r, y in rules.svf:
                if y == _THING or y in self.types(o):
                    add(s, TYPE, r)
            if rules.has_value:
                for r in t.hv_by_pv.get((p, o), ()):
                    add(s, TYPE, r)
            for r, y in rules.avf:
                if r in self.types(s):
                    add(o, TYPE, y)
        # eq-rep-s/p/o with an existing sameAs (none in most runs: the lookups are skipped then)
        if t.any_same or self.any_same:
            for z in self.objs(s, SAME):
                if z != s:
                    add(z, p, o)
            for z in self.objs(o, SAME):
                if z != o:
                    add(s, p, z)
            for z in self.objs(p, SAME):
                if z != p:
                    add(s, z, o)
        if p in IS_TYPE:
            self._type(s, o, sup_done)
        elif p in _IS_SAME:
            self._same(s, o)
        elif p in _IS_DIFF:
            for a, b in ((s, o), (o, s)):
                # (owlrl states x owl:sameAs x of every resource: x owl:differentFrom x is an inconsistency)
                if a == b or self.has((a, SAME, b)):
                    self.error(
                        f"'sameAs' and 'differentFrom' cannot be used on the same subject-object pair: ({a}, {b})"
                    )

    def _type(self, x, c, sup_done: bool = False) -> None:
        t = self.t
        add = self.add
        if not sup_done:  # cax-sco, cax-eqc
            # (a superclass of a class whose superclasses are closed has its own superclasses among them:
            # its type triple is queued with cax-sco done)
            sups = t.sup.get(c)
            if sups:
                self._add_types(x, sups, c in t.sup_closed)
        if c not in t.classes_with_rules and c not in self.datatype_disjoint:
            return  # (no other rule reads a type of c)
        if c in _IS_NOTHING:
            self.error(f"{x} is defined of type 'Nothing'")
        for ci in t.inters.get(c, ()):  # cls-int2
            add(x, TYPE, ci)
        if c in t.member_inters:  # cls-int1
            types = self.types(x)
            for inter in t.member_inters[c]:
                if t.inter_sets[inter] <= types:
                    add(x, TYPE, inter)
        for u in t.member_unions.get(c, ()):  # cls-uni
            add(x, TYPE, u)
        for r, p in t.svf_by_class.get(c, ()):  # cls-svf1 (second premise)
            for u in self.subjs(p, x):
                add(u, TYPE, r)
        for p, v in t.hv_by_r.get(c, ()):  # cls-hv1
            add(x, p, v)
        for p, y in t.avf_by_r.get(c, ()):  # cls-avf (first premise)
            for v in self.objs(x, p):
                add(v, TYPE, y)
        # cax-dw (on the ontology's disjointness and on the datatype disjointness owlrl adds for this
        # graph), cax-adc, cls-com
        if c in t.disjoint or c in t.complement or c in self.datatype_disjoint:
            types = self.types(x)
            for c1, c2 in (*t.disjoint.get(c, ()), *self.datatype_disjoint.get(c, ())):
                if c1 in types and c2 in types:
                    self.error(f"Disjoint classes {c1} and {c2} have a common individual {x}")
            for c1, c2 in t.complement.get(c, ()):
                if c1 in types and c2 in types:
                    # owlrl's message names the second class where the element belongs
                    self.error(f"Violation of complementarity for classes {c1} and {c2} on element {c2}")

    def _same(self, x, y) -> None:
        add = self.add
        add(y, SAME, x)  # eq-sym
        for z in self.objs(y, SAME):  # eq-trans
            add(x, SAME, z)
        for w in self.subjs(SAME, x):
            add(w, SAME, y)
        for pp, oo in list(self.s_any.get(x, ())) + list(self.t.s_any.get(x, ())):  # eq-rep-s
            add(y, pp, oo)
        for ss, oo in list(self.p_any.get(x, ())) + list(self.t.p_any.get(x, ())):  # eq-rep-p
            add(ss, y, oo)
        for ss, pp in list(self.o_any.get(x, ())) + list(self.t.o_any.get(x, ())):  # eq-rep-o
            add(ss, pp, y)
        if self.has((x, DIFF, y)) or self.has((y, DIFF, x)):  # eq-diff1
            self.error(f"'sameAs' and 'differentFrom' cannot be used on the same subject-object pair: ({x}, {y})")
        if x in self.t.different_members and x != y:  # eq-diff2/3
            for members in self.t.all_different:
                # owlrl compares the pairs (i, j) with i < j < n-1 of each list; so does this
                for i in range(0, len(members) - 1):
                    for j in range(i + 1, len(members) - 1):
                        zi, zj = members[i], members[j]
                        if zi != zj and (self.has((zi, SAME, zj)) or self.has((zj, SAME, zi))):
                            self.error(
                                f"'sameAs' and 'AllDifferent' cannot be used on the same subject-object "
                                f"pair: ({zi}, {zj})"
                            )


def compile_owlrl(tbox: Graph) -> OwlRlTables | None:
    """Lookup tables for ``tbox`` (a closed ontology), or None when it uses an axiom this module
    does not implement (the caller then reasons with owlrl)."""
    for p in UNSUPPORTED_PREDICATES:
        if next(tbox.triples((None, p, None)), None) is not None:
            return None
    for c in UNSUPPORTED_TYPES:
        if next(tbox.triples((None, TYPE, c)), None) is not None:
            return None
    return OwlRlTables(tbox)


__all__ = ["IS_TYPE", "OwlRlTables", "compile_owlrl", "UNSUPPORTED_PREDICATES", "UNSUPPORTED_TYPES"]
