"""Shipped trials and scenarios by name, in the API and every command, from any folder; dose finding for a
planned trial; calibrate on a planned trial."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import sim
from sim.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def elsewhere(tmp_path, monkeypatch) -> Path:
    """A working folder outside the repository."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_load_params_by_name_from_any_folder(elsewhere):
    assert sim.load_params("cd5_tall").name == "cd5_tall"
    assert sim.load_params("params/cd5_tall.toml").path == sim.load_params("cd5_tall").path
    scenario = sim.load_params("cll1_design_boin")
    assert scenario.scenario.name == "cll1_design_boin" and scenario.name == "cll1_aml"
    assert sim.load_params("params/scenarios/cll1_dose_c.toml").scenario.name == "cll1_dose_c"


def test_a_file_that_exists_comes_before_the_shipped_one(elsewhere):
    (elsewhere / "params").mkdir()
    (elsewhere / "seeds").mkdir()
    shutil.copy(ROOT / "seeds" / "cd5_tall.toml", elsewhere / "seeds")
    local = elsewhere / "params" / "cd5_tall.toml"
    local.write_text((ROOT / "params" / "cd5_tall.toml").read_text().replace(
        'title = "', 'title = "LOCAL ', 1))
    assert sim.load_params("params/cd5_tall.toml").text["trial.title"].startswith("LOCAL ")


def test_an_unknown_name_gets_the_closest(elsewhere):
    with pytest.raises(sim.InputError, match=r"did you mean 'cd5_tall'.*see `cartsim trials`"):
        sim.load_params("cd5_tal")
    with pytest.raises(sim.InputError, match="no such file, nor a shipped trial"):
        sim.load_params("params/nothing_like_it.toml")


@pytest.mark.parametrize("command", [["run", "cd5_tal"], ["design", "cd5_tal"], ["calibrate", "cd5_tal"],
                                     ["compare", "cd5_tal", "cd5_cohort_a"], ["sensitivity", "psa", "cd5_tal"]])
def test_every_command_suggests(elsewhere, capsys, command):
    assert main(command) == 2
    err = capsys.readouterr().err
    assert err.startswith("cartsim: error: ") and "did you mean 'cd5_tall'" in err and err.count("\n") == 1


def test_design_by_name_with_a_target(elsewhere, capsys):
    assert main(["design", "cll1_design_boin", "--target", "0.25", "--trials", "20", "--out", "d"]) == 0
    out = capsys.readouterr().out
    assert "boin: target 0.25" in out and "at most 30 patients (design.max_sample_size)" in out


def test_a_planned_trial_designs_to_its_own_size_and_has_nothing_to_calibrate(elsewhere, capsys):
    assert main(["new", "my", "--from", "cll1_aml"]) == 0
    params = elsewhere / "params" / "my.toml"
    assert "[design]" in params.read_text() and "# SUPPLY design" in params.read_text()
    assert main(["design", "params/my.toml", "--trials", "10", "--out", "d"]) == 0
    assert "at most 14 patients: the trial's own size (accrual.enrolled)" in capsys.readouterr().out
    before = {p.name: p.read_bytes() for p in (elsewhere / "params").iterdir()}  # incl. the predicted levels' draws
    assert main(["calibrate", "params/my.toml"]) == 0
    assert "nothing to calibrate: my is a planned trial" in capsys.readouterr().out
    assert {p.name: p.read_bytes() for p in (elsewhere / "params").iterdir()} == before
