"""What every cohort store shares, embedded (``cohort.store``) or on a SPARQL server (``cohort.remote``):
the layout of its graphs, the writing of patients in batches with the check that no patient's data
describes another patient's node, and the conversion of results.

Layout: the ontology in its own named graph, loaded once (replaced when the ontology changes); each
patient's asserted, inferred and provenance triples in her three named graphs
(``<patient>/graph/asserted``, ``/graph/inferred``, ``/graph/provenance``); re-assessing a patient
replaces them. Queries see the union of all graphs as their default graph.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from typing import Any

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL
from rdflib.term import Node

from kg_reasoner.errors import InputError, KgReasonerError
from kg_reasoner.explain.guard import QueryPlan, inspect_query
from kg_reasoner.explain.results import QueryResult
from kg_reasoner.reason.terms import from_ox, to_ox

ONTOLOGY_GRAPH = ox.NamedNode("https://w3id.org/kg-reasoner/graph/ontology")


#: the store's own graph: which ontology it holds
META_GRAPH = ox.NamedNode("https://w3id.org/kg-reasoner/graph/store")


LOADED = ox.NamedNode("https://w3id.org/kg-reasoner/ontology#loadedOntologyVersion")


class QueryError(KgReasonerError):
    """A SPARQL query that cannot be parsed or run, with the reason."""


class StoreServerError(InputError):
    """The SPARQL server of a store refused a request or could not be reached (its URL and answer are
    named). Not a refusal of one patient: a run that meets it stops writing."""


def patient_of(graph_name: str) -> str:
    """The patient IRI of one of her graphs (<patient>/graph/asserted)."""
    return graph_name.split("/graph/")[0]


def ontology_key(kb) -> str:
    """The ontology's version IRIs and a hash of its triples: whether a store holds this very ontology."""
    versions = sorted(str(v) for v in kb.ontology.objects(None, OWL.versionIRI))
    h = hashlib.sha256("\n".join(sorted(f"{s} {p} {o}" for s, p, o in kb.ontology)).encode()).hexdigest()[:16]
    return " ".join(versions) + " " + h


def rows(result) -> tuple[list[str], list[list]]:
    """Variable names and rows (rdflib terms or None) of a SELECT result of either back end."""
    if isinstance(result, ox.QuerySolutions):
        names = [v.value for v in result.variables]
        return names, [[from_ox(sol[n]) if sol[n] is not None else None for n in names] for sol in result]
    names = [str(v) for v in result.vars]
    return names, [[row[v] if v in row.labels else None for v in names] for row in result]


def query_result(result) -> QueryResult:
    """A pyoxigraph result as a materialised QueryResult of rdflib terms."""
    if isinstance(result, ox.QueryBoolean):
        out = QueryResult("ASK")
        out.askAnswer = bool(result)
        return out
    if isinstance(result, ox.QueryTriples):
        out = QueryResult("CONSTRUCT")
        out.graph = Graph()
        for t in result:
            out.graph.add((from_ox(t.subject), from_ox(t.predicate), from_ox(t.object)))
        return out
    return QueryResult.select(*rows(result))


class StoreWriting:
    """Writing patients into a store, shared by both kinds: ``put``, ``put_many`` (batched, flat memory),
    ``select`` and use as a context manager. A store provides ``_write_batch(patients)``, ``flush()``,
    ``close()``, ``query(...)`` and ``_graphs_holding(node)`` (the named graphs that describe a node)."""

    path: Any

    def _write_batch(self, patients: list[list]) -> None:  # pragma: no cover - provided by each store
        raise NotImplementedError

    def _graphs_holding(self, node: ox.NamedNode) -> Iterable[str]:  # pragma: no cover
        raise NotImplementedError

    def flush(self) -> None:  # pragma: no cover
        raise NotImplementedError

    def close(self) -> None:  # pragma: no cover
        raise NotImplementedError

    query: Callable[..., QueryResult]

    def put(self, assessment) -> None:
        """Add or replace one patient's asserted, inferred and provenance graphs (raises InputError when
        they describe a node the store holds for another patient)."""
        errors = self.put_many([assessment])
        if errors:
            raise errors[0]

    def put_many(self, assessments: Iterable, batch: int = 200) -> list[InputError]:
        """Add or replace the graphs of many patients, streamed: ``batch`` patients per write, nothing kept
        from one batch to the next (flat memory however long the cohort). A patient whose graphs describe
        a node that another patient's graphs hold (in the store or earlier in the same run) is refused and
        left out; the others are written. Returns the refusals."""
        errors: list[InputError] = []
        pending: list[list] = []
        names: set = set()  # the graphs of the pending batch
        for a in assessments:
            quads = [ox.Quad(to_ox(s), to_ox(p), to_ox(o), ox.NamedNode(str(g))) for s, p, o, g in a.quads()]
            graphs = {q.graph_name for q in quads}
            if not names.isdisjoint(graphs):  # the same patient again: the batch so far is written first
                errors += self._replace_many(pending)
                pending, names = [], set()
            pending.append(quads)
            names |= graphs
            if len(pending) >= batch:
                errors += self._replace_many(pending)
                self.flush()  # the write buffers go to disk: memory stays flat
                pending, names = [], set()
        if pending:
            errors += self._replace_many(pending)
        return errors

    #: patients written by ``put_nquads`` between two flushes of the write buffers
    FLUSH_EVERY = 200
    _since_flush = 0

    def put_nquads(self, data: str) -> None:
        """Add or replace the graphs of an N-Quads document (a worker's assessment; raises InputError when
        refused); the write buffers are flushed every ``FLUSH_EVERY`` patients, so that a long run keeps
        flat memory."""
        errors = self._replace_many([list(ox.parse(data.encode("utf-8"), format=ox.RdfFormat.N_QUADS))])
        self._since_flush += 1
        if self._since_flush >= self.FLUSH_EVERY:
            self.flush()
            self._since_flush = 0
        if errors:
            raise errors[0]

    def _replace_many(self, patients: list[list]) -> list[InputError]:
        """Replace each patient's graphs (one list of quads per patient), after checking that every node
        she describes that is not named under her IRI is described by no other patient's data, in the
        store or earlier in the batch; a patient who fails the check is left out."""
        errors: list[InputError] = []
        accepted: list[list] = []
        claimed: dict = {}  # node -> owners, for the nodes of this batch's patients
        for quads in patients:
            graphs = {q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode)}
            owners = {patient_of(g) for g in graphs}
            try:
                mine = self._check_foreign(quads, graphs, owners, claimed)
            except StoreServerError:
                raise  # the server failed, not the patient
            except InputError as exc:
                errors.append(exc)
                continue
            for node in mine:
                claimed[node] = owners
            accepted.append(quads)
        if accepted:
            self._write_batch(accepted)
        return errors

    def _check_foreign(self, quads: list, graphs: set[str], owners: set[str], claimed: dict) -> set:
        """The nodes a patient describes outside her IRI; raises InputError when another patient's data
        describes one of them."""
        asserted = {
            q.subject
            for q in quads
            if isinstance(q.subject, ox.NamedNode)
            and isinstance(q.graph_name, ox.NamedNode)
            and q.graph_name.value.endswith("/graph/asserted")
        }
        mine = set()
        for node in asserted:
            if any(node.value.startswith(f"{o}/") for o in owners):
                continue  # her records: named under her IRI, which no other patient may use (checked on read)
            mine.add(node)
            other_owner = claimed.get(node)
            if other_owner is not None and other_owner != owners:
                raise InputError(
                    f"describes {node.value}, which another patient of this run also describes "
                    f"({', '.join(sorted(other_owner))}): one patient's facts must never touch another's",
                    source=str(self.path),
                )
            for g in self._graphs_holding(node):
                if (
                    g not in graphs
                    and patient_of(g) not in owners
                    and g not in (ONTOLOGY_GRAPH.value, META_GRAPH.value)
                ):
                    raise InputError(
                        f"describes {node.value}, which the store holds for another patient "
                        f"({patient_of(g)}): one patient's facts must never touch another's",
                        source=str(self.path),
                    )
        return mine

    def select(self, text: str, **bindings: Any) -> list[dict]:
        """The rows of a SELECT query as dicts of Python values (numbers, strings, dates; IRIs as
        strings), ready for ``pandas.DataFrame(rows)``. Values are passed as bindings, never formatted in,
        as for ``query``: rdflib terms as they are, Python values as literals, ``patient=`` an id or IRI
        (give any other IRI as ``rdflib.URIRef``)."""
        names, data = rows(self.query(text, **bindings))
        return [
            {
                n: (t.toPython() if isinstance(t, Literal) else (str(t) if t is not None else None))
                for n, t in zip(names, r)
            }
            for r in data
        ]

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def with_values(text: str, terms: dict[str, Node], plan: QueryPlan | None = None) -> str:
    """``text`` with ``VALUES (?a ?b) { (<iri> "literal") }`` placed first in its WHERE clause: the values
    are joined before anything else of the query (as pre-bound variables are), each term written by
    pyoxigraph in N-Triples syntax (IRIs, datatype IRIs included, checked; strings escaped). Both stores
    bind values so (pyoxigraph's own substitutions take only variables the SELECT projects)."""
    names = sorted(terms)
    cells = []
    only_in_subqueries = (plan or inspect_query(text)).only_in_subqueries  # (``plan``: the query's, if inspected)
    for n in names:
        t = terms[n]
        if not re.search(rf"[?$]{re.escape(n)}\b", text):
            raise QueryError(f"?{n} is not a variable of the query: nothing to bind it to")
        if n in only_in_subqueries:
            raise QueryError(
                f"?{n} is used only inside a subquery, which SPARQL evaluates on its own: a value bound from outside "
                f"would not reach it (the answer would be for every {n}). Project ?{n} from the subquery, or use it "
                "outside it too"
            )
        if not isinstance(t, (URIRef, Literal)):
            raise QueryError(f"?{n}: only IRIs and literals can be bound, not {t!r}")
        try:
            cells.append(str(to_ox(t)))
        except (ValueError, TypeError) as exc:
            raise QueryError(f"?{n}: {t!r} is not a valid RDF term: {exc}") from None
    block = f" VALUES ({' '.join('?' + n for n in names)}) {{ ({' '.join(cells)}) }} "
    at = _where_brace(text)
    return text[: at + 1] + block + text[at + 1 :]


def _where_brace(text: str) -> int:
    """Where the query's WHERE group opens: the first ``{`` outside IRIs, strings and comments, or for a
    CONSTRUCT with a template, the first after that template."""
    depth, i, n = 0, 0, len(text)
    opened: list[int] = []
    words: list[str] = []
    while i < n:
        c = text[i]
        if c == "#":
            i = text.find("\n", i)
            i = n if i < 0 else i
            continue
        if c == "<" and depth >= 0:
            j = i + 1
            while j < n and text[j] not in '<>"{}|^`\\ \n\t':
                j += 1
            if j < n and text[j] == ">":
                i = j + 1
                continue
        if c in "\"'":
            q = text[i : i + 3] if text[i : i + 3] in ('"""', "'''") else c
            j = i + len(q)
            while j < n and text[j : j + len(q)] != q:
                j += 2 if text[j] == "\\" else 1
            i = j + len(q)
            continue
        if c in "?$":  # a variable, never a keyword (?construct, ?where)
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            i = j
            words.append("?")
            continue
        if c.isalpha():
            j = i
            while j < n and (text[j].isalnum() or text[j] in "_-:"):
                j += 1
            if depth == 0:
                words.append(text[i:j].upper())
            i = j
            continue
        if c == "{":
            if depth == 0:
                opened.append(i)
                construct_template = "CONSTRUCT" in words and words[-1] == "CONSTRUCT"
                if words[-2:] == ["CONSTRUCT", "WHERE"]:
                    raise QueryError(
                        "the short form of CONSTRUCT (no template) cannot take bound values: "
                        "write its template out in full"
                    )
                if not construct_template:
                    return i
            depth += 1
        elif c == "}":
            depth -= 1
        i += 1
    raise QueryError("the query has no WHERE clause to bind values in (e.g. DESCRIBE <iri>): write one")
