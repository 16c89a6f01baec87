"""docs/tutorial.py, the worked walk-through, runs end to end at a small size and its steps say what they claim."""

from __future__ import annotations

import importlib.util
import re

from conftest import ROOT


def load_tutorial():
    spec = importlib.util.spec_from_file_location("tutorial", ROOT / "docs" / "tutorial.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tutorial_runs_every_step(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the tutorial finds the shipped trials by name, from any folder
    tutorial = load_tutorial()
    tutorial.main(["--trials", "20", "--draws", "4", "--inner", "2", "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    for step in ("Step 1", "Step 2", "Step 3", "Step 4"):
        assert step in out
    assert (tmp_path / "out" / "cd5_tall" / "report.md").is_file()
    assert (tmp_path / "out" / "cll1_tornado" / "figures" / "tornado_crs_g3_rate.png").is_file()
    assert (tmp_path / "out" / tutorial.NEW_TRIAL / "summary.json").is_file()
    assert "no paper to compare with" in out and "CRS grade >= 3" in out
    assert out.index("over parameter uncertainty") < out.index("Monte Carlo")  # the decision's interval first


def test_the_tutorial_uses_only_the_public_api():
    """It imports sim and sim.sensitivity (a documented package), and nothing else of the package."""
    text = (ROOT / "docs" / "tutorial.py").read_text()
    imports = re.findall(r"^(?:from|import) (sim[\w.]*)", text, flags=re.M)
    assert set(imports) == {"sim", "sim.sensitivity"}


def test_the_what_if_headline_is_the_parameter_uncertainty_interval():
    row = load_tutorial().what_if(20, 4, 2)
    assert row["effect_low95"] <= row["effect_median"] <= row["effect_high95"]
    assert row["diff_low95"] < row["diff_mean"] < row["diff_high95"]
