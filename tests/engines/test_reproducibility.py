"""Reproducibility and common random numbers: the same seed gives the same tables, a trial's luck is
keyed by (seed, trial) and by stream name, and changing one parameter moves only what depends on it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.runs.results import Results
from sim.runs.runner import simulate_trial, trial_parameters
from sim.model.draws import draw_patients, draw_uniforms
from sim.rng.streams import Streams
from sim.table import Table

ROOT = Path(__file__).resolve().parents[2]
TABLES = ("patients", "trials", "facilities", "events")

# patient columns that a change of CRS severity may move: the grade itself, how long CRS lasts
# (mild and severe durations differ) and the ICU stay that grade >= 3 brings
CRS_DOWNSTREAM = {"crs_grade", "t_crs_end", "t_icu_start", "icu_wait"}


def assert_tables_equal(a: Table, b: Table, what: str = "") -> None:
    assert a.names == b.names, what
    assert len(a) == len(b), what
    for name in a.names:
        np.testing.assert_array_equal(a[name], b[name], err_msg=f"{what} column {name}")


def differing_columns(a: Table, b: Table) -> list[str]:
    """Columns whose values differ (NaN equal to NaN); all of them if the lengths differ."""
    assert a.names == b.names
    if len(a) != len(b):
        return list(a.names)
    out = []
    for name in a.names:
        try:
            np.testing.assert_array_equal(a[name], b[name])
        except AssertionError:
            out.append(name)
    return out


def rows_of_trial(table: Table, k: int) -> Table:
    mask = table["trial"] == k
    return Table({name: table[name][mask] for name in table.names})


@pytest.fixture(scope="module")
def run_cll1(cll1):
    """Cached runs of cll1_aml, keyed by (trials, seed, parameter_uncertainty)."""
    cache: dict[tuple, Results] = {}

    def run(trials: int, seed: int, parameter_uncertainty: bool = False) -> Results:
        key = (trials, seed, parameter_uncertainty)
        if key not in cache:
            cache[key] = sim.run_trials(cll1, trials=trials, seed=seed, parameter_uncertainty=parameter_uncertainty)
        return cache[key]
    return run


# -- the same seed, a different seed ---------------------------------------------------------------

@pytest.mark.parametrize("name", ["cd5_tall", "cll1_aml"])
def test_same_seed_gives_identical_tables(cd5, cll1, name):
    params = {"cd5_tall": cd5, "cll1_aml": cll1}[name]
    first = sim.run_trials(params, trials=4, seed=123)
    second = sim.run_trials(params, trials=4, seed=123)
    for table in TABLES:
        assert len(getattr(first, table)) > 0, table
        assert_tables_equal(getattr(first, table), getattr(second, table), table)


def test_same_seed_identical_with_finite_capacities(cll1):
    params = cll1.with_values({"resources.manufacturing_slots": 1, "resources.icu_beds": 1, "resources.transplant_beds": 1})
    first, second = (sim.run_trials(params, trials=4, seed=99) for _ in range(2))
    for table in TABLES:
        assert_tables_equal(getattr(first, table), getattr(second, table), table)
    assert np.nanmax(first.patients["mfg_wait"]) > 0  # the queues do bind in this scenario


def test_different_seed_gives_different_tables(run_cll1):
    a, b = run_cll1(3, 1), run_cll1(3, 2)
    for table in TABLES:
        assert differing_columns(getattr(a, table), getattr(b, table)), f"{table} identical for seeds 1 and 2"
    # patient-level luck differs everywhere it is continuous
    assert "t_enrol" in differing_columns(a.patients, b.patients)
    assert "t_infusion" in differing_columns(a.patients, b.patients)


def test_seed_zero_works_and_differs_from_seed_one(run_cll1):
    zero, one = run_cll1(3, 0), run_cll1(3, 1)
    assert zero.seed == 0
    assert len(zero.patients) == 3 * 14 and zero.n_trials == 3
    assert not np.isnan(zero.patients["t_enrol"]).any()
    for table in TABLES:
        assert differing_columns(getattr(zero, table), getattr(one, table)), f"{table} identical for seeds 0 and 1"
    assert_tables_equal(zero.patients, sim.run_trials(zero.params, trials=3, seed=0).patients, "seed 0 repeated")


def test_seed_is_a_whole_number(cll1):
    for bad in (-1, 1.5, True, "1"):
        with pytest.raises(ValueError):
            sim.run_trials(cll1, trials=1, seed=bad)
    # a numpy integer is a seed like any other, and gives the same run as the int
    assert_tables_equal(sim.run_trials(cll1, trials=1, seed=np.int64(5)).patients,
                        sim.run_trials(cll1, trials=1, seed=5).patients)


@pytest.mark.parametrize("parameter_uncertainty", [False, True])
def test_trial_k_is_the_same_whether_3_or_5_trials_run(run_cll1, parameter_uncertainty):
    three, five = run_cll1(3, 7, parameter_uncertainty), run_cll1(5, 7, parameter_uncertainty)
    assert three.n_trials == 3 and five.n_trials == 5
    for k in range(3):
        for table in ("patients", "trials", "facilities"):
            assert len(rows_of_trial(getattr(three, table), k)) > 0
            assert_tables_equal(rows_of_trial(getattr(three, table), k), rows_of_trial(getattr(five, table), k),
                                f"{table}, trial {k}")
    # ... and trials differ from one another (each has its own streams)
    trial3, trial4 = (rows_of_trial(five.patients, k) for k in (3, 4))
    assert {"t_enrol", "t_infusion"} <= set(differing_columns(trial3, trial4))


def test_simulate_trial_matches_run_trials(cll1, run_cll1):
    """A trial alone is the same as within a run, whatever batch of trials it is drawn with."""
    results = run_cll1(3, 7)
    for k in range(3):
        assert_tables_equal(Table(simulate_trial(cll1, 7, k).table()), rows_of_trial(results.patients, k), f"trial {k}")
    many = run_cll1(260, 7)
    assert_tables_equal(rows_of_trial(many.patients, 2), rows_of_trial(results.patients, 2), "trial 2 of 260")
    for k in (255, 256, 259):
        assert_tables_equal(Table(simulate_trial(cll1, 7, k).table()), rows_of_trial(many.patients, k), f"trial {k}")


def test_same_seed_same_run_in_another_process(cll1):
    """Stream keys are stable across processes (no use of Python's salted hash())."""
    code = ("import sim, numpy as np; r = sim.run_trials(sim.load_params('params/cll1_aml.toml'), trials=2, seed=31); "
            "print(repr(float(np.nansum(r.patients['t_infusion']))), repr(float(np.nansum(r.patients['t_death']))))")
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    here = sim.run_trials(cll1, trials=2, seed=31).patients
    assert out.stdout.split() == [repr(float(np.nansum(here["t_infusion"]))), repr(float(np.nansum(here["t_death"])))]


# -- common random numbers across scenarios --------------------------------------------------------

def test_crs_severity_shift_moves_only_crs(cll1):
    base = sim.run_trials(cll1, trials=5, seed=17).patients
    shifted = sim.run_trials(cll1.with_values({"crs.severity_log_odds_shift": 1.0}), trials=5, seed=17).patients
    for name in base.names:
        if name not in CRS_DOWNSTREAM:
            np.testing.assert_array_equal(base[name], shifted[name], err_msg=name)
    # the named columns are among those compared
    assert {"t_enrol", "t_collection", "t_mfg_start", "t_mfg_end", "t_infusion", "t_crs_onset", "t_response",
            "t_relapse", "t_death", "response", "final_state"} <= set(base.names) - CRS_DOWNSTREAM
    # the grade never falls, and does rise for someone (the change is not ignored)
    assert np.all(shifted["crs_grade"] >= base["crs_grade"])
    assert np.any(shifted["crs_grade"] > base["crs_grade"])
    # a lower shift never raises a grade
    lowered = sim.run_trials(cll1.with_values({"crs.severity_log_odds_shift": -1.0}), trials=5, seed=17).patients
    assert np.all(lowered["crs_grade"] <= base["crs_grade"])
    assert np.any(lowered["crs_grade"] < base["crs_grade"])


def test_manufacturing_time_leaves_crs_and_response_alone(cd5, cll1):
    for params in (cd5, cll1):
        base = sim.run_trials(params, trials=5, seed=4).patients
        slower = sim.run_trials(params.with_values({"manufacturing.manufacturing_days.median": 18}),
                                trials=5, seed=4).patients
        assert np.nanmean(slower["t_infusion"] - base["t_infusion"]) > 0  # the change does delay infusion
        np.testing.assert_array_equal(base["t_enrol"], slower["t_enrol"])
        infused = ~np.isnan(base["t_infusion"]) & ~np.isnan(slower["t_infusion"])
        assert infused.sum() >= 30
        # grades and responses observed (before the cut-off) in both runs
        crs = infused & ~np.isnan(base["t_crs_onset"]) & ~np.isnan(slower["t_crs_onset"])
        response = infused & ~np.isnan(base["t_response"]) & ~np.isnan(slower["t_response"])
        assert crs.sum() >= 20 and response.sum() >= 20  # enough patients to compare
        np.testing.assert_array_equal(base["crs_grade"][crs], slower["crs_grade"][crs])
        np.testing.assert_array_equal(base["response"][response], slower["response"][response])
        np.testing.assert_array_equal(base["dose_level"][infused], slower["dose_level"][infused])
        icans = infused & ~np.isnan(base["t_icans_onset"]) & ~np.isnan(slower["t_icans_onset"])
        np.testing.assert_array_equal(base["icans_grade"][icans], slower["icans_grade"][icans])
        # times measured from infusion move with it
        peak = infused & ~np.isnan(base["t_peak"]) & ~np.isnan(slower["t_peak"])
        np.testing.assert_allclose((base["t_peak"] - base["t_infusion"])[peak],
                                   (slower["t_peak"] - slower["t_infusion"])[peak], rtol=0, atol=1e-9)


# -- named streams ---------------------------------------------------------------------------------

def test_a_stream_is_unaffected_by_other_streams():
    streams = Streams(5, 2)
    before = streams.uniforms("crs", 20)
    for name in ("accrual", "manufacturing", "progression", "response", "late_relapse"):
        streams.uniforms(name, 50)
    np.testing.assert_array_equal(streams.uniforms("crs", 20), before)
    np.testing.assert_array_equal(Streams(5, 2).uniforms("crs", 20), before)
    assert np.all((before >= 0) & (before < 1))
    # other names, trials and seeds give other numbers
    assert not np.array_equal(streams.uniforms("crs_grade", 20), before)
    assert not np.array_equal(Streams(5, 3).uniforms("crs", 20), before)
    assert not np.array_equal(Streams(6, 2).uniforms("crs", 20), before)
    assert not np.array_equal(Streams(0, 2).uniforms("crs", 20), before)


@pytest.mark.parametrize("n", [1, 14, 19, 100])
def test_first_n_uniforms_do_not_depend_on_how_many_are_drawn(n):
    streams = Streams(8, 1)
    np.testing.assert_array_equal(streams.uniforms("manufacturing", 2 * n)[:n], streams.uniforms("manufacturing", n))


def test_patient_keeps_their_draws_when_more_patients_enrol(cd5):
    n = int(cd5["accrual.enrolled"])
    few = draw_patients(cd5, draw_uniforms(3, 0, n))
    more = draw_patients(cd5.with_values({"accrual.enrolled": 2 * n}), draw_uniforms(3, 0, 2 * n))
    assert len(more["crs_grade"]) == 2 * n
    compared = 0
    for key in few:
        if key == "arrival":  # gaps scale with the enrolment period over the number enrolled
            continue
        np.testing.assert_array_equal(few[key], more[key][:n], err_msg=key)
        compared += 1
    assert compared >= 15
    # and the uniforms behind them are the streams' first n elements
    for name, u in draw_uniforms(3, 0, n).items():
        np.testing.assert_array_equal(u, Streams(3, 0).uniforms(name, 2 * n)[:n], err_msg=name)


# -- parameter uncertainty -------------------------------------------------------------------------

def test_parameter_uncertainty_is_reproducible_and_differs_from_base(cll1, run_cll1):
    drawn, base = run_cll1(3, 7, True), run_cll1(3, 7)
    again = sim.run_trials(cll1, trials=3, seed=7, parameter_uncertainty=True)
    assert drawn.parameter_uncertainty and not base.parameter_uncertainty
    for table in TABLES:
        assert_tables_equal(getattr(drawn, table), getattr(again, table), table)
    for table in ("patients", "trials", "events"):
        assert differing_columns(getattr(drawn, table), getattr(base, table)), f"{table} identical to the base run"
    # each trial draws its own parameters: with the same accrual uniforms (common random numbers),
    # trial k's enrolment days are the base ones scaled by its drawn enrolment period over the base one
    scales = []
    for k in range(3):
        ratio = rows_of_trial(drawn.patients, k)["t_enrol"][1:] / rows_of_trial(base.patients, k)["t_enrol"][1:]
        np.testing.assert_allclose(ratio, ratio[0], rtol=1e-9)
        scales.append(ratio[0])
    assert len(set(scales)) == 3, scales


def test_parameter_uncertainty_runs_each_trial_at_its_drawn_parameters(cll1, run_cll1):
    drawn = run_cll1(3, 7, True)
    per_trial = [trial_parameters(cll1, 7, k) for k in range(3)]
    for k, params in enumerate(per_trial):
        assert_tables_equal(Table(simulate_trial(params, 7, k).table()), rows_of_trial(drawn.patients, k), f"trial {k}")
        again = trial_parameters(cll1, 7, k)
        assert all(params[path] == again[path] for path in cll1.uncertain())
    for path in ("accrual.mean_period_days", "crs.p_grade_at_least_3", "late.relapse_hazard"):
        assert len({params[path] for params in per_trial}) == 3, path
        assert all(params[path] != cll1[path] for params in per_trial), path
