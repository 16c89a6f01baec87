"""Sampling the hierarchy with the No-U-Turn sampler, and checking the chains before anything is reported.

The sampler is nutpie's NUTS (Hoffman and Gelman, JMLR 2014;15:1593-1623, with nutpie's adaptation of
step size and a diagonal mass matrix during the tuning draws; the ``synthesis`` extra).  It needs the
log posterior's gradient: :func:`value_and_gradient` takes it by central differences, all ``2 d + 1``
points in one vectorised call of the hierarchy (the log posterior is smooth in every coordinate it
samples: log levels, log tau, z, the log extras and the smooth inputs on their unconstrained scale).  A gradient sampler moves through the funnel between
tau and the z's that an ensemble sampler crossed only over hundreds of thousands of steps.

Each level is sampled centred or non-centred, as its data's information says (:func:`centring`).  Chains
start from the posterior mode (L-BFGS from the prior's centre) jittered by ``START_JITTER`` on every
coordinate; the tuning draws are discarded.  Every reported quantity (each class's pooled level,
each tau, each unit's level, each input sampled with them) must reach rank-normalised split R-hat <= ``MAX_RHAT`` and effective
sample size >= ``MIN_ESS`` (:mod:`sim.stats.convergence`); otherwise the fit is not converged and says
which check failed, and the commands that write files refuse to.  Divergent transitions after tuning
are counted and reported as a warning wherever the diagnostics go: they mean the sampler could not
follow the posterior's curvature somewhere, so that region may be under-represented.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from sim.analyses.synthesis.hierarchy import CAUSES, Hierarchy
from sim.errors import InputError
from sim.stats.convergence import effective_sample_size, split_rhat

MAX_RHAT = 1.01
MIN_ESS = 400.0
EXTRA = "synthesis"  # the pyproject extra that brings nutpie
GRADIENT_STEP = 1e-5  # central-difference step on the sampled (log and z) scale: truncation error ~1e-10, rounding ~1e-11 relative
START_JITTER = 0.3  # SD of each chain's start around the mode, on the sampled scale
TARGET_ACCEPT = 0.9  # NUTS's target acceptance: steps smaller than the default 0.8's, for the funnel's neck


def nutpie_module():
    """nutpie, or one line naming the extra that installs it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # arviz's notice of its coming refactor, on import
            import nutpie
    except ImportError:
        raise InputError("nutpie", "", f"the evidence synthesis needs nutpie: pip install 'cartsim[{EXTRA}]'") from None
    return nutpie


@dataclass(frozen=True)
class HierarchySample:
    """Draws of the hierarchy: ``theta`` (draws x chains, ndim) after tuning, chain by chain in blocks of
    ``draws`` rows, with per-quantity diagnostics and the count of divergent transitions."""

    hierarchy: Hierarchy
    theta: np.ndarray
    rhat: dict[str, float]
    ess: dict[str, float]
    chains: int
    draws: int
    tune: int
    seed: int
    divergences: int = 0
    target_accept: float = TARGET_ACCEPT
    low_rank: bool = False
    leapfrog_steps: int = 0  # gradient evaluations of every chain, tuning included (0: not recorded)

    @property
    def problems(self) -> list[str]:
        """The convergence checks that fail: R-hat and effective sample size of each reported quantity."""
        bad = [f"R-hat of {n} is {r:.3f} > {MAX_RHAT}" for n, r in self.rhat.items() if not r <= MAX_RHAT]
        return bad + [f"effective sample size of {n} is {e:.0f} < {MIN_ESS:.0f}" for n, e in self.ess.items() if not e >= MIN_ESS]

    @property
    def warnings(self) -> list[str]:
        """What the convergence checks do not catch: divergent transitions after tuning, a sign that the chains
        could not follow the posterior's curvature somewhere, so that region may be under-represented."""
        share = self.divergences / max(self.chains * self.draws, 1)
        return [f"{self.divergences} divergent transitions after tuning ({share:.1%} of the draws)"] if self.divergences else []

    @property
    def converged(self) -> bool:
        return not self.problems

    def describe(self) -> str:
        return (f"NUTS, {self.chains} chains x {self.draws} draws after {self.tune} tuning draws, "
                f"target acceptance {self.target_accept}" + (", low-rank mass matrix" if self.low_rank else ""))

    def diagnostics(self) -> dict:
        return {"method": self.describe(), "seed": self.seed, "centred": self.centred_levels(), "max_rhat": max(self.rhat.values()),
                "min_ess": min(self.ess.values()), "divergences": self.divergences, "rhat_bound": MAX_RHAT,
                "ess_bound": MIN_ESS, "converged": self.converged, "problems": self.problems,
                "warnings": self.warnings}

    def centred_levels(self) -> list[str]:
        """The (cause, trial) levels sampled in the centred form."""
        return [f"{c} {u.name}" for i, c in enumerate(CAUSES) for j, u in enumerate(self.hierarchy.units)
                if self.hierarchy.centred[i, j]]

    def quantities(self) -> dict[str, np.ndarray]:
        """The reported quantities' draws: pooled level per cause and class, tau per cause, each unit's level, and each
    input sampled with them."""
        return reported(self.hierarchy, self.by_chain())

    def by_chain(self) -> np.ndarray:
        """The draws shaped (draws, chains, ndim)."""
        return self.theta.reshape(self.chains, self.draws, -1).swapaxes(0, 1)


def reported(hierarchy: Hierarchy, theta: np.ndarray) -> dict[str, np.ndarray]:
    """Each reported quantity's draws along the first axis of ``theta``: the pooled levels, tau, the units' levels
    and the sampled inputs (``input PATH``)."""
    mu, tau, _, _ = hierarchy.split(theta.reshape(-1, theta.shape[-1]))
    levels = np.exp(hierarchy.log_levels(theta.reshape(-1, theta.shape[-1])))
    out = {}
    for i, c in enumerate(CAUSES):
        for k, name in enumerate(hierarchy.classes):
            out[f"pooled {c} {name}"] = np.exp(mu[:, i, k])
        out[f"tau {c}"] = tau[:, i]
        for j, unit in enumerate(hierarchy.units):
            out[f"level {c} {unit.name}"] = levels[:, i, j]
    inputs = hierarchy.nuisance_values(theta.reshape(-1, theta.shape[-1]))
    for i, path in enumerate(hierarchy.nuisance.paths):
        out[f"input {path}"] = inputs[:, i]
    shape = theta.shape[:-1]
    return {name: v.reshape(shape) for name, v in out.items()}


def value_and_gradient(hierarchy: Hierarchy, x: np.ndarray, step: float = GRADIENT_STEP) -> tuple[float, np.ndarray]:
    """The log posterior at ``x`` and its central-difference gradient (:meth:`Hierarchy.value_and_gradient`;
    a non-finite value: -inf and a zero gradient, which the sampler treats as a divergence)."""
    return hierarchy.value_and_gradient(np.asarray(x, dtype=float), step)


def posterior_mode(hierarchy: Hierarchy, seed: int) -> np.ndarray:
    """The posterior mode (L-BFGS from the prior's centre)."""
    first = hierarchy.start(np.random.default_rng(seed), 1)[0]

    def negative(x):
        value, gradient = value_and_gradient(hierarchy, x)
        return (-value, -gradient) if np.isfinite(value) else (1e300, np.zeros_like(x))

    return optimize.minimize(negative, first, jac=True, method="L-BFGS-B").x


def centring(hierarchy: Hierarchy, mode: np.ndarray, step: float = 1e-3) -> np.ndarray:
    """Which (cause, unit) levels to sample centred: those whose data carry more information about the log
    level than the between-trial prior does, over the low end of tau's posterior as well as at its mode.

    In the non-centred form the log posterior's second derivative in z[c, j] at the mode is
    -(1 + tau^2 I), with I the data's information about the log level; the prior's information is
    1 / tau^2.  A centred level whose tau can still fall towards 0 sits in a funnel, so the rule asks
    I > 1 / tau_low^2, with tau_low = tau exp(-2 s) at the mode and s the SD of log tau from the curvature
    in log tau there.  Central second differences, in one vectorised call."""
    c, k, j = len(CAUSES), len(hierarchy.classes), len(hierarchy.units)
    columns = np.arange(c * k, c * k + c + c * j)  # log tau, then the z's
    shifts = np.zeros((2 * len(columns), hierarchy.ndim))
    shifts[np.arange(len(columns)), columns] = step
    shifts[len(columns) + np.arange(len(columns)), columns] = -step
    values = hierarchy(np.vstack([mode, mode + shifts]))
    curvature = -(values[1:len(columns) + 1] + values[len(columns) + 1:] - 2 * values[0]) / step ** 2
    tau = np.exp(mode[c * k:c * k + c])
    log_tau_sd = 1.0 / np.sqrt(np.maximum(curvature[:c], 1e-12))
    information = (curvature[c:].reshape(c, j) - 1.0) / tau[:, None] ** 2
    tau_low = tau * np.exp(-2.0 * log_tau_sd)
    return information * tau_low[:, None] ** 2 > 1.0


def chosen_forms(hierarchy: Hierarchy, seed: int) -> tuple[Hierarchy, np.ndarray]:
    """The hierarchy in the forms :func:`centring` chooses at the all-non-centred mode, and that mode in them."""
    plain = hierarchy.with_centring(np.zeros_like(hierarchy.centred))
    mode = posterior_mode(plain, seed)
    chosen = plain.with_centring(centring(plain, mode))
    return chosen, plain.to_centring(mode, chosen)[0]


def sample_hierarchy(hierarchy: Hierarchy, draws: int = 1000, tune: int = 1000, chains: int = 4, seed: int = 0,
                     target_accept: float = TARGET_ACCEPT, low_rank: bool = False) -> HierarchySample:
    """Run NUTS chains and diagnose them.

    Parameters
    ----------
    hierarchy : Hierarchy
        The log posterior.
    draws, tune : int
        Draws kept per chain, and tuning draws before them (discarded).
    chains : int
        Independent chains (at least 2, for R-hat).
    seed : int
        Seed of the starting points and of the sampler.
    target_accept : float
        NUTS's target acceptance rate during tuning.
    low_rank : bool
        Adapt a mass matrix that is diagonal plus a low-rank part from the draws' and gradients' largest
        directions of (co)variance (nutpie's ``low_rank_modified_mass_matrix``), for a posterior whose
        coordinates are strongly correlated; otherwise diagonal.
    """
    nutpie = nutpie_module()
    from nutpie.compiled_pyfunc import from_pyfunc

    hierarchy, mode = chosen_forms(hierarchy, seed)
    d = hierarchy.ndim

    def initial_point(chain_seed) -> np.ndarray:
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(int(chain_seed) % 2**32,)))
        return mode + rng.normal(0.0, START_JITTER, d)

    model = from_pyfunc(d, lambda *_, **__: lambda x, **___: value_and_gradient(hierarchy, np.asarray(x)),
                        lambda *_, **__: lambda x, **___: {"theta": np.asarray(x)}, [np.dtype("float64")], [(d,)],
                        ["theta"], coords={"coordinate": list(hierarchy.names)}, dims={"theta": ("coordinate",)},
                        make_initial_point_fn=initial_point)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trace = nutpie.sample(model, draws=draws, tune=tune, chains=chains, cores=1, seed=seed, progress_bar=False,
                              target_accept=target_accept, low_rank_modified_mass_matrix=low_rank)
    chain = np.asarray(trace.posterior["theta"].values).swapaxes(0, 1)  # (draws, chains, ndim)
    divergences = int(np.asarray(trace.sample_stats["diverging"].values).sum())
    steps = sum(int(np.asarray(stats["n_steps"].values).sum()) for stats in (trace.sample_stats, trace.warmup_sample_stats))
    return dataclasses.replace(diagnosed(hierarchy, chain, tune, seed, divergences, target_accept), low_rank=low_rank,
                               leapfrog_steps=steps)


def diagnosed(hierarchy: Hierarchy, chain: np.ndarray, tune: int, seed: int, divergences: int = 0,
              target_accept: float = TARGET_ACCEPT) -> HierarchySample:
    """The sample of chains after tuning, shaped (draws, chains, ndim), with its diagnostics."""
    logging.getLogger("emcee").setLevel(logging.ERROR)  # its short-chain notice from the ESS estimator: R-hat decides
    quantities = reported(hierarchy, chain)
    rhat = {n: split_rhat(v) for n, v in quantities.items()}
    ess = {n: effective_sample_size(v) for n, v in quantities.items()}
    draws, chains = chain.shape[:2]
    return HierarchySample(hierarchy, chain.swapaxes(0, 1).reshape(-1, hierarchy.ndim), rhat, ess, chains, draws,
                           tune, seed, divergences, target_accept)
