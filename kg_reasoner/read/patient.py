"""What every reader shares: the ``PatientInput`` a reader yields, patient IRIs, the one JSON path
(decimals, NaN refused, surrogates), number bounds, literals for numbers and times, and NDJSON lines.
"""

from __future__ import annotations

import datetime as _dt
import gzip
import json
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import XSD

from kg_reasoner.errors import UnreadableInputError
from kg_reasoner.namespaces import KGR, PATIENT_BASE
from kg_reasoner.read.times import TimeInterval, iso

#: File suffixes read as FHIR bulk data (one resource per line).
NDJSON = ".ndjson"


def is_ndjson(path: Path) -> bool:
    """An NDJSON file, plain or gzip-compressed (as FHIR bulk exports are often delivered)."""
    name = path.name.lower()
    return name.endswith(NDJSON) or name.endswith(NDJSON + ".gz")


def open_lines(path: Path) -> Iterator[str]:
    """The lines of a text file, gzip or plain, with a UTF-8 byte-order mark removed."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", errors="strict", newline=None) as fh:
        yield from fh


class PatientInput:
    """One patient's asserted triples, ready for reasoning: ``graph`` (an rdflib Graph) and ``triples``.

    A reader may hand over her triples alone (``graph`` any iterable of triples): the Graph is then built when
    ``graph`` is first read, and until then ``triples`` are the triples as read, in the order her Graph would
    give them. A cohort's worker reasons on ``triples`` and never builds a Graph it would not read (building
    one costs about as much as her OWL 2 RL closure). Once built or given, the Graph is what she is: a triple
    added to it is in ``triples`` from then on."""

    __slots__ = ("patient_id", "iri", "source", "data_problems", "_graph", "_triples")

    def __init__(
        self, patient_id: str, iri: URIRef, graph: Graph | Iterable, source: str, data_problems: list | None = None
    ):
        self.patient_id, self.iri, self.source = patient_id, iri, source
        self.data_problems: list[dict] = [] if data_problems is None else data_problems
        self._graph: Graph | None = graph if isinstance(graph, Graph) else None
        self._triples: tuple | None = None if isinstance(graph, Graph) else in_graph_order(graph)

    @property
    def graph(self) -> Graph:
        if self._graph is None:
            self._graph = patient_graph(self._triples or ())
            self._triples = None
        return self._graph

    @graph.setter
    def graph(self, graph: Graph) -> None:
        self._graph, self._triples = graph, None

    @property
    def triples(self) -> tuple:
        """Her triples: as read, or her Graph's as it is now."""
        return self._triples if self._triples is not None else tuple(self.graph)

    def __repr__(self) -> str:
        n = len(self._triples) if self._triples is not None else len(self.graph)
        return f"PatientInput({self.patient_id!r}, {self.source!r}, {n} triples, {len(self.data_problems)} problem(s))"


def in_graph_order(triples: Iterable) -> tuple:
    """The distinct triples in the order the Graph of them (``patient_graph``) iterates them: by subject, then
    predicate, each in the order first added (rdflib's ``SimpleMemory`` keeps its indexes in dicts)."""
    by: dict[Any, dict[Any, dict[Any, None]]] = {}
    for s, p, o in triples:
        ps = by.get(s)
        if ps is None:
            ps = by[s] = {}
        os_ = ps.get(p)
        if os_ is None:
            os_ = ps[p] = {}
        os_[o] = None
    return tuple((s, p, o) for s, ps in by.items() for p, os_ in ps.items() for o in os_)


def patient_graph(triples) -> Graph:
    """A graph of one patient's triples as read. Its store is rdflib's ``SimpleMemory``: a patient's
    graph has no named graphs of its own, and that store adds a triple about five times faster than the
    default ``Memory`` (no contexts, no event per triple): reading and handing patients to workers
    is on the path of every cohort run."""
    graph = Graph(store="SimpleMemory")
    for t in triples:
        graph.add(t)
    return graph


def patient_iri(patient_id: str) -> URIRef:
    return URIRef(PATIENT_BASE + quote(str(patient_id), safe=""))


def is_number(v: Any) -> bool:
    return isinstance(v, (int, Decimal, float)) and not isinstance(v, bool)


def canonical_decimal(v: Any) -> str:
    """The canonical xsd:decimal lexical form (7 -> "7.0", 19.080 -> "19.08"): the same whatever
    serialization a value went through."""
    text = format(Decimal(str(v)).normalize(), "f")
    return text if "." in text else text + ".0"


#: The numbers both engines compare exactly (issue 12, item 11): pyoxigraph's xsd:decimal is a 128-bit fixed
#: point with 18 fraction digits (about +-1.7e20); the bounds leave room for a unit conversion factor.
MAX_MAGNITUDE = Decimal(10) ** 18


MAX_FRACTION_DIGITS = 16


def number_problem(v: Any) -> str | None:
    """Why a number cannot be compared exactly by both engines, or None when it can."""
    d = Decimal(str(v))
    if not d.is_finite():
        return f"{v} is not a finite number"
    if abs(d) >= MAX_MAGNITUDE:
        return f"{v} is outside the numbers the reasoner compares exactly (|value| < 10^18)"
    exponent = d.normalize().as_tuple().exponent  # an int: d is finite (a str only for NaN and infinity)
    if d != 0 and isinstance(exponent, int) and -exponent > MAX_FRACTION_DIGITS:
        return f"{v} has more than {MAX_FRACTION_DIGITS} decimal places, beyond what the reasoner compares exactly"
    return None


def decimal_literal(v: Any) -> Literal:
    """A number as an xsd:decimal literal in canonical form."""
    return Literal(canonical_decimal(v), datatype=XSD.decimal)


def time_literal(moment: _dt.datetime) -> Literal:
    return Literal(iso(moment), datatype=XSD.dateTime)


def add_time(g: Graph, rec: URIRef, interval: TimeInterval) -> None:
    """A record's time: its earliest instant, and its latest when the time was recorded with less
    precision (a date, a year-month, no time zone), compared as an interval (decision-spec section 4)."""
    g.add((rec, KGR.effectiveTime, time_literal(interval.earliest)))
    if not interval.precise:
        g.add((rec, KGR.effectiveTimeLatest, time_literal(interval.latest)))
        g.add((rec, KGR.timeAsRecorded, Literal(interval.text)))


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number (JSON has no NaN or Infinity)")


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")

#: The deepest nesting of JSON arrays and objects read (summaries and FHIR resources nest a few levels).
#: Deeper text is refused with the same error in every process: ``json.loads``'s own limit is Python's
#: recursion limit, which counts the frames already on the stack (a worker's differ from the main process's).
MAX_JSON_DEPTH = 256
_JSON_TOKENS = re.compile(r'[\[\]{}]|"(?:[^"\\]|\\.)*"')


def _too_deep(text: str) -> bool:
    """Whether JSON text nests arrays and objects deeper than MAX_JSON_DEPTH (brackets in strings aside)."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:  # (the usual line: no scan)
        return False
    depth = 0
    for m in _JSON_TOKENS.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        elif c in "]}":
            depth -= 1
    return False


def json_loads(text: str) -> Any:
    """JSON as every reader reads it (one numeric path): numbers with a fraction as exact decimals, never
    floats (9.9999999999999999 stays below 10 in a .json file and an .ndjson line alike); NaN and
    Infinity refused; nesting deeper than MAX_JSON_DEPTH and lone UTF-16 surrogates are errors, not crashes."""
    if _too_deep(text):
        raise ValueError(f"it is nested too deeply to be read (more than {MAX_JSON_DEPTH} levels)")
    try:
        data = json.loads(text, parse_float=Decimal, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("it is nested too deeply to be read") from None
    # strict UTF-8 text cannot hold a surrogate: only a \uD800-\uDFFF escape can make one, so the (costly)
    # re-encoding check runs only when the text has such an escape
    if _SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(data, ensure_ascii=False, default=str).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("it holds a lone UTF-16 surrogate (\\ud800-\\udfff): not valid Unicode text") from None
        except RecursionError:
            raise ValueError("it is nested too deeply to be read") from None
    return data


def load_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise UnreadableInputError(f"cannot be read: {exc.strerror or exc}", source=str(path)) from None
    except UnicodeDecodeError as exc:
        raise UnreadableInputError(f"is not valid UTF-8 text: {exc}", source=str(path)) from None
    try:
        return json_loads(text)
    except ValueError as exc:
        raise UnreadableInputError(f"is not valid JSON: {exc}", source=str(path)) from None


@dataclass(frozen=True)
class ReadStopped:
    """Where a line-by-line read had to stop (an I/O error, a truncated gzip stream, bad UTF-8): the
    number of the line that could not be read, and why. The lines before it were read."""

    line: int
    error: BaseException

    @property
    def reason(self) -> str:
        return getattr(self.error, "strerror", None) or str(self.error)


def numbered_lines(path: Path) -> Iterator[tuple[int, str] | ReadStopped]:
    """The non-blank lines of an NDJSON file (gzipped or not) with their numbers, as the file streams; when
    the rest of the file cannot be read, a last ``ReadStopped`` says where (nothing is lost silently)."""
    n = 0
    lines = open_lines(path)
    while True:
        try:
            n += 1  # (the number of the line being read, also when it cannot be)
            line = next(lines)
        except StopIteration:
            return
        except (OSError, EOFError, UnicodeDecodeError, zlib.error) as exc:  # BadGzipFile is an OSError
            yield ReadStopped(n, exc)
            return
        if line.strip():
            yield n, line
