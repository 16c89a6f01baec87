"""Joint posterior sampling of calibrated parameters, with its diagnostics.

Calibrated parameters share the counts they are fitted to, so their uncertainty is joint.  This
module samples the posterior of a vector of positive parameters from its log-density by
importance sampling from the Laplace fit:

1. the posterior mode, on the log scale (every calibrated quantity is a positive rate), by
   L-BFGS-B;
2. the Hessian there by central differences, giving the Laplace (normal) approximation;
3. proposals from a multivariate Student t with ``DF`` degrees of freedom around the mode, with
   the Laplace covariance widened by ``WIDEN`` (heavier tails than the posterior, so the weights
   stay bounded), each weighted by posterior / proposal density;
4. a second round whose t takes the first round's weighted mean and covariance (adaptive
   importance sampling: a posterior skewed on the log scale, as a rate seen in few events is,
   is fitted better than by the Laplace approximation alone);
5. ``draws`` rows resampled by the second round's weights (systematic resampling), so that the
   rows written are equally likely.

Diagnostics (each must pass, or :attr:`PosteriorSample.converged` is False and says why):

- the Pareto shape k-hat of the largest weights (Vehtari, Simpson, Gelman, Yao & Gabry, J Mach
  Learn Res 2024;25(72):1-58): at most ``MAX_PARETO_K`` = 0.7, their bound for a reliable estimate;
- the effective sample size of the weights, (sum w)^2 / sum w^2 (Kish), at least ``MIN_ESS``.

The caller's log-density is on the natural scale; the Jacobian of the log transform is added here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import optimize, stats

DF = 5
WIDEN = 1.5
ROUNDS = 2  # the second proposal takes the first round's weighted mean and covariance
MAX_PARETO_K = 0.7
MIN_ESS = 1000.0
CHUNK = 500
STEP = 1e-3  # finite-difference step on the log scale


@dataclass(frozen=True)
class PosteriorSample:
    """Equally likely draws of a parameter vector (rows) on the natural scale, and their diagnostics."""

    names: tuple[str, ...]
    draws: np.ndarray
    mode: np.ndarray
    pareto_k: float
    ess: float
    proposals: int

    @property
    def problems(self) -> list[str]:
        """Each failed diagnostic, in words; empty when the sample can be used."""
        out = []
        if not self.pareto_k <= MAX_PARETO_K:
            out.append(f"Pareto k-hat of the importance weights {self.pareto_k:.2f} > {MAX_PARETO_K}")
        if not self.ess >= MIN_ESS:
            out.append(f"effective sample size of the weights {self.ess:.0f} < {MIN_ESS:g}")
        return out

    @property
    def converged(self) -> bool:
        return not self.problems

    def diagnostics(self) -> dict:
        """The diagnostics as plain values, for a provenance record."""
        return {"method": f"adaptive importance sampling from the Laplace fit ({ROUNDS} rounds of a multivariate t, "
                          f"{DF} df, covariance x {WIDEN:g}), log scale, systematic resampling",
                "proposals": self.proposals, "draws": int(self.draws.shape[0]),
                "pareto_k": round(self.pareto_k, 3), "effective_sample_size": round(self.ess),
                "mode": {n: float(v) for n, v in zip(self.names, self.mode)},
                "converged": self.converged, "problems": self.problems}


def sample_posterior(log_density: Callable[[dict[str, np.ndarray]], np.ndarray], start: dict[str, float],
                     draws: int = 1000, proposals: int = 20000, seed: int = 0) -> PosteriorSample:
    """Sample the posterior whose log-density (natural scale, up to a constant) is ``log_density``.

    Parameters
    ----------
    log_density : callable
        Maps ``{name: values}`` (arrays of equal length, every value > 0) to the log density of
        each point, up to a constant; -inf where impossible.
    start : dict
        A point where the density is finite, every value > 0: where the mode search starts.
    draws : int
        Equally likely rows returned.
    proposals : int
        Importance-sampling proposals.
    seed : int
        Seed of the proposals and the resampling.
    """
    names = tuple(start)
    log_post = _on_log_scale(log_density, names)
    mode = _mode(log_post, np.log([start[n] for n in names]))
    rng = np.random.default_rng(seed)
    centre, covariance = mode, _laplace_covariance(log_post, mode)
    for _ in range(ROUNDS):
        z, weight = _weighted_proposals(log_post, centre, WIDEN * covariance, proposals, rng)
        centre, covariance = _weighted_moments(z, weight, centre, covariance)
    rows = _systematic(weight / weight.sum(), draws, rng)
    return PosteriorSample(names, np.exp(z[rows]), np.exp(mode), pareto_k(weight),
                           float(weight.sum() ** 2 / np.sum(weight**2)), proposals)


def _weighted_proposals(log_post, centre, covariance, count, rng) -> tuple[np.ndarray, np.ndarray]:
    """Proposals from a multivariate t, and their importance weights (largest 1)."""
    proposal = stats.multivariate_t(loc=centre, shape=_regularised(covariance), df=DF, seed=rng)
    z = proposal.rvs(count).reshape(count, len(centre))
    log_weight = _chunked(log_post, z) - proposal.logpdf(z)
    return z, np.exp(log_weight - np.max(log_weight))


def _weighted_moments(z: np.ndarray, weight: np.ndarray, centre: np.ndarray,
                      covariance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of weighted points: the next round's proposal (adaptive importance sampling);
    the current ones if the weights are too few to estimate a positive definite covariance."""
    w = weight / weight.sum()
    mean = w @ z
    centred = z - mean
    moments = (centred * w[:, None]).T @ centred
    if 1.0 / np.sum(w**2) < 10 * (len(mean) + 1) or not _positive_definite(moments):
        return centre, covariance
    return mean, moments


def _on_log_scale(log_density, names):
    def log_post(z: np.ndarray) -> np.ndarray:  # z: (points, dim)
        value = np.asarray(log_density(dict(zip(names, np.exp(z).T))), dtype=float)
        return np.where(np.isfinite(value), value + z.sum(axis=1), -np.inf)  # Jacobian of x = exp(z)
    return log_post


def _chunked(log_post, z: np.ndarray) -> np.ndarray:
    return np.concatenate([log_post(z[i:i + CHUNK]) for i in range(0, len(z), CHUNK)])


def _mode(log_post, z0: np.ndarray) -> np.ndarray:
    result = optimize.minimize(lambda z: -float(log_post(z[None, :])[0]), z0, method="L-BFGS-B",
                               bounds=[(v - 15.0, v + 15.0) for v in z0])
    return result.x


def _laplace_covariance(log_post, mode: np.ndarray) -> np.ndarray:
    """Inverse of minus the Hessian at the mode (central differences, every point in one call); a
    diagonal from its diagonal if the full matrix is not positive definite."""
    d = len(mode)
    eye = np.eye(d) * STEP
    points = [mode]
    for i in range(d):
        for j in range(d):
            points += [mode + eye[i] + eye[j], mode + eye[i] - eye[j], mode - eye[i] + eye[j], mode - eye[i] - eye[j]]
    values = log_post(np.array(points))
    quads = values[1:].reshape(d, d, 4)
    hessian = (quads[..., 0] - quads[..., 1] - quads[..., 2] + quads[..., 3]) / (4 * STEP**2)
    precision = -(hessian + hessian.T) / 2
    if np.all(np.isfinite(precision)) and _positive_definite(precision):
        return np.linalg.inv(precision)
    diagonal = np.diag(precision)
    return np.diag(1.0 / np.where(np.isfinite(diagonal) & (diagonal > 1e-2), diagonal, 1e-2))


def _regularised(covariance: np.ndarray) -> np.ndarray:
    """The covariance with its variances along every principal axis kept within [1e-6, 25] (on the log
    scale: from a thousandth to a factor of e^5 in sd), so that a nearly flat or nearly degenerate
    direction cannot break the proposal."""
    values, vectors = np.linalg.eigh((covariance + covariance.T) / 2)
    return (vectors * np.clip(values, 1e-6, 25.0)) @ vectors.T


def _positive_definite(matrix: np.ndarray) -> bool:
    try:
        np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        return False
    return True


def _systematic(weight: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``count`` equally likely draws from normalised ``weight`` (systematic resampling)."""
    positions = (rng.random() + np.arange(count)) / count
    return np.minimum(np.searchsorted(np.cumsum(weight), positions), len(weight) - 1)


def pareto_k(weight: np.ndarray) -> float:
    """Shape of a generalised Pareto fitted to the largest weights (the top min(n/5, 3 sqrt(n)), as in
    Pareto-smoothed importance sampling); above 0.7 the importance-sampling estimate is unreliable."""
    n = len(weight)
    tail = int(min(n / 5, 3 * np.sqrt(n)))
    ordered = np.sort(weight)
    threshold = ordered[-tail - 1]
    excess = ordered[-tail:] - threshold
    if np.all(excess <= 0):
        return 0.0
    shape, _, _ = stats.genpareto.fit(excess, floc=0.0)
    return float(shape)
