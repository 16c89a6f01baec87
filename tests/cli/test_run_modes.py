"""``cartsim run``: over parameter uncertainty by default, base values on request, and the two compared."""

from __future__ import annotations

import json

import pytest

from conftest import PARAMS, cartsim


@pytest.mark.parametrize("flags, drawn", [([], True), (["--parameter-uncertainty"], True), (["--base-values"], False)])
def test_the_default_draws_parameters_and_base_values_are_on_request(flags, drawn, tmp_path):
    out = tmp_path / "out"
    done = cartsim("run", str(PARAMS["cd5_tall"]), "--trials", "60", *flags, "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert ("parameters drawn from their uncertainty" in done.stdout) == drawn
    summary = json.loads((out / "summary.json").read_text())
    assert summary["manifest"]["parameter_uncertainty"] is drawn
    agreement = summary["base_agreement"]
    assert [r["outcome"] for r in agreement["outcomes"]] == ["os_6m", "os_12m", "lfs_6m", "lfs_12m"]
    assert " ".join(agreement["why"].split()) in " ".join(done.stdout.split())  # the terminal says it too
    assert "Parameter uncertainty against the base values" in (out / "report.md").read_text()


def test_a_difference_beyond_monte_carlo_error_is_stated_with_its_reason(tmp_path):
    """CD5's survival at base values and over parameter uncertainty differ by far more than their Monte
    Carlo error (0.32 against 0.20 at 12 months with 1,000 trials); 300 trials already show it."""
    out = tmp_path / "out"
    done = cartsim("run", str(PARAMS["cd5_tall"]), "--trials", "300", "--out", str(out), cwd=tmp_path)
    agreement = json.loads((out / "summary.json").read_text())["base_agreement"]
    assert "os_12m" in agreement["differing"]
    assert "not the centre (median) of their own uncertainty" in agreement["why"]
    assert "differ by more than their Monte Carlo" in done.stdout


def test_both_modes_at_once_are_refused_in_one_line(tmp_path):
    done = cartsim("run", str(PARAMS["cll1_aml"]), "--base-values", "--parameter-uncertainty", "--out",
                   str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "out").exists()
