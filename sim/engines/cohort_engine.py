"""The cohort engine: the same trial as the SimPy engine, computed over arrays.

With unlimited facilities nobody queues, and the engine is the shared timeline applied to the
per-patient draws: the same records as the SimPy engine, exactly.  Where a facility is limited,
its queue is served first come, first served, one patient at a time in the order of requests,
with a patient leaving the manufacturing queue on progression and the transplant queue on a late
event, as in the SimPy engine.
"""

from __future__ import annotations

import heapq
from typing import Callable

import numpy as np

from sim.model import timeline as T
from sim.engines.rows import queues_by_row
from sim.inputs.params import Params
from sim.model.records import FACILITIES


def fifo_queue(requested: np.ndarray, hold: np.ndarray, leave_at: np.ndarray, capacity: int,
               release_by: np.ndarray | None = None,
               release_at: Callable[[int, float], float] | None = None) -> np.ndarray:
    """Start of service in a first-come-first-served queue with ``capacity`` servers.

    Patients request at ``requested`` (NaN: never) and leave the queue unserved at ``leave_at`` if
    no server is free by then (start NaN); a served patient holds a server for ``hold`` days, or
    until ``release_by`` if that is earlier, or, given ``release_at``, until ``release_at(i, start)``
    (a release that depends on when service began).  Ties in request time are served in index order.
    """
    start = np.full(len(requested), np.nan)
    free: list[float] = [0.0] * capacity  # when each server is next free (a heap)
    for i in np.argsort(requested, kind="stable"):
        if np.isnan(requested[i]):
            break
        begins = max(requested[i], free[0])
        if leave_at[i] < begins:
            continue
        start[i] = begins
        if release_at is not None:
            heapq.heapreplace(free, release_at(i, begins))
            continue
        end = begins + hold[i]
        heapq.heapreplace(free, end if release_by is None else min(end, release_by[i]))
    return start


def cohort_queues(params: Params, d: dict[str, np.ndarray], p: dict[str, np.ndarray]):
    """The queues' outcomes over arrays: (mfg_start, icu_start, transplant), a row per trial if the
    arrays hold several trials.  ``icu_start`` or ``transplant`` is None where that facility is
    unlimited (no queue)."""
    limited = [not np.all(np.isinf(params[f"resources.{name}"])) for name in FACILITIES]
    if d["arrival"].ndim == 2 and any(limited):
        return queues_by_row(params, d, p, lambda r: cohort_queues)
    mfg_start = _manufacturing(params, d, p) if limited[0] else T.unlimited_mfg_start(p)
    if not (limited[1] or limited[2]):
        return mfg_start, None, None
    t_inf = T.pre_infusion(d, p, mfg_start)["t_infusion"]
    icu = _intensive_care(params, d, t_inf) if limited[1] else None
    beds = _transplant(params, p, t_inf) if limited[2] else None
    return mfg_start, icu, beds


def _manufacturing(params: Params, d, p) -> np.ndarray:
    capacity = params["resources.manufacturing_slots"]
    requested = np.where(p["progression_at"] < p["ready"], np.nan, p["ready"])
    # a slot is held to the end of manufacturing, or released on withdrawal during it
    return fifo_queue(requested, d["manufacturing_days"], p["progression_at"], int(capacity), p["progression_at"])


def _intensive_care(params: Params, d, t_inf) -> np.ndarray:
    capacity = params["resources.icu_beds"]
    onset = np.where(T.needs_icu(d, t_inf), T.crs_onset(d, t_inf), np.nan)
    # a patient leaves the queue when the CRS ends before a bed frees; a bed is freed at the end of the CRS,
    # or at death from toxicity in it
    return fifo_queue(onset, d["crs_duration_days"], T.icu_leave_at(d, t_inf), int(capacity),
                      release_at=lambda i, start: T.icu_release_at(params, d, i, t_inf[i], start))


def _transplant(params: Params, p, t_inf) -> np.ndarray:
    capacity = params["resources.transplant_beds"]
    response = T.response_time(params, t_inf)
    requested = np.where(np.isfinite(p["transplant_planned"]), response + p["transplant_planned"], np.nan)
    bed_days = np.full(len(requested), params["transplant.bed_days"])
    return fifo_queue(requested, bed_days, response + p["event_without_transplant"], int(capacity))
