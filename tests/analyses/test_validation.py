"""Validation against the papers: percentiles and intervals on known cases, the table, the command.

The percentile and interval checks use hand-made samples whose answers are worked out in the
comments.  The acceptance check (every figure of both trials passes at the shipped parameters)
runs the README's command in-process: 2,000 virtual trials, seed 0.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
import sim.analyses.calibration
from conftest import PARAMS
from sim.inputs.paper import Figure
from sim.table import Table
from sim.analyses.validation import (FAIL, NO_VALUE, NOT_MODELLED, PASS, TOO_FEW, central_interval, failed, figure_row,
                            midrank_percentile, outside_band, status, validation_table)
from sim.cli.validate import format_validation

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def cartsim(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


# -- percentiles and intervals on hand-made samples --------------------------------------------

SAMPLE = [0, 1, 1, 2, 2, 2, 3, 5]  # eight values with ties, as counts have


@pytest.mark.parametrize("value, expected", [
    (2, 100 * (3 + 3 / 2) / 8),   # 3 below (0, 1, 1), 3 tied: 56.25
    (0, 100 * (0 + 1 / 2) / 8),   # nothing below, 1 tied: 6.25
    (4, 100 * 7 / 8),             # 7 below, none tied: 87.5
    (5, 100 * (7 + 1 / 2) / 8),   # the maximum: 93.75, not 100
    (-1, 0.0), (6, 100.0),
])
def test_midrank_percentile_on_a_hand_made_sample(value, expected):
    assert midrank_percentile(SAMPLE, value) == pytest.approx(expected)


def test_midrank_percentile_ignores_undefined_trials_and_is_nan_without_any():
    assert midrank_percentile([np.nan, 1, 3, np.nan], 3) == pytest.approx(75.0)
    assert np.isnan(midrank_percentile([np.nan, np.nan], 1))


def test_a_figure_every_trial_reproduces_sits_at_the_50th_percentile():
    assert midrank_percentile([19] * 500, 19) == 50.0
    assert central_interval([19] * 500) == (19, 19)


def test_central_interval_takes_values_from_the_sample():
    # 0..99: the inverted CDF reaches 0.025 at 2 (3 of 100 values) and 0.975 at 97 (98 of 100)
    assert central_interval(np.arange(100)) == (2, 97)
    assert central_interval(SAMPLE) == (0, 5)


@pytest.mark.parametrize("reported, expected", [(2, PASS), (97, PASS), (1, FAIL), (98, FAIL), (50.5, PASS)])
def test_pass_means_inside_the_central_interval_bounds_included(reported, expected):
    assert status(reported, central_interval(np.arange(100))) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 12), min_size=1, max_size=300), st.integers(-1, 13))
def test_a_midrank_percentile_inside_2_5_to_97_5_always_passes(sample, reported):
    """The two definitions agree where it matters: a reported count whose mid-rank percentile lies in
    [2.5, 97.5] is inside the inverted-CDF 95% interval (the interval is the more lenient at a tie)."""
    percentile = midrank_percentile(sample, reported)
    if 2.5 <= percentile <= 97.5:
        assert status(reported, central_interval(sample)) == PASS


def test_a_figure_the_model_cannot_produce_is_listed_with_its_reason():
    figure = Figure("gvhd", "not_modelled", 1.0, "grade 1 GVHD", of=5, why="not part of the pathway")
    row = figure_row(figure, None)
    assert row["status"] == NOT_MODELLED and row["why"] == "not part of the pathway"
    assert row["reported"] == 1.0 and row["of"] == 5.0 and np.isnan(row["percentile"])


def test_a_figure_no_virtual_trial_produced_counts_as_failed():
    figure = Figure("peak", "peak_day", 9.0, "median peak day", qualifiers={"stat": "median"})
    row = figure_row(figure, np.full(50, np.nan))
    assert row["status"] == NO_VALUE and row["trials_defined"] == 0
    table = Table({name: [value] for name, value in row.items()})
    assert failed(table) == ["peak"]


# -- the table on a few hundred virtual trials --------------------------------------------------

@pytest.fixture(scope="module")
def cd5_table(cd5):
    results = sim.run_trials(cd5, trials=300, seed=7, parameter_uncertainty=True)
    return results, validation_table(cd5.seeds, results.trials)


def test_every_seeds_figure_is_in_the_table_in_file_order(cd5, cd5_table):
    _, table = cd5_table
    assert list(table["figure"]) == list(cd5.seeds.figures)
    not_modelled = {k for k, f in cd5.seeds.figures.items() if not f.modelled}
    assert {r["figure"] for r in table.rows() if r["status"] == NOT_MODELLED} == not_modelled


def test_table_percentiles_and_intervals_are_those_of_the_simulated_values(cd5, cd5_table):
    results, table = cd5_table
    for row in table.rows():
        if row["status"] in (NOT_MODELLED, TOO_FEW):
            continue
        x = results.trials[row["figure"]].astype(float)
        if not np.isnan(row["of"]):  # compared at the reported denominator only
            x = x[results.trials[row["figure"] + "_denominator"] == row["of"]]
            assert x.size == row["trials_defined"] and np.all(x <= row["of"]), row["figure"]
        x = x[~np.isnan(x)]
        r = row["reported"]
        assert row["percentile"] == pytest.approx(100 * (np.mean(x < r) + np.mean(x == r) / 2)), row["figure"]
        low, high = np.sort(x)[[int(np.ceil(0.025 * x.size)) - 1, int(np.ceil(0.975 * x.size)) - 1]]
        assert (row["sim_low95"], row["sim_high95"]) == (low, high), row["figure"]
        assert row["status"] == (PASS if low <= r <= high else FAIL)


def compared_values(results, row) -> np.ndarray:
    """The simulated values a row compares its reported value with: defined, at the reported denominator."""
    x = results.trials[row["figure"]].astype(float)
    if not np.isnan(row["of"]):
        x = x[results.trials[row["figure"] + "_denominator"] == row["of"]]
    return x[~np.isnan(x)]


def test_table_positions_and_band_verdicts_are_those_of_the_simulated_values(cd5, cd5_table):
    results, table = cd5_table
    for row in table.rows():
        if row["status"] in (NOT_MODELLED, TOO_FEW):
            assert row["central_band"] == "" and np.isnan(row["p_below"]), row["figure"]
            continue
        x, r = compared_values(results, row), row["reported"]
        a, b = np.mean(x < r), np.mean(x <= r)
        assert (row["p_below"], row["p_at_or_below"]) == pytest.approx((a, b)), row["figure"]
        assert row["percentile"] == pytest.approx(50 * (a + b))
        assert row["percentile_mcse"] == pytest.approx(100 * np.sqrt((a * (1 - a) + b * (1 - b) + 2 * a * (1 - b))
                                                                     / (4 * x.size)))
        assert row["central_band"] == ("inside" if 20 <= row["percentile"] <= 80 else "outside"), row["figure"]


def band_table(reported: float, values, target: bool = True) -> Table:
    """A one-row validation table of a made-up count figure against made-up simulated values."""
    row = figure_row(Figure("made_up", "count", reported, "a made-up count"), values, target=target)
    return Table({name: [value] for name, value in row.items()})


def test_targets_outside_the_band_are_named_and_other_figures_are_not_judged():
    values = np.repeat([0, 1, 2, 3], [45, 34, 11, 10])  # 2: mid-p 84.5, inside the 95% interval
    assert outside_band(band_table(2, values)) == ["made_up"]
    assert outside_band(band_table(1, values)) == []
    assert outside_band(band_table(2, values, target=False)) == []  # an input is not held to the band
    text = format_validation(band_table(2, values))
    assert "calibration targets in the 20-80 band: 0 of 1; outside: made_up 84.5% +- " in text
    assert "made_up *" in text and "0.79-0.90" in text and "OUT" in text


# -- acceptance: both trials at their shipped parameters ----------------------------------------

@pytest.mark.parametrize("trial", ["cd5", "cll1"])
def test_every_reported_figure_passes_at_the_shipped_parameters(trial, request):
    """400 virtual trials with parameter uncertainty, seed 0: every reported value lies well inside
    (its percentile is between 30 and 80 at 2,000 trials), so 400 trials place the bounds closely enough."""
    params = request.getfixturevalue(trial)
    table = validation_table(params.seeds, sim.run_trials(params, trials=400, seed=0, parameter_uncertainty=True).trials)
    assert failed(table) == [], table.rows()


@pytest.mark.slow
@pytest.mark.parametrize("trial", ["cd5", "cll1"])
def test_every_reported_figure_passes_as_in_the_readme(trial, request):
    """The README's validation: 2,000 virtual trials with parameter uncertainty, seed 0 (about 8 s each)."""
    params = request.getfixturevalue(trial)
    table = validation_table(params.seeds, sim.run_trials(params, trials=2000, seed=0, parameter_uncertainty=True).trials)
    assert failed(table) == [], table.rows()


# -- the command ---------------------------------------------------------------------------------

@pytest.mark.parametrize("trial", ["cd5_tall", "cll1_aml"])
def test_validate_prints_the_table_and_writes_csv_json_and_the_plot(trial, tmp_path):
    out = tmp_path / "out"
    done = cartsim("validate", str(PARAMS[trial]), "--trials", "200", "--seed", "3", "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    seeds = sim.load_params(PARAMS[trial]).seeds
    for key in seeds.figures:
        assert key in done.stdout
    assert "mid-rank" in done.stdout and "not modelled" in done.stdout
    assert {p.name for p in out.iterdir()} == {"validation.csv", "validation.json", "validation.png", "validation.svg"}
    with open(out / "validation.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
        assert sorted(row["figure"] for row in rows) == sorted(seeds.figures)
        order = [("input", "calibrated", "independent").index(row["role"]) for row in rows]
        assert order == sorted(order)  # grouped by role
    document = json.loads((out / "validation.json").read_text())
    assert document["manifest"]["trials"] == 200 and document["manifest"]["parameter_uncertainty"] is True
    assert document["failed"] == [] and "mid-rank" in document["definitions"]["percentile"]
    targets = [row["figure"] for row in rows if row["calibration_target"] == "true"]
    assert targets == [key for key in sim.analyses.calibration.target_keys(sim.load_params(PARAMS[trial]))]
    judged = [row["figure"] for row in rows if row["calibration_target"] == "true" and row["status"] != TOO_FEW]
    assert document["calibration_targets_in_band"]["judged"] == judged  # 200 trials leave some too few to judge
    assert "calibration targets in the 20-80 band:" in done.stdout and "P(<r)-P(<=r)" in done.stdout
    assert (out / "validation.png").read_bytes()[:8] == PNG_MAGIC
    assert "<svg" in (out / "validation.svg").read_text()


def test_validate_exits_1_and_names_a_figure_that_fails(cll1_copy, tmp_path):
    cll1_copy.seeds.write_text(cll1_copy.seeds.read_text().replace(
        "metric = \"withdrawn\"\nvalue = 2", "metric = \"withdrawn\"\nvalue = 13"))
    out = tmp_path / "out"
    done = cartsim("validate", str(cll1_copy.path), "--trials", "100", "--out", str(out), cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAILED: withdrawn" in done.stdout
    assert json.loads((out / "validation.json").read_text())["failed"] == ["withdrawn"]


@pytest.mark.parametrize("args, fragments", [
    (["--trials", "5"], ["--trials", "40"]),
    (["--trials", "zero"], ["--trials", "must be a whole number"]),
    (["--seed", "-1"], ["--seed", "must be >= 0"]),
])
def test_validate_refuses_bad_arguments_in_one_line(args, fragments, tmp_path):
    done = cartsim("validate", str(PARAMS["cll1_aml"]), *args, "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert all(f in done.stderr for f in fragments), done.stderr
    assert not (tmp_path / "out").exists()


def test_validate_refuses_a_bad_params_file_naming_file_and_key(cd5_copy, tmp_path):
    cd5_copy.replace("[withdrawal]\n", "[withdrawal]\nprogresion_hazard = { value = 1, source = \"scenario\", note = \"typo\" }\n")
    done = cartsim("validate", str(cd5_copy.path), "--trials", "50", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "cd5_tall.toml" in done.stderr and "withdrawal.progresion_hazard" in done.stderr and "unknown key" in done.stderr
    assert not (tmp_path / "out").exists()


def test_roles_come_from_the_params_sources_and_the_calibration_targets(cd5):
    from sim.analyses.calibration import target_keys
    from sim.analyses.validation import figure_roles
    roles = {key: role for key, (role, _) in figure_roles(cd5).items()}  # without trials: the direct uses only
    assert roles["enrolled"] == "input"  # accrual.enrolled has source seeds:enrolled
    assert {k for k, r in roles.items() if r == "calibrated"} == set(target_keys(cd5)) - {"enrolled"}
    assert roles["infused"] == "independent"  # no entry cites it: only the simulated trials show it is given away


def test_leave_one_out_hides_the_figures_that_give_a_target_away(cd5):
    from sim.analyses.leave_one_out import revealing
    assert set(revealing(cd5, "not_infused")) == {"not_infused", "infused"}  # infused = 19 - not_infused
    assert len(revealing(cd5, "untransplanted_died_tma")) == 4  # a closed group of 12: the rest give it away


def test_validate_writes_leave_one_out_and_detectability_tables(tmp_path):
    out = tmp_path / "out"
    done = cartsim("validate", str(PARAMS["cll1_aml"]), "--trials", "40", "--out", str(out), "--leave-one-out",
                   "--detectability", "--replicates", "10", "--refit-trials", "10", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "by role: input" in done.stdout and "false-alarm rate" in done.stdout
    with open(out / "detectability.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert list(rows[0])[:3] == ["parameter", "shift", "p_detect"] and rows[0]["shift"] == "none"
    with open(out / "leave_one_out.csv", newline="") as stream:
        loo = list(csv.DictReader(stream))
    assert [row["figure"] for row in loo] == ["withdrawn"]  # the one calibration target of CLL-1
    assert {"detectability.png", "detectability.svg"} <= {p.name for p in out.iterdir()}
