"""The effect over parameter uncertainty: zero-event parameters, the flag rule, and the three intervals."""

from __future__ import annotations

import numpy as np

from sim.analyses.effects import Effects, effect_rows, zero_event_parameters


def test_zero_event_parameters_are_gamma_or_beta_counts_with_no_event(cd5):
    zero = set(zero_event_parameters(cd5))
    assert "crs.p_grade_at_least_3" in zero  # beta [0, 4]
    # the levels after transplant combine a prior with the counts: no longer counts with no event
    assert not {"late.relapse_hazard_after_transplant", "late.tma_death_hazard_after_transplant"} & zero
    assert "late.relapse_hazard" not in zero and "early.p_cytopenia_g34" not in zero  # events seen


def _effects(difference_per_draw, values, changed=frozenset(), inner=4, seed=0):
    rng = np.random.default_rng(seed)
    outcomes = [[{"y": rng.normal(0, 1, inner)}, None] for _ in difference_per_draw]
    for draw, d in zip(outcomes, difference_per_draw):
        draw[1] = {"y": draw[0]["y"] + d}
    return Effects(["base", "s"], outcomes, values, [set(changed)], len(outcomes), inner, seed)


def test_an_effect_that_follows_a_zero_event_parameter_is_flagged_and_noise_is_not():
    rng = np.random.default_rng(1)
    values = {"a": rng.gamma(0.5, 1.0, 200), "b": rng.gamma(0.5, 1.0, 200)}
    follows_a = effect_rows(_effects(values["a"], values))[0]
    assert follows_a["zero_event_parameters"] == "a"  # rank correlation 1 with a; b independent of it
    assert effect_rows(_effects(rng.normal(0, 1, 200), values))[0]["zero_event_parameters"] == ""
    changed = effect_rows(_effects(rng.normal(0, 1, 200), values, changed={"b"}))[0]
    assert changed["zero_event_parameters"] == "b"  # the scenario changes it: flagged whatever the draws


def test_the_three_intervals_are_percentiles_of_draws_mean_error_and_single_trials():
    d = np.linspace(-1, 1, 41)
    row = effect_rows(_effects(d, {}))[0]
    assert np.isclose(row["effect_median"], 0) and np.isclose(row["effect_low95"], np.quantile(d, 0.025))
    assert row["mc_low95"] < row["effect_mean"] < row["mc_high95"]
    assert row["mc_high95"] - row["mc_low95"] < row["effect_high95"] - row["effect_low95"]
    assert row["two_trials_low95"] <= row["effect_low95"] and row["effect_high95"] <= row["two_trials_high95"]
