"""Competing risks: the Aalen-Johansen estimate of cumulative incidence, and the endpoints it is used on.

With causes k = 1..K and right censoring, at each distinct event time t_j with n_j patients at
risk (time >= t_j; a patient censored at t_j is still at risk there) and d_kj events of cause k,

    CIF_k(t) = sum over t_j <= t of S(t_j-) * d_kj / n_j,    S(t_j) = S(t_j-) * (1 - d_j / n_j),

where S is the Kaplan-Meier estimate of being free of every cause.  With a single cause,
CIF = 1 - Kaplan-Meier.  Times are days from infusion; cause 0 means censored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CENSORED = 0
RELAPSE, NON_RELAPSE_DEATH = 1, 2
TRANSPLANT, EVENT_BEFORE_TRANSPLANT = 1, 2
Table = dict[str, np.ndarray]


@dataclass(frozen=True)
class CumulativeIncidence:
    """Step functions of cumulative incidence: ``cif[k - 1]`` for cause k, at the distinct event times."""

    times: np.ndarray
    cif: np.ndarray  # shape (causes, len(times))
    last_time: float  # the last follow-up time, event or censored
    event_free_at_last: float  # Kaplan-Meier probability of no event at all, at last_time

    def at(self, t: float | np.ndarray, cause: int) -> np.ndarray | float:
        """CIF of ``cause`` at ``t`` days; NaN beyond the last follow-up unless nobody is left event-free."""
        t = np.asarray(t, dtype=float)
        index = np.searchsorted(self.times, t, side="right") - 1
        values = np.where(index >= 0, self.cif[cause - 1][np.maximum(index, 0)] if self.times.size else 0.0, 0.0)
        undefined = (t > self.last_time) & (self.event_free_at_last > 0)
        values = np.where(undefined, np.nan, values)
        return float(values) if values.ndim == 0 else values


def aalen_johansen(time: np.ndarray, cause: np.ndarray, causes: int) -> CumulativeIncidence:
    """Aalen-Johansen cumulative incidence of each of ``causes`` competing causes (codes 1..causes)."""
    time, cause = np.asarray(time, dtype=float), np.asarray(cause, dtype=int)
    if time.size == 0:
        return CumulativeIncidence(np.empty(0), np.zeros((causes, 0)), -np.inf, 1.0)  # nobody: undefined
    events = cause != CENSORED
    event_times, which = np.unique(time[events], return_inverse=True)
    at_risk = time.size - np.searchsorted(np.sort(time), event_times, side="left")
    counts = np.zeros((causes, event_times.size))
    np.add.at(counts, (cause[events] - 1, which), 1.0)
    all_events = counts.sum(axis=0)
    survival_after = np.cumprod(1.0 - all_events / at_risk)
    survival_before = np.concatenate([[1.0], survival_after[:-1]])
    cif = np.cumsum(survival_before * counts / at_risk, axis=1)
    event_free = float(survival_after[-1]) if survival_after.size else 1.0
    return CumulativeIncidence(event_times, cif, float(time.max()), event_free)


def _infused(t: Table) -> np.ndarray:
    return ~np.isnan(t["t_infusion"])


def disease_failure(t: Table) -> np.ndarray:
    """Relapse, or no remission at the assessment (the disease never went): the earlier, NaN if neither."""
    failure = np.where(t["response"] == "no_cr", t["t_response"], np.nan)
    return np.fmin(t["t_relapse"], failure)


def relapse_and_nrm(t: Table) -> tuple[np.ndarray, np.ndarray]:
    """Infused patients' days from infusion to relapse (or no remission) or to a non-relapse death.

    Causes: :data:`RELAPSE` (relapse, or no remission at the assessment), :data:`NON_RELAPSE_DEATH`
    (infection, TMA or transplant death in remission), 0 censored at the end of follow-up.
    """
    failure = disease_failure(t)
    nrm = np.where(np.isin(t["death_cause"], ["infection", "tma", "transplant"]) & np.isnan(failure), t["t_death"], np.nan)
    return _first_of(t, [failure, nrm])


def transplant_competing(t: Table) -> tuple[np.ndarray, np.ndarray]:
    """Infused patients' days from infusion to transplant, or to a relapse or death before it.

    Causes: :data:`TRANSPLANT`, :data:`EVENT_BEFORE_TRANSPLANT` (relapse, no remission, or death,
    which end the chance of a consolidative transplant), 0 censored.
    """
    before = np.fmin(disease_failure(t), t["t_death"])
    transplant = t["t_transplant"]
    before = np.where(np.isnan(transplant) | (before < transplant), before, np.nan)
    return _first_of(t, [transplant, before])


def _first_of(t: Table, event_times: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(time from infusion, cause 1..K or 0) of the first of several event times, for infused patients."""
    stacked = np.stack(event_times)
    filled = np.where(np.isnan(stacked), np.inf, stacked)
    first = np.where(np.isinf(filled.min(axis=0)), np.nan, filled.min(axis=0))
    cause = np.where(np.isnan(first), CENSORED, np.argmin(filled, axis=0) + 1)
    end = np.where(np.isnan(first), t["t_end"], first)
    infused = _infused(t)
    return (end - t["t_infusion"])[infused], cause[infused]
