"""Worker processes for cohort runs, shared by the command line (``--jobs``, ``cohort.batch``) and the
Python API (``Reasoner.assess_cohort(jobs=N)``): the patient as a job, a pool of spawned workers, and the
ordered, bounded submission of jobs. Nothing here knows what a worker does with a patient.
"""

from __future__ import annotations

import functools
import multiprocessing
import pickle
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.pool import ExceptionWithTraceback  # type: ignore[attr-defined]

from rdflib import URIRef

from kg_reasoner.errors import InputError
from kg_reasoner.read.patient import PatientInput


def patient_job(pi: PatientInput) -> tuple:
    """A patient as the main process read her, for a worker: (patient id, IRI, source, data problems,
    triples). The triples travel as rdflib terms in the job's pickle, which a worker turns back into a
    graph (when one is read) about twice as fast as it parses N-Triples (and blank nodes keep their labels)."""
    return (pi.patient_id, str(pi.iri), pi.source, pi.data_problems, pi.triples)


def job_patient(job: tuple) -> PatientInput:
    """The PatientInput of ``patient_job(pi)``, in a worker."""
    pid, iri, source, problems, triples = job
    return PatientInput(pid, URIRef(iri), triples, source, problems)


def pool_results(
    worker: Callable, items: Iterable, *, jobs: int, initializer: Callable, initargs: tuple, chunk: int = 8
) -> Iterator:
    """``worker(item)`` for every item on ``jobs`` spawned processes, in input order (InputErrors pass
    through in their place, never to a worker), at most ``16 * jobs`` jobs in flight (when ``chunk``
    divides ``16 * jobs``, as the default does; else about that many). Items travel
    ``chunk`` at a time (one message to a worker and one back for several patients: the pool's cost per
    message is a sizeable share of a patient's); an exception a worker raises for an item is raised here
    in that item's place, after the items before it, with the worker's traceback as its cause."""
    if chunk < 1:
        raise ValueError(f"chunk must be a whole number >= 1, not {chunk!r}")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(jobs, initializer=initializer, initargs=initargs) as pool:
        submit = functools.partial(_Sent, pool, worker)
        # (ordered_bounded keeps window + 1 runs in flight)
        for done in ordered_bounded(submit, job_runs(items, chunk), window=max(1, jobs * 16 // chunk - 1)):
            for item in done:
                if isinstance(item, InputError):
                    yield item
                    continue
                ok, value = item
                if not ok:
                    raise value
                yield value


def job_runs(items: Iterable, size: int) -> Iterator[list]:
    """The items in runs of ``size`` jobs (an InputError stays in its place in a run: it counts for none)."""
    run: list = []
    count = 0
    for item in items:
        run.append(item)
        if not isinstance(item, InputError):
            count += 1
            if count == size:
                yield run
                run, count = [], 0
    if run:
        yield run


class _Sent:
    """A run's jobs sent to a worker as one message; ``get()``: the run with each job's ``(True, result)``
    or ``(False, exception)`` in its place (its InputErrors stay in this process)."""

    def __init__(self, pool, worker: Callable, run: list):
        self.run = run
        jobs = [x for x in run if not isinstance(x, InputError)]
        self.result = pool.apply_async(run_chunk, (worker, jobs)) if jobs else None

    def get(self) -> list:
        done = iter(self.result.get() if self.result is not None else ())
        # (the jobs after one that raised were not run; the main process stops at that one)
        return [item if isinstance(item, InputError) else next(done, NOT_RUN) for item in self.run]


NOT_RUN = (False, RuntimeError("not run: a job before it in its message raised"))


def run_chunk(worker: Callable, jobs: list) -> list:
    """In a worker: ``(True, worker(job))`` for each job, up to the first that raises: ``(False, its
    exception)``, carrying the worker's traceback (as the pool sends an exception), or a RuntimeError
    naming it when it does not pickle. The jobs after it are not run: the main process stops there."""
    out = []
    for job in jobs:
        try:
            out.append((True, worker(job)))
        except Exception as exc:  # noqa: BLE001 - handed back to be raised in the main process, in its place
            tb = exc.__traceback__
            try:
                pickle.dumps(exc)
            except Exception:  # noqa: BLE001 - whatever stops it pickling
                exc = RuntimeError(f"{type(exc).__name__}: {exc}")
            out.append((False, ExceptionWithTraceback(exc, tb)))
            break
    return out


def ordered_bounded(submit, items, window: int):
    """Submit every job of ``items`` (InputErrors pass straight through, in their place) and yield
    the results in input order, with at most ``window + 1`` jobs in flight: memory stays bounded
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
