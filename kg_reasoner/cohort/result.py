"""A cohort's assessments as one object: counts, a pandas DataFrame in one call, a SPARQL store.

``Reasoner.assess_cohort(inputs)`` (or ``kg_reasoner.assess_cohort``) returns a ``CohortResult``:
a sequence of Assessments plus the InputErrors of what could not be read (nothing is lost: the
other patients are still assessed). In Jupyter it displays as a summary table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kg_reasoner.cohort.store import CohortStore
from kg_reasoner.errors import InputError
from kg_reasoner.explain.assessment import Assessment
from kg_reasoner.write.html import cohort_html

if TYPE_CHECKING:  # pragma: no cover
    import pandas


#: The columns of ``CohortResult.to_dataframe()``, one row per patient.
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
)


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
            }
            for a in self.assessments
        ]

    def to_dataframe(self) -> pandas.DataFrame:
        """One row per patient: patient, source, status, status_label, assessed, and lists of the
        rules fired (status rules), flags, missing criteria, diagnoses and unassessed causes, and the
        number of data problems. ``status`` is a categorical column."""
        pd = _pandas()
        df = pd.DataFrame(self.to_records(), columns=list(COLUMNS))
        df["status"] = df["status"].astype("category")
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
    def to_store(self, path: str | Path) -> CohortStore:
        """Write every patient's asserted, inferred and provenance graphs (and the ontology, once)
        into the on-disk SPARQL store ``path``; query it with ``store.select(...)`` or serve it with
        ``kg-reasoner serve --store path``."""
        store = CohortStore(path)
        if self.kb is not None:
            store.ensure_ontology(self.kb)
        for a in self.assessments:
            store.put(a)
        store.flush()
        return store

    def _repr_html_(self) -> str:
        return cohort_html(self)
