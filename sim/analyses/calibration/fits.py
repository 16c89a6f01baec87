"""What a calibration returns: a fitted entry, the figures it was fitted to, and its uncertainty
as a params file writes it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize, stats

from sim.inputs.params import Params

LEVEL = 0.95
JEFFREYS = 0.5
NO_CUTOFF_DAYS = 36525.0  # a cut-off a century after the last enrolment: every course is seen whole
PROGRESSION = "withdrawal.progression_hazard"
CUTOFF = "accrual.cutoff_after_last_enrolment_days"


@dataclass(frozen=True)
class Target:
    """A reported figure a fit is calibrated to, and the model's value for it at the fit."""

    key: str
    reported: float
    of: float | None
    at_fit: float
    unit: str = ""


@dataclass(frozen=True)
class Fit:
    """A fitted parameter: its value, posterior draws, and what it was fitted to.

    Attributes
    ----------
    path : str
        The parameter's dotted path.
    value : float
        Maximum-likelihood estimate (for the cut-off: the value matching the median trial).
    draws : numpy.ndarray
        Draws from its fit uncertainty.
    uncertainty : dict
        The uncertainty as written in a params file, e.g. ``{"gamma": [events, exposure]}``.
    targets : tuple of Target
        The reported figures it was fitted to.
    method : str
        How, in a sentence, for the params file's note.
    """

    path: str
    value: float
    draws: np.ndarray
    uncertainty: dict
    targets: tuple[Target, ...]
    method: str

    @property
    def interval(self) -> tuple[float, float]:
        """Central 95% interval of the fit uncertainty, with the lower bound at 0 when the
        estimate is 0 (no event reported: the interval of Brown, Cai and DasGupta)."""
        low, high = np.quantile(self.draws, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
        return (0.0 if self.value == 0 else float(low)), float(high)


@dataclass(frozen=True)
class Calibration:
    """Every fit of one params file, in the order they were made."""

    params: Params
    fits: tuple[Fit, ...]
    trials: int
    seed: int
    draws: int
    skipped: dict[str, str] = field(default_factory=dict)
    exclude: frozenset = frozenset()
    pre_infusion: Any = None  # the PreInfusionWindows the progression hazard was fitted on (None if not fitted)
    late: Any = None  # the LateWindows, cut at the fitted cut-off, the late levels were fitted on (None if not fitted)



def triangular_by_quantiles(sample: np.ndarray) -> list[float]:
    """``[low, mode, high]`` of the triangular distribution with the 2.5th, 50th and 97.5th
    percentiles of ``sample`` (a skewed, bounded shape that a lognormal cannot take)."""
    probabilities = [(1 - LEVEL) / 2, 0.5, (1 + LEVEL) / 2]
    wanted = np.quantile(sample, probabilities)

    def gap(v: np.ndarray) -> np.ndarray:
        low, mode, high = np.sort(v)
        return stats.triang((mode - low) / (high - low), low, high - low).ppf(probabilities) - wanted

    spread = wanted[2] - wanted[0]
    start = [wanted[0] - spread / 4, wanted[1], wanted[2] + spread / 4]
    low, mode, high = np.sort(optimize.least_squares(gap, start).x)
    return [float(low), float(mode), float(high)]


def gamma_by_moments(sample: np.ndarray) -> dict:
    """``{"gamma": [events, exposure]}`` with the mean and variance of ``sample``.

    The params file reads ``gamma = [e, x]`` as Gamma(e + 1/2, scale 1/x), mean (e + 1/2)/x; a
    posterior too skewed for e >= 0 keeps its mean with e = 0.
    """
    mean, var = float(np.mean(sample)), float(np.var(sample, ddof=1))
    if mean <= 0 or var <= 0:
        raise ValueError(f"a gamma needs draws with a positive mean and spread, got mean {mean}, variance {var}")
    events = max(mean**2 / var - JEFFREYS, 0.0)
    return {"gamma": [events, (events + JEFFREYS) / mean]}
