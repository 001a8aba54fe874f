"""kg-reasoner: knowledge-graph reasoning for clinical guidance.

The guidance is an OWL ontology (``ontology/``), patient data becomes RDF,
OWL-RL inference (owlrl) plus SHACL rules (pyshacl) derive the decision, and
SPARQL queries (``queries/``) produce the explanation.

Usage::

    from kg_reasoner import assess
    a = assess("examples/P01-luteal-insufficiency.json")   # or a dict, or an rdflib Graph
    a.status, a.rules, a.missing, a.flags                  # the decision
    print(a.to_text())                                     # the explanation, line by line
    a.full_graph.query(...)                                # the inferred graph, for your own SPARQL
"""

from kg_reasoner import _compat
from kg_reasoner._version import __version__
from kg_reasoner.api import Reasoner, assess, assess_cohort, assess_many, iter_cohort
from kg_reasoner.cohort.result import CohortResult
from kg_reasoner.cohort.store import CohortStore, QueryError
from kg_reasoner.errors import (
    GuidanceModuleError,
    InputError,
    IriExpectedError,
    KgReasonerError,
    OntologyError,
    PatientDataError,
    UnreadableInputError,
)
from kg_reasoner.explain.assessment import Assessment
from kg_reasoner.explain.queries import library_query
from kg_reasoner.explain.results import QueryResult
from kg_reasoner.guidance import PROGESTERONE, Guidance
from kg_reasoner.resources import query_names

_compat.register()

__all__ = [
    "__version__",
    "assess",
    "assess_many",
    "assess_cohort",
    "iter_cohort",
    "CohortStore",
    "QueryError",
    "QueryResult",
    "IriExpectedError",
    "CohortResult",
    "library_query",
    "query_names",
    "Assessment",
    "Reasoner",
    "Guidance",
    "PROGESTERONE",
    "KgReasonerError",
    "InputError",
    "PatientDataError",
    "UnreadableInputError",
    "OntologyError",
    "GuidanceModuleError",
]
