"""The command line as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT, VIGNETTES, load_case, run_cli


def test_readme_example_runs():
    """As a separate process in both tiers: the console entry point, __main__ and the exit code as a user
    meets them (outside tests/test_cli.py the command line is called in process, in both tiers)."""
    proc = run_cli("assess", "examples/P01-luteal-insufficiency.json", process=True)
    assert proc.returncode == 0, proc.stderr
    assert "Status: indicated, decided by R1." in proc.stdout
    assert "Rule R1 fired" in proc.stdout and 'guidance: "If prenatal tests show progesterone levels' in proc.stdout
    assert "If there are concerns, it is recommended to consult a healthcare provider early." in proc.stdout


def test_several_files_and_directories_in_one_call(tmp_path):
    folder = tmp_path / "dir"
    folder.mkdir()
    for path in VIGNETTES[:3]:
        case = load_case(path)
        (folder / f"{case['id']}.json").write_text(json.dumps(case["patient"]), encoding="utf-8")
    single = tmp_path / "single.json"
    single.write_text(
        json.dumps([load_case(VIGNETTES[13])["patient"], load_case(VIGNETTES[14])["patient"]]), encoding="utf-8"
    )
    proc = run_cli("assess", str(folder), str(single), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert [r["patient"] for r in json.loads(proc.stdout)] == ["P01", "P02", "P03", "P14", "P15"]


def test_text_format_lists_missing_data(tmp_path):
    path = tmp_path / "p05.json"
    path.write_text(json.dumps(load_case(VIGNETTES[4])["patient"]), encoding="utf-8")
    proc = run_cli("assess", str(path))
    assert proc.returncode == 0
    assert "Status: insufficient_data" in proc.stdout
    assert "Missing data:" in proc.stdout and "C3 (normal embryonic development on ultrasound)" in proc.stdout


def test_usage_errors_exit_2():
    assert run_cli().returncode == 2
    assert run_cli("assess").returncode == 2
    assert run_cli("assess", "x.json", "--format", "xml").returncode == 2


def test_bad_reference_table_exit_2(tmp_path):
    table = tmp_path / "t.ttl"
    table.write_text("not turtle", encoding="utf-8")
    proc = run_cli("assess", "examples/P01-luteal-insufficiency.json", "--reference-table", str(table))
    assert proc.returncode == 2 and "not a readable Turtle ontology file" in proc.stderr


def test_version():
    from kg_reasoner import __version__

    proc = run_cli("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"kg-reasoner {__version__}"


def test_import_has_no_side_effects():
    """No print, no logging.basicConfig, no global state changes at import."""
    code = (
        "import logging, warnings; before = list(warnings.filters); import kg_reasoner, kg_reasoner.cli; "
        "assert not logging.getLogger().handlers; assert warnings.filters == before"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""
