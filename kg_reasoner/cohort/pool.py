"""Worker processes for cohort runs, shared by the command line (``--jobs``, ``cohort.batch``) and the
Python API (``Reasoner.assess_cohort(jobs=N)``): the patient as a job, a pool of spawned workers, and the
ordered, bounded submission of jobs. Nothing here knows what a worker does with a patient.
"""

from __future__ import annotations

import functools
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator

from rdflib import URIRef

from kg_reasoner.errors import InputError
from kg_reasoner.read.patient import PatientInput, patient_graph


def patient_job(pi: PatientInput) -> tuple:
    """A patient as the main process read her, for a worker: (patient id, IRI, source, data problems,
    triples). The triples travel as rdflib terms in the job's pickle, which a worker turns back into a
    graph about twice as fast as it parses N-Triples (and blank nodes keep their labels)."""
    return (pi.patient_id, str(pi.iri), pi.source, pi.data_problems, tuple(pi.graph))


def job_patient(job: tuple) -> PatientInput:
    """The PatientInput of ``patient_job(pi)``, in a worker."""
    pid, iri, source, problems, triples = job
    return PatientInput(pid, URIRef(iri), patient_graph(triples), source, problems)


def pool_results(
    worker: Callable, items: Iterable, *, jobs: int, initializer: Callable, initargs: tuple, chunk: int = 8
) -> Iterator:
    """``worker(item)`` for every item on ``jobs`` spawned processes, in input order (InputErrors pass
    through in their place), at most ``16 * jobs`` items in flight. Items travel ``chunk`` at a time (one
    message to a worker and one back for several patients: the pool's per-message cost is a sizeable
    share of a patient's); an exception a worker raises for one item is raised here in that item's place."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(jobs, initializer=initializer, initargs=initargs) as pool:
        submit = functools.partial(_submit_chunk, pool, worker)
        for done in ordered_bounded(submit, _chunks(items, chunk), window=max(1, jobs * 16 // chunk)):
            if isinstance(done, InputError):
                yield done
                continue
            for ok, value in done:
                if not ok:
                    raise value
                yield value


def _chunks(items: Iterable, size: int) -> Iterator:
    """Runs of up to ``size`` consecutive items as lists; an InputError on its own, in its place."""
    run: list = []
    for item in items:
        if isinstance(item, InputError):
            if run:
                yield run
                run = []
            yield item
            continue
        run.append(item)
        if len(run) >= size:
            yield run
            run = []
    if run:
        yield run


def _submit_chunk(pool, worker: Callable, run: list):
    return pool.apply_async(_run_chunk, (worker, run))


def _run_chunk(worker: Callable, run: list) -> list:
    """In a worker: ``(True, worker(item))`` for each item, or ``(False, the exception it raised)``."""
    out = []
    for item in run:
        try:
            out.append((True, worker(item)))
        except Exception as exc:  # noqa: BLE001 - handed back to be raised in the main process, in its place
            out.append((False, exc))
    return out


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
