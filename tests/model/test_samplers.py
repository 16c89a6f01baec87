"""Unit tests of the per-patient samplers, the time distributions and the late-event clock."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.model.late_hazards import cumulative_hazard, first_event, hitting_time, unit_exponential
from sim.model.draws import arrival_times, categorical, grades, latent_time
from sim.inputs.durations import argument_problem, ppf
from sim.inputs.uncertainty import parse_dirichlet, parse_scalar

U = np.linspace(0.005, 0.995, 199)


@pytest.mark.parametrize("family, args, frozen", [
    ("lognormal", {"median": 9.0, "sigma": 0.3}, stats.lognorm(0.3, scale=9.0)),
    ("lognormal", {"median": 33.5, "sigma": 1.27, "loc": 29.3}, stats.lognorm(1.27, loc=29.3, scale=33.5 - 29.3)),
    ("exponential", {"mean": 4.0}, stats.expon(scale=4.0)),
    ("uniform", {"low": 2.0, "high": 5.0}, stats.uniform(2.0, 3.0)),
])
def test_time_distributions_match_scipy_inverse_cdf(family, args, frozen):
    np.testing.assert_allclose(ppf(family, args, U), frozen.ppf(U), rtol=1e-12)


def test_lognormal_median_is_the_median():
    assert ppf("lognormal", {"median": 33.5, "sigma": 1.27, "loc": 29.3}, np.array([0.5]))[0] == pytest.approx(33.5)


def test_fixed_duration_ignores_the_uniform():
    np.testing.assert_array_equal(ppf("fixed", {"days": 3.0}, U), np.full(U.shape, 3.0))


@pytest.mark.parametrize("family, args", [("uniform", {"low": 5, "high": 2}),
                                          ("lognormal", {"median": 20, "sigma": 0.5, "loc": 25})])
def test_time_distribution_arguments_are_checked(family, args):
    assert argument_problem(family, args)


def test_categorical_follows_cumulative_weights():
    idx = categorical([1, 0, 3], np.array([0.0, 0.2499, 0.25, 0.9999]))
    assert list(idx) == [0, 0, 2, 2]  # the zero-weight category is never chosen


def test_grades_from_exceedance_probabilities(cll1):
    params = cll1.with_values({"crs.p_grade_at_least_2": 0.8, "crs.p_grade_at_least_3": 0.5, "crs.p_grade_at_least_4": 0.1})
    g = grades(params, "crs", np.array([0.95, 0.7, 0.3, 0.05]))
    assert list(g) == [1, 2, 3, 4]


def test_grades_exceedances_are_made_non_increasing(cll1):
    params = cll1.with_values({"crs.p_grade_at_least_2": 0.3, "crs.p_grade_at_least_3": 0.6, "crs.p_grade_at_least_4": 0.9})
    # P(>=3) and P(>=4) are capped at P(>=2) = 0.3: every patient below 0.3 has grade 4
    assert list(grades(params, "crs", np.array([0.2, 0.5]))) == [4, 1]


def test_a_positive_shift_never_lowers_a_grade(cll1):
    u = np.random.default_rng(0).random(500)
    low, high = grades(cll1, "crs", u, 0.0), grades(cll1, "crs", u, 1.5)
    assert np.all(high >= low) and np.any(high > low)


def test_arrivals_start_at_zero_and_keep_earlier_patients():
    u = np.random.default_rng(1).random(20)
    a10, a20 = arrival_times(300.0, u[:10]), arrival_times(300.0 * 19 / 9, u)
    assert a10[0] == 0 and np.all(np.diff(a10) >= 0)
    np.testing.assert_allclose(a10, a20[:10], rtol=1e-12)  # same mean gap: the first 10 agree


def test_latent_time_is_infinite_without_hazard():
    assert np.all(np.isinf(latent_time(0.0, U)))
    np.testing.assert_allclose(latent_time(0.01, np.array([1 - np.exp(-1)])), [100.0])


NO_BANDS = np.array([])


def test_hitting_time_without_and_with_a_switch():
    # one band: cumulative hazard 0.01 t until the switch, then 0.001 per day
    assert hitting_time(0.4, [0.01], [0.001], NO_BANDS, np.inf) == pytest.approx(40.0)
    assert hitting_time(0.4, [0.01], [0.001], NO_BANDS, 30.0) == pytest.approx(30 + 0.1 / 0.001)
    assert hitting_time(0.6, [0.01], [0.001], NO_BANDS, 50.0) == pytest.approx(50 + 0.1 / 0.001)
    assert hitting_time(0.4, [0.01], [0.0], NO_BANDS, 30.0) == np.inf
    assert hitting_time(0.4, [0.0], [0.0], NO_BANDS, np.inf) == np.inf


def test_hitting_time_through_bands_and_a_switch():
    edges, before, after = np.array([60.0, 150.0]), np.array([0.01, 0.005, 0.001]), np.array([0.002, 0.001, 0.0005])
    # 0.6 by day 60, then 0.005 per day: 0.8 at day 100
    assert hitting_time(0.8, before, after, edges, np.inf) == pytest.approx(100.0)
    # 0.6 + 0.45 by day 150, then 0.001 per day for ever
    assert hitting_time(1.2, before, after, edges, np.inf) == pytest.approx(150 + 0.15 / 0.001)
    # transplant at day 20: 0.2, then 0.002 to day 60 (0.28), 0.001 to 150 (0.37), then 0.0005
    assert hitting_time(0.5, before, after, edges, 20.0) == pytest.approx(150 + 0.13 / 0.0005)
    assert hitting_time(0.5, before, np.zeros(3), edges, 20.0) == np.inf


def test_cumulative_hazard_inverts_the_hitting_time():
    rng = np.random.default_rng(7)
    edges = np.array([30.0, 90.0, 400.0])
    before, after = rng.random((50, 4)) * 0.01, rng.random((50, 4)) * 0.01
    switch = np.where(rng.random(50) < 0.5, rng.random(50) * 200, np.inf)
    target = rng.exponential(size=50)
    t = hitting_time(target, before, after, edges, switch)
    np.testing.assert_allclose(cumulative_hazard(t, before, after, edges, switch), target, rtol=1e-9)


def test_first_event_is_the_earliest_cause():
    time, cause = first_event(np.array([1.0, 0.1, 1.0]), np.array([[0.001], [0.001], [0.1]]), np.zeros((3, 1)),
                              NO_BANDS, np.inf)
    assert cause == 2 and time == pytest.approx(10.0)


def test_first_event_over_patients_with_a_transplant_switch():
    targets = np.array([[0.6, 0.1], [5.0, 5.0], [5.0, 5.0]])  # causes x patients
    before = np.array([[0.01, 0.01], [0.0, 0.0], [0.0, 0.0]])[..., None]
    after = np.array([[0.001, 0.001], [0.0, 0.0], [0.0, 0.0]])[..., None]
    time, cause = first_event(targets, before, after, NO_BANDS, np.array([50.0, 50.0]))
    np.testing.assert_allclose(time, [150.0, 10.0])
    assert list(cause) == [0, 0]


def test_unit_exponential_targets_are_exponential():
    e = unit_exponential(np.random.default_rng(2).random(20000))
    # Kolmogorov-Smirnov against Exp(1); with a fixed seed p is stable, and would be ~0 if wrong
    assert stats.kstest(e, "expon").pvalue > 0.01


def test_jeffreys_beta_from_counts():
    u = parse_scalar({"beta": [5, 12]}, "f.toml", "k")
    assert u.dist.mean() == pytest.approx(5.5 / 13)
    g = parse_scalar({"gamma": [3, 1000]}, "f.toml", "k")
    assert g.dist.mean() == pytest.approx(3.5 / 1000)


def test_dirichlet_adds_one_half():
    d = parse_dirichlet({"dirichlet": {"a": 7, "b": 2, "c": 0}}, ["a", "b", "c"], "f.toml", "k")
    np.testing.assert_array_equal(d.alpha, [7.5, 2.5, 0.5])
    draw = d.sample(np.random.default_rng(0))
    assert set(draw) == {"a", "b", "c"} and sum(draw.values()) == pytest.approx(1.0)
