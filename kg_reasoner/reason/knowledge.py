"""The knowledge base: the guidance ontology closed once under OWL 2 RL, its shapes and rules, loaded
from package data and cached on disk (HMAC-checked, private to the user).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import importlib.util
import io
import logging
import os
import pickle
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import owlrl
import pyshacl
import rdflib
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS
from rdflib.plugins.sparql import prepareQuery

from kg_reasoner._version import __version__
from kg_reasoner.curation.authoring import authoring_findings, unparsed_rule
from kg_reasoner.curation.profile import profile_findings
from kg_reasoner.errors import GuidanceModuleError, OntologyError, UnreadableInputError
from kg_reasoner.guidance import (
    CORE_ONTOLOGY,
    CORE_VALIDATION,
    PACKAGED,
    PROGESTERONE,
    Guidance,
    public_id,
    read_document,
)
from kg_reasoner.reason.base import TRIVIAL_REFLEXIVE, closure_errors
from kg_reasoner.reason.owlrl_tables import compile_owlrl
from kg_reasoner.reason.shacl_rules import RuleSyntaxError, compile_rule_shapes
from kg_reasoner.reason.terms import known_iri

log = logging.getLogger(__name__)


ONTOLOGY_GRAPH = URIRef("https://w3id.org/kg-reasoner/graph/ontology-closure")

T = TypeVar("T")

#: Part of every cache key: raise it when what a cache file holds changes shape (the knowledge base's fields,
#: ``plans.freeze``, ``shacl_rules.Watch``) without a change of version.
CACHE_FORMAT = 11


@functools.lru_cache(maxsize=1024)
def _prepared(text: str):
    return prepareQuery(text)


class PreparedQueryGraph(Graph):
    """An rdflib Graph that parses each distinct SPARQL text once.

    pyshacl sends the same rule or constraint text for every focus node and
    rdflib would parse it again each time (about 80% of the SHACL rules' run
    time). Parsing is pure: the parsed query is reused, the evaluation is not.
    """

    def query(
        self,
        query_object,
        processor="sparql",
        result="sparql",
        initNs=None,  # noqa: N803
        initBindings=None,
        use_store_provided=True,
        **kwargs,
    ):  # noqa: N803
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
    #: The OWL 2 RL tables of ``reasoning_base`` for the fast engine, as ``(compile_owlrl(reasoning_base),)``
    #: (kept with the knowledge base: building them takes every process about 50 ms, reading them 5 ms);
    #: None: not computed, the engine compiles them.
    owl_tables: tuple | None = None


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
    h = hashlib.sha256(
        f"kg-reasoner {__version__} cache {CACHE_FORMAT} owlrl {owlrl.__version__} pyshacl {pyshacl.__version__}".encode()
    )
    h.update(_code_digest())
    h.update(f"\0guidance {guidance.name}\0".encode())
    user = ((reference_table,) if reference_table else ()) + tuple(extra_ontology)
    for part, docs in (
        ("ontology", guidance.ontology_documents(with_reference_table=not reference_table)),
        ("validation", CORE_VALIDATION),
        ("rules", guidance.rule_documents()),
        ("user", user),
    ):
        h.update(f"\0{part}\0".encode())
        for doc in docs:
            try:
                h.update(f"\0{doc}\0".encode() + read_document(doc).encode())
            except (OSError, ValueError):
                h.update(f"\0{doc}\0unreadable".encode())  # _build reports it
    return h.hexdigest()[:32]


@functools.lru_cache(maxsize=8)
def load_knowledge_base(
    reference_table: str | None = None, extra_ontology: tuple[str, ...] = (), guidance: Guidance = PROGESTERONE
) -> KnowledgeBase:
    """Load and close the ontology once per process and configuration, from the on-disk cache when
    it holds this exact configuration (see cache_dir()).

    ``guidance``: the guidance module loaded on the core (default: the bundled progesterone guidance);
    ``reference_table`` replaces its default reference table;
    ``extra_ontology`` adds Turtle files (e.g. a guidance extension) beside it.
    Imports are resolved from the bundled files only: nothing is fetched.
    """
    return _kept(
        lambda: f"knowledge-base-{_cache_key(reference_table, extra_ontology, guidance)}.pickle",
        lambda: _build_knowledge_base(reference_table, extra_ontology, guidance),
        KnowledgeBase,
    )


def cached(kind: str, text: str, build: Callable[[], T], expect: type) -> T:
    """``build()``, kept in the cache directory beside the knowledge bases (HMAC-checked, private to the user,
    as they are) under a hash of ``kind``, ``text`` (what it is computed from), this package's version,
    ``CACHE_FORMAT`` and the code that computes it (``_code_digest``): a process reads it there instead of
    computing it again. For what is slow to compute and read by every process, e.g. a library query's parsed
    algebra (parsing takes 10-60 ms a query, and every worker of a cohort run parses 10-25). Without a cache
    directory (KG_REASONER_CACHE_DIR=), ``build()``. A value that is not an ``expect`` is never returned from
    the file."""

    def name() -> str:
        h = hashlib.sha256(f"kg-reasoner {__version__} cache {CACHE_FORMAT} {kind}\0".encode())
        h.update(_code_digest() + b"\0" + text.encode())
        return f"{kind}-{h.hexdigest()[:32]}.pickle"

    return _kept(name, build, expect)


def _kept(name: Callable[[], str], build: Callable[[], T], expect: type) -> T:
    """The value of the cache file ``name()`` when it is there and verifies (``_read_cache``), else ``build()``,
    written there (``_write_cache``); without a cache directory, or one not private to the user, ``build()``
    (and the name is never worked out)."""
    folder = cache_dir()
    key = _cache_secret(folder) if folder else None
    if folder is None or key is None:
        return build()
    path = folder / name()
    if path.is_file():
        value = _read_cache(path, key, expect)
        if value is not None:
            return value
    value = build()
    payload = _write_cache(path, key, value)
    # (read back as the next process will read it: the same objects, one per IRI, in this process too)
    return pickle.loads(payload) if payload is not None else value


class _Pickler(pickle.Pickler):
    """Writes each IRI as a call of ``terms.known_iri``: read back (by plain ``pickle.loads``), every IRI of a
    cached value is the process's one object for it, shared with the code's namespaces and every other cached
    value, and the hot paths' sets and dicts compare IRIs by identity, not with rdflib's Python ``__eq__``."""

    def reducer_override(self, obj):
        return (known_iri, (str(obj),)) if type(obj) is URIRef else NotImplemented


def _pickled(value) -> bytes:
    out = io.BytesIO()
    _Pickler(out, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return out.getvalue()


def _write_cache(path: Path, key: bytes, value) -> bytes | None:
    """The value pickled into the cache file, behind its integrity tag (written whole, then renamed); returns
    the pickle. A value that cannot be written (a read-only home, a value that does not pickle) is only not
    cached (None): the caller has it, and nothing is left behind."""
    tmp = None
    try:
        payload = _pickled(value)
        with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False, suffix=".tmp") as fh:  # mode 0600
            tmp = fh.name
            fh.write(hmac.new(key, payload, hashlib.sha256).digest() + payload)
        os.replace(tmp, path)
        return payload
    except Exception as exc:  # (still works, only slower)
        log.info("cannot write the cache file %s: %s", path, exc)
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return None


#: The modules whose code makes what the caches hold (the knowledge base, its rules compiled with their
#: prefixes and its OWL 2 RL tables; a query's algebra frozen; a Watch).
_CACHED_BY = (
    "kg_reasoner.reason.plans",
    "kg_reasoner.reason.shacl_rules",
    "kg_reasoner.reason.terms",
    "kg_reasoner.reason.owlrl_tables",
    "kg_reasoner.reason.knowledge",
)


@functools.cache
def _code_digest() -> bytes:
    """A hash of the code that makes the cached values and of the parser's versions (rdflib, pyparsing): an
    edit to that code is a new key, even when the version and ``CACHE_FORMAT`` were left as they were."""
    # (rdflib's SPARQL parser, imported above, is built on pyparsing, rdflib's own dependency)
    pyparsing = getattr(sys.modules.get("pyparsing"), "__version__", "unknown")
    h = hashlib.sha256(f"rdflib {rdflib.__version__} pyparsing {pyparsing}".encode())
    for name in _CACHED_BY:
        spec = importlib.util.find_spec(name)
        try:
            h.update(f"\0{name}\0".encode() + Path(str(spec.origin if spec else "")).read_bytes())
        except OSError:  # (no source to read: the version stands for it)
            h.update(f"\0{name}\0{__version__}".encode())
    return h.digest()


#: The integrity tag in front of each cache file: HMAC-SHA256 under the cache directory's own secret key.
_TAG = hashlib.sha256().digest_size


def _private(path: Path, kind: str) -> bool:
    """Owned by the current user and neither group- nor world-writable (nor readable, for the key)."""
    if not hasattr(os, "getuid"):  # no POSIX owners (Windows): the user's profile protects it
        return True
    st = path.stat()
    if st.st_uid != os.getuid() or st.st_mode & 0o077:
        log.warning(
            "kg-reasoner: the cache %s %s is not private to this user (owner %s, mode %o); "
            "it is not used: remove it or set KG_REASONER_CACHE_DIR",
            kind,
            path,
            st.st_uid,
            st.st_mode & 0o777,
        )
        return False
    return True


def _cache_secret(folder: Path) -> bytes | None:
    """The cache directory's secret key (created 0700 / 0600 on first use), or None when the directory or
    its key is not private to this user: a cache anyone else can write is never loaded."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = folder.stat()
        if hasattr(os, "getuid") and st.st_uid == os.getuid() and st.st_mode & 0o077:
            folder.chmod(0o700)  # ours but open (an older version, a umask): closed; its files are still verified
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
        log.info("no cache in %s: %s", folder, exc)
        return None


def _read_cache(path: Path, key: bytes, expect: type = KnowledgeBase):
    """The cached knowledge base (or other ``expect``), only if the file is private to this user and its
    integrity tag verifies under the directory's key: a planted or altered file is never unpickled."""
    try:
        if not _private(path, "file"):
            return None
        data = path.read_bytes()
        tag, payload = data[:_TAG], data[_TAG:]
        if not hmac.compare_digest(tag, hmac.new(key, payload, hashlib.sha256).digest()):
            log.warning("kg-reasoner: the cache file %s fails its integrity check; it is computed again", path)
            return None
        value = pickle.loads(payload)
        return value if isinstance(value, expect) else None
    except Exception as exc:  # a damaged cache file is rebuilt, never trusted
        log.info("ignoring the unreadable cache file %s: %s", path, exc)
        return None


def _build_knowledge_base(
    reference_table: str | None, extra_ontology: tuple[str, ...], guidance: Guidance = PROGESTERONE
) -> KnowledgeBase:
    onto, module = Graph(), Graph()
    _parse_documents(CORE_ONTOLOGY + guidance.shared_documents(), onto)
    _parse_documents(guidance.authored_documents(with_reference_table=not reference_table), module)
    onto += module  # the module's blank nodes are the same in both graphs
    refuse = guidance.checked_at_load
    if refuse:  # an axiom neither engine would honour: refused before the closure is even computed
        _refuse(guidance, [f for f in profile_findings(onto, module) if f.blocking])
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
    errors = closure_errors(closure)
    if errors:
        raise OntologyError("the ontology is inconsistent under OWL 2 RL: " + "; ".join(errors))
    reasoning_base = Graph()
    reasoning_base.addN((s, p, o, reasoning_base) for s, p, o in closure if _reasoning_relevant(closure, s, p, o))
    rules_base = Graph()
    rules_base.addN((s, p, o, rules_base) for s, p, o in closure if _rules_relevant(s, p, o))
    validation, rules = Graph(), Graph()
    _parse_documents(CORE_VALIDATION, validation)
    _parse_documents(guidance.rule_documents(), rules)
    if refuse:  # an authoring error (read on the closure, each SPARQL text parsed once)
        view = PreparedQueryGraph(store=closure.store, identifier=closure.identifier)
        _refuse(guidance, [f for f in authoring_findings(view, module, rules) if f.blocking])
    try:
        compiled_rules = compile_rule_shapes(rules)
    except RuleSyntaxError as exc:  # (a module's rule that does not parse: refused by name, never a traceback)
        shape = exc.shape.n3(rules.namespace_manager) if isinstance(exc.shape, URIRef) else str(exc.shape)
        finding = unparsed_rule(shape, f'{shape} sh:rule [ sh:construct """...""" ]', "sh:construct", exc.reason)
        _refuse(guidance, [finding])
        raise
    return KnowledgeBase(
        onto,
        closure,
        reasoning_base,
        rules_base,
        validation,
        rules,
        compiled_rules,
        (compile_owlrl(reasoning_base),),
    )


def _refuse(guidance: Guidance, findings: list) -> None:
    if findings:
        names = ", ".join(Path(d).name if not d.startswith(PACKAGED) else d for d in guidance.module_documents())
        raise GuidanceModuleError(sorted(findings, key=lambda f: (f.term, f.axiom, f.message)), source=names)


_ANNOTATION_NAMESPACES = (str(SKOS), str(DCTERMS))


def _rules_relevant(s, p, o) -> bool:
    """Whether a triple of the ontology closure can matter to the SHACL shapes: everything but the
    reflexive triples owlrl adds for every resource (``TRIVIAL_REFLEXIVE``: x owl:sameAs x,
    C rdfs:subClassOf C, ...) and documentation (definitions, comments, cross-references). Labels and the
    guidance's own annotations (codes, summary keys, evidence classes, ...) stay: the rules read them. An
    axiom that happens to be reflexive stays too: ``ex:p owl:inverseOf ex:p`` makes ex:p symmetric,
    ``ex:C owl:disjointWith ex:C`` makes an instance of ex:C inconsistent (both were once dropped with the
    trivial ones; tests/test_owlrl_fuzz.py found it)."""
    if s == o and p in TRIVIAL_REFLEXIVE:
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
