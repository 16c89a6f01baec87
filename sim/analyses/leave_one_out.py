"""Leave-one-out: each calibration target predicted by a calibration that never saw it.

A calibration target passes validation by construction: the parameter was fitted to reproduce it.
For an honest predictive check, each target is left out, the calibration is refitted without it
(:func:`sim.analyses.calibration.calibrate` with ``exclude``), and the figure is validated with the
same pass rule against virtual trials of the refitted model.

Leaving one figure out is not enough when the others still give it away, so the figures hidden
from the refit are the target **and every figure that reveals it**:

- a figure the calibration would use in its place (``infused`` when ``not_infused`` is left out:
  the same count seen from the other side), found by asking the calibration for its targets again
  until no new one appears;
- the other members of a closed outcome group (outcomes at cut-off that add up to the group's
  size): knowing the size and the other counts gives the left-out count exactly.

A parameter that the full calibration fits but the refit cannot (no figure left informs it) is
**unidentified** without the target: the figure is then the only evidence on that parameter, and
no prediction of it is possible.  Such rows have status ``unidentified``: neither pass nor fail.
Pure functions: no printing, no files.
"""

from __future__ import annotations

import dataclasses

from sim.analyses.calibration import OTHER, Calibration, calibrate, late_groups, target_keys
from sim.analyses.validation import LEVEL, figure_row
from sim.stats.trial_figures import denominator_column
from sim.runs.runner import run_trials
from sim.inputs.params import Params
from sim.inputs.uncertainty import parse_scalar
from sim.table import Table

UNIDENTIFIED = "unidentified"
COLUMNS = ("figure", "left_out", "unidentified", "sim_median", "sim_low95", "sim_high95", "reported", "of",
           "percentile", "status", "trials_defined")


def revealing(params: Params, key: str) -> tuple[str, ...]:
    """The target ``key`` and every seeds figure that would give it away to the calibration, in file order."""
    targets = set(target_keys(params))
    hidden = {key}
    for group in late_groups(params):
        if key in group.keys.values() and OTHER not in group.counts:
            hidden |= set(group.keys.values())
    while new := set(target_keys(params, tuple(hidden))) - targets - hidden:
        hidden |= new
    return tuple(k for k in params.seeds.figures if k in hidden)


def refitted(params: Params, calibration: Calibration) -> Params:
    """``params`` with every fitted entry's value and uncertainty replaced by the calibration's."""
    entries = dict(params.entries)
    for fit in calibration.fits:
        uncertainty = parse_scalar(fit.uncertainty, params.path, f"{fit.path}.uncertainty")
        entries[fit.path] = dataclasses.replace(entries[fit.path], value=float(fit.value), uncertainty=uncertainty)
    return dataclasses.replace(params, entries=entries)


def leave_one_out(params: Params, trials: int = 2000, seed: int = 0, calibration_trials: int = 1000,
                  draws: int = 1000, level: float = LEVEL) -> Table:
    """Each calibration target against virtual trials of a calibration refitted without it.

    Parameters
    ----------
    params : sim.inputs.params.Params
        The trial's parameters.
    trials : int, optional
        Virtual trials (with parameter uncertainty) behind each prediction.
    seed : int, optional
        Seed of those trials and of the refits.
    calibration_trials, draws : int, optional
        Passed to :func:`sim.analyses.calibration.calibrate`.
    level : float, optional
        Coverage of the central interval.

    Returns
    -------
    sim.table.Table
        One row per calibration target, columns :data:`COLUMNS`.
    """
    full = {fit.path for fit in calibrate(params, calibration_trials, seed, draws).fits}
    rows = []
    for key in target_keys(params):
        hidden = revealing(params, key)
        refit = calibrate(params, calibration_trials, seed, draws, exclude=hidden)
        lost = sorted(full - {fit.path for fit in refit.fits})
        figure = params.seeds.figures[key]
        if lost:
            row = figure_row(figure, None, level) | {"status": UNIDENTIFIED}
        else:
            results = run_trials(refitted(params, refit), trials=trials, seed=seed, parameter_uncertainty=True)
            of = denominator_column(key)
            row = figure_row(figure, results.trials[key], level,
                             denominators=results.trials[of] if of in results.trials.names else None)
        rows.append(row | {"left_out": " ".join(hidden), "unidentified": " ".join(lost)})
    return Table({name: [row[name] for row in rows] for name in COLUMNS})
