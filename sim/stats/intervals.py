"""The one percentile definition of the project: the inverted empirical CDF, by integer ranks.

The p-quantile of n sorted values x_(1) <= ... <= x_(n) is x_(k) with k = ceil(n p), at least 1:
the smallest value with at least a share p of the sample at or below it (``numpy.quantile``'s
``inverted_cdf`` method).  Every bound is a value some virtual trial produced, so a count's bounds
are whole numbers.  The rank is computed in exact rational arithmetic: in floating point
(1 - 0.95) / 2 is 0.025000000000000022, and ceil(1000 x that) would take the 26th of 1000 values
for the 2.5th percentile instead of the 25th.

The central ``level`` interval is [x_(k_low), x_(k_high)] with k_low = ceil(n (1 - level) / 2)
and k_high = ceil(n (1 + level) / 2); the median is the 0.5-quantile, x_(ceil(n / 2)).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Iterable

import numpy as np

LEVEL = 0.95
MAX_DENOMINATOR = 10**6  # a probability is read as the nearest fraction with at most this denominator


def exact(p: float) -> Fraction:
    """``p`` as the fraction it was meant to be (0.025 is 1/40, not its binary approximation)."""
    return Fraction(p).limit_denominator(MAX_DENOMINATOR)


def rank(n: int, p: float | Fraction) -> int:
    """The 1-based rank of the ``p``-quantile of ``n`` values: ceil(n p), within [1, n].

    Examples
    --------
    >>> rank(1000, 0.025), rank(1000, 0.975), rank(2000, (1 - 0.95) / 2)
    (25, 975, 50)
    """
    if n < 1:
        raise ValueError("a quantile needs at least one value")
    p = p if isinstance(p, Fraction) else exact(p)
    return min(max(math.ceil(n * p), 1), n)


def tails(level: float = LEVEL) -> tuple[Fraction, Fraction]:
    """The lower and upper probabilities of the central ``level`` interval, exactly."""
    level = exact(level)
    return (1 - level) / 2, (1 + level) / 2


def defined(sample: Iterable[float]) -> np.ndarray:
    """The sample as floats, NaN entries dropped."""
    x = np.asarray(sample if isinstance(sample, np.ndarray) else list(sample), dtype=float).ravel()
    return x[~np.isnan(x)]


def quantiles(sample: Iterable[float], probabilities: Iterable[float | Fraction]) -> np.ndarray:
    """Quantiles of ``sample`` (NaN ignored) by the inverted empirical CDF; NaN where nothing is defined."""
    probabilities = list(probabilities)
    x = np.sort(defined(sample))
    if x.size == 0:
        return np.full(len(probabilities), np.nan)
    return np.array([x[rank(x.size, p) - 1] for p in probabilities])


def central_interval(sample: Iterable[float], level: float = LEVEL) -> tuple[float, float]:
    """The central ``level`` interval of ``sample`` (NaN ignored); (NaN, NaN) if nothing is defined."""
    low, high = quantiles(sample, tails(level))
    return float(low), float(high)


def median(sample: Iterable[float]) -> float:
    """The median by the same definition (NaN if nothing is defined)."""
    return float(quantiles(sample, [Fraction(1, 2)])[0])


def median_interval(sample: Iterable[float], level: float = LEVEL) -> tuple[float, float, float]:
    """(median, low, high): the median and the central ``level`` interval."""
    low, high = central_interval(sample, level)
    return median(sample), low, high


def columns_median_interval(values: np.ndarray, level: float = LEVEL) -> np.ndarray:
    """Per column of a (rows, columns) array: median, low and high over the rows that are defined,
    as a (3, columns) array (NaN for a column with no defined row)."""
    values = np.asarray(values, dtype=float)
    return np.array([median_interval(values[:, j], level) for j in range(values.shape[1])]).T.reshape(3, -1)


def interval_mass(sample: Iterable[float], interval: tuple[float, float]) -> float:
    """The share of ``sample`` (NaN ignored) inside ``interval``, bounds included: at least ``level``
    for a central interval, more for a count whose bounds carry ties."""
    x = defined(sample)
    return float(np.mean((x >= interval[0]) & (x <= interval[1]))) if x.size else np.nan
