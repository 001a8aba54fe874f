"""SPARQL plans: a query's algebra (rdflib's parser) compiled once into Python closures that run over one
patient's small in-memory index, for the subset of SPARQL 1.1 that the shapes and queries use. The plans
are generic over SPARQL: nothing here names a class, property or rule of any guidance.

Two ways out, so that a plan never answers differently from pyoxigraph:

* ``Unsupported`` at compile time: an operator, path, function or aggregate outside the subset. The query
  then always runs on pyoxigraph.
* ``Fallback`` at run time: a value the plan cannot treat exactly as oxigraph does (a double, a dateTime
  compared across time zones, an IRI it would have to resolve, a SAMPLE with a choice, two kinds of
  literal compared...). That one call then runs on pyoxigraph.

Semantics followed (checked against pyoxigraph by ``tests/test_plans.py``, query by query, on every
patient of the corpus):

* The default graph is the union of the index's parts as a multiset (a triple in two parts matches
  twice, as oxigraph's list of default graphs does); property paths answer distinct pairs.
* Terms are pyoxigraph terms as oxigraph stores them: the index is read back from the store, so literals
  are in oxigraph's canonical form, and computed literals are written in that form.
* Bindings given to a query (``$this``) are substituted as constants everywhere except inside
  subqueries, as pyoxigraph's ``substitutions`` does; ``EXISTS`` substitutes the current solution into
  its pattern (SPARQL 1.1, section 18.6). A join passes its left solution into its right operand only
  for the variables the right operand certainly binds before it reads them (``safe``); other shared
  variables are checked for compatibility afterwards, which is the algebra's join.
* Expression errors follow section 17: an error in FILTER rejects, in BIND leaves unbound, ``||`` and
  ``&&`` use the three-valued tables, ``COALESCE`` and ``IF`` catch as specified.
"""

from __future__ import annotations

import datetime as _dt
import functools
import itertools
import re
import threading
import weakref
from collections.abc import Callable, Iterator
from decimal import Decimal

import pyoxigraph as ox
from pyparsing import ParseResults
from rdflib import BNode, Literal, URIRef, Variable
from rdflib.paths import AlternativePath, InvPath, MulPath, SequencePath
from rdflib.plugins.sparql.algebra import translateGroupGraphPattern, translateQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue

from kg_reasoner.reason import plan_source, step_source
from kg_reasoner.reason.base import Unsupported
from kg_reasoner.reason.terms import to_ox
from kg_reasoner.resources import data_folder

_XSD = "http://www.w3.org/2001/XMLSchema#"
_STRING, _BOOLEAN, _INTEGER, _DECIMAL, _DATETIME = (
    ox.NamedNode(_XSD + t) for t in ("string", "boolean", "integer", "decimal", "dateTime")
)
_TRUE, _FALSE = ox.Literal("true", datatype=_BOOLEAN), ox.Literal("false", datatype=_BOOLEAN)
_NUMERIC_OTHER = {
    _XSD + t
    for t in (
        "double",
        "float",
        "int",
        "long",
        "short",
        "byte",
        "nonNegativeInteger",
        "positiveInteger",
        "nonPositiveInteger",
        "negativeInteger",
        "unsignedInt",
        "unsignedLong",
        "unsignedShort",
        "unsignedByte",
    )
}
#: oxigraph's xsd:decimal: 18 fractional digits, about +-1.7e20; xsd:integer: 64 bits
_DECIMAL_PLACES = 18


class Fallback(Exception):
    """A value the plan cannot evaluate exactly as oxigraph would: run this call on pyoxigraph."""


class _Error(Exception):
    """A SPARQL expression error (section 17.3): caught by FILTER, BIND, COALESCE, IF, || and &&."""

    # (raised fresh each time: a shared instance would keep every traceback, and the patient's index
    # its frames hold, alive)


# ---------------------------------------------------------------------------------------------------
# The index: one patient's triples (and, as a second part, the ontology's), looked up by any pattern.


#: A number for each predicate a compiled step looks up (``predicate_id``, called when the steps are compiled),
#: for the process: a step tests whether a part holds its predicate by that number, a small int hashed at once,
#: where testing the pyoxigraph term would hash it in Rust as the lookup itself does. Only the queries' and
#: rules' own predicates are numbered (bounded by the knowledge base): an index reads the numbers of its
#: predicates (``TripleIndex.pids``) and numbers none, so a patient's own predicates never accumulate here. A
#: predicate numbered after an index was built is added to the numbers of each index alive that holds it
#: (``_LIVE``), under ``_NUMBERING``; an index is registered before it reads any number.
_PREDICATE_IDS: dict = {}
_NEXT_PREDICATE_ID = itertools.count()
_LIVE: weakref.WeakSet = weakref.WeakSet()
_NUMBERING = threading.Lock()


def predicate_id(p) -> int:
    """The process's number of the predicate p (``_PREDICATE_IDS``), given to the indexes alive that hold it."""
    n = _PREDICATE_IDS.get(p)
    if n is None:
        with _NUMBERING:
            n = _PREDICATE_IDS.get(p)
            if n is None:
                n = _PREDICATE_IDS[p] = next(_NEXT_PREDICATE_ID)
                for idx in list(_LIVE):
                    if p in idx.p:
                        idx.pids.add(n)
    return n


class TripleIndex:
    """Triples of pyoxigraph terms, indexed by subject, predicate, object and their pairs. The subject and
    object indexes (``s``, ``o``: for a variable predicate, a zero-length path) are built when first read:
    most patients' queries never read them. ``pids``: the numbers of its predicates that compiled steps look up
    (``predicate_id``)."""

    __slots__ = ("triples", "sp", "po", "p", "pids", "_s", "_o", "_stats", "__weakref__")

    def __init__(self, triples=()):
        self._stats: dict = {}
        self.triples: set = set()
        self.sp: dict = {}
        self.po: dict = {}
        self.p: dict = {}
        self.pids: set = set()
        self._s: dict | None = None
        self._o: dict | None = None
        with _NUMBERING:  # (before any number is read: ``predicate_id``)
            _LIVE.add(self)
        # (``add`` inlined: an index is built for every patient, twice. A pyoxigraph term's hash is computed
        # anew at each lookup, in Rust: each key is hashed once here, a new triple told by the set's size)
        seen, sp, po, by_p, ids = self.triples, self.sp, self.po, self.p, _PREDICATE_IDS
        size = 0
        for t in triples:
            seen.add(t)
            if len(seen) == size:
                continue
            size += 1
            s, p, o = t
            sp.setdefault((s, p), []).append(o)
            po.setdefault((p, o), []).append(s)
            pairs = by_p.get(p)
            if pairs is None:
                by_p[p] = [(s, o)]  # (held before its number is read: ``predicate_id``)
                n = ids.get(p)
                if n is not None:
                    self.pids.add(n)
            else:
                pairs.append((s, o))

    def add(self, t) -> None:
        triples = self.triples
        size = len(triples)
        triples.add(t)
        if len(triples) == size:
            return
        s, p, o = t
        self.sp.setdefault((s, p), []).append(o)
        self.po.setdefault((p, o), []).append(s)
        pairs = self.p.get(p)
        if pairs is None:
            self.p[p] = [(s, o)]
            n = _PREDICATE_IDS.get(p)
            if n is not None:
                self.pids.add(n)
        else:
            pairs.append((s, o))
        if self._s is not None:
            self._s.setdefault(s, []).append((p, o))
        if self._o is not None:
            self._o.setdefault(o, []).append((s, p))

    @property
    def s(self) -> dict:
        """subject -> [(predicate, object)]."""
        if self._s is None:
            self._s = _grouped((s, (p, o)) for (s, p), objects in self.sp.items() for o in objects)
        return self._s

    @property
    def o(self) -> dict:
        """object -> [(subject, predicate)]."""
        if self._o is None:
            self._o = _grouped((o, (s, p)) for (p, o), subjects in self.po.items() for s in subjects)
        return self._o

    def stats(self, p) -> tuple[int, int, int]:
        """(triples, distinct subjects, distinct objects) of predicate p, for join ordering."""
        out = self._stats.get(p)
        if out is None:
            pairs = self.p.get(p, ())
            out = self._stats[p] = (len(pairs), len({a for a, _ in pairs}), len({b for _, b in pairs}))
        return out

    @classmethod
    def from_store(cls, store: ox.Store, graph) -> TripleIndex:
        """The graph's triples as oxigraph stores them (its literals in canonical form)."""
        return cls((q.subject, q.predicate, q.object) for q in store.quads_for_pattern(None, None, None, graph))


def _grouped(pairs) -> dict:
    """key -> [values], in the order of the (key, value) pairs."""
    out: dict = {}
    for key, value in pairs:
        out.setdefault(key, []).append(value)
    return out


def _match(parts, s, p, o) -> Iterator[tuple]:
    """(s, p, o) for every triple of the parts matching the pattern (None: any), with multiplicity."""
    for idx in parts:
        if p is not None:
            if s is not None:
                objs = idx.sp.get((s, p))
                if objs:
                    if o is not None:
                        if o in objs:
                            yield s, p, o
                    else:
                        for o2 in objs:
                            yield s, p, o2
            elif o is not None:
                for s2 in idx.po.get((p, o), ()):
                    yield s2, p, o
            else:
                for s2, o2 in idx.p.get(p, ()):
                    yield s2, p, o2
        elif s is not None:
            for p2, o2 in idx.s.get(s, ()):
                if o is None or o2 == o:
                    yield s, p2, o2
        elif o is not None:
            for s2, p2 in idx.o.get(o, ()):
                yield s2, p2, o
        else:
            yield from idx.triples


# ---------------------------------------------------------------------------------------------------
# Values


_SCRATCH = ox.NamedNode("urn:kg-reasoner:canonical")


@functools.lru_cache(maxsize=4096)
def canonical(term):
    """A term as oxigraph stores it (``"01"^^xsd:integer`` is stored as ``"1"``). The common lexical forms of
    xsd:integer, xsd:decimal, xsd:boolean and xsd:dateTime are mapped here (``canonical_lexical``: a patient's
    times and values are new to the cache, and a round trip through a store costs about 12 us); any other
    through a store, as oxigraph writes it."""
    if type(term) is not ox.Literal or term.datatype == _STRING or term.language is not None:
        return term
    lex = canonical_lexical(term.datatype, term.value)
    if lex is not None:
        return term if lex == term.value else ox.Literal(lex, datatype=term.datatype)
    return stored(term)


def stored(term):
    """A literal as an oxigraph store gives it back (its canonical form)."""
    store = ox.Store()
    store.add(ox.Quad(_SCRATCH, _SCRATCH, term, _SCRATCH))
    return next(iter(store.quads_for_pattern(None, None, None, _SCRATCH))).object


#: the lexical forms ``canonical_lexical`` maps (what is outside them goes through a store): integers of up to 18
#: digits; decimals of up to 18 digits before the point and 17 after it; dateTimes of a day 01-28 (no calendar needed)
#: with at most 6 fractional digits of a second and an offset of less than 14 hours
_INTEGER_FORM = re.compile(r"([+-]?)0*([0-9]{1,18})", re.ASCII)
_DECIMAL_FORM = re.compile(r"([+-]?)0*([0-9]{0,18})(?:\.([0-9]{0,17}))?", re.ASCII)
_DATETIME_FORM = re.compile(
    r"([1-9][0-9]{3}-(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9])"
    r"(?:\.([0-9]{1,6}))?(Z|[+-](?:0[0-9]|1[0-3]):[0-5][0-9])?",
    re.ASCII,
)


def canonical_lexical(datatype, lex: str) -> str | None:
    """The canonical form oxigraph gives a lexical form of xsd:integer, xsd:decimal, xsd:boolean or xsd:dateTime
    (``"007"`` -> ``"7"``, ``"7.50"`` -> ``"7.5"``, ``"7.0"`` -> ``"7"``, ``"...T10:00:00.500+00:00"`` ->
    ``"...T10:00:00.5Z"``), or None for a form outside those mapped here (``tests/test_plans.py`` compares both
    with a store's on generated forms)."""
    if datatype == _DECIMAL:
        m = _DECIMAL_FORM.fullmatch(lex)
        if m is None or not any(c.isdigit() for c in lex):
            return None
        whole, frac = m.group(2) or "0", (m.group(3) or "").rstrip("0")
        text = f"{whole}.{frac}" if frac else whole
        return text if m.group(1) != "-" or text == "0" else "-" + text
    if datatype == _INTEGER:
        m = _INTEGER_FORM.fullmatch(lex)
        if m is None:
            return None
        return m.group(2) if m.group(1) != "-" or m.group(2) == "0" else "-" + m.group(2)
    if datatype == _BOOLEAN:
        return {"true": "true", "false": "false", "1": "true", "0": "false"}.get(lex)
    if datatype == _DATETIME:
        m = _DATETIME_FORM.fullmatch(lex)
        if m is None:
            return None
        frac, zone = (m.group(2) or "").rstrip("0"), m.group(3) or ""
        if zone in ("+00:00", "-00:00"):
            zone = "Z"
        return m.group(1) + (f".{frac}" if frac else "") + zone
    return None


def _to_ox(t):
    """A query's constant (an IRI or a literal) as oxigraph stores it."""
    if not isinstance(t, (URIRef, Literal)):
        raise Unsupported(f"a constant {t!r}")
    return canonical(to_ox(t))


_INTEGER_LEX = re.compile(r"[+-]?[0-9]+", re.ASCII)
_DECIMAL_LEX = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)", re.ASCII)
_DATETIME_LEX = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})?", re.ASCII
)
#: oxigraph's xsd:decimal is an i128 counted in 1e-18; its xsd:integer an i64
_POW = 10**18
_I128_MIN, _I128_MAX = -(2**127), 2**127 - 1
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1


def _scaled(lex: str) -> int:
    """An xsd:decimal lexical form (``_DECIMAL_LEX``) in 1e-18, exactly; Fallback past 18 fractional digits."""
    sign = -1 if lex.startswith("-") else 1
    whole, _, frac = lex.lstrip("+-").partition(".")
    frac = frac.rstrip("0")
    if len(frac) > _DECIMAL_PLACES:
        raise Fallback(f"a decimal with more than {_DECIMAL_PLACES} fractional digits: {lex}")
    return sign * (int(whole or "0") * _POW + int(frac.ljust(_DECIMAL_PLACES, "0")))


def _kind(t):
    """(kind, value) of a literal for comparisons; Fallback for what the plans do not compare, or for a
    lexical form oxigraph would not read as a value (it keeps those as opaque strings)."""
    if type(t) is not ox.Literal:
        raise Fallback("a comparison of a non-literal")
    return _literal_kind(t)


@functools.lru_cache(maxsize=4096)
def _literal_kind(t):
    """``_kind`` of a literal, read once per literal (a Fallback is raised again each time: not kept). The
    value read is immutable (an int, a Decimal, a bool, a datetime or the string)."""
    if t.language is not None:
        raise Fallback("a language-tagged literal in a comparison")
    dt, lex = t.datatype, t.value
    if dt == _STRING:
        return "str", lex
    if dt == _INTEGER:
        if _INTEGER_LEX.fullmatch(lex) and _I64_MIN <= int(lex) <= _I64_MAX:
            return "num", int(lex)
    elif dt == _DECIMAL:
        if _DECIMAL_LEX.fullmatch(lex) and _I128_MIN <= _scaled(lex) <= _I128_MAX:
            return "num", Decimal(lex)
    elif dt == _BOOLEAN:
        if lex in ("true", "false"):
            return "bool", lex == "true"
    elif dt == _DATETIME:
        if _DATETIME_LEX.fullmatch(lex) and not lex.startswith("0000") and lex[11:13] != "24":
            try:
                v = _dt.datetime.fromisoformat(lex)
            except ValueError:
                pass
            else:
                return ("dt" if v.tzinfo else "dt-local"), v
    raise Fallback(f"a literal the plans do not read as a value: {t}")


def _equal(a, b) -> bool:
    """SPARQL '=' (RDFterm-equal and the value comparisons of section 17.3)."""
    if a is None or b is None:
        raise _Error()
    la, lb = type(a) is ox.Literal, type(b) is ox.Literal
    if not la or not lb:
        return a == b
    ka, va = _kind(a)
    kb, vb = _kind(b)
    if ka != kb:
        raise Fallback("literals of two kinds compared")
    return va == vb


def _less(a, b) -> bool:
    if a is None or b is None:
        raise _Error()
    ka, va = _kind(a)
    kb, vb = _kind(b)
    if ka != kb:
        raise Fallback("literals of two kinds ordered")
    if ka == "bool" and va != vb:
        raise Fallback("booleans ordered")  # (oxigraph answers only for equal ones)
    return va < vb


def _ebv(t) -> bool:
    """The effective boolean value (section 17.2.2)."""
    if t is _TRUE:  # (what the plans' own tests answer: no need to read it)
        return True
    if t is _FALSE:
        return False
    if t is None:
        raise _Error()
    if type(t) is not ox.Literal:
        raise _Error()
    kind, v = _kind(t)
    if kind == "bool":
        return v
    if kind == "num":
        return v != 0
    if kind == "str":
        return v != ""
    raise _Error()


def _number(t) -> tuple[bool, int]:
    """(is a decimal, value): an xsd:integer as itself, an xsd:decimal as oxigraph holds it (in 1e-18)."""
    if type(t) is not ox.Literal or t.language is not None:
        raise _Error()
    if t.datatype == _INTEGER:
        return False, _kind(t)[1]
    if t.datatype == _DECIMAL:
        _kind(t)  # a valid decimal, in oxigraph's range
        return True, _scaled(t.value)
    if t.datatype.value in _NUMERIC_OTHER:
        raise Fallback(f"arithmetic on {t.datatype.value}")
    raise _Error()


def _checked(v: int, low: int, high: int) -> int:
    if not low <= v <= high:
        raise _Error()  # overflow (FOAR0002)
    return v


def _strip_zeros(v: int) -> tuple[int, int]:
    """(v without its trailing zeros, how many)."""
    shift = 0
    if v:
        while v % 10 == 0:
            v //= 10
            shift += 1
    return v, shift


def _truncating_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return -q if (a < 0) != (b < 0) else q


def _decimal_mul(a: int, b: int) -> int:
    """A product of decimals (in 1e-18) when it is exact in 18 fractional digits and an i128, where
    every version of oxigraph agrees; otherwise (it truncates or errors, depending on its version)
    Fallback."""
    if a == 0 or b == 0:
        return 0  # (so pyoxigraph 0.5 answers, measured)
    q, r = divmod(abs(a * b), _POW)
    if r or q > _I128_MAX:
        raise Fallback("a decimal product beyond 18 fractional digits or an i128")
    return q if (a < 0) == (b < 0) else -q


def _decimal_div(a: int, b: int) -> int:
    """oxigraph's ``Decimal::checked_div``: the dividend shifted left as far as an i128 allows, the
    divisor's trailing zeros shifted out, both quotients truncated."""
    if b == 0:
        raise _Error()  # FOAR0001
    left, shift_left = a, 0
    if left:
        while _I128_MIN <= left * 10 <= _I128_MAX:
            left *= 10
            shift_left += 1
    right, shift_right = _strip_zeros(b)
    shift = shift_left + shift_right - _DECIMAL_PLACES
    if shift < 0 or shift > 38 or (left == _I128_MIN and right == -1):
        raise _Error()
    return _truncating_div(_truncating_div(left, right), 10**shift)


def _decimal_literal(v: int):
    """oxigraph's canonical lexical form of a decimal held in 1e-18."""
    if v == 0:
        return ox.Literal("0", datatype=_DECIMAL)
    whole, frac = divmod(abs(v), _POW)
    text = str(whole) + ("." + str(frac).rjust(_DECIMAL_PLACES, "0").rstrip("0") if frac else "")
    return ox.Literal(("-" if v < 0 else "") + text, datatype=_DECIMAL)


def _arith(op: str, a, b):
    (da, x), (db, y) = _number(a), _number(b)
    if op == "/":  # always a decimal
        return _decimal_literal(_decimal_div(x if da else x * _POW, y if db else y * _POW))
    if not da and not db:
        v = x + y if op == "+" else x - y if op == "-" else x * y
        return ox.Literal(str(_checked(v, _I64_MIN, _I64_MAX)), datatype=_INTEGER)
    x, y = (x if da else x * _POW), (y if db else y * _POW)
    if op == "*":
        return _decimal_literal(_decimal_mul(x, y))
    return _decimal_literal(_checked(x + y if op == "+" else x - y, _I128_MIN, _I128_MAX))


def _text_of(fn: Expr) -> Callable[[dict, tuple], str]:
    """An argument of a string function as fn(solution, parts) -> str: ``_string_arg`` of its value, or what
    the expression gives for it without making the literal first (``.text``: STR, a string constant)."""
    text = getattr(fn, "text", None)
    if text is not None:
        return text
    return lambda mu, parts: _string_arg(fn(mu, parts))


def _string_arg(t) -> str:
    if t is None or type(t) is not ox.Literal:
        raise _Error()
    if t.language is not None:
        raise Fallback("a language-tagged string")
    if t.datatype != _STRING:
        raise _Error()
    return t.value


# ---------------------------------------------------------------------------------------------------
# Expressions: compiled into fn(solution, parts) -> term, raising _Error or Fallback

Expr = Callable[[dict, tuple], object]


def _compile_expr(e) -> Expr:
    if isinstance(e, Variable):
        name = str(e)
        return lambda mu, parts: mu.get(name)
    if isinstance(e, (URIRef, Literal)):
        const = _to_ox(e)
        fn = lambda mu, parts: const  # noqa: E731
        if type(const) is ox.Literal and const.language is None and const.datatype == _STRING:
            value = const.value
            fn.text = lambda mu, parts: value  # type: ignore[attr-defined]  # (``_text_of``)
        return fn
    if not isinstance(e, CompValue):
        raise Unsupported(f"an expression {e!r}")
    name = e.name
    compiler = _EXPRESSIONS.get(name)
    if compiler is None:
        raise Unsupported(f"the SPARQL expression {name}")
    fn = compiler(e)
    fn.costly = _has_exists(e)  # type: ignore[attr-defined]
    return fn


#: rdflib's names of the EXISTS and NOT EXISTS operators
EXISTS_OPERATORS = ("Builtin_EXISTS", "Builtin_NOTEXISTS")


def _has_exists(node) -> bool:
    """Whether an expression holds an EXISTS or NOT EXISTS (a pattern to match, not a value to compute)."""
    if isinstance(node, CompValue):
        return node.name in EXISTS_OPERATORS or any(_has_exists(v) for v in node.values())
    if isinstance(node, (list, tuple)):
        return any(_has_exists(v) for v in node)
    return False


def _value(fn: Expr, mu, parts):
    """An argument's value: an unbound variable is an error."""
    v = fn(mu, parts)
    if v is None:
        raise _Error()
    return v


def _relational(e) -> Expr:
    left, op = _compile_expr(e.expr), e.op
    if op in ("IN", "NOT IN"):
        others = [_compile_expr(x) for x in e.other]

        def in_(mu, parts):
            a = _value(left, mu, parts)
            error = None
            for o in others:
                try:
                    if _equal(a, _value(o, mu, parts)):
                        return _FALSE if op == "NOT IN" else _TRUE
                except _Error as err:
                    error = err
            if error is not None:
                raise error
            return _TRUE if op == "NOT IN" else _FALSE

        return in_
    right = _compile_expr(e.other)
    if op == "=":
        return lambda mu, parts: _TRUE if _equal(left(mu, parts), right(mu, parts)) else _FALSE
    if op == "!=":
        return lambda mu, parts: _FALSE if _equal(left(mu, parts), right(mu, parts)) else _TRUE
    if op == "<":
        return lambda mu, parts: _TRUE if _less(left(mu, parts), right(mu, parts)) else _FALSE
    if op == ">":
        return lambda mu, parts: _TRUE if _less(right(mu, parts), left(mu, parts)) else _FALSE
    if op == "<=":

        def le(mu, parts):
            a, b = left(mu, parts), right(mu, parts)
            return _TRUE if _less(a, b) or _equal(a, b) else _FALSE

        return le
    if op == ">=":

        def ge(mu, parts):
            a, b = left(mu, parts), right(mu, parts)
            return _TRUE if _less(b, a) or _equal(a, b) else _FALSE

        return ge
    raise Unsupported(f"the operator {op}")


def _logical(e) -> Expr:
    args = [_compile_expr(e.expr)] + [_compile_expr(x) for x in (e.other or [])]
    conj = e.name == "ConditionalAndExpression"

    def run(mu, parts):
        error = None
        for a in args:
            try:
                v = _ebv(a(mu, parts))
            except _Error as err:
                error = err
                continue
            if v is not conj:  # false in a conjunction, true in a disjunction decides
                return _TRUE if v else _FALSE
        if error is not None:
            raise error
        return _TRUE if conj else _FALSE

    return run


def _not(e) -> Expr:
    arg = _compile_expr(e.expr)
    return lambda mu, parts: _FALSE if _ebv(arg(mu, parts)) else _TRUE


def _additive(e) -> Expr:
    first = _compile_expr(e.expr)
    rest = list(zip(e.op or [], [_compile_expr(x) for x in (e.other or [])], strict=True))

    def run(mu, parts):
        v = _value(first, mu, parts)
        for op, fn in rest:
            v = _arith(op, v, _value(fn, mu, parts))
        return v

    return run


def _if(e) -> Expr:
    cond, then, else_ = _compile_expr(e.arg1), _compile_expr(e.arg2), _compile_expr(e.arg3)
    return lambda mu, parts: _value(then if _ebv(cond(mu, parts)) else else_, mu, parts)


def _bound(e) -> Expr:
    if not isinstance(e.arg, Variable):
        raise Unsupported("BOUND of a non-variable")
    name = str(e.arg)
    return lambda mu, parts: _TRUE if mu.get(name) is not None else _FALSE


def _coalesce(e) -> Expr:
    args = [_compile_expr(a) for a in e.arg]

    def run(mu, parts):
        for a in args:
            try:
                v = a(mu, parts)
            except _Error:
                continue
            if v is not None:
                return v
        raise _Error()

    return run


def _str(e) -> Expr:
    arg = _compile_expr(e.arg)

    def text(mu, parts) -> str:
        v = _value(arg, mu, parts)
        if type(v) is ox.NamedNode or type(v) is ox.Literal:
            return v.value
        raise _Error()

    def run(mu, parts):
        return ox.Literal(text(mu, parts))

    run.text = text  # type: ignore[attr-defined]  # (``_text_of``: the string, the literal not made)
    return run


def _concat(e) -> Expr:
    texts = [_text_of(_compile_expr(a)) for a in e.arg]
    return lambda mu, parts: ox.Literal("".join([t(mu, parts) for t in texts]))


def _iri(e) -> Expr:
    arg = _compile_expr(e.arg)

    def run(mu, parts):
        v = _value(arg, mu, parts)
        if type(v) is ox.NamedNode:
            return v
        text = _string_arg(v)
        if ":" not in text:
            raise Fallback("a relative IRI")
        try:
            return ox.NamedNode(text)
        except ValueError as err:
            raise Fallback("an invalid IRI") from err

    return run


def _strafter(e) -> Expr:
    a, b = _text_of(_compile_expr(e.arg1)), _text_of(_compile_expr(e.arg2))

    def run(mu, parts):
        x, y = a(mu, parts), b(mu, parts)
        i = x.find(y)
        return ox.Literal(x[i + len(y) :] if i >= 0 else "")

    return run


def _term_test(e) -> Expr:
    arg = _compile_expr(e.arg)
    kind = {"Builtin_isIRI": ox.NamedNode, "Builtin_isURI": ox.NamedNode, "Builtin_isBLANK": ox.BlankNode}.get(
        e.name, ox.Literal
    )
    return lambda mu, parts: _TRUE if type(_value(arg, mu, parts)) is kind else _FALSE


def _string_test(e) -> Expr:
    a, b = _text_of(_compile_expr(e.arg1)), _text_of(_compile_expr(e.arg2))
    test = {"Builtin_STRSTARTS": str.startswith, "Builtin_STRENDS": str.endswith, "Builtin_CONTAINS": str.__contains__}[
        e.name
    ]
    return lambda mu, parts: _TRUE if test(a(mu, parts), b(mu, parts)) else _FALSE


def _floor(e) -> Expr:
    arg = _compile_expr(e.arg)

    def run(mu, parts):
        is_decimal, v = _number(_value(arg, mu, parts))
        if not is_decimal:
            return ox.Literal(str(v), datatype=_INTEGER)
        whole = v // _POW  # (Python's floor division: oxigraph's checked_floor)
        return _decimal_literal(_checked(whole * _POW, _I128_MIN, _I128_MAX))

    return run


def _is_numeric(e) -> Expr:
    arg = _compile_expr(e.arg)

    def run(mu, parts):
        v = _value(arg, mu, parts)
        if type(v) is not ox.Literal or v.language is not None:
            return _FALSE
        if v.datatype == _INTEGER or v.datatype == _DECIMAL:
            _kind(v)  # an invalid lexical form: Fallback
            return _TRUE
        if v.datatype.value in _NUMERIC_OTHER:
            raise Fallback("isNUMERIC of a derived numeric type")
        return _FALSE

    return run


def _exists(e) -> Expr:
    graph = e.graph
    if isinstance(graph, CompValue) and graph.name == "GroupGraphPatternSub":
        graph = translateGroupGraphPattern(graph)
    plan = _compile_pattern(graph)
    negated = e.name == "Builtin_NOTEXISTS"

    if isinstance(plan, _Bgp):  # (the usual EXISTS: a BGP, its filters pushed in): depth first
        bgp = plan
        return lambda mu, parts: (
            (_FALSE if negated else _TRUE) if bgp.exists(mu, parts) else (_TRUE if negated else _FALSE)
        )

    def run(mu, parts):
        for _ in plan.run(mu, parts):
            return _FALSE if negated else _TRUE
        return _TRUE if negated else _FALSE

    return run


def _unary_minus(e) -> Expr:
    arg = _compile_expr(e.expr)
    zero = ox.Literal("0", datatype=_INTEGER)
    return lambda mu, parts: _arith("-", zero, _value(arg, mu, parts))


_EXPRESSIONS: dict[str, Callable[[CompValue], Expr]] = {
    "RelationalExpression": _relational,
    "ConditionalAndExpression": _logical,
    "ConditionalOrExpression": _logical,
    "UnaryNot": _not,
    "AdditiveExpression": _additive,
    "MultiplicativeExpression": _additive,
    "UnaryMinus": _unary_minus,
    "Builtin_IF": _if,
    "Builtin_BOUND": _bound,
    "Builtin_COALESCE": _coalesce,
    "Builtin_STR": _str,
    "Builtin_CONCAT": _concat,
    "Builtin_IRI": _iri,
    "Builtin_URI": _iri,
    "Builtin_STRAFTER": _strafter,
    "Builtin_FLOOR": _floor,
    "Builtin_isIRI": _term_test,
    "Builtin_isURI": _term_test,
    "Builtin_isBLANK": _term_test,
    "Builtin_isLITERAL": _term_test,
    "Builtin_STRSTARTS": _string_test,
    "Builtin_STRENDS": _string_test,
    "Builtin_CONTAINS": _string_test,
    "Builtin_isNUMERIC": _is_numeric,
    "Builtin_EXISTS": _exists,
    "Builtin_NOTEXISTS": _exists,
}


def _filter_passes(fn: Expr, mu, parts) -> bool:
    try:
        return _ebv(fn(mu, parts))
    except _Error:
        return False


# ---------------------------------------------------------------------------------------------------
# Graph patterns: compiled into plans with run(mu, parts) -> iterator of solutions extending mu


class _Plan:
    #: variables its solutions may bind
    vars: frozenset = frozenset()
    #: variables it certainly binds before anything in it reads them: substituting one of them by a
    #: constant selects its solutions with that value (so a join may pass them in)
    safe: frozenset = frozenset()
    #: variables it binds or reads anywhere (a filter, a BIND, an EXISTS): a join passes a value only
    #: into an operand that does not mention the variable or certainly binds it first (``safe``)
    mentions: frozenset = frozenset()
    #: its solutions extend what is passed in (keep every binding of mu): all but a projection's
    extends: bool = True
    #: a join passes its left row whole to a BGP that reads only its own variables (``_takes_the_row``): a
    #: switch for the benchmarks
    whole_rows = True
    #: the operand's tree compiled (``_operand_rows``: an operator the compiled trees run as itself)
    _tree: Callable | None = None
    _tree_made = False

    def run(self, mu: dict, parts: tuple) -> Iterator[dict]:  # pragma: no cover - abstract
        raise NotImplementedError

    def push(self, test: Expr, reads: frozenset, domain: tuple | None = None) -> bool:
        """Take a FILTER conjunct that reads the variables ``reads`` from the filter above, to test it as
        soon as they are bound (``domain``: the IRIs the test admits for one variable, ``_domain``);
        False when this operator cannot (the filter above keeps it)."""
        return False


def _operand_rows(owner, mu: dict, parts: tuple):
    """The rows of the operand ``owner.p`` of an operator the compiled trees run as itself (ORDER BY, DISTINCT,
    an aggregate, a subquery): from the operand's tree compiled as a function of its own (``plan_source``),
    made at its first run, as ``QueryPlan`` compiles its root; else, or when switched off, its generators."""
    if not QueryPlan.generated:
        return owner.p.run(mu, parts)
    if not owner._tree_made:
        owner._tree, owner._tree_made = plan_source.compiled(owner.p, _TREE_HELPERS), True
    tree = owner._tree
    if tree is None:
        return owner.p.run(mu, parts)
    rows = tree(mu, parts)
    if QueryPlan.check_tree:
        _same_solutions(owner.p, rows, list(owner.p.run(mu, parts)), tree)
    return rows


def _compatible(a: dict, b: dict, names) -> bool:
    for n in names:
        x, y = a.get(n), b.get(n)
        if x is not None and y is not None and x != y:
            return False
    return True


#: numbers the fresh variables of expanded paths, unique in the process: an EXISTS is given the row of the
#: BGP that tests it, blank variables included, so a name reused in the EXISTS's own BGP would be compared
#: with the outer one (a review found a solution dropped so, before the names were unique)
_PATH_NODES = itertools.count()


def _expand_paths(triples) -> list:
    """Top-level sequence and inverse paths as triple patterns through fresh variables, as spargebra
    translates them (so their solutions keep their multiplicity; the other paths answer distinct pairs)."""
    out: list = []
    fresh = _PATH_NODES

    def add(s, p, o):
        if isinstance(p, InvPath):
            add(o, p.arg, s)
        elif isinstance(p, SequencePath):
            nodes = [s] + [BNode(f"kgr-path-{next(fresh)}") for _ in p.args[1:]] + [o]
            for i, step in enumerate(p.args):
                add(nodes[i], step, nodes[i + 1])
        else:
            out.append((s, p, o))

    for s, p, o in triples:
        add(s, p, o)
    return out


class _Bgp(_Plan):
    def __init__(self, triples):
        self.patterns = []
        names: set = set()
        for s, p, o in _expand_paths(triples):
            pat = []
            for i, t in enumerate((s, p, o)):
                if isinstance(t, Variable):
                    names.add(str(t))
                    pat.append(("var", str(t)))
                elif isinstance(t, BNode):  # a blank node of a pattern is a variable scoped to the BGP
                    names.add("_:" + str(t))
                    pat.append(("var", "_:" + str(t)))
                elif i == 1 and not isinstance(t, URIRef):
                    pat.append(("path", _compile_path(t)))
                else:
                    pat.append(("const", _to_ox(t)))
            self.patterns.append(tuple(pat))
        self.vars = frozenset(n for n in names if not n.startswith("_:"))
        self.safe = self.mentions = self.vars
        #: (bit, variable) for each variable: ``run`` and ``exists`` key the join steps by the bits of those bound
        self._bits = tuple((1 << i, name) for i, name in enumerate(sorted(self.vars)))

        self.blank = any(n.startswith("_:") for n in names)
        #: the join order and binding steps for each set of variables bound on entry (by its ``_bits``)
        self._steps: dict = {}
        #: the same steps one by one (``exists``)
        self._single: dict = {}
        #: FILTER conjuncts pushed down (``push``): (test, the variables of this BGP it reads)
        self.filters: list = []
        #: variable -> IRI lists it must be one of (``_domain``): it is bound from them, not scanned for
        self.domains: dict = {}

    def push(self, test, reads, domain=None) -> bool:
        self.mentions = self.mentions | reads
        self.filters.append((test, reads & self.vars))
        if domain is not None and domain[0] in self.vars:
            self.domains.setdefault(domain[0], []).append(domain[1])
        self._steps.clear()
        self._single.clear()
        return True

    def _plan(self, mask: int, parts) -> tuple:
        """(bound, first tests, steps, compiled source) for the variables of ``mask`` bound on entry."""
        bound = frozenset(name for bit, name in self._bits if mask & bit)
        first, steps = self._order(bound, parts[0] if parts else TripleIndex())
        plan = self._steps[mask] = (
            bound,
            first,
            steps,
            step_source.compiled(steps, _solve, _filter_passes, predicate_id),
        )
        return plan

    #: run the steps' compiled source (``step_source``), not the interpreter (``_solve``): a switch for the
    #: benchmarks; ``check_source``: run both and compare (the tests)
    generated = True
    check_source = False

    def run(self, mu, parts):
        # The plan, (bound, first tests, join steps, compiled source), for the variables of ``mu`` bound on entry
        # (made once per set of them), found here and in ``exists`` without a call: a BGP runs some 90 times a
        # patient, and a call of its own cost 0.2 % / 0.6 % of the instructions per summary row / full explanation.
        # (The plans are kept by which of its variables mu binds, as the bits of a number: mu can hold many more
        # names than the BGP has, so testing the BGP's few names is cheaper than intersecting.)
        mask = 0
        for bit, name in self._bits:
            if name in mu:
                mask |= bit
        plan = self._steps.get(mask)
        if plan is None:
            plan = self._plan(mask, parts)
        _bound, first, steps, source = plan
        if first:
            for t in first:
                if not _filter_passes(t, mu, parts):
                    return ()
        if not self.generated:
            source = None
        if source is None:
            sols = _solve(steps, mu, parts)  # (a list, not a generator: a BGP runs breadth first anyway)
        else:
            sols = source[0](mu, parts)
            if self.check_source:
                _same_solutions(steps, sols, _solve(steps, mu, parts), source[0])
        if self.blank:
            return [{k: v for k, v in nu.items() if not k.startswith("_:")} for nu in sols]
        return sols

    def exists(self, mu, parts) -> bool:
        """Whether the BGP has a solution extending mu: depth first, one step at a time, stopping at the
        first (``run`` is breadth first and finds them all; EXISTS needs one)."""
        # (the plan found as ``run`` finds it, without a call)
        mask = 0
        for bit, name in self._bits:
            if name in mu:
                mask |= bit
        plan = self._steps.get(mask)
        if plan is None:
            plan = self._plan(mask, parts)
        bound, first, steps, source = plan
        if first:
            for t in first:
                if not _filter_passes(t, mu, parts):
                    return False
        if not steps:
            return True
        if not self.generated:
            source = None
        if source is not None:
            found = source[1](mu, parts)
            if self.check_source:
                try:
                    interpreted = bool(_solve(steps, mu, parts))
                except Fallback:  # (a later row the interpreter tests too; the first solution decides)
                    interpreted = found
                _same_solutions(steps, [found], [interpreted], source[1])
            return found
        single = self._single.get(bound)
        if single is None:
            single = self._single[bound] = _stages(steps)
        last = len(single)
        pending = [(0, mu)]
        while pending:
            i, m = pending.pop()
            nus = _solve(single[i], m, parts)
            if i + 1 == last:
                if nus:
                    return True
            else:
                pending.extend((i + 1, nu) for nu in reversed(nus))
        return False

    def _order(self, bound: frozenset, static: TripleIndex) -> tuple:
        """The patterns in a greedy join order (among those joined to what is bound, the one with the
        fewest expected matches, by the first part's statistics: the ontology's), each as a step: for
        each position a constant, a bound variable's name, or a variable it binds, and the filter tests
        it runs: as soon as what they read is bound, except a test holding an EXISTS (a pattern matched
        for each row), which runs after the last step. Computed once per set of variables bound on entry
        (the order changes the time, never the solutions)."""
        known, todo = set(bound), list(self.patterns)
        steps: list = []
        waiting = list(self.filters)
        first = tuple(t for t, needs in waiting if needs <= known)
        waiting = [(t, needs) for t, needs in waiting if not needs <= known]
        for var, lists in self.domains.items():  # a variable a filter keeps to a few IRIs: bound from them
            if var in known:
                continue
            values = tuple(v for v in lists[0] if all(v in other for other in lists[1:]))
            known.add(var)
            tests = tuple(t for t, needs in waiting if needs <= known)
            waiting = [(t, needs) for t, needs in waiting if not needs <= known]
            steps.append((((False, None),) * 3, ((0, var),), _values_of(values), tests))
        while todo:
            joined = [pat for pat in todo if _joined(pat, known)] or todo
            costs = [_estimate(pat, known, static) for pat in joined]
            pat = joined[costs.index(min(costs))]  # the first of equals: the written order
            todo.remove(pat)
            get, binds, new = [], [], set()
            for i, (kind, v) in enumerate(pat):
                if kind == "var" and v in new:  # twice in one pattern: bound by the match, checked
                    get.append((False, None))
                    binds.append((i, v))
                elif kind == "var" and v in known:
                    get.append((True, v))
                elif kind == "var":
                    get.append((False, None))
                    binds.append((i, v))
                    new.add(v)
                else:
                    get.append((False, v if kind == "const" else None))
            known |= new
            path = pat[1][1] if pat[1][0] == "path" else None
            ready = [(t, needs) for t, needs in waiting if needs <= known and (not todo or not _costly(t))]
            tests = tuple(t for t, _needs in ready)
            waiting = [w for w in waiting if w not in ready]
            steps.append((tuple(get), tuple(binds), path, tests))
        return first, _tests_after_lookups(steps)


def _same_solutions(steps, generated: list, interpreted: list, fn) -> None:
    if generated != interpreted:
        raise AssertionError(
            f"the compiled steps answer differently from the interpreter:\n{fn.source}\nsteps: {steps}\n"
            f"compiled: {generated}\ninterpreted: {interpreted}"
        )


def _costly(test) -> bool:
    """Whether a compiled test holds an EXISTS (``_compile_expr``); a variable's value costs nothing."""
    return getattr(test, "costly", False)


def _tests_a_bound_triple(step: tuple) -> bool:
    """A step that binds nothing and walks no path: it only looks its (bound) triple up."""
    return not step[1] and step[2] is None


def _stages(steps: tuple) -> tuple:
    """The steps as ``exists`` runs them depth first: each step that binds a variable (or walks a path)
    with the bound-triple tests right after it, which check its solutions in the same ``_solve`` call
    (not one call per solution)."""
    stages: list = []
    for step in steps:
        if stages and _tests_a_bound_triple(step):
            stages[-1].append(step)
        else:
            stages.append([step])
    return tuple(tuple(stage) for stage in stages)


def _tests_after_lookups(steps: list) -> tuple:
    """The steps with each step's filter tests moved past the steps right after it that only look a triple
    up (everything bound, no path): a dict lookup per part is far cheaper than a filter expression, and
    it drops most rows first. The conjuncts of a BGP's filters and its patterns commute (a test that
    raises an error fails its row wherever it runs), so the solutions are the same."""
    out = list(steps)
    for i in range(len(out) - 1):
        get, binds, path, tests = out[i]
        j = i + 1
        while tests and j < len(out) and _tests_a_bound_triple(out[j]):
            j += 1
        if j > i + 1:
            out[i] = (get, binds, path, ())
            nget, nbinds, npath, ntests = out[j - 1]
            out[j - 1] = (nget, nbinds, npath, tests + ntests)
    return tuple(out)


def _values_of(values: tuple):
    """A BGP step that binds a variable to each of ``values`` (as a path answering (value, None))."""
    pairs = [(v, None) for v in values]
    fn = lambda parts, s, o: pairs  # noqa: E731
    fn.values = values  # type: ignore[attr-defined]  # (read by the compiled steps, ``step_source``)
    return fn


def _joined(pat, known) -> bool:
    """The pattern shares a variable with what is bound, or has none (no cross product)."""
    names = [v for kind, v in pat if kind == "var"]
    return not names or any(v in known for v in names)


#: a guess of a patient's triples per predicate (her graphs are small; the ontology's are counted)
_PATIENT_SHARE = 5


_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
_SUBCLASS_OF = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#subClassOf")


def _estimate(pat, known, static: TripleIndex) -> float:
    """Expected matches of a pattern once ``known`` are bound."""
    (sk, sv), (pk, pv), (ok, ov) = pat
    s_bound = sk == "const" or (sk == "var" and sv in known)
    o_bound = ok == "const" or (ok == "var" and ov in known)
    if s_bound and o_bound:
        return 0.5
    if pk == "const":
        n, ds, do = static.stats(pv)
        n += _PATIENT_SHARE
        if s_bound and sk == "var" and pv == _TYPE:
            # the types of a node bound at run time, which may be a patient's: the data is closed under
            # rdfs:subClassOf (OWL 2 RL), so a node of a class has the types of its superclasses too, more
            # than the ontology's own individuals show
            supers, classes, _ = static.stats(_SUBCLASS_OF)
            return max(1.0, n / max(ds, 1), 1 + supers / max(classes, 1))
        if s_bound:
            return max(1.0, n / max(ds, 1))
        if o_bound:
            return max(1.0, n / max(do, 1))
        return float(n)
    if pk == "path":
        n = sum(static.stats(p)[0] + _PATIENT_SHARE for p in getattr(pv, "preds", ())) or 1000
        return 3.0 if s_bound or o_bound else float(n)
    if s_bound or o_bound:  # a variable predicate
        return 10.0 if pv in known else 30.0
    return float(len(static.triples) + 1000)


def _solve(steps: tuple, mu: dict, parts: tuple) -> list[dict]:
    """The BGP's solutions extending mu, step by step (breadth first: a patient's graphs are small)."""
    sols = [mu]
    for get, binds, path, tests in steps:
        (s_var, s_const), (p_var, p_const), (o_var, o_const) = get
        out: list = []
        append = out.append
        # a step that binds one variable (bound before by nothing: no value to compare) needs no check
        one = binds[0] if len(binds) == 1 else None
        for m in sols:
            s = m[s_const] if s_var else s_const
            p = m[p_const] if p_var else p_const
            o = m[o_const] if o_var else o_const
            if path is not None:
                matches: Iterator | list = [(a, None, b) for a, b in path(parts, s, o)]
            elif p is not None and s is not None and o is not None:
                # everything bound (nothing to bind: a test): m once for each part that holds the triple,
                # if it passes the filter tests moved here (``_tests_after_lookups``)
                key = (s, p)
                held = 0
                for idx in parts:
                    objs = idx.sp.get(key)
                    if objs and o in objs:
                        held += 1
                if held and (not tests or all(_filter_passes(t, m, parts) for t in tests)):
                    out.extend([m] * held)
                continue
            elif p is not None and one is not None and (s is None) != (o is None):
                # the common steps: one variable bound from a direct lookup, the objects of (s, p) or
                # the subjects of (p, o)
                name, by_object = one[1], o is None
                key = (s, p) if by_object else (p, o)
                for idx in parts:
                    found = (idx.sp if by_object else idx.po).get(key)
                    if found:
                        for term in found:
                            nu = m.copy()
                            nu[name] = term
                            if not tests or all(_filter_passes(t, nu, parts) for t in tests):
                                append(nu)
                continue
            else:
                matches = _match(parts, s, p, o)
            if not binds:  # (a path between bound ends; the tests it carries read only what m binds)
                held = sum(1 for _ in matches)
                if held and (not tests or all(_filter_passes(t, m, parts) for t in tests)):
                    out.extend([m] * held)
                continue
            if one is not None:
                pos, name = one
                for triple in matches:
                    nu = m.copy()
                    nu[name] = triple[pos]
                    if not tests or all(_filter_passes(t, nu, parts) for t in tests):
                        append(nu)
                continue
            for triple in matches:
                nu = m.copy()
                ok = True
                for pos, name in binds:
                    term = triple[pos]
                    bound = nu.get(name)
                    if bound is None:
                        nu[name] = term
                    elif bound != term:  # the same variable twice in one pattern
                        ok = False
                        break
                if ok and (not tests or all(_filter_passes(t, nu, parts) for t in tests)):
                    append(nu)
        sols = out
        if not sols:
            break
    return sols


def _compile_path(path):
    """A property path as fn(parts, s or None, o or None) -> set of (s, o) pairs (distinct, as oxigraph);
    ``fn.preds``: the predicates it reads (for join ordering)."""
    fn = _compile_path_fn(path)
    fn.preds = [ox.NamedNode(str(p)) for p in _path_predicates(path)]
    return fn


def _path_predicates(path) -> list:
    if isinstance(path, URIRef):
        return [path]
    return [
        p
        for sub in (getattr(path, "args", None) or [getattr(path, "path", None) or getattr(path, "arg", None)])
        if sub is not None
        for p in _path_predicates(sub)
    ]


def _compile_path_fn(path):
    if isinstance(path, URIRef):
        p = ox.NamedNode(str(path))
        return lambda parts, s, o: {(a, c) for a, _, c in _match(parts, s, p, o)}
    if isinstance(path, AlternativePath):
        alts = [_compile_path(a) for a in path.args]
        return lambda parts, s, o: set().union(*(a(parts, s, o) for a in alts))
    if isinstance(path, InvPath):
        inner = _compile_path(path.arg)
        return lambda parts, s, o: {(b, a) for a, b in inner(parts, o, s)}
    if isinstance(path, SequencePath):
        steps = [_compile_path(a) for a in path.args]

        def seq(parts, s, o):
            if s is None and o is not None:  # walk backwards from the bound end
                ends = {(o, o)}
                for step in reversed(steps):
                    ends = {(a, end) for mid, end in ends for a, _ in step(parts, None, mid)}
                return ends
            frontier = {(s, s)} if s is not None else None
            for i, step in enumerate(steps):
                last = i == len(steps) - 1
                if frontier is None:
                    frontier = step(parts, None, o if last else None)
                    continue
                frontier = {(start, b) for start, mid in frontier for _, b in step(parts, mid, o if last else None)}
            return frontier or set()

        return seq
    if isinstance(path, MulPath):
        step = _compile_path(path.path)
        zero, more = path.mod in ("*", "?"), path.mod in ("*", "+")

        def closure(parts, s, o):
            if s is None and o is None:
                raise Fallback("a repeated path with both ends unbound")
            forward = s is not None
            start = s if forward else o
            # a zero-length path starts only from a node of the graph (a subject or an object), as in oxigraph
            seen: set = {start} if zero and any(start in idx.s or start in idx.o for idx in parts) else set()
            frontier = {start}
            while frontier:
                nxt = set()
                for node in frontier:
                    pairs = step(parts, node, None) if forward else step(parts, None, node)
                    for a, b in pairs:
                        other = b if forward else a
                        if other not in seen:
                            seen.add(other)
                            nxt.add(other)
                frontier = nxt if more else set()
            ends = {(start, n) for n in seen} if forward else {(n, start) for n in seen}
            if forward and o is not None:
                return {(a, b) for a, b in ends if b == o}
            return ends

        return closure
    raise Unsupported(f"the property path {path!r}")


def _of_both(a: _Plan, b: _Plan) -> tuple[frozenset, frozenset, frozenset]:
    """vars, mentions and safe of an operator over both operands' solutions (a join, a union): a variable
    is safe when each operand that mentions it binds it safely."""
    safe = frozenset(
        x for x in a.vars | b.vars if (x not in a.mentions or x in a.safe) and (x not in b.mentions or x in b.safe)
    )
    return a.vars | b.vars, a.mentions | b.mentions, safe


class _Join(_Plan):
    _whole = functools.cached_property(lambda self: _passes_whole_rows(self))

    def __init__(self, a: _Plan, b: _Plan):
        self.a, self.b = a, b
        self.vars, self.mentions, self.safe = _of_both(a, b)
        self.check = b.vars - b.safe  # shared variables the right operand may leave unbound or read first
        self.extends = a.extends

    def push(self, test, reads, domain=None) -> bool:
        # into the operand that certainly binds every variable of this join the test reads: there they
        # are bound to the values the join's solution has
        mine = reads & self.vars
        if (mine <= self.a.safe and self.a.push(test, reads, domain)) or (
            mine <= self.b.safe and self.b.push(test, reads, domain)
        ):
            self.mentions = self.mentions | reads
            return True
        return False

    def run(self, mu, parts):
        b, safe_b, check = self.b, tuple(self.b.safe), self.check
        if self.whole_rows and self._whole:
            for left in self.a.run(mu, parts):
                yield from b.run(left, parts)
            return
        for left in self.a.run(mu, parts):
            for right in b.run(_passing(mu, left, safe_b), parts):
                if check and not _compatible(left, right, check):
                    continue
                yield {**left, **right}


def _takes_the_row(a: _Plan, b: _Plan) -> bool:
    """Whether a join may pass its left operand's whole row to the right one, whose solutions are then
    the joined rows: the right one a BGP reading only its own variables (its tests too), which it binds
    before reading them (``safe``), so the left row's other values pass through it untouched; and the
    left row extends what the join was passed (its solution ``{**left, **right}`` keeps that)."""
    return a.extends and isinstance(b, _Bgp) and b.mentions <= b.vars


def _passes_whole_rows(join) -> bool:
    """``_takes_the_row`` of a join's operands, read when it first runs (a FILTER above may push a test into
    its right operand after the join is built, until the whole query is compiled)."""
    return _takes_the_row(join.a, join.b)


def _passing(mu: dict, left: dict, names: tuple) -> dict:
    """What a join passes to its right operand: its own bindings, and the left solution's values of the
    variables the right operand certainly binds (``safe``)."""
    passed = dict(mu)
    for x in names:
        v = left.get(x)
        if v is not None:
            passed[x] = v
    return passed


class _LeftJoin(_Plan):
    _whole = functools.cached_property(lambda self: _passes_whole_rows(self))

    def __init__(self, a: _Plan, b: _Plan, expr):
        self.a, self.b = a, b
        self.expr = None if _is_true_filter(expr) else _compile_expr(expr)
        self.vars = a.vars | b.vars
        self.mentions = (
            a.mentions | b.mentions | (frozenset(_mentioned(expr)) if self.expr is not None else frozenset())
        )
        self.safe = frozenset(x for x in a.safe if x not in b.mentions or x in b.safe)
        self.check = b.vars - b.safe
        self.extends = a.extends

    def push(self, test, reads, domain=None) -> bool:
        if reads & self.vars <= self.a.safe and self.a.push(test, reads, domain):
            self.mentions = self.mentions | reads
            return True
        return False

    def run(self, mu, parts):
        b, safe_b, check, expr = self.b, tuple(self.b.safe), self.check, self.expr
        whole = self.whole_rows and self._whole
        for left in self.a.run(mu, parts):
            found = False
            for right in b.run(left if whole else _passing(mu, left, safe_b), parts):
                if whole:
                    merged = right  # (the left row, extended)
                elif check and not _compatible(left, right, check):
                    continue
                else:
                    merged = {**left, **right}
                if expr is not None and not _filter_passes(expr, merged, parts):
                    continue
                found = True
                yield merged
            if not found:
                yield left


class _Filter(_Plan):
    def __init__(self, tests: list, p: _Plan, reads: frozenset):
        self.p, self.tests = p, tests
        self.vars, self.safe, self.mentions = p.vars, p.safe, p.mentions | reads
        self.extends = p.extends

    def run(self, mu, parts):
        tests = self.tests
        for nu in self.p.run(mu, parts):
            if all(_filter_passes(t, nu, parts) for t in tests):
                yield nu

    def push(self, test, reads, domain=None) -> bool:
        self.mentions = self.mentions | reads
        if not self.p.push(test, reads, domain):
            self.tests.append(test)  # (filters commute: a solution passes when it passes each)
        return True


def _filtered(expr, p: _Plan) -> _Plan:
    """FILTER(expr) over p: each conjunct of expr pushed as far down as it keeps its meaning (tested as
    soon as the variables it reads are bound, on the same values), the rest tested above."""
    kept: list = []
    kept_reads: frozenset = frozenset()
    for conjunct in _conjuncts(expr):
        test, reads = _compile_expr(conjunct), frozenset(_mentioned(conjunct))
        if not p.push(test, reads, _domain(conjunct)):
            kept.append(test)
            kept_reads |= reads
    return _Filter(kept, p, kept_reads) if kept else p


def _domain(expr) -> tuple | None:
    """(variable, IRIs) for ``?x = <iri>`` or ``?x IN (<iri>, ...)``: the variable can only take those
    values (IRIs are equal only when identical), so a BGP may bind it from them instead of scanning."""
    if not (isinstance(expr, CompValue) and expr.name == "RelationalExpression" and isinstance(expr.expr, Variable)):
        return None
    if expr.op == "=":
        values = [expr.other]
    elif expr.op == "IN":
        values = list(expr.other)
    else:
        return None
    if not values or not all(isinstance(v, URIRef) for v in values):
        return None
    return str(expr.expr), tuple(dict.fromkeys(ox.NamedNode(str(v)) for v in values))


def _conjuncts(expr) -> list:
    if isinstance(expr, CompValue) and expr.name == "ConditionalAndExpression":
        return [c for part in [expr.expr, *(expr.other or [])] for c in _conjuncts(part)]
    return [expr]


def _mentioned(node) -> set:
    """Every variable an expression mentions, inside its EXISTS patterns too (more is safe: later)."""
    if isinstance(node, Variable):
        return {str(node)}
    if isinstance(node, CompValue):
        return set().union(set(), *(_mentioned(v) for k, v in node.items() if k != "_vars"))
    if isinstance(node, (list, tuple)):
        return set().union(set(), *(_mentioned(v) for v in node))
    if isinstance(node, dict):  # (VALUES rows: variables as keys)
        return set().union(set(), *(_mentioned(k) | _mentioned(v) for k, v in node.items()))
    return set()


class _Extend(_Plan):
    def __init__(self, p: _Plan, var, expr):
        self.p, self.name, self.expr = p, str(var), _compile_expr(expr)
        self.vars = p.vars | {self.name}
        self.safe = p.safe - {self.name}
        self.mentions = p.mentions | _mentioned(expr) | {self.name}
        self.extends = p.extends
        # a BIND over a BIND runs as one operator: the BINDs in order over the innermost operand's solutions,
        # each row copied once (not one generator and one copy per BIND); a FILTER pushed into this one still
        # goes down through each (``push``), and none keeps it
        inner = p if type(p) is _Extend else None
        self._binds: tuple = (inner._binds if inner is not None else ()) + ((self.name, self.expr),)
        self._base: _Plan = inner._base if inner is not None else p

    def push(self, test, reads, domain=None) -> bool:
        if self.name not in reads and self.p.push(test, reads, domain):
            self.mentions = self.mentions | reads
            return True
        return False

    def run(self, mu, parts):
        binds = self._binds
        for nu in self._base.run(mu, parts):
            yield _extended(binds, nu, parts)


def _extended(binds: tuple, nu: dict, parts) -> dict:
    """A row with the BINDs ((name, expression) in order) evaluated on it: a new dict when one binds a value,
    else the row itself (an error leaves the variable unbound)."""
    out, copied = nu, False
    for name, expr in binds:
        if name in out:
            raise Fallback("BIND to a variable already bound")
        try:
            v = expr(out, parts)
        except _Error:
            v = None
        if v is not None:
            if not copied:
                out, copied = dict(out), True
            out[name] = v
    return out


class _Union(_Plan):
    def __init__(self, a: _Plan, b: _Plan):
        self.a, self.b = a, b
        self.vars, self.mentions, self.safe = _of_both(a, b)
        self.extends = a.extends and b.extends

    def run(self, mu, parts):
        yield from self.a.run(mu, parts)
        yield from self.b.run(mu, parts)


class _Project(_Plan):
    def __init__(self, p: _Plan, names: list[str]):
        self.p, self.names = p, names
        self.vars = frozenset(names)
        self.safe = p.safe & self.vars
        self.mentions = p.mentions | self.vars
        self.extends = False  # (what it does not project is dropped, what was passed in too)

    def run(self, mu, parts):
        names = self.names
        for nu in self.p.run(mu, parts):
            yield {n: nu[n] for n in names if n in nu}


class _Subquery(_Plan):
    """A subquery: evaluated on its own, then joined by compatibility."""

    def __init__(self, p: _Plan):
        self.p, self.vars, self.safe, self.mentions = p, p.vars, frozenset(), p.vars

    def run(self, mu, parts):
        # a value substituted from outside ($this, an EXISTS's solution) for a variable it projects
        # reaches some of its parts in pyoxigraph and not others: left to pyoxigraph (a join passes a
        # subquery nothing: it is never ``safe``)
        if not self.vars.isdisjoint(mu):
            raise Fallback("a value substituted into a subquery that projects its variable")
        for nu in _operand_rows(self, {}, parts):
            if _compatible(mu, nu, nu):
                yield {**mu, **nu}


class _Distinct(_Plan):
    def __init__(self, p: _Plan):
        self.p, self.vars, self.safe, self.mentions = p, p.vars, frozenset(), p.mentions
        self.extends = p.extends

    def run(self, mu, parts):
        seen = set()
        for nu in _operand_rows(self, mu, parts):
            key = frozenset(nu.items())
            if key not in seen:
                seen.add(key)
                yield nu


class _Aggregate(_Plan):
    """AggregateJoin over Group: COUNT and SAMPLE (a SAMPLE with a choice falls back to pyoxigraph)."""

    def __init__(self, node):
        group = node.p
        if group.name != "Group":
            raise Unsupported("an aggregate without a group")
        self.p = _compile_pattern(group.p)
        keys = group.expr or []
        if not all(isinstance(k, Variable) for k in keys):
            raise Unsupported("GROUP BY an expression")
        self.keys = [str(k) for k in keys]
        self.aggs = []
        for a in node.A:
            if a.name not in ("Aggregate_Count", "Aggregate_Sample"):
                raise Unsupported(f"the aggregate {a.name}")
            star = a.name == "Aggregate_Count" and a.vars == "*"
            expr = None if star else _compile_expr(a.vars)
            strict = a.name == "Aggregate_Count" and not star and not isinstance(a.vars, Variable)
            self.aggs.append((a.name, str(a.res), expr, bool(a.distinct), strict))
        self.vars = frozenset(str(a.res) for a in node.A)
        self.safe = frozenset()
        self.mentions = self.p.mentions | self.vars

    def run(self, mu, parts):
        groups: dict = {}
        for nu in _operand_rows(self, mu, parts):
            groups.setdefault(tuple(nu.get(k) for k in self.keys), []).append(nu)
        if not groups and not self.keys:
            groups[()] = []
        for members in groups.values():
            out: dict = {}  # (rdflib's algebra brings the group's keys back as SAMPLEs, then BINDs them)
            for name, res, expr, distinct, strict in self.aggs:
                values = []
                for nu in members:
                    if expr is None:
                        values.append(tuple(sorted(nu.items(), key=lambda kv: kv[0])))
                        continue
                    try:
                        v = expr(nu, parts)
                    except _Error as err:
                        if strict:  # (oxigraph: a type error in COUNT's expression poisons the count)
                            raise Fallback("an error inside COUNT") from err
                        continue
                    if v is not None:
                        values.append(v)
                if name == "Aggregate_Count":
                    n = len(set(values)) if distinct else len(values)
                    out[res] = ox.Literal(str(n), datatype=_INTEGER)
                elif values:
                    if len(set(values)) > 1:
                        raise Fallback("a SAMPLE with a choice")
                    out[res] = values[0]
            if _compatible(mu, out, out):
                yield {**mu, **out}


class _OrderBy(_Plan):
    """ORDER BY over values of one kind per key (numbers, strings, IRIs, one language's strings, ...);
    anything oxigraph would order by its own rules across kinds, and rows its order would leave tied,
    fall back to pyoxigraph."""

    def __init__(self, p: _Plan, conditions):
        self.p, self.vars, self.safe = p, p.vars, p.safe
        self.mentions = p.mentions | _mentioned(conditions)
        self.extends = p.extends
        self.keys = []
        for c in conditions:
            if isinstance(c, CompValue) and c.name == "OrderCondition":
                self.keys.append((_compile_expr(c.expr), c.order == "DESC"))
            else:
                self.keys.append((_compile_expr(c), False))

    def run(self, mu, parts):
        rows = []
        for nu in _operand_rows(self, mu, parts):
            values = []
            for fn, _desc in self.keys:
                try:
                    values.append(fn(nu, parts))
                except _Error:
                    values.append(None)
            rows.append((values, nu))

        columns = _order_keys(rows, len(self.keys))
        if columns is not None:
            # each key's values of one kind that ``_order_compare`` orders without a Fallback: the same stable
            # order by sort keys, one pass per key from the last (a descending pass keeps ties in order too)
            order = list(range(len(rows)))
            for column, (_fn, desc) in reversed(list(zip(columns, self.keys, strict=True))):
                order.sort(key=column.__getitem__, reverse=desc)
            for i, j in zip(order, order[1:]):
                if all(column[i] == column[j] for column in columns) and rows[i][1] != rows[j][1]:
                    raise Fallback("ORDER BY leaves two different rows tied")
            for i in order:
                yield rows[i][1]
            return

        def compare(a, b) -> int:
            for fn_desc, x, y in zip(self.keys, a[0], b[0], strict=True):
                c = _order_compare(x, y)
                if c:
                    return -c if fn_desc[1] else c
            return 0

        rows.sort(key=functools.cmp_to_key(compare))
        for a, b in zip(rows, rows[1:]):
            if compare(a, b) == 0 and a[1] != b[1]:
                raise Fallback("ORDER BY leaves two different rows tied")
        for _values, nu in rows:
            yield nu


_RANK = {type(None): 0, ox.BlankNode: 1, ox.NamedNode: 2, ox.Literal: 3}


def _order_keys(rows: list, n: int) -> list | None:
    """For each of the n ORDER BY keys, a sort key per row ((values, row) pairs) that orders as
    ``_order_compare`` does: (0,) unbound, (2, IRI) an IRI, (3, value) a literal; or None when a key's values
    are ones ``_order_compare`` may refuse or order by its own rules (a blank node, a language-tagged
    literal, a literal it does not read, literals of two kinds): those rows are sorted by ``_order_compare``."""
    columns: list = []
    for k in range(n):
        column: list = []
        kinds: set = set()
        for values, _nu in rows:
            x = values[k]
            t = type(x)
            if x is None:
                column.append((0,))
            elif t is ox.NamedNode:
                column.append((2, x.value))
            elif t is ox.Literal and x.language is None:
                try:
                    kind, v = _literal_kind(x)
                except Fallback:
                    return None
                kinds.add(kind)
                column.append((3, v))
            else:
                return None
        if len(kinds) > 1:
            return None
        columns.append(column)
    return columns


def _order_compare(x, y) -> int:
    rx, ry = _RANK.get(type(x), 4), _RANK.get(type(y), 4)
    if rx != ry:
        if 4 in (rx, ry):
            raise Fallback("ORDER BY on a quoted triple")
        return -1 if rx < ry else 1
    if rx == 0:
        return 0
    if rx == 1:
        raise Fallback("ORDER BY on blank nodes")
    if rx == 2:
        return (x.value > y.value) - (x.value < y.value)
    if x.language is not None or y.language is not None:
        if x.language != y.language:
            raise Fallback("ORDER BY across languages")
        return (x.value > y.value) - (x.value < y.value)
    kx, vx = _kind(x)
    ky, vy = _kind(y)
    if kx != ky:
        raise Fallback("ORDER BY across kinds of literal")
    return (vx > vy) - (vx < vy)


class _Values(_Plan):
    """Inline data (VALUES): joined by compatibility (an UNDEF leaves the variable to the other side)."""

    def __init__(self, rows):
        # (rdflib gives the UNDEF keyword as a plain str; every term is an rdflib Node)
        self.rows = [
            {str(k): _to_ox(v) for k, v in row.items() if v is not None and type(v) is not str} for row in rows
        ]
        self.vars = self.mentions = frozenset(n for row in self.rows for n in row)
        self.safe = frozenset()

    def run(self, mu, parts):
        for row in self.rows:
            if _compatible(mu, row, row):
                yield {**mu, **row}


def _is_true_filter(expr) -> bool:
    return expr is None or (isinstance(expr, CompValue) and expr.name == "TrueFilter")


def _empty(plan: _Plan) -> bool:
    """An empty BGP: no triple pattern, no filter: its one solution is what is passed in."""
    return isinstance(plan, _Bgp) and not plan.patterns and not plan.filters and not plan.domains


def _compile_pattern(node) -> _Plan:
    name = getattr(node, "name", None)
    if name == "BGP":
        return _Bgp(node.triples or [])
    if name == "Join":
        a, b = _compile_pattern(node.p1), _compile_pattern(node.p2)
        # rdflib's algebra joins a group's triples onto an empty BGP (one solution binding nothing), as in
        # every EXISTS { ... }: that join is the BGP itself, whose solutions extend what is passed in (and
        # an EXISTS over a BGP is tested depth first, ``_Bgp.exists``, stopping at the first solution)
        if _empty(a) and isinstance(b, _Bgp):
            return b
        if _empty(b) and isinstance(a, _Bgp):
            return a
        return _Join(a, b)
    if name == "LeftJoin":
        return _LeftJoin(_compile_pattern(node.p1), _compile_pattern(node.p2), node.expr)
    if name == "Filter":
        p = _compile_pattern(node.p)
        return p if _is_true_filter(node.expr) else _filtered(node.expr, p)
    if name == "Extend":
        return _Extend(_compile_pattern(node.p), node.var, node.expr)
    if name == "Union":
        return _Union(_compile_pattern(node.p1), _compile_pattern(node.p2))
    if name == "OrderBy":
        return _OrderBy(_compile_pattern(node.p), node.expr)
    if name == "values":
        return _Values(node.res or [])
    if name == "ToMultiSet":
        inner = node.p
        if getattr(inner, "name", None) == "values":
            return _Values(inner.res or [])
        if getattr(inner, "name", None) not in ("Project", "Distinct"):
            raise Unsupported(f"a multiset of {getattr(inner, 'name', inner)}")
        return _Subquery(_compile_pattern(inner))
    if name == "Project":
        return _Project(_compile_pattern(node.p), [str(v) for v in node.PV])
    if name == "Distinct":
        return _Distinct(_compile_pattern(node.p))
    if name == "AggregateJoin":
        return _Aggregate(node)
    raise Unsupported(f"the SPARQL operator {name}")


#: what the compiled operator trees (``plan_source``) read of this module
_TREE_HELPERS = {
    "_Bgp": _Bgp,
    "_Join": _Join,
    "_LeftJoin": _LeftJoin,
    "_Filter": _Filter,
    "_Extend": _Extend,
    "_Union": _Union,
    "_Project": _Project,
    "_passing": _passing,
    "_compatible": _compatible,
    "_filter_passes": _filter_passes,
    "_extended": _extended,
    "_empty": _empty,
}


class QueryPlan:
    """A SELECT query compiled; ``solutions(parts, bindings)`` answers its rows as dicts."""

    def __init__(self, text: str | None = None, *, algebra=None):
        """From the query's text, or from its algebra as ``select_algebra`` gives it (parsing is the slow
        part: the knowledge base keeps the algebra of its rules on disk)."""
        frozen, star = select_algebra(str(text)) if algebra is None else algebra
        root = thaw(frozen)
        if root.name != "SelectQuery" or root.datasetClause:
            raise Unsupported("not a SELECT over the default graph")
        self.root = _compile_pattern(root.p)
        self.names = [str(v) for v in root.PV]
        if star:  # a star projection: the variables in scope (rdflib's list also has those inside EXISTS)
            scope = self.root.p.vars if isinstance(self.root, _Project) else self.root.vars
            self.names = [n for n in self.names if n in scope]
            if isinstance(self.root, _Project):
                self.root.names = self.names
        #: the root projects exactly the query's variables: its rows are the solutions as they are (each a new dict)
        self._projected = type(self.root) is _Project and self.root.names == self.names
        #: the operator tree as one compiled function (``plan_source``), made at the first call (once every
        #: FILTER has been pushed down); None: none could be written, the operators' ``run`` answer
        self._tree: Callable | None = None
        self._tree_made = False

    #: run the operator tree as compiled source (``plan_source``), not as the operators' generators: a switch
    #: for the benchmarks; ``check_tree``: run both and compare (the tests)
    generated = True
    check_tree = False

    def _rows(self, mu: dict, parts: tuple) -> list[dict]:
        """The root's rows for mu."""
        if not self._tree_made:
            self._tree, self._tree_made = plan_source.compiled(self.root, _TREE_HELPERS), True
        tree = self._tree
        if tree is None or not self.generated:
            return list(self.root.run(mu, parts))
        rows = tree(mu, parts)
        if self.check_tree:
            _same_solutions(self.root, rows, list(self.root.run(mu, parts)), tree)
        return rows

    def solutions(self, parts: tuple, bindings: dict) -> list[dict]:
        """The rows (as dicts), or ``Fallback``. ``bindings`` are substituted as constants."""
        if self._projected:
            return self._rows(dict(bindings), parts)
        names = self.names
        return [{n: nu[n] for n in names if n in nu} for nu in self._rows(dict(bindings), parts)]


@functools.lru_cache(maxsize=256)
def translated(text: str) -> tuple:
    """A query parsed and translated to rdflib's algebra (rdflib's ``prepareQuery``), and whether it projects
    with a star: parsed once per process for every reader of it (parsing takes 30-150 ms a query). The
    algebra is read, never changed."""
    parsed = parseQuery(text)
    _keep_constant_filters(parsed)
    return translateQuery(parsed), "projection" not in parsed[1]


#: the parser's wrappers of an expression of one operand (each simplified away when translated)
_ONE_OPERAND = frozenset(
    {
        "ConditionalOrExpression",
        "ConditionalAndExpression",
        "RelationalExpression",
        "AdditiveExpression",
        "MultiplicativeExpression",
    }
)


def _keep_constant_filters(node) -> list:
    """rdflib's translation drops the FILTER of a group when it is the group's only FILTER and its whole
    expression is one constant that Python reads as false (``FILTER (false)``, ``(0)``, ``(0.0)``, ``("")``,
    ``("0"^^xsd:integer)``): it tests the expression's truth in Python, not its presence (RDFLib/rdflib#3381,
    rdflib 7.x), so the group keeps every solution where SPARQL 1.1 keeps none. (Two or more FILTERs are
    joined by ``&&`` first, and applied.) Such a filter is written here as ``c && c`` in the parse tree
    before translation, whatever its constant: the same effective boolean value, and the same error, as
    ``c``, in an expression that is not dropped. Returns the rewritten conjunctions."""
    found: list = []
    if isinstance(node, CompValue):
        if node.name == "GroupGraphPatternSub":
            filters = [p for p in dict.get(node, "part") or () if isinstance(p, CompValue) and p.name == "Filter"]
            conjunction = _constant_conjunction(filters[0]) if len(filters) == 1 else None
            if conjunction is not None:
                conjunction["other"] = [conjunction["expr"]]
                found.append(conjunction)
        for value in node.values():
            found += _keep_constant_filters(value)
    elif isinstance(node, (list, ParseResults)):
        for value in node:
            found += _keep_constant_filters(value)
    return found


def _constant_conjunction(f: CompValue) -> CompValue | None:
    """The parsed FILTER's conjunction of one operand when that operand is one constant, else None."""
    outer = dict.get(f, "expr")
    conjunction = dict.get(outer, "expr") if isinstance(outer, CompValue) else None
    if (
        isinstance(outer, CompValue)
        and isinstance(conjunction, CompValue)
        and outer.name == "ConditionalOrExpression"
        and not dict.get(outer, "other")
        and conjunction.name == "ConditionalAndExpression"
        and not dict.get(conjunction, "other")
        and _bare_constant(dict.get(conjunction, "expr"))
    ):
        return conjunction
    return None


def _bare_constant(e) -> bool:
    """Whether a parsed expression is one constant (a literal or an IRI) in its wrappers of one operand."""
    while isinstance(e, CompValue) and e.name in _ONE_OPERAND and not dict.get(e, "other"):
        e = dict.get(e, "expr")
    return isinstance(e, (Literal, URIRef)) or (isinstance(e, CompValue) and e.name in ("literal", "pname"))


@functools.cache
def rdflib_drops_constant_filters() -> bool:
    """Whether the installed rdflib's translation drops ``FILTER (false)`` (RDFLib/rdflib#3381): once a release
    mends it, ``filters_rdflib_drops`` finds nothing (and a guidance module with one is no longer refused)."""
    probe = data_folder("queries").joinpath("probe", "rdflib-constant-filter.rq").read_text(encoding="utf-8")
    return translateQuery(parseQuery(probe)).algebra.p.p.name != "Filter"


def filters_rdflib_drops(text: str) -> list[str]:
    """The constants of the query's FILTERs that rdflib's own SPARQL engine drops (``_keep_constant_filters``),
    each the only FILTER of its group: a rule with one would answer differently in the reference engine
    (pySHACL runs it on rdflib) and in the fast one (plans, pyoxigraph), which apply it as SPARQL 1.1 says.
    Read after translation, so a prefixed datatype (``"0"^^xsd:integer``) is resolved. Raises rdflib's
    error for a query that does not parse."""
    if not rdflib_drops_constant_filters():
        return []
    parsed = parseQuery(text)
    rewritten = _keep_constant_filters(parsed)
    if not rewritten:
        return []
    translateQuery(parsed)  # (resolves the constants' prefixes in place)
    return [c.other[0].n3() for c in rewritten if isinstance(c.other[0], (Literal, URIRef)) and not c.other[0]]


def select_algebra(text: str) -> tuple:
    """A query's algebra and whether it projects with a star, as plain data that pickles (``freeze``)."""
    query, star = translated(text)
    return freeze(query.algebra), star


def freeze(node):
    """rdflib's algebra (``CompValue`` trees, which do not unpickle) as tuples, lists and terms; a
    literal as its parts (an rdflib Literal pickles normalised: "2020-01-01Z"^^xsd:date loses its Z)."""
    if isinstance(node, Literal):
        return ("Literal", str(node), node.language, node.datatype)
    if isinstance(node, CompValue):
        # rdflib sets some parts as attributes, over the items (``translateExists``: ``n.graph = ...``)
        parts = {**node, **{k: v for k, v in vars(node).items() if k != "name" and not k.startswith("_")}}
        return ("CompValue", node.name, [(k, freeze(v)) for k, v in parts.items()])
    if isinstance(node, (list, tuple)) or type(node).__name__ == "ParseResults":
        return [freeze(v) for v in node]
    if isinstance(node, dict):
        return {k: freeze(v) for k, v in node.items()}
    return node


def thaw(node):
    """``freeze`` undone."""
    if isinstance(node, tuple) and len(node) == 3 and node[0] == "CompValue":
        return CompValue(node[1], **{k: thaw(v) for k, v in node[2]})
    if isinstance(node, tuple) and len(node) == 4 and node[0] == "Literal":
        return Literal(node[1], lang=node[2], datatype=node[3], normalize=False)
    if isinstance(node, list):
        return [thaw(v) for v in node]
    if isinstance(node, dict):
        return {k: thaw(v) for k, v in node.items()}
    return node


def compile_select(text: str | None = None, *, algebra=None) -> QueryPlan | None:
    """The query's plan, or None when it uses something outside the plans' subset."""
    try:
        return QueryPlan(text, algebra=algebra)
    except Unsupported:
        return None
