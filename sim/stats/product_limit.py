"""Risk sets of right-censored follow-up, for many virtual trials at once: the core of the product-limit estimators.

Row r of each 2-D array is one virtual trial and ``mask`` marks the patients in its analysis set
(a single trial is a batch of one row).  Each row's patients are sorted by time, and at the first
of the patients sharing a time the row records how many were at risk then (time >= t) and how many
events of each cause happened then.  Kaplan-Meier (:mod:`sim.stats.kaplan_meier`) and
Aalen-Johansen (:mod:`sim.stats.competing_risks`) are products and sums over these, in the same
floating-point order as ``scipy.stats.ecdf`` and the textbook formulas, so per trial they equal
those estimators exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CENSORED = 0


@dataclass(frozen=True)
class RiskSets:
    """Each row's patients sorted by time, members of the analysis set first.

    Attributes
    ----------
    time : ndarray (trials, patients)
        Sorted times; +inf outside the analysis set.
    member : ndarray of bool
        In the analysis set (all members come before the others in a row).
    first : ndarray of bool
        The first member at its time: where the counts below are kept.
    at_risk : ndarray of float
        Members with time >= t, at ``first`` positions (else 0).
    events : ndarray of float, shape (causes, trials, patients)
        Events of cause k + 1 at that time, at ``first`` positions (else 0).
    size : ndarray of int, shape (trials,)
        Members per row.
    last : ndarray, shape (trials,)
        Each row's last follow-up time (-inf for an empty row).
    """

    time: np.ndarray
    member: np.ndarray
    first: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray
    size: np.ndarray
    last: np.ndarray

    @property
    def all_events(self) -> np.ndarray:
        return self.events.sum(axis=0)

    def count_at_or_before(self, at: np.ndarray) -> np.ndarray:
        """Members with time <= each of ``at``: shape (trials, len(at))."""
        return np.count_nonzero(self.time[:, :, None] <= at[None, None, :], axis=1)


def as_rows(time, code, mask=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """2-D (trials, patients) float times, int codes and bool mask; 1-D input is a batch of one."""
    time, code = np.asarray(time, dtype=float), np.asarray(code).astype(int)
    mask = np.ones(time.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if time.ndim == 1:
        time, code, mask = time[None, :], code[None, :], mask[None, :]
    return time, code, mask


def risk_sets(time: np.ndarray, cause: np.ndarray, mask: np.ndarray, causes: int = 1) -> RiskSets:
    """Sort each row and count, at each distinct time, those at risk and the events of each cause.

    Parameters
    ----------
    time : ndarray, shape (trials, patients)
        Days from the time origin to the event or censoring.
    cause : ndarray of int, shape (trials, patients)
        0 for censored, k in 1..causes for an event of cause k.
    mask : ndarray of bool, shape (trials, patients)
        The patients in each row's analysis set.
    causes : int
        The number of competing causes.
    """
    last = np.max(np.where(mask, time, -np.inf), axis=-1, initial=-np.inf)
    time = np.where(mask, time, np.inf)
    order = np.argsort(time, axis=-1, kind="stable")
    time = np.take_along_axis(time, order, -1)
    cause = np.take_along_axis(np.where(mask, cause, CENSORED), order, -1)
    member = np.take_along_axis(mask, order, -1)
    same_as_next = np.zeros(time.shape, dtype=bool)
    same_as_next[:, :-1] = (time[:, 1:] == time[:, :-1]) & member[:, 1:]
    first = member.copy()
    first[:, 1:] &= ~same_as_next[:, :-1]
    last_of_time = member & ~same_as_next
    size = member.sum(axis=-1)
    at_risk = np.where(first, size[:, None] - np.arange(time.shape[-1]), 0).astype(float)
    events = np.zeros((causes, *time.shape))
    for k in range(causes):
        event = cause == k + 1
        running = np.cumsum(event, axis=-1)
        # events at a time: the running count at its last patient less the count before its first
        events[k][first] = running[last_of_time] - (running - event)[first]
    return RiskSets(time, member, first, at_risk, events, size, last)


def value_at(steps: np.ndarray, count: np.ndarray, before_any: float) -> np.ndarray:
    """A step function kept per sorted position, read after ``count`` members (``before_any`` if none)."""
    index = np.maximum(count - 1, 0)
    values = np.take_along_axis(steps, index, axis=-1) if steps.shape[-1] else np.zeros(count.shape)
    return np.where(count > 0, values, before_any)
