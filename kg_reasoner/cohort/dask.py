"""Cohort runs on a dask.distributed cluster (the ``dask`` extra).

Patients are sent in partitions; each worker builds the knowledge base once (from its own
on-disk cache when warm) and assesses its partitions; results come back in input order,
with a bounded number of partitions in flight. The same code runs on a ``LocalCluster``
(the test suite) and on a real cluster (``kg-reasoner assess --dask tcp://scheduler:8786``).
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import islice

from kg_reasoner.api import as_of_value, worker_config
from kg_reasoner.cohort.batch import assess_job, assess_line, ordered_bounded, spread_results, worker_reasoner
from kg_reasoner.cohort.pool import NOT_RUN, job_runs, run_chunk
from kg_reasoner.errors import InputError
from kg_reasoner.guidance import PROGESTERONE, Guidance


def assess_partition(jobs: list[tuple], config: tuple) -> list[tuple]:
    """Run on a worker: the command line's jobs (``cohort.batch`` job format), each as ``(True, result)``, up to
    one that raises: ``(False, its exception)`` (``pool.run_chunk``), raised in the client in its place."""
    return run_chunk(functools.partial(assess_job, config=config), jobs)


def assess_line_partition(jobs: list[tuple], config: tuple) -> list[tuple]:
    """Run on a worker: the command line's raw-line jobs (``cohort.batch.line_job``): the worker reads each
    patient from her line, and only lines travel (no shared file system is needed). As ``assess_partition``."""
    return run_chunk(functools.partial(assess_line, config=config), jobs)


def assess_records(records: list[dict], config: tuple) -> list[dict]:
    """Run on a worker: patient-summary dicts (or FHIR Bundles) to outcome dicts."""
    r = worker_reasoner(config)
    out = []
    for rec in records:
        try:
            out.extend(a.to_dict() for a in (r.assess_input(pi) for pi in r.read(rec)))
        except InputError as exc:
            out.append({"patient": exc.patient, "source": exc.source, "status": None, "error": str(exc)})
    return out


def assess_files(paths: list[str], config: tuple) -> list[dict]:
    """Run on a worker: read the input files itself (NDJSON, JSON, FHIR Bundles, Turtle: what
    ``kg-reasoner assess`` reads) and assess every patient in them; what cannot be read becomes an error
    dict naming the file and record, in its place."""
    r = worker_reasoner(config)
    out: list[dict] = []
    for item in r.read_many(paths):
        if isinstance(item, InputError):
            out.append({"patient": item.patient, "source": item.source, "status": None, "error": str(item)})
        else:
            out.append(r.assess_input(item).to_dict())
    return out


def _partitions(items: Iterable, size: int) -> Iterator[list]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def _ordered(client, func, partitions: Iterable[list], config: tuple, window: int) -> Iterator[list]:
    """Each partition's results in order, at most ``window`` partitions on the cluster at a time."""
    return ordered_bounded(lambda part: client.submit(func, part, config, pure=False), partitions, window)


def dask_results(
    address: str, jobs: Iterable, config: tuple, partition: int = 256, func: Callable = assess_partition
) -> Iterator:
    """The CLI's results in input order (InputErrors of unreadable inputs in their place): ``func`` (a
    partition of jobs, config) on the cluster, ``assess_partition`` or ``assess_line_partition``."""
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise SystemExit("kg-reasoner: --dask needs the dask extra: pip install 'kg-reasoner[dask]'") from exc
    with Client(address) as client:
        yield from _in_place(client, jobs, config, partition, func)


def dask_batch_results(
    address: str, reasoner, inputs: Iterable, *, fmt: str, store: bool, config: tuple, skip: set = frozenset()
) -> Iterator:
    """``cohort.batch.batch_results`` on the Dask cluster whose scheduler is at ``address`` (``assess --dask``),
    through ``batch.spread_results``: patient-summary NDJSON goes as raw lines the workers read
    (``assess_line_partition``: no shared file system needed) while this process keeps the run's checks;
    other inputs, and ``--resume`` with something to skip, are read here and go as jobs (``assess_partition``)."""
    cluster = functools.partial(dask_results, address, config=config)
    yield from spread_results(
        reasoner,
        inputs,
        fmt=fmt,
        store=store,
        skip=skip,
        run_lines=functools.partial(cluster, func=assess_line_partition),
        run_jobs=functools.partial(cluster, func=assess_partition),
    )


def _in_place(client, jobs: Iterable, config: tuple, partition: int, func: Callable = assess_partition) -> Iterator:
    """``dask_results`` on a client: the jobs go ``partition`` at a time (``pool.job_runs``: an InputError
    counts for none and stays in this process), each result and InputError comes back exactly in its place;
    an exception a job raised is raised in its place, after the results before it."""
    window = 2 * max(sum(client.nthreads().values()), 1)
    sent: deque = deque()  # the runs on the cluster, in order, with their InputErrors

    def parts() -> Iterator[list]:
        for run in job_runs(jobs, partition):
            sent.append(run)
            yield [j for j in run if not isinstance(j, InputError)]

    for results in _ordered(client, func, parts(), config, window):
        done = iter(results)
        for item in sent.popleft():
            if isinstance(item, InputError):
                yield item
                continue
            # (the jobs after one that raised were not run: the run stops at that one, as with --jobs)
            ok, value = next(done, NOT_RUN)
            if not ok:
                # (a worker's exception with its traceback: what unpickling it gives, when it did not travel)
                raise value if isinstance(value, BaseException) else _rebuilt(value)
            yield value


def _config(reference_table, extra_ontology, engine: str, guidance: Guidance, as_of=None) -> tuple:
    """A worker's configuration, as ``Reasoner.config`` makes it (``api.worker_reasoner`` builds from it); the time
    to assess as of checked here: one that is none is said before any task is sent."""
    return worker_config(reference_table, extra_ontology, engine, guidance, as_of_value(as_of))


def _rebuilt(wrapped) -> BaseException:
    """The exception of multiprocessing's ExceptionWithTraceback, its worker traceback as its cause."""
    rebuild, args = wrapped.__reduce__()
    return rebuild(*args)


def assess_dask(
    client,
    records: Iterable[dict],
    *,
    reference_table=None,
    extra_ontology=(),
    engine: str = "fast",
    partition: int = 256,
    guidance: Guidance = PROGESTERONE,
    as_of=None,
) -> Iterator[dict]:
    """Python API: assess patient summaries (or FHIR Bundle dicts) on a Dask cluster given its
    ``distributed.Client``; yields outcome dicts (``Assessment.to_dict()``) in input order. ``guidance``: the
    guidance module to reason with, as for ``assess_cohort``; ``as_of``: the time to assess as of, as for
    ``Reasoner`` (the workers' present, or their own KG_REASONER_NOW, when not given)."""
    config = _config(reference_table, extra_ontology, engine, guidance, as_of)
    window = 2 * max(sum(client.nthreads().values()), 1)
    for results in _ordered(client, assess_records, _partitions(records, partition), config, window):
        yield from results


def assess_dask_files(
    client,
    paths: Iterable,
    *,
    files_per_task: int = 1,
    reference_table=None,
    extra_ontology=(),
    engine: str = "fast",
    guidance: Guidance = PROGESTERONE,
    as_of=None,
) -> Iterator[dict]:
    """Python API: assess input files on a Dask cluster, each worker reading its files itself (only the
    paths travel: the paths must be readable on the workers, e.g. a shared file system). Split a large
    NDJSON cohort into shards first (``split -l 10000 cohort.ndjson shard-``): a shard is a task. Yields
    outcome dicts (``Assessment.to_dict()``) in input order, an error dict (``"error"``, naming the file
    and record) in place of what could not be read. ``guidance`` and ``as_of`` as for ``assess_dask``."""
    config = _config(reference_table, extra_ontology, engine, guidance, as_of)
    window = 2 * max(sum(client.nthreads().values()), 1)
    parts = _partitions((str(p) for p in paths), files_per_task)
    for results in _ordered(client, assess_files, parts, config, window):
        yield from results
