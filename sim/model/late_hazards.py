"""Late events after response as competing risks with constant hazards that change at transplant.

Each patient carries, per cause, a unit-exponential target E (drawn once, from its own stream); the
cause happens when its cumulative hazard reaches E.  With hazard h before a transplant at time s
and g after it, the cumulative hazard is h*min(t, s) + g*max(t - s, 0), so the time is exact and a
patient's luck is the same whatever the hazards or the transplant time.
"""

from __future__ import annotations

import numpy as np


def unit_exponential(u: np.ndarray) -> np.ndarray:
    """Unit-exponential targets from uniforms in [0, 1)."""
    return -np.log1p(-np.asarray(u, dtype=float))


def hitting_time(target, hazard_before, hazard_after, switch):
    """Time at which the cumulative hazard reaches ``target`` (inf if never); elementwise."""
    target, h, g, s = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (target, hazard_before, hazard_after, switch)))
    with np.errstate(divide="ignore", invalid="ignore"):
        before = np.where(h > 0, target / h, np.inf)
        after = np.where(g > 0, s + (target - h * np.where(np.isinf(s), 0.0, s)) / g, np.inf)
    return np.where(before <= s, before, after)


def first_event(targets, hazards_before, hazards_after, switch) -> tuple[np.ndarray, np.ndarray]:
    """The first of competing causes (axis 0 of the first three arguments): (time, cause index)."""
    times = hitting_time(targets, hazards_before, hazards_after, switch)
    cause = np.argmin(times, axis=0)
    return np.take_along_axis(times, cause[None, ...], axis=0)[0], cause
