"""The OWL 2 RL profile of a guidance module, and what neither engine honours inside it.

Both engines reason with the OWL 2 RL/RDF rules (owlrl's ``OWLRL_Semantics``; the fast engine's compiled
tables are the same rules, and hand owlrl any axiom they do not compile). An axiom outside OWL 2 RL is
not refused by owlrl: the part of it the rules cannot use is silently ignored (a facet restriction
never classifies a value, a min-cardinality never counts). So every such axiom is a finding:

- ``profile``: the axiom is outside OWL 2 RL (W3C OWL 2 Profiles, section 4.2: the grammars of
  subclass, superclass and equivalent-class expressions, data ranges, the axioms, and the datatypes of
  section 4.3). Written in functional-style syntax with the reason and what to write instead.
- ``unsupported``: the axiom is inside OWL 2 RL, but owlrl (7.x) does not implement its semantics, so
  it is ignored just the same (each case was checked against owlrl, see ``tests/test_check.py``):
  ``DataAllValuesFrom`` (a literal is never checked against a datatype), ``DataMaxCardinality 1`` and
  a qualified ``DataMaxCardinality`` (two literals are never an inconsistency), ``DataIntersectionOf``.
  A functional datatype property is only a warning: the same holds, but the summary readers give an
  attribute one value.
- ``declaration``: OWL 2 DL typing (which OWL 2 RL presupposes): every class and property used is
  declared. Mostly a typo in a name; reported, not refused (owlrl reads undeclared names as written).

``profile_findings(graph, module)`` checks the axioms stated in ``module`` (default: all of ``graph``),
with ``graph`` (the module plus the core) to resolve what the names are.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, XSD

from kg_reasoner.curation.findings import Finding

#: The datatypes OWL 2 RL supports (OWL 2 Profiles, section 4.3): the OWL 2 datatype map without
#: owl:real and owl:rational.
RL_DATATYPES = frozenset(
    [RDF.PlainLiteral, RDF.XMLLiteral, RDFS.Literal, RDF.langString]
    + [
        XSD[n]
        for n in (
            "decimal integer nonNegativeInteger nonPositiveInteger positiveInteger negativeInteger long int short byte "
            "unsignedLong unsignedInt unsignedShort unsignedByte float double string normalizedString token language "
            "Name NCName NMTOKEN boolean hexBinary base64Binary anyURI dateTime dateTimeStamp"
        ).split()
    ]
)


_RESTRICTION_KEYS = (
    OWL.someValuesFrom,
    OWL.allValuesFrom,
    OWL.hasValue,
    OWL.hasSelf,
    OWL.minCardinality,
    OWL.maxCardinality,
    OWL.cardinality,
    OWL.minQualifiedCardinality,
    OWL.maxQualifiedCardinality,
    OWL.qualifiedCardinality,
)


_BOOLEAN_KEYS = {
    OWL.intersectionOf: "IntersectionOf",
    OWL.unionOf: "UnionOf",
    OWL.complementOf: "ComplementOf",
    OWL.oneOf: "OneOf",
}


#: What to write instead, by construct (the end of each finding's message).
HINTS = {
    "someValuesFrom-sup": "OWL 2 RL cannot infer that a value exists, so owlrl ignores the restriction here; "
    "use it as the subclass side (a definition: [ owl:onProperty p ; owl:someValuesFrom C ] rdfs:subClassOf X), "
    "or state the value itself",
    "union-sup": "OWL 2 RL cannot infer which alternative holds, so owlrl ignores it; make each alternative "
    "a subclass of the class instead",
    "oneOf-sup": "an enumeration may only be the subclass side; type the individuals instead",
    "allValuesFrom-sub": "an open world never shows all values of an individual, so owlrl ignores it; use it "
    "only as a superclass, or write a criterion",
    "count": "OWL 2 RL cannot count values in an open world, so owlrl ignores it; for 'at least k of these' "
    "use a kgr:CountCriterion (kgr:countsCriterion, kgr:minimumCount), for 'at least one' an owl:someValuesFrom "
    "as the subclass side, for 'at most one' owl:maxCardinality 1 as the superclass side",
    "max-card": "only a maximum of 0 or 1 is in OWL 2 RL; owlrl ignores larger bounds",
    "complement-sub": "negation as a condition needs a closed world; record the absence explicitly "
    "(an absent finding, kgr:presence kgr:Absent) and name it, or use a criterion's kgr:notMetRecordClass",
    "hasSelf": "owlrl ignores it; remove it",
    "facets": "owlrl ignores datatype facets: a value outside the bounds is neither classified nor refused; "
    "compare a value with a kgr:ThresholdCriterion (kgr:thresholdOn, kgr:minInclusive / kgr:minExclusive / "
    "kgr:maxInclusive / kgr:maxExclusive, kgr:thresholdUnit)",
    "datatype": "owlrl does not know its values; use an OWL 2 RL datatype (xsd:decimal, xsd:integer, "
    "xsd:string, xsd:boolean, xsd:dateTime, ...)",
    "data-range": "only datatypes and their intersections are OWL 2 RL data ranges",
    "disjointUnion": "write the disjointness (owl:AllDisjointClasses) and each member rdfs:subClassOf the class; "
    "that the members cover the class cannot be said in OWL 2 RL",
    "reflexive": "owlrl ignores it; remove it",
    "thing": "remove it, or name the class meant",
    "equivalence": "split it into the subclass axioms OWL 2 RL can use (for a definition: the restriction "
    "rdfs:subClassOf the class), dropping the direction it cannot",
    "not-class": "this node is not a class expression; check its properties",
    "data-avf": "owlrl never checks a literal against a datatype, so a value of another type is neither refused "
    "nor an inconsistency; check the value with a criterion (kgr:ThresholdCriterion) instead",
    "data-max": "owlrl does not treat two different literals as an inconsistency, so the bound is never "
    "enforced; remove it (the summary readers give an attribute one value)",
    "data-intersection": "owlrl does not intersect datatypes; use one datatype",
    "functional-data": "owlrl does not treat two different literals as an inconsistency; only the summary "
    "readers' one value per key keeps the attribute single-valued (RDF input is not checked)",
    "declare": "declare it (a owl:Class, owl:ObjectProperty, owl:DatatypeProperty or owl:AnnotationProperty), "
    "or correct the name if it should be an existing term",
    "both-kinds": "a property is either an object or a datatype property; keep one declaration",
    "literal": "owlrl does not know this datatype; use an OWL 2 RL datatype",
}


@dataclass(frozen=True)
class Problem:
    """One problem of an axiom: the reason (as ``owl2rl_violations`` says it), the hint, which check."""

    text: str
    hint: str = ""
    check: str = "profile"
    severity: str = "error"

    @property
    def message(self) -> str:
        return f"{self.text}: {self.hint}" if self.hint else self.text


def _local(iri) -> str:
    """The local name of an OWL vocabulary IRI (owl:someValuesFrom -> someValuesFrom)."""
    return str(iri).split("#")[-1]


class _Profile:
    """OWL 2 RL's three grammars of class expressions over an RDF graph (OWL 2 Profiles 4.2.3), its data
    ranges (4.2.4), and what owlrl does not honour inside them."""

    def __init__(self, g: Graph, names: Graph | None = None):
        self.g = g
        #: whose prefixes name the terms (the module's own, when checking a module)
        self.names = (names if names is not None else g).namespace_manager
        self.data_properties = set(g.subjects(RDF.type, OWL.DatatypeProperty))
        #: expression nodes an axiom check has visited (what is left is reported on its own)
        self.seen: set = set()

    # rendering ------------------------------------------------------------------------------
    def name(self, node) -> str:
        if isinstance(node, URIRef):
            try:
                return self.names.normalizeUri(node)
            except Exception:
                return f"<{node}>"
        if isinstance(node, Literal):
            return node.n3(self.names)
        return self.render(node)

    def render(self, node) -> str:
        """A blank-node class expression or data range in functional-style syntax."""
        g = self.g
        for key, label in _BOOLEAN_KEYS.items():
            value = g.value(node, key)
            if value is not None:
                kind = "Data" if (node, RDF.type, RDFS.Datatype) in g else "Object"
                items = [value] if key == OWL.complementOf else list(Collection(g, value))
                return f"{kind}{label}({' '.join(self.name(i) for i in items)})"
        if (node, OWL.withRestrictions, None) in g:
            facets = [
                f"{self.name(f)} {self.name(v)}"
                for item in Collection(g, g.value(node, OWL.withRestrictions))
                for f, v in g.predicate_objects(item)
            ]
            base = g.value(node, OWL.onDatatype)
            return f"DatatypeRestriction({self.name(base) if base is not None else '?'} {' '.join(facets)})"
        prop, key, value = self._restriction(node)
        if prop is None or key is None:
            return f"_:{node}"
        kind = "Data" if prop in self.data_properties else "Object"
        local = _local(key)
        if not local.endswith("Cardinality"):  # someValuesFrom, allValuesFrom, hasValue, hasSelf
            return f"{kind}{local[0].upper()}{local[1:]}({self.name(prop)} {self.name(value)})"
        card = local.replace("Qualified", "").replace("Cardinality", "").capitalize() or "Exact"
        filler = g.value(node, OWL.onClass) or g.value(node, OWL.onDataRange)
        return f"{kind}{card}Cardinality({value} {self.name(prop)}{' ' + self.name(filler) if filler else ''})"

    # the three grammars -------------------------------------------------------------------------
    def _restriction(self, node):
        prop = self.g.value(node, OWL.onProperty)
        for key in _RESTRICTION_KEYS:
            value = self.g.value(node, key)
            if value is not None:
                return prop, key, value
        return prop, None, None

    def _each(self, node, key, check) -> list[Problem]:
        """The problems of every member of the RDF list ``node key (...)`` under ``check``."""
        return [p for item in Collection(self.g, self.g.value(node, key)) for p in check(item)]

    def _is_data(self, prop, filler) -> bool:
        return prop in self.data_properties or (filler, RDF.type, RDFS.Datatype) in self.g

    def _count(self, key, position: str) -> Problem:
        return Problem(f"{_local(key)} is not allowed as a {position} expression", HINTS["count"])

    def sub(self, node) -> list[Problem]:
        """Problems of ``node`` as a subclass expression."""
        g = self.g
        self.seen.add(node)
        if isinstance(node, URIRef):
            return (
                [Problem("owl:Thing is not allowed as a subclass expression", HINTS["thing"])]
                if node == OWL.Thing
                else []
            )
        if (node, OWL.intersectionOf, None) in g or (node, OWL.unionOf, None) in g:
            return self._each(
                node, OWL.intersectionOf if (node, OWL.intersectionOf, None) in g else OWL.unionOf, self.sub
            )
        if (node, OWL.oneOf, None) in g:
            return []
        if (node, OWL.complementOf, None) in g:
            return [Problem("ObjectComplementOf is not allowed as a subclass expression", HINTS["complement-sub"])]
        prop, key, value = self._restriction(node)
        if key == OWL.someValuesFrom:
            if self._is_data(prop, value):
                return self.data_range(value)
            return [] if value == OWL.Thing else self.sub(value)
        if key == OWL.hasValue:
            return []
        if key in (OWL.minCardinality, OWL.minQualifiedCardinality, OWL.cardinality, OWL.qualifiedCardinality):
            return [self._count(key, "subclass")]
        if key == OWL.allValuesFrom:
            return [Problem("allValuesFrom is not allowed as a subclass expression", HINTS["allValuesFrom-sub"])]
        if key == OWL.hasSelf:
            return [Problem("hasSelf is not allowed as a subclass expression", HINTS["hasSelf"])]
        if key is not None:
            return [Problem(f"{_local(key)} is not allowed as a subclass expression", HINTS["max-card"])]
        return [Problem("not a class expression", HINTS["not-class"])]

    def sup(self, node) -> list[Problem]:
        """Problems of ``node`` as a superclass expression."""
        g = self.g
        self.seen.add(node)
        if isinstance(node, URIRef):
            return (
                [Problem("owl:Thing is not allowed as a superclass expression", HINTS["thing"])]
                if node == OWL.Thing
                else []
            )
        if (node, OWL.intersectionOf, None) in g:
            return self._each(node, OWL.intersectionOf, self.sup)
        if (node, OWL.complementOf, None) in g:
            return self.sub(g.value(node, OWL.complementOf))
        if (node, OWL.unionOf, None) in g:
            return [Problem("ObjectUnionOf is not allowed as a superclass expression", HINTS["union-sup"])]
        if (node, OWL.oneOf, None) in g:
            return [Problem("ObjectOneOf is not allowed as a superclass expression", HINTS["oneOf-sup"])]
        prop, key, value = self._restriction(node)
        if key == OWL.allValuesFrom:
            if self._is_data(prop, value):
                problems = self.data_range(value)
                return problems or [
                    Problem("DataAllValuesFrom is not honoured by owlrl", HINTS["data-avf"], check="unsupported")
                ]
            return self.sup(value)
        if key == OWL.hasValue:
            return []
        if key in (OWL.maxCardinality, OWL.maxQualifiedCardinality):
            problems = (
                []
                if str(value) in ("0", "1")
                else [Problem(f"max cardinality {value} (only 0 or 1) is not allowed", HINTS["max-card"])]
            )
            filler = g.value(node, OWL.onClass)
            if filler is not None and filler != OWL.Thing:
                problems += self.sub(filler)
            data_filler = g.value(node, OWL.onDataRange)
            if data_filler is not None:
                problems += self.data_range(data_filler)
            if not problems and (prop in self.data_properties or data_filler is not None):
                if data_filler is not None or str(value) == "1":
                    problems.append(
                        Problem(
                            f"DataMaxCardinality({value} ...) is not honoured by owlrl",
                            HINTS["data-max"],
                            check="unsupported",
                        )
                    )
            return problems
        if key in (OWL.minCardinality, OWL.minQualifiedCardinality, OWL.cardinality, OWL.qualifiedCardinality):
            return [self._count(key, "superclass")]
        if key == OWL.someValuesFrom:
            return [Problem("someValuesFrom is not allowed as a superclass expression", HINTS["someValuesFrom-sup"])]
        if key == OWL.hasSelf:
            return [Problem("hasSelf is not allowed as a superclass expression", HINTS["hasSelf"])]
        return [Problem("not a class expression", HINTS["not-class"])]

    def equiv(self, node) -> list[Problem]:
        """Problems of ``node`` as an equivalent-class expression."""
        g = self.g
        self.seen.add(node)
        if isinstance(node, URIRef):
            return [Problem("owl:Thing is not allowed in an equivalence", HINTS["thing"])] if node == OWL.Thing else []
        if (node, OWL.intersectionOf, None) in g:
            return self._each(node, OWL.intersectionOf, self.equiv)
        _prop, key, _value = self._restriction(node)
        if key == OWL.hasValue:
            return []
        what = next((label for k, label in _BOOLEAN_KEYS.items() if (node, k, None) in g), None)
        what = f"Object{what}" if what else (_local(key) if key is not None else "this expression")
        return [
            Problem(
                f"{what} is not allowed in an equivalence (only classes, intersections and hasValue)",
                HINTS["equivalence"],
            )
        ]

    def data_range(self, node) -> list[Problem]:
        self.seen.add(node)
        if isinstance(node, URIRef):
            return (
                []
                if node in RL_DATATYPES
                or (node, RDF.type, RDFS.Datatype) in self.g
                and node not in (OWL.real, OWL.rational)
                else [Problem(f"datatype {self.name(node)} is not in OWL 2 RL", HINTS["datatype"])]
            )
        if (node, OWL.intersectionOf, None) in self.g:
            problems = self._each(node, OWL.intersectionOf, self.data_range)
            return problems or [
                Problem("DataIntersectionOf is not honoured by owlrl", HINTS["data-intersection"], check="unsupported")
            ]
        if (node, OWL.withRestrictions, None) in self.g or (node, OWL.onDatatype, None) in self.g:
            return [Problem("datatype restrictions (facets) are not in OWL 2 RL", HINTS["facets"])]
        return [
            Problem("this data range is not in OWL 2 RL (only datatypes and their intersections)", HINTS["data-range"])
        ]


def _is_datatype(g: Graph, node) -> bool:
    return node in RL_DATATYPES or (node, RDF.type, RDFS.Datatype) in g or (node, OWL.onDatatype, None) in g


_ANNOTATION_PREDICATES = frozenset({RDFS.label, RDFS.comment, RDFS.seeAlso, RDFS.isDefinedBy, OWL.versionInfo})


def _problems(g: Graph, module: Graph | None):
    """(term, property, axiom, problem) for every problem of an axiom stated in ``module`` (default: all
    of ``g``), the names resolved in ``g``."""
    m = g if module is None else module
    p = _Profile(g, m)

    def term_of(*nodes):
        """The first named node of an axiom (else its first expression): the term an author looks for."""
        return next((n for n in nodes if isinstance(n, URIRef)), nodes[0])

    for s, o in m.subject_objects(RDFS.subClassOf):
        if _is_datatype(g, s) and _is_datatype(g, o):
            continue
        axiom = f"SubClassOf({p.name(s)} {p.name(o)})"
        for problem in p.sub(s) + p.sup(o):
            yield term_of(s, o), RDFS.subClassOf, axiom, problem
    for s, o in m.subject_objects(OWL.equivalentClass):
        if _is_datatype(g, s) or _is_datatype(g, o):  # a datatype definition
            axiom, problems = f"DatatypeDefinition({p.name(s)} {p.name(o)})", p.data_range(s) + p.data_range(o)
        else:
            axiom, problems = f"EquivalentClasses({p.name(s)} {p.name(o)})", p.equiv(s) + p.equiv(o)
        for problem in problems:
            yield term_of(s, o), OWL.equivalentClass, axiom, problem
    for s, o in m.subject_objects(OWL.disjointWith):
        for problem in p.sub(s) + p.sub(o):
            yield term_of(s, o), OWL.disjointWith, f"DisjointClasses({p.name(s)} {p.name(o)})", problem
    for node in m.subjects(RDF.type, OWL.AllDisjointClasses):
        members = list(Collection(g, g.value(node, OWL.members)))
        axiom = f"DisjointClasses({' '.join(p.name(x) for x in members)})"
        for problem in [q for x in members for q in p.sub(x)]:
            yield term_of(*members), OWL.members, axiom, problem
    for s, _o in m.subject_objects(OWL.disjointUnionOf):
        problem = Problem("DisjointUnion is not in OWL 2 RL", HINTS["disjointUnion"])
        yield s, OWL.disjointUnionOf, f"DisjointUnion({p.name(s)} ...)", problem
    for s, _o in m.subject_objects(OWL.hasKey):
        for problem in p.sub(s):
            yield s, OWL.hasKey, f"HasKey({p.name(s)} ...)", problem
    for prop, cls in m.subject_objects(RDFS.domain):
        if (prop, RDF.type, OWL.AnnotationProperty) not in g:
            for problem in p.sup(cls):
                yield prop, RDFS.domain, f"PropertyDomain({p.name(prop)} {p.name(cls)})", problem
    for prop, rng in m.subject_objects(RDFS.range):
        if (prop, RDF.type, OWL.AnnotationProperty) in g:
            continue
        if prop in p.data_properties:
            axiom, problems = f"DataPropertyRange({p.name(prop)} {p.name(rng)})", p.data_range(rng)
        else:
            axiom, problems = f"ObjectPropertyRange({p.name(prop)} {p.name(rng)})", p.sup(rng)
        for problem in problems:
            yield prop, RDFS.range, axiom, problem
    for prop in m.subjects(RDF.type, OWL.ReflexiveProperty):
        problem = Problem("reflexive properties are not in OWL 2 RL", HINTS["reflexive"])
        yield prop, RDF.type, f"ReflexiveObjectProperty({p.name(prop)})", problem
    for prop in m.subjects(RDF.type, OWL.FunctionalProperty):
        if prop in p.data_properties:
            problem = Problem(
                "a functional datatype property is not enforced by owlrl",
                HINTS["functional-data"],
                check="unsupported",
                severity="warning",
            )
            yield prop, RDF.type, f"FunctionalDataProperty({p.name(prop)})", problem
    for ind, cls in m.subject_objects(RDF.type):
        if isinstance(cls, BNode):
            for problem in p.sup(cls):
                yield ind, RDF.type, f"ClassAssertion({p.name(cls)} {p.name(ind)})", problem
    for prop in p.data_properties & set(g.subjects(RDF.type, OWL.ObjectProperty)):
        if module is None or (prop, RDF.type, None) in m:
            problem = Problem("declared both an object and a datatype property", HINTS["both-kinds"])
            yield prop, RDF.type, f"Declaration({p.name(prop)})", problem
    # what no axiom reached: a datatype restriction, a self restriction or a count on its own (e.g. a
    # datatype named by its facets, ":t a rdfs:Datatype ; owl:onDatatype ... ; owl:withRestrictions (...)")
    for key in _ALWAYS_OUTSIDE:
        for node in set(m.subjects(key, None)) - p.seen:
            p.seen.add(node)
            if key == OWL.withRestrictions:
                problem = Problem("datatype restrictions (facets) are not in OWL 2 RL", HINTS["facets"])
            elif key == OWL.hasSelf:
                problem = Problem("hasSelf is not in OWL 2 RL", HINTS["hasSelf"])
            else:
                problem = Problem(f"{_local(key)} is not in OWL 2 RL", HINTS["count"])
            expression = p.render(node)
            if isinstance(node, URIRef):  # a named datatype or class defined as the expression itself
                kind = "DatatypeDefinition" if key == OWL.withRestrictions else "EquivalentClasses"
                yield node, key, f"{kind}({p.name(node)} {expression})", problem
            else:
                yield expression, key, expression, problem
    yield from _undeclared(g, m, p.name)
    for s, pred, o in m:
        if isinstance(o, Literal) and o.datatype is not None and o.datatype not in RL_DATATYPES:
            annotation = (
                pred in _ANNOTATION_PREDICATES
                or (pred, RDF.type, OWL.AnnotationProperty) in g
                or str(pred).startswith((str(SKOS), str(DCTERMS)))
            )
            problem = Problem(
                f"datatype {p.name(o.datatype)} is not in OWL 2 RL",
                HINTS["literal"],
                severity="warning" if annotation else "error",
            )
            yield s, pred, f"{p.name(s)} {p.name(pred)} {p.name(o)}", problem


#: Constructs outside OWL 2 RL wherever they stand.
_ALWAYS_OUTSIDE = (
    OWL.withRestrictions,
    OWL.hasSelf,
    OWL.minCardinality,
    OWL.minQualifiedCardinality,
    OWL.cardinality,
    OWL.qualifiedCardinality,
)


def profile_findings(g: Graph, module: Graph | None = None) -> list[Finding]:
    """Every axiom stated in ``module`` (default: all of ``g``) outside OWL 2 RL or not honoured by owlrl,
    and every class or property it uses undeclared, as findings. ``g`` holds ``module`` and what it
    imports (the core): it says which names are classes, datatypes or datatype properties.
    Annotations are not axioms and are not checked, but a literal of a non-RL datatype is reported
    (a warning in an annotation)."""
    name = _Profile(g, module).name
    return [
        Finding(
            problem.check,
            name(term) if isinstance(term, (URIRef, BNode, Literal)) else term,
            axiom,
            problem.message,
            property=name(prop) if prop is not None else None,
            severity=problem.severity,
        )
        for term, prop, axiom, problem in _problems(g, module)
    ]


def owl2rl_violations(g: Graph) -> list[str]:
    """Every axiom of ``g`` outside the OWL 2 RL profile, as 'Axiom(...): reason' lines (sorted).
    Annotations are not axioms and are not checked, but literals anywhere must use a datatype OWL 2 RL
    supports. (What owlrl does not honour inside the profile is not listed: see ``profile_findings``.)"""
    return sorted(
        {f"{axiom}: {problem.text}" for _t, _p, axiom, problem in _problems(g, None) if problem.check != "unsupported"}
    )


_BUILTIN = (str(RDF), str(RDFS), str(OWL), str(XSD))


_CLASS_POSITIONS = (OWL.someValuesFrom, OWL.allValuesFrom, OWL.onClass, OWL.complementOf)


_PROPERTY_KINDS = (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)


def _undeclared(g: Graph, m: Graph, name):
    """OWL 2 DL typing (which OWL 2 RL presupposes): every class and property ``m`` uses is declared in
    ``g`` (owl:Class, owl:ObjectProperty, owl:DatatypeProperty, owl:AnnotationProperty), so that tools
    need not guess what a name is."""
    classes = set(g.subjects(RDF.type, OWL.Class)) | set(g.subjects(RDF.type, RDFS.Datatype))
    properties = {p for kind in _PROPERTY_KINDS for p in g.subjects(RDF.type, kind)}
    used_classes: set = set()
    for s, o in m.subject_objects(RDFS.subClassOf):
        used_classes |= {s, o}
    for p in (OWL.equivalentClass, OWL.disjointWith):
        for s, o in m.subject_objects(p):
            used_classes |= {s, o}
    for p in _CLASS_POSITIONS + (RDFS.domain,):
        used_classes |= set(m.objects(None, p))
    for o in m.objects(None, RDF.type):
        if not str(o).startswith(_BUILTIN):
            used_classes.add(o)
    for lst in list(m.objects(None, OWL.intersectionOf)) + list(m.objects(None, OWL.unionOf)):
        used_classes |= {x for x in Collection(g, lst)}
    used_properties = set(m.objects(None, OWL.onProperty)) | set(m.predicates())
    for s, o in m.subject_objects(RDFS.subPropertyOf):
        used_properties |= {s, o}
    for c in used_classes:
        if isinstance(c, URIRef) and c not in classes and not str(c).startswith(_BUILTIN):
            axiom = f"Declaration(Class({name(c)}))"
            yield c, None, axiom, Problem("used as a class but not declared owl:Class", HINTS["declare"], "declaration")
    for p in used_properties:
        if isinstance(p, URIRef) and p not in properties and not str(p).startswith(_BUILTIN):
            problem = Problem(
                "used as a property but not declared an object, datatype or annotation property",
                HINTS["declare"],
                "declaration",
            )
            yield p, None, f"Declaration(Property({name(p)}))", problem
