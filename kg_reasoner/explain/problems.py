"""Data problems as a reader reads them: those that say the same thing of several records once.

A Synthea patient's record holds hundreds of documents, immunisations and procedures the guidance does not
read, each named in ``data_problems`` ("resource type DocumentReference is not used by this guidance"). The
outcome keeps every one (nothing is lost); the text and HTML views group those whose severity, field, message
and value are the same, most severe first, so that the few that matter are not buried among the rest."""

from __future__ import annotations

from collections.abc import Iterable

#: the order problems are shown in: what stopped the assessment first, notes last
SEVERITY_ORDER = {"error": 0, "violation": 1, "warning": 2, "info": 3}
#: the records a grouped problem names in a view before "and N more"
SHOWN = 5


def grouped_problems(problems: Iterable[dict]) -> list[tuple[dict, list[str]]]:
    """(the first problem, the records of all that say the same) for each distinct problem, most severe first
    and, within a severity, in the order they were found."""
    groups: dict[tuple, tuple[dict, list[str]]] = {}
    for p in problems:
        key = (p.get("severity"), p.get("field"), p.get("message"), p.get("value"))
        first, records = groups.setdefault(key, (p, []))
        records.append(p.get("record") or "")
    return sorted(groups.values(), key=lambda g: SEVERITY_ORDER.get(g[0].get("severity"), len(SEVERITY_ORDER)))


def records_text(records: list[str]) -> str:
    """The records a problem is about: one as it is; several counted, the first few named."""
    if len(records) == 1:
        return records[0]
    shown = ", ".join(records[:SHOWN])
    more = f" and {len(records) - SHOWN} more" if len(records) > SHOWN else ""
    return f"{len(records)} records ({shown}{more})"
