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
import hmac
import logging
import os
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path

import owlrl
import pyshacl
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.plugins.sparql import prepareQuery
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SH, SKOS, XSD

from kg_reasoner.errors import OntologyError, UnreadableInputError
from kg_reasoner.namespaces import ERR, KGR
from kg_reasoner.guidance import CORE_VALIDATION, PROGESTERONE, Guidance, public_id, read_document

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


def _parse_documents(docs, into: Graph) -> None:
    for doc in docs:
        try:
            text = read_document(doc)
            into.parse(data=text, format="turtle", publicID=public_id(doc))
        except Exception as exc:
            raise UnreadableInputError(f"is not a readable Turtle file of the guidance: {exc}", source=doc) from None


@dataclass(frozen=True, eq=False)
class KnowledgeBase:
    """The ontology (asserted and closed) and the two shape graphs."""

    ontology: Graph
    closure: Graph
    reasoning_base: Graph
    rules_base: Graph
    validation_shapes: Graph
    rule_shapes: Graph
    #: The SHACL rules compiled for the fast engine (None: it runs them with pySHACL).
    rule_programs: list | None = None


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


def _cache_key(reference_table: str | None, extra_ontology: tuple[str, ...], guidance: Guidance = PROGESTERONE) -> str:
    """A hash of everything the knowledge base is built from: a change to any of it is a new key."""
    from kg_reasoner import __version__
    h = hashlib.sha256(f"kg-reasoner {__version__} cache 5 owlrl {owlrl.__version__} pyshacl {pyshacl.__version__}".encode())
    h.update(f"\0guidance {guidance.name}\0".encode())
    user = ((reference_table,) if reference_table else ()) + tuple(extra_ontology)
    for part, docs in (("ontology", guidance.ontology_documents(with_reference_table=not reference_table)),
                       ("validation", CORE_VALIDATION), ("rules", guidance.rule_documents()), ("user", user)):
        h.update(f"\0{part}\0".encode())
        for doc in docs:
            try:
                h.update(f"\0{doc}\0".encode() + read_document(doc).encode())
            except (OSError, ValueError):
                h.update(f"\0{doc}\0unreadable".encode())   # _build reports it
    return h.hexdigest()[:32]


@functools.lru_cache(maxsize=8)
def load_knowledge_base(reference_table: str | None = None, extra_ontology: tuple[str, ...] = (),
                        guidance: Guidance = PROGESTERONE) -> KnowledgeBase:
    """Load and close the ontology once per process and configuration, from the on-disk cache when
    it holds this exact configuration (see cache_dir()).

    ``guidance``: the guidance module loaded on the core (default: the bundled progesterone guidance);
    ``reference_table`` replaces its default reference table;
    ``extra_ontology`` adds Turtle files (e.g. a guidance extension) beside it.
    Imports are resolved from the bundled files only: nothing is fetched.
    """
    folder = cache_dir()
    path = folder / f"knowledge-base-{_cache_key(reference_table, extra_ontology, guidance)}.pickle" if folder else None
    key = _cache_secret(folder) if folder else None
    if path is not None and key is not None and path.is_file():
        kb = _read_cache(path, key)
        if kb is not None:
            return kb
    kb = _build_knowledge_base(reference_table, extra_ontology, guidance)
    if path is not None and key is not None:
        try:
            payload = pickle.dumps(kb, protocol=pickle.HIGHEST_PROTOCOL)
            with tempfile.NamedTemporaryFile("wb", dir=folder, delete=False, suffix=".tmp") as fh:   # mode 0600
                fh.write(hmac.new(key, payload, hashlib.sha256).digest() + payload)
            os.replace(fh.name, path)
        except OSError as exc:   # a read-only home still works, only slower
            log.info("cannot write the knowledge-base cache %s: %s", path, exc)
    return kb


#: The integrity tag in front of each cache file: HMAC-SHA256 under the cache directory's own secret key.
_TAG = hashlib.sha256().digest_size


def _private(path: Path, kind: str) -> bool:
    """Owned by the current user and neither group- nor world-writable (nor readable, for the key)."""
    if not hasattr(os, "getuid"):       # no POSIX owners (Windows): the user's profile protects it
        return True
    st = path.stat()
    if st.st_uid != os.getuid() or st.st_mode & 0o077:
        log.warning("kg-reasoner: the knowledge-base cache %s %s is not private to this user (owner %s, mode %o); "
                    "it is not used: remove it or set KG_REASONER_CACHE_DIR", kind, path, st.st_uid,
                    st.st_mode & 0o777)
        return False
    return True


def _cache_secret(folder: Path) -> bytes | None:
    """The cache directory's secret key (created 0700 / 0600 on first use), or None when the directory or
    its key is not private to this user: a cache anyone else can write is never loaded."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = folder.stat()
        if hasattr(os, "getuid") and st.st_uid == os.getuid() and st.st_mode & 0o077:
            folder.chmod(0o700)    # ours but open (an older version, a umask): closed; its files are still verified
        if not _private(folder, "directory"):
            return None
        key_file = folder / "cache.key"
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(os.urandom(32))
        if not _private(key_file, "key"):
            return None
        key = key_file.read_bytes()
        return key if len(key) == 32 else None
    except OSError as exc:
        log.info("no knowledge-base cache in %s: %s", folder, exc)
        return None


def _read_cache(path: Path, key: bytes) -> KnowledgeBase | None:
    """The cached knowledge base, only if the file is private to this user and its integrity tag verifies
    under the directory's key: a planted or altered file is never unpickled."""
    try:
        if not _private(path, "file"):
            return None
        data = path.read_bytes()
        tag, payload = data[:_TAG], data[_TAG:]
        if not hmac.compare_digest(tag, hmac.new(key, payload, hashlib.sha256).digest()):
            log.warning("kg-reasoner: the knowledge-base cache file %s fails its integrity check; it is rebuilt", path)
            return None
        kb = pickle.loads(payload)
        return kb if isinstance(kb, KnowledgeBase) else None
    except Exception as exc:  # a damaged cache file is rebuilt, never trusted
        log.info("ignoring unreadable knowledge-base cache %s: %s", path, exc)
        return None


def _build_knowledge_base(reference_table: str | None, extra_ontology: tuple[str, ...],
                          guidance: Guidance = PROGESTERONE) -> KnowledgeBase:
    onto = Graph()
    _parse_documents(guidance.ontology_documents(with_reference_table=not reference_table), onto)
    user_files = ([reference_table] if reference_table else []) + list(extra_ontology)
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
    _parse_documents(CORE_VALIDATION, validation)
    _parse_documents(guidance.rule_documents(), rules)
    from kg_reasoner.fast import compile_rule_shapes
    return KnowledgeBase(onto, closure, reasoning_base, rules_base, validation, rules, compile_rule_shapes(rules))


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


def problem_record(severity, focus, path, value, messages, source) -> dict:
    """One validation result as a data problem naming the record and the field."""
    return {
        "severity": "violation" if severity == SH.Violation else "warning",
        "record": str(source) if source is not None else str(focus),
        "node": str(focus),
        "field": str(path) if path is not None else None,
        "value": str(value) if value is not None else None,
        "message": "; ".join(sorted(str(m) for m in messages)),
    }


def _problem_key(d: dict) -> tuple:
    return d["node"], d["field"] or "", d["message"], d["value"] or ""


def _validation_problems(report: Graph, data: Graph) -> tuple[list[dict], list[dict]]:
    violations, warnings = [], []
    # the report's own results only: a nested shape's results hang below them as sh:detail and are
    # already said by the result that holds them (the fast engine reports them the same way)
    for r in report.objects(None, SH.result):
        focus = report.value(r, SH.focusNode)
        severity = report.value(r, SH.resultSeverity)
        item = problem_record(severity, focus, report.value(r, SH.resultPath), report.value(r, SH.value),
                              list(report.objects(r, SH.resultMessage)),
                              data.value(focus, KGR.sourceRecord) if focus is not None else None)
        (violations if severity == SH.Violation else warnings).append(item)
    return sorted(violations, key=_problem_key), sorted(warnings, key=_problem_key)


def owl_inferred_filter(kb: KnowledgeBase, t, asserted) -> bool:
    """Whether a triple the OWL-RL closure derived belongs in the patient's inferred graph: not
    asserted, not the ontology's own, not a generalized triple with a literal subject
    ("7.0"^^xsd:decimal a xsd:decimal is not RDF 1.1), not a reflexive triple owlrl adds for every
    resource (x owl:sameAs x), and not one of owlrl's axioms about the XSD datatypes it saw.
    (``kb=None``: the caller has already left out the ontology's own triples.)"""
    s, p, o = t
    return not (isinstance(s, Literal) or (p in _TRIVIAL_REFLEXIVE and s == o) or str(s).startswith(_XSD)
                or t in asserted or (kb is not None and t in kb.closure))


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
    errors = _closure_errors(inferred)
    return [t for t in inferred if owl_inferred_filter(kb, t, asserted)], errors


def _work_graph(kb: KnowledgeBase, asserted, owl) -> PreparedQueryGraph:
    work = PreparedQueryGraph()
    work.addN((s, p, o, work) for s, p, o in kb.rules_base)
    work.addN((s, p, o, work) for s, p, o in asserted)
    work.addN((s, p, o, work) for s, p, o in owl)
    return work


def reference_validation(kb: KnowledgeBase, asserted, owl, work: Graph | None = None):
    """pySHACL validation of the patient's graph (asserted + OWL-RL inferred + ontology)."""
    work = work if work is not None else _work_graph(kb, asserted, owl)
    _conforms, report, _ = pyshacl.validate(work, shacl_graph=kb.validation_shapes, inference="none",
                                            advanced=True, allow_warnings=True)
    return _validation_problems(report, work)


def reference_rules(kb: KnowledgeBase, asserted, owl, work: Graph | None = None) -> list:
    """pySHACL's SHACL rules over the patient's graph: the triples they derive."""
    work = work if work is not None else _work_graph(kb, asserted, owl)
    before = set(work)
    pyshacl.shacl_rules(work, shacl_graph=kb.rule_shapes, inference="none", advanced=True,
                        iterate_rules=True, inplace=True)
    return [t for t in work if t not in before]


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
    stages: dict

    @property
    def assessable(self) -> bool:
        return not self.inconsistencies and not self.violations


def patient_dataset(patient: URIRef, asserted, inferred) -> tuple[Dataset, Graph, Graph]:
    """The patient's asserted and inferred triples as two named graphs of one dataset: what is exported
    (TriG, Turtle) and stored. An inferred link to one of the ontology's anonymous class expressions
    (``<patient> a [ owl:intersectionOf (...) ]``) is left out: outside the ontology that blank node is
    a fresh, undescribed node, so the export would not say what the store says (issue 12, item 12).
    The rules saw it; the named classes it entails are kept."""
    ds = Dataset()
    a = ds.graph(URIRef(f"{patient}/graph/asserted"))
    a.addN((s, p, o, a) for s, p, o in asserted)
    own = {s for s, _, _ in asserted} | {s for s, _, _ in inferred}
    i = ds.graph(URIRef(f"{patient}/graph/inferred"))
    i.addN((s, p, o, i) for s, p, o in inferred if not (isinstance(o, BNode) and o not in own))
    return ds, a, i


def reason(kb: KnowledgeBase, patient: URIRef, asserted_triples: Graph) -> ReasoningResult:
    """The reference engine: owlrl's OWL-RL closure, then pySHACL validation, then pySHACL's SHACL
    rules, for one patient. Inferred literals are given their canonical form (``canonical_literal``)."""
    from kg_reasoner.fast import canonical_literal
    owl, inconsistencies = reference_owl(kb, asserted_triples)
    work = _work_graph(kb, asserted_triples, owl)
    violations: list[dict] = []
    warnings: list[dict] = []
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
    inferred.update((s, p, canonical_literal(o)) for s, p, o in derived
                    if (s, p, o) not in kb.closure and (s, p, o) not in asserted_triples)
    ds, asserted, inferred_graph = patient_dataset(patient, asserted_triples, inferred)
    return ReasoningResult(ds, asserted, inferred_graph, work, sorted(inconsistencies), violations, warnings,
                           stages)


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


def explanation_graph(kb: KnowledgeBase, *graphs: Graph) -> Graph:
    """What the explanation queries run on: the patient's graphs and the whole ontology
    (as the fast engine's store holds them)."""
    g = Graph()
    for src in (kb.ontology, *graphs):
        g.addN((s, p, o, g) for s, p, o in src)
    return g
