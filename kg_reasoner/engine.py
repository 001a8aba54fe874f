"""The reference engine: OWL-RL closure (owlrl) plus SHACL (pyshacl), one patient at a time.

The ontology's own closure is computed once per process (per ontology
configuration) and reused. For each patient a fresh dataset holds three
named graphs sharing one store: the reasoning-relevant part of the ontology
closure, the patient's asserted triples, and the inferred triples (owlrl writes into it with ``destination=``,
then the SHACL rules' conclusions are added). Nothing of one patient is ever
visible to another.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path

import owlrl
import pyshacl
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.plugins.sparql import prepareQuery
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SH, SKOS

from kg_reasoner.errors import OntologyError, UnreadableInputError
from kg_reasoner.namespaces import ERR, KGR
from kg_reasoner.resources import (ONTOLOGY_FILES, REFERENCE_TABLE_FILE, RULE_SHAPES, VALIDATION_SHAPES,
                                   read_text)

log = logging.getLogger(__name__)

ONTOLOGY_GRAPH = URIRef("https://w3id.org/kg-reasoner/graph/ontology-closure")
#: Reflexive triples owlrl adds for every resource (x owl:sameAs x, ...): true and uninformative.
_TRIVIAL_REFLEXIVE = {OWL.sameAs, RDFS.subClassOf, RDFS.subPropertyOf, OWL.equivalentClass, OWL.equivalentProperty}


@functools.lru_cache(maxsize=1024)
def _prepared(text: str):
    return prepareQuery(text)


class PreparedQueryGraph(Graph):
    """An rdflib Graph that parses each distinct SPARQL text once.

    pyshacl sends the same rule or constraint text for every focus node and
    rdflib would parse it again each time (about 80% of the SHACL rules' run
    time). Parsing is pure: the parsed query is reused, the evaluation is not.
    """

    def query(self, query_object, processor="sparql", result="sparql", initNs=None,  # noqa: N803
              initBindings=None, use_store_provided=True, **kwargs):  # noqa: N803
        if isinstance(query_object, str) and not initNs and not kwargs:
            query_object = _prepared(query_object)
        return super().query(query_object, processor, result, initNs, initBindings, use_store_provided, **kwargs)


def _parse_packaged(folder: str, names, into: Graph) -> None:
    for name in names:
        into.parse(data=read_text(folder, name), format="turtle", publicID=f"kg-reasoner:{folder}/{name}")


@dataclass(frozen=True, eq=False)
class KnowledgeBase:
    """The ontology (asserted and closed) and the two shape graphs."""

    ontology: Graph
    closure: Graph
    reasoning_base: Graph
    rules_base: Graph
    validation_shapes: Graph
    rule_shapes: Graph


def _closure_errors(graph: Graph) -> list[str]:
    return sorted(str(m) for e in graph.subjects(RDF.type, ERR.ErrorMessage) for m in graph.objects(e, ERR.error))


def cache_dir() -> Path | None:
    """Where the closed knowledge base is cached: $KG_REASONER_CACHE_DIR, else
    $XDG_CACHE_HOME/kg-reasoner or ~/.cache/kg-reasoner. KG_REASONER_CACHE_DIR= (empty) disables it."""
    configured = os.environ.get("KG_REASONER_CACHE_DIR")
    if configured == "":
        return None
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kg-reasoner"


def _cache_key(reference_table: str | None, extra_ontology: tuple[str, ...]) -> str:
    """A hash of everything the knowledge base is built from: a change to any of it is a new key."""
    from kg_reasoner import __version__
    h = hashlib.sha256(f"kg-reasoner {__version__} owlrl {owlrl.__version__} pyshacl {pyshacl.__version__}".encode())
    for folder, names in (("ontology", ONTOLOGY_FILES + ((REFERENCE_TABLE_FILE,) if not reference_table else ())),
                          ("shapes", VALIDATION_SHAPES + RULE_SHAPES)):
        for name in names:
            h.update(f"\0{folder}/{name}\0".encode() + read_text(folder, name).encode())
    for f in ([reference_table] if reference_table else []) + list(extra_ontology):
        try:
            h.update(f"\0{f}\0".encode() + Path(f).read_bytes())
        except OSError:
            h.update(f"\0{f}\0unreadable".encode())   # _build reports it
    return h.hexdigest()[:32]


@functools.lru_cache(maxsize=8)
def load_knowledge_base(reference_table: str | None = None, extra_ontology: tuple[str, ...] = ()) -> KnowledgeBase:
    """Load and close the ontology once per process and configuration, from the on-disk cache when
    it holds this exact configuration (see cache_dir()).

    ``reference_table`` replaces the default progesterone reference table;
    ``extra_ontology`` adds Turtle files (e.g. a guidance extension) beside ours.
    Imports are resolved from the bundled files only: nothing is fetched.
    """
    folder = cache_dir()
    path = folder / f"knowledge-base-{_cache_key(reference_table, extra_ontology)}.pickle" if folder else None
    if path is not None and path.is_file():
        try:
            with path.open("rb") as fh:
                kb = pickle.load(fh)
            if isinstance(kb, KnowledgeBase):
                return kb
        except Exception as exc:  # a damaged or foreign cache file is rebuilt, never trusted
            log.info("ignoring unreadable knowledge-base cache %s: %s", path, exc)
    kb = _build_knowledge_base(reference_table, extra_ontology)
    if path is not None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("wb", dir=folder, delete=False, suffix=".tmp") as fh:
                pickle.dump(kb, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(fh.name, path)
        except OSError as exc:   # a read-only home still works, only slower
            log.info("cannot write the knowledge-base cache %s: %s", path, exc)
    return kb


def _build_knowledge_base(reference_table: str | None, extra_ontology: tuple[str, ...]) -> KnowledgeBase:
    onto = Graph()
    _parse_packaged("ontology", ONTOLOGY_FILES, onto)
    user_files = ([reference_table] if reference_table else []) + list(extra_ontology)
    if not reference_table:
        _parse_packaged("ontology", [REFERENCE_TABLE_FILE], onto)
    for f in user_files:
        try:
            onto.parse(f, format="turtle")
        except Exception as exc:
            raise UnreadableInputError(f"is not a readable Turtle ontology file: {exc}", source=str(f)) from None
    closure = Graph()
    for t in onto:
        closure.add(t)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(closure)
    errors = _closure_errors(closure)
    if errors:
        raise OntologyError("the ontology is inconsistent under OWL 2 RL: " + "; ".join(errors))
    reasoning_base = Graph()
    reasoning_base.addN((s, p, o, reasoning_base) for s, p, o in closure if _reasoning_relevant(closure, s, p, o))
    rules_base = Graph()
    rules_base.addN((s, p, o, rules_base) for s, p, o in closure if _rules_relevant(s, p, o))
    validation, rules = Graph(), Graph()
    _parse_packaged("shapes", VALIDATION_SHAPES, validation)
    _parse_packaged("shapes", RULE_SHAPES, rules)
    return KnowledgeBase(onto, closure, reasoning_base, rules_base, validation, rules)


_ANNOTATION_NAMESPACES = (str(SKOS), str(DCTERMS))


def _rules_relevant(s, p, o) -> bool:
    """Whether a triple of the ontology closure can matter to the SHACL shapes: everything but
    reflexive triples and documentation (definitions, comments, cross-references). Labels and the
    guidance's own annotations (codes, summary keys, evidence classes, ...) stay: the rules read them."""
    if s == o:
        return False
    return not (p in (RDFS.comment, OWL.versionInfo) or str(p).startswith(_ANNOTATION_NAMESPACES))


def _reasoning_relevant(closure: Graph, s, p, o) -> bool:
    """Whether a triple of the ontology closure can take part in OWL-RL inference about a patient.

    Left out: reflexive triples owlrl adds for every resource (x owl:sameAs x, C rdfs:subClassOf C, ...)
    and annotations (labels, definitions, cross-references, source sentences). Neither can derive a
    triple about a patient's nodes, and without them owlrl's per-patient closure is about twice as fast.
    ``tests/test_engine.py`` checks that the patient inferences are identical with the full closure.
    """
    return _rules_relevant(s, p, o) and p != RDFS.label and (p, RDF.type, OWL.AnnotationProperty) not in closure


@dataclass
class ReasoningResult:
    """What the engine derived for one patient."""

    dataset: Dataset
    asserted: Graph
    inferred: Graph
    work: Graph               # rules-relevant ontology closure + asserted + inferred: what the shapes saw
    inconsistencies: list[str]
    violations: list[dict]
    warnings: list[dict]

    @property
    def assessable(self) -> bool:
        return not self.inconsistencies and not self.violations


def _validation_problems(report: Graph, data: Graph) -> tuple[list[dict], list[dict]]:
    violations, warnings = [], []
    for r in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(r, SH.focusNode)
        path = report.value(r, SH.resultPath)
        severity = report.value(r, SH.resultSeverity)
        message = "; ".join(sorted(str(m) for m in report.objects(r, SH.resultMessage)))
        value = report.value(r, SH.value)
        source = data.value(focus, KGR.sourceRecord) if focus is not None else None
        item = {
            "severity": "violation" if severity == SH.Violation else "warning",
            "record": str(source) if source is not None else str(focus),
            "node": str(focus),
            "field": str(path) if path is not None else None,
            "value": str(value) if value is not None else None,
            "message": message,
        }
        (violations if severity == SH.Violation else warnings).append(item)
    key = lambda d: (d["node"], d["field"] or "", d["message"])  # noqa: E731
    return sorted(violations, key=key), sorted(warnings, key=key)


def reason(kb: KnowledgeBase, patient: URIRef, asserted_triples: Graph) -> ReasoningResult:
    """OWL-RL closure, then SHACL validation, then SHACL rules, for one patient."""
    ds = Dataset()
    onto = ds.graph(ONTOLOGY_GRAPH)
    onto.addN((s, p, o, onto) for s, p, o in kb.reasoning_base)
    asserted = ds.graph(URIRef(f"{patient}/graph/asserted"))
    asserted.addN((s, p, o, asserted) for s, p, o in asserted_triples)
    inferred = ds.graph(URIRef(f"{patient}/graph/inferred"))

    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(ds, destination=inferred)
    inconsistencies = _closure_errors(inferred)
    for t in list(inferred):
        s, p, o = t
        # owlrl's generalized triples with a literal subject ("7.0"^^xsd:decimal a xsd:decimal) are not RDF 1.1
        if isinstance(s, Literal) or (p in _TRIVIAL_REFLEXIVE and s == o) or t in kb.closure:
            inferred.remove(t)

    work = PreparedQueryGraph()
    for g in (kb.rules_base, asserted, inferred):
        work.addN((s, p, o, work) for s, p, o in g)
    violations: list[dict] = []
    warnings: list[dict] = []
    if not inconsistencies:
        conforms, report, _ = pyshacl.validate(work, shacl_graph=kb.validation_shapes, inference="none",
                                               advanced=True, allow_warnings=True)
        violations, warnings = _validation_problems(report, work)
    if not inconsistencies and not violations:
        before = len(work)
        pyshacl.shacl_rules(work, shacl_graph=kb.rule_shapes, inference="none", advanced=True,
                            iterate_rules=True, inplace=True)
        log.debug("SHACL rules added %d triples for %s", len(work) - before, patient)
        for t in work:
            if t not in kb.closure and t not in asserted:
                inferred.add(t)
    return ReasoningResult(ds, asserted, inferred, work, inconsistencies, violations, warnings)


def explanation_context(kb: KnowledgeBase, *graphs: Graph) -> Graph:
    """The ontology's own statements about the terms a patient's graphs mention
    (labels, codes, source sentences, advice, direct superclasses), two hops deep:
    with it, the patient's graphs answer the explanation queries on their own."""
    ctx = Graph()
    frontier = {n for g in graphs for t in g for n in (t[1], t[2]) if isinstance(n, URIRef)}
    seen: set = set()
    for _ in range(2):
        nxt = set()
        for term in frontier - seen:
            seen.add(term)
            for _s, p, o in kb.ontology.triples((term, None, None)):
                if isinstance(o, (URIRef, Literal)):
                    ctx.add((term, p, o))
                    if isinstance(o, URIRef):
                        nxt.add(o)
        frontier = nxt
    return ctx

