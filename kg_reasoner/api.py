"""Python API: ``assess`` one patient, ``assess_many`` a cohort, or hold a ``Reasoner``."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Iterable, Iterator

from rdflib import Dataset, Graph

from kg_reasoner.assessment import Assessment
from kg_reasoner.engine import KnowledgeBase, explanation_context, load_knowledge_base, reason
from kg_reasoner.errors import InputError, PatientDataError
from kg_reasoner.explain import explain
from kg_reasoner.fhir import FhirVocabulary, bundle_resources, read_fhir
from kg_reasoner.loader import (PatientInput, SummaryReader, SummaryVocabulary, iter_input_files, read_file,
                                split_patients)

PathLike = str | Path


class Reasoner:
    """The guidance knowledge base loaded once, ready to assess patients.

    ``reference_table``: a Turtle file replacing the default serum progesterone
    reference table. ``extra_ontology``: Turtle files loaded beside the bundled
    ontology (e.g. a new cause progesterone cannot address).
    """

    def __init__(self, reference_table: PathLike | None = None, extra_ontology: Iterable[PathLike] = ()):
        self.kb: KnowledgeBase = load_knowledge_base(
            str(reference_table) if reference_table else None, tuple(str(p) for p in extra_ontology))
        self.reader = SummaryReader(_vocabulary(self.kb))
        self.fhir = _fhir_vocabulary(self.kb)

    # -- inputs ---------------------------------------------------------------
    def read(self, data: Any, source: str | None = None) -> list[PatientInput]:
        """Patients of a path, a patient-summary dict (or list of dicts), or an rdflib Graph."""
        if isinstance(data, Graph):
            return split_patients(data, source or "<graph>", self.reader.v.terms)
        if isinstance(data, dict) and "resourceType" in data:
            return _all_or_raise(read_fhir(bundle_resources(data, source or "<bundle>"), self.fhir,
                                           source or "<bundle>"))
        if isinstance(data, dict):
            return [self.reader.read(data, source or "<dict>")]
        if isinstance(data, list):
            return [self.reader.read(item, source or "<list>", f"/{i}") for i, item in enumerate(data)]
        if isinstance(data, (str, Path)):
            return _all_or_raise(self.read_many([data]))
        raise TypeError(f"cannot assess a {type(data).__name__}: give a path, a dict or an rdflib Graph")

    # -- reasoning ------------------------------------------------------------
    def assess_input(self, pi: PatientInput) -> Assessment:
        result = reason(self.kb, pi.iri, pi.graph)
        context = explanation_context(self.kb, result.asserted, result.inferred)
        graph = Graph()
        for g in (result.asserted, result.inferred, context):
            graph.addN((s, p, o, graph) for s, p, o in g)
        problems = [{"severity": "error", "record": pi.source, "node": str(pi.iri), "field": None, "value": None,
                     "message": f"the patient graph is inconsistent under OWL 2 RL: {m}"}
                    for m in result.inconsistencies]
        problems += result.violations + result.warnings + list(pi.data_problems)
        e = explain(graph, pi.iri)
        patient_graphs = Dataset()
        for g in (result.asserted, result.inferred):
            target = patient_graphs.graph(g.identifier)
            target.addN((s, p, o, target) for s, p, o in g)
        assessed = result.assessable and e["status"] is not None
        return Assessment(
            patient=pi.patient_id,
            iri=pi.iri,
            source=pi.source,
            status=e["status"] if assessed else None,
            status_label=e["status_label"] if assessed else None,
            rules=sorted(r["id"] for r in e["fired"] if r["kind"] == "status"),
            fired_rules=e["fired"],
            diagnosis=e["diagnoses"],
            criteria=e["criteria"],
            missing=sorted(m["criterion"] for m in e["missing"]),
            missing_details=e["missing"],
            flags=sorted(f["flag"] for f in e["flags"]),
            flag_details=e["flags"],
            advice=e["advice"],
            rule_states=e["rule_states"],
            unassessed_causes=e["unassessed_causes"],
            ignored_results=e["ignored_results"] if assessed else [],
            superseded_results=e["superseded_results"] if assessed else [],
            data_problems=problems,
            dataset=patient_graphs,
            graph=graph,
            full_graph=result.work,
            context=context,
        )

    def assess(self, data: Any, source: str | None = None) -> Assessment:
        patients = self.read(data, source)
        if len(patients) != 1:
            raise PatientDataError(f"holds {len(patients)} patients; use assess_many() for several",
                                   source=source or (str(data) if isinstance(data, (str, Path)) else None))
        return self.assess_input(patients[0])

    def read_many(self, inputs: Iterable[Any]) -> Iterator[PatientInput | InputError]:
        """Every patient of every input (paths, directories, dicts, graphs), read but not yet assessed,
        or the InputError of what could not be read."""
        for item in inputs:
            if isinstance(item, (str, Path)):
                for path in iter_input_files([item]):
                    yield from read_file(path, self.reader, self.fhir)
            else:
                try:
                    yield from self.read(item)
                except InputError as exc:
                    yield exc

    def assess_many(self, inputs: Iterable[Any]) -> Iterator[Assessment | InputError]:
        """Assess every patient of every input (paths, directories, dicts, graphs).

        Yields an Assessment per patient, or the InputError of a file or patient
        that could not be read; the other patients are still assessed.
        """
        for pi in self.read_many(inputs):
            yield pi if isinstance(pi, InputError) else self.assess_input(pi)


def _all_or_raise(items: Iterable[PatientInput | InputError]) -> list[PatientInput]:
    """Every patient read, or the first error: a single assess() call has no other patient to go on with."""
    out = []
    for item in items:
        if isinstance(item, InputError):
            raise item
        out.append(item)
    return out


@functools.lru_cache(maxsize=8)
def _vocabulary(kb: KnowledgeBase) -> SummaryVocabulary:
    return SummaryVocabulary(kb.closure)


@functools.lru_cache(maxsize=8)
def _fhir_vocabulary(kb: KnowledgeBase) -> FhirVocabulary:
    return FhirVocabulary(kb.closure)


@functools.lru_cache(maxsize=1)
def _default_reasoner() -> Reasoner:
    return Reasoner()


def assess(data: Any, *, reference_table: PathLike | None = None,
           extra_ontology: Iterable[PathLike] = ()) -> Assessment:
    """Assess one patient given as a path (patient summary JSON, Turtle, N-Triples or
    JSON-LD), a patient-summary dict, or an rdflib Graph in the ontology's vocabulary."""
    reasoner = _default_reasoner() if not reference_table and not extra_ontology else \
        Reasoner(reference_table, extra_ontology)
    return reasoner.assess(data)


def assess_many(inputs: Iterable[Any], *, reference_table: PathLike | None = None,
                extra_ontology: Iterable[PathLike] = ()) -> Iterator[Assessment | InputError]:
    reasoner = _default_reasoner() if not reference_table and not extra_ontology else \
        Reasoner(reference_table, extra_ontology)
    return reasoner.assess_many(inputs)
