"""What the explanation queries run on: the patient's graphs plus the ontology (or just the ontology's
statements about the terms her graphs mention, for a self-contained export).
"""

from __future__ import annotations

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from kg_reasoner.reason.knowledge import KnowledgeBase


def explanation_context(kb: KnowledgeBase, *graphs: Graph) -> Graph:
    """The ontology's own statements about the terms a patient's graphs mention
    (labels, codes, source sentences, advice, direct superclasses), two hops deep,
    and the ontology's links to those terms (e.g. the rule a criterion belongs to):
    with it, the patient's graphs answer the explanation queries on their own."""
    ctx = Graph()
    frontier = {n for g in graphs for t in g for n in (t[1], t[2]) if isinstance(n, URIRef)}
    for term in list(frontier):
        for s, p, _o in kb.ontology.triples((None, None, term)):
            if isinstance(s, URIRef) and not str(p).startswith(_SCHEMA_NAMESPACES):
                ctx.add((s, p, term))
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


_SCHEMA_NAMESPACES = (str(RDF), str(RDFS), str(OWL))
