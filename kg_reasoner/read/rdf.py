"""Patient data given as RDF (Turtle, N-Triples, JSON-LD without remote contexts), split into one
graph per patient, each holding only nodes she owns (one patient's facts never touch another's).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF
from rdflib.term import Node

from kg_reasoner.errors import InputError, PatientDataError, UnreadableInputError
from kg_reasoner.namespaces import KGR, PATIENT_BASE
from kg_reasoner.read.patient import PatientInput, json_loads, load_json
from kg_reasoner.read.summary import SummaryVocabulary

#: File suffixes read as RDF, with their rdflib parser.
RDF_FORMATS = {".ttl": "turtle", ".nt": "nt", ".jsonld": "json-ld", ".json-ld": "json-ld"}


def _check_no_remote_context(node: Any, path: Path) -> None:
    """JSON-LD contexts must be inline, at any depth: kg-reasoner never fetches a context, whether named
    by a string (a URL or a file path) in ``@context`` or by ``@import`` inside an inline context."""
    stack = [(node, "")]
    while stack:
        item, where = stack.pop()
        if isinstance(item, dict):
            for k, v in item.items():
                here = f"{where}/{k}"
                if k == "@import":
                    raise UnreadableInputError(
                        f"imports the JSON-LD context {v!r} (@import); kg-reasoner never fetches or reads a "
                        "context from elsewhere: put the context inline",
                        source=str(path),
                        field=here,
                    )
                if k == "@context":
                    for ctx in v if isinstance(v, list) else [v]:
                        if not isinstance(ctx, (dict, type(None))):
                            raise UnreadableInputError(
                                f"refers to the JSON-LD context {ctx!r}, which is not inline; kg-reasoner never "
                                "fetches from the network nor reads a context from elsewhere: put it inline",
                                source=str(path),
                                field=here,
                            )
                stack.append((v, here))
        elif isinstance(item, list):
            stack.extend((v, f"{where}/{i}") for i, v in enumerate(item))


def parse_rdf_file(path: Path) -> Graph:
    fmt = RDF_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UnreadableInputError(
            f"unknown file type {path.suffix!r}; use .json (patient summary), {', '.join(RDF_FORMATS)} (RDF)",
            source=str(path),
        )
    g = Graph()
    try:
        if fmt == "json-ld":
            data = json_loads(path.read_text(encoding="utf-8-sig"))
            _check_no_remote_context(data, path)
            g.parse(data=json.dumps(data), format="json-ld")
        else:
            g.parse(path, format=fmt)
    except InputError:
        raise
    except OSError as exc:
        raise UnreadableInputError(f"cannot be read: {exc.strerror or exc}", source=str(path)) from None
    except Exception as exc:  # rdflib raises many parser-specific exception types
        raise UnreadableInputError(f"is not valid {fmt}: {exc}", source=str(path)) from None
    return g


def split_patients(
    g: Graph, source: str, terms: frozenset = frozenset(), ontology: Graph | None = None
) -> list[PatientInput]:
    """One graph per kgr:Patient of an RDF file: the patient and every node reachable
    from her, never crossing into another patient nor into an ontology term (``terms``)."""
    patients = sorted(set(g.subjects(RDF.type, KGR.Patient)), key=str)
    if not patients:
        raise UnreadableInputError("contains no kgr:Patient", source=source)
    owner: dict = {}
    out = []
    for p in patients:
        pid = g.value(p, KGR.patientId)
        name = str(pid) if pid is not None else str(p)
        if not isinstance(p, URIRef):
            raise PatientDataError("a patient must be an IRI, not a blank node", source=source, patient=name)
        sub = Graph()
        # the nodes reached are IRIs or blank nodes (a record may be a blank node), not only IRIs
        todo: list[Node] = [p]
        seen: set[Node] = {p}
        while todo:
            node = todo.pop()
            for s, pr, o in g.triples((node, None, None)):
                sub.add((s, pr, o))
                if o in seen or isinstance(o, Literal) or pr == RDF.type or o in terms:
                    continue
                if (o, RDF.type, KGR.Patient) in g:
                    raise PatientDataError(f"links to another patient {o}", source=source, patient=name, field=str(pr))
                if (o, None, None) in g:
                    if owner.setdefault(o, p) != p:
                        raise PatientDataError(
                            f"record {o} is shared with patient {owner[o]}: one patient's facts "
                            "must never touch another's",
                            source=source,
                            patient=name,
                            field=str(o),
                        )
                    seen.add(o)
                    todo.append(o)
        check_own_nodes(sub, p, terms, source, name)
        out.append(PatientInput(name, p, sub, source))
    reached = {t for pi in out for t in pi.graph}
    stray = [t for t in g if t not in reached]
    for s_, p_, o_ in stray:  # facts about someone else's node are refused, not merely left out
        restated = ontology is not None and (s_, p_, o_) in ontology  # a term restated as the ontology says
        if (
            isinstance(s_, URIRef)
            and not restated
            and (s_ in terms or (str(s_).startswith(PATIENT_BASE) and not any(owns(pi.iri, s_) for pi in out)))
        ):
            what = "the ontology term" if s_ in terms else "a node of a patient this file does not hold"
            raise PatientDataError(
                f"states facts about {what} {s_}: a file's facts must be about its own patients",
                source=source,
                field=str(p_),
            )
    if stray:
        for pi in out:
            pi.data_problems.append(
                {
                    "severity": "warning",
                    "record": source,
                    "message": f"{len(stray)} triple(s) of {source} are not attached to any patient and were not used",
                }
            )
    return out


def owns(patient: URIRef, node: Any) -> bool:
    """Whether a node is the patient's own by its name: her IRI, an IRI under it, or a blank node."""
    return node == patient or isinstance(node, BNode) or str(node).startswith(f"{patient}/")


def foreign_nodes(graph: Graph | Iterable, patient: URIRef) -> set[URIRef]:
    """The IRIs a patient's graph (or triples) describes that are not named under her IRI (e.g.
    <urn:lab:123>): they must belong to no other patient of the run or the store."""
    prefix = f"{patient}/"
    plain = type(patient) is URIRef
    out: set = set()
    for s in {t[0] for t in graph}:  # (each subject once: a patient's graph names each in several triples)
        if type(s) is URIRef and plain:  # (``owns`` for two plain IRIs, without rdflib's __eq__)
            if not (str.__eq__(s, patient) or s.startswith(prefix)):
                out.add(s)
        elif isinstance(s, URIRef) and not owns(patient, s):
            out.add(s)
    return out


#: Characters an IRI cannot hold (RFC 3987), though a Turtle \u escape can smuggle them in.
_BAD_IRI = re.compile(r'[\x00-\x20<>"{}|\\^`]')


def check_own_nodes(graph: Graph, patient: URIRef, terms: frozenset, source: str, name: str) -> None:
    """One patient's file may state facts about her own nodes only: never about a node named under another
    patient's IRI (<patient/P01/...> in X's data), nor about a term of the ontology. Its IRIs must be
    valid IRIs and its typed literals well-formed (an ill-typed literal is named, never guessed)."""
    for s, p, o in graph:
        for node in (s, p, o):
            if isinstance(node, URIRef) and _BAD_IRI.search(node):
                raise PatientDataError(
                    f"{str(node)!r} is not a valid IRI (it holds a space or a character IRIs cannot hold)",
                    source=source,
                    patient=name,
                    field=str(p),
                )
        if isinstance(o, Literal) and o.ill_typed:
            raise PatientDataError(
                f"{str(o)!r} is not a valid {o.datatype} value", source=source, patient=name, field=str(p)
            )
        for node, role in ((s, "describes"), (o, "links to")):
            if not isinstance(node, URIRef) or owns(patient, node):
                continue
            rest = str(node)[len(PATIENT_BASE) :] if str(node).startswith(PATIENT_BASE) else ""
            if "/" in rest:
                raise PatientDataError(
                    f"{role} {node}, a node of patient {rest.split('/')[0]}: one patient's facts "
                    "must never touch another's",
                    source=source,
                    patient=name,
                    field=str(p),
                )
            if role == "describes" and node in terms:
                raise PatientDataError(
                    f"states facts about the ontology term {node}: a patient's data cannot change the guidance",
                    source=source,
                    patient=name,
                    field=str(p),
                )


def read_rdf(path: Path, vocabulary: SummaryVocabulary) -> Iterator[PatientInput | InputError]:
    try:
        g = _parse_jsonld_json(path) if path.suffix.lower() == ".json" else parse_rdf_file(path)
        yield from split_patients(g, str(path), vocabulary.terms, vocabulary.closure)
    except InputError as exc:
        yield exc


def _parse_jsonld_json(path: Path) -> Graph:
    data = load_json(path)
    _check_no_remote_context(data, path)
    g = Graph()
    try:
        g.parse(data=json.dumps(data, default=str), format="json-ld")
    except Exception as exc:
        raise UnreadableInputError(f"is not valid JSON-LD: {exc}", source=str(path)) from None
    return g
