"""PROV-O provenance of an assessment and the rdflib views of it (dataset, graph, full graph, context),
each built on first use.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import PurePath

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, PROV, RDF, RDFS, XSD

from kg_reasoner._version import __version__
from kg_reasoner.explain.context import explanation_context
from kg_reasoner.namespaces import KGR
from kg_reasoner.reason.base import patient_dataset, patient_graphs
from kg_reasoner.reason.knowledge import KnowledgeBase, PreparedQueryGraph


class AssessmentGraphs(dict):
    """The rdflib views of one assessment, each built on first use:

    - ``dataset``: her asserted, inferred and provenance graphs (three named graphs);
    - ``context``: the ontology's statements about the terms they mention;
    - ``graph``: the three graphs plus the context (self-contained: what ``to_turtle`` prints);
    - ``full_graph``: what the rules saw (ontology closure + asserted + inferred).

    Writing a cohort to a store needs only the dataset, which is cheap."""

    def __init__(self, kb: KnowledgeBase, iri, asserted, inferred, work: Graph | None, activity: dict | None):
        super().__init__()
        self.kb, self.iri, self.asserted, self.inferred, self.work, self.activity = (
            kb,
            iri,
            asserted,
            inferred,
            work,
            activity,
        )

    def quads(self) -> Iterator[tuple]:
        """Her asserted, inferred and provenance triples as ``(s, p, o, graph name)``, the same as the
        dataset's, without building it (or keeping anything): what a store needs."""
        if "dataset" in self:
            yield from self["dataset"].quads((None, None, None, None))
            return
        graphs = patient_graphs(self.iri, self.asserted, self.inferred)
        for name, triples in graphs:
            for s, p, o in triples:
                yield s, p, o, name
        if self.activity is not None:
            name = URIRef(f"{self.iri}/graph/provenance")
            for s, p, o in provenance_triples(self.kb, self.iri, graphs[1][1], **self.activity):
                yield s, p, o, name

    def __missing__(self, name: str):
        kb = self.kb
        if name == "dataset":
            dataset, a, i = patient_dataset(self.iri, self.asserted, self.inferred)
            prov = dataset.graph(URIRef(f"{self.iri}/graph/provenance"))
            if self.activity is not None:
                for t in provenance_triples(kb, self.iri, i, **self.activity):
                    prov.add(t)
            value = dataset
        elif name == "context":
            value = explanation_context(
                kb,
                self["dataset"].graph(URIRef(f"{self.iri}/graph/asserted")),
                self["dataset"].graph(URIRef(f"{self.iri}/graph/inferred")),
            )
        elif name == "graph":
            value = Graph()
            ds = self["dataset"]
            for g in [ds.graph(URIRef(f"{self.iri}/graph/{n}")) for n in ("asserted", "inferred", "provenance")] + [
                self["context"]
            ]:
                value.addN((s, p, o, value) for s, p, o in g)
        elif name == "full_graph":
            value = self.work
            if value is None:
                value = PreparedQueryGraph()
                for g in (kb.rules_base, self.asserted, self.inferred):
                    value.addN((s, p, o, value) for s, p, o in g)
        else:
            raise KeyError(name)
        for prefix, ns in ontology_prefixes(kb):
            value.bind(prefix, ns, override=False)
        self[name] = value
        return value


@functools.lru_cache(maxsize=8)
def ontology_prefixes(kb: KnowledgeBase) -> tuple:
    """The prefixes the ontology files declare (kgr:, prg:, sct:, ...), for readable Turtle."""
    return tuple((p, n) for p, n in kb.ontology.namespaces() if p and not p.startswith(("ns", "_")))


def provenance_triples(
    kb: KnowledgeBase, iri, inferred: Iterable, engine: str, started, ended, source, as_of=None
) -> list:
    """PROV-O for one assessment: the activity (time, engine, package version, the ontology's
    version IRIs, the data it used, the time a retrospective assessment was made as of: ``kgr:assessedAsOf``)
    and the entities it generated (her inferred graph and every conclusion, criterion assessment, judgement
    and diagnosis in it)."""
    activity = URIRef(f"{iri}/assessment")
    agent = URIRef(f"https://w3id.org/kg-reasoner/software/{__version__}/{engine}")
    asserted_g, inferred_g = URIRef(f"{iri}/graph/asserted"), URIRef(f"{iri}/graph/inferred")
    out = [
        (activity, RDF.type, PROV.Activity),
        (activity, RDFS.label, Literal(f"kg-reasoner assessment of {iri}")),
        (activity, PROV.startedAtTime, Literal(started.isoformat(), datatype=XSD.dateTime)),
        (activity, PROV.endedAtTime, Literal(ended.isoformat(), datatype=XSD.dateTime)),
        (activity, PROV.wasAssociatedWith, agent),
        (activity, PROV.used, asserted_g),
        (agent, RDF.type, PROV.SoftwareAgent),
        (agent, RDFS.label, Literal(f"kg-reasoner {__version__}, {engine} engine")),
        (agent, OWL.versionInfo, Literal(__version__)),
        (asserted_g, RDF.type, PROV.Entity),
        (inferred_g, RDF.type, PROV.Entity),
        (inferred_g, PROV.wasGeneratedBy, activity),
        (inferred_g, PROV.wasDerivedFrom, asserted_g),
    ]
    if as_of is not None:  # (a day as an xsd:date, an instant as an xsd:dateTime)
        kind = XSD.dateTime if isinstance(as_of, datetime) else XSD.date
        out.append((activity, KGR.assessedAsOf, Literal(as_of.isoformat(), datatype=kind)))
    if source:
        # an entity named by a hash of where the data came from, labelled with the file's name only:
        # an export never carries a path of the machine that made it
        origin = URIRef("https://w3id.org/kg-reasoner/source/" + hashlib.sha256(source.encode()).hexdigest()[:24])
        out += [
            (asserted_g, PROV.hadPrimarySource, origin),
            (origin, RDF.type, PROV.Entity),
            (origin, RDFS.label, Literal(PurePath(source.split("#")[0]).name or source)),
        ]
    for version in sorted(set(kb.ontology.objects(None, OWL.versionIRI))):
        out += [(activity, PROV.used, version), (version, RDF.type, PROV.Entity)]
    for entity in sorted({s for s, p, o in inferred if p == RDF.type and o == PROV.Entity}):
        out.append((entity, KGR.assessedBy, activity))
        out.append((entity, PROV.wasGeneratedBy, activity))
    return out
