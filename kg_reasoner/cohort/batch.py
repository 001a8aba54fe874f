"""Batch runs: the job format the command line sends to worker processes (``--jobs``) and to a Dask
cluster (``--dask``), the single per-process cache of reasoners those workers keep, and the ordered,
bounded submission of jobs.

A job is a tuple ``(format, patient id, IRI, source, data problems, triples[, "store"])``: the
patient as read by the main process (``cohort.pool.patient_job``); a worker turns it back into a
``PatientInput``, assesses it and returns the formatted outcome (``write.formats.outcome_row``).
A configuration is a tuple ``(reference table, extra ontology files, engine, guidance)``.

When every input is a patient-summary NDJSON file (the usual bulk cohort), the main process does not read
the patients: a job is the raw line ``(format, file, line number, line[, "store"])`` (``line_job``) and the
worker reads it (``assess_line``). The main process only splits the files into lines, admits each patient
in input order (``api.RunClaims``: a repeated id or a node of another patient is read again and handled
there, as ``read_many`` would) and writes: its own cost per patient no longer caps the run.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from rdflib import URIRef

from kg_reasoner.api import Reasoner, RunClaims, init_worker, worker_reasoner
from kg_reasoner.cohort.pool import job_patient, ordered_bounded, patient_job, pool_results
from kg_reasoner.errors import InputError
from kg_reasoner.read.files import read_summary_line, summary_lines, summary_ndjson_files
from kg_reasoner.read.patient import PatientInput
from kg_reasoner.read.rdf import foreign_nodes
from kg_reasoner.write.formats import SUMMARY_FORMATS, outcome_row

# the per-process reasoner cache (``worker_reasoner``, ``init_worker``) lives in kg_reasoner.api, beside
# the Reasoner, so that the Python API's cohort runs share it; it is re-exported here for the CLI and Dask
__all__ = ["assess_job", "batch_results", "init_worker", "job", "ordered_bounded", "queued_jobs", "worker_reasoner"]


def job(pi: PatientInput, fmt: str, store: bool) -> tuple:
    """A patient as a job for a worker."""
    return (fmt,) + patient_job(pi) + (("store",) if store else ())


def assess_job(job: tuple, config: tuple | None = None) -> tuple:
    """Run in a worker: assess one job, return the formatted outcome."""
    fmt, patient, store = job[0], job[1:6], len(job) > 6
    a = worker_reasoner(config).assess_input(job_patient(patient), summary=fmt in SUMMARY_FORMATS, keep_graphs=store)
    return outcome_row(a, fmt, store)


def line_job(fmt: str, path: Path, lineno: int, line: str, store: bool) -> tuple:
    """A raw line of a patient-summary NDJSON file as a job for a worker (``assess_line``)."""
    return (fmt, str(path), lineno, line) + (("store",) if store else ())


def assess_line(job: tuple, config: tuple | None = None) -> tuple:
    """Run in a worker: read the patient of a ``line_job`` and assess her. Returns ``(None, InputError)``
    when the line cannot be read, else ``((her IRI, source, foreign nodes), the formatted outcome)``: the
    main process admits her with these (``RunClaims.admit_unchanged``) before it takes the outcome."""
    fmt, path, lineno, line, store = job[0], job[1], job[2], job[3], len(job) > 4
    r = worker_reasoner(config)
    pi = read_summary_line(r.reader, path, lineno, line)
    if isinstance(pi, InputError):
        return None, pi
    claim = (str(pi.iri), pi.source, [str(n) for n in foreign_nodes(pi.graph, pi.iri)])
    a = r.assess_input(pi, summary=fmt in SUMMARY_FORMATS, keep_graphs=store)
    return claim, outcome_row(a, fmt, store)


def already_done(pi, skip: set) -> bool:
    """Whether --resume already holds this patient: keyed by id and source (an old CSV without a source
    column, by id)."""
    return (pi.patient_id, pi.source) in skip or (pi.patient_id, None) in skip


def pending(reasoner: Reasoner, inputs: Iterable[Any], skip: set) -> Iterator[InputError | PatientInput]:
    """Every patient of ``inputs`` read (the InputErrors of what could not be read in their place), leaving
    out the patients ``skip`` already holds (``--resume``)."""
    for item in reasoner.read_many(inputs):
        if isinstance(item, InputError) or not already_done(item, skip):
            yield item


def queued_jobs(
    reasoner: Reasoner, inputs: Iterable[Any], *, fmt: str, store: bool, skip: set = frozenset()
) -> Iterator[InputError | tuple]:
    """Every patient of ``inputs`` read and turned into a job (the InputErrors of what could not be read in
    their place), leaving out the patients ``skip`` already holds (``--resume``)."""
    for item in pending(reasoner, inputs, skip):
        yield item if isinstance(item, InputError) else job(item, fmt, store)


def batch_results(
    reasoner: Reasoner,
    inputs: Iterable[Any],
    *,
    fmt: str,
    store: bool,
    jobs: int = 1,
    config: tuple,
    skip: set = frozenset(),
) -> Iterator[InputError | tuple[str, tuple]]:
    """Formatted outcomes in input order, or the errors of what could not be read: in this process, or
    on ``jobs`` worker processes (``cohort.dask.dask_results`` runs the same jobs on a cluster)."""
    if jobs <= 1:
        for item in pending(reasoner, inputs, skip):
            if isinstance(item, InputError):
                yield item
            else:
                a = reasoner.assess_input(item, summary=fmt in SUMMARY_FORMATS, keep_graphs=store)
                yield outcome_row(a, fmt, store)
        return
    files = None if skip else summary_ndjson_files(inputs)
    if files is not None:
        yield from _line_results(reasoner, files, fmt=fmt, store=store, jobs=jobs, config=config)
        return
    queued = queued_jobs(reasoner, inputs, fmt=fmt, store=store, skip=skip)
    yield from pool_results(assess_job, queued, jobs=jobs, initializer=init_worker, initargs=(config,))


def _line_results(
    reasoner: Reasoner, files: list[Path], *, fmt: str, store: bool, jobs: int, config: tuple
) -> Iterator[InputError | tuple[str, tuple]]:
    """``batch_results`` for patient-summary NDJSON files: raw lines to the workers, each patient admitted
    in input order as her outcome comes back. One whose IRI was read before in the run, or who describes
    another patient's node, is read again here and passed through ``RunClaims.admit`` (renamed or
    refused, as ``read_many`` does) and, when admitted, assessed here: the outcomes are those of a run
    in which the main process reads every patient."""
    claims = RunClaims()
    sent: deque = deque()  # the jobs (or a file's InputError) whose results are still to come, in order

    def queued() -> Iterator[InputError | tuple]:
        for path in files:
            for item in summary_lines(path):
                job = item if isinstance(item, InputError) else line_job(fmt, path, *item, store)
                sent.append(job)
                yield job

    for result in pool_results(assess_line, queued(), jobs=jobs, initializer=init_worker, initargs=(config,)):
        job = sent.popleft()
        if isinstance(result, InputError):  # the rest of a file could not be read: never sent
            yield result
            continue
        claim, row = result
        if claim is None:  # the line's own InputError
            yield row
            continue
        iri, source, nodes = claim
        if claims.admit_unchanged(URIRef(iri), source, map(URIRef, nodes)):
            yield row
            continue
        pi = claims.admit(read_summary_line(reasoner.reader, job[1], job[2], job[3]))
        if isinstance(pi, InputError):
            yield pi
        else:
            a = reasoner.assess_input(pi, summary=fmt in SUMMARY_FORMATS, keep_graphs=store)
            yield outcome_row(a, fmt, store)
