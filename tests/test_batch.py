"""Batch runs from the command line: line formats, output files, resume, parallel jobs, summary."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import VIGNETTES, load_case, run_cli
from rdflib import Dataset, Graph, Literal, URIRef

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


class _Done:
    """What a distributed.Client's submit returns, as far as ``cohort.dask._in_place`` reads it: ``result()``."""

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


def test_dask_run_keeps_each_input_error_exactly_in_its_place():
    """The --dask path groups jobs as the pool does (``pool.job_runs``): a partition holds ``partition`` jobs
    whatever InputErrors stand between them, the errors never travel to the cluster, and every result and
    error comes back exactly in its input place (before, an error came out ahead of its whole partition)."""
    from kg_reasoner.cohort.dask import _in_place

    class Client:  # what _in_place asks of a distributed.Client: nthreads() and submit(...).result()
        sent: list = []

        def nthreads(self):
            return {"w1": 1, "w2": 1}

        def submit(self, func, part, config, pure):
            assert not any(isinstance(j, InputError) for j in part)
            self.sent.append(list(part))
            return _Done([(True, ("row", j)) for j in part])

    def bad(n):
        return InputError(f"unreadable record {n}", source="cohort.ndjson", patient=f"p{n}", field="/id")

    items = ["0", bad(1), "2", "3", bad(4), "5", "6", "7", bad(8), bad(9)]
    client = Client()
    out = list(_in_place(client, iter(items), config=(None, (), "fast"), partition=3))
    assert out == [x if isinstance(x, InputError) else ("row", x) for x in items]
    assert all(a is b for a, b in zip(out, items) if isinstance(b, InputError))
    assert client.sent == [["0", "2", "3"], ["5", "6", "7"], []]


def test_workers_read_the_raw_lines_of_summary_ndjson_and_outcomes_match_one_process(tmp_path):
    """When every input is a patient-summary NDJSON file, ``--jobs`` hands the workers raw lines
    (``batch.line_job``) and the main process only admits each patient in order. Everything a run in which the
    main process reads the patients gives comes out the same and in its place: a line that is not JSON, a
    record the reader refuses, blank lines, a repeated id (renamed, read again in the main process and
    assessed there, with its warning), a gzip file cut short (the lines before the cut, then an error
    naming the line, first: the files after it go on in step), a line nested too deep to read, two files of
    one directory, and the store's named graphs."""
    import gzip

    from kg_reasoner.read.files import summary_ndjson_files

    folder = tmp_path / "in"
    folder.mkdir()
    patients = [load_case(p)["patient"] for p in VIGNETTES[:5]]
    first = patients[0]["id"]
    lines = [json.dumps(p) for p in patients[:3]]
    lines[1:1] = ["", "{not json", json.dumps({"id": "BAD", "colour": 1}), "[" * 300 + "]" * 300]
    lines += [json.dumps(dict(patients[3], id=first)), json.dumps({"id": first}), json.dumps(patients[4])]
    lines.append(json.dumps({"id": "G0"}))  # a repeat of the cut file's first patient
    (folder / "b.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    whole = gzip.compress(("\n".join(json.dumps(dict(p, id=f"G{i}")) for i, p in enumerate(patients)) + "\n").encode())
    (folder / "a.ndjson.gz").write_bytes(whole[: len(whole) * 2 // 3])  # a truncated download
    assert summary_ndjson_files([folder]) == [folder / "a.ndjson.gz", folder / "b.ndjson"]
    assert summary_ndjson_files([folder, tmp_path / "x.json"]) is None  # any other input: the main process reads

    runs = {}
    for jobs in ("1", "2"):
        store = tmp_path / f"store{jobs}"
        runs[jobs] = run_cli("assess", str(folder), "--format", "ndjson", "--jobs", jobs, "--store", str(store))
    one, two = runs["1"], runs["2"]
    assert two.returncode == one.returncode == 2
    assert two.stdout == one.stdout and two.stderr == one.stderr
    assert "line 3 is not JSON" in two.stderr and "field /colour" in two.stderr
    assert "line 5 is not JSON: it is nested too deeply" in two.stderr
    assert "a.ndjson.gz, field line 2: cannot be read past line 1" in two.stderr  # (line 1 was read: G0)
    outcomes = [json.loads(x) for x in two.stdout.splitlines()]
    repeats = [o for o in outcomes if o["patient"] == first]
    assert len(repeats) == 3 and len({o["source"] for o in repeats}) == 3
    for o in repeats[1:]:  # each repeat renamed, with the warning naming the first
        assert any(f"was also read from {folder / 'b.ndjson'}:1" in p["message"] for p in o["data_problems"])
    assert sum(o["patient"] == "G0" for o in outcomes) == 2
    counted = [
        run_cli("query", "--store", str(tmp_path / f"store{jobs}"), "--format", "csv", "--query", COUNT_GRAPHS).stdout
        for jobs in ("1", "2")
    ]
    assert counted[0] == counted[1] and int(counted[1].splitlines()[-1]) >= 3 * len(outcomes)


COUNT_GRAPHS = "SELECT (COUNT(DISTINCT ?g) AS ?n) { GRAPH ?g { ?s ?p ?o } }"


def test_an_input_error_crosses_a_process_whole():
    """A worker hands an InputError back in a patient's place (``assess_line``): its type, record, patient,
    field and notes survive the pickle (Exception's own pickling keeps the instance's attributes; a
    constructor with other arguments would break it)."""
    import pickle

    from kg_reasoner.errors import PatientDataError

    exc = PatientDataError("unknown key", source="c.ndjson:4", patient="P1", field="/colour")
    exc.add_note("read by a worker")
    back = pickle.loads(pickle.dumps(exc))
    assert back.__notes__ == ["read by a worker"]
    assert type(back) is PatientDataError and str(back) == str(exc)
    assert (back.source, back.patient, back.field, back.detail) == ("c.ndjson:4", "P1", "/colour", "unknown key")


def test_admitting_a_patient_read_in_a_worker_is_admitting_her_here():
    """``RunClaims.admit_unchanged`` (a worker read her: only her IRI, source and foreign nodes come back),
    falling back to ``admit`` on a re-read when it says no, leaves every patient and the run's claims exactly
    as ``admit`` alone does: over a repeat, a node another patient described, and one described twice by
    the same patient."""
    from rdflib import Graph, Literal, URIRef

    from kg_reasoner.read.claims import RunClaims, claim_of
    from kg_reasoner.read.patient import PatientInput, patient_iri

    def patient(pid: str, lab: str | None, n: int) -> PatientInput:
        me, g = patient_iri(pid), Graph()
        g.add((me, URIRef("urn:x:p"), Literal(pid)))
        if lab:
            g.add((me, URIRef("urn:x:has"), URIRef(lab)))
            g.add((URIRef(lab), URIRef("urn:x:value"), Literal(n)))
        return PatientInput(pid, me, g, f"c.ndjson:{n}")

    cohort = [
        ("A", "urn:lab:1"),
        ("B", None),
        ("A", None),
        ("C", "urn:lab:1"),
        ("D", "urn:lab:2"),
        ("D", "urn:lab:2"),
        ("E", "urn:lab:2"),
    ]
    here, there = RunClaims(), RunClaims()
    fell_back = 0
    for n, (pid, lab) in enumerate(cohort, 1):
        expected = here.admit(patient(pid, lab, n))
        pi = patient(pid, lab, n)
        if there.admit_unchanged(claim_of(pi)):
            got = pi
        else:
            fell_back += 1
            got = there.admit(patient(pid, lab, n))
        if isinstance(expected, Exception):
            assert type(got) is type(expected) and str(got) == str(expected)
        else:
            assert isinstance(got, PatientInput) and (got.iri, got.source) == (expected.iri, expected.source)
            assert set(got.graph) == set(expected.graph) and got.data_problems == expected.data_problems
    assert fell_back == 4  # the repeated A, C (urn:lab:1 is A's), the repeated D, E (urn:lab:2 is D's)
    assert (there.owner, there.seen, there.repeats) == (here.owner, here.seen, here.repeats)


def test_json_nested_deeper_than_the_limit_is_refused_the_same_from_any_stack_depth():
    """``json_loads`` refuses nesting beyond MAX_JSON_DEPTH itself: a line read by a worker (a shallow stack)
    and by the main process (a deep one) gets the same answer (json's own limit counts the frames below it)."""
    from kg_reasoner.read.patient import MAX_JSON_DEPTH, json_loads

    def at_depth(frames: int, text: str):
        if frames:
            return at_depth(frames - 1, text)
        try:
            json_loads(text)
            return "read"
        except ValueError as exc:
            return str(exc)

    for k in (MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1, 980):
        text = "[" * k + "]" * k
        answers = {at_depth(frames, text) for frames in (0, 300, 600)}
        assert answers == {
            "read" if k <= MAX_JSON_DEPTH else f"it is nested too deeply to be read (more than {MAX_JSON_DEPTH} levels)"
        }
    assert json_loads('{"id": "' + "[{" * 400 + '"}') == {"id": "[{" * 400}  # brackets in a string are text


def test_a_renamed_repeat_never_takes_the_iri_of_another_patient_of_the_run():
    """A repeat is renamed "<IRI>~<10 hex digits>"; a patient whose id is exactly that name, read before or
    after it, keeps her own IRI apart: the run never holds two patients under one IRI."""
    import hashlib

    from kg_reasoner.read.claims import RunClaims
    from kg_reasoner.read.patient import PatientInput, patient_iri

    def named(pid: str, source: str) -> PatientInput:
        g = Graph()
        g.add((patient_iri(pid), URIRef("urn:x:p"), Literal(pid)))
        return PatientInput(pid, patient_iri(pid), g, source)

    renamed = "P1~" + hashlib.sha256(b"c.ndjson:2#2").hexdigest()[:10]
    for order in (["P1", "P1", renamed], [renamed, "P1", "P1"], ["P1", renamed, "P1", renamed]):
        claims = RunClaims()
        read = [claims.admit(named(pid, f"c.ndjson:{n}")) for n, pid in enumerate(order, 1)]
        iris = [str(pi.iri) for pi in read]
        assert len(set(iris)) == len(iris), (order, iris)


def test_resume_with_jobs_on_summary_ndjson_gives_the_file_one_process_gives(tmp_path):
    """``--resume`` with something to skip takes the path where the main process reads the patients (the skip
    set is keyed by patient id): with ``--jobs 2`` the finished file equals one process's, line for line."""
    patients = [load_case(p)["patient"] for p in VIGNETTES[:6]]
    cohort = tmp_path / "cohort.ndjson"
    cohort.write_text("".join(json.dumps(p) + "\n" for p in patients), encoding="utf-8")
    whole = tmp_path / "whole.ndjson"
    assert run_cli("assess", str(cohort), "--format", "ndjson", "--output", str(whole)).returncode in (0, 1)
    done = whole.read_text(encoding="utf-8").splitlines()
    for jobs in ("1", "2"):
        out = tmp_path / f"resumed{jobs}.ndjson"
        out.write_text("\n".join(done[:2]) + "\n" + done[2][: len(done[2]) // 2], encoding="utf-8")  # cut short
        proc = run_cli("assess", str(cohort), "--format", "ndjson", "--output", str(out), "--resume", "--jobs", jobs)
        assert "2 skipped (--resume)" in proc.stderr, proc.stderr
        assert out.read_text(encoding="utf-8").splitlines() == done


def test_only_a_pool_worker_tunes_its_garbage_collector(monkeypatch):
    """``worker_reasoner`` freezes the knowledge base's objects out of the collector's full collections and
    raises its young-generation threshold only in a process ``init_worker`` started (a pool worker); a
    researcher's own process keeps its garbage collector as it was."""
    import gc

    from kg_reasoner import api

    calls: list = []
    monkeypatch.setattr(gc, "collect", lambda: calls.append("collect"))
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(gc, "set_threshold", lambda *a: calls.append(("threshold", *a)))
    monkeypatch.setattr(api, "_CONFIG", {})
    monkeypatch.setattr(api, "_REASONERS", {})
    api.worker_reasoner((None, (), "fast"))
    assert calls == []
    monkeypatch.setattr(api, "_REASONERS", {})
    api.init_worker((None, (), "fast"))
    api.worker_reasoner()
    assert calls == ["collect", "freeze", ("threshold", 10_000, 10, 10)]


def test_dask_runs_of_summary_ndjson_send_raw_lines(tmp_path, monkeypatch):
    """``dask_batch_results`` (``assess --dask``) on patient-summary NDJSON sends the cluster raw-line jobs
    (``assess_line_partition``: workers read the patients, no shared file system needed); other inputs the
    jobs the main process read (``assess_partition``). Here the cluster is this process."""
    from kg_reasoner.api import Reasoner
    from kg_reasoner.cohort import dask

    sent: list = []

    def local_cluster(address, jobs, config, partition=256, func=None):
        for job in jobs:
            sent.append((func.__name__, job[0] if func is dask.assess_line_partition else "read"))
            yield job if isinstance(job, InputError) else func([job], config)[0][1]

    monkeypatch.setattr(dask, "dask_results", local_cluster)
    r = Reasoner()
    config = (None, (), "fast")
    patients = [load_case(p)["patient"] for p in VIGNETTES[:2]]
    ndjson = tmp_path / "c.ndjson"
    ndjson.write_text("".join(json.dumps(p) + "\n" for p in patients), encoding="utf-8")
    lines = list(dask.dask_batch_results("tcp://x:8786", r, [ndjson], fmt="csv", store=False, config=config))
    assert [name for name, _ in sent] == ["assess_line_partition"] * 2
    as_json = tmp_path / "c.json"
    as_json.write_text(json.dumps(patients), encoding="utf-8")
    sent.clear()
    read = list(dask.dask_batch_results("tcp://x:8786", r, [as_json], fmt="csv", store=False, config=config))
    assert [name for name, _ in sent] == ["assess_partition"] * 2
    assert [(row[1][0], row[1][2]) for row in read] == [(row[1][0], row[1][2]) for row in lines] and len(lines) == 2


def test_dask_run_raises_a_job_s_exception_in_its_place_after_the_results_before_it():
    """A job that raises on the cluster: the results before it in its partition come out first, then its
    exception is raised, as with --jobs (``pool.run_chunk`` on the worker; the jobs after it are not run)."""
    from kg_reasoner.cohort.dask import _in_place, assess_partition

    class Client:  # runs each partition here, through the partition function the cluster runs
        def nthreads(self):
            return {"w1": 1}

        def submit(self, func, part, config, pure):
            return _Done(func(part, config))

    import kg_reasoner.cohort.dask as dask_module

    def job(j, config=None):
        if j == "boom":
            raise ValueError("a job that raises")
        return ("row", j)

    out: list = []
    with pytest.MonkeyPatch.context() as m:
        m.setattr(dask_module, "assess_job", job)
        with pytest.raises(ValueError, match="a job that raises"):
            for item in _in_place(Client(), iter(["0", "1", "boom", "3"]), config=(None, (), "fast"), partition=4):
                out.append(item)
        assert [ok for ok, _ in assess_partition(["0", "boom", "3"], (None, (), "fast"))] == [True, False]
    assert out == [("row", "0"), ("row", "1")]
