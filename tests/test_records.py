"""The outcome record has a published JSON Schema (docs/outcome.schema.json, derived from the typed records
of kg_reasoner/explain/records.py), and every outcome the package writes validates against it: the
vignettes and our cases (fast engine; the reference's records are proven equal), patients broken in RDF
(both engines), and a FHIR patient."""

from __future__ import annotations

import json

import jsonschema
import pytest
from conftest import CASES, ROOT, VIGNETTES, load_case

from kg_reasoner.explain.records import outcome_schema
from kg_reasoner.read.patient import PatientInput
from kg_reasoner.testing.differential import BREAKAGES, Broken, applies, broken_graph
from kg_reasoner.testing.synthetic import cohort

SCHEMA_FILE = ROOT / "docs" / "outcome.schema.json"
PATIENTS = [(p.stem, load_case(p)["patient"]) for p in VIGNETTES + CASES]
#: patients broken in RDF after reading (the differential check's breakages): they fail closed or warn
FAIL_CLOSED = [Broken(next(p for p in cohort(50, 7 + k) if applies(p, k)), k) for k in range(len(BREAKAGES))]


def test_the_published_schema_is_current():
    """Regenerate with: python -c 'import json; from kg_reasoner.explain.records import outcome_schema;
    print(json.dumps(outcome_schema(), indent=2))' > docs/outcome.schema.json"""
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8")) == outcome_schema()


def test_the_schema_is_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(outcome_schema())


@pytest.mark.parametrize("patient", [p for _, p in PATIENTS], ids=[i for i, _ in PATIENTS])
def test_every_outcome_validates(reasoner, patient):
    """On the fast engine: the reference engine's records are equal to these (test_vignettes, the
    differential check), so they validate alike."""
    jsonschema.validate(reasoner.assess(patient).to_dict(), outcome_schema())


@pytest.mark.parametrize("item", FAIL_CLOSED, ids=[b.id for b in FAIL_CLOSED])
def test_fail_closed_outcomes_validate(reasoner, item):
    """On the fast engine: tests/test_differential.py requires the reference engine's record of every
    kind of breakage to equal the fast engine's, so they validate alike."""
    pi = reasoner.read(item.summary)[0]
    pi = PatientInput(item.id, pi.iri, broken_graph(pi.graph, item.kind), pi.source, list(pi.data_problems))
    jsonschema.validate(reasoner.assess_input(pi).to_dict(), outcome_schema())


def test_a_fhir_outcome_validates(reasoner):
    from kg_reasoner.testing.differential import fhir_bundle

    bundle = next(b for b in map(fhir_bundle, cohort(20, 3)) if b is not None)
    for a in reasoner.read(bundle):
        jsonschema.validate(reasoner.assess_input(a).to_dict(), outcome_schema())
