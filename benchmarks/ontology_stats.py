"""Size of the bundled ontology: classes, properties, individuals and axioms. Prints figures.

python benchmarks/ontology_stats.py
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from rdflib import BNode, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LOGICAL = {
    RDFS.subClassOf,
    OWL.equivalentClass,
    OWL.disjointWith,
    RDFS.subPropertyOf,
    OWL.inverseOf,
    RDFS.domain,
    RDFS.range,
    OWL.differentFrom,
    OWL.sameAs,
}


def main() -> None:
    from kg_reasoner.reason.knowledge import load_knowledge_base

    kb = load_knowledge_base()
    g = kb.ontology
    named = lambda t: {s for s in g.subjects(RDF.type, t) if isinstance(s, URIRef)}  # noqa: E731
    classes, ind = named(OWL.Class), named(OWL.NamedIndividual)
    kinds = {
        "object properties": named(OWL.ObjectProperty),
        "datatype properties": named(OWL.DatatypeProperty),
        "annotation properties": named(OWL.AnnotationProperty),
    }
    annotation_props = kinds["annotation properties"] | {RDFS.label, RDFS.comment}
    counts = Counter()
    for s, p, o in g:
        if p in LOGICAL and isinstance(s, URIRef):
            counts["class/property axioms (named subject)"] += 1
        elif p in LOGICAL:
            counts["class axioms on class expressions (GCIs)"] += 1
        elif p == RDF.type and o in (OWL.FunctionalProperty, OWL.TransitiveProperty, OWL.SymmetricProperty):
            counts["property characteristics"] += 1
        elif (
            p == RDF.type
            and isinstance(s, URIRef)
            and o
            not in (
                OWL.Class,
                OWL.NamedIndividual,
                OWL.Ontology,
                OWL.ObjectProperty,
                OWL.DatatypeProperty,
                OWL.AnnotationProperty,
            )
        ):
            counts["class assertions"] += 1
        elif str(p).startswith((str(SKOS), str(DCTERMS))) or p in annotation_props:
            counts["annotations"] += 1
        elif (
            not str(p).startswith(str(OWL))
            and p not in (RDF.type, RDF.first, RDF.rest)
            and isinstance(s, URIRef)
            and not isinstance(o, BNode)
        ):
            counts["property assertions"] += 1
    restrictions = len(set(g.subjects(RDF.type, OWL.Restriction)))
    print(f"triples: {len(g)}; OWL-RL closure: {len(kb.closure)}")
    print(f"classes: {len(classes)}; individuals: {len(ind)}; " + "; ".join(f"{k}: {len(v)}" for k, v in kinds.items()))
    print(f"restrictions: {restrictions}; " + "; ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    print(f"logical axioms in all: {sum(v for k, v in counts.items() if k != 'annotations')}")


if __name__ == "__main__":
    main()
