"""Reasoning: the knowledge base (``knowledge``), the engine interface (``base``), the reference engine
(``reference``: owlrl + pySHACL) and the fast engine (``fast``) built from compiled parts: OWL 2 RL
tables (``owlrl_tables``), SHACL rules (``shacl_rules``), SHACL constraints (``shacl_constraints``),
and rdflib <-> pyoxigraph terms (``terms``).
"""
