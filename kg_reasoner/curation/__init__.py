"""Ontology curation: independent checks (OWL 2 RL profile, QC queries, HermiT) and the release."""
