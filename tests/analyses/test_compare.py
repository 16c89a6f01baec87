"""Scenario comparisons: paired differences on common random numbers, their intervals, the command."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from conftest import PARAMS, ROOT, write_scenario
from sim.cli.main import main
from sim.analyses.comparison import mean_interval, paired_differences, run_comparison, unique_labels, width_ratio
from sim.inputs.scenarios import load_scenario

SCENARIO_DIR = ROOT / "params" / "scenarios"
RESTATED = '[crs]\nseverity_log_odds_shift = { value = 0.0, source = "scenario", note = "the base value, restated" }\n'


def test_mean_interval_is_a_t_interval_for_the_mean():
    d = np.array([1.0, 2.0, 3.0, 4.0])
    result = mean_interval(d)
    half = stats.t.ppf(0.975, 3) * np.std(d, ddof=1) / 2
    assert result["mean"] == 2.5
    assert (result["low"], result["high"]) == pytest.approx((2.5 - half, 2.5 + half))
    assert result["spread_low"] == 1.0 and result["trials"] == 4  # the ceil(4 x 0.025) = 1st value: inverted CDF


def test_paired_differences_skip_trials_undefined_in_either_arm():
    assert paired_differences([1, np.nan, 3, 4], [2, 5, np.nan, 1]).tolist() == [1, -3]
    assert mean_interval(np.array([]))["trials"] == 0
    assert np.isnan(width_ratio({"low": 0, "high": 1}, {"low": 0, "high": 0}))


def test_labels_are_made_unique():
    assert unique_labels(["a", "b", "a", "a"]) == ["a", "b", "a_2", "a_3"]


def test_a_scenario_identical_to_the_base_differs_by_exactly_zero(cll1, tmp_path):
    same = load_scenario(write_scenario(tmp_path, RESTATED))
    comparison = run_comparison(cll1, [same], trials=15, seed=4)
    rows = [r for r in comparison.table.rows() if r["trials_paired"] > 0]
    assert len(rows) > 20
    for row in rows:
        keys = ("diff_mean", "diff_low95", "diff_high95", "diff_sd", "spread_low95", "spread_high95")
        values = [row[k] for k in keys]
        assert values == [0.0] * 6, row["outcome"]
    assert any(r["width_ratio"] == 0.0 for r in rows)  # the independent run does differ


def test_common_random_numbers_narrow_the_interval(cll1):
    # Lowering CRS severity moves only the patients whose grade uniform lies between the old and new
    # thresholds, so the paired difference varies far less than an unpaired one (expected width ratio
    # about 0.55 for grade >= 3).  With 100 trials an estimated standard deviation is within about
    # 1/sqrt(2 x 99) = 7% of its value, so a ratio below 0.8 is a margin of several standard errors.
    # Without deaths from grade 4 CRS, which take patients out before the response assessment, the
    # response of every assessed patient is the same in both arms.
    no_deaths = {"crs.p_death_given_grade_3_plus": 0.0, "icans.p_death_given_grade_4": 0.0}
    scenario = load_scenario(SCENARIO_DIR / "cll1_cd4_cd8_adjusted.toml").with_values(no_deaths)
    base = cll1.with_values(no_deaths)
    comparison = run_comparison(base, [scenario], trials=100, seed=2)
    rows = {r["outcome"]: r for r in comparison.table.rows()}
    for outcome in ("crs_g3_rate", "crs_grade_3_plus", "icu_beds_in_use"):
        assert rows[outcome]["diff_mean"] < 0, outcome
        assert rows[outcome]["width_ratio"] < 0.8, outcome
    assert rows["cr_rate"]["diff_mean"] == 0 and rows["cr_rate"]["diff_high95"] == 0  # response does not move


def test_without_independent_runs_there_is_no_ratio(cll1, tmp_path):
    same = load_scenario(write_scenario(tmp_path, RESTATED))
    comparison = run_comparison(cll1, [same], trials=3, seed=0, independent=False)
    assert comparison.scenarios[0].independent is None
    assert np.all(np.isnan(comparison.table["width_ratio"]))


def test_progress_counts_over_every_arm(cll1, tmp_path):
    seen = []
    same = load_scenario(write_scenario(tmp_path, RESTATED))
    run_comparison(cll1, [same], trials=4, seed=0, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(k, 12) for k in range(1, 13)]  # base, scenario, independent scenario


def test_compare_command_prints_and_writes(tmp_path, capsys):
    out = tmp_path / "cmp"
    status = main(["compare", str(SCENARIO_DIR / "cd5_cohort_a.toml"), str(SCENARIO_DIR / "cd5_cohort_b.toml"),
                   "--trials", "6", "--seed", "1", "--out", str(out), "--base-values-only"])
    printed = capsys.readouterr().out
    assert status == 0
    assert "cd5_cohort_b: CD5: every patient in cohort B" in printed and "difference [95% CI]" in printed
    expected = {"comparison.csv", "comparison.json", "report.md", "cd5_cohort_a", "cd5_cohort_b"}
    assert expected <= {p.name for p in out.iterdir()}
    meta = json.loads((out / "comparison.json").read_text())
    assert meta["seed"] == 1 and meta["independent_seed"] == 2 and meta["trials"] == 6
    assert (out / "cd5_cohort_b" / "report.md").is_file()
    assert "Scenario comparison against cd5_cohort_a" in (out / "report.md").read_text()


def test_compare_refuses_a_scenario_on_another_base(tmp_path, capsys):
    status = main(["compare", str(PARAMS["cd5_tall"]), str(SCENARIO_DIR / "cll1_dose_a.toml"),
                   "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err.splitlines()
    assert status == 2 and len(err) == 1 and "cll1_dose_a.toml: base: " in err[0] and not (tmp_path / "x").exists()


def test_compare_reports_the_effect_over_parameter_uncertainty(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", str(PARAMS["cd5_tall"]), str(SCENARIO_DIR / "cd5_transplant_all_responders.toml"),
                 "--trials", "4", "--draws", "6", "--inner", "3", "--out", str(out)]) == 0
    assert "effect [95% over parameters]" in capsys.readouterr().out
    rows = {r["outcome"]: r for r in json.loads((out / "comparison.json").read_text())["rows"]}
    os12 = rows["os_12m"]
    for name in ("effect_median", "effect_low95", "effect_high95", "mc_low95", "mc_high95", "two_trials_low95", "two_trials_high95"):
        assert os12[name] is not None, name
    assert os12["effect_low95"] <= os12["effect_median"] <= os12["effect_high95"]
    assert os12["two_trials_low95"] <= os12["effect_low95"] and os12["effect_high95"] <= os12["two_trials_high95"]
