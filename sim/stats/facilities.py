"""Facility metrics from logged uses: queue waits, time-weighted utilisation, peak occupancy.

Computed for a batch of trials at once (a row per trial; one trial is a batch of one).  The sums
over each row's counted uses are taken in the order numpy sums a 1-D array (pairwise, in blocks of
eight), so a trial's metrics do not depend on the batch it was computed in.
"""

from __future__ import annotations

import numpy as np

METRICS = ("uses", "mean_wait_days", "max_wait_days", "occupied_days", "mean_occupancy", "utilisation",
           "peak_occupancy")
BLOCK = 8  # numpy's pairwise summation adds eight running sums
PAIRWISE_LIMIT = 128  # beyond this numpy splits an array in halves


def facility_metrics(uses: tuple[np.ndarray, np.ndarray, np.ndarray], capacity: float, horizon: float) -> dict[str, float]:
    """Metrics of one facility over [0, horizon] days from its uses' (requested, start, end) arrays."""
    rows = facility_metrics_rows(tuple(np.asarray(a, dtype=float)[None, :] for a in uses),
                                 np.array([capacity], dtype=float), np.array([horizon], dtype=float))
    return {name: float(values[0]) for name, values in rows.items()}


def facility_metrics_rows(uses: tuple[np.ndarray, np.ndarray, np.ndarray], capacity: np.ndarray,
                          horizon: np.ndarray) -> dict[str, np.ndarray]:
    """Metrics of one facility per trial (row) over [0, horizon] days from its uses' (requested, start, end).

    A use whose start is NaN or after the horizon is not counted.
    """
    requested, start, end = (np.asarray(a, dtype=float) for a in uses)
    capacity, horizon = np.broadcast_to(capacity, start.shape[:1]), np.broadcast_to(horizon, start.shape[:1])
    seen = start <= horizon[:, None]
    n = seen.sum(axis=-1)
    waits = start - requested
    occupied = row_sum(np.clip(np.minimum(end, horizon[:, None]) - start, 0, None), seen)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_wait = np.where(n > 0, row_sum(waits, seen) / np.maximum(n, 1), np.nan)
        max_wait = np.where(n > 0, np.max(np.where(seen, waits, -np.inf), axis=-1, initial=-np.inf), np.nan)
        mean_occupancy = np.where(horizon > 0, occupied / horizon, np.nan)
        utilisation = np.where(np.isfinite(capacity) & (horizon > 0), occupied / (capacity * horizon), np.nan)
    return {"uses": n.astype(float), "mean_wait_days": mean_wait, "max_wait_days": max_wait,
            "occupied_days": occupied, "mean_occupancy": mean_occupancy, "utilisation": utilisation,
            "peak_occupancy": peak_occupancy_rows(start, np.minimum(end, horizon[:, None]), seen).astype(float)}


def row_sum(values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Per row, the sum of the kept values, equal to the bit to ``np.sum`` of that row's kept values."""
    order = np.argsort(~keep, axis=-1, kind="stable")
    n = keep.sum(axis=-1)
    packed = np.where(np.arange(values.shape[-1])[None, :] < n[:, None], np.take_along_axis(values, order, -1), 0.0)
    out = np.array([np.sum(row[:k]) for row, k in zip(packed, n)]) if (n > PAIRWISE_LIMIT).any() else None
    if out is not None:
        return out
    packed = np.concatenate([packed, np.zeros((packed.shape[0], PAIRWISE_LIMIT + BLOCK - packed.shape[1]))], axis=-1) \
        if packed.shape[1] < PAIRWISE_LIMIT + BLOCK else packed
    short = np.zeros(len(n))
    for i in range(BLOCK - 1):  # fewer than eight: added one by one from zero
        short = short + np.where(i < n, packed[:, i], 0.0)
    blocks = n // BLOCK
    r = packed[:, :BLOCK].copy()
    for b in range(1, int(blocks.max(initial=0))):
        r += np.where((b < blocks)[:, None], packed[:, b * BLOCK:(b + 1) * BLOCK], 0.0)
    long = ((r[:, 0] + r[:, 1]) + (r[:, 2] + r[:, 3])) + ((r[:, 4] + r[:, 5]) + (r[:, 6] + r[:, 7]))
    for i in range(BLOCK - 1):  # the remainder after the whole blocks, one by one
        index = np.minimum(blocks * BLOCK + i, packed.shape[1] - 1)
        long = long + np.where(i < n % BLOCK, packed[np.arange(len(n)), index], 0.0)
    return np.where(n < BLOCK, short, long)


def peak_occupancy_rows(start: np.ndarray, end: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """Most units in use at once per row; a unit freed at t is free for a use starting at t."""
    if start.shape[-1] == 0:
        return np.zeros(start.shape[0], dtype=int)
    times = np.concatenate([np.where(seen, start, np.inf), np.where(seen, end, np.inf)], axis=-1)
    steps = np.concatenate([seen.astype(int), -seen.astype(int)], axis=-1)
    order = np.lexsort((steps, times), axis=-1)  # releases before starts at the same time
    return np.maximum(np.cumsum(np.take_along_axis(steps, order, -1), axis=-1).max(axis=-1), 0)


def peak_occupancy(start: np.ndarray, end: np.ndarray) -> int:
    """Most units in use at once in one trial."""
    start, end = np.asarray(start, float)[None, :], np.asarray(end, float)[None, :]
    return int(peak_occupancy_rows(start, end, np.ones(start.shape, dtype=bool))[0])
