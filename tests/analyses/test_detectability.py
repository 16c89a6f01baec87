"""Detectability: the shift rule, the flag rule, and that a large shift is detected more often than none."""

from __future__ import annotations

import dataclasses

import math

import numpy as np

from sim.analyses.detectability import detectability, flagged, shifts
from sim.analyses.validation import figure_roles, validation_table
from sim.runs.runner import run_trials
from sim.table import Table
from sim.inputs.parameter_draws import inverse_cdf


def test_hazards_are_halved_and_doubled_and_other_kinds_go_to_their_percentiles(cd5):
    hazard = cd5["late.relapse_hazard"]
    assert shifts(cd5, "late.relapse_hazard") == [("x0.5", hazard / 2), ("x2", 2 * hazard)]
    u = cd5.entries["crs.incidence"].uncertainty
    assert shifts(cd5, "crs.incidence") == [("p2.5", inverse_cdf(u, 0.025)), ("p97.5", inverse_cdf(u, 0.975))]
    path = "late.relapse_hazard_after_transplant"
    at_zero = dataclasses.replace(cd5, entries=cd5.entries | {path: dataclasses.replace(cd5.entries[path], value=0.0)})
    assert [label for label, _ in shifts(at_zero, "late.relapse_hazard_after_transplant")] \
        == ["p2.5", "p97.5"]  # any multiple of 0 is 0
    assert shifts(cd5, "response.categories") == []  # category weights are not shifted


def test_a_trial_is_flagged_when_any_figure_leaves_its_interval():
    trials = Table({"a": [1.0, 5.0, 2.0, np.nan], "b": [0.0, 0.0, 9.0, 0.0]})
    hits, per_figure = flagged(trials, {"a": (0.0, 4.0), "b": (0.0, 3.0)})
    assert hits.tolist() == [False, True, True, False]  # NaN (figure undefined) is not a flag
    assert per_figure == {"a": 1, "b": 1}


def test_a_gross_error_is_detected_far_more_often_than_none(cll1):
    """In a world without CRS (incidence 0 where 12/12 were reported), every observed trial has no CRS,
    below the model's interval for CRS of any grade: each replicate is flagged.  With nothing shifted,
    flags are rare (the intervals carry parameter uncertainty).  R = 100: the binomial standard error
    is at most 0.05, far below the gap asserted (0.5)."""
    results = run_trials(cll1, trials=600, seed=0, parameter_uncertainty=True)
    table = validation_table(cll1.seeds, results.trials, roles=figure_roles(cll1))
    wrong = cll1.with_values({"crs.incidence": 0.0})
    reference = results.trials  # each replicate's counts judged at its own denominator
    none = detectability(cll1, table, replicates=100, seed=0, paths=[], reference=reference).rows()[0]
    gross = detectability(wrong, table, replicates=100, seed=0, paths=[], reference=reference).rows()[0]
    assert none["shift"] == "none" and none["p_detect"] < 0.2
    assert gross["p_detect"] > none["p_detect"] + 0.5 and gross["most_flagged"] == "crs_any"
    assert math.isclose(none["mc_se"], math.sqrt(none["p_detect"] * (1 - none["p_detect"]) / 100))


def test_a_replicate_count_is_judged_at_its_own_denominator():
    """Reference: 50 trials with 10 patients counting 0-2, 50 with 12 counting 6-8.  A replicate with 10
    patients counting 7 is outside what 10-patient trials give, though inside the pooled interval."""
    from sim.analyses.detectability import flagged_at_denominators

    reference = Table({"k": np.r_[np.tile([0.0, 1, 2], 17)[:50], np.tile([6.0, 7, 8], 17)[:50]],
                       "k_denominator": np.r_[np.full(50, 10.0), np.full(50, 12.0)]})
    replicates = Table({"k": np.array([7.0, 7.0, 1.0]), "k_denominator": np.array([10.0, 12.0, 10.0])})
    hits, per_figure = flagged_at_denominators(replicates, reference, ["k"])
    assert list(hits) == [True, False, False] and per_figure == {"k": 1}
