"""A reported value's position among simulated values, and the central 20-80 band, on made-up samples.

The worked answers: in [0, 1, 1, 2, 2, 2, 3, 5] the value 2 has 3 of 8 values below it and 6 of 8
at or below it, so its position spans [0.375, 0.75] and its mid-p percentile is 56.25.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.stats.intervals import quantiles
from sim.stats.predictive_position import INSIDE, OUTSIDE, band_margin, central_band, position

SAMPLE = [0, 1, 1, 2, 2, 2, 3, 5]  # eight values with ties, as counts have


@pytest.mark.parametrize("value, below, at_or_below", [
    (2, 3 / 8, 6 / 8),   # tied with three values: the position is an interval
    (0, 0, 1 / 8),       # the minimum
    (4, 7 / 8, 7 / 8),   # between values: a point
    (5, 7 / 8, 1),       # the maximum
    (-1, 0, 0), (6, 1, 1),
])
def test_the_position_of_a_count_spans_its_own_probability_mass(value, below, at_or_below):
    where = position(SAMPLE, value)
    assert (where.below, where.at_or_below, where.n) == (below, at_or_below, 8)
    assert where.mid_p == pytest.approx((below + at_or_below) / 2)


def test_undefined_trials_are_left_out_and_an_empty_sample_gives_no_verdict():
    where = position([np.nan, 1, 3, np.nan], 3)
    assert (where.below, where.at_or_below, where.n) == (0.5, 1.0, 2)
    empty = position([np.nan, np.nan], 1)
    assert empty.n == 0 and np.isnan(empty.mid_p) and np.isnan(empty.mid_p_se)
    assert central_band(empty) == "" and np.isnan(band_margin(empty))


@pytest.mark.parametrize("sample, value, expected", [
    ([0] * 4 + [1] * 6, 0, INSIDE),     # mid-p exactly 0.20: the edge is inside
    ([0] * 6 + [1] * 4, 1, INSIDE),     # mid-p exactly 0.80
    ([0] * 3 + [1] * 7, 0, OUTSIDE),    # mid-p 0.15, although 0 is the 20th percentile
    ([0] * 6 + [1] * 4, 2, OUTSIDE),    # above every simulated value: 1.0
])
def test_the_band_includes_its_edges(sample, value, expected):
    assert central_band(position(sample, value)) == expected


def test_a_count_at_the_80th_percentile_with_most_mass_below_is_outside():
    """The reading chosen: mid-p, not 'between the 20th and 80th percentiles'.  Here P(X = 2) = 0.11 sits
    across the 80th percentile, so the quantile reading would call 2 inside; its mid-p is 84.5: outside."""
    sample = np.repeat([0, 1, 2, 3], [45, 34, 11, 10])
    assert quantiles(sample, [0.2, 0.8]).tolist() == [0, 2]  # 2 is the 80th percentile
    where = position(sample, 2)
    assert (where.below, where.at_or_below) == (0.79, 0.90)
    assert where.mid_p == pytest.approx(0.845) and central_band(where) == OUTSIDE
    assert central_band(position(sample, 1)) == INSIDE and central_band(position(sample, 0)) == INSIDE


def test_the_margin_counts_standard_errors_from_the_nearer_edge_signed():
    where = position(np.repeat([0, 1, 2, 3], [45, 34, 11, 10]), 2)
    assert band_margin(where) == pytest.approx((0.8 - 0.845) / where.mid_p_se)  # negative: outside
    inside = position(np.repeat([0, 1, 2, 3], [45, 34, 11, 10]), 1)  # mid-p 0.62: 0.18 below the top edge
    assert band_margin(inside) == pytest.approx((0.8 - 0.62) / inside.mid_p_se)  # positive: inside
    assert band_margin(position([19] * 50, 19)) == np.inf  # every trial reproduces it: mid-p 0.5, no error


def test_the_mid_p_standard_error_matches_its_spread_over_repeated_runs():
    """4,000 simulated runs of 300 values from a known count distribution, seed 0: the standard deviation of
    the mid-p estimate equals the multinomial formula within 4 standard errors of a standard deviation from
    4,000 replicates (relative SE 1/sqrt(2 x 3999) = 0.011).  The formula without the covariance term is off
    by far more, so the test tells the two apart."""
    rng = np.random.default_rng(0)
    pmf = np.array([0.45, 0.34, 0.11, 0.10])
    runs = rng.choice(4, p=pmf, size=(4000, 300))
    estimates = np.array([position(run, 2).mid_p for run in runs])
    a, b, n = pmf[:2].sum(), pmf[:3].sum(), 300
    formula = position(np.repeat([0, 1, 2, 3], [45, 34, 11, 10]), 2)  # a = 0.79, b = 0.90 exactly
    assert (formula.below, formula.at_or_below) == pytest.approx((a, b))
    expected = np.sqrt((a * (1 - a) + b * (1 - b) + 2 * a * (1 - b)) / (4 * n))
    assert formula.mid_p_se == pytest.approx(np.sqrt((a * (1 - a) + b * (1 - b) + 2 * a * (1 - b)) / (4 * 100)))
    tolerance = 4 / np.sqrt(2 * (len(runs) - 1))
    assert abs(estimates.std(ddof=1) / expected - 1) < tolerance
    without_covariance = np.sqrt((a * (1 - a) + b * (1 - b)) / (4 * n))
    assert abs(without_covariance / expected - 1) > 2 * tolerance
