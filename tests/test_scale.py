"""Cohort scale: the engine switch, streaming NDJSON of patient summaries, bounded parallel runs,
the progress line, and the same run on a Dask cluster (a LocalCluster here)."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT, run_cli

from kg_reasoner.api import Reasoner
from kg_reasoner.errors import InputError
from kg_reasoner.testing.synthetic import cohort

#: the full tier only (cohorts of hundreds of patients, Dask, worker processes): run with --with-slow
pytestmark = pytest.mark.slow

N = 16


@pytest.fixture(scope="module")
def summaries(tmp_path_factory):
    path = tmp_path_factory.mktemp("scale") / "cohort.ndjson"
    rows = list(cohort(N, seed=7))
    lines = [json.dumps(r) for r in rows]
    lines.insert(5, "{not json")  # one bad line: reported, the rest still assessed
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, rows


@pytest.fixture(scope="module")
def expected(summaries):
    """The fast engine, in-process, patient by patient: what every other run must give (the reference engine
    gives the same records: tests/test_differential.py; here it is checked once, through the command line)."""
    r = Reasoner()
    return [r.assess_input(pi).to_dict() for pi in r.read_many([summaries[0]]) if not isinstance(pi, InputError)]


def _outcomes(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_ndjson_summaries_stream_and_match_the_reference(summaries, expected):
    run = run_cli("assess", str(summaries[0]), "--format", "ndjson")
    assert run.returncode == 2, run.stderr  # the bad line
    assert "line 6 is not JSON" in run.stderr
    assert _outcomes(run.stdout) == expected
    assert f"{N} assessed" in run.stderr


def test_parallel_jobs_keep_input_order(summaries, expected):
    run = run_cli("assess", str(summaries[0]), "--format", "ndjson", "--jobs", "2", "--quiet")
    assert _outcomes(run.stdout) == expected
    assert run.stderr.count("\n") == 1 and "line 6 is not JSON" in run.stderr  # --quiet: no summary


def test_reference_engine_from_the_command_line(summaries, expected, tmp_path):
    """Three patients around the bad line (the reference engine takes seconds per patient)."""
    head = tmp_path / summaries[0].name  # (the records cite their file by name)
    lines = summaries[0].read_text(encoding="utf-8").splitlines(keepends=True)
    # patients 4 and 5, the bad line 6, patient 6 (line 7); blank lines keep the records' line numbers
    head.write_text("\n" * 3 + "".join(lines[3:7]), encoding="utf-8")
    run = run_cli("assess", str(head), "--format", "ndjson", "--engine", "reference", "--jobs", "2")
    assert "line 6 is not JSON" in run.stderr

    def other_path(outcomes):  # (the record's own source is its file's full path)
        return [{k: v for k, v in o.items() if k != "source"} for o in outcomes]

    assert other_path(_outcomes(run.stdout)) == other_path(expected[3:6])


def test_no_progress_line_when_stderr_is_not_a_terminal(summaries):
    run = run_cli("assess", str(summaries[0]), "--format", "csv")
    assert "patients," not in run.stderr and "ETA" not in run.stderr


def test_progress_estimates_the_cohort_size(summaries):
    from kg_reasoner.cli.progress import estimate_total

    assert estimate_total([str(summaries[0])]) == N + 1  # the bad line counts: it is an input too


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    yield cluster
    cluster.close()


def test_dask_cli_run_equals_local_run(summaries, expected, dask_cluster):
    run = run_cli("assess", str(summaries[0]), "--format", "ndjson", "--dask", dask_cluster.scheduler_address)
    assert run.returncode == 2 and "line 6 is not JSON" in run.stderr
    assert _outcomes(run.stdout) == expected


def test_dask_cli_run_of_summary_lines_equals_one_process(summaries, dask_cluster, tmp_path):
    """On summary NDJSON the --dask run hands the cluster raw lines (``cohort.dask.assess_line_partition``) and
    admits each patient here in order: a repeated id (renamed, read again and assessed here, with its warning),
    a line that is not JSON and the store's named graphs come out as in one process."""
    lines = summaries[0].read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])["id"]
    cohort_file = tmp_path / "cohort.ndjson"
    cohort_file.write_text("\n".join([*lines[:8], json.dumps(dict(json.loads(lines[1]), id=first))]) + "\n")
    runs = [
        run_cli("assess", str(cohort_file), "--format", "csv", *extra, "--store", str(tmp_path / f"store{i}"))
        for i, extra in enumerate([(), ("--dask", dask_cluster.scheduler_address)])
    ]
    assert runs[1].returncode == runs[0].returncode == 2
    said = [[x for x in run.stderr.splitlines() if x.startswith("kg-reasoner")] for run in runs]  # (not Dask's own)
    assert runs[1].stdout == runs[0].stdout and said[1] == said[0]
    assert "line 6 is not JSON" in runs[1].stderr and runs[1].stdout.count(f"{first},") == 2
    count = "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }"
    counted = [run_cli("query", "--store", str(tmp_path / f"store{i}"), "--query", count).stdout for i in (0, 1)]
    assert counted[0] == counted[1]


def test_dask_python_api(summaries, expected, dask_cluster):
    from distributed import Client

    from kg_reasoner.cohort.dask import assess_dask

    with Client(dask_cluster) as client:
        got = list(assess_dask(client, summaries[1], partition=7))
        # (the time to assess as of reaches the workers: assessed a year later, her dating is stale)
        text = (ROOT / "examples" / "fhir" / "bundle-P01.json").read_text(encoding="utf-8")
        fhir = json.loads(text.replace("2026-11-", "2025-11-"))  # (her records a year earlier)
        [now, later] = [list(assess_dask(client, [fhir], as_of=day))[0] for day in ("2025-12-01", "2026-12-01")]
    assert [d["patient"] for d in got] == [d["patient"] for d in expected]
    assert [_status(d) for d in got] == [_status(d) for d in expected]
    assert (now["status"], later["status"]) == ("indicated", "insufficient_data"), later["data_problems"]


def test_dask_python_api_takes_another_guidance(dask_cluster, tmp_path):
    """``assess_dask`` and ``assess_dask_files`` reason with the guidance given (here the worked second
    guidance), as ``assess_cohort(guidance=...)`` does: they always used the progesterone guidance."""
    from distributed import Client

    from kg_reasoner import Guidance
    from kg_reasoner.cohort.dask import assess_dask, assess_dask_files

    module = ROOT / "examples" / "guidance" / "aspirin-preeclampsia"
    aspirin = Guidance.from_files("aspirin-preeclampsia", ontology=[module / "module.ttl"])
    patients = [
        json.loads(p.read_text(encoding="utf-8"))["patient"] for p in sorted((module / "vignettes").glob("*.json"))
    ]
    shard = tmp_path / "aspirin.ndjson"
    shard.write_text("\n".join(json.dumps(p) for p in patients) + "\n", encoding="utf-8")
    expected = [_decision(Reasoner(guidance=aspirin).assess(p).to_dict()) for p in patients]
    with pytest.raises(InputError, match="unknown key"):  # (the progesterone guidance cannot read them)
        Reasoner().assess(patients[0])
    with Client(dask_cluster) as client:
        assert [_decision(d) for d in assess_dask(client, patients, partition=5, guidance=aspirin)] == expected
        assert [_decision(d) for d in assess_dask_files(client, [shard], guidance=aspirin)] == expected


def _decision(d: dict) -> tuple:
    return d["patient"], d["status"], d["rules"], d["flags"]


def test_dask_workers_read_the_files_themselves(summaries, expected, dask_cluster, tmp_path):
    """Only paths travel to the workers: each reads its shard (the bad line reported in its place)."""
    from distributed import Client

    from kg_reasoner.cohort.dask import assess_dask_files

    lines = summaries[0].read_text(encoding="utf-8").splitlines()
    shards = []
    for i in range(0, len(lines), 6):
        shards.append(tmp_path / f"shard-{i // 6}.ndjson")
        shards[-1].write_text("\n".join(lines[i : i + 6]) + "\n", encoding="utf-8")
    with Client(dask_cluster) as client:
        got = list(assess_dask_files(client, shards))
    errors = [d for d in got if d.get("error")]
    assert len(errors) == 1 and "shard-0.ndjson" in errors[0]["source"] and "not JSON" in errors[0]["error"]
    assessed = [d for d in got if not d.get("error")]
    assert [d["patient"] for d in assessed] == [d["patient"] for d in expected]
    assert [_status(d) for d in assessed] == [_status(d) for d in expected]


def _status(d: dict) -> tuple:
    return d["status"], d["rules"], d["missing"], d["flags"], len(d["explanation"])
