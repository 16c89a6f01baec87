"""Key outcomes: computed by the run as it goes, the same as computed afterwards from its tables, split by
dose group, each counting the trials where it is undefined; written to the summary files and the reports;
and nothing read back from the folder the run writes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

import sim
from sim import table
from sim.output import run_folder
from sim.stats.key_outcomes import KEY_OUTCOMES, key_outcomes
from sim.stats.outcome_summary import GROUP_OUTCOMES

TRIALS = 120


@pytest.fixture(scope="module")
def cll1_run():
    return sim.run_trials(sim.load_params("cll1_aml"), trials=TRIALS, seed=3)


def test_the_run_computes_what_the_tables_give(cll1_run):
    """Batch by batch in the run, or afterwards from the whole patients table: the same numbers."""
    after = key_outcomes(cll1_run.patients, cll1_run.facilities)
    held = cll1_run.trial_outcomes["all"]
    for name in KEY_OUTCOMES:
        np.testing.assert_array_equal(np.asarray(held[name], float), np.asarray(after[name], float), err_msg=name)


def test_dose_groups_split_the_infused(cll1_run):
    """Three dose levels: each trial's infused patients are the sum of its groups' infused."""
    groups = cll1_run.trial_outcomes
    assert set(groups) == {"all", "A", "B", "C"}
    total = sum(np.asarray(groups[level]["n_infused"], float) for level in "ABC")
    np.testing.assert_array_equal(total, np.asarray(groups["all"]["n_infused"], float))
    assert set(groups["A"].names) == {"trial", *GROUP_OUTCOMES}


def test_a_group_rate_is_the_rate_among_that_group():
    """CRS grade >= 3 of group A, recomputed by hand from the patients of group A in each trial."""
    run = sim.run_trials(sim.load_params("cll1_aml"), trials=30, seed=5)
    p = run.patients
    expected = []
    for k in range(30):
        rows = (p["trial"] == k) & (p["dose_level"] == "A") & ~np.isnan(p["t_infusion"])
        expected.append(np.mean(p["crs_grade"][rows] >= 3) if rows.any() else np.nan)
    np.testing.assert_array_equal(np.asarray(run.trial_outcomes["A"]["crs_g3_rate"], float), np.array(expected))


def test_undefined_trials_are_counted_not_dropped(cll1_run):
    summary = cll1_run.key_outcomes()
    rows = {(r["outcome"], r["dose_group"]): r for r in summary.rows()}
    for row in rows.values():
        assert row["trials_defined"] + row["trials_undefined"] == TRIALS
    os12 = np.asarray(cll1_run.trial_outcomes["all"]["os_12m"], float)
    assert rows[("os_12m", "all")]["trials_undefined"] == np.count_nonzero(np.isnan(os12)) > 0
    assert rows[("os_12m", "all")]["median"] == np.percentile(os12[~np.isnan(os12)], 50, method="inverted_cdf")


def test_a_trial_with_one_dose_level_has_no_split():
    """The toy trial has one dose level (X): its outcomes are those of all patients only."""
    toy = sim.load_params(Path(__file__).resolve().parents[1] / "data" / "toy_trial.toml")
    assert list(toy.dose_levels()) == ["X"]
    assert set(sim.run_trials(toy, trials=4, seed=0).trial_outcomes) == {"all"}


def test_intervals_say_what_they_are(cll1_run):
    assert set(cll1_run.key_outcomes()["interval"]) == {"95% of virtual trials: one trial's chance at the base "
                                                       "parameter values"}
    drawn = sim.run_trials(sim.load_params("cll1_aml"), trials=8, seed=0, parameter_uncertainty=True)
    assert "parameter uncertainty" in drawn.key_outcomes()["interval"][0]


def test_written_to_summary_and_reports_without_reading_back(tmp_path, monkeypatch):
    """A run into its folder writes the key outcomes everywhere, drawing its pictures and rendering its reports
    from what it holds: every table reader is disabled while it runs."""
    def refuse(*args, **kwargs):
        raise AssertionError("a run read back a table it wrote")

    for module in (table, run_folder):
        monkeypatch.setattr(module, "read_csv", refuse)
        monkeypatch.setattr(module, "read_parquet", refuse)
    from sim.runs.runner import run_to_folder

    out = tmp_path / "run"
    results, written = run_to_folder(sim.load_params("cll1_aml"), out, trials=40, seed=1, plots=True)
    assert {p.name for p in written} >= {"summary.csv", "summary.json", "report.md", "report.html", "flow.png"}
    monkeypatch.undo()
    with open(out / "summary.csv", newline="") as handle:
        every = list(csv.DictReader(handle))
    rows = [r for r in every if r["kind"] == "key_outcome"]
    units = {r["name"]: r["unit"] for r in every if r["kind"] == "figure"}
    assert units["os_12m"] == "proportion" and units["median_followup_months"] == "months"  # not counts of patients
    assert units["infused"] == "patients"
    assert {(r["name"], r["dose_group"]) for r in rows} == {(r["outcome"], r["dose_group"])
                                                          for r in results.key_outcomes().rows()}
    assert all(int(float(r["trials_defined"])) + int(float(r["trials_undefined"])) == 40 for r in rows)
    document = json.loads((out / "summary.json").read_text())
    assert len(document["key_outcomes"]) == len(rows)
    report = (out / "report.md").read_text()
    assert "## Key outcomes" in report and "| dose group C |" in report
    assert report.index("## Key outcomes") < report.index("## Results")


def test_docs_name_every_key_outcome():
    """docs/outputs.md lists each key outcome by its name."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "outputs.md").read_text(encoding="utf-8")
    assert [name for name in KEY_OUTCOMES if f"`{name}`" not in text] == []
