"""The batch estimators, row by row, against scipy and lifelines as oracles.

Kaplan-Meier (survival and median), reverse Kaplan-Meier and Aalen-Johansen are computed over a
batch of trials at once (sim.stats.kaplan_meier, sim.stats.competing_risks).  Each row is checked
against scipy.stats.ecdf and lifelines fitted on that row alone.  Tolerance 1e-12: the estimators
are products and sums of at most a few dozen factors, so only rounding separates them; against
scipy the values are equal to the bit, which is what keeps a run's output unchanged.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from sim.stats.competing_risks import aalen_johansen, cumulative_incidence
from sim.stats.kaplan_meier import median_time, reverse_median_followup, survival_at

lifelines = pytest.importorskip("lifelines")
AT = np.array([0.0, 2.0, 3.5, 5.0, 9.0])


def rows_strategy():
    """Small trials with tied integer times, a few causes, and patients outside the analysis set."""
    cell = st.tuples(st.integers(0, 6), st.integers(0, 2), st.booleans())
    return st.lists(st.lists(cell, min_size=1, max_size=9), min_size=1, max_size=5).map(
        lambda rows: [row + [(0, 0, False)] * (9 - len(row)) for row in rows])


def as_arrays(rows):
    a = np.array(rows, dtype=float)
    return a[..., 0], a[..., 1].astype(int), a[..., 2].astype(bool)


def scipy_survival(time, event, at):
    """scipy's Kaplan-Meier at ``at``, NaN beyond the last follow-up unless survival reached 0."""
    if time.size == 0:
        return np.full(at.shape, np.nan)
    sf = stats.ecdf(stats.CensoredData(uncensored=time[event], right=time[~event])).sf
    value = np.asarray(sf.evaluate(at), dtype=float)
    return np.where((at > time.max()) & (value > 0), np.nan, value)


@settings(max_examples=100, deadline=None)
@given(rows_strategy())
def test_kaplan_meier_equals_scipy_on_each_row_to_the_bit(rows):
    time, cause, mask = as_arrays(rows)
    batch = survival_at(time, cause > 0, mask, AT)
    for r in range(len(rows)):
        expected = scipy_survival(time[r][mask[r]], cause[r][mask[r]] > 0, AT)
        np.testing.assert_array_equal(batch[r], expected)


@settings(max_examples=25, deadline=None)
@given(rows_strategy())
def test_kaplan_meier_and_its_median_equal_lifelines_on_each_row(rows):
    time, cause, mask = as_arrays(rows)
    time = time + 1  # lifelines starts its curve at time 0 with survival 1
    survival, median = survival_at(time, cause > 0, mask, AT), median_time(time, cause > 0, mask)
    for r in range(len(rows)):
        t, e = time[r][mask[r]], cause[r][mask[r]] > 0
        if t.size == 0:
            assert np.isnan(survival[r]).all() and np.isnan(median[r])
            continue
        fit = lifelines.KaplanMeierFitter().fit(t, e)
        defined = ~np.isnan(survival[r])
        np.testing.assert_allclose(survival[r][defined], fit.survival_function_at_times(AT[defined]).to_numpy(),
                                   rtol=1e-12, atol=1e-12)
        if np.any(np.isclose(fit.survival_function_.to_numpy(), 0.5, rtol=0, atol=1e-12)):
            continue  # lifelines takes the median where survival falls below 0.5, this project at or below
        expected = fit.median_survival_time_
        assert (np.isnan(median[r]) and np.isinf(expected)) or median[r] == pytest.approx(expected, abs=1e-12)


def test_reverse_kaplan_meier_median_equals_lifelines_with_the_events_swapped():
    rng = np.random.default_rng(3)
    time = np.round(rng.exponential(20, (6, 40)), 0)
    died = rng.random((6, 40)) < 0.4
    batch = reverse_median_followup(time, died)
    for r in range(6):
        expected = lifelines.KaplanMeierFitter().fit(time[r], ~died[r]).median_survival_time_
        assert batch[r] == pytest.approx(expected, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(rows_strategy())
def test_cumulative_incidence_of_each_row_equals_the_row_alone(rows):
    time, cause, mask = as_arrays(rows)
    together = cumulative_incidence(time, cause, mask, 2)
    for r in range(len(rows)):
        alone = aalen_johansen(time[r][mask[r]], cause[r][mask[r]], 2)
        for of in (1, 2):
            np.testing.assert_array_equal(together.rows_at(AT, of)[r], alone.at(AT, of))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_aalen_johansen_equals_lifelines(seed):
    rng = np.random.default_rng(seed)
    time = rng.exponential(10, (4, 50))  # continuous: lifelines would jitter tied times
    cause = rng.choice([0, 1, 2], size=(4, 50), p=[0.3, 0.4, 0.3])
    grid = np.linspace(0.5, 15, 30)
    batch = cumulative_incidence(time, cause, None, 2)
    for r in range(4):
        for of in (1, 2):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit = lifelines.AalenJohansenFitter(calculate_variance=False).fit(time[r], cause[r], event_of_interest=of)
            steps = fit.cumulative_density_
            expected = steps.iloc[np.searchsorted(steps.index.to_numpy(), grid, side="right") - 1, 0].to_numpy()
            defined = ~np.isnan(batch.rows_at(grid, of)[r])
            np.testing.assert_allclose(batch.rows_at(grid, of)[r][defined], expected[defined], rtol=1e-12, atol=1e-12)
