"""The one percentile definition: exact ranks at n = 1000 and 2000, whole-number bounds for counts.

The worked answers: with n values 1..n, the p-quantile by the inverted empirical CDF is the
ceil(n p)-th, so the 2.5th and 97.5th percentiles of 1..1000 are 25 and 975, of 1..2000 are 50 and
1950, and the median of 1..1000 is the 500th value.  In floating point (1 - 0.95) / 2 is
0.025000000000000022, which made the 26th value the 2.5th percentile of 1000.
"""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.stats.intervals import central_interval, interval_mass, median, median_interval, quantiles, rank


@pytest.mark.parametrize("n, low, high", [(1000, 25, 975), (2000, 50, 1950)])
def test_the_central_95_interval_takes_the_ranks_ceil_n_p(n, low, high):
    values = np.random.default_rng(0).permutation(np.arange(1.0, n + 1))
    assert central_interval(values) == (low, high)
    assert central_interval(values, level=0.95) == tuple(np.quantile(values, [0.025, 0.975], method="inverted_cdf"))
    assert rank(n, (1 - 0.95) / 2) == low  # the floating-point error no longer moves the rank


def test_the_median_and_any_quantile_follow_the_same_rule():
    assert median(np.arange(1.0, 1001)) == 500
    assert median([3.0, 1.0, 2.0]) == 2
    assert list(quantiles(np.arange(1.0, 101), [0.1, 0.9])) == [10, 90]
    assert median_interval([np.nan, 4.0, 4.0]) == (4, 4, 4)  # NaN ignored
    assert np.isnan(median([np.nan]))


def test_a_count_gets_whole_number_bounds_and_its_interval_holds_at_least_95_percent():
    counts = np.random.default_rng(1).binomial(12, 0.4, size=999).astype(float)
    mid, low, high = median_interval(counts)
    assert all(float(v).is_integer() for v in (mid, low, high))
    assert interval_mass(counts, (low, high)) >= 0.95


def test_the_run_table_gives_counts_whole_number_bounds(cll1):
    """The run table once interpolated between trials, giving bounds such as 1.98 for a count."""
    summary = sim.run_trials(cll1, trials=150, seed=2).summary()
    for row in summary.rows():
        if not np.isnan(row["of"]) and row["trials_defined"]:
            assert all(float(row[c]).is_integer() for c in ("sim_median", "sim_low95", "sim_high95")), row
            assert row["sim_high95"] <= row["of"], row  # compared at the reported denominator
