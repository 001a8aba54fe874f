"""Patient data to RDF: patient summary JSON (decision-spec section 6) and RDF files.

The JSON vocabulary is read from the ontology, not written here: which keys
exist (``kgr:summaryKey``), what kind of record each becomes (the core class
it specialises), and which values each accepts (``kgr:summaryValue``). A new
cause or symptom added to the ontology with a summary key is accepted in the
JSON with no code change. Everything outside that vocabulary is an error that
names the file, the patient and the field.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import re
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from kg_reasoner.errors import InputError, UnreadableInputError
from kg_reasoner.read import fhir as fhir_mod
from kg_reasoner.read.patient import (
    PatientInput,
    ReadStopped,
    is_ndjson,
    json_loads,
    load_json,
    numbered_lines,
    open_lines,
)
from kg_reasoner.read.rdf import RDF_FORMATS, read_rdf
from kg_reasoner.read.summary import SummaryReader


def iter_input_files(paths: Iterable[str | Path]) -> Iterator[Path | list[Path]]:
    """Files named, and the readable files of directories named (sorted, recursive), in the order given,
    each read on its own, except what must be read together, which comes as one list:

    * the NDJSON files of one folder form one FHIR bulk export; a folder of an export that holds no
      Patient file (``part2/``, an ``error/`` folder) is read with the other export folders of the same
      directory named, since the records and the errors it holds are about their patients;
    * a FHIR JSON file that holds no Patient but refers to one (a Condition file beside her Bundle) is read
      with the files (of the same directory named, or among the files named one after another) that hold
      the patients it refers to: a record must meet its patient. A file that refers to no patient (an
      Organization, a Practitioner) is read on its own, as is every file of a folder of whole Bundles."""
    named: list[Path] = []
    for p in paths:
        path = Path(p)
        if not path.is_dir():
            named.append(path)
            continue
        if named:
            yield from _together(named)
            named = []
        yield from _together([c for c in sorted(path.rglob("*")) if c.is_file()], folder=True)
    if named:
        yield from _together(named)


def _together(paths: list[Path], folder: bool = False) -> Iterator[Path | list[Path]]:
    """``paths`` in order, with what must be read together as one list (``iter_input_files``) at the place
    of its first member."""
    readable = [
        p for p in paths if not folder or is_ndjson(p) or p.suffix.lower() == ".json" or p.suffix.lower() in RDF_FORMATS
    ]
    group = {p: p for p in readable}  # (each file's group: union-find by its first member)
    place = {p: i for i, p in enumerate(readable)}

    def root(p: Path) -> Path:
        while group[p] != p:
            p = group[p]
        return p

    def join(a: Path, b: Path) -> None:
        ra, rb = root(a), root(b)
        if ra != rb:
            group[max(ra, rb, key=place.__getitem__)] = min(ra, rb, key=place.__getitem__)

    exports: dict[Path, list[Path]] = {}
    for p in readable:
        if is_ndjson(p):
            exports.setdefault(p.parent, []).append(p)
    for files in exports.values():
        for f in files[1:]:
            join(files[0], f)
    holds = {d: any(f.name.lower().startswith("patient") for f in fs) for d, fs in exports.items()}
    with_patients = [fs[0] for d, fs in exports.items() if holds[d]]
    for d, fs in exports.items():  # an export folder without patients: read with the others of the run
        if not holds[d]:
            for other in with_patients or [e[0] for e in exports.values()]:
                join(fs[0], other)
    jsons = [p for p in readable if p.suffix.lower() == ".json"]
    orphans = {p: refs for p in jsons if (refs := _orphan_refs(p))}
    if orphans:
        held = {p: _patient_keys(p) for p in jsons if p not in orphans}
        for orphan, refs in orphans.items():
            for p, keys in held.items():
                if any(ref in keys or any(ref.endswith("/" + k) for k in keys) for ref in refs):
                    join(orphan, p)
    members: dict[Path, list[Path]] = {}
    for p in readable:
        members.setdefault(root(p), []).append(p)
    for p in readable:
        if root(p) == p:
            yield members[p] if len(members[p]) > 1 or is_ndjson(p) else p


#: in a FHIR JSON file's text: a resource type; a Patient resource; a reference to a patient
_RESOURCE = re.compile(rb'"resourceType"')
_PATIENT = re.compile(rb'"resourceType"\s*:\s*"Patient"')
_PATIENT_REF = re.compile(rb'"reference"\s*:\s*"((?:[^"]*/)?Patient/[^"/]+|urn:uuid:[^"]+)"')


def _orphan_refs(path: Path) -> set[str]:
    """The patients a FHIR JSON file without a Patient refers to (empty: it has one, refers to none, or is
    not FHIR)."""
    try:
        data = path.read_bytes()
    except OSError:
        return set()
    if not _RESOURCE.search(data) or _PATIENT.search(data):
        return set()
    return {m.decode("utf-8", "replace") for m in _PATIENT_REF.findall(data)}


def _patient_keys(path: Path) -> set[str]:
    """How the Patients of a FHIR JSON file are referred to (Patient/id, their fullUrl)."""
    try:
        data = path.read_bytes()
        if not _PATIENT.search(data):
            return set()
        doc = json_loads(data.decode("utf-8-sig"))
    except (OSError, ValueError):
        return set()
    if not isinstance(doc, dict):
        return set()
    out: set[str] = set()
    for item in fhir_mod.bundle_resources(doc, str(path)):  # (as the reader will walk it, nested Bundles too)
        if isinstance(item, tuple) and item[0].get("resourceType") == "Patient":
            r = item[0]
            rid = f"Patient/{r['id']}" if isinstance(r.get("id"), str) else None
            out |= {k for k in (rid, r.get("_fullUrl")) if isinstance(k, str)}
    return out


def _vocabulary(fhir_vocab):
    """The FhirVocabulary ``read_file`` was given, or the one the function it was given returns."""
    return fhir_vocab() if callable(fhir_vocab) else fhir_vocab


def read_file(
    path: Path | list[Path],
    reader: SummaryReader,
    fhir_vocab,
    now: _dt.datetime | None = None,
    as_of: _dt.date | _dt.datetime | None = None,
) -> Iterator[PatientInput | InputError]:
    """Every patient of one file (or one bulk export), or the error of each patient or resource
    that could not be read. ``fhir_vocab``: the FhirVocabulary used for FHIR input, or a function giving it
    (called only for FHIR input: reading the vocabulary from the ontology takes half a second). ``now``: the
    time FHIR records are read as of, ``as_of`` that time as given (``read_fhir``)."""
    if isinstance(path, list) or is_ndjson(path):
        paths = path if isinstance(path, list) else [path]
        summaries = [p for p in paths if is_ndjson(p) and _is_summary_ndjson(p)]
        for p in summaries:
            yield from _read_summary_ndjson(p, reader)
        lines = [p for p in paths if is_ndjson(p) and p not in summaries]
        bundles = [p for p in paths if not is_ndjson(p)]  # (FHIR JSON files read with them: iter_input_files)
        if lines or bundles:
            source = str(paths[0].parent if len(paths) > 1 else paths[0])
            resources = itertools.chain(fhir_mod.ndjson_resources(lines), *map(_bundle_items, bundles))
            yield from fhir_mod.read_fhir(resources, _vocabulary(fhir_vocab), source, now, as_of)
        return
    if path.suffix.lower() == ".json":
        try:
            data = load_json(path)
        except InputError as exc:
            yield exc
            return
        if isinstance(data, dict) and "resourceType" in data:
            yield from fhir_mod.read_fhir(
                fhir_mod.bundle_resources(data, str(path)), _vocabulary(fhir_vocab), str(path), now, as_of
            )
            return
        if isinstance(data, dict) and "@context" in data:
            yield from not_as_of(read_rdf(path, reader.v), as_of)
            return
        items = list(enumerate(data)) if isinstance(data, list) else [(None, data)]
        for i, item in items:
            try:
                yield reader.read(item, str(path), "" if i is None else f"/{i}")
            except InputError as exc:
                yield exc
    else:
        yield from not_as_of(read_rdf(path, reader.v), as_of)


def not_as_of(patients: Iterable, as_of: _dt.date | _dt.datetime | None) -> Iterator:
    """RDF patients as read; in a retrospective assessment (``as_of`` given) each fails closed, named: an RDF graph is
    taken as asserted, and its records are not read as of a time (an outcome would claim a filter that did not run)."""
    for item in patients:
        if as_of is not None and isinstance(item, PatientInput):
            item.data_problems.append(
                {
                    "severity": "error",
                    "record": item.source,
                    "node": str(item.iri),
                    "field": None,
                    "value": None,
                    "message": (
                        f"RDF input is not read as of a time (the time given: {as_of.isoformat()}): its graph is taken "
                        "as asserted; assess it without a time to assess as of, or give it as FHIR or a patient "
                        "summary; not assessed"
                    ),
                }
            )
        yield item


def _bundle_items(path: Path) -> Iterator:
    """The resources of one FHIR JSON file, or the InputError saying why it cannot be read."""
    try:
        data = load_json(path)
    except InputError as exc:
        yield exc
        return
    if isinstance(data, dict) and "resourceType" in data:
        yield from fhir_mod.bundle_resources(data, str(path))
    else:
        yield UnreadableInputError("is not a FHIR resource or Bundle", source=str(path))


def _is_summary_ndjson(path: Path) -> bool:
    """Whether an NDJSON file holds patient summaries (one per line) rather than FHIR resources."""
    try:
        for line in open_lines(path):
            if line.strip():
                try:
                    item = json_loads(line)
                except ValueError:  # a broken first line: told apart by whether it names a resourceType
                    return '"resourceType"' not in line
                return isinstance(item, dict) and "resourceType" not in item
    except (OSError, ValueError, EOFError, zlib.error):
        return False
    return False


def _read_summary_ndjson(path: Path, reader: SummaryReader) -> Iterator[PatientInput | InputError]:
    """One patient summary per line, read as the file streams (memory does not grow with it)."""
    for item in summary_lines(path):
        yield item if isinstance(item, InputError) else read_summary_line(reader, path, *item)


def summary_lines(path: Path) -> Iterator[tuple[int, str] | InputError]:
    """The numbered lines of a patient-summary NDJSON file, not yet read, as the file streams; when the rest
    of the file cannot be read, a last UnreadableInputError says from which line (nothing is lost silently)."""
    for item in numbered_lines(path):
        if isinstance(item, ReadStopped):  # the rest of the file is lost: said
            yield UnreadableInputError(
                f"cannot be read past line {item.line - 1}: {item.error}", source=str(path), field=f"line {item.line}"
            )
            return
        yield item


def read_summary_line(reader: SummaryReader, path: Path | str, lineno: int, line: str) -> PatientInput | InputError:
    """The patient of line ``lineno`` of a patient-summary NDJSON file, or the InputError naming what in it
    could not be read (the same in the main process and in a worker that is handed the raw line)."""
    try:
        item = json_loads(line)
    except ValueError as exc:
        return UnreadableInputError(f"line {lineno} is not JSON: {exc}", source=str(path))
    try:
        return reader.read(item, f"{path}:{lineno}")
    except InputError as exc:
        return exc


def summary_ndjson_files(inputs: object) -> list[Path] | None:
    """When ``inputs`` (a list of paths) names only patient-summary NDJSON files (directories of them
    included), those files in the order ``read_file`` reads them; otherwise None. A run of such files can
    hand its workers raw lines (``cohort.lines``, for the command line and ``Reasoner.iter_cohort``): each
    line is a patient, read where she is assessed."""
    if not isinstance(inputs, (list, tuple)) or not all(isinstance(x, (str, Path)) for x in inputs):
        return None
    out: list[Path] = []
    for entry in iter_input_files(inputs):
        for path in entry if isinstance(entry, list) else [entry]:
            if not (is_ndjson(path) and path.is_file() and _is_summary_ndjson(path)):
                return None
            out.append(path)
    return out or None
