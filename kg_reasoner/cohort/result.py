"""A cohort's assessments as one object: counts, a pandas DataFrame in one call, a SPARQL store.

``Reasoner.assess_cohort(inputs)`` (or ``kg_reasoner.assess_cohort``) returns a ``CohortResult``:
a sequence of Assessments plus the InputErrors of what could not be read (nothing is lost: the
other patients are still assessed). In Jupyter it displays as a summary table.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rdflib import Literal, URIRef

from kg_reasoner.cohort.store import CohortStore
from kg_reasoner.errors import InputError
from kg_reasoner.explain.assessment import Assessment
from kg_reasoner.explain.queries import run_query
from kg_reasoner.namespaces import KGR
from kg_reasoner.write.html import cohort_html

if TYPE_CHECKING:  # pragma: no cover
    import pandas


#: The first columns of ``CohortResult.to_dataframe()``, one row per patient; after them come the
#: patient's own attributes (``patient_attributes``) and one ``criterion_<code>`` column per criterion.
COLUMNS = (
    "patient",
    "source",
    "status",
    "status_label",
    "assessed",
    "rules",
    "flags",
    "missing",
    "diagnosis",
    "unassessed_causes",
    "data_problems",
    "as_of",
)


#: The list columns of ``to_dataframe()``, each a string of its items joined by LIST_SEPARATOR.
LIST_COLUMNS = ("rules", "flags", "missing", "diagnosis", "unassessed_causes")
LIST_SEPARATOR = "; "


@functools.lru_cache(maxsize=8)
def status_order(kb) -> tuple[str, ...]:
    """The status codes of the guidance by ascending kgr:precedence (the last outranks all others), read
    from the ontology with ``queries/display-statuses.rq``."""
    rows = run_query("display-statuses", kb.closure)
    return tuple(str(r.code) for r in sorted(rows, key=lambda r: (int(r.precedence), str(r.code))))


@functools.lru_cache(maxsize=8)
def criterion_codes(kb) -> tuple[str, ...]:
    """The codes of the guidance's criteria (C1 before C10), read from the ontology with
    ``queries/display-criteria.rq``: a cohort's DataFrame has a column for each, whatever its patients."""
    return tuple(sorted({str(r.code) for r in run_query("display-criteria", kb.closure)}, key=_natural))


@functools.lru_cache(maxsize=8)
def attribute_keys(kb) -> tuple[tuple[URIRef, str, bool], ...]:
    """(property, summary key, is an object property) of each attribute of the patient herself that the
    patient summary names (gestational age, conception, ...): ``queries/summary-attributes.rq``."""
    out = {}
    for r in run_query("summary-attributes", kb.closure):
        if r.property is not None and r.key is not None and str(r.key) != "id":  # her id: the patient column
            out[r.property] = (r.property, str(r.key), str(r.kind).endswith("ObjectProperty"))
    return tuple(sorted(out.values(), key=lambda t: t[1]))


def patient_attributes(kb, iri, graph) -> dict:
    """The patient's own attributes from her asserted graph, by summary key: numbers and strings as they
    are, an individual as its summary value (``conception``: "art"); absent when not given."""
    out: dict = {}
    for prop, key, is_object in attribute_keys(kb):
        value = next(iter(graph.objects(URIRef(iri), prop)), None)
        if value is None:
            continue
        if is_object:
            code = kb.closure.value(value, KGR.summaryValue)
            out[key] = str(code) if code is not None else str(value)
        else:
            v = value.toPython() if isinstance(value, Literal) else str(value)
            out[key] = float(v) if isinstance(v, Decimal) else v
    return out


def _pandas():
    try:
        import pandas
    except ImportError:
        raise ImportError("DataFrames need pandas: pip install 'kg-reasoner[notebooks]'") from None
    return pandas


@dataclass
class CohortResult(Sequence[Assessment]):
    """The assessments of a cohort, in input order, and the errors of the inputs that could not be read."""

    assessments: list[Assessment]
    errors: list[InputError] = field(default_factory=list)
    #: the knowledge base the cohort was assessed with (for the store's ontology graph)
    kb: Any = field(default=None, repr=False, compare=False)
    #: each assessment's patient attributes (``patient_attributes``), read from her input graph; when
    #: absent they are read from her asserted graph on demand
    attributes: list[dict] = field(default_factory=list, repr=False, compare=False)

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}: {v}" for k, v in self.status_counts().most_common())
        n = len(self)
        return (
            f"<CohortResult {n} patient{'' if n == 1 else 's'} ({counts or 'none'}), {len(self.errors)} input error(s)>"
        )

    def __len__(self) -> int:
        return len(self.assessments)

    def __getitem__(self, i):
        return self.assessments[i]

    def __iter__(self) -> Iterator[Assessment]:
        return iter(self.assessments)

    def by_patient(self, patient_id: str) -> Assessment:
        for a in self.assessments:
            if a.patient == patient_id:
                return a
        raise KeyError(patient_id)

    # -- counts -----------------------------------------------------------------------------
    def status_counts(self) -> Counter:
        return Counter(a.status or "not assessed" for a in self.assessments)

    def rule_counts(self) -> Counter:
        """How many patients each rule fired for (status and flag rules)."""
        return Counter(r["id"] for a in self.assessments for r in a.fired_rules)

    def flag_counts(self) -> Counter:
        return Counter(f for a in self.assessments for f in a.flags)

    def missing_counts(self) -> Counter:
        return Counter(m for a in self.assessments for m in a.missing)

    # -- tables -----------------------------------------------------------------------------
    def to_records(self) -> list[dict]:
        """One plain dict per patient (the columns of ``to_dataframe``)."""
        return [
            {
                "patient": a.patient,
                "source": a.source,
                "status": a.status,
                "status_label": a.status_label,
                "assessed": a.assessed,
                "rules": list(a.rules),
                "flags": list(a.flags),
                "missing": list(a.missing),
                "diagnosis": [d["diagnosis"] for d in a.diagnosis],
                "unassessed_causes": list(a.unassessed_causes),
                "data_problems": len(a.data_problems),
                "as_of": a.as_of,
            }
            for a in self.assessments
        ]

    def to_dataframe(self) -> pandas.DataFrame:
        """One row per patient, for analysis in pandas:

        - ``patient``, ``source``, ``status``, ``status_label``, ``assessed``; ``status`` is an ordered
          Categorical of every status of the guidance in ascending kgr:precedence (read from the ontology),
          so ``df.status.max()`` is the most serious status and ``df.status > code`` picks the statuses
          that outrank ``code``; a patient who could not be assessed has none (NaN);
        - ``rules`` (status rules fired), ``flags``, ``missing`` (criteria), ``diagnosis``,
          ``unassessed_causes``: strings of their items joined by ``"; "`` (empty: none), so they survive
          ``groupby`` and ``to_csv`` (``df["flags"].str.split("; ")`` gives lists back; ``df.flags`` is pandas'
          own attribute). Read a written CSV back with ``pd.read_csv(path, keep_default_na=False)``, or an
          empty cell (none) comes back as NaN;
        - ``data_problems``: how many; ``as_of``: the time a retrospective assessment was made as of (None: as of
          its own time);
        - the patient's own attributes researchers stratify by, named by their patient-summary key
          (``gestational_age_weeks``, ``conception``, ...; read from her data, NaN when not given);
        - ``criterion_<code>`` per criterion of the guidance (every criterion the ontology has, whatever the
          cohort): ``met``, ``not_met`` or ``unknown`` (NaN when the criterion was not assessed for her)."""
        pd = _pandas()
        records = self.to_records()
        attributes = self.attributes if len(self.attributes) == len(self.assessments) else None
        keys = [k for _, k, _ in attribute_keys(self.kb)] if self.kb is not None else []
        criteria = sorted(
            {c for a in self.assessments for c in a.criteria}
            | set(criterion_codes(self.kb) if self.kb is not None else ()),
            key=_natural,
        )
        for i, (rec, a) in enumerate(zip(records, self.assessments)):
            for col in LIST_COLUMNS:
                rec[col] = LIST_SEPARATOR.join(rec[col])
            attrs = attributes[i] if attributes is not None else _attributes_of(self.kb, a)
            for k in keys:
                rec[k] = attrs.get(k)
            for c in criteria:
                rec[f"criterion_{c}"] = a.criteria[c]["state"] if c in a.criteria else None
        columns = list(COLUMNS) + keys + [f"criterion_{c}" for c in criteria]
        df = pd.DataFrame(records, columns=columns)
        order = status_order(self.kb) if self.kb is not None else sorted({a.status for a in self} - {None})
        df["status"] = pd.Categorical(df["status"], categories=list(order), ordered=True)
        return df

    def rules_dataframe(self) -> pandas.DataFrame:
        """One row per (patient, fired rule): patient, rule, kind (status / flag), concludes, label."""
        pd = _pandas()
        return pd.DataFrame(
            [
                {
                    "patient": a.patient,
                    "rule": r["id"],
                    "kind": r["kind"],
                    "concludes": r["concludes"],
                    "label": r["label"],
                }
                for a in self.assessments
                for r in a.fired_rules
            ],
            columns=["patient", "rule", "kind", "concludes", "label"],
        )

    def errors_dataframe(self) -> pandas.DataFrame:
        """One row per input that could not be read: source, patient, field, message."""
        pd = _pandas()
        return pd.DataFrame(
            [{"source": e.source, "patient": e.patient, "field": e.field, "message": e.detail} for e in self.errors],
            columns=["source", "patient", "field", "message"],
        )

    # -- SPARQL -----------------------------------------------------------------------------
    def to_store(self, path: str | Path, batch: int = 200, **server: Any) -> CohortStore:
        """Write every patient's asserted, inferred and provenance graphs (and the ontology, once)
        into the on-disk SPARQL store ``path``, streamed ``batch`` patients per write (flat memory: no
        graph is kept on the assessments); query it with ``store.query(...)`` or serve it with
        ``kg-reasoner serve --store path``. ``path`` may be the URL of a SPARQL 1.1 server
        (``CohortStore.open``; ``server`` names its endpoints). A patient whose graphs describe another
        patient's node is refused (``InputError``, raised after every other patient is written)."""
        store = CohortStore.open(path, read_only=False, **server)
        if self.kb is not None:
            store.ensure_ontology(self.kb)
        try:
            errors = store.put_many(self.assessments, batch=batch)
            store.flush()
        except BaseException:
            store.close()  # its lock released, whatever happened
            raise
        if errors:
            store.close()
            raise InputError(
                f"{len(errors)} patient(s) refused by the store (the others are written): "
                + "; ".join(str(e) for e in errors),
                source=str(path),
            )
        return store

    def _repr_html_(self) -> str:
        return cohort_html(self)


def _attributes_of(kb, a: Assessment) -> dict:
    return patient_attributes(kb, a.iri, a.asserted) if kb is not None else {}


def _natural(code: str) -> tuple:
    """C2 before C10."""
    import re

    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", code))
