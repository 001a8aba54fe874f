"""The ontology release: one command checks the ontology and writes Turtle, RDF/XML, JSON-LD, a
Protégé catalog and pyLODE HTML; a failing check writes nothing."""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET

import pytest
from conftest import DATA, run_cli
from rdflib import BNode, Graph, URIRef
from rdflib.compare import graph_diff, isomorphic, to_isomorphic
from rdflib.namespace import OWL, RDF, RDFS

from kg_reasoner import __version__
from kg_reasoner.curation import release as rel

#: the full tier only (writes every release format, pyLODE, HermiT): run with --with-slow
pytestmark = pytest.mark.slow

MODULES = ["core", "code-systems", "pregnancy", "progesterone", "progesterone-reference-ranges"]


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "ontology"
    done = run_cli("release", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert f"kg-reasoner release {__version__}" in done.stderr
    return out


def _same(a: Graph, b: Graph, what: str) -> None:
    if not isomorphic(a, b):
        _, only_a, only_b = graph_diff(to_isomorphic(a), to_isomorphic(b))
        pytest.fail(
            f"{what} differs:\nonly in the release:\n{only_a.serialize(format='nt')[:3000]}\n"
            f"only in the source:\n{only_b.serialize(format='nt')[:3000]}"
        )


@pytest.mark.parametrize("fmt, parser", [("ttl", "turtle"), ("owl", "xml"), ("jsonld", "json-ld")])
@pytest.mark.parametrize("module", MODULES)
def test_every_module_is_released_in_every_format(released, module, fmt, parser):
    source = rel.modules()[module]
    _same(Graph().parse(released / f"{module}.{fmt}", format=parser), source, f"{module}.{fmt}")


def test_merged_document_holds_every_module_without_imports(released):
    merged = Graph().parse(released / "kg-reasoner-progesterone.owl", format="xml")
    assert list(merged.objects(None, OWL.imports)) == []
    assert list(merged.subjects(RDF.type, OWL.Ontology)) == [URIRef(rel.FULL_IRI)]
    assert str(merged.value(URIRef(rel.FULL_IRI), OWL.versionIRI)).endswith(f"/{__version__}/progesterone-full")
    for module in rel.modules().values():
        headers = set(module.subjects(RDF.type, OWL.Ontology))
        # blank nodes are renamed by a round trip: the triples made of IRIs and literals must all be there
        missing = [
            t for t in module if t[0] not in headers and not any(isinstance(n, BNode) for n in t) and t not in merged
        ]
        assert missing == []


def test_catalog_maps_every_import_to_a_released_file(released):
    root = ET.parse(released / "catalog-v001.xml").getroot()
    mapping = {e.get("name"): e.get("uri") for e in root}
    for module in rel.modules().values():
        for imported in module.objects(None, OWL.imports):
            assert (released / mapping[str(imported)]).is_file(), imported
    assert len(mapping) == 2 * len(MODULES)


def test_html_documentation_names_every_class(released):
    seen = 0
    for module, g in rel.modules().items():
        html = (released / "html" / f"{module}.html").read_text(encoding="utf-8")
        labels = [
            str(g.value(c, RDFS.label))
            for c in g.subjects(RDF.type, OWL.Class)
            if isinstance(c, URIRef) and g.value(c, RDFS.label) is not None
        ]
        assert [label for label in labels if label not in html] == [], module
        seen += len(labels)
    assert seen > 80
    index = (released / "html" / "index.html").read_text(encoding="utf-8")
    assert all(f"{m}.html" in index for m in MODULES) and "0 axioms outside the profile" in index


def test_manifest_records_checks_versions_and_hashes(released):
    manifest = json.loads((released / "release.json").read_text(encoding="utf-8"))
    assert manifest["version"] == __version__
    assert manifest["checks"]["owl2rl_violations"] == []
    assert all(rows == [] for rows in manifest["checks"]["qc_violations"].values())
    assert manifest["checks"]["hermit"]["consistent"] is True
    assert len(manifest["version_iris"]) == len(MODULES)
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((released / name).read_bytes()).hexdigest() == digest
    assert len(manifest["files"]) == 3 * (len(MODULES) + 1) + 1 + len(MODULES) + 1


def test_failing_check_writes_nothing(tmp_path, monkeypatch):
    """A QC violation stops the release (exit code 1 from the CLI) before anything is written."""
    good = rel.modules()

    def with_broken():
        mods = dict(good)
        mods["broken"] = Graph().parse(DATA / "qc" / "broken.ttl")
        return mods

    monkeypatch.setattr(rel, "modules", with_broken)
    out = tmp_path / "out"
    with pytest.raises(rel.ReleaseCheckFailed) as info:
        rel.release(out, html=False, hermit=False)
    assert not out.exists()
    text = str(info.value)
    assert "missing-label-violation: <https://example.org/broken#NoLabel> has no rdfs:label" in text
    assert "malformed code '12AB'" in text


def test_version_iris_must_name_the_package_version():
    g = Graph().parse(
        data="""@prefix owl: <http://www.w3.org/2002/07/owl#> .
        <https://w3id.org/kg-reasoner/ontology/x> a owl:Ontology ;
        owl:versionIRI <https://w3id.org/kg-reasoner/ontology/9.9.9/x> ; owl:versionInfo "9.9.9" ."""
    )
    problems = rel._version_problems({"x": g}, __version__)
    assert len(problems) == 2 and "does not name version" in problems[0]
