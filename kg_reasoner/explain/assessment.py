"""The outcome record of one assessment (decision-spec section 5)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from rdflib import Dataset, Graph, URIRef

from kg_reasoner.explain.guard import rdflib_query as guarded_query
from kg_reasoner.explain.problems import grouped_problems, records_text
from kg_reasoner.explain.records import (
    Criterion,
    DataProblem,
    Diagnosis,
    FiredRule,
    Flag,
    MissingData,
    NotFiredRule,
    Outcome,
    RuleState,
)
from kg_reasoner.explain.results import QueryResult, bind_values, package_prefixes
from kg_reasoner.write.html import assessment_html


@dataclass
class Assessment:
    """One pregnancy of one patient at one point in time, assessed against the guidance.

    ``status`` is ``None`` when the patient could not be assessed (fail closed:
    inconsistent or invalid data); ``data_problems`` then says why.
    """

    patient: str
    iri: URIRef
    source: str | None
    status: str | None
    status_label: str | None
    rules: list[str]
    fired_rules: list[FiredRule]
    diagnosis: list[Diagnosis]
    criteria: dict[str, Criterion]
    missing: list[str]
    missing_details: list[MissingData]
    flags: list[str]
    flag_details: list[Flag]
    advice: list[str]
    rule_states: list[RuleState]
    not_fired: list[NotFiredRule]
    unassessed_causes: list[str]
    unassessed_contraindications: list[str]
    ignored_results: list[str]
    superseded_results: list[str]
    data_problems: list[DataProblem]
    #: Builds the rdflib graphs below on first use: {"dataset", "graph", "full_graph", "context"}.
    graph_source: Callable[[], dict] = field(repr=False, compare=False, default=None)
    #: Which engine assessed the patient ("fast" or "reference").
    engine: str = field(repr=False, compare=False, default="reference")
    #: Which implementation ran each stage of the derivation, e.g. {"owl": "compiled", "validation":
    #: "compiled", "rules": "compiled", "explain": "plans"} (fast engine) or "owlrl", "pyshacl",
    #: "rdflib" (reference engine). A stage that did not run (fail closed) is absent.
    stages: dict = field(repr=False, compare=False, default_factory=dict)
    #: The time the assessment was made as of when one was given (a retrospective assessment: ``--as-of``,
    #: ``Reasoner(as_of=...)``), in ISO 8601; None: as of the time it was made (its provenance says when).
    as_of: str | None = None
    _graphs: dict = field(init=False, repr=False, compare=False, default=None)

    def _graph(self, name: str):
        if self._graphs is None:
            self._graphs = self.graph_source()
        return self._graphs[name]

    def quads(self) -> Iterator[tuple]:
        """Her asserted, inferred and provenance triples as ``(s, p, o, graph name)`` tuples, the same as
        ``dataset``'s, built on the fly and kept nowhere (a cohort streams into a store with flat memory)."""
        if self.graph_source is None and self._graphs is None:
            raise ValueError(f"the assessment of {self.patient} carries no graphs")
        return (self._graphs if self._graphs is not None else self.graph_source()).quads()

    @property
    def dataset(self) -> Dataset:
        """The patient's asserted, inferred and provenance triples as three named graphs."""
        return self._graph("dataset")

    @property
    def graph(self) -> Graph:
        """Her asserted, inferred and provenance triples plus the ontology statements the explanation
        needs (self-contained: what ``to_turtle`` prints)."""
        return self._graph("graph")

    @property
    def full_graph(self) -> Graph:
        """Everything the rules saw: ontology closure + asserted + inferred."""
        return self._graph("full_graph")

    @property
    def context(self) -> Graph:
        """The ontology's statements about the terms the patient's graphs mention."""
        return self._graph("context")

    @property
    def decided_by(self) -> list[str]:
        """The status rules whose conclusion is the final status (none: the default status)."""
        return [r["id"] for r in self.fired_rules if r.get("decides")]

    @property
    def assessed(self) -> bool:
        return self.status is not None

    @property
    def asserted(self) -> Graph:
        return self.dataset.graph(URIRef(f"{self.iri}/graph/asserted"))

    @property
    def inferred(self) -> Graph:
        return self.dataset.graph(URIRef(f"{self.iri}/graph/inferred"))

    @property
    def provenance(self) -> Graph:
        """PROV-O: the assessment activity (time, engine, package and ontology versions) and what it
        generated, in the patient's third named graph."""
        return self.dataset.graph(URIRef(f"{self.iri}/graph/provenance"))

    def query(self, sparql: str, **bindings: Any) -> QueryResult:
        """Run a SPARQL query on the full graph (ontology closure + asserted + inferred) and return a
        ``QueryResult`` (rows; ``.to_dataframe()``), the same type as ``CohortStore.query``.

        The package's prefixes (kgr:, prg:, prov:, rdfs:, xsd:, ... as the ontology files declare them)
        are bound unless the query declares its own. Values are passed as bindings, never formatted in:
        ``patient=`` takes her id or IRI; rdflib terms go as they are, other Python values as literals;
        a plain string where an IRI is needed raises ``IriExpectedError``. SERVICE and FROM are refused
        (nothing is ever fetched)."""
        graph = self.full_graph
        prefixes = {**{p: str(n) for p, n in graph.namespaces() if p}, **package_prefixes()}
        own = self.iri if bindings.get("patient") == self.patient else None
        terms = bind_values(sparql, bindings, prefixes, patient=own)
        return QueryResult.of(guarded_query(graph, sparql, terms, known_graphs=set(), init_ns=prefixes))

    def __repr__(self) -> str:
        what = self.status if self.assessed else "not assessed"
        parts = [f"rules {', '.join(self.rules)}" if self.rules else None]
        parts += [f"flags {', '.join(self.flags)}" if self.flags else None]
        parts += [f"missing {', '.join(self.missing)}" if self.missing else None]
        parts += [f"{len(self.data_problems)} data problem(s)" if self.data_problems else None]
        detail = "; ".join(p for p in parts if p)
        return f"<Assessment {self.patient}: {what}" + (f" ({detail})" if detail else "") + ">"

    def _repr_html_(self) -> str:
        """Jupyter's rich display: a card with the status, the rules with their guidance sentences,
        the criteria with evidence, missing data, flags and advice."""
        return assessment_html(self)

    # ------------------------------------------------------------------
    def to_dict(self) -> Outcome:
        return {
            "patient": self.patient,
            "source": self.source,
            "status": self.status,
            "rules": self.rules,
            "missing": self.missing,
            "flags": self.flags,
            "diagnosis": self.diagnosis,
            "criteria": self.criteria,
            "fired_rules": [
                {k: v for k, v in r.items() if k not in ("lists_evidence", "decides")} for r in self.fired_rules
            ],
            "decided_by": self.decided_by,
            "missing_details": self.missing_details,
            "flag_details": self.flag_details,
            "advice": self.advice,
            "explanation": self.explanation_lines(),
            "rule_states": self.rule_states,
            "not_fired": self.not_fired,
            "unassessed_causes": self.unassessed_causes,
            "unassessed_contraindications": self.unassessed_contraindications,
            "ignored_results": self.ignored_results,
            "superseded_results": self.superseded_results,
            "data_problems": self.data_problems,
        } | ({"as_of": self.as_of} if self.as_of is not None else {})

    def explanation_lines(self) -> list[str]:
        """The explanation as lines a clinician can check one by one against the guidance."""
        lines: list[str] = []
        if self.as_of is not None:
            lines.append(f"Assessed as of {self.as_of}: records made after that time are not read.")
        if not self.assessed:
            lines.append("NOT ASSESSED: the data cannot be assessed safely, so no rule was applied.")
            for p, records in grouped_problems(self.data_problems):
                if p["severity"] != "warning":
                    lines.append(f"  problem: {_problem_text(p, records)}")
            return lines
        label = f" ({self.status_label})" if self.status_label and self.status_label != self.status else ""
        by = f", decided by {', '.join(self.decided_by)}" if self.decided_by else ""
        lines.append(f"Status: {self.status}{label}{by}.")
        for r in self.fired_rules:
            what = f"status {r['concludes']}" if r["kind"] == "status" else f"flag {r['concludes']}"
            ext = " [EXTENSION of the guidance, safety-first]" if r["extension"] else ""
            outranked = (
                f" (outranked by {', '.join(r['outranked_by'])}: its advice is not given)"
                if r.get("outranked_by")
                else ""
            )
            lines.append(f"Rule {r['id']} fired ({r['label']}) -> {what}{outranked}{ext}.")
            for s in r["sentences"]:
                lines.append(f'  guidance: "{s}"')
            for e in r["evidence"]:
                lines.append(f"  evidence: {e['fact']}")
        for d in self.diagnosis:
            lines.append(f"Diagnosis: {d['diagnosis']} (rule {d['rule']}).")
        for code, c in self.criteria.items():
            of = f" of rule {c['rule']}" if c["rule"] else ""
            lines.append(f"Criterion {code} ({c['label']}){of}: {c['state']}.")
            for e in c["evidence"]:
                lines.append(f"  evidence: {e['fact']}")
            for d in c["decided_by"]:
                lines.append(f"  judged: {d}")
            if c["state"] == "unknown" and c.get("needs"):
                lines.append(f"  would be decided by: {c['needs']}")
        for s in self.rule_states:
            if s["relation"] == "partly_met":
                lines.append(
                    f"Rule {s['rule']} is partly met: {s['criterion']} ({s['label']}) is unknown; needed: {s['needs']}."
                )
            else:
                lines.append(f"Rule {s['rule']} does not apply: {s['criterion']} ({s['label']}) is not met.")
        stated = {s["rule"] for s in self.rule_states}  # "does not apply" / "is partly met" said above
        for r in self.not_fired:
            if r["rule"] not in stated and (r["kind"] == "status" or r["partly_met"]):
                what = f"status {r['concludes']}" if r["kind"] == "status" else f"flag {r['concludes']}"
                lines.append(f"Rule {r['rule']} did not fire ({r['label']}, {what}): {r['reason']}.")
        if not self.rules and self.status is not None and not any(r["partly_met"] for r in self.not_fired):
            lines.append(f"No rule that concludes a status fired: {self.status} is the default status.")
        if self.unassessed_causes:
            lines.append(
                "Not assessed (treated as not identified, not as absent): " + ", ".join(self.unassessed_causes) + "."
            )
        if self.unassessed_contraindications:
            lines.append(
                "Contraindications not assessed (treated as not identified, not as absent): "
                + ", ".join(self.unassessed_contraindications)
                + "."
            )
        for r in self.superseded_results:
            lines.append(f"Earlier result, superseded by the latest: {r}")
        for r in self.ignored_results:
            lines.append(f"Ignored result (status excludes it): {r}")
        for p, records in grouped_problems(self.data_problems):  # (the same problem of many records: one line)
            lines.append(f"Data problem ({p['severity']}): {_problem_text(p, records)}")
        return lines

    def to_text(self, width: int = 100) -> str:
        head = f"Patient {self.patient}" + (f"  ({self.source})" if self.source else "")
        out = [head, "=" * len(head)]
        for line in self.explanation_lines():
            indent = len(line) - len(line.lstrip())
            out.extend(textwrap.wrap(line, width=width, subsequent_indent=" " * (indent + 4)) or [""])
        if self.missing_details:
            out.append("Missing data:")
            for m in self.missing_details:
                out.append(f"  - {m['criterion']} ({m['label']}): {m['needs']}")
        if self.flags:
            out.append("Flags: " + ", ".join(self.flags))
        if self.advice:
            out.append("Advice:")
            for a in self.advice:
                out.extend(textwrap.wrap(a, width=width, initial_indent="  - ", subsequent_indent="    "))
        return "\n".join(out) + "\n"

    def to_turtle(self) -> str:
        """The asserted, inferred and provenance graphs and the ontology context, as one Turtle document."""
        parts = [f"# kg-reasoner assessment of patient {self.patient}"]
        for name, g in (
            ("asserted", self.asserted),
            ("inferred", self.inferred),
            ("provenance", self.provenance),
            ("ontology context (terms the graphs above mention)", self.context),
        ):
            g.namespace_manager = self.full_graph.namespace_manager
            parts.append(f"# ---- {name}: <{self.iri}/graph/{name.split()[0]}> ----")
            parts.append(g.serialize(format="turtle"))
        return "\n".join(parts)


def _problem_text(p: dict, records: list[str] | None = None) -> str:
    where = records_text(records) if records else p.get("record") or ""
    field_ = f" field {p['field']}" if p.get("field") else ""
    value = f" (value {p['value']})" if p.get("value") else ""
    return f"{where}{field_}: {p['message']}{value}"
