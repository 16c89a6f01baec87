"""The pre-infusion progression hazard, fitted to a count of patients withdrawn or not infused."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from sim.analyses.calibration.fits import CUTOFF, JEFFREYS, NO_CUTOFF_DAYS, PROGRESSION, Fit, Target, gamma_by_moments
from sim.runs.runner import run_trials
from sim.errors import InputError
from sim.inputs.paper import Figure
from sim.inputs.params import Params

PROGRESSION_METRICS = ("withdrawn", "not_infused", "infused")  # in order of preference


def progression_figure(params: Params, exclude=()) -> Figure | None:
    """The seeds figure that informs the progression hazard: a count of patients withdrawn (or else
    not infused, or else infused) out of the patients enrolled; None if there is none."""
    for metric in PROGRESSION_METRICS:
        for figure in params.seeds.figures.values():
            if figure.key in exclude:
                continue
            if figure.metric == metric and figure.of is not None and not figure.qualifiers:
                if not 0 <= figure.value <= figure.of:
                    raise InputError(params.seeds.path, f"figures.{figure.key}",
                                     f"a count of {figure.value:g} of {figure.of} cannot inform a chance")
                return figure
    return None


@dataclass(frozen=True)
class PreInfusionWindows:
    """Each simulated patient's days from enrolment to the end of the pre-infusion course.

    ``days`` ends at infusion, or at a failed product; ``infusable`` is False for a patient whose
    product failed (never infused, whatever the hazard).
    """

    days: np.ndarray
    infusable: np.ndarray

    @classmethod
    def simulate(cls, params: Params, trials: int, seed: int) -> "PreInfusionWindows":
        """Windows of ``trials`` virtual trials with no progression and no cut-off."""
        quiet = params.with_values({PROGRESSION: 0.0, CUTOFF: NO_CUTOFF_DAYS}, source="calibration")
        t = run_trials(quiet, trials=trials, seed=seed).patients
        infused = ~np.isnan(t["t_infusion"])
        end = np.where(infused, t["t_infusion"], t["t_mfg_end"])
        end = np.where(np.isnan(end), t["cutoff"], end)
        return cls(days=end - t["t_enrol"], infusable=infused)

    def chance(self, metric: str, hazard: float) -> float:
        """Expected share of patients counting towards ``metric`` at this progression hazard per day."""
        withdrawn = -np.expm1(-hazard * self.days)
        not_infused = np.where(self.infusable, withdrawn, 1.0)
        return float(np.mean({"withdrawn": withdrawn, "not_infused": not_infused, "infused": 1.0 - not_infused}[metric]))


def fit_progression(windows: PreInfusionWindows, figure: Figure, draws: int,
                    rng: np.random.Generator) -> Fit:
    """Maximum-likelihood progression hazard for ``figure.value`` of ``figure.of`` (binomial), and
    its posterior from Beta(k + 1/2, n - k + 1/2) on the chance.

    Parameters
    ----------
    windows : PreInfusionWindows
        The simulated exposure.
    figure : sim.inputs.paper.Figure
        A count of patients withdrawn, not infused or infused, of those enrolled.
    draws : int
        Posterior draws.
    rng : numpy.random.Generator
        Source of the posterior draws.
    """
    k, n = figure.value, float(figure.of)
    hazard = _progression_hazard(windows, figure.metric, k / n)
    chances = stats.beta(k + JEFFREYS, n - k + JEFFREYS).rvs(draws, random_state=rng)
    grid = np.concatenate([[0.0], np.geomspace(1e-7, 1.0, 400)])
    share = np.array([windows.chance(figure.metric, h) for h in grid])
    sign = 1.0 if share[-1] > share[0] else -1.0  # 'infused' falls as the hazard rises
    sample = np.interp(sign * chances, sign * share, grid)
    target = Target(figure.key, k, n, n * float(windows.chance(figure.metric, hazard)))
    method = (f"maximum likelihood, the binomial chance being 1 - exp(-hazard x wait) averaged over the simulated "
              f"enrolment-to-infusion waits; uncertainty: Beta({k + JEFFREYS:g}, {n - k + JEFFREYS:g}) of the chance mapped "
              f"to the hazard, as a gamma with its mean and variance")
    return Fit(PROGRESSION, hazard, sample, gamma_by_moments(sample), (target,), method)


def _progression_hazard(windows: PreInfusionWindows, metric: str, chance: float) -> float:
    """The hazard per day at which the expected share counting towards ``metric`` is ``chance``
    (0 if even no progression gives more; the share is monotone in the hazard)."""
    gap = lambda h: (windows.chance(metric, h) - chance) * (-1 if metric == "infused" else 1)  # noqa: E731
    if gap(0.0) >= 0:
        return 0.0
    high = 1e-3
    while gap(high) < 0:
        high *= 4
    return float(optimize.brentq(gap, 0.0, high, xtol=1e-12, rtol=1e-10))
