"""For tests, benchmarks and notebooks: seeded synthetic patients (``synthetic``, ``synthetic_fhir``) and
the differential check of the two engines (``differential``).
"""
