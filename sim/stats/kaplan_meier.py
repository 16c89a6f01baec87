"""Kaplan-Meier survival, its median and the reverse Kaplan-Meier median follow-up, over a batch of trials.

Row r of ``time``, ``event`` and ``mask`` is one virtual trial (1-D arrays are a batch of one).
At each distinct time with n at risk and d events, S(t) = S(t-) * (n - d) / n, exactly as
``scipy.stats.ecdf`` computes it; ``tests/stats/test_survival.py`` checks both against scipy and
lifelines.  An estimate beyond a row's last follow-up is NaN unless everyone has had the event,
and a row with nobody in its analysis set is NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.stats.product_limit import RiskSets, as_rows, risk_sets, value_at

DAYS_PER_MONTH = 365.25 / 12


def _survival_steps(sets: RiskSets) -> np.ndarray:
    """S(t) after each sorted position of each row.

    As in ``scipy.stats.ecdf``, a row with no censoring takes the empirical form 1 - (events so
    far) / n, which equals the product to rounding.
    """
    d = sets.all_events
    factor = np.divide(sets.at_risk - d, sets.at_risk, out=np.ones_like(d), where=sets.first)
    product = np.cumprod(factor, axis=-1)
    uncensored = d.sum(axis=-1) == sets.size
    if not uncensored.any():
        return product
    empirical = 1 - np.cumsum(d, axis=-1) / np.maximum(sets.size, 1)[:, None]
    return np.where(uncensored[:, None], empirical, product)


@dataclass(frozen=True)
class KaplanMeier:
    """Kaplan-Meier fitted to each row of a batch, read at any times with :meth:`at` (fitted once, read often)."""

    sets: RiskSets
    steps: np.ndarray

    @classmethod
    def fit(cls, time, event, mask=None) -> "KaplanMeier":
        """Fit each row: follow-up times, whether each ended in the event, the analysis set (None: everyone)."""
        sets = risk_sets(*as_rows(time, event, mask))
        return cls(sets, _survival_steps(sets))

    def at(self, at) -> np.ndarray:
        """Survival at ``at`` days: shape (trials,) for a scalar ``at``, else (trials, len(at))."""
        points = np.atleast_1d(np.asarray(at, dtype=float))
        value = value_at(self.steps, self.sets.count_at_or_before(points), 1.0)
        undefined = (self.sets.size[:, None] == 0) | ((points[None, :] > self.sets.last[:, None]) & (value > 0))
        value = np.where(undefined, np.nan, value)
        return value[:, 0] if np.ndim(at) == 0 else value


def survival_at(time, event, mask, at) -> np.ndarray:
    """Kaplan-Meier survival at ``at`` days: shape (trials,) for a scalar ``at``, else (trials, len(at)).

    Parameters
    ----------
    time, event, mask : array_like, shape (trials, patients)
        Follow-up times, whether each ended in the event, each row's analysis set (None: everyone).
    at : float or array_like
        Days since the time origin.
    """
    return KaplanMeier.fit(time, event, mask).at(at)


def median_time(time, event, mask=None) -> np.ndarray:
    """Kaplan-Meier median per row: the first time survival falls to 0.5 or below; NaN if it never does."""
    time, event, mask = as_rows(time, event, mask)
    sets = risk_sets(time, event, mask)
    below = sets.member & (_survival_steps(sets) <= 0.5)
    first = np.argmax(below, axis=-1)
    return np.where(below.any(axis=-1), np.take_along_axis(sets.time, first[:, None], -1)[:, 0], np.nan)


def reverse_median_followup(time, died, mask=None) -> np.ndarray:
    """Median follow-up per row by reverse Kaplan-Meier: censoring is the event, deaths are censored."""
    return median_time(time, ~np.asarray(died, bool), mask)


def km_survival_at(time: np.ndarray, event: np.ndarray, at: float | np.ndarray) -> np.ndarray | float:
    """Kaplan-Meier survival of one trial at ``at`` days (a batch of one)."""
    value = survival_at(np.asarray(time, float)[None, :], np.asarray(event, bool)[None, :], None, at)[0]
    return float(value) if np.ndim(value) == 0 else value


def km_median(time: np.ndarray, event: np.ndarray) -> float:
    """Kaplan-Meier median of one trial (a batch of one)."""
    return float(median_time(np.asarray(time, float)[None, :], np.asarray(event, bool)[None, :])[0])


def reverse_km_median_followup(time: np.ndarray, died: np.ndarray) -> float:
    """Median follow-up of one trial by reverse Kaplan-Meier (a batch of one)."""
    return km_median(time, ~np.asarray(died, bool))
