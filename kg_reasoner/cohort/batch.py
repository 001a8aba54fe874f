"""Batch runs: the job format the command line sends to worker processes (``--jobs``) and to a Dask
cluster (``--dask``), the single per-process cache of reasoners those workers keep, and the ordered,
bounded submission of jobs.

A job is a tuple ``(format, patient id, IRI, source, data problems, N-Triples[, "store"])``: the
patient as read by the main process, serialised once; a worker turns it back into a
``PatientInput``, assesses it and returns the formatted outcome (``write.formats.outcome_row``).
A configuration is a tuple ``(reference table, extra ontology files, engine, guidance)``.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from rdflib import Graph, URIRef

from kg_reasoner.api import Reasoner
from kg_reasoner.errors import InputError
from kg_reasoner.guidance import PROGESTERONE
from kg_reasoner.read.patient import PatientInput
from kg_reasoner.write.formats import outcome_row

#: The reasoners of this process, one per configuration (a worker process, a Dask worker, the
#: differential check): built once, from the on-disk knowledge-base cache when warm.
_REASONERS: dict = {}
#: The configuration a pool worker was started with (``init_worker``).
_CONFIG: dict = {}


def worker_reasoner(config: tuple) -> Reasoner:
    """This process's reasoner for ``config`` (reference table, extra ontology, engine[, guidance])."""
    if config not in _REASONERS:
        reference_table, ontology, engine, *rest = config
        _REASONERS[config] = Reasoner(
            reference_table, tuple(ontology or ()), engine=engine, guidance=rest[0] if rest else PROGESTERONE
        )
    return _REASONERS[config]


def init_worker(config: tuple) -> None:
    """A pool worker's initializer: remember the configuration (the reasoner is built on first use)."""
    _CONFIG["config"] = config


def job(pi: PatientInput, fmt: str, store: bool) -> tuple:
    """A patient as a job for a worker."""
    return (fmt, pi.patient_id, str(pi.iri), pi.source, pi.data_problems, pi.graph.serialize(format="nt")) + (
        ("store",) if store else ()
    )


def assess_job(job: tuple, config: tuple | None = None) -> tuple:
    """Run in a worker: assess one job, return the formatted outcome."""
    fmt, pid, iri, source, problems, ntriples, *store = job
    pi = PatientInput(pid, URIRef(iri), Graph().parse(data=ntriples, format="nt"), source, problems)
    a = worker_reasoner(config or _CONFIG["config"]).assess_input(pi)
    return outcome_row(a, fmt, bool(store))


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
            yield item if isinstance(item, InputError) else outcome_row(reasoner.assess_input(item), fmt, store)
        return
    queued = queued_jobs(reasoner, inputs, fmt=fmt, store=store, skip=skip)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(jobs, initializer=init_worker, initargs=(config,)) as pool:
        yield from ordered_bounded(lambda j: pool.apply_async(assess_job, (j,)), queued, window=jobs * 16)


def ordered_bounded(submit, items, window: int):
    """Submit every job of ``items`` (InputErrors pass straight through, in their place) and yield
    the results in input order, with at most ``window`` jobs in flight: memory stays bounded
    however large the cohort (multiprocessing's imap would read the whole input ahead)."""
    pending: deque = deque()
    for item in items:
        pending.append(item if isinstance(item, InputError) else submit(item))
        while len(pending) > window or (pending and isinstance(pending[0], InputError)):
            head = pending.popleft()
            yield head if isinstance(head, InputError) else head.get() if hasattr(head, "get") else head.result()
    while pending:
        head = pending.popleft()
        yield head if isinstance(head, InputError) else head.get() if hasattr(head, "get") else head.result()
