"""Where a reported value sits among simulated values: its predictive position and the central band.

For simulated values X (virtual trials) and a reported value r, the position of r is the
interval [P(X < r), P(X <= r)]: a point for a continuous figure, an interval of width P(X = r)
for a count that ties with many virtual trials.  It is summarised by the **mid-p percentile**,
100 (P(X < r) + P(X = r) / 2), the middle of that interval: the expected value of the randomised
probability integral transform, so for a value drawn from the simulated distribution itself it
averages 50 and falls inside a central band of width w with chance close to w (exactly w for a
continuous figure).

**Inside the central band** [20, 80] means 20 <= mid-p <= 80.  The alternative reading, "r lies
between the 20th and the 80th percentile of X" by the inverted empirical CDF (equivalently, the
position interval reaches into the band), accepts a count whenever any of its probability mass
touches the band: for a count whose values 0, 1 and 2 hold 90% of the simulated trials, every one
of them would be "inside", a central 90% band rather than 60%.  The mid-p reading keeps the
band's width and is the percentile ``cartsim validate`` has always printed.

Monte Carlo error, over n defined simulated values (a multinomial sample): P(X < r) and
P(X <= r) each have standard error sqrt(p (1 - p) / n); the mid-p share has
sqrt((a (1 - a) + b (1 - b) + 2 a (1 - b)) / (4 n)) with a = P(X < r) and b = P(X <= r) (the
covariance of the indicators of X < r and X <= r is a (1 - b) / n).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

from sim.stats.intervals import defined

BAND = (0.2, 0.8)  # the central band of the acceptance criterion: 20th to 80th percentile
INSIDE, OUTSIDE = "inside", "outside"
SETTLED = 2.0  # a verdict whose mid-p lies nearer an edge than this many Monte Carlo SEs is not settled


@dataclass(frozen=True)
class Position:
    """The position of a reported value among ``n`` simulated values (shares in [0, 1]).

    Attributes
    ----------
    below, at_or_below : float
        P(X < r) and P(X <= r) over the defined simulated values.
    n : int
        How many simulated values are defined.
    """

    below: float
    at_or_below: float
    n: int

    @property
    def mid_p(self) -> float:
        """The middle of the position interval, (P(X < r) + P(X <= r)) / 2."""
        return (self.below + self.at_or_below) / 2

    @property
    def mid_p_se(self) -> float:
        """Monte Carlo standard error of :attr:`mid_p` from the ``n`` simulated values (NaN if n = 0)."""
        if self.n == 0:
            return np.nan
        a, b = self.below, self.at_or_below
        return float(np.sqrt(max(a * (1 - a) + b * (1 - b) + 2 * a * (1 - b), 0.0) / (4 * self.n)))


def position(sample: Iterable[float], value: float) -> Position:
    """The position of ``value`` in ``sample`` (NaN entries ignored; shares NaN if none is defined).

    Examples
    --------
    >>> p = position([0, 1, 1, 2], 1)
    >>> p.below, p.at_or_below, p.mid_p
    (0.25, 0.75, 0.5)
    """
    x = defined(sample)
    if x.size == 0:
        return Position(np.nan, np.nan, 0)
    return Position(float(np.count_nonzero(x < value) / x.size), float(np.count_nonzero(x <= value) / x.size), int(x.size))


def central_band(where: Position, band: tuple[float, float] = BAND) -> str:
    """:data:`INSIDE` if the mid-p share lies in ``band`` (edges included), else :data:`OUTSIDE`; '' if undefined.

    Examples
    --------
    >>> central_band(position([0, 1, 1, 2], 1)), central_band(position([0, 0, 0, 0, 1], 1))
    ('inside', 'outside')
    """
    if where.n == 0:
        return ""
    return INSIDE if band[0] <= where.mid_p <= band[1] else OUTSIDE


def band_margin(where: Position, band: tuple[float, float] = BAND) -> float:
    """Distance of the mid-p share from the nearer edge of ``band``, in Monte Carlo standard errors:
    positive inside, negative outside; +-inf when the standard error is 0 (every value equal), NaN if undefined."""
    if where.n == 0:
        return np.nan
    gap = min(where.mid_p - band[0], band[1] - where.mid_p)
    se = where.mid_p_se
    if se == 0:
        return float(np.inf if gap >= 0 else -np.inf)
    return float(gap / se)
