"""Kaplan-Meier estimates on censored follow-up, through scipy.stats.ecdf."""

from __future__ import annotations

import numpy as np
from scipy import stats

DAYS_PER_MONTH = 365.25 / 12


def km_survival_at(time: np.ndarray, event: np.ndarray, at: float | np.ndarray) -> np.ndarray | float:
    """Kaplan-Meier survival at ``at`` days; NaN with no patient or where follow-up ends earlier."""
    time, event = np.asarray(time, float), np.asarray(event, bool)
    at = np.asarray(at, dtype=float)
    if time.size == 0:
        value = np.full(at.shape, np.nan)
    elif not event.any():
        value = np.where(at <= time.max(), 1.0, np.nan)
    else:
        sf = stats.ecdf(stats.CensoredData(uncensored=time[event], right=time[~event])).sf
        value = np.asarray(sf.evaluate(at), dtype=float)
        # beyond the last follow-up the estimate is undefined unless everyone has had the event
        value = np.where((at > time.max()) & (value > 0), np.nan, value)
    return float(value) if value.ndim == 0 else value


def km_median(time: np.ndarray, event: np.ndarray) -> float:
    """Kaplan-Meier median: the first time survival falls to 0.5 or below; NaN if it never does."""
    time, event = np.asarray(time, float), np.asarray(event, bool)
    if not event.any():
        return np.nan
    sf = stats.ecdf(stats.CensoredData(uncensored=time[event], right=time[~event])).sf
    below = np.flatnonzero(sf.probabilities <= 0.5)
    return float(sf.quantiles[below[0]]) if below.size else np.nan


def reverse_km_median_followup(time: np.ndarray, died: np.ndarray) -> float:
    """Median follow-up by reverse Kaplan-Meier: censoring is the event, deaths are censored."""
    return km_median(time, ~np.asarray(died, bool))
