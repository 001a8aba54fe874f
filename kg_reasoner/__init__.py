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

__version__ = "0.1.0"

from kg_reasoner.errors import (  # noqa: E402
    KgReasonerError,
    InputError,
    PatientDataError,
    UnreadableInputError,
    OntologyError,
)
from kg_reasoner.assessment import Assessment  # noqa: E402
from kg_reasoner.guidance import Guidance, PROGESTERONE  # noqa: E402
from kg_reasoner.cohort import CohortResult  # noqa: E402
from kg_reasoner.resources import query_names  # noqa: E402
from kg_reasoner.sparql import library_query  # noqa: E402
from kg_reasoner.api import assess, assess_cohort, assess_many, Reasoner  # noqa: E402

__all__ = [
    "__version__",
    "assess",
    "assess_many",
    "assess_cohort",
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
]
