"""Cohorts: the result of assessing many patients (``result``), batch runs on worker processes
(``batch``) or a Dask cluster (``dask``), and the cohort store (``store``).

``CohortResult`` and ``COLUMNS`` are re-exported here, where 0.1 defined them (``kg_reasoner.cohort``).
"""

from kg_reasoner.cohort.result import COLUMNS, CohortResult

__all__ = ["COLUMNS", "CohortResult"]
