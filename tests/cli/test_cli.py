"""The command line as a user meets it: help, a run, its printed table and its files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from conftest import PARAMS, ROOT, cartsim

TOY = Path(__file__).resolve().parents[1] / "data" / "toy_trial.toml"
FILES = {"patients.csv", "events.csv", "trials.csv", "facilities.csv", "summary.csv", "summary.json"}


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"]])
def test_help_explains(args, tmp_path):
    done = cartsim(*args, cwd=tmp_path)
    assert done.returncode == 0
    assert "PARAMS" in done.stdout or "COMMAND" in done.stdout
    if "run" in args:
        for option in ("--trials", "--seed", "--out", "--parameter-uncertainty", "patients.csv"):
            assert option in done.stdout


@pytest.mark.parametrize("trial", ["cd5_tall", "cll1_aml"])
def test_run_prints_the_summary_and_writes_every_file(trial, tmp_path):
    out = tmp_path / "out"
    done = cartsim("run", str(PARAMS[trial]), "--trials", "20", "--seed", "4", "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "95% interval" in done.stdout and "enrolled" in done.stdout
    assert FILES <= {p.name for p in out.iterdir()}
    summary = json.loads((out / "summary.json").read_text())
    manifest = summary["manifest"]
    assert manifest["seed"] == 4 and manifest["trials"] == 20 and manifest["trial"] == trial
    assert len(manifest["params_sha256"]) == 64 and manifest["command"][:2] == ["cartsim", "run"]
    with open(out / "patients.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 20 * int(summary["figures"][0]["reported"])
    assert {row["trial"] for row in rows} == {str(k) for k in range(20)}


def test_same_seed_gives_identical_files(tmp_path):
    for name in ("a", "b"):
        assert cartsim("run", str(TOY), "--trials", "3", "--seed", "9", "--out", name, cwd=tmp_path).returncode == 0
    for name in FILES - {"summary.json"}:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_a_new_trial_runs_from_its_params_file_alone(tmp_path):
    done = cartsim("run", str(TOY), "--trials", "2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "results" / "toy" / "summary.csv").exists()  # default --out is results/<trial name>


def test_readme_quick_start_names_the_shipped_files():
    readme = (ROOT / "README.md").read_text()
    assert "cartsim run params/cd5_tall.toml" in readme
    assert 'pip install ".[test]" && python -m pytest' in readme
    assert 'pip install ".[test]" && python -m pytest' in (ROOT / ".ci" / "run").read_text()
