"""docs/tutorial.py, the worked walk-through, runs end to end at a small size and its steps say what they claim."""

from __future__ import annotations

import importlib.util

from conftest import ROOT


def load_tutorial():
    spec = importlib.util.spec_from_file_location("tutorial", ROOT / "docs" / "tutorial.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tutorial_runs_every_step(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the tutorial finds the shipped trials by name, from any folder
    tutorial = load_tutorial()
    tutorial.main(["--trials", "20", "--inner", "2", "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    for step in ("Step 1", "Step 2", "Step 3", "Step 4"):
        assert step in out
    assert (tmp_path / "out" / "cd5_tall" / "report.md").is_file()
    assert (tmp_path / "out" / "cll1_tornado" / "figures" / "tornado_crs_g3_rate.png").is_file()
    assert (tmp_path / "out" / tutorial.NEW_TRIAL / "summary.json").is_file()
    assert "no paper to compare with" in out and "CRS grade >= 3" in out


def test_the_what_if_headline_is_an_interval_around_its_mean():
    mean, low, high = load_tutorial().what_if(20)
    assert low < mean < high
