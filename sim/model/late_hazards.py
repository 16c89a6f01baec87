"""Late events as competing risks with piecewise-constant hazards that change at transplant.

Time since infusion is cut into bands (edges in the params file); each cause has a rate per band
before a transplant and another after it.  Each patient carries, per cause, a unit-exponential
target E (drawn once, from its own stream); the cause happens when its cumulative hazard reaches
E.  The cumulative hazard is piecewise linear between the knots (band edges and the transplant
day), so the time is exact, and a patient's luck is the same whatever the hazards, the band
shape or the transplant time (common random numbers).
"""

from __future__ import annotations

import numpy as np

BIG = 1e12  # a knot standing for "never" (an infinite transplant day) that keeps the arithmetic finite


def unit_exponential(u: np.ndarray) -> np.ndarray:
    """Unit-exponential targets from uniforms in [0, 1)."""
    return -np.log1p(-np.asarray(u, dtype=float))


def band_index(t: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """The band each time falls in: 0 before ``edges[0]``, k on [edges[k-1], edges[k]).

    ``edges`` has the band starts on its last axis; before that, axes that broadcast against ``t``
    less its last axis (a row of edges per trial)."""
    edges = np.asarray(edges, dtype=float)
    if edges.ndim == 1:
        return np.searchsorted(edges, t, side="right")
    t = np.asarray(t)
    band = np.zeros(np.broadcast_shapes(t.shape, edges.shape[:-1] + (1,)), dtype=np.intp)
    for j in range(edges.shape[-1]):  # how many edges are at or before t (searchsorted, row by row)
        band += t >= edges[..., j:j + 1]
    return band


def knots(edges, switch) -> tuple[np.ndarray, np.ndarray]:
    """Sorted knots (0, the band edges at or after 0, the switch) along a new last axis, and the
    per-knot flag 'on or after the switch'."""
    switch = np.asarray(switch, dtype=float)
    e = np.clip(np.asarray(edges, dtype=float), 0.0, None)
    shape = np.broadcast_shapes(switch.shape, e.shape[:-1])  # edges may hold a row per trial
    switch = np.broadcast_to(switch, shape)
    parts = [np.zeros(shape + (1,)), np.broadcast_to(e, shape + e.shape[-1:]), np.minimum(switch, BIG)[..., None]]
    k = np.sort(np.concatenate(parts, axis=-1), axis=-1)
    return k, k >= switch[..., None]


def segment_rates(rates_before, rates_after, edges, switch) -> tuple[np.ndarray, np.ndarray]:
    """Knots and the rate on each segment from one knot to the next (the last runs to infinity).

    ``rates_before`` and ``rates_after`` have the bands on their last axis; ``switch`` is the
    transplant day on the same clock (inf: none).
    """
    k, after = knots(edges, switch)
    band = band_index(k, edges)
    before = np.take_along_axis(np.broadcast_to(rates_before, k.shape[:-1] + np.shape(rates_before)[-1:]), band, -1)
    post = np.take_along_axis(np.broadcast_to(rates_after, k.shape[:-1] + np.shape(rates_after)[-1:]), band, -1)
    return k, np.where(after, post, before)


def cumulative_at_knots(k: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """The cumulative hazard at each knot."""
    steps = rates[..., :-1] * np.diff(k, axis=-1)
    return np.concatenate([np.zeros(steps.shape[:-1] + (1,)), np.cumsum(steps, axis=-1)], axis=-1)


def cumulative_hazard(t, rates_before, rates_after, edges, switch) -> np.ndarray:
    """The cumulative hazard at time ``t`` (elementwise over patients)."""
    t = np.asarray(t, dtype=float)
    k, rates = segment_rates(rates_before, rates_after, edges, switch)
    cum = cumulative_at_knots(k, rates)
    j = np.maximum(np.sum(k <= t[..., None], axis=-1) - 1, 0)[..., None]
    start = np.take_along_axis(k, j, -1)[..., 0]
    return np.take_along_axis(cum, j, -1)[..., 0] + np.take_along_axis(rates, j, -1)[..., 0] * (t - start)


def hitting_time(target, rates_before, rates_after, edges, switch) -> np.ndarray:
    """Time at which the cumulative hazard reaches ``target`` (inf if never); elementwise.

    The cumulative hazard is summed knot by knot (as :func:`cumulative_at_knots` does, to the same
    bits), and the time is found on the segment of the last knot it has passed at the target."""
    target = np.asarray(target, dtype=float)
    if np.ndim(switch) == 0 and np.isinf(switch):  # no transplant: knots shared by all patients
        k, rates = _segments_without_switch(rates_before, edges)
    else:
        k, both = segment_rates(rates_before, rates_after, edges, np.broadcast_to(switch, target.shape))
        rates = [both[..., j] for j in range(both.shape[-1])]
    time, cum = np.inf, 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        for j, rate in enumerate(rates):
            at_j = np.where(rate > 0, k[..., j] + (target - cum) / rate, np.inf)
            time = np.where(cum <= target, at_j, time)
            if j + 1 < len(rates):
                cum = cum + rate * (k[..., j + 1] - k[..., j])
    return np.where(time >= BIG, np.inf, time)


def _segments_without_switch(rates_before, edges) -> tuple[np.ndarray, list[np.ndarray]]:
    """:func:`segment_rates` with no switch: the knots of the edges alone, and each segment's band rates."""
    k, _ = knots(edges, np.inf)
    band = band_index(k, edges)
    rates_before = np.asarray(rates_before, dtype=float)
    if band.ndim == 1:
        return k, [rates_before[..., b] for b in band]
    shape = np.broadcast_shapes(rates_before.shape[:-1], band.shape[:-1])
    rates = np.take_along_axis(np.broadcast_to(rates_before, shape + rates_before.shape[-1:]),
                               np.broadcast_to(band, shape + band.shape[-1:]), -1)
    return k, [rates[..., j] for j in range(rates.shape[-1])]


def first_event(targets, rates_before, rates_after, edges, switch) -> tuple[np.ndarray, np.ndarray]:
    """The first of competing causes (axis 0 of the first three arguments): (time, cause index)."""
    times = hitting_time(targets, rates_before, rates_after, edges, np.broadcast_to(switch, np.shape(targets)))
    cause = np.argmin(times, axis=0)
    return np.take_along_axis(times, cause[None, ...], axis=0)[0], cause
