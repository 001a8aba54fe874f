"""``check_module``: every check of a guidance module, loaded with the packaged core as
``Guidance.from_files`` loads it, without assessing anyone (``kg-reasoner check MODULE.ttl``).

In the order reported:

1. ``profile``, ``unsupported``, ``declaration``: the OWL 2 RL profile of the module's axioms, what
   owlrl does not honour inside it, undeclared names (``curation.profile``);
2. ``consistency``: the OWL 2 RL closure of the module and the core is consistent;
3. ``authoring``: the authoring shapes (``shapes/authoring.ttl``) on that closure, and rules that can
   never fire (``curation.authoring``);
4. ``rules``: the module's SHACL rule shapes are well-formed SHACL and their SPARQL parses;
5. ``qc``: the quality-control queries (``queries/qc/*-violation.rq``) on the module and the core;
6. ``hermit``: HermiT (OWL 2 DL, complete) finds the module and the core consistent and every class
   satisfiable. Skipped, with a note saying why, without Java or owlready2.

Loading a module (``Reasoner(guidance=Guidance.from_files(...))``, ``assess --guidance-module``) runs
the fast ones (1-3) and refuses the module on a ``blocking`` finding.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import owlrl
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF

from kg_reasoner.curation.authoring import authoring_findings, rule_shape_findings
from kg_reasoner.curation.checks import ReasonerUnavailable, hermit_classification, qc_violations
from kg_reasoner.curation.findings import Finding, sort_findings
from kg_reasoner.curation.profile import profile_findings
from kg_reasoner.errors import UnreadableInputError
from kg_reasoner.guidance import CORE_ONTOLOGY, CORE_RULES, Guidance, public_id, read_document
from kg_reasoner.namespaces import KGR
from kg_reasoner.reason.base import closure_errors
from kg_reasoner.reason.knowledge import PreparedQueryGraph


@dataclass
class ModuleReport:
    """What the checks of a module found."""

    documents: tuple[str, ...]
    rules: tuple[str, ...]
    findings: list[Finding] = field(default_factory=list)
    #: what was not checked, and why (HermiT without Java)
    notes: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def blocking(self) -> list[Finding]:
        """The findings for which loading the module refuses it."""
        return [f for f in self.findings if f.blocking]

    @property
    def clean(self) -> bool:
        """No error (warnings are reported, but a module with only warnings is clean)."""
        return not self.errors

    def to_dict(self) -> dict:
        return {
            "documents": list(self.documents),
            "rules": list(self.rules),
            "clean": self.clean,
            "errors": len(self.errors),
            "refused_at_load": bool(self.blocking),
            "findings": [f.to_dict() for f in self.findings],
            "notes": list(self.notes),
        }

    def to_text(self) -> str:
        lines = [
            f"kg-reasoner check: {', '.join(self.documents)}"
            + (f" (rules: {', '.join(self.rules)})" if self.rules else "")
        ]
        lines += [f.to_text() for f in self.findings]
        lines += [f"note: {n}" for n in self.notes]
        warnings = len(self.findings) - len(self.errors)
        if self.clean:
            lines.append("clean: no errors" + (f" ({warnings} warning(s))" if warnings else ""))
        else:
            lines.append(
                f"{len(self.errors)} error(s), {warnings} warning(s); "
                + (
                    f"{len(self.blocking)} of them make loading (assess --guidance-module) refuse the module"
                    if self.blocking
                    else "loading (assess --guidance-module) would still accept the module"
                )
            )
        return "\n".join(lines) + "\n"


def _parse(docs: Iterable[str], into: Graph) -> None:
    for doc in docs:
        try:
            into.parse(data=read_document(doc), format="turtle", publicID=public_id(doc))
        except Exception as exc:
            raise UnreadableInputError(f"is not a readable Turtle file: {exc}", source=doc) from None


def check_module(
    ontology: Iterable[str | Path],
    rules: Iterable[str | Path] = (),
    hermit: bool = True,
    hermit_timeout: float = 300,
    source: str | Path | None = None,
) -> ModuleReport:
    """Every check of the guidance module whose ontology documents are ``ontology`` and whose own SHACL
    rule shapes are ``rules`` (files), with the packaged core; with ``source`` (the guidance's text), also
    that every sentence the module cites is in it. Raises ``UnreadableInputError`` for a file that is
    missing or not Turtle, or a source text that cannot be read."""
    guidance = Guidance.from_files("check", ontology, rules)
    report = ModuleReport(guidance.ontology, guidance.rules)
    onto, module, module_rules, all_rules = Graph(), Graph(), Graph(), Graph()
    _parse(CORE_ONTOLOGY + guidance.shared_documents(), onto)
    _parse(guidance.authored_documents(), module)
    _parse(guidance.rules, module_rules)  # every file read before any check: an unreadable one fails fast
    _parse(CORE_RULES, all_rules)
    all_rules += module_rules
    onto += module
    name = _namer(module)
    findings = profile_findings(onto, module)

    closure = Graph()
    closure += onto
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(closure)
    for error in closure_errors(closure):
        findings.append(
            Finding(
                "consistency",
                _ontology_name(module, name),
                "the module with the core, closed under OWL 2 RL (owlrl)",
                f"the ontology is inconsistent under OWL 2 RL: {error}; no patient could be assessed",
            )
        )

    view = PreparedQueryGraph(store=closure.store, identifier=closure.identifier)
    findings += authoring_findings(view, module, all_rules)
    if guidance.rules:
        findings += rule_shape_findings(all_rules, module_rules)

    if source is not None:
        findings += unquoted_sentences(module, source, name)

    for query, rows in qc_violations(onto).items():
        for term, problem in rows:
            findings.append(Finding("qc", name(URIRef(term)), f"queries/qc/{query}.rq", problem))

    if hermit:
        findings += _hermit(onto, module, name, hermit_timeout, report.notes)
    else:
        report.notes.append(
            "HermiT was not run (--skip-hermit): consistency and satisfiability under OWL 2 DL unchecked"
        )
    report.findings = sort_findings(findings)
    return report


def unquoted_sentences(module: Graph, source: str | Path, name) -> list[Finding]:
    """The module's kgr:sourceSentence values that the guidance's text does not hold verbatim (runs of
    spacing, line breaks included, count as one space): a rule must cite what the guidance says."""
    try:
        text = Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UnreadableInputError(f"the guidance's source text cannot be read: {exc}", source=str(source)) from None

    def flat(t: str) -> str:
        return " ".join(t.split())

    held = flat(text)
    return [
        Finding(
            "qc",
            name(term),
            f"{name(term)} kgr:sourceSentence {Literal(str(sentence)).n3()} .",
            f"cites a sentence that {Path(source).name} does not hold verbatim: quote the guidance's own words",
            property="kgr:sourceSentence",
        )
        for term, sentence in sorted(module.subject_objects(KGR.sourceSentence))
        if flat(str(sentence)) not in held
    ]


def _hermit(onto: Graph, module: Graph, name, timeout: float, notes: list[str]) -> list[Finding]:
    try:
        result = hermit_classification(onto, timeout=timeout)
    except ReasonerUnavailable as exc:
        notes.append(f"HermiT was not run: {exc}")
        return []
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        text = " ".join(str(exc).split())[:500]
        return [
            Finding(
                "hermit",
                _ontology_name(module, name),
                "the module with the core",
                f"HermiT failed: {text}",
                severity="warning",
            )
        ]
    if not result.consistent:
        return [
            Finding(
                "hermit",
                _ontology_name(module, name),
                "the module with the core (OWL 2 DL)",
                "HermiT finds the ontology inconsistent: no interpretation satisfies every axiom (look for an "
                "individual of two disjoint classes, or a class assertion of an unsatisfiable class)",
            )
        ]
    return [
        Finding(
            "hermit",
            name(URIRef(c)),
            f"EquivalentClasses({name(URIRef(c))} owl:Nothing)",
            "HermiT finds the class unsatisfiable: no individual can be of it (check its superclasses and "
            "the disjointness axioms they meet)",
        )
        for c in result.unsatisfiable
    ]


def _namer(module: Graph):
    def name(node) -> str:
        try:
            return module.namespace_manager.normalizeUri(node)
        except Exception:
            return f"<{node}>"

    return name


def _ontology_name(module: Graph, name) -> str:
    ontology = next((o for o in module.subjects(RDF.type, OWL.Ontology) if isinstance(o, URIRef)), None)
    return name(ontology) if ontology is not None else "the module"
