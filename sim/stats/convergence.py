"""Convergence diagnostics of Markov chains: rank-normalised split R-hat and effective sample size.

R-hat follows Vehtari, Gelman, Simpson, Carpenter and Buerkner, Bayesian Analysis 2021;16(2):667-718
(doi 10.1214/20-BA1221): each chain is split in halves, the draws are replaced by the normal scores of
their ranks, and R-hat is the larger of the classic potential scale reduction of those scores (bulk)
and of the scores of the absolute deviations from the median (tails).  The effective sample size is
that of emcee's integrated autocorrelation time (:func:`emcee.autocorr.integrated_time`, averaged over
the walkers), on the rank-normalised draws so that a heavy tail does not distort it.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def rank_normalised(draws: np.ndarray) -> np.ndarray:
    """Normal scores of the ranks of all draws together, ((rank - 3/8) / (S + 1/4)) (Blom), same shape."""
    flat = np.asarray(draws, dtype=float).ravel()
    ranks = stats.rankdata(flat, method="average")
    return stats.norm.ppf((ranks - 0.375) / (flat.size + 0.25)).reshape(np.shape(draws))


def _psrf(chains: np.ndarray) -> float:
    """Classic potential scale reduction of chains along axis 1 (draws along axis 0)."""
    n = chains.shape[0]
    within = np.mean(np.var(chains, axis=0, ddof=1))
    between = n * np.var(np.mean(chains, axis=0), ddof=1)
    if within <= 0:
        return np.inf if between > 0 else 1.0
    return float(np.sqrt(((n - 1) / n * within + between / n) / within))


def split_rhat(chains: np.ndarray) -> float:
    """Rank-normalised split R-hat of draws shaped (draws, chains): the larger of bulk and tail R-hat."""
    chains = np.asarray(chains, dtype=float)
    half = chains.shape[0] // 2
    split = np.concatenate([chains[:half], chains[chains.shape[0] - half:]], axis=1)
    folded = np.abs(split - np.median(split))
    return max(_psrf(rank_normalised(split)), _psrf(rank_normalised(folded)))


def effective_sample_size(chains: np.ndarray) -> float:
    """Effective sample size of draws shaped (draws, chains): draws x chains over the integrated
    autocorrelation time of their rank-normalised values."""
    import emcee  # the sampler's own estimator; calibrate's extra

    chains = np.asarray(chains, dtype=float)
    tau = float(emcee.autocorr.integrated_time(rank_normalised(chains)[:, :, None], quiet=True)[0])
    return chains.size / max(tau, 1.0)
