"""What the synthesis predicts for a new trial: the robust meta-analytic-predictive (MAP) levels.

The MAP distribution of a new trial's log level for cause c in class k is mu[c, k] + tau[c] * z with
z ~ Normal(0, 1), over the posterior draws of mu and tau: it carries both the uncertainty of the
pooled mean and the heterogeneity between trials (Neuenschwander et al., Clin Trials 2010;7:5-18;
Schmidli et al., Biometrics 2014;70:1023-1032).  It is made robust by a vague component: with
probability ``ROBUST_WEIGHT`` a draw comes instead from a normal on the log level centred on the MAP
median with SD ``VAGUE_SD``.  The weight 0.2 (an assumption: one chance in five that the new trial
is unlike every trial pooled) is a conventional choice for robust MAP priors; the vague SD 2 on the log
scale (a 95% range of about 50-fold either way) is wider than the MAP, so a new trial unlike every
series pulls its estimate toward its own data as soon as it has some.

A predictive count for a trial of n patients draws its level from the MAP (not the robust mixture:
the check asks whether the series look like draws from the fitted between-trial distribution) and
its count from the model's chance at that level (:func:`predictive_counts`).
"""

from __future__ import annotations

import numpy as np

from sim.analyses.synthesis.hierarchy import CAUSES, Hierarchy

ROBUST_WEIGHT = 0.2
VAGUE_SD = 2.0
LEVEL = 0.95


def map_log_levels(hierarchy: Hierarchy, theta: np.ndarray, target_class: str, rng: np.random.Generator) -> np.ndarray:
    """MAP draws of a new trial's log levels, (draws, cause): one new-trial draw per posterior draw."""
    mu, tau, _, _ = hierarchy.split(theta)
    k = hierarchy.classes.index(target_class)
    return mu[:, :, k] + tau * rng.standard_normal(tau.shape)


def robust_log_levels(map_draws: np.ndarray, rng: np.random.Generator, weight: float = ROBUST_WEIGHT) -> np.ndarray:
    """The MAP draws with a share ``weight`` (per cause) replaced by draws of the vague component."""
    centre = np.median(map_draws, axis=0)
    vague = centre + VAGUE_SD * rng.standard_normal(map_draws.shape)
    return np.where(rng.random(map_draws.shape) < weight, vague, map_draws)


def interval(draws: np.ndarray, level: float = LEVEL) -> tuple[float, float, float]:
    """(median, low, high) of the central ``level`` interval."""
    low, mid, high = np.quantile(draws, [(1 - level) / 2, 0.5, (1 + level) / 2])
    return float(mid), float(low), float(high)


def levels_by_cause(log_levels: np.ndarray) -> dict[str, np.ndarray]:
    """Log-level draws (draws, cause) as levels by cause."""
    return {c: np.exp(log_levels[:, i]) for i, c in enumerate(CAUSES)}
