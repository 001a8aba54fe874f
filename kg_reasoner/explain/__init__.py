"""Explanations: the library's SPARQL queries (``queries``), what they are run on (``context``), the
explanation they give (``explanation``), the outcome record (``assessment``), its provenance
(``provenance``), and the guard every user query passes (``guard``).

``explain`` and ``describe_record`` are re-exported here, where 0.1 defined them (``kg_reasoner.explain``).
"""

from kg_reasoner.explain.explanation import describe_record, explain

__all__ = ["describe_record", "explain"]
