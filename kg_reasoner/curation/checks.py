"""Independent checks of an ontology: the OWL 2 RL profile, the quality-control queries, and
classification by HermiT (a complete OWL 2 DL reasoner, shipped with owlready2, run on Java).

They run in the test suite and before every release (``kg-reasoner release``); each names what it
found, so an ontology engineer can fix it:

- ``owl2rl_violations(graph)``: every axiom outside the OWL 2 RL profile (OWL 2 Profiles, section
  4.2), written in functional-style syntax, with the reason;
- ``qc_violations(graph)``: the rows of every ``queries/qc/*-violation.rq``;
- ``hermit_classification(graph)``: consistency, unsatisfiable classes, and the class hierarchy and
  individual types HermiT infers (compared with owlrl's in the tests).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, XSD

from kg_reasoner.resources import data_folder

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


def _local(iri) -> str:
    """The local name of an OWL vocabulary IRI (owl:someValuesFrom -> someValuesFrom)."""
    return str(iri).split("#")[-1]


class _Profile:
    """OWL 2 RL's three grammars of class expressions over an RDF graph (OWL 2 Profiles 4.2.2)."""

    def __init__(self, g: Graph):
        self.g = g
        self.data_properties = set(g.subjects(RDF.type, OWL.DatatypeProperty))

    # rendering ------------------------------------------------------------------------------
    def name(self, node) -> str:
        if isinstance(node, URIRef):
            try:
                return self.g.namespace_manager.normalizeUri(node)
            except Exception:
                return f"<{node}>"
        if isinstance(node, Literal):
            return node.n3(self.g.namespace_manager)
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

    def _each(self, node, key, check) -> list[str]:
        """The problems of every member of the RDF list ``node key (...)`` under ``check``."""
        return [p for item in Collection(self.g, self.g.value(node, key)) for p in check(item)]

    def _is_data(self, prop, filler) -> bool:
        return prop in self.data_properties or (filler, RDF.type, RDFS.Datatype) in self.g

    def sub(self, node) -> list[str]:
        """Problems of ``node`` as a subclass expression."""
        g = self.g
        if isinstance(node, URIRef):
            return ["owl:Thing is not allowed as a subclass expression"] if node == OWL.Thing else []
        if (node, OWL.intersectionOf, None) in g or (node, OWL.unionOf, None) in g:
            return self._each(
                node, OWL.intersectionOf if (node, OWL.intersectionOf, None) in g else OWL.unionOf, self.sub
            )
        if (node, OWL.oneOf, None) in g:
            return []
        if (node, OWL.complementOf, None) in g:
            return ["ObjectComplementOf is not allowed as a subclass expression"]
        prop, key, value = self._restriction(node)
        if key == OWL.someValuesFrom:
            if self._is_data(prop, value):
                return self.data_range(value)
            return [] if value == OWL.Thing else self.sub(value)
        if key == OWL.hasValue:
            return []
        if key is not None:
            return [f"{_local(key)} is not allowed as a subclass expression"]
        return ["not a class expression"]

    def sup(self, node) -> list[str]:
        """Problems of ``node`` as a superclass expression."""
        g = self.g
        if isinstance(node, URIRef):
            return ["owl:Thing is not allowed as a superclass expression"] if node == OWL.Thing else []
        if (node, OWL.intersectionOf, None) in g:
            return self._each(node, OWL.intersectionOf, self.sup)
        if (node, OWL.complementOf, None) in g:
            return self.sub(g.value(node, OWL.complementOf))
        if (node, OWL.unionOf, None) in g:
            return ["ObjectUnionOf is not allowed as a superclass expression"]
        if (node, OWL.oneOf, None) in g:
            return ["ObjectOneOf is not allowed as a superclass expression"]
        prop, key, value = self._restriction(node)
        if key == OWL.allValuesFrom:
            if self._is_data(prop, value):
                return self.data_range(value)
            return self.sup(value)
        if key == OWL.hasValue:
            return []
        if key in (OWL.maxCardinality, OWL.maxQualifiedCardinality):
            problems = [] if str(value) in ("0", "1") else [f"max cardinality {value} (only 0 or 1) is not allowed"]
            filler = g.value(node, OWL.onClass)
            if filler is not None and filler != OWL.Thing:
                problems += self.sub(filler)
            data_filler = g.value(node, OWL.onDataRange)
            if data_filler is not None:
                problems += self.data_range(data_filler)
            return problems
        if key is not None:
            return [f"{_local(key)} is not allowed as a superclass expression"]
        return ["not a class expression"]

    def equiv(self, node) -> list[str]:
        """Problems of ``node`` as an equivalent-class expression."""
        g = self.g
        if isinstance(node, URIRef):
            return ["owl:Thing is not allowed in an equivalence"] if node == OWL.Thing else []
        if (node, OWL.intersectionOf, None) in g:
            return self._each(node, OWL.intersectionOf, self.equiv)
        _prop, key, _value = self._restriction(node)
        if key == OWL.hasValue:
            return []
        what = next((label for k, label in _BOOLEAN_KEYS.items() if (node, k, None) in g), None)
        what = f"Object{what}" if what else (_local(key) if key is not None else "this expression")
        return [f"{what} is not allowed in an equivalence (only classes, intersections and hasValue)"]

    def data_range(self, node) -> list[str]:
        if isinstance(node, URIRef):
            return (
                []
                if node in RL_DATATYPES
                or (node, RDF.type, RDFS.Datatype) in self.g
                and node not in (OWL.real, OWL.rational)
                else [f"datatype {self.name(node)} is not in OWL 2 RL"]
            )
        if (node, OWL.intersectionOf, None) in self.g:
            return self._each(node, OWL.intersectionOf, self.data_range)
        if (node, OWL.withRestrictions, None) in self.g:
            return ["datatype restrictions (facets) are not in OWL 2 RL"]
        return ["this data range is not in OWL 2 RL (only datatypes and their intersections)"]


def owl2rl_violations(g: Graph) -> list[str]:
    """Every axiom of ``g`` outside the OWL 2 RL profile, as 'Axiom(...): reason' lines (sorted).
    Annotations are not axioms and are not checked, but literals anywhere must use a datatype OWL 2 RL
    supports."""
    p = _Profile(g)
    out: set[str] = set()

    def report(axiom: str, problems: list[str]) -> None:
        for problem in problems:
            out.add(f"{axiom}: {problem}")

    for s, o in g.subject_objects(RDFS.subClassOf):
        report(f"SubClassOf({p.name(s)} {p.name(o)})", p.sub(s) + p.sup(o))
    for s, o in g.subject_objects(OWL.equivalentClass):
        report(f"EquivalentClasses({p.name(s)} {p.name(o)})", p.equiv(s) + p.equiv(o))
    for s, o in g.subject_objects(OWL.disjointWith):
        report(f"DisjointClasses({p.name(s)} {p.name(o)})", p.sub(s) + p.sub(o))
    for node in g.subjects(RDF.type, OWL.AllDisjointClasses):
        members = list(Collection(g, g.value(node, OWL.members)))
        report(f"DisjointClasses({' '.join(p.name(m) for m in members)})", [q for m in members for q in p.sub(m)])
    for s, _o in g.subject_objects(OWL.disjointUnionOf):
        report(f"DisjointUnion({p.name(s)} ...)", ["DisjointUnion is not in OWL 2 RL"])
    for s, _o in g.subject_objects(OWL.hasKey):
        report(f"HasKey({p.name(s)} ...)", p.sub(s))
    for prop, cls in g.subject_objects(RDFS.domain):
        if (prop, RDF.type, OWL.AnnotationProperty) not in g:
            report(f"PropertyDomain({p.name(prop)} {p.name(cls)})", p.sup(cls))
    for prop, rng in g.subject_objects(RDFS.range):
        if (prop, RDF.type, OWL.AnnotationProperty) in g:
            continue
        if prop in p.data_properties:
            report(f"DataPropertyRange({p.name(prop)} {p.name(rng)})", p.data_range(rng))
        else:
            report(f"ObjectPropertyRange({p.name(prop)} {p.name(rng)})", p.sup(rng))
    for prop in g.subjects(RDF.type, OWL.ReflexiveProperty):
        report(f"ReflexiveObjectProperty({p.name(prop)})", ["reflexive properties are not in OWL 2 RL"])
    for ind, cls in g.subject_objects(RDF.type):
        if isinstance(cls, BNode):
            report(f"ClassAssertion({p.name(cls)} {p.name(ind)})", p.sup(cls))
    for prop in p.data_properties & set(g.subjects(RDF.type, OWL.ObjectProperty)):
        report(f"Declaration({p.name(prop)})", ["declared both an object and a datatype property"])
    for problem in _undeclared(g, p.name):
        out.add(problem)
    for s, pred, o in g:
        if isinstance(o, Literal) and o.datatype is not None and o.datatype not in RL_DATATYPES:
            report(f"{p.name(s)} {p.name(pred)} {p.name(o)}", [f"datatype {p.name(o.datatype)} is not in OWL 2 RL"])
    return sorted(out)


_BUILTIN = (str(RDF), str(RDFS), str(OWL), str(XSD))


_CLASS_POSITIONS = (OWL.someValuesFrom, OWL.allValuesFrom, OWL.onClass, OWL.complementOf)


_PROPERTY_KINDS = (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)


def _undeclared(g: Graph, name) -> list[str]:
    """OWL 2 DL typing (which OWL 2 RL presupposes): every class and property an axiom or assertion
    uses is declared (owl:Class, owl:ObjectProperty, owl:DatatypeProperty, owl:AnnotationProperty),
    so that tools need not guess what a name is."""
    classes = set(g.subjects(RDF.type, OWL.Class)) | set(g.subjects(RDF.type, RDFS.Datatype))
    properties = {p for kind in _PROPERTY_KINDS for p in g.subjects(RDF.type, kind)}
    used_classes: set = set()
    for s, o in g.subject_objects(RDFS.subClassOf):
        used_classes |= {s, o}
    for p in (OWL.equivalentClass, OWL.disjointWith):
        for s, o in g.subject_objects(p):
            used_classes |= {s, o}
    for p in _CLASS_POSITIONS + (RDFS.domain,):
        used_classes |= set(g.objects(None, p))
    for o in g.objects(None, RDF.type):
        if not str(o).startswith(_BUILTIN):
            used_classes.add(o)
    for lst in list(g.objects(None, OWL.intersectionOf)) + list(g.objects(None, OWL.unionOf)):
        used_classes |= {m for m in Collection(g, lst)}
    used_properties = set(g.objects(None, OWL.onProperty)) | set(g.predicates())
    for s, o in g.subject_objects(RDFS.subPropertyOf):
        used_properties |= {s, o}
    out = [
        f"Declaration(Class({name(c)})): used as a class but not declared owl:Class"
        for c in used_classes
        if isinstance(c, URIRef) and c not in classes and not str(c).startswith(_BUILTIN)
    ]
    out += [
        f"Declaration(Property({name(p)})): used as a property but not declared an object, "
        f"datatype or annotation property"
        for p in used_properties
        if isinstance(p, URIRef) and p not in properties and not str(p).startswith(_BUILTIN)
    ]
    return out


def qc_query_names() -> list[str]:
    return sorted(
        q.name[:-3] for q in data_folder("queries").joinpath("qc").iterdir() if q.name.endswith("-violation.rq")
    )


def qc_violations(g: Graph) -> dict[str, list[tuple[str, str]]]:
    """The rows (term, problem) of every ``queries/qc/*-violation.rq`` on ``g``, by query name."""
    out = {}
    for name in qc_query_names():
        text = data_folder("queries").joinpath("qc", f"{name}.rq").read_text(encoding="utf-8")
        out[name] = [(str(r.term), str(r.problem)) for r in g.query(text)]
    return out


class ReasonerUnavailable(RuntimeError):
    """HermiT cannot run here: owlready2 (the 'ontology' extra) or Java is missing."""


@dataclass
class HermitResult:
    consistent: bool
    #: named classes equivalent to owl:Nothing
    unsatisfiable: list[str] = field(default_factory=list)
    #: (sub, super) pairs between named classes, transitively closed, owl:Thing left out
    subclasses: set[tuple[str, str]] = field(default_factory=set)
    #: (individual, class) pairs, with the superclasses of the direct types, owl:Thing left out
    types: set[tuple[str, str]] = field(default_factory=set)
    output: str = ""


def hermit_command() -> list[str]:
    """The java command line of the HermiT bundled with owlready2."""
    try:
        import owlready2
    except ImportError:
        raise ReasonerUnavailable("HermiT comes with owlready2: pip install 'kg-reasoner[ontology]'") from None
    java = shutil.which(getattr(owlready2, "JAVA_EXE", "java") or "java")
    if java is None:
        raise ReasonerUnavailable("HermiT needs Java (a JRE 8 or later on the PATH)")
    folder = Path(owlready2.__file__).parent / "hermit"
    return [
        java,
        "-Xmx2000M",
        "-cp",
        f"{folder}{os.pathsep}{folder / 'HermiT.jar'}",
        "org.semanticweb.HermiT.cli.CommandLine",
    ]


_AXIOM = re.compile(r"^(SubClassOf|Type|EquivalentClasses)\(\s*(.*?)\s*\)\s*$")


_IRI = re.compile(r"<([^>]*)>")


def hermit_classification(g: Graph, timeout: float = 300) -> HermitResult:
    """Classify ``g`` with HermiT: consistency, unsatisfiable classes, the inferred class hierarchy
    and the individuals' types. owl:imports are left out (give the whole ontology): nothing is fetched."""
    cmd = hermit_command()
    with tempfile.TemporaryDirectory(prefix="kg-reasoner-hermit-") as tmp:
        src = Path(tmp) / "ontology.owl"
        plain = Graph()
        plain.addN((s, p, o, plain) for s, p, o in g if p != OWL.imports)
        plain.serialize(src, format="xml")
        classes, types = Path(tmp) / "classes.ofn", Path(tmp) / "types.ofn"
        run = subprocess.run(
            cmd + ["-k", "-c", f"--output={classes}", src.as_uri()], capture_output=True, text=True, timeout=timeout
        )
        text = run.stdout + run.stderr + (classes.read_text(encoding="utf-8") if classes.is_file() else "")
        if run.returncode != 0 or "is satisfiable" not in text:
            if "inconsistent" in text.lower() or "is not satisfiable" in text:
                return HermitResult(False, output=text)
            raise RuntimeError(f"HermiT failed (exit {run.returncode}): {text.strip()[-2000:]}")
        run = subprocess.run(
            cmd + ["-I", f"--output={types}", src.as_uri()], capture_output=True, text=True, timeout=timeout
        )
        if run.returncode != 0:
            raise RuntimeError(f"HermiT failed to classify instances (exit {run.returncode}): {run.stderr[-2000:]}")
        result = HermitResult(True, output=text)
        direct: dict[str, set[str]] = {}
        nothing = str(OWL.Nothing)
        for line in classes.read_text(encoding="utf-8").splitlines():
            m = _AXIOM.match(line.strip())
            if not m:
                continue
            iris = _IRI.findall(m.group(2))
            if m.group(1) == "SubClassOf" and len(iris) == 2:
                direct.setdefault(iris[0], set()).add(iris[1])
            elif m.group(1) == "EquivalentClasses":
                if nothing in iris:
                    result.unsatisfiable += [i for i in iris if i != nothing]
                for a in iris:
                    direct.setdefault(a, set()).update(i for i in iris if i != a)
        closed = _closure(direct)
        thing = str(OWL.Thing)
        result.subclasses = {
            (a, b) for a, ups in closed.items() for b in ups if a != b and thing not in (a, b) and nothing not in (a, b)
        }
        for line in types.read_text(encoding="utf-8").splitlines():
            m = _AXIOM.match(line.strip())
            if m and m.group(1) == "Type":
                iris = _IRI.findall(m.group(2))
                if len(iris) == 2 and iris[1] != thing:
                    result.types.update((iris[0], c) for c in {iris[1]} | closed.get(iris[1], set()) if c != thing)
        result.unsatisfiable.sort()
        return result


def _closure(direct: dict[str, set[str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for start in direct:
        seen, todo = set(), [start]
        while todo:
            for up in direct.get(todo.pop(), ()):
                if up not in seen:
                    seen.add(up)
                    todo.append(up)
        out[start] = seen
    return out
