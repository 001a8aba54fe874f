"""Independent checks of an ontology: the OWL 2 RL profile, the quality-control queries, and
classification by HermiT (a complete OWL 2 DL reasoner, shipped with owlready2, run on Java).

They run in the test suite and before every release (``kg-reasoner release``); each names what it
found, so an ontology engineer can fix it:

- ``owl2rl_violations(graph)``: every axiom outside the OWL 2 RL profile (OWL 2 Profiles, section
  4.2), written in functional-style syntax, with the reason (``curation.profile`` implements it);
- ``qc_violations(graph)``: the rows of every ``queries/qc/*-violation.rq``;
- ``hermit_classification(graph)``: consistency, unsatisfiable classes, and the class hierarchy and
  individual types HermiT infers (compared with owlrl's in the tests).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph
from rdflib.namespace import OWL

from kg_reasoner.curation.profile import RL_DATATYPES, owl2rl_violations
from kg_reasoner.resources import data_folder

__all__ = [
    "RL_DATATYPES",
    "HermitResult",
    "ReasonerUnavailable",
    "hermit_classification",
    "hermit_command",
    "owl2rl_violations",
    "qc_query_names",
    "qc_violations",
]


def qc_query_names() -> list[str]:
    return sorted(
        q.name[:-3] for q in data_folder("queries").joinpath("qc").iterdir() if q.name.endswith("-violation.rq")
    )


def qc_violations(g: Graph) -> dict[str, list[tuple[str, str]]]:
    """The rows (term, problem) of every ``queries/qc/*-violation.rq`` on ``g``, by query name."""
    out = {}
    for name in qc_query_names():
        text = data_folder("queries").joinpath("qc", f"{name}.rq").read_text(encoding="utf-8")
        out[name] = [(str(r.term), str(r.problem)) for r in g.query(text)]
    return out


class ReasonerUnavailable(RuntimeError):
    """HermiT cannot run here: owlready2 (the 'ontology' extra) or Java is missing."""


@dataclass
class HermitResult:
    consistent: bool
    #: named classes equivalent to owl:Nothing
    unsatisfiable: list[str] = field(default_factory=list)
    #: (sub, super) pairs between named classes, transitively closed, owl:Thing left out
    subclasses: set[tuple[str, str]] = field(default_factory=set)
    #: (individual, class) pairs, with the superclasses of the direct types, owl:Thing left out
    types: set[tuple[str, str]] = field(default_factory=set)
    output: str = ""


def hermit_command() -> list[str]:
    """The java command line of the HermiT bundled with owlready2."""
    try:
        import owlready2
    except ImportError:
        raise ReasonerUnavailable("HermiT comes with owlready2: pip install 'kg-reasoner[ontology]'") from None
    java = shutil.which(getattr(owlready2, "JAVA_EXE", "java") or "java")
    if java is None:
        raise ReasonerUnavailable("HermiT needs Java (a JRE 8 or later on the PATH)")
    folder = Path(owlready2.__file__).parent / "hermit"
    return [
        java,
        "-Xmx2000M",
        "-cp",
        f"{folder}{os.pathsep}{folder / 'HermiT.jar'}",
        "org.semanticweb.HermiT.cli.CommandLine",
    ]


_AXIOM = re.compile(r"^(SubClassOf|Type|EquivalentClasses)\(\s*(.*?)\s*\)\s*$")


_IRI = re.compile(r"<([^>]*)>")


def hermit_classification(g: Graph, timeout: float = 300) -> HermitResult:
    """Classify ``g`` with HermiT: consistency, unsatisfiable classes, the inferred class hierarchy
    and the individuals' types. owl:imports are left out (give the whole ontology): nothing is fetched."""
    cmd = hermit_command()
    with tempfile.TemporaryDirectory(prefix="kg-reasoner-hermit-") as tmp:
        src = Path(tmp) / "ontology.owl"
        plain = Graph()
        plain.addN((s, p, o, plain) for s, p, o in g if p != OWL.imports)
        plain.serialize(src, format="xml")
        classes, types = Path(tmp) / "classes.ofn", Path(tmp) / "types.ofn"
        run = subprocess.run(
            cmd + ["-k", "-c", f"--output={classes}", src.as_uri()], capture_output=True, text=True, timeout=timeout
        )
        text = run.stdout + run.stderr + (classes.read_text(encoding="utf-8") if classes.is_file() else "")
        if run.returncode != 0 or "is satisfiable" not in text:
            if "inconsistent" in text.lower() or "is not satisfiable" in text:
                return HermitResult(False, output=text)
            raise RuntimeError(f"HermiT failed (exit {run.returncode}): {text.strip()[-2000:]}")
        run = subprocess.run(
            cmd + ["-I", f"--output={types}", src.as_uri()], capture_output=True, text=True, timeout=timeout
        )
        if run.returncode != 0:
            raise RuntimeError(f"HermiT failed to classify instances (exit {run.returncode}): {run.stderr[-2000:]}")
        result = HermitResult(True, output=text)
        direct: dict[str, set[str]] = {}
        nothing = str(OWL.Nothing)
        for line in classes.read_text(encoding="utf-8").splitlines():
            m = _AXIOM.match(line.strip())
            if not m:
                continue
            iris = _IRI.findall(m.group(2))
            if m.group(1) == "SubClassOf" and len(iris) == 2:
                direct.setdefault(iris[0], set()).add(iris[1])
            elif m.group(1) == "EquivalentClasses":
                if nothing in iris:
                    result.unsatisfiable += [i for i in iris if i != nothing]
                for a in iris:
                    direct.setdefault(a, set()).update(i for i in iris if i != a)
        closed = _closure(direct)
        thing = str(OWL.Thing)
        result.subclasses = {
            (a, b) for a, ups in closed.items() for b in ups if a != b and thing not in (a, b) and nothing not in (a, b)
        }
        for line in types.read_text(encoding="utf-8").splitlines():
            m = _AXIOM.match(line.strip())
            if m and m.group(1) == "Type":
                iris = _IRI.findall(m.group(2))
                if len(iris) == 2 and iris[1] != thing:
                    result.types.update((iris[0], c) for c in {iris[1]} | closed.get(iris[1], set()) if c != thing)
        result.unsatisfiable.sort()
        return result


def _closure(direct: dict[str, set[str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for start in direct:
        seen, todo = set(), [start]
        while todo:
            for up in direct.get(todo.pop(), ()):
                if up not in seen:
                    seen.add(up)
                    todo.append(up)
        out[start] = seen
    return out
