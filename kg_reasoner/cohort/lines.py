"""Cohort runs whose workers read the patients: when every input is a patient-summary NDJSON file (the
usual bulk cohort), a job is a raw line and the main process neither reads nor pickles a patient. It
splits the files into lines, admits each patient in input order as her result comes back
(``read.claims.RunClaims``) and hands the results on. A patient the run must change or refuse (her id read
before, a node of another patient's) is read again here and passed through ``RunClaims.admit``, as a run
reading every patient in the main process would: the outcomes are the same.

Used by the command line (``cohort.batch``: on a process pool or on a Dask cluster) and the Python API
(``Reasoner.iter_cohort``); each gives its own job and the way its jobs are run.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kg_reasoner.errors import InputError
from kg_reasoner.read.claims import RunClaims
from kg_reasoner.read.files import read_summary_line, summary_lines
from kg_reasoner.read.patient import PatientInput
from kg_reasoner.read.summary import SummaryReader


def line_results(
    files: list[Path],
    *,
    make_job: Callable[[Path, int, str], Any],
    run: Callable[[Iterator[Any]], Iterator[Any]],
    reader: SummaryReader,
    local: Callable[[PatientInput], Any],
) -> Iterator[Any]:
    """For every line of ``files``, in order: the value the worker returned for ``make_job(path, line
    number, line)`` as ``(claim_of(patient), value)``, or ``local(patient)`` for a patient read again here,
    or the InputError of a line that cannot be read (a worker returns ``(None, InputError)``) or of a file
    whose rest cannot be read. ``run(jobs)`` runs the jobs on the workers and yields their results in
    order, an InputError among the jobs in its place (``pool.pool_results`` with the worker, or
    ``cohort.dask.dask_results``)."""
    claims = RunClaims()
    sent: deque = deque()  # (path, line number, line) of each job whose result is still to come, in order

    def queued() -> Iterator[Any]:
        for path in files:
            for item in summary_lines(path):
                if isinstance(item, InputError):  # the rest of a file could not be read: never sent
                    yield item
                    continue
                sent.append((path, *item))  # where the line is, and the line
                yield make_job(path, *item)

    for result in run(queued()):
        if isinstance(result, InputError):
            yield result
            continue
        where = sent.popleft()
        claim, value = result
        if claim is None:  # the line's own InputError
            yield value
        elif claims.admit_unchanged(claim):
            yield value
        else:
            pi = claims.admit(read_summary_line(reader, *where))
            yield pi if isinstance(pi, InputError) else local(pi)
