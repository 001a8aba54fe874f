"""Ontology release: check the bundled ontology, then write it for other tools and readers.

``kg-reasoner release [--out DIR]`` (needs the ``ontology`` extra: owlready2 for HermiT, pyLODE for
the HTML) writes, into ``DIR`` (default ``dist/ontology/<version>``):

- every module (core, code-systems, pregnancy, progesterone, progesterone-reference-ranges) as Turtle
  (``.ttl``), RDF/XML (``.owl``, for Protégé and the OWL API) and JSON-LD (``.jsonld``, context
  inline: nothing to fetch);
- ``kg-reasoner-progesterone.{ttl,owl,jsonld}``: the whole guidance in one document (the modules
  merged, no imports to resolve);
- ``catalog-v001.xml``: Protégé's import catalog, mapping every module IRI and version IRI to its
  local ``.owl`` file;
- ``html/``: human-readable documentation of every module (pyLODE) and ``index.html``;
- ``release.json``: the version, the version IRIs, what every check found and a SHA-256 of every file.

Nothing is written unless every check passes: the OWL 2 RL profile check, the quality-control
queries (``queries/qc/*-violation.rq``), and HermiT (consistent, no unsatisfiable class).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, XSD

from kg_reasoner._version import __version__
from kg_reasoner.curation.checks import hermit_classification, owl2rl_violations, qc_violations
from kg_reasoner.guidance import PROGESTERONE, public_id, read_document

log = logging.getLogger(__name__)


#: The merged document's IRI: all modules of the bundled guidance in one.
FULL_IRI = "https://w3id.org/kg-reasoner/ontology/progesterone-full"


FULL_NAME = "kg-reasoner-progesterone"


FORMATS = {"ttl": "turtle", "owl": "xml", "jsonld": "json-ld"}


class ReleaseCheckFailed(Exception):
    """A check found problems: the release is not written."""

    def __init__(self, problems: list[str]):
        super().__init__(
            f"{len(problems)} problem(s) in the ontology; nothing was written:\n  " + "\n  ".join(problems)
        )
        self.problems = problems


@dataclass
class ReleaseReport:
    out: Path
    version: str
    files: dict[str, str] = field(default_factory=dict)
    checks: dict = field(default_factory=dict)


def modules() -> dict[str, Graph]:
    """The bundled guidance's ontology documents, one graph per module, by file stem."""
    out = {}
    for doc in PROGESTERONE.ontology_documents():
        g = Graph()
        g.parse(data=read_document(doc), format="turtle", publicID=public_id(doc))
        out[Path(doc.split("/")[-1]).stem] = g
    return out


def run_checks(merged: Graph, hermit: bool = True) -> tuple[dict, list[str]]:
    """Every check of ``kg_reasoner.ontology_checks`` on the merged ontology: their findings and the
    problems that stop a release."""
    problems: list[str] = []
    profile = owl2rl_violations(merged)
    problems += [f"outside OWL 2 RL: {p}" for p in profile]
    qc = qc_violations(merged)
    problems += [f"{name}: <{term}> {problem}" for name, rows in qc.items() for term, problem in rows]
    checks: dict = {"owl2rl_violations": profile, "qc_violations": {k: [list(r) for r in v] for k, v in qc.items()}}
    if hermit:
        result = hermit_classification(merged)
        checks["hermit"] = {
            "consistent": result.consistent,
            "unsatisfiable_classes": result.unsatisfiable,
            "inferred_subclass_pairs": len(result.subclasses),
            "inferred_type_pairs": len(result.types),
        }
        if not result.consistent:
            problems.append("HermiT: the ontology is inconsistent")
        problems += [f"HermiT: class {c} is unsatisfiable" for c in result.unsatisfiable]
    else:
        checks["hermit"] = "skipped"
    return checks, problems


def _version_problems(mods: dict[str, Graph], version: str) -> list[str]:
    problems = []
    for name, g in mods.items():
        for onto in g.subjects(RDF.type, OWL.Ontology):
            vi, info = g.value(onto, OWL.versionIRI), g.value(onto, OWL.versionInfo)
            if vi is None or f"/{version}/" not in str(vi):
                problems.append(f"{name}: owl:versionIRI {vi} does not name version {version}")
            if info is None or str(info) != version:
                problems.append(f"{name}: owl:versionInfo {info} is not {version}")
    return problems


def merged_ontology(mods: dict[str, Graph], version: str) -> Graph:
    """All modules in one document, with its own header and no imports to resolve."""
    g = Graph()
    for m in mods.values():
        for prefix, ns in m.namespaces():
            g.bind(prefix, ns, override=False)
        g.addN((s, p, o, g) for s, p, o in m if p != OWL.imports)
    for onto in list(g.subjects(RDF.type, OWL.Ontology)):
        g.remove((onto, RDF.type, OWL.Ontology))
        for p in (OWL.versionIRI, OWL.versionInfo):
            g.remove((onto, p, None))
    full = URIRef(FULL_IRI)
    g.add((full, RDF.type, OWL.Ontology))
    g.add((full, OWL.versionIRI, URIRef(f"https://w3id.org/kg-reasoner/ontology/{version}/progesterone-full")))
    g.add((full, OWL.versionInfo, Literal(version)))
    g.add((full, RDFS.label, Literal("kg-reasoner progesterone guidance, all modules", lang="en")))
    g.add(
        (
            full,
            DCTERMS.title,
            Literal("Progesterone to prevent miscarriage: kg-reasoner ontology (all modules)", lang="en"),
        )
    )
    g.add(
        (
            full,
            SKOS.definition,
            Literal(
                "The kg-reasoner core, its code systems, the pregnancy module, the progesterone guidance and its "
                "default reference table merged into one document.",
                lang="en",
            ),
        )
    )
    g.add(
        (
            full,
            DCTERMS.description,
            Literal(
                "The whole guidance ontology in one document, for tools that do not resolve owl:imports.", lang="en"
            ),
        )
    )
    g.add((full, DCTERMS.license, URIRef("https://creativecommons.org/licenses/by/4.0/")))
    g.add((full, DCTERMS.creator, Literal("kg-reasoner developers")))
    g.add(
        (
            full,
            DCTERMS.created,
            Literal(datetime.now(timezone.utc).replace(microsecond=0).isoformat(), datatype=XSD.dateTime),
        )
    )
    g.add(
        (
            full,
            DCTERMS.source,
            Literal(
                "the modules core, code-systems, pregnancy, progesterone and "
                "progesterone-reference-ranges of kg-reasoner " + version
            ),
        )
    )
    return g


def _catalog(mods: dict[str, Graph]) -> str:
    lines = [
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
        '<catalog prefer="public" xmlns="urn:oasis:names:tc:entity:xmlns:xml:catalog">',
    ]
    for name, g in mods.items():
        for onto in g.subjects(RDF.type, OWL.Ontology):
            for iri in [onto, g.value(onto, OWL.versionIRI)]:
                if iri is not None:
                    lines.append(f'    <uri name="{iri}" uri="{name}.owl"/>')
    lines.append("</catalog>")
    return "\n".join(lines) + "\n"


def _jsonld_context(g: Graph) -> dict:
    """The prefixes the graph's IRIs use (the context is inline: a reader fetches nothing)."""
    used = {str(t) for triple in g for t in triple if isinstance(t, URIRef)}
    return {prefix: str(ns) for prefix, ns in g.namespaces() if prefix and any(iri.startswith(str(ns)) for iri in used)}


def _write_rdf(g: Graph, base: Path) -> list[Path]:
    out = []
    for ext, fmt in FORMATS.items():
        path = base.with_suffix(f".{ext}")
        if fmt == "json-ld":
            path.write_text(
                g.serialize(format="json-ld", context=_jsonld_context(g), auto_compact=True), encoding="utf-8"
            )
        else:
            g.serialize(path, format=fmt, encoding="utf-8")
        out.append(path)
    return out


def _html_docs(sources: dict[str, Path], folder: Path) -> list[Path]:
    """pyLODE documentation of every module. pyLODE configures the root logger when imported
    (logging.basicConfig at DEBUG): that is undone, so the caller's logging stays as it was."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        from pylode import OntPub
    except ImportError:
        raise ImportError("the HTML documentation needs pyLODE: pip install 'kg-reasoner[ontology]'") from None
    finally:
        for h in list(root.handlers):
            if h not in handlers:
                root.removeHandler(h)
        root.setLevel(level)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, src in sources.items():
        path = folder / f"{name}.html"
        path.write_text(OntPub(ontology=str(src)).make_html(), encoding="utf-8")
        out.append(path)
    return out


def _index(report: ReleaseReport, mods: dict[str, Graph], html: bool) -> str:
    rows = []
    for name, g in list(mods.items()) + [(FULL_NAME, None)]:
        if g is not None:
            title = str(g.value(next(g.subjects(RDF.type, OWL.Ontology)), DCTERMS.title) or name)
        else:
            title = "All modules in one document"
        links = " · ".join(f'<a href="../{name}.{ext}">{ext}</a>' for ext in FORMATS)
        doc = f'<a href="{name}.html">documentation</a> · ' if html and g is not None else ""
        rows.append(f"<tr><td><b>{name}</b><br>{title}</td><td>{doc}{links}</td></tr>")
    hermit = report.checks.get("hermit")
    hermit_text = (
        "skipped"
        if hermit == "skipped"
        else f"consistent, {len(hermit['unsatisfiable_classes'])} unsatisfiable classes, "
        f"{hermit['inferred_subclass_pairs']} subclass pairs inferred"
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>kg-reasoner ontology {report.version}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}td{{padding:.4em 1em;border-bottom:1px solid #ddd}}</style>
</head><body>
<h1>kg-reasoner ontology, release {report.version}</h1>
<p>The guidance "Can progesterone prevent miscarriage?" as an OWL 2 RL ontology on the kg-reasoner core.
Licensed CC BY 4.0. Open the RDF/XML files in Protégé with <a href="../catalog-v001.xml">catalog-v001.xml</a>
beside them: imports resolve locally.</p>
<table>{"".join(rows)}</table>
<h2>Checks</h2>
<ul><li>OWL 2 RL profile: {len(report.checks["owl2rl_violations"])} axioms outside the profile</li>
<li>Quality-control queries: {sum(len(v) for v in report.checks["qc_violations"].values())} violations
({len(report.checks["qc_violations"])} queries)</li>
<li>HermiT: {hermit_text}</li></ul>
</body></html>
"""


def release(out: Path | None = None, html: bool = True, hermit: bool = True) -> ReleaseReport:
    """Check the bundled ontology and write the release artefacts (see the module docstring).
    Raises ReleaseCheckFailed (nothing written) when a check finds a problem."""
    mods = modules()
    merged = merged_ontology(mods, __version__)
    checks, problems = run_checks(merged, hermit=hermit)
    problems = _version_problems(mods, __version__) + problems
    if problems:
        raise ReleaseCheckFailed(problems)
    out = Path(out) if out is not None else Path("dist") / "ontology" / __version__
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    report = ReleaseReport(out, __version__, checks=checks)
    written: list[Path] = []
    sources = {}
    for name, g in mods.items():
        written += _write_rdf(g, out / name)
        sources[name] = out / f"{name}.ttl"
    written += _write_rdf(merged, out / FULL_NAME)
    (out / "catalog-v001.xml").write_text(_catalog(mods), encoding="utf-8")
    written.append(out / "catalog-v001.xml")
    if html:
        written += _html_docs(sources, out / "html")
        (out / "html" / "index.html").write_text(_index(report, mods, html), encoding="utf-8")
        written.append(out / "html" / "index.html")
    report.files = {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(written)}
    manifest = {
        "version": __version__,
        "version_iris": sorted(str(v) for g in mods.values() for v in g.objects(None, OWL.versionIRI)),
        "checks": checks,
        "files": report.files,
    }
    (out / "release.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return report
