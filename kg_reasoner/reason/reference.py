"""The reference engine: owlrl's OWL-RL closure, then pySHACL validation, then pySHACL's SHACL rules,
one patient at a time (the design card's pipeline, which the fast engine must always agree with).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import owlrl
import pyshacl
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import SH, XSD

from kg_reasoner.explain.queries import run_query
from kg_reasoner.explain.records import DataProblem
from kg_reasoner.namespaces import KGR
from kg_reasoner.read.patient import patient_graph
from kg_reasoner.reason.base import (
    TRIVIAL_REFLEXIVE,
    Derivation,
    closure_errors,
    distinct_problems,
    patient_dataset,
    problem_record,
)
from kg_reasoner.reason.knowledge import ONTOLOGY_GRAPH, KnowledgeBase, PreparedQueryGraph
from kg_reasoner.reason.terms import canonical_literal

log = logging.getLogger(__name__)


def validation_problems(report: Graph, data: Graph) -> tuple[list[DataProblem], list[DataProblem]]:
    violations: list[DataProblem] = []
    warnings: list[DataProblem] = []
    # the report's own results only: a nested shape's results hang below them as sh:detail and are
    # already said by the result that holds them (the fast engine reports them the same way)
    for r in report.objects(None, SH.result):
        focus = report.value(r, SH.focusNode)
        severity = report.value(r, SH.resultSeverity)
        item = problem_record(
            severity,
            focus,
            report.value(r, SH.resultPath),
            report.value(r, SH.value),
            list(report.objects(r, SH.resultMessage)),
            data.value(focus, KGR.sourceRecord) if focus is not None else None,
        )
        (violations if severity == SH.Violation else warnings).append(item)
    return distinct_problems(violations), distinct_problems(warnings)


def owl_inferred_filter(kb: KnowledgeBase | None, t, asserted) -> bool:
    """Whether a triple the OWL-RL closure derived belongs in the patient's inferred graph: not
    asserted, not the ontology's own, not a generalized triple with a literal subject
    ("7.0"^^xsd:decimal a xsd:decimal is not RDF 1.1), not a reflexive triple owlrl adds for every
    resource (x owl:sameAs x), and not one of owlrl's axioms about the XSD datatypes it saw.
    (``kb=None``: the caller has already left out the ontology's own triples.)"""
    return bool(owl_inferred((t,), asserted, kb.closure if kb is not None else ()))


def owl_inferred(triples, asserted, closure=()) -> list:
    """The triples of ``triples`` that ``owl_inferred_filter`` keeps (``closure``: the ontology's own triples,
    left out too), tested in one pass: the fast engine's closure of each patient, without a call per triple."""
    xsd = _XSD
    return [
        t
        for t in triples
        if not (
            (type(t[0]) is not URIRef and isinstance(t[0], Literal))  # (an IRI first: rdflib's isinstance is slow)
            or t in asserted
            or t in closure
            or (t[1] in TRIVIAL_REFLEXIVE and t[0] == t[2])
            or str(t[0]).startswith(xsd)
        )
    ]


_XSD = str(XSD)


def reference_owl(kb: KnowledgeBase, asserted: Graph) -> tuple[list, list[str]]:
    """owlrl's closure of the reasoning-relevant ontology and the patient's triples:
    the patient's inferred triples and owlrl's inconsistency messages."""
    ds = Dataset()
    onto = ds.graph(ONTOLOGY_GRAPH)
    onto.addN((s, p, o, onto) for s, p, o in kb.reasoning_base)
    a = ds.graph(URIRef("urn:kg-reasoner:asserted"))
    a.addN((s, p, o, a) for s, p, o in asserted)
    inferred = ds.graph(URIRef("urn:kg-reasoner:inferred"))
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(ds, destination=inferred)
    errors = closure_errors(inferred)
    return [t for t in inferred if owl_inferred_filter(kb, t, asserted)], errors


def work_graph(kb: KnowledgeBase, asserted, owl) -> PreparedQueryGraph:
    work = PreparedQueryGraph()
    work.addN((s, p, o, work) for s, p, o in kb.rules_base)
    work.addN((s, p, o, work) for s, p, o in asserted)
    work.addN((s, p, o, work) for s, p, o in owl)
    return work


def reference_validation(kb: KnowledgeBase, asserted, owl, work: Graph | None = None):
    """pySHACL validation of the patient's graph (asserted + OWL-RL inferred + ontology)."""
    work = work if work is not None else work_graph(kb, asserted, owl)
    _conforms, report, _ = pyshacl.validate(
        work, shacl_graph=kb.validation_shapes, inference="none", advanced=True, allow_warnings=True
    )
    return validation_problems(report, work)


def reference_rules(kb: KnowledgeBase, asserted, owl, work: Graph | None = None) -> list:
    """pySHACL's SHACL rules over the patient's graph: the triples they derive."""
    work = work if work is not None else work_graph(kb, asserted, owl)
    before = set(work)
    pyshacl.shacl_rules(
        work, shacl_graph=kb.rule_shapes, inference="none", advanced=True, iterate_rules=True, inplace=True
    )
    return [t for t in work if t not in before]


@dataclass
class ReasoningResult:
    """What the engine derived for one patient."""

    dataset: Dataset
    asserted: Graph
    inferred: Graph
    work: Graph  # rules-relevant ontology closure + asserted + inferred: what the shapes saw
    inconsistencies: list[str]
    violations: list[DataProblem]
    warnings: list[DataProblem]
    stages: dict

    @property
    def assessable(self) -> bool:
        return not self.inconsistencies and not self.violations


def reason(kb: KnowledgeBase, patient: URIRef, asserted_triples: Graph) -> ReasoningResult:
    """The reference engine: owlrl's OWL-RL closure, then pySHACL validation, then pySHACL's SHACL
    rules, for one patient. Inferred literals are given their canonical form (``canonical_literal``)."""
    owl, inconsistencies = reference_owl(kb, asserted_triples)
    work = work_graph(kb, asserted_triples, owl)
    violations: list[DataProblem] = []
    warnings: list[DataProblem] = []
    derived: list = []
    stages = {"owl": "owlrl"}
    if not inconsistencies:
        violations, warnings = reference_validation(kb, asserted_triples, owl, work)
        stages["validation"] = "pyshacl"
    if not inconsistencies and not violations:
        derived = reference_rules(kb, asserted_triples, owl, work)
        stages["rules"] = "pyshacl"
        log.debug("SHACL rules added %d triples for %s", len(derived), patient)
    # an inconsistent patient keeps no inferred graph: nothing derived from contradictory data is
    # trusted or exported (the inconsistency is her data problem), in both engines alike
    inferred = set() if inconsistencies else {(s, p, canonical_literal(o)) for s, p, o in owl}
    inferred.update(
        (s, p, canonical_literal(o))
        for s, p, o in derived
        if (s, p, o) not in kb.closure and (s, p, o) not in asserted_triples
    )
    ds, asserted, inferred_graph = patient_dataset(patient, asserted_triples, inferred)
    return ReasoningResult(ds, asserted, inferred_graph, work, sorted(inconsistencies), violations, warnings, stages)


def query_graph(kb: KnowledgeBase, *graphs: Graph) -> Graph:
    """What the library queries run on: the patient's graphs and the whole ontology (as the fast
    engine's store holds them)."""
    g = Graph()
    for src in (kb.ontology, *graphs):
        g.addN((s, p, o, g) for s, p, o in src)
    return g


class ReferenceEngine:
    """The reference engine behind the ``Engine`` interface; its stages are also what the fast engine
    hands a part it cannot compile to."""

    name = "reference"

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb

    def owl(self, asserted) -> tuple[list, list[str]]:
        return reference_owl(self.kb, asserted)

    def validation(self, asserted, owl) -> tuple[list[DataProblem], list[DataProblem]]:
        return reference_validation(self.kb, asserted, owl)

    def rules(self, asserted, owl) -> list:
        return reference_rules(self.kb, asserted, owl)

    @contextlib.contextmanager
    def session(
        self, patient: URIRef, asserted: Graph | Sequence, demand: frozenset | None = None
    ) -> Iterator[Derivation]:
        """Derive one patient (every rule: ``demand``, the queries the caller will run, is not used);
        ``asserted``: her Graph or her triples."""
        if not isinstance(asserted, Graph):
            asserted = patient_graph(asserted)
        r = reason(self.kb, patient, asserted)
        graph = query_graph(self.kb, r.asserted, r.inferred)

        def query(name: str, **bindings):
            return run_query(name, graph, **bindings)

        yield Derivation(
            r.asserted,
            r.inferred,
            r.inconsistencies,
            r.violations,
            r.warnings,
            dict(r.stages, explain="rdflib"),
            query,
            r.work,
        )
