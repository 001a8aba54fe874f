"""The Python cohort API (issue 14): ``assess_cohort`` / ``iter_cohort`` on worker processes equal N single
runs, ``to_dataframe`` for research, one query result type for an Assessment and a cohort store."""

from __future__ import annotations

import pytest
from rdflib import URIRef

import kg_reasoner
from kg_reasoner import CohortStore, InputError, IriExpectedError, QueryResult, library_query
from kg_reasoner.testing.synthetic import cohort as synthetic_cohort

pd = pytest.importorskip("pandas")

PATIENTS = list(synthetic_cohort(12, seed=3)) + [{"id": "BAD", "vaginal_bleeding": "nope"}]


def _plain(a) -> dict:
    """The outcome record, without what depends on the time it was made."""
    return a.to_dict()


@pytest.fixture(scope="module")
def one_by_one(reasoner):
    out = []
    for p in PATIENTS:
        try:
            out.append(_plain(reasoner.assess(p)))
        except InputError as exc:
            out.append(exc.patient)
    return out


@pytest.fixture(scope="module")
def cohort(reasoner):
    return reasoner.assess_cohort(PATIENTS, jobs=2, progress=True)


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_cohort_run_equals_single_runs(reasoner, one_by_one, jobs):
    streamed = [
        a.patient if isinstance(a, InputError) else _plain(a) for a in reasoner.iter_cohort(PATIENTS, jobs=jobs)
    ]
    assert streamed == one_by_one
    result = reasoner.assess_cohort(PATIENTS, jobs=jobs)
    assert [_plain(a) for a in result] == [o for o in one_by_one if o != "BAD"]
    assert [e.patient for e in result.errors] == ["BAD"]


def test_workers_reading_raw_ndjson_lines_equal_one_process(reasoner, tmp_path):
    """A cohort given as patient-summary NDJSON files: with ``jobs=2`` the workers read the raw lines
    (``cohort.lines``). The outcomes, the errors in their places, a repeated id (read again and renamed in
    this process) and the stratifying attributes of ``to_dataframe`` equal a run in one process."""
    import json

    from kg_reasoner.read.files import summary_ndjson_files

    path = tmp_path / "cohort.ndjson"
    lines = [json.dumps(p) for p in PATIENTS] + ["{cut", json.dumps(dict(PATIENTS[2], id=PATIENTS[0]["id"]))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert summary_ndjson_files([path]) == [path]  # (so jobs=2 takes the raw lines)
    runs = [reasoner.assess_cohort([path], jobs=jobs) for jobs in (1, 2)]
    assert [_plain(a) for a in runs[1]] == [_plain(a) for a in runs[0]] and len(runs[1]) == len(PATIENTS)
    assert [str(e) for e in runs[1].errors] == [str(e) for e in runs[0].errors] and len(runs[1].errors) == 2
    assert any("was also read from" in p["message"] for p in runs[1][-1].data_problems)
    frames = [r.to_dataframe() for r in runs]
    pd.testing.assert_frame_equal(frames[1], frames[0])
    assert "gestational_age_weeks" in frames[1].columns


def test_assessments_from_workers_keep_their_graphs(reasoner, cohort):
    here = reasoner.assess(PATIENTS[0])
    there = cohort[0]
    assert set(there.asserted) == set(here.asserted) and len(there.inferred) == len(here.inferred)
    assert len(there.full_graph) == len(here.full_graph)
    q = "SELECT ?s WHERE { ?s a kgr:Patient }"
    assert there.query(q).records() == here.query(q).records()


@pytest.mark.parametrize("kind", ["str", "Path"])
def test_one_path_is_one_input_not_a_sequence_of_characters(reasoner, one_by_one, tmp_path, kind):
    """``assess_cohort("cohort.ndjson")`` (the README's form) reads that file: a string given alone was read
    one character at a time (each a missing file, and "." the whole folder). One dict is one patient."""
    import json
    from pathlib import Path

    path = tmp_path / "cohort.ndjson"
    path.write_text("\n".join(json.dumps(p) for p in PATIENTS) + "\n", encoding="utf-8")
    given = str(path) if kind == "str" else Path(path)
    result = reasoner.assess_cohort(given)
    expected = [o for o in one_by_one if o != "BAD"]
    fields = ("patient", "status", "rules", "missing", "flags", "criteria")

    def what(o: dict) -> list:  # (the outcome, without the sources its records name: a file, not dicts)
        return [{k: v["state"] for k, v in o[f].items()} if f == "criteria" else o[f] for f in fields]

    assert [what(_plain(a)) for a in result] == [what(o) for o in expected]
    assert [a.source for a in result] == [f"{path}:{i}" for i in range(1, len(PATIENTS))]
    assert [e.patient for e in result.errors] == ["BAD"]
    assert [a.patient for a in kg_reasoner.iter_cohort(given) if not isinstance(a, InputError)] == [
        a.patient for a in result
    ]
    assert [_plain(a) for a in reasoner.assess_cohort(PATIENTS[0])] == [one_by_one[0]]


def test_module_level_functions_take_jobs_and_guidance():
    result = kg_reasoner.assess_cohort(PATIENTS[:3], jobs=1, guidance=kg_reasoner.PROGESTERONE)
    assert [a.patient for a in kg_reasoner.iter_cohort(PATIENTS[:3])] == [a.patient for a in result]
    assert kg_reasoner.assess(PATIENTS[0], guidance=kg_reasoner.PROGESTERONE).status == result[0].status
    with pytest.raises(ValueError, match="jobs"):
        list(kg_reasoner.iter_cohort(PATIENTS[:1], jobs=0))


def test_progress_without_tqdm_is_silent(reasoner, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # an import of it now fails
    assert len(reasoner.assess_cohort(PATIENTS[:2], progress=True)) == 2


def test_short_reprs(cohort):
    assert repr(cohort).startswith(f"<CohortResult {len(cohort)} patients (") and "1 input error(s)" in repr(cohort)
    assert repr(kg_reasoner.CohortResult(cohort.assessments[:1])).startswith("<CohortResult 1 patient (")
    a = cohort[0]
    assert repr(a).startswith(f"<Assessment {a.patient}: {a.status}") and len(repr(a)) < 300


# -- to_dataframe ---------------------------------------------------------------------------------------
def test_status_is_ordered_by_the_ontologys_precedence(cohort, reasoner):
    df = cohort.to_dataframe()
    rows = kg_reasoner.library_query("display-statuses")
    ranked = sorted(reasoner.kb.closure.query(rows), key=lambda r: int(r.precedence))
    assert df["status"].cat.ordered
    assert list(df["status"].cat.categories) == [str(r.code) for r in ranked]
    assert df["status"].max() == max((a.status for a in cohort), key=list(df["status"].cat.categories).index)


def test_list_columns_survive_groupby_and_csv(cohort, tmp_path):
    df = cohort.to_dataframe()
    by_flags = df.groupby("flags").size()
    assert by_flags.sum() == len(df)
    df.to_csv(tmp_path / "c.csv", index=False)
    back = pd.read_csv(tmp_path / "c.csv", keep_default_na=False)
    assert list(back["flags"]) == list(df["flags"]) and list(back["rules"]) == list(df["rules"])
    for a, flags in zip(cohort, df["flags"]):
        assert (flags.split("; ") if flags else []) == a.flags


def test_criterion_and_stratifying_columns(cohort):
    df = cohort.to_dataframe().set_index("patient")
    for a in cohort:
        for code, c in a.criteria.items():
            assert df.loc[a.patient, f"criterion_{code}"] == c["state"]
    for p in PATIENTS[:-1]:
        row = df.loc[p["id"]]
        assert (
            row["gestational_age_weeks"] == pytest.approx(p["gestational_age_weeks"])
            if "gestational_age_weeks" in p
            else pd.isna(row["gestational_age_weeks"])
        )
        assert row["conception"] == p["conception"] if "conception" in p else pd.isna(row["conception"])
    assert set(df["criterion_C1"].dropna()) <= {"met", "not_met", "unknown"}


def test_a_column_for_every_criterion_of_the_guidance_whatever_the_cohort(reasoner):
    """The criterion columns come from the ontology (``queries/display-criteria.rq``), not from the patients
    assessed: a cohort where no patient could be assessed, or none at all, has the same columns."""
    every = reasoner.assess_cohort(PATIENTS).to_dataframe()
    criteria = [c for c in every.columns if c.startswith("criterion_")]
    assert criteria == ["criterion_C1", "criterion_C2", "criterion_C3"]
    for patients in ([], [PATIENTS[-1]]):
        df = reasoner.assess_cohort(patients).to_dataframe()
        assert list(df.columns) == list(every.columns) and len(df) == 0


# -- queries ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def store(cohort, tmp_path_factory):
    path = tmp_path_factory.mktemp("store") / "cohort"
    cohort.to_store(path).close()
    return path


def test_the_same_patient_twice_in_one_batch_keeps_only_her_last_graphs(tmp_path):
    r = kg_reasoner.Reasoner()
    first = r.assess({"id": "TWICE", "vaginal_bleeding": "light"})
    second = r.assess({"id": "TWICE", "vaginal_bleeding": "heavy"})
    store = CohortStore.open(tmp_path / "s", read_only=False)
    assert store.put_many([first, second]) == []
    got = store.query('SELECT ?sev WHERE { ?p kgr:patientId "TWICE" ; kgr:hasFinding/kgr:severity ?sev }')
    assert len(got) == 1 and str(got.records()[0]["sev"]).endswith("Heavy")


def test_a_closed_writer_leaves_a_store_that_opens_read_only(cohort, tmp_path):
    with cohort.to_store(tmp_path / "s") as writer:
        writer.store.optimize()  # a compaction in flight must be over once the writer is closed
    with pytest.raises(InputError, match="closed"):
        writer.query("SELECT * WHERE { ?s ?p ?o } LIMIT 1")
    assert not hasattr(writer, "store")
    reader = CohortStore.open(tmp_path / "s")
    assert len(reader.query("SELECT DISTINCT ?p WHERE { ?p a kgr:Patient }")) == len(cohort)


def test_store_opens_read_only_and_answers_like_the_assessment(cohort, store):
    s = CohortStore.open(store)
    assert s.read_only and "read-only" in repr(s)
    a = next(x for x in cohort if x.rules)
    q = library_query("evidence-for-conclusion")
    on_store, on_assessment = s.query(q, patient=a.patient), a.query(q, patient=a.patient)
    assert type(on_store) is type(on_assessment) is QueryResult
    cols = ["rule", "fact"] if "fact" in on_store.to_dataframe() else list(on_store.to_dataframe().columns)
    assert sorted(map(tuple, on_store.to_dataframe()[cols].values.tolist())) == sorted(
        map(tuple, on_assessment.to_dataframe()[cols].values.tolist())
    )
    assert s.query(q, patient=a.iri).records() == on_store.records()  # an IRI too
    assert s.query(q, patient=str(a.iri)).records() == on_store.records()


def test_queries_bind_the_packages_prefixes(cohort, store):
    n = CohortStore.open(store).query("SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?p a kgr:Patient }")
    assert n.to_dataframe()["n"].tolist() == [len(cohort)]
    assert cohort[0].query("ASK { ?s rdfs:label ?l ; a owl:Class }").askAnswer


def test_a_plain_string_where_an_iri_is_needed_is_refused(cohort, store):
    s, a = CohortStore.open(store), cohort[0]
    for run in (s.query, a.query):
        with pytest.raises(IriExpectedError, match="URIRef"):
            run("SELECT ?p ?o WHERE { ?x ?p ?o }", x=str(a.iri))
        with pytest.raises(IriExpectedError, match="subject"):
            run("SELECT ?p ?o WHERE { ?x ?p ?o }", x="not-an-iri")
        with pytest.raises(IriExpectedError):
            run("SELECT ?s ?c WHERE { ?s a ?c }", c="kgr:Patient")
        assert run("SELECT ?s ?c WHERE { ?s a ?c }", c=URIRef("https://w3id.org/kg-reasoner/ontology#Patient"))
    assert s.select("SELECT ?s ?code WHERE { ?s kgr:code ?code }", code="R1")  # a literal where a literal is meant


def test_a_bound_variable_the_select_does_not_project(cohort, store):
    """``patient=`` bound in a query that does not select ?patient (a COUNT, a status): the local store binds
    values as the server store does (a VALUES block first in the WHERE clause), since pyoxigraph's own
    substitutions take only variables the SELECT projects. Both answer as the Assessment does."""
    s, a = CohortStore.open(store), cohort[0]
    status = "SELECT ?status WHERE { ?patient kgr:hasStatus ?status }"
    count = "SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE { ?patient kgr:hasRecord ?r }"
    for q in (status, count):
        assert s.query(q, patient=a.patient).records() == a.query(q, patient=a.patient).records()
    assert str(s.query(status, patient=a.patient).records()[0]["status"]).endswith(
        "".join(w.title() for w in a.status.split("_"))
    )
    assert s.select(count, patient=a.patient)[0]["n"] == len(set(a.query("SELECT ?r WHERE { ?p kgr:hasRecord ?r }")))


def test_a_value_bound_to_a_variable_used_only_in_a_subquery_is_refused(cohort, store):
    """A subquery is evaluated on its own: a value bound from outside does not reach a variable it alone uses,
    so the VALUES block would answer for every patient (5 records, not hers). Refused, named; a variable the
    subquery projects is bound as usual."""
    from kg_reasoner.cohort.layout import QueryError, with_values

    s, a = CohortStore.open(store), cohort[0]
    inner = "SELECT ?n WHERE { { SELECT (COUNT(*) AS ?n) WHERE { ?patient kgr:hasRecord ?r } } }"
    with pytest.raises(QueryError, match=r"\?patient is used only inside a subquery"):
        s.query(inner, patient=a.patient)
    with pytest.raises(QueryError, match="only inside a subquery"):
        with_values(inner, {"patient": a.iri})
    projected = (
        "SELECT ?n WHERE { { SELECT ?patient (COUNT(*) AS ?n) WHERE { ?patient kgr:hasRecord ?r } GROUP BY ?patient } }"
    )
    n = len(set(a.query("SELECT ?r WHERE { ?p kgr:hasRecord ?r }")))
    assert s.select(projected, patient=a.patient)[0]["n"] == n


def test_a_read_only_store_refuses_writes_clearly(cohort, store, tmp_path):
    s = CohortStore.open(store)
    for write in (lambda: s.put(cohort[0]), lambda: s.put_many(cohort.assessments[:2])):
        with pytest.raises(InputError, match="read-only: open it with read_only=False"):
            write()
    with pytest.raises(InputError, match=r"CohortStore.open\(url, read_only=False\)"):
        CohortStore("http://127.0.0.1:9/cohort")
    assert not (tmp_path / "http:").exists() and not __import__("pathlib").Path("http:").exists()


def test_the_command_line_binds_patient_as_an_id_or_iri(cohort, store):
    from conftest import run_cli

    a = next(x for x in cohort if x.status)
    q = "SELECT ?status WHERE { ?patient kgr:hasStatus ?status }"
    for value in (a.patient, str(a.iri), f"<{a.iri}>"):
        run = run_cli("query", "--store", str(store), "--query", q, "--bind", f"patient={value}", "--format", "csv")
        assert run.returncode == 0, run.stderr
        assert run.stdout.splitlines()[1:] == [str(r["status"]) for r in a.query(q, patient=a.patient).records()]
    quoted = run_cli(
        "query", "--store", str(store), "--query", q, "--bind", f'patient="{a.patient}"', "--format", "csv"
    )
    assert quoted.returncode == 0 and quoted.stdout.splitlines()[1:] == []  # a string, as written: no patient


def test_opening_a_missing_store_says_so(tmp_path):
    with pytest.raises(InputError, match="not a cohort store"):
        CohortStore.open(tmp_path / "nowhere")
