"""Facility metrics from logged uses: queue waits, time-weighted utilisation, peak occupancy."""

from __future__ import annotations

import numpy as np


def facility_metrics(uses: tuple[np.ndarray, np.ndarray, np.ndarray], capacity: float, horizon: float) -> dict[str, float]:
    """Metrics of one facility over [0, horizon] days from its uses' (requested, start, end) arrays.

    A use whose start is NaN or after the horizon is not counted.
    """
    requested, start, end = (np.asarray(a, dtype=float) for a in uses)
    seen = start <= horizon
    requested, start, end = requested[seen], start[seen], end[seen]
    waits = start - requested
    occupied = np.clip(np.minimum(end, horizon) - start, 0, None).sum()
    return {
        "uses": float(len(start)),
        "mean_wait_days": float(waits.mean()) if len(start) else np.nan,
        "max_wait_days": float(waits.max()) if len(start) else np.nan,
        "occupied_days": float(occupied),
        "mean_occupancy": float(occupied / horizon) if horizon > 0 else np.nan,
        "utilisation": float(occupied / (capacity * horizon)) if np.isfinite(capacity) and horizon > 0 else np.nan,
        "peak_occupancy": float(peak_occupancy(start, np.minimum(end, horizon))),
    }


def peak_occupancy(start: np.ndarray, end: np.ndarray) -> int:
    """Most units in use at once; a unit freed at t is free for a use starting at t."""
    if len(start) == 0:
        return 0
    times = np.concatenate([start, end])
    steps = np.concatenate([np.ones(len(start)), -np.ones(len(end))])
    order = np.lexsort((steps, times))  # releases before starts at the same time
    return int(np.cumsum(steps[order]).max())
