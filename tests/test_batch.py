"""Batch runs from the command line: line formats, output files, resume, parallel jobs, summary."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import VIGNETTES, load_case, run_cli
from rdflib import Dataset

from kg_reasoner.errors import InputError

EXPECTED = {load_case(p)["id"]: load_case(p)["expect"] for p in VIGNETTES[:6]}


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    path = tmp_path_factory.mktemp("cohort") / "cohort.json"
    path.write_text(json.dumps([load_case(p)["patient"] for p in VIGNETTES[:6]] + [{"id": "BAD", "colour": 1}]))
    return path


@pytest.fixture(scope="module")
def ndjson_run(cohort):
    return run_cli("assess", str(cohort), "--format", "ndjson")


def test_ndjson_one_object_per_line(ndjson_run):
    assert ndjson_run.returncode == 2  # the BAD record; everything else was assessed
    rows = [json.loads(line) for line in ndjson_run.stdout.splitlines()]
    assert {r["patient"]: {k: r[k] for k in ("status", "rules", "missing", "flags")} for r in rows} == EXPECTED
    assert "field /6/colour" in ndjson_run.stderr


def test_summary_on_stderr(ndjson_run, cohort):
    assert "6 assessed, 0 not assessed, 1 unreadable" in ndjson_run.stderr
    assert (
        "statuses: contraindicated 1, indicated 2, insufficient_data 1, not_indicated 1, not_recommended 1"
        in ndjson_run.stderr
    )
    assert "rules fired: R1 2, R2 1, R3 1, R4 1, R6 2" in ndjson_run.stderr
    quiet = run_cli("assess", str(cohort), "--format", "csv", "--quiet")
    assert "assessed" not in quiet.stderr


def test_csv_rows(cohort):
    proc = run_cli("assess", str(cohort), "--format", "csv", "--quiet")
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [r["patient"] for r in rows] == list(EXPECTED)
    p04 = next(r for r in rows if r["patient"] == "P04")
    assert (p04["status"], p04["rules"], p04["missing"], p04["flags"]) == ("not_recommended", "R1;R3", "", "")


def test_trig_keeps_asserted_inferred_and_provenance_apart(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps([load_case(p)["patient"] for p in VIGNETTES[:2]]))
    proc = run_cli("assess", str(path), "--format", "trig", "--quiet")
    assert proc.returncode == 0, proc.stderr
    ds = Dataset()
    ds.parse(data=proc.stdout, format="trig")
    names = sorted(str(g.identifier) for g in ds.graphs() if len(g))
    assert names == [
        f"https://w3id.org/kg-reasoner/patient/{p}/graph/{k}"
        for p in ("P01", "P02")
        for k in ("asserted", "inferred", "provenance")
    ]


def test_output_file_and_resume(cohort, tmp_path):
    out = tmp_path / "out.ndjson"
    first = json.dumps({"patient": "P01", "status": "indicated"})
    out.write_text(first + "\n" + '{"patient": "P02", "sta')  # a line cut by an interruption
    proc = run_cli("assess", str(cohort), "--format", "ndjson", "--output", str(out), "--resume")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "1 skipped (--resume)" in proc.stderr
    patients = [json.loads(line)["patient"] for line in out.read_text().splitlines()]  # every line complete
    assert patients.count("P01") == 1 and sorted(patients) == sorted(EXPECTED)


def test_resume_needs_a_line_format_and_a_file(cohort):
    assert run_cli("assess", str(cohort), "--resume").returncode == 2
    assert run_cli("assess", str(cohort), "--format", "json", "--output", "x.json", "--resume").returncode == 2


def test_jobs_give_the_same_output_in_order(cohort, ndjson_run):
    proc = run_cli("assess", str(cohort), "--format", "ndjson", "--jobs", "2")
    assert proc.returncode == 2
    assert proc.stdout == ndjson_run.stdout
    assert "field /6/colour" in proc.stderr


def test_pool_sends_patients_in_chunks_and_keeps_everything_in_its_place():
    """``pool_results`` sends eight jobs per message: the results come back in input order, with each
    InputError of the reader in its place (kept in this process; a run still holds eight jobs), and an
    exception a worker raised for one job is raised where that job stands, after the jobs before it
    (some in the same message), with the worker's traceback as its cause."""
    from multiprocessing.pool import RemoteTraceback

    from kg_reasoner.cohort.pool import job_runs, pool_results

    def bad(n):
        return InputError(f"unreadable record {n}", source="cohort.ndjson", patient=f"p{n}", field="/id")

    items = [bad(0), "1", "2", "3", bad(4), bad(5)] + [str(i) for i in range(6, 23)] + [bad(23)]
    runs = list(job_runs(items, 8))
    assert [sum(not isinstance(x, InputError) for x in run) for run in runs] == [8, 8, 4]
    assert [x for run in runs for x in run] == items
    out = list(pool_results(int, items, jobs=2, initializer=abs, initargs=(0,), chunk=8))
    assert out == [x if isinstance(x, InputError) else int(x) for x in items]
    assert all(a is b for a, b in zip(out, items) if isinstance(b, InputError))  # never through a worker

    got = []
    with pytest.raises(ValueError, match="'seven'") as raised:
        for r in pool_results(
            int, ["1", "2", "3", "4", "5", "6", "seven", "8", "9"], jobs=2, initializer=abs, initargs=(0,), chunk=4
        ):
            got.append(r)
    assert got == [1, 2, 3, 4, 5, 6]
    assert isinstance(raised.value.__cause__, RemoteTraceback) and "int(" in str(raised.value.__cause__)
    with pytest.raises(ValueError, match="chunk"):
        next(pool_results(int, ["1"], jobs=1, initializer=abs, initargs=(0,), chunk=0))


def test_dask_run_keeps_each_input_error_exactly_in_its_place():
    """The --dask path groups jobs as the pool does (``pool.job_runs``): a partition holds ``partition`` jobs
    whatever InputErrors stand between them, the errors never travel to the cluster, and every result and
    error comes back exactly in its input place (before, an error came out ahead of its whole partition)."""
    from kg_reasoner.cohort.dask import _in_place

    class Done:
        def __init__(self, value):
            self.value = value

        def result(self):
            return self.value

    class Client:  # what _in_place asks of a distributed.Client: nthreads() and submit(...).result()
        sent: list = []

        def nthreads(self):
            return {"w1": 1, "w2": 1}

        def submit(self, func, part, config, pure):
            assert not any(isinstance(j, InputError) for j in part)
            self.sent.append(list(part))
            return Done([("row", j) for j in part])

    def bad(n):
        return InputError(f"unreadable record {n}", source="cohort.ndjson", patient=f"p{n}", field="/id")

    items = ["0", bad(1), "2", "3", bad(4), "5", "6", "7", bad(8), bad(9)]
    client = Client()
    out = list(_in_place(client, iter(items), config=(None, (), "fast"), partition=3))
    assert out == [x if isinstance(x, InputError) else ("row", x) for x in items]
    assert all(a is b for a, b in zip(out, items) if isinstance(b, InputError))
    assert client.sent == [["0", "2", "3"], ["5", "6", "7"], []]
