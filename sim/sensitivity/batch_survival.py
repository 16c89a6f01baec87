"""Kaplan-Meier survival and Aalen-Johansen cumulative incidence at one time, for many trials at once.

A sensitivity analysis evaluates an outcome such as OS at 12 months on tens of thousands of virtual
trials; one scipy call per trial would cost more than simulating the trials.  Here row r of each
2-D array is one virtual trial, and ``mask`` marks the patients in that trial's analysis set.

Ties: within a row, the events at one time are taken one at a time, before the censorings at that
time, each with its own number at risk n - i.  The factors telescope,
(1 - 1/n)(1 - 1/(n-1))...(1 - 1/(n-d+1)) = 1 - d/n, and each tied event adds S(t-)/n to the
cumulative incidence of its cause, so the results are the usual estimators (and equal, to rounding,
:func:`sim.stats.kaplan_meier.km_survival_at` and :meth:`sim.stats.competing_risks.CumulativeIncidence.at`, which
``tests/test_sensitivity_outcomes.py`` checks trial by trial).  As there, an estimate beyond the
last follow-up time of a row is NaN unless nobody in the row is left event-free, and a row with
nobody in its analysis set is NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CENSORED = 0


@dataclass(frozen=True)
class SortedRows:
    """Each row's patients in time order (events before censorings at a tie), with their hazards.

    ``time`` and ``cause`` are sorted per row, patients outside the analysis set last (time +inf,
    cause 0); ``hazard`` is 1 / (number at risk) at an event and 0 otherwise; ``size`` is the
    number of patients in each row's analysis set and ``last`` its last follow-up time.
    """

    time: np.ndarray
    cause: np.ndarray
    hazard: np.ndarray
    size: np.ndarray
    last: np.ndarray


def sort_rows(time: np.ndarray, cause: np.ndarray, mask: np.ndarray) -> SortedRows:
    """Sort each row's patients for the product-limit estimators.

    Parameters
    ----------
    time : ndarray, shape (trials, patients)
        Days from the time origin to the event or censoring.
    cause : ndarray of int, shape (trials, patients)
        0 for censored, k >= 1 for an event of cause k.
    mask : ndarray of bool, shape (trials, patients)
        The patients in each trial's analysis set.

    Returns
    -------
    SortedRows
    """
    last = np.max(np.where(mask, time, -np.inf), axis=-1, initial=-np.inf)
    time = np.where(mask, time, np.inf)
    cause = np.where(mask, cause, CENSORED).astype(int)
    order = np.lexsort((cause == CENSORED, time), axis=-1)
    time, cause = np.take_along_axis(time, order, -1), np.take_along_axis(cause, order, -1)
    size = mask.sum(axis=-1)
    at_risk = size[:, None] - np.arange(time.shape[-1])
    hazard = np.where(cause != CENSORED, 1.0 / np.maximum(at_risk, 1), 0.0)
    return SortedRows(time, cause, hazard, size, last)


def km_at(time: np.ndarray, event: np.ndarray, mask: np.ndarray, at: float) -> np.ndarray:
    """Kaplan-Meier survival at ``at`` days, one value per row.

    Parameters
    ----------
    time, event, mask : ndarray, shape (trials, patients)
        Follow-up times, whether each ended in the event, and each row's analysis set.
    at : float
        Days since the time origin.

    Returns
    -------
    ndarray, shape (trials,)
        NaN for a row with nobody in its analysis set, or when ``at`` lies beyond the row's last
        follow-up time while its survival is still above zero.
    """
    rows = sort_rows(time, np.asarray(event, dtype=int), mask)
    survival = np.prod(np.where(rows.time <= at, 1.0 - rows.hazard, 1.0), axis=-1)
    undefined = (rows.size == 0) | ((at > rows.last) & (survival > 0))
    return np.where(undefined, np.nan, survival)


def cif_at(time: np.ndarray, cause: np.ndarray, mask: np.ndarray, at: float, of: int) -> np.ndarray:
    """Aalen-Johansen cumulative incidence of cause ``of`` at ``at`` days, one value per row.

    Parameters
    ----------
    time, cause, mask : ndarray, shape (trials, patients)
        Follow-up times, the cause that ended each (0: censored), and each row's analysis set.
    at : float
        Days since the time origin.
    of : int
        The cause, 1 or more.

    Returns
    -------
    ndarray, shape (trials,)
        NaN for a row with nobody in its analysis set, or when ``at`` lies beyond the row's last
        follow-up time while some of the row is still event-free.
    """
    rows = sort_rows(time, cause, mask)
    after = np.cumprod(1.0 - rows.hazard, axis=-1)
    before = np.concatenate([np.ones((after.shape[0], 1)), after[:, :-1]], axis=-1)
    incidence = np.sum(np.where((rows.cause == of) & (rows.time <= at), before * rows.hazard, 0.0), axis=-1)
    event_free = after[:, -1] if after.shape[-1] else np.ones(after.shape[0])
    undefined = (rows.size == 0) | ((at > rows.last) & (event_free > 0))
    return np.where(undefined, np.nan, incidence)
