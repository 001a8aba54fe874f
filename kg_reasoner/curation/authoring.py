"""The authoring check of a guidance module: are its rules, criteria and patient attributes stated in
the vocabulary the generic rules run (``shapes/authoring.ttl``), and can every rule fire?

``authoring_findings(closure, module, rules)``: the violations of the authoring shapes on the OWL 2 RL
closure of the module and the core, about the module's own terms, and every rule of the module that
can never fire (it is neither class-triggered, nor a criteria rule, nor status-dependent, and no SHACL
rule of the module's rule shapes derives ``kgr:firedRule`` it).
"""

from __future__ import annotations

import difflib
import functools
import re
from importlib import resources

import pyshacl
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SH
from rdflib.plugins.sparql import prepareQuery

from kg_reasoner.curation.findings import Finding
from kg_reasoner.namespaces import KGR_IRI
from kg_reasoner.reason.plans import filters_rdflib_drops
from kg_reasoner.reason.terms import prefix_block
from kg_reasoner.resources import read_text

#: The authoring vocabulary (issue 13) is newer than parts of the core: its terms are IRIs here, not
#: ``namespaces.KGR`` names (which must all be declared in the core ontology).
KGR = Namespace(KGR_IRI)


#: The authoring shapes, in the package's shapes folder.
AUTHORING_SHAPES = "authoring.ttl"


#: The kinds of rule the generic rules fire by themselves (no SHACL rule of the module's own needed).
FIRING_KINDS = (KGR.ClassTriggeredRule, KGR.CriteriaRule, KGR.StatusDependentRule)


#: The properties that make a rule of a firing kind, whether or not it is typed with it.
FIRING_PROPERTIES = (KGR.appliesToClass, KGR.hasCriterion, KGR.triggerCriterion, KGR.firesWhen)


@functools.cache
def authoring_shapes() -> Graph:
    """The authoring shapes (parsed once per process)."""
    g = Graph()
    g.parse(data=read_text("shapes", AUTHORING_SHAPES), format="turtle")
    return g


def _namer(module: Graph):
    def name(node) -> str:
        if isinstance(node, URIRef):
            try:
                return module.namespace_manager.normalizeUri(node)
            except Exception:
                return f"<{node}>"
        if isinstance(node, Literal):
            return node.n3(module.namespace_manager)
        return "[]"

    return name


def _results(report: Graph):
    """The top-level results of a validation report (not the details nested under them)."""
    return [
        r
        for report_node in report.subjects(RDF.type, SH.ValidationReport)
        for r in report.objects(report_node, SH.result)
    ]


_IRI = re.compile(r"<?(https?://[^\s,;<>()\"]+?)>?(?=[\s,;:.)]*(?:\s|$))")


def _curies(text: str, name) -> str:
    """A message with the IRIs pySHACL put in it ({$this}, {?value}) written as CURIEs."""
    return _IRI.sub(lambda m: name(URIRef(m.group(1))), text)


def _owner(graph: Graph, node):
    """(subject, property) pointing to a blank node (a firing condition is found through its rule)."""
    pointers = (
        (s, p) for s, p in graph.subject_predicates(node) if s != node and p not in (RDF.first, RDF.rest, OWL.sameAs)
    )
    return next(iter(sorted(pointers)), (None, None))


def shape_findings(closure: Graph, module: Graph) -> list[Finding]:
    """The authoring shapes' violations about the module's own terms (subjects the module states)."""
    conforms, report, _text = pyshacl.validate(
        closure,
        shacl_graph=authoring_shapes(),
        inference="none",
        abort_on_first=False,
        allow_infos=True,
        allow_warnings=True,
    )
    if conforms:
        return []
    own = set(module.subjects())
    name = _namer(module)
    out = []
    for result in _results(report):
        focus = report.value(result, SH.focusNode)
        if focus not in own:
            continue
        path = report.value(result, SH.resultPath)
        value = report.value(result, SH.value)
        messages = sorted(str(m) for m in report.objects(result, SH.resultMessage))
        shape = report.value(result, SH.sourceShape)
        label = authoring_shapes().value(shape, RDFS.label) if shape is not None else None
        term, prop = focus, path
        subject = name(focus)
        if isinstance(focus, BNode):  # a firing condition: named through its rule
            owner, via = _owner(closure, focus)
            if owner is not None:
                term, subject = owner, f"{name(owner)} {name(via)} [ ... ]"
                prop = path if path is not None else via
        if path is not None:
            axiom = f"{subject} {name(path)} {name(value) if value is not None else '(none)'}"
        else:
            axiom = f"{subject} ({label or 'authoring shape'})"
        message = _curies("; ".join(messages), name) or str(label or "violates an authoring shape")
        severity = "warning" if report.value(result, SH.resultSeverity) in (SH.Warning, SH.Info) else "error"
        out.append(
            Finding(
                "authoring",
                name(term),
                axiom,
                message,
                property=name(prop) if prop is not None else None,
                severity=severity,
            )
        )
    return out


def fired_by_rule_shapes(rules: Graph) -> set:
    """The rules a SHACL rule of ``rules`` derives ``?patient kgr:firedRule <rule>`` for (read from each
    sh:SPARQLRule's CONSTRUCT template)."""
    out: set = set()
    for node in rules.subjects(RDF.type, SH.SPARQLRule):
        text = rules.value(node, SH.construct)
        if text is None or "firedRule" not in text:  # (parsing every rule of the core would cost a second)
            continue
        try:
            template = prepareQuery(prefix_block(rules, node) + str(text)).algebra.get("template") or []
        except Exception:  # a broken query: ``rule_shape_findings`` says so
            continue
        out.update(o for _s, p, o in template if p == KGR.firedRule and isinstance(o, URIRef))
    return out


def unfired_rules(closure: Graph, module: Graph, rules: Graph) -> list[Finding]:
    """The module's rules that can never fire: of no firing kind, and derived by none of its rule shapes."""
    candidates = [
        rule
        for rule in set(closure.subjects(RDF.type, KGR.GuidanceRule)) & set(module.subjects())
        if not any((rule, RDF.type, kind) in closure for kind in FIRING_KINDS)
        and not any((rule, p, None) in closure for p in FIRING_PROPERTIES)
    ]
    fired = fired_by_rule_shapes(rules) if candidates else set()
    name = _namer(module)
    out = []
    for rule in candidates:
        if rule in fired:
            continue
        out.append(
            Finding(
                "authoring",
                name(rule),
                f"{name(rule)} rdf:type kgr:GuidanceRule",
                "this rule can never fire: it is not a kgr:ClassTriggeredRule (kgr:appliesToClass), a "
                "kgr:CriteriaRule (kgr:hasCriterion) or a kgr:StatusDependentRule (kgr:firesWhen), and no SHACL "
                "rule of the module's rule shapes derives kgr:firedRule for it",
                property="rdf:type",
            )
        )
    return out


def authoring_findings(closure: Graph, module: Graph, rules: Graph | None = None) -> list[Finding]:
    """Every authoring problem of the module: the shapes' violations, the rules that never fire, and the
    SPARQL of its rule shapes that the two engines would read differently.
    ``closure``: the OWL 2 RL closure of the module and the core; ``module``: the module's own triples
    (their blank nodes shared with ``closure``); ``rules``: the module's own SHACL rule shapes."""
    rules = rules if rules is not None else Graph()
    return (
        core_term_findings(closure, module)
        + rule_term_findings(closure, module, rules)
        + unloaded_imports(closure, module)
        + shape_findings(closure, module)
        + unfired_rules(closure, module, rules)
        + dropped_filters(rules)
    )


#: What declares a term (OWL 2 declarations): the types a document (the core, a shared module, the module
#: itself) states a term with
_DECLARING = (
    OWL.Class,
    OWL.ObjectProperty,
    OWL.DatatypeProperty,
    OWL.AnnotationProperty,
    OWL.NamedIndividual,
    RDFS.Datatype,
    OWL.Ontology,
)


#: in a SPARQL text: a PREFIX declaration, a full IRI, a string, a prefixed name
_PREFIX_DECL = re.compile(r"PREFIX\s+([A-Za-z][\w-]*)?:\s*<([^>\s]*)>", re.IGNORECASE)
#: a full IRI, a string or a comment, whichever comes first (a # in an IRI or a string is no comment)
_TOKEN = re.compile(
    r'<(?P<iri>[^<>"{}|^`\\\s]*)>|(?P<string>"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"'
    r"|'(?:[^'\\\n]|\\.)*')|(?P<comment>#[^\n]*)"
)
_PREFIXED = re.compile(r"(?<![\w?$:])([A-Za-z][\w-]*)?:([A-Za-z_][\w-]*)")


def _namespace(iri: str) -> str:
    return iri[: max(iri.rfind("#"), iri.rfind("/")) + 1]


def _closest(local: str, names: list[str], cutoff: float) -> str | None:
    """The declared name most like a misspelt one (difflib's ratio at least ``cutoff``), or None."""
    near = difflib.get_close_matches(local, names, n=1, cutoff=cutoff)
    return near[0] if near else None


def rule_term_findings(closure: Graph, module: Graph, rules: Graph) -> list[Finding]:
    """Names of the core's namespace (kgr:) or of the module's own that a rule shape's SPARQL uses but that
    nothing declares (a misspelt kgr:hasFindng, an acs:undeclaredProperty in a rule's head): the rule would
    read or write a name that no other rule, query or axiom knows, and change outcomes without a word."""
    # (declared: any term a document gives a type, good:High a good:Level included)
    declared = {str(s) for s in closure.subjects(RDF.type, None) if isinstance(s, URIRef)}
    ontologies = set(module.subjects(RDF.type, OWL.Ontology))
    own = {KGR_IRI} | {
        _namespace(str(s))
        for s in module.subjects(RDF.type, None)
        if isinstance(s, URIRef) and s not in ontologies  # (an ontology's IRI may sit in another's namespace)
    }
    name = _namer(rules)
    findings = []
    for _kind, node, text in sorted(_sparql_texts(rules), key=lambda t: (str(t[1]), t[2])):
        prefixes = {p or "": ns for p, ns in _PREFIX_DECL.findall(prefix_block(rules, node) + text)}
        used: set[str] = set()

        def blank(m: re.Match, used: set = used) -> str:  # (an IRI is kept aside; strings and comments go)
            if m.group("iri") is not None:
                used.add(m.group("iri"))
            return " "

        body = _TOKEN.sub(blank, _PREFIX_DECL.sub(" ", text))
        used |= {prefixes[p or ""] + local for p, local in _PREFIXED.findall(body) if (p or "") in prefixes}

        def shown(iri: str, prefixes: dict = prefixes) -> str:  # (as the query's own prefixes write it)
            for p, ns in sorted(prefixes.items(), key=lambda t: -len(t[1])):
                if iri.startswith(ns) and re.fullmatch(r"[A-Za-z_][\w-]*", iri[len(ns) :]):
                    return f"{p}:{iri[len(ns) :]}"
            return name(URIRef(iri))

        for iri in sorted(i for i in used if _namespace(i) in own and i not in declared):
            ns = _namespace(iri)
            locals_ = sorted(d[len(ns) :] for d in declared if _namespace(d) == ns)
            near = _closest(iri[len(ns) :], locals_, cutoff=0.8)
            hint = f"; did you mean {shown(ns + near)}?" if near else "; declare it, or correct its name."
            holder = _holder(rules, node, name)
            findings.append(
                Finding(
                    "authoring",
                    holder,
                    f'{holder} sh:rule [ ... """... {shown(iri)} ...""" ]',
                    f"its SPARQL uses {shown(iri)}, which no document declares{hint} The rule would read "
                    "or write a name that no other rule, query or axiom knows, and change outcomes without a word.",
                )
            )
    return findings


def unloaded_imports(closure: Graph, module: Graph) -> list[Finding]:
    """owl:imports of an ontology that neither the package nor the documents given hold: kg-reasoner never
    fetches a document (no network at run time), so its axioms would be missing without a word."""
    loaded = set(closure.subjects(RDF.type, OWL.Ontology)) | set(closure.objects(None, OWL.versionIRI))
    name = _namer(module)
    return [
        Finding(
            "authoring",
            name(iri),
            f"{name(onto)} owl:imports {name(iri)} .",
            f"imports {name(iri)}, which neither the package nor the documents given declare: kg-reasoner never "
            "fetches a document over the network, so its axioms would be missing without a word. Give its "
            "Turtle file beside the module (Guidance.from_files(ontology=[module, imported]), assess "
            "--guidance-module MODULE --guidance-module IMPORTED), or remove the import.",
            property="owl:imports",
            # (a W3C or DCMI vocabulary, SKOS, PROV...: its terms are annotations the engines do not reason on)
            severity="warning" if str(iri).startswith(_STANDARD_VOCABULARIES) else "error",
        )
        for onto, iri in sorted(module.subject_objects(OWL.imports))
        if iri not in loaded
    ]


_STANDARD_VOCABULARIES = ("http://www.w3.org/", "https://www.w3.org/", "http://purl.org/dc/")


def core_term_findings(closure: Graph, module: Graph) -> list[Finding]:
    """Names in the core's namespace (kgr:) that the module uses but no document declares: a
    misspelt core term (kgr:maxExlusive for kgr:maxExclusive, kgr:Symtom for kgr:Symptom) would be read as a
    new name that no rule or query knows, and change outcomes without a word. A module mints its own terms
    in its own namespace."""
    declared = {
        s
        for kind in _DECLARING
        for s in closure.subjects(RDF.type, kind)
        if isinstance(s, URIRef) and str(s).startswith(KGR_IRI)
    }  # (the shared pregnancy module, given as a file, declares kgr: terms of its own: declared is declared)
    used = {t for triple in module for t in triple if isinstance(t, URIRef) and str(t).startswith(KGR_IRI)}
    names = sorted(str(t)[len(KGR_IRI) :] for t in declared)
    name = _namer(module)
    findings = []
    for term in sorted(used - declared):
        local = str(term)[len(KGR_IRI) :]
        near = _closest(local, names, cutoff=0.75)
        hint = f"; did you mean kgr:{near}?" if near else "; mint the module's own terms in its own namespace."
        s, p, o = min((t for t in module if term in t), key=str)

        findings.append(
            Finding(
                "authoring",
                f"kgr:{local}",
                f"{name(s)} {name(p)} {name(o)} .",
                f"kgr:{local} is not a term of the core ontology{hint} An unknown name would be read as a new "
                "one that no rule or query of the core knows, and change outcomes without a word.",
            )
        )
    return findings


def dropped_filters(rules: Graph) -> list[Finding]:
    """The SPARQL of the rule shapes with a FILTER of one constant that rdflib drops (``FILTER (false)``,
    ``(0)``, ``("")``: ``plans.filters_rdflib_drops``): the reference engine (pySHACL, on rdflib) would keep
    what the fast engine (and SPARQL 1.1) removes. A query is parsed only when one of its FILTERs reads no
    variable (parsing every query of a module would cost a second)."""
    out = []
    name = _namer(rules)
    for kind, node, text in _sparql_texts(rules):
        if not _has_a_filter_without_variables(text):
            continue
        try:
            constants = filters_rdflib_drops(prefix_block(rules, node) + text)
        except Exception:  # a broken query: ``rule_shape_findings`` says so
            continue
        if constants:
            term = _holder(rules, node, name)
            out.append(
                Finding(
                    "authoring",
                    term,
                    f'{term} {name(kind)} """... FILTER ({constants[0]}) ..."""',
                    f"FILTER ({', '.join(constants)}) removes every solution in SPARQL 1.1, but rdflib, on which "
                    "the reference engine (pySHACL) runs this query, ignores a group's only FILTER when it is one "
                    "constant that is false, 0 or empty (RDFLib/rdflib#3381): the two engines would conclude "
                    "differently. To switch a rule off, remove the rule shape rather than filtering everything out",
                    property=name(kind),
                )
            )
    return out


def _sparql_texts(shapes: Graph):
    """(sh:construct | sh:select | sh:ask, the node holding it, its text) of every SPARQL text of the shapes."""
    for kind in (SH.construct, SH.select, SH.ask):
        for node, text in shapes.subject_objects(kind):
            yield kind, node, str(text)


def _holder(shapes: Graph, node, name) -> str:
    """The name of the shape holding a SPARQL rule or constraint (a blank node is named through its shape)."""
    owner, _via = _owner(shapes, node) if isinstance(node, BNode) else (node, None)
    return name(owner) if owner is not None else name(node)


def _has_a_filter_without_variables(text: str) -> bool:
    """Whether a FILTER of the query has a bracketed expression in which no variable (``?``, ``$``) appears."""
    upper = text.upper()
    i = upper.find("FILTER")
    while i >= 0:
        j = i + len("FILTER")
        while j < len(text) and text[j].isspace():
            j += 1
        if j < len(text) and text[j] == "(":
            depth, k = 0, j
            while k < len(text):
                depth += {"(": 1, ")": -1}.get(text[k], 0)
                if depth == 0:
                    break
                k += 1
            inner = text[j : k + 1]
            if "?" not in inner and "$" not in inner:
                return True
        i = upper.find("FILTER", i + 1)
    return False


def rule_shape_findings(rules: Graph, module_rules: Graph) -> list[Finding]:
    """Problems of a module's own SHACL rule shapes (``module_rules``; ``rules`` adds the core's, whose
    prefix declarations they may use): each shape against the SHACL shapes of SHACL (pySHACL's
    shacl-shacl), and each SPARQL query that does not parse."""
    out = []
    name = _namer(module_rules)
    conforms, report, _text = pyshacl.validate(module_rules, shacl_graph=_shacl_shacl(), inference="none")
    if not conforms:
        for result in _results(report):
            focus = report.value(result, SH.focusNode)
            path = report.value(result, SH.resultPath)
            value = report.value(result, SH.value)
            messages = sorted(str(m) for m in report.objects(result, SH.resultMessage))
            owner, _via = _owner(module_rules, focus) if isinstance(focus, BNode) else (None, None)
            term = name(owner) if owner is not None else name(focus)
            subject = f"{term} [ ... ]" if owner is not None else term
            statement = " ".join(
                x
                for x in (subject, name(path) if path is not None else "", name(value) if value is not None else "")
                if x
            )
            out.append(
                Finding(
                    "rules",
                    term,
                    statement,
                    "not a well-formed SHACL shape: " + ("; ".join(messages) or "see the SHACL specification"),
                    property=name(path) if path is not None else None,
                )
            )
    for kind, node, text in _sparql_texts(module_rules):
        try:
            prepareQuery(prefix_block(rules, node) + text)
        except Exception as exc:
            term = _holder(module_rules, node, name)
            out.append(unparsed_rule(term, f'{term} {name(kind)} """..."""', name(kind), exc))
    return out


def unparsed_rule(term: str, axiom: str, prop: str, error: Exception | str) -> Finding:
    """The finding for a rule shape's SPARQL that does not parse (``error``: the parser's), as ``check`` and
    loading (``knowledge``) both say it."""
    reason = " ".join(str(error).split())[:300]
    return Finding(
        "rules",
        term,
        axiom,
        f"the SPARQL query does not parse ({reason}); are its prefixes declared (sh:prefixes)?",
        property=prop,
    )


@functools.cache
def _shacl_shacl() -> Graph:
    """The SHACL shapes of SHACL (W3C SHACL, appendix C), as pySHACL ships them."""
    g = Graph()
    g.parse(
        data=resources.files("pyshacl").joinpath("assets", "shacl-shacl.ttl").read_text(encoding="utf-8"),
        format="turtle",
    )
    return g
