"""The fast engine leaves out a rule whose query needs what the data lacks (``shacl_rules.needs_of``,
read from the parsed query): what every solution needs, and only what is certain. The derivations
with and without leaving rules out are the same."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib.plugins.sparql import prepareQuery

from kg_reasoner.api import Reasoner
from kg_reasoner.errors import InputError
from kg_reasoner.reason.fast import FastEngine
from kg_reasoner.reason.shacl_rules import needs_of
from kg_reasoner.testing.synthetic import cohort

EX = "http://example.org/"
DATA = Path(__file__).parent / "data"


def _needs(where: str):
    return needs_of(prepareQuery(f"PREFIX ex: <{EX}> CONSTRUCT {{ $this ex:out ?x }} WHERE {{ {where} }}").algebra)


def _names(terms) -> set:
    return {str(t).removeprefix(EX).split("#")[-1] for t in terms}


@pytest.mark.parametrize(
    "where,predicates,this_predicates,classes",
    [
        ("$this ex:p ?x ; a ex:C .", {"p", "type"}, {"p", "type"}, {"C"}),
        ("$this ex:p ?x . OPTIONAL { ?x ex:q ?y }", {"p"}, {"p"}, set()),
        ("$this ex:p ?x . FILTER NOT EXISTS { ?x ex:q ?y }", {"p"}, {"p"}, set()),
        ("{ $this ex:p ?x } UNION { $this ex:q ?x }", set(), set(), set()),
        ("{ $this ex:p ?x ; ex:r ?z } UNION { $this ex:p ?x }", {"p"}, {"p"}, set()),
        ("$this ex:p/ex:q ?x .", set(), set(), set()),
        ("$this ex:p ?x . { SELECT ?x WHERE { ?x ex:q ?this } }", {"p", "q"}, {"p"}, set()),
        ("{ SELECT (COUNT(?y) AS ?x) WHERE { ?y ex:q ?z } }", set(), set(), set()),
        ("VALUES ?x { 1 } ?x ex:p ?y .", {"p"}, set(), set()),
    ],
    ids=["bgp", "optional", "not-exists", "union-apart", "union-shared", "path", "subquery", "aggregate", "values"],
)
def test_needs_are_only_what_every_solution_needs(where, predicates, this_predicates, classes):
    n = _needs(where)
    assert _names(n.predicates) == predicates
    assert _names(n.this_predicates) == this_predicates
    assert _names(n.classes) == classes


def test_a_rule_left_out_would_have_derived_nothing():
    """Every vignette, case and 80 synthetic patients: the same inferred triples either way."""
    r = Reasoner()
    skipping = r._engine
    assert isinstance(skipping, FastEngine) and skipping.skip_unmatchable
    every = FastEngine(r.kb)
    every.skip_unmatchable = False
    inputs = sorted((DATA / "vignettes").glob("*.json")) + sorted((DATA / "cases").glob("*.json"))
    patients = [pi for pi in r.read_many(inputs) if not isinstance(pi, InputError)]
    patients += [pi for p in cohort(80, seed=31) for pi in r.read(p)]
    assert len(patients) > 100
    for pi in patients:
        with skipping.session(pi.iri, pi.graph) as a:
            left_out = sorted(a.inferred)
        with every.session(pi.iri, pi.graph) as b:
            run_all = sorted(b.inferred)
        assert left_out == run_all, pi.patient_id
        assert a.stages["rules"] == b.stages["rules"] == "compiled"
