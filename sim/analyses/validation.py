"""Validation against the papers: each reported figure next to its simulated distribution.

A validation run simulates many virtual trials of the reported design, each with parameters drawn
from their uncertainty distributions (:func:`sim.runner.run_trials` with
``parameter_uncertainty=True``), and places every figure of the trial's seeds file in the
distribution of the same figure over the virtual trials.  Pure functions: no printing, no files.

Definitions used throughout:

- **at the reported denominator**: a count reported as k of n is compared with the predictive
  distribution of the count *given n*: the virtual trials whose denominator (the patients the count
  is taken among, :func:`sim.stats.trial_figures.denominator_batch`) is n, and no others.  So no
  simulated value, and no bound, exceeds n; 16/16 is set against 16 patients, never 15 of 15.  A
  figure without ``of`` is compared over every virtual trial;
- **central 95% interval**: the 2.5th and 97.5th percentiles of those values by the project's one
  percentile definition (:mod:`sim.stats.intervals`: the inverted empirical CDF by exact integer
  ranks), so each bound is a value some virtual trial produced (a whole number for a count);
  ``interval_mass`` is the share of those values inside it: at least 95%, more for a count whose
  bounds carry ties (a count cannot have an interval of exactly 95%);
- **percentile of the reported value** r: the mid-rank (mid-p) percentile 100 (P(X < r) + P(X = r) / 2)
  over the simulated values X, which for counts (many ties) puts r in the middle of its own
  probability mass rather than at either end of it; ``p_below`` and ``p_at_or_below`` give the
  ends, P(X < r) and P(X <= r), and ``percentile_mcse`` its Monte Carlo standard error
  (:mod:`sim.stats.predictive_position`);
- **central band**: ``inside`` when the mid-p percentile lies in [20, 80], the acceptance band for
  calibration targets under full parameter uncertainty; ``band_margin_se`` is its distance from the
  nearer edge in Monte Carlo standard errors (negative outside), so a verdict within about 2 of an
  edge is not settled by the number of trials;
- **pass**: r lies inside the central 95% interval, bounds included;
- **role**: what a pass can prove (:mod:`sim.analyses.roles`): ``input`` (a params entry cites the
  figure, or the figures entries cite determine it), ``calibrated`` (a fit target, or determined by
  targets and inputs), ``independent`` (neither: the only rows that test the model).
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from sim.analyses.roles import CALIBRATED, INDEPENDENT, INPUT, ROLES, figure_roles
from sim.inputs.paper import Figure, Seeds
from sim.table import Table
from sim.stats.intervals import LEVEL, central_interval, defined, interval_mass, median
from sim.stats.predictive_position import BAND, OUTSIDE, band_margin, central_band, position
from sim.stats.trial_figures import at_denominator, denominator_column

PASS, FAIL, NOT_MODELLED, NO_VALUE = "pass", "fail", "not modelled", "no simulated value"
TOO_FEW = "too few trials at the denominator"
MIN_AT_DENOMINATOR = 40  # below this the 2.5th and 97.5th percentiles are the extremes of the sample
COLUMNS = ("figure", "role", "role_reason", "says", "metric", "reported", "of", "unit", "sim_median", "sim_low95",
           "sim_high95", "interval_mass", "percentile", "p_below", "p_at_or_below", "percentile_mcse", "central_band",
           "band_margin_se", "calibration_target", "status", "trials_defined", "why")
__all__ = ["CALIBRATED", "COLUMNS", "FAIL", "INDEPENDENT", "INPUT", "LEVEL", "NOT_MODELLED", "NO_VALUE", "PASS", "ROLES",
           "TOO_FEW", "at_denominator", "central_interval", "failed", "figure_roles", "figure_row",
           "independent_count", "midrank_percentile", "outside_band", "passes_by_role", "simulated_median", "status",
           "judged_targets", "validation_table"]


def midrank_percentile(sample: Iterable[float], value: float) -> float:
    """Mid-rank percentile of ``value`` in ``sample``: 100 (P(X < value) + P(X = value) / 2).

    Parameters
    ----------
    sample : array_like
        Simulated values; NaN entries are ignored.
    value : float
        The reported value.

    Returns
    -------
    float
        A percentage in [0, 100]; NaN if the sample has no defined value.

    Examples
    --------
    >>> midrank_percentile([0, 1, 1, 2], 1)
    50.0
    >>> midrank_percentile([0, 1, 1, 2], 0)
    12.5
    """
    return float(100.0 * position(sample, value).mid_p)


def simulated_median(sample: Iterable[float]) -> float:
    """The median of ``sample`` by the project's percentile definition (NaN if nothing is defined)."""
    return median(sample)


def status(reported: float, interval: tuple[float, float]) -> str:
    """``'pass'`` if ``reported`` lies inside ``interval`` (bounds included), else ``'fail'``.

    An interval with no defined bound (the figure was never produced) gives ``'no simulated value'``.
    """
    low, high = interval
    if np.isnan(low) or np.isnan(high):
        return NO_VALUE
    return PASS if low <= reported <= high else FAIL


def figure_row(figure: Figure, values: Iterable[float] | None, level: float = LEVEL, role: str = INDEPENDENT,
               denominators: Iterable[float] | None = None, reason: str = "", target: bool = False) -> dict:
    """One row of the validation table: a reported figure against its simulated values.

    Parameters
    ----------
    figure : sim.inputs.paper.Figure
        The reported figure.
    values : array_like or None
        The figure computed on each virtual trial; None for a figure the model does not produce.
    level : float, optional
        Coverage of the central interval.
    role, reason : str, optional
        The figure's role and why (:func:`sim.analyses.roles.figure_roles`).
    denominators : array_like, optional
        The figure's denominator in each virtual trial: with ``figure.of``, only the trials where it
        equals ``of`` are compared (:func:`at_denominator`).
    target : bool, optional
        Whether the figure is a calibration target (:func:`sim.analyses.calibration.target_keys`).

    Returns
    -------
    dict
        The columns of :data:`COLUMNS`.
    """
    row = {"figure": figure.key, "role": role, "role_reason": reason, "says": figure.says, "metric": figure.metric,
           "reported": figure.value, "of": np.nan if figure.of is None else float(figure.of), "unit": figure.unit,
           "why": figure.why, "calibration_target": bool(target)}
    empty = {"sim_median": np.nan, "sim_low95": np.nan, "sim_high95": np.nan, "interval_mass": np.nan,
             "percentile": np.nan, "p_below": np.nan, "p_at_or_below": np.nan, "percentile_mcse": np.nan,
             "central_band": "", "band_margin_se": np.nan}
    if not figure.modelled or values is None:
        return row | empty | {"status": NOT_MODELLED, "trials_defined": 0.0}
    x = defined(at_denominator(values, denominators, figure.of))
    if figure.of is not None and denominators is not None and 0 < x.size < MIN_AT_DENOMINATOR:
        return row | empty | {"status": TOO_FEW, "trials_defined": float(x.size)}
    interval = central_interval(x, level)
    return row | {"sim_median": median(x), "sim_low95": interval[0], "sim_high95": interval[1],
                  "interval_mass": interval_mass(x, interval), **band_columns(x, figure.value),
                  "status": status(figure.value, interval), "trials_defined": float(x.size)}


def band_columns(sample: Iterable[float], reported: float, band: tuple[float, float] = BAND) -> dict:
    """The position columns of a row: mid-p percentile, P(X < r), P(X <= r), the percentile's Monte Carlo
    standard error (percentage points), the central-band verdict and its margin in standard errors."""
    where = position(sample, reported)
    return {"percentile": 100.0 * where.mid_p, "p_below": where.below, "p_at_or_below": where.at_or_below,
            "percentile_mcse": 100.0 * where.mid_p_se, "central_band": central_band(where, band),
            "band_margin_se": band_margin(where, band)}


def validation_table(seeds: Seeds, trials: Table, level: float = LEVEL,
                     roles: dict[str, tuple[str, str]] | None = None, targets: Iterable[str] = ()) -> Table:
    """Every figure of ``seeds`` against its values over the virtual trials, grouped by role
    (inputs, then calibration targets, then independent figures), in file order within a role.

    Parameters
    ----------
    seeds : sim.inputs.paper.Seeds
        The trial's reported figures.
    trials : sim.table.Table
        One row per virtual trial with a column per modelled figure and its denominator (``Results.trials``).
    level : float, optional
        Coverage of the central interval.
    roles : dict, optional
        Each figure's (role, reason) (:func:`figure_roles`); every figure is ``independent`` if not given.
    targets : iterable of str, optional
        The calibration targets (:func:`sim.analyses.calibration.target_keys`): their rows are marked.

    Returns
    -------
    sim.table.Table
        One row per figure (modelled or not), columns :data:`COLUMNS`.
    """
    roles, targets = roles or {}, frozenset(targets)
    order = sorted(seeds.figures, key=lambda key: ROLES.index(roles.get(key, (INDEPENDENT,))[0]))
    rows = []
    for key in order:
        figure, (role, reason) = seeds.figures[key], roles.get(key, (INDEPENDENT, ""))
        denominators = trials[denominator_column(key)] if denominator_column(key) in trials.names else None
        rows.append(figure_row(figure, trials[key] if figure.modelled else None, level, role, denominators, reason,
                               key in targets))
    return Table({name: [row[name] for row in rows] for name in COLUMNS})


def independent_count(table: Table) -> int:
    """How many modelled figures are genuinely independent of the inputs and the fit."""
    return sum(r["role"] == INDEPENDENT and r["status"] != NOT_MODELLED for r in table.rows())


def failed(table: Table) -> list[str]:
    """Keys of the figures that did not pass (failed, or never produced by a simulated trial)."""
    return [row["figure"] for row in table.rows() if row["status"] in (FAIL, NO_VALUE)]


def passes_by_role(table: Table) -> dict[str, tuple[int, int]]:
    """For each role with a modelled figure: (figures that pass, modelled figures)."""
    counts = {}
    for role in ROLES:
        rows = [r for r in table.rows() if r["role"] == role and r["status"] not in (NOT_MODELLED, TOO_FEW)]
        if rows:
            counts[role] = (sum(r["status"] == PASS for r in rows), len(rows))
    return counts


def judged_targets(table: Table) -> list[dict]:
    """The rows of the calibration targets that were judged (modelled, enough trials at their denominator)."""
    return [row for row in table.rows() if row["calibration_target"] and row["central_band"]]


def outside_band(table: Table) -> list[str]:
    """Keys of the calibration targets whose mid-p percentile lies outside the central 20-80 band."""
    return [row["figure"] for row in judged_targets(table) if row["central_band"] == OUTSIDE]
