"""The import paths of kg-reasoner 0.1 before the package was split into subpackages by stage.

``import kg_reasoner.engine`` and ``from kg_reasoner.fast import FastEngine`` keep working for one
minor version: each old module is a stand-in whose names resolve, on first use, to where they live
now, with a DeprecationWarning naming the new place (see CHANGELOG.md). Nothing is imported
before a name is asked for. (``kg_reasoner.cohort``, ``kg_reasoner.explain`` and ``kg_reasoner.cli``
are now subpackages: the first two re-export their old names, ``cli`` keeps ``main`` and ``run``.)
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
import warnings

#: old module -> {old name: (new module under kg_reasoner, new name)}
MOVED: dict[str, dict[str, tuple[str, str]]] = {
    "assessment": {
        "Assessment": ("explain.assessment", "Assessment"),
    },
    "differential": {
        "BREAKAGES": ("testing.differential", "BREAKAGES"),
        "Broken": ("testing.differential", "Broken"),
        "COMPILED": ("testing.differential", "COMPILED"),
        "compare_one": ("testing.differential", "compare_one"),
        "differences": ("testing.differential", "differences"),
        "fhir_bundle": ("testing.differential", "fhir_bundle"),
        "inputs": ("testing.differential", "inputs"),
        "main": ("testing.differential", "main"),
    },
    "display": {
        "assessment_html": ("write.html", "assessment_html"),
        "cohort_html": ("write.html", "cohort_html"),
    },
    "distributed": {
        "assess_dask": ("cohort.dask", "assess_dask"),
        "assess_partition": ("cohort.dask", "assess_partition"),
        "assess_records": ("cohort.dask", "assess_records"),
        "dask_results": ("cohort.dask", "dask_results"),
    },
    "endpoint": {
        "Access": ("serve.endpoint", "Access"),
        "FORMAT_NAMES": ("serve.endpoint", "FORMAT_NAMES"),
        "GRAPH_ALIASES": ("serve.endpoint", "GRAPH_ALIASES"),
        "GRAPH_TYPES": ("serve.endpoint", "GRAPH_TYPES"),
        "LOOPBACK_NAMES": ("serve.endpoint", "LOOPBACK_NAMES"),
        "Limits": ("serve.endpoint", "Limits"),
        "PAGE": ("serve.endpoint", "PAGE"),
        "PR_SET_PDEATHSIG": ("serve.endpoint", "PR_SET_PDEATHSIG"),
        "RESULT_TYPES": ("serve.endpoint", "RESULT_TYPES"),
        "Refused": ("serve.endpoint", "Refused"),
        "STARTUP_LIMIT": ("serve.endpoint", "STARTUP_LIMIT"),
        "check_query": ("serve.endpoint", "check_query"),
        "cut_off_network": ("serve.endpoint", "cut_off_network"),
        "die_with_parent": ("serve.endpoint", "die_with_parent"),
        "make_server": ("serve.endpoint", "make_server"),
        "negotiate": ("serve.endpoint", "negotiate"),
        "service_description": ("serve.endpoint", "service_description"),
    },
    "engine": {
        "KnowledgeBase": ("reason.knowledge", "KnowledgeBase"),
        "ONTOLOGY_GRAPH": ("reason.knowledge", "ONTOLOGY_GRAPH"),
        "PreparedQueryGraph": ("reason.knowledge", "PreparedQueryGraph"),
        "ReasoningResult": ("reason.reference", "ReasoningResult"),
        "_problem_key": ("reason.base", "problem_key"),
        "_validation_problems": ("reason.reference", "validation_problems"),
        "_work_graph": ("reason.reference", "work_graph"),
        "cache_dir": ("reason.knowledge", "cache_dir"),
        "explanation_context": ("explain.context", "explanation_context"),
        "explanation_graph": ("reason.reference", "query_graph"),
        "load_knowledge_base": ("reason.knowledge", "load_knowledge_base"),
        "log": ("reason.knowledge", "log"),
        "owl_inferred_filter": ("reason.reference", "owl_inferred_filter"),
        "patient_dataset": ("reason.base", "patient_dataset"),
        "problem_record": ("reason.base", "problem_record"),
        "reason": ("reason.reference", "reason"),
        "reference_owl": ("reason.reference", "reference_owl"),
        "reference_rules": ("reason.reference", "reference_rules"),
        "reference_validation": ("reason.reference", "reference_validation"),
    },
    "fast": {
        "FastEngine": ("reason.fast", "FastEngine"),
        "ONTOLOGY_GRAPH": ("reason.fast", "ONTOLOGY_GRAPH"),
        "ONTOLOGY_RULES_GRAPH": ("reason.fast", "ONTOLOGY_RULES_GRAPH"),
        "_Rule": ("reason.shacl_rules", "Rule"),
        "_RuleShape": ("reason.shacl_rules", "RuleShape"),
        "_Shape": ("reason.shacl_constraints", "Shape"),
        "_Unsupported": ("reason.shacl_constraints", "Unsupported"),
        "_named": ("reason.terms", "named_node"),
        "canonical_literal": ("reason.terms", "canonical_literal"),
        "compile_rule_shapes": ("reason.shacl_rules", "compile_rule_shapes"),
        "compile_validation_shapes": ("reason.shacl_constraints", "compile_validation_shapes"),
        "fast_engine": ("reason.fast", "fast_engine"),
        "from_ox": ("reason.terms", "from_ox"),
        "query_text": ("reason.fast", "query_text"),
        "to_ox": ("reason.terms", "to_ox"),
    },
    "fhir": {
        "BrokenRecord": ("read.fhir", "BrokenRecord"),
        "EFFECTIVE": ("read.fhir", "EFFECTIVE"),
        "FhirPatientBuilder": ("read.fhir", "FhirPatientBuilder"),
        "FhirVocabulary": ("read.fhir", "FhirVocabulary"),
        "IGNORED_STATUS": ("read.fhir", "IGNORED_STATUS"),
        "IN_USE": ("read.fhir", "IN_USE"),
        "MAX_BUNDLE_DEPTH": ("read.fhir", "MAX_BUNDLE_DEPTH"),
        "NOT_IN_USE": ("read.fhir", "NOT_IN_USE"),
        "NOT_PRESENT": ("read.fhir", "NOT_PRESENT"),
        "ONSET": ("read.fhir", "ONSET"),
        "PERFORMED": ("read.fhir", "PERFORMED"),
        "Population": ("read.fhir", "Population"),
        "READ_TYPES": ("read.fhir", "READ_TYPES"),
        "RESULT_STATUS": ("read.fhir", "RESULT_STATUS"),
        "RefusedResource": ("read.fhir", "RefusedResource"),
        "UCUM": ("read.fhir", "UCUM"),
        "UNCONFIRMED": ("read.fhir", "UNCONFIRMED"),
        "bundle_resources": ("read.fhir", "bundle_resources"),
        "ndjson_resources": ("read.fhir", "ndjson_resources"),
        "read_fhir": ("read.fhir", "read_fhir"),
        "read_resources": ("read.fhir", "read_resources"),
    },
    "fhir_shape": {
        "BOOL": ("read.fhir_shape", "BOOL"),
        "CC": ("read.fhir_shape", "CC"),
        "CC_LIST": ("read.fhir_shape", "CC_LIST"),
        "CREF": ("read.fhir_shape", "CREF"),
        "ELEMENTS": ("read.fhir_shape", "ELEMENTS"),
        "LIST": ("read.fhir_shape", "LIST"),
        "NOT_IN_R4": ("read.fhir_shape", "NOT_IN_R4"),
        "PERIOD": ("read.fhir_shape", "PERIOD"),
        "QTY": ("read.fhir_shape", "QTY"),
        "RANGE_LIST": ("read.fhir_shape", "RANGE_LIST"),
        "REF": ("read.fhir_shape", "REF"),
        "REF_LIST": ("read.fhir_shape", "REF_LIST"),
        "STR": ("read.fhir_shape", "STR"),
        "shape_problems": ("read.fhir_shape", "shape_problems"),
    },
    "loader": {
        "CASE_KEYS": ("read.summary", "CASE_KEYS"),
        "MAX_FRACTION_DIGITS": ("read.patient", "MAX_FRACTION_DIGITS"),
        "MAX_MAGNITUDE": ("read.patient", "MAX_MAGNITUDE"),
        "MEASUREMENT_FIELDS": ("read.summary", "MEASUREMENT_FIELDS"),
        "MEDICATION_FIELDS": ("read.summary", "MEDICATION_FIELDS"),
        "NDJSON": ("read.patient", "NDJSON"),
        "PatientInput": ("read.patient", "PatientInput"),
        "RDF_FORMATS": ("read.rdf", "RDF_FORMATS"),
        "RECORD_KINDS": ("read.summary", "RECORD_KINDS"),
        "SummaryReader": ("read.summary", "SummaryReader"),
        "SummaryVocabulary": ("read.summary", "SummaryVocabulary"),
        "_check_own_nodes": ("read.rdf", "check_own_nodes"),
        "_is_number": ("read.patient", "is_number"),
        "_load_json": ("read.patient", "load_json"),
        "_read_rdf": ("read.rdf", "read_rdf"),
        "add_time": ("read.patient", "add_time"),
        "canonical_decimal": ("read.patient", "canonical_decimal"),
        "decimal_literal": ("read.patient", "decimal_literal"),
        "foreign_nodes": ("read.rdf", "foreign_nodes"),
        "is_ndjson": ("read.patient", "is_ndjson"),
        "iter_input_files": ("read.files", "iter_input_files"),
        "json_loads": ("read.patient", "json_loads"),
        "number_problem": ("read.patient", "number_problem"),
        "open_lines": ("read.patient", "open_lines"),
        "owns": ("read.rdf", "owns"),
        "parse_rdf_file": ("read.rdf", "parse_rdf_file"),
        "patient_iri": ("read.patient", "patient_iri"),
        "read_file": ("read.files", "read_file"),
        "split_patients": ("read.rdf", "split_patients"),
        "time_literal": ("read.patient", "time_literal"),
    },
    "ontology_checks": {
        "HermitResult": ("curation.checks", "HermitResult"),
        "RL_DATATYPES": ("curation.checks", "RL_DATATYPES"),
        "ReasonerUnavailable": ("curation.checks", "ReasonerUnavailable"),
        "hermit_classification": ("curation.checks", "hermit_classification"),
        "hermit_command": ("curation.checks", "hermit_command"),
        "owl2rl_violations": ("curation.checks", "owl2rl_violations"),
        "qc_query_names": ("curation.checks", "qc_query_names"),
        "qc_violations": ("curation.checks", "qc_violations"),
    },
    "owlrl_compiled": {
        "OwlRlTables": ("reason.owlrl_tables", "OwlRlTables"),
        "UNSUPPORTED_PREDICATES": ("reason.owlrl_tables", "UNSUPPORTED_PREDICATES"),
        "UNSUPPORTED_TYPES": ("reason.owlrl_tables", "UNSUPPORTED_TYPES"),
        "compile_owlrl": ("reason.owlrl_tables", "compile_owlrl"),
    },
    "plotting": {
        "Derivation": ("write.plot", "Derivation"),
        "LAYERS": ("write.plot", "LAYERS"),
        "derivation": ("write.plot", "derivation"),
        "plot_derivation": ("write.plot", "plot_derivation"),
    },
    "progress": {
        "Progress": ("cli.progress", "Progress"),
        "estimate_total": ("cli.progress", "estimate_total"),
    },
    "release": {
        "FORMATS": ("curation.release", "FORMATS"),
        "FULL_IRI": ("curation.release", "FULL_IRI"),
        "FULL_NAME": ("curation.release", "FULL_NAME"),
        "ReleaseCheckFailed": ("curation.release", "ReleaseCheckFailed"),
        "ReleaseReport": ("curation.release", "ReleaseReport"),
        "log": ("curation.release", "log"),
        "merged_ontology": ("curation.release", "merged_ontology"),
        "modules": ("curation.release", "modules"),
        "release": ("curation.release", "release"),
        "run_checks": ("curation.release", "run_checks"),
    },
    "sparql": {
        "library_query": ("explain.queries", "library_query"),
        "prepared": ("explain.queries", "prepared"),
        "run_query": ("explain.queries", "run_query"),
    },
    "sparql_guard": {
        "QueryPlan": ("explain.guard", "QueryPlan"),
        "QueryRefused": ("explain.guard", "QueryRefused"),
        "inspect_query": ("explain.guard", "inspect_query"),
        "rdflib_query": ("explain.guard", "rdflib_query"),
    },
    "store": {
        "CohortStore": ("cohort.store", "CohortStore"),
        "ONTOLOGY_GRAPH": ("cohort.store", "ONTOLOGY_GRAPH"),
        "QueryError": ("cohort.store", "QueryError"),
        "dataset_arguments": ("cohort.store", "dataset_arguments"),
        "load_files": ("cohort.store", "load_files"),
        "parse_binding": ("cohort.store", "parse_binding"),
        "rdflib_query": ("cohort.store", "rdflib_query"),
        "rows": ("cohort.store", "rows"),
        "serialize": ("cohort.store", "serialize"),
    },
    "synthetic": {
        "CAUSES": ("testing.synthetic", "CAUSES"),
        "cohort": ("testing.synthetic", "cohort"),
        "patient": ("testing.synthetic", "patient"),
        "progesterone_result": ("testing.synthetic", "progesterone_result"),
    },
    "synthetic_fhir": {
        "CAUSE": ("testing.synthetic_fhir", "CAUSE"),
        "CLINICAL": ("testing.synthetic_fhir", "CLINICAL"),
        "CONCLUSION": ("testing.synthetic_fhir", "CONCLUSION"),
        "INTERPRETATION": ("testing.synthetic_fhir", "INTERPRETATION"),
        "KGR_CODES": ("testing.synthetic_fhir", "KGR_CODES"),
        "MISCARRIAGE": ("testing.synthetic_fhir", "MISCARRIAGE"),
        "RXNORM": ("testing.synthetic_fhir", "RXNORM"),
        "SEVERITY": ("testing.synthetic_fhir", "SEVERITY"),
        "SYMPTOM": ("testing.synthetic_fhir", "SYMPTOM"),
        "Unrepresentable": ("testing.synthetic_fhir", "Unrepresentable"),
        "V3": ("testing.synthetic_fhir", "V3"),
        "VERIFICATION": ("testing.synthetic_fhir", "VERIFICATION"),
        "bundle": ("testing.synthetic_fhir", "bundle"),
        "cc": ("testing.synthetic_fhir", "cc"),
        "qty": ("testing.synthetic_fhir", "qty"),
        "summary_to_resources": ("testing.synthetic_fhir", "summary_to_resources"),
        "to_json": ("testing.synthetic_fhir", "to_json"),
    },
    "times": {
        "EARLIEST_ZONE": ("read.times", "EARLIEST_ZONE"),
        "LATEST_ZONE": ("read.times", "LATEST_ZONE"),
        "TimeInterval": ("read.times", "TimeInterval"),
        "UTC": ("read.times", "UTC"),
        "iso": ("read.times", "iso"),
        "parse_time": ("read.times", "parse_time"),
    },
}


class _OldModule(types.ModuleType):
    def __getattr__(self, name: str):
        moved = MOVED[self.__name__.rsplit(".", 1)[1]]
        if name not in moved:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        where, new = moved[name]
        warnings.warn(
            f"{self.__name__}.{name} moved to kg_reasoner.{where}.{new}; the old path goes in 0.3",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(f"kg_reasoner.{where}"), new)

    def __dir__(self):
        return sorted(MOVED[self.__name__.rsplit(".", 1)[1]])


def register() -> None:
    """Make the old module paths importable (called once by ``kg_reasoner/__init__.py``)."""
    for old in MOVED:
        name = f"kg_reasoner.{old}"
        if name not in sys.modules and importlib.util.find_spec(name) is None:
            module = _OldModule(name, f"Moved: see kg_reasoner._compat.MOVED[{old!r}].")
            module.__all__ = sorted(MOVED[old])
            sys.modules[name] = module
