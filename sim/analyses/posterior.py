"""Joint posterior sampling of calibrated parameters, with convergence diagnostics.

Calibrated parameters share the counts they are fitted to, so their uncertainty is joint: a
trial that shows many infection deaths leaves fewer patients to relapse.  This module samples the
posterior of a parameter vector from its log-density with an affine-invariant ensemble sampler
(``emcee``; Goodman & Weare, Commun Appl Math Comput Sci 2010;5:65-80; Foreman-Mackey et al.,
PASP 2013;125:306-312) and checks that the chains have converged before the draws are used.

Parameters are sampled on the log scale (every calibrated quantity is a positive rate or
multiplier); the caller's log-density is on the natural scale, and the Jacobian of the log
transform is added here.

Diagnostics (each must pass, or :class:`PosteriorSample.converged` is False and says why):

- the integrated autocorrelation time tau of every coordinate (``emcee.autocorr``): the chain kept
  after burn-in is at least ``MIN_TAU_MULTIPLE`` tau long (the emcee authors' guidance), and the
  effective sample size, walkers x kept steps / tau, is at least ``MIN_ESS``;
- the split-R-hat over the walkers, each split in two halves, at most ``MAX_RHAT`` (Vehtari et al.,
  Bayesian Analysis 2021;16:667-718, recommend 1.01 for independent chains; the walkers of an
  ensemble are not independent and the bound here is 1.05, stricter than the classic 1.1 of
  Gelman & Rubin);
- a mean acceptance fraction of at least ``MIN_ACCEPTANCE`` (a stuck ensemble accepts almost nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

MIN_TAU_MULTIPLE = 50.0
MIN_ESS = 400.0
MAX_RHAT = 1.05
MIN_ACCEPTANCE = 0.1


@dataclass(frozen=True)
class PosteriorSample:
    """Draws of a parameter vector (rows) on the natural scale, and how well the sampler converged."""

    names: tuple[str, ...]
    draws: np.ndarray
    tau: np.ndarray
    rhat: np.ndarray
    acceptance: float
    steps: int
    burn: int
    walkers: int

    @property
    def problems(self) -> list[str]:
        """Each failed diagnostic, in words; empty when the sample can be used."""
        kept = self.steps - self.burn
        out = [f"{name}: chain of {kept} steps is only {kept / t:.0f} autocorrelation times (< {MIN_TAU_MULTIPLE:g})"
               for name, t in zip(self.names, self.tau) if not kept >= MIN_TAU_MULTIPLE * t]
        out += [f"{name}: split R-hat {r:.3f} > {MAX_RHAT}" for name, r in zip(self.names, self.rhat) if not r <= MAX_RHAT]
        out += [f"{name}: effective sample size {e:.0f} < {MIN_ESS:g}" for name, e in zip(self.names, self.ess)
                if not e >= MIN_ESS]
        if not self.acceptance >= MIN_ACCEPTANCE:
            out.append(f"mean acceptance fraction {self.acceptance:.2f} < {MIN_ACCEPTANCE}")
        return out

    @property
    def ess(self) -> np.ndarray:
        """Effective sample size of each coordinate."""
        return self.walkers * (self.steps - self.burn) / self.tau

    @property
    def converged(self) -> bool:
        return not self.problems

    def diagnostics(self) -> dict:
        """The diagnostics as plain values, for a manifest."""
        return {"sampler": "emcee affine-invariant ensemble (stretch move), log scale", "walkers": self.walkers,
                "steps": self.steps, "burn_in": self.burn, "acceptance_fraction": round(self.acceptance, 4),
                "autocorrelation_time": {n: round(float(t), 2) for n, t in zip(self.names, self.tau)},
                "split_rhat": {n: round(float(r), 5) for n, r in zip(self.names, self.rhat)},
                "effective_sample_size": {n: round(float(e)) for n, e in zip(self.names, self.ess)},
                "converged": self.converged, "problems": self.problems}


def split_rhat(chains: np.ndarray) -> np.ndarray:
    """Split R-hat per coordinate of ``chains`` shaped (steps, chains, coordinates)."""
    half = chains.shape[0] // 2
    split = np.concatenate([chains[:half], chains[half:2 * half]], axis=1)
    n = split.shape[0]
    within = split.var(axis=0, ddof=1).mean(axis=0)
    between = n * split.mean(axis=0).var(axis=0, ddof=1)
    pooled = (n - 1) / n * within + between / n
    return np.sqrt(pooled / within)


def sample_posterior(log_density: Callable[[dict[str, float]], float], start: dict[str, float],
                     steps: int = 4000, burn: int = 1000, walkers: int | None = None,
                     thin_to: int = 1000, seed: int = 0) -> PosteriorSample:
    """Sample the posterior whose log-density (natural scale, up to a constant) is ``log_density``.

    Parameters
    ----------
    log_density : callable
        Maps ``{name: values}`` (arrays of equal length, one element per walker, every value > 0)
        to the log posterior density of each walker, up to a constant; -inf where impossible.
    start : dict
        A point of high density (e.g. the maximum a posteriori), every value > 0.
    steps, burn : int
        Steps of every walker, and how many of the first are discarded.
    walkers : int, optional
        Number of walkers (default: four per coordinate, at least 16).
    thin_to : int
        Draws kept, at most: every walker at steps one autocorrelation time or more apart.
    seed : int
        Seed of the sampler's generator.
    """
    import emcee

    names = tuple(start)
    dim = len(names)
    walkers = walkers or max(16, 4 * dim)
    rng = np.random.default_rng(seed)
    centre = np.log([start[n] for n in names])

    def log_prob(z: np.ndarray) -> np.ndarray:  # z: (walkers, dim); every walker in one call
        value = np.asarray(log_density(dict(zip(names, np.exp(z).T))), dtype=float)
        return np.where(np.isfinite(value), value + z.sum(axis=1), -np.inf)  # Jacobian of x = exp(z)

    begin = centre + 0.05 * rng.standard_normal((walkers, dim))
    sampler = emcee.EnsembleSampler(walkers, dim, log_prob, vectorize=True)
    sampler.random_state = np.random.RandomState(int(rng.integers(2**31))).get_state()
    sampler.run_mcmc(begin, steps, progress=False)
    chains = sampler.get_chain(discard=burn)
    tau = emcee.autocorr.integrated_time(chains, tol=0, quiet=True)
    return PosteriorSample(names, np.exp(_thinned(chains, tau, thin_to)), np.asarray(tau), split_rhat(chains),
                           float(np.mean(sampler.acceptance_fraction)), steps, burn, walkers)


def _thinned(chains: np.ndarray, tau: np.ndarray, count: int) -> np.ndarray:
    """About ``count`` draws from chains (steps, walkers, dim): steps at least one autocorrelation time
    apart, so that the draws are close to independent, every walker at each kept step."""
    spacing = max(1, int(np.ceil(np.max(tau))), int(np.ceil(chains.shape[0] * chains.shape[1] / count)))
    spacing = min(spacing, chains.shape[0])
    steps = np.arange(chains.shape[0] - 1, -1, -spacing)[::-1]
    flat = chains[steps].reshape(-1, chains.shape[2])
    keep = np.linspace(0, len(flat) - 1, min(count, len(flat))).round().astype(int)
    return flat[keep]


def gamma_log_prior(events: float, exposure: float) -> Callable[[float], float]:
    """Log density (up to a constant) of a rate with prior Gamma(events + 1/2, scale 1/exposure)."""
    shape = events + 0.5

    def log_prior(rate: float) -> float:
        return (shape - 1) * np.log(rate) - exposure * rate

    return log_prior


def summarise(sample: PosteriorSample, level: float = 0.95) -> list[dict]:
    """Median and central interval of each coordinate."""
    tail = (1 - level) / 2 * 100
    return [{"parameter": name, "median": float(np.median(col)),
             "low": float(np.percentile(col, tail)), "high": float(np.percentile(col, 100 - tail))}
            for name, col in zip(sample.names, sample.draws.T)]
