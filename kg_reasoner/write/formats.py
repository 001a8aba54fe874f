"""The command line's output formats: one outcome as text, JSON, an NDJSON line, a CSV row, Turtle or
TriG, and the CSV columns.
"""

from __future__ import annotations

import csv
import io
import json

FORMATS = ("text", "json", "ndjson", "csv", "turtle", "trig")


#: Formats whose output is one line (or row) per patient: they can be appended to and resumed.
RESUMABLE = ("ndjson", "csv")


#: ``as_of``: the time a retrospective assessment was made as of (empty: the present); ``not_assessed``: for a
#: patient not assessed (failed closed), why: each error of her data problems, "record (field): message"
CSV_FIELDS = ("patient", "status", "rules", "missing", "flags", "source", "as_of", "not_assessed")

#: formats that write only a summary row: the explanation computes only its fields (``explain_summary``)
SUMMARY_FORMATS = frozenset({"csv"})


def format_one(a, fmt: str) -> str:
    """One patient's output in a format (a complete record: lines are never split across patients)."""
    if fmt in ("json", "ndjson"):
        return json.dumps(a.to_dict(), indent=2 if fmt == "json" else None, default=str, ensure_ascii=False)
    if fmt == "csv":
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(
            _one_line(field)
            for field in [
                a.patient,
                a.status or "",
                ";".join(a.rules),
                ";".join(a.missing),
                ";".join(a.flags),
                a.source or "",
                a.as_of or "",
                "" if a.assessed else "; ".join(_error_text(p) for p in a.data_problems if p["severity"] == "error"),
            ]
        )
        return buf.getvalue()
    if fmt == "turtle":
        return a.to_turtle() + "\n"
    if fmt == "trig":
        return a.dataset.serialize(format="trig")
    return a.to_text()


def _one_line(field: str) -> str:
    """A CSV field on one line: a row is one line, so that --resume, which drops a partial last line, never cuts
    a row (a message, or an id, holding a line break)."""
    return " ".join(field.splitlines()) if "\n" in field or "\r" in field else field


def _error_text(problem: dict) -> str:
    field = f" ({problem['field']})" if problem.get("field") else ""
    return f"{problem['record']}{field}: {problem['message']}"


def summary_row(a) -> tuple:
    return (a.patient, a.source, a.status, a.assessed, tuple(r["id"] for r in a.fired_rules))


def nquads(a) -> str:
    """The patient's three named graphs as N-Quads, serialised by pyoxigraph from ``Assessment.quads``
    (no rdflib dataset is built)."""
    import pyoxigraph as ox

    from kg_reasoner.reason.terms import to_ox

    quads = (ox.Quad(to_ox(s), to_ox(p), to_ox(o), ox.NamedNode(str(g))) for s, p, o, g in a.quads())
    return ox.serialize(quads, format=ox.RdfFormat.N_QUADS).decode("utf-8")


def outcome_row(a, fmt: str, with_graphs: bool) -> tuple:
    """The formatted outcome and its summary, and the patient's two graphs as N-Quads for --store."""
    if with_graphs:
        return format_one(a, fmt), summary_row(a), nquads(a)
    return format_one(a, fmt), summary_row(a)
