"""kg-reasoner: knowledge-graph reasoning for clinical guidance.

The guidance is an OWL ontology (``ontology/``), patient data becomes RDF,
OWL-RL inference (owlrl) plus SHACL rules (pyshacl) derive the decision, and
SPARQL queries (``queries/``) produce the explanation.

>>> from kg_reasoner import assess
>>> a = assess({"id": "P02", "conception": "art"})   # doctest: +SKIP
>>> a.status, a.rules                               # doctest: +SKIP
('indicated', ['R2'])
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
from kg_reasoner.api import assess, assess_many, Reasoner  # noqa: E402

__all__ = [
    "__version__",
    "assess",
    "assess_many",
    "Assessment",
    "Reasoner",
    "KgReasonerError",
    "InputError",
    "PatientDataError",
    "UnreadableInputError",
    "OntologyError",
]
