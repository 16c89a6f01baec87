"""Competing risks: the Aalen-Johansen estimate of cumulative incidence, over a batch of trials.

With causes k = 1..K and right censoring, at each distinct event time t_j with n_j patients at
risk (time >= t_j; a patient censored at t_j is still at risk there) and d_kj events of cause k,

    CIF_k(t) = sum over t_j <= t of S(t_j-) * d_kj / n_j,    S(t_j) = S(t_j-) * (1 - d_j / n_j),

where S is the Kaplan-Meier estimate of being free of every cause.  With a single cause,
CIF = 1 - Kaplan-Meier.  Times are days from infusion; cause 0 means censored.  Row r of each 2-D
array is one virtual trial (1-D arrays are a batch of one); the endpoints are in
:mod:`sim.stats.endpoints`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.stats.endpoints import (CENSORED, EVENT_BEFORE_TRANSPLANT, NON_RELAPSE_DEATH, RELAPSE,  # noqa: F401
                                 TRANSPLANT)
from sim.stats.product_limit import as_rows, risk_sets, value_at


@dataclass(frozen=True)
class CumulativeIncidence:
    """Cumulative incidence of each cause after each sorted position of each row, and when it is defined."""

    time: np.ndarray  # (trials, patients), sorted
    cif: np.ndarray  # (causes, trials, patients)
    size: np.ndarray  # (trials,)
    last: np.ndarray  # (trials,) the last follow-up time, event or censored
    event_free_at_last: np.ndarray  # (trials,) Kaplan-Meier probability of no event at all, at ``last``

    def rows_at(self, t, cause: int) -> np.ndarray:
        """CIF of ``cause`` at ``t`` days per row: (trials,) for a scalar ``t``, else (trials, len(t)).

        NaN for a row with nobody, or beyond its last follow-up unless nobody is left event-free.
        """
        points = np.atleast_1d(np.asarray(t, dtype=float))
        count = np.count_nonzero(self.time[:, :, None] <= points[None, None, :], axis=1)
        values = value_at(self.cif[cause - 1], count, 0.0)
        undefined = (self.size[:, None] == 0) | ((points[None, :] > self.last[:, None])
                                                 & (self.event_free_at_last[:, None] > 0))
        values = np.where(undefined, np.nan, values)
        return values[:, 0] if np.ndim(t) == 0 else values

    def at(self, t, cause: int):
        """CIF of ``cause`` at ``t`` days in a batch of one: a float for a scalar ``t``."""
        values = self.rows_at(t, cause)[0]
        return float(values) if np.ndim(values) == 0 else values


def cumulative_incidence(time, cause, mask, causes: int) -> CumulativeIncidence:
    """Aalen-Johansen cumulative incidence of each of ``causes`` competing causes (codes 1..causes), per row.

    Parameters
    ----------
    time, cause, mask : array_like, shape (trials, patients)
        Follow-up times, the cause that ended each (0: censored), each row's analysis set (None: everyone).
    causes : int
        The number of competing causes.
    """
    time, cause, mask = as_rows(time, cause, mask)
    sets = risk_sets(time, cause, mask, causes)
    at_risk = np.where(sets.first, sets.at_risk, 1.0)
    after = np.cumprod(np.where(sets.first, 1.0 - sets.all_events / at_risk, 1.0), axis=-1)
    before = np.concatenate([np.ones((after.shape[0], 1)), after[:, :-1]], axis=-1)
    cif = np.cumsum(np.where(sets.first, before * sets.events / at_risk, 0.0), axis=-1)
    event_free = after[:, -1] if after.shape[-1] else np.ones(after.shape[0])
    return CumulativeIncidence(sets.time, cif, sets.size, sets.last, event_free)


def aalen_johansen(time: np.ndarray, cause: np.ndarray, causes: int) -> CumulativeIncidence:
    """Aalen-Johansen cumulative incidence of one trial's patients (a batch of one)."""
    time = np.asarray(time, dtype=float)
    return cumulative_incidence(time[None, :], np.asarray(cause, dtype=int)[None, :], None, causes)
