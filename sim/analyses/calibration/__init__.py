"""Calibration: the inputs the papers give only through outcomes, fitted to the reported counts.

Three kinds of input are known only through what happened to the patients; each is fitted when,
and only when, the trial's seeds file reports a figure that informs it:

- **pre-infusion progression hazard** (``withdrawal.progression_hazard``, :mod:`.progression`),
  from a count of patients withdrawn (metric ``withdrawn``) or not infused (``not_infused`` /
  ``infused``);
- **data cut-off** (``accrual.cutoff_after_last_enrolment_days``, :mod:`.cutoff`), from the median
  follow-up (``median_followup_months``);
- **late hazard levels** (``late.*_hazard`` before and after transplant, :mod:`.late`), from the
  outcomes at cut-off by transplant status (``late_outcome``); each cause's shape over time since
  infusion is an input, only its level is fitted, and after transplant the fit combines a prior
  from published outcomes with the trial's counts.

Method: likelihood with censoring on a fixed-seed simulated exposure.  Virtual trials at the base
parameters (one seed, so every candidate value meets the same simulated patients) give each
patient's *window*: for the progression hazard, the days from enrolment to infusion (or to a
failed product); for the late hazards, the days from the response assessment to the cut-off and
the planned transplant day.  The chance of each reported outcome is then exact (piecewise-constant
hazards over each window: no second simulation, so the likelihood is smooth), averaged over the
windows.  Each virtual trial's late windows end where that trial reports the paper's median follow-up
(:func:`~sim.analyses.calibration.cutoff.trial_cutoffs`): the likelihood conditions on the follow-up
the paper reports instead of cutting every trial at one cut-off, so the cut-off's uncertainty needs no
sampling.  :mod:`sim.analyses.calibrated_params` writes the fitted entries back into a params file.
"""

from __future__ import annotations

import numpy as np

from sim.analyses.calibration.cutoff import LateWindows, fit_cutoff, followup_figure
from sim.analyses.calibration.fits import (CUTOFF, JEFFREYS, LEVEL, NO_CUTOFF_DAYS, PROGRESSION, Calibration, Fit,
                                           Target, gamma_by_moments, triangular_by_quantiles)
from sim.analyses.calibration.late import (CAUSE_STATES, OTHER, LateGroup, LateModel, applies, fit_late, hazard_path,
                                           late_groups)
from sim.analyses.calibration.progression import PreInfusionWindows, fit_progression, progression_figure
from sim.inputs.params import Params
from sim.model.late_bands import LATE_CAUSES
from sim.rng.streams import stream_key

__all__ = ["CAUSE_STATES", "CUTOFF", "Calibration", "Fit", "JEFFREYS", "LEVEL", "LateGroup", "LateModel",
           "LateWindows", "NO_CUTOFF_DAYS", "OTHER", "PROGRESSION", "PreInfusionWindows", "Target", "calibrate",
           "fit_cutoff", "fit_late", "fit_progression", "followup_figure", "gamma_by_moments", "late_groups",
           "late_windows", "progression_figure", "target_keys", "triangular_by_quantiles"]


def calibrate(params: Params, trials: int = 1000, seed: int = 0, draws: int = 1000, exclude=()) -> Calibration:
    """Fit every input that the trial's seeds figures inform, in pathway order.

    The progression hazard is fitted first (it decides who is infused), then the cut-off (it sets
    the windows after response), then the late hazard levels.

    Parameters
    ----------
    params : sim.inputs.params.Params
        The trial's parameters; the fitted entries' current values are not used.
    trials : int, optional
        Virtual trials simulated for the windows (the exposure).
    seed : int, optional
        Seed of those trials: the same for every candidate value (common random numbers).
    draws : int, optional
        Posterior draws behind each fit's uncertainty.
    exclude : iterable of str, optional
        Seeds figure keys left out of the fit (e.g. for leave-one-out validation).

    Returns
    -------
    Calibration
        The fits; ``skipped`` says why an input was not fitted.
    """
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 10:
        raise ValueError(f"draws must be a whole number >= 10, got {draws!r}")
    exclude = frozenset(exclude)
    unknown = sorted(exclude - set(params.seeds.figures))
    if unknown:
        raise ValueError(f"exclude names figures the seeds file does not have: {unknown}")
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream_key("calibration"),)))
    skipped: dict[str, str] = {}
    pre_infusion = PreInfusionWindows.simulate(params, trials, seed) if progression_figure(params, exclude) else None
    progression = _progression_step(pre_infusion, params, draws, rng, skipped, exclude)
    current = _with_fits(params, progression)
    late_needed = followup_figure(params, exclude) is not None or bool(late_groups(params, exclude))
    windows = LateWindows.simulate(current, trials, seed) if late_needed else None
    cutoff = _cutoff_step(current, windows, skipped, exclude)
    current = _with_fits(current, cutoff)
    cut = late_windows(windows, current, exclude)
    late = _late_step(current, cut, draws, rng, skipped, exclude)
    return Calibration(params, tuple(progression + cutoff + late), trials, seed, draws, skipped, exclude,
                       pre_infusion if progression else None, cut if late else None)


def target_keys(params: Params, exclude=()) -> list[str]:
    """Keys of the seeds figures that :func:`calibrate` fits to (with ``exclude`` left out), in file order."""
    exclude = frozenset(exclude)
    keys = {f.key for f in (progression_figure(params, exclude), followup_figure(params, exclude)) if f is not None}
    keys |= {key for group in late_groups(params, exclude) for key in group.keys.values()}
    return [key for key in params.seeds.figures if key in keys]


def _with_fits(params: Params, fits: list[Fit]) -> Params:
    return params.with_values({fit.path: fit.value for fit in fits}, source="calibration")


def _progression_step(windows, params, draws, rng, skipped, exclude) -> list[Fit]:
    figure = progression_figure(params, exclude)
    if figure is None:
        skipped[PROGRESSION] = "the seeds file reports no count of patients withdrawn or not infused"
        return []
    return [fit_progression(windows, figure, draws, rng)]


def _cutoff_step(params, windows, skipped, exclude) -> list[Fit]:
    figure = followup_figure(params, exclude)
    if figure is None:
        skipped[CUTOFF] = "the seeds file reports no median follow-up"
        return []
    return [fit_cutoff(windows, figure)]


def late_windows(windows, params, exclude=()):
    """The windows the late levels are fitted on: each virtual trial cut where it reports the seeds' median
    follow-up (conditioning on it, rather than cutting every trial at one cut-off), or at the params file's
    cut-off when the seeds report none."""
    if windows is None:
        return None
    figure = followup_figure(params, exclude)
    return windows.at_trial_cutoffs(figure) if figure is not None else windows.at_cutoff(params[CUTOFF])


def _late_step(params, windows, draws, rng, skipped, exclude) -> list[Fit]:
    groups = late_groups(params, exclude)
    fits = fit_late(windows, groups, params, draws, rng) if groups else []
    why = ("the seeds file reports no outcome at cut-off that this hazard acts on" if groups
           else "the seeds file reports no outcome at cut-off by transplant status")
    done = {fit.path for fit in fits}
    every = [hazard_path(c, t) for t in (False, True) for c in LATE_CAUSES if applies(c, t)]
    skipped.update({path: why for path in every if path not in done})
    return fits
