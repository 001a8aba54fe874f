"""Batch runs: the job format the command line sends to worker processes (``--jobs``) and to a Dask
cluster (``--dask``), the single per-process cache of reasoners those workers keep, and the ordered,
bounded submission of jobs.

A job is a tuple ``(format, patient id, IRI, source, data problems, triples[, "store"])``: the
patient as read by the main process (``cohort.pool.patient_job``); a worker turns it back into a
``PatientInput``, assesses it and returns the formatted outcome (``write.formats.outcome_row``).
A configuration is a tuple ``(reference table, extra ontology files, engine, guidance)``.

When every input is a patient-summary NDJSON file (the usual bulk cohort), the main process does not read
the patients (``cohort.lines``): a job is the raw line ``(format, file, line number, line[, "store"])``
(``line_job``) and the worker reads it (``assess_line``): the main process's cost per patient no longer
caps the run.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from kg_reasoner.api import Reasoner, init_worker, worker_reasoner
from kg_reasoner.cohort.lines import line_results
from kg_reasoner.cohort.pool import job_patient, ordered_bounded, patient_job, pool_results
from kg_reasoner.errors import InputError
from kg_reasoner.read.claims import claim_of
from kg_reasoner.read.files import read_summary_line, summary_ndjson_files
from kg_reasoner.read.patient import PatientInput
from kg_reasoner.write.formats import SUMMARY_FORMATS, outcome_row

# the per-process reasoner cache (``worker_reasoner``, ``init_worker``) lives in kg_reasoner.api, beside
# the Reasoner, so that the Python API's cohort runs share it; it is re-exported here for the CLI and Dask
__all__ = [
    "assess_job",
    "assess_line",
    "batch_results",
    "init_worker",
    "job",
    "line_job",
    "ordered_bounded",
    "queued_jobs",
    "spread_results",
    "worker_reasoner",
]


def job(pi: PatientInput, fmt: str, store: bool) -> tuple:
    """A patient as a job for a worker."""
    return (fmt,) + patient_job(pi) + (("store",) if store else ())


def assess_job(job: tuple, config: tuple | None = None) -> tuple:
    """Run in a worker: assess one job, return the formatted outcome."""
    fmt, patient, store = job[0], job[1:6], len(job) > 6
    return _outcome(worker_reasoner(config), job_patient(patient), fmt, store)


def line_job(fmt: str, path: Path, lineno: int, line: str, *, store: bool) -> tuple:
    """A raw line of a patient-summary NDJSON file as a job for a worker (``assess_line``)."""
    return (fmt, str(path), lineno, line) + (("store",) if store else ())


def assess_line(job: tuple, config: tuple | None = None) -> tuple:
    """Run in a worker: read the patient of a ``line_job`` and assess her. Returns ``(None, InputError)``
    when the line cannot be read, else ``(claim_of(her), the formatted outcome)``: the main process admits her
    with it (``RunClaims.admit_unchanged``) before it takes the outcome."""
    fmt, path, lineno, line, store = job[0], job[1], job[2], job[3], len(job) > 4
    r = worker_reasoner(config)
    pi = read_summary_line(r.reader, path, lineno, line)
    if isinstance(pi, InputError):
        return None, pi
    return claim_of(pi), _outcome(r, pi, fmt, store)


def _outcome(reasoner: Reasoner, pi: PatientInput, fmt: str, store: bool) -> tuple:
    """A patient assessed and formatted (``write.formats.outcome_row``): only what the format reads."""
    return outcome_row(reasoner.assess_input(pi, summary=fmt in SUMMARY_FORMATS, keep_graphs=store), fmt, store)


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
    on ``jobs`` worker processes (``cohort.dask.dask_batch_results`` runs the same jobs on a cluster)."""
    if jobs <= 1:
        for item in pending(reasoner, inputs, skip):
            if isinstance(item, InputError):
                yield item
            else:
                yield _outcome(reasoner, item, fmt, store)
        return
    pool = functools.partial(pool_results, jobs=jobs, initializer=init_worker, initargs=(config,))
    yield from spread_results(
        reasoner,
        inputs,
        fmt=fmt,
        store=store,
        skip=skip,
        run_lines=functools.partial(pool, assess_line),
        run_jobs=functools.partial(pool, assess_job),
    )


def spread_results(
    reasoner: Reasoner,
    inputs: Iterable[Any],
    *,
    fmt: str,
    store: bool,
    skip: set,
    run_lines: Callable[[Iterator[Any]], Iterator[Any]],
    run_jobs: Callable[[Iterator[Any]], Iterator[Any]],
) -> Iterator[InputError | tuple[str, tuple]]:
    """``batch_results`` on workers: ``run_lines(jobs)`` runs raw-line jobs (``line_job``, ``assess_line``) and
    ``run_jobs(jobs)`` jobs this process read (``job``, ``assess_job``), each yielding the results in order (a
    process pool, or a Dask cluster: ``cohort.dask``). Patient-summary NDJSON goes as raw lines the workers read
    while this process keeps the run's checks (``cohort.lines``); other inputs, and ``--resume`` with something
    to skip, are read here."""
    files = None if skip else summary_ndjson_files(inputs)
    if files is not None:
        yield from line_results(
            files,
            make_job=functools.partial(line_job, fmt, store=store),
            run=run_lines,
            reader=reasoner.reader,
            local=lambda pi: _outcome(reasoner, pi, fmt, store),
        )
        return
    yield from run_jobs(queued_jobs(reasoner, inputs, fmt=fmt, store=store, skip=skip))
