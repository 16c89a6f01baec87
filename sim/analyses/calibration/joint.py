"""The joint posterior of every fitted hazard, from the calibration's own exact likelihood.

Each fit of :func:`~sim.analyses.calibration.calibrate` carries a marginal uncertainty (written in
the params file as a gamma).  The fitted hazards share the counts they are fitted to, though: of 12
patients, a level that explains more infection deaths leaves fewer to relapse, and who reaches
transplant depends on the levels before it.  This module samples them together:

- the parameters are the fitted hazards (the pre-infusion progression hazard and the late levels
  before and after transplant); the cut-off is fitted by matching a median, not by a likelihood,
  and keeps its own distribution;
- the likelihood is the calibration's: binomial for the patients withdrawn (or not infused) over
  the simulated waits, multinomial for the outcomes at cut-off by transplant status, exact for
  piecewise-constant competing hazards over the simulated windows
  (:class:`~sim.analyses.calibration.late.LateModel`), at every other input's base value;
- the priors are those the marginal fits use: a Jeffreys prior (hazard^-1/2) where the trial's
  counts speak alone, and the params file's gamma prior on each level after transplant;
- :func:`sim.analyses.posterior.sample_posterior` samples it (importance sampling from the Laplace
  fit) and checks its diagnostics.
"""

from __future__ import annotations

import numpy as np

from sim.analyses.calibration.fits import PROGRESSION, Calibration
from sim.analyses.calibration.late import (DRAW_WINDOWS, LateModel, hazard_path, jeffreys_log_prior, late_groups,
                                           level_log_prior)
from sim.analyses.calibration.progression import PreInfusionWindows, progression_figure
from sim.analyses.posterior import PosteriorSample, sample_posterior
from sim.inputs.params import Params
from sim.model import late_bands
from sim.model.late_bands import LATE_CAUSES
from sim.rng.streams import stream_key

TINY = 1e-300


def progression_term(windows: PreInfusionWindows, metric: str, k: float, n: float):
    """Binomial log-likelihood of k of n counting towards ``metric``, as a function of hazard arrays."""

    def log_likelihood(hazard: np.ndarray) -> np.ndarray:
        withdrawn = -np.expm1(-np.asarray(hazard)[:, None] * windows.days[None, :])
        not_infused = np.where(windows.infusable[None, :], withdrawn, 1.0)
        share = {"withdrawn": withdrawn, "not_infused": not_infused, "infused": 1.0 - not_infused}[metric].mean(axis=1)
        return k * np.log(np.maximum(share, TINY)) + (n - k) * np.log(np.maximum(1.0 - share, TINY))

    return log_likelihood


class JointLikelihood:
    """Log posterior density of the fitted hazards, vectorised over candidate points, on the exposure the
    calibration simulated (its windows) and the figures it was fitted to (its exclusions)."""

    def __init__(self, calibration: Calibration, fitted: Params) -> None:
        self.terms, self.priors, self.start = [], {}, {}
        fits = {fit.path: fit.value for fit in calibration.fits}
        if calibration.pre_infusion is not None:
            self._add_progression(calibration, fits)
        if calibration.late is not None:
            self._add_late(calibration, fitted, fits)

    def _add_progression(self, calibration, fits) -> None:
        figure = progression_figure(calibration.params, calibration.exclude)
        term = progression_term(calibration.pre_infusion, figure.metric, float(figure.value), float(figure.of))
        self.terms.append(lambda v: term(v[PROGRESSION]))
        self.priors[PROGRESSION] = jeffreys_log_prior
        self.start[PROGRESSION] = max(fits[PROGRESSION], 1e-6)

    def _add_late(self, calibration, fitted, fits) -> None:
        model = LateModel(calibration.late, fitted)
        rng = np.random.default_rng(np.random.SeedSequence(calibration.seed, spawn_key=(stream_key("joint"),)))
        light = model.subset(rng.choice(len(model.length), size=min(len(model.length), DRAW_WINDOWS), replace=False))
        groups = late_groups(calibration.params, calibration.exclude)
        base = {regime: {c: late_bands.level(fitted, c, regime) for c in LATE_CAUSES} for regime in (False, True)}
        free = {(c, g.transplanted): hazard_path(c, g.transplanted) for g in groups for c in g.causes}
        for (cause, transplanted), path in free.items():
            self.priors[path] = level_log_prior(fitted, cause, transplanted)
            self.start[path] = max(fits.get(path, fitted[path]), 1e-7)

        def log_likelihood(values: dict[str, np.ndarray]) -> np.ndarray:
            levels = {regime: dict(base[regime]) for regime in (False, True)}
            for (cause, transplanted), path in free.items():
                levels[transplanted][cause] = values[path]
            return sum(light.log_likelihood(g, levels[False], levels[True]) for g in groups)

        self.terms.append(log_likelihood)

    def __call__(self, values: dict[str, np.ndarray]) -> np.ndarray:
        total = sum(prior(values[path]) for path, prior in self.priors.items())
        return total + sum(term(values) for term in self.terms)


def joint_posterior(calibration: Calibration, fitted: Params, draws: int = 1000,
                    proposals: int = 10000) -> PosteriorSample | None:
    """Joint posterior draws of the calibration's fitted hazards (None if it fitted none).

    Parameters
    ----------
    calibration : Calibration
        The fits, their targets and the simulated exposure's size and seed.
    fitted : Params
        The params with the fits applied (as written back to the params file).
    draws : int
        Equally likely draws returned.
    proposals : int
        Importance-sampling proposals behind them.
    """
    density = JointLikelihood(calibration, fitted)
    if not density.start:
        return None
    return sample_posterior(density, density.start, draws=draws, proposals=proposals, seed=calibration.seed)
