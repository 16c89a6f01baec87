"""Compare's single-trial interval: two real trials have different patients; the effect's endpoints carry their error."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import ROOT
from sim.analyses.effects import effect_rows, endpoint_mcse, run_effects
from sim.inputs.scenarios import load_scenario
from test_effects import _effects

SCENARIOS = ROOT / "params" / "scenarios"


def test_an_arm_against_itself_has_no_same_patient_spread_but_two_real_trials_differ():
    """Identical arms: the same patients give a difference of exactly 0 in every trial, while two real
    trials of the same therapy, with other patients, differ by chance (the inner trials are N(0, 1))."""
    row = effect_rows(_effects(np.zeros(50), {}, inner=8))[0]
    assert row["same_patients_low95"] == 0 == row["same_patients_high95"]
    assert row["two_trials_low95"] < -1 and row["two_trials_high95"] > 1  # N(0, 2): 95% within +-2.8


def test_two_real_trials_of_cll1_dose_a_and_c_can_show_more_severe_crs_at_the_lower_dose():
    """CLL-1, dose C against dose A, CRS grade 3 or more: with the same virtual patients in both arms a
    patient can only gain severe CRS at the higher dose; two real trials can show either order."""
    a, c = (load_scenario(SCENARIOS / f"cll1_dose_{x}.toml") for x in "ac")
    effects = run_effects(a, [c], ["a", "c"], draws=20, inner=10, seed=0)
    row = next(r for r in effect_rows(effects) if r["outcome"] == "crs_g3_rate")
    assert row["same_patients_low95"] >= 0  # C - A in the same patients: never negative
    assert row["two_trials_low95"] < 0 < row["two_trials_high95"]  # A - C has a positive upper bound


def test_the_endpoints_error_matches_the_order_statistic_approximation():
    """The 2.5th percentile of D draws has standard error sqrt(p (1 - p) / D) / f(q) by the asymptotic
    order-statistic result: 0.134 for D = 400 standard normal values (f(-1.96) = 0.0584).  The
    bootstrap estimate of it varies by about a quarter between samples at this D (coefficient of
    variation 0.25 over 100 samples, measured), so it must lie within 50% of the approximation (two
    coefficients of variation)."""
    values = np.random.default_rng(3).normal(0, 1, 400)
    low, high = endpoint_mcse(values)
    expected = np.sqrt(0.025 * 0.975 / 400) / 0.0584
    assert low == pytest.approx(expected, rel=0.5) and high == pytest.approx(expected, rel=0.5)
    assert endpoint_mcse(values[:100])[0] > low  # fewer draws, larger error
