"""Sampling the hierarchy with emcee, and checking the chains before anything is reported.

emcee's affine-invariant ensemble (Foreman-Mackey et al., PASP 2013;125:306-312) with a mixture of
differential-evolution moves (80% :class:`emcee.moves.DEMove`, 20% :class:`emcee.moves.DESnookerMove`),
which mix better than the stretch move in the tens of dimensions a hierarchy over a dozen trials has.
The first half of each chain is burn-in.  Every reported quantity (each class's pooled level, each
tau, each unit's level) must reach rank-normalised split R-hat <= ``MAX_RHAT`` and effective sample
size >= ``MIN_ESS`` (:mod:`sim.stats.convergence`, each walker taken as a chain); otherwise the fit
is not converged and says which quantity failed, and the commands that write files refuse to.
"""

from __future__ import annotations

from dataclasses import dataclass

import logging

import numpy as np
from scipy import optimize

from sim.analyses.synthesis.hierarchy import CAUSES, Hierarchy
from sim.errors import InputError
from sim.stats.convergence import effective_sample_size, split_rhat

MAX_RHAT = 1.01
MIN_ESS = 400.0
EXTRA = "calibrate"  # the pyproject extra that brings emcee


def emcee_module():
    """emcee, or one line naming the extra that installs it."""
    try:
        import emcee
    except ImportError:
        raise InputError("emcee", "", f"the evidence synthesis needs emcee: pip install 'cartsim[{EXTRA}]'") from None
    return emcee


@dataclass(frozen=True)
class HierarchySample:
    """Draws of the hierarchy: ``theta`` (draws, ndim) after burn-in, and per-quantity diagnostics."""

    hierarchy: Hierarchy
    theta: np.ndarray
    rhat: dict[str, float]
    ess: dict[str, float]
    walkers: int
    steps: int
    seed: int

    @property
    def problems(self) -> list[str]:
        bad = [f"R-hat of {n} is {r:.3f} > {MAX_RHAT}" for n, r in self.rhat.items() if not r <= MAX_RHAT]
        return bad + [f"effective sample size of {n} is {e:.0f} < {MIN_ESS:.0f}" for n, e in self.ess.items() if not e >= MIN_ESS]

    @property
    def converged(self) -> bool:
        return not self.problems

    def diagnostics(self) -> dict:
        return {"method": f"emcee {emcee_module().__version__} ensemble, DE 0.8 + DE snooker 0.2 moves, "
                          f"{self.walkers} walkers x {self.steps} steps, first half burn-in",
                "seed": self.seed, "max_rhat": max(self.rhat.values()), "min_ess": min(self.ess.values()),
                "rhat_bound": MAX_RHAT, "ess_bound": MIN_ESS, "converged": self.converged, "problems": self.problems}

    def quantities(self) -> dict[str, np.ndarray]:
        """The reported quantities' draws: pooled level per cause and class, tau per cause, each unit's level."""
        return reported(self.hierarchy, self.theta)


def reported(hierarchy: Hierarchy, theta: np.ndarray) -> dict[str, np.ndarray]:
    """Each reported quantity's draws along the first axis of ``theta``."""
    mu, tau, _, _ = hierarchy.split(theta.reshape(-1, theta.shape[-1]))
    levels = np.exp(hierarchy.log_levels(theta.reshape(-1, theta.shape[-1])))
    out = {}
    for i, c in enumerate(CAUSES):
        for k, name in enumerate(hierarchy.classes):
            out[f"pooled {c} {name}"] = np.exp(mu[:, i, k])
        out[f"tau {c}"] = tau[:, i]
        for j, unit in enumerate(hierarchy.units):
            out[f"level {c} {unit.name}"] = levels[:, i, j]
    shape = theta.shape[:-1]
    return {name: v.reshape(shape) for name, v in out.items()}


def _start(hierarchy: Hierarchy, rng: np.random.Generator, walkers: int) -> np.ndarray:
    """Walkers around the posterior mode (L-BFGS from the prior's centre), spread by 0.1 on every
    coordinate: the burn-in then only has to spread them over the posterior, not find it."""
    first = hierarchy.start(rng, 1)[0]
    best = optimize.minimize(lambda x: _negative_with_gradient(hierarchy, x), first, jac=True, method="L-BFGS-B")
    return best.x + rng.normal(0.0, 0.1, (walkers, hierarchy.ndim))


def _negative_with_gradient(hierarchy: Hierarchy, x: np.ndarray, step: float = 1e-5) -> tuple[float, np.ndarray]:
    """Minus the log posterior and its central-difference gradient, from one vectorised call."""
    shifts = np.vstack([np.zeros(len(x)), np.eye(len(x)) * step, -np.eye(len(x)) * step])
    values = hierarchy(x + shifts)
    values = np.where(np.isfinite(values), values, -1e300)
    return -float(values[0]), -(values[1:len(x) + 1] - values[len(x) + 1:]) / (2 * step)


def sample_hierarchy(hierarchy: Hierarchy, steps: int = 4000, walkers: int | None = None, seed: int = 0,
                     progress=None) -> HierarchySample:
    """Run the ensemble and diagnose it.

    Parameters
    ----------
    hierarchy : Hierarchy
        The log posterior.
    steps : int
        Steps per walker, the first half discarded as burn-in.
    walkers : int, optional
        Walkers (default: twice the dimension plus 2, at least 32, even).
    seed : int
        Seed of the starting points and of the moves.
    """
    emcee = emcee_module()
    walkers = walkers or max(32, 2 * hierarchy.ndim + 2)
    walkers += walkers % 2
    rng = np.random.default_rng(seed)
    moves = [(emcee.moves.DEMove(), 0.8), (emcee.moves.DESnookerMove(), 0.2)]
    sampler = emcee.EnsembleSampler(walkers, hierarchy.ndim, hierarchy, vectorize=True, moves=moves)
    sampler.random_state = np.random.RandomState(seed).get_state()  # emcee's moves draw from the sampler's own generator
    sampler.run_mcmc(_start(hierarchy, rng, walkers), steps, progress=False)
    return diagnosed(hierarchy, sampler.get_chain(discard=steps // 2), steps, seed)


def diagnosed(hierarchy: Hierarchy, chain: np.ndarray, steps: int, seed: int) -> HierarchySample:
    """The sample of a chain after burn-in, shaped (steps, walkers, ndim), with its diagnostics."""
    logging.getLogger("emcee").setLevel(logging.ERROR)  # its short-chain notice: the diagnostics below decide
    quantities = reported(hierarchy, chain)
    rhat = {n: split_rhat(v) for n, v in quantities.items()}
    ess = {n: effective_sample_size(v) for n, v in quantities.items()}
    return HierarchySample(hierarchy, chain.reshape(-1, hierarchy.ndim), rhat, ess, chain.shape[1], steps, seed)
