"""Validation against the papers: each reported figure next to its simulated distribution.

A validation run simulates many virtual trials of the reported design, each with parameters drawn
from their uncertainty distributions (:func:`sim.runner.run_trials` with
``parameter_uncertainty=True``), and places every figure of the trial's seeds file in the
distribution of the same figure over the virtual trials.  Pure functions: no printing, no files.

Definitions used throughout:

- **central 95% interval**: the 2.5th and 97.5th percentiles of the simulated values by the
  inverted empirical CDF (``numpy.quantile(..., method="inverted_cdf")``), so that each bound is
  a value some virtual trial produced (a whole number for a count);
- **percentile of the reported value** r: the mid-rank percentile 100 (P(X < r) + P(X = r) / 2)
  over the simulated values X, which for counts (many ties) puts r in the middle of its own
  probability mass rather than at either end of it;
- **pass**: r lies inside the central 95% interval, bounds included;
- **role**: what a pass can prove.  ``input``: the figure sets a parameter directly (some params
  entry has source ``seeds:KEY``), so a pass only shows the model reproduces its own input;
  ``calibrated``: a fit target of ``cartsim calibrate`` (:func:`sim.analyses.calibration.target_keys`),
  so a pass shows the fit worked; ``independent``: neither, the only rows that test the model.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from sim.analyses.calibration import target_keys
from sim.inputs.paper import Figure, Seeds
from sim.table import Table

LEVEL = 0.95
PASS, FAIL, NOT_MODELLED, NO_VALUE = "pass", "fail", "not modelled", "no simulated value"
INPUT, CALIBRATED, INDEPENDENT = "input", "calibrated", "independent"
ROLES = (INPUT, CALIBRATED, INDEPENDENT)
COLUMNS = ("figure", "role", "says", "metric", "reported", "of", "unit", "sim_median", "sim_low95", "sim_high95",
           "percentile", "status", "trials_defined", "why")


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
    x = _defined(sample)
    if x.size == 0:
        return np.nan
    below, tied = np.count_nonzero(x < value), np.count_nonzero(x == value)
    return float(100.0 * (below + tied / 2.0) / x.size)


def central_interval(sample: Iterable[float], level: float = LEVEL) -> tuple[float, float]:
    """The central ``level`` interval of ``sample`` by the inverted empirical CDF.

    Parameters
    ----------
    sample : array_like
        Simulated values; NaN entries are ignored.
    level : float, optional
        Coverage of the interval (default 0.95: the 2.5th and 97.5th percentiles).

    Returns
    -------
    tuple of float
        (low, high), both values that occur in the sample; (NaN, NaN) if none is defined.
    """
    x = _defined(sample)
    if x.size == 0:
        return np.nan, np.nan
    low, high = np.quantile(x, [(1 - level) / 2, (1 + level) / 2], method="inverted_cdf")
    return float(low), float(high)


def simulated_median(sample: Iterable[float]) -> float:
    """The median of ``sample`` by the inverted empirical CDF (NaN if nothing is defined)."""
    x = _defined(sample)
    return float(np.quantile(x, 0.5, method="inverted_cdf")) if x.size else np.nan


def status(reported: float, interval: tuple[float, float]) -> str:
    """``'pass'`` if ``reported`` lies inside ``interval`` (bounds included), else ``'fail'``.

    An interval with no defined bound (the figure was never produced) gives ``'no simulated value'``.
    """
    low, high = interval
    if np.isnan(low) or np.isnan(high):
        return NO_VALUE
    return PASS if low <= reported <= high else FAIL


def figure_roles(params) -> dict[str, str]:
    """Each seeds figure's role: ``input`` if a params entry has source ``seeds:KEY`` for it, else
    ``calibrated`` if the calibration fits to it, else ``independent``.

    Parameters
    ----------
    params : sim.inputs.params.Params
        The trial's parameters (their sources, and their seeds file).

    Returns
    -------
    dict
        Figure key to role, in file order.
    """
    inputs = {e.source[len("seeds:"):] for e in params.entries.values() if e.source.startswith("seeds:")}
    targets = set(target_keys(params))
    return {key: INPUT if key in inputs else CALIBRATED if key in targets else INDEPENDENT
            for key in params.seeds.figures}


def figure_row(figure: Figure, values: Iterable[float] | None, level: float = LEVEL, role: str = INDEPENDENT) -> dict:
    """One row of the validation table: a reported figure against its simulated values.

    Parameters
    ----------
    figure : sim.inputs.paper.Figure
        The reported figure.
    values : array_like or None
        The figure computed on each virtual trial; None for a figure the model does not produce.
    level : float, optional
        Coverage of the central interval.

    Returns
    -------
    dict
        The columns of :data:`COLUMNS`.
    """
    row = {"figure": figure.key, "role": role, "says": figure.says, "metric": figure.metric, "reported": figure.value,
           "of": np.nan if figure.of is None else float(figure.of), "unit": figure.unit, "why": figure.why}
    if not figure.modelled or values is None:
        return row | {"sim_median": np.nan, "sim_low95": np.nan, "sim_high95": np.nan, "percentile": np.nan,
                      "status": NOT_MODELLED, "trials_defined": 0.0}
    interval = central_interval(values, level)
    return row | {"sim_median": simulated_median(values), "sim_low95": interval[0], "sim_high95": interval[1],
                  "percentile": midrank_percentile(values, figure.value),
                  "status": status(figure.value, interval), "trials_defined": float(_defined(values).size)}


def validation_table(seeds: Seeds, trials: Table, level: float = LEVEL, roles: dict[str, str] | None = None) -> Table:
    """Every figure of ``seeds`` against its values over the virtual trials, grouped by role
    (inputs, then calibration targets, then independent figures), in file order within a role.

    Parameters
    ----------
    seeds : sim.inputs.paper.Seeds
        The trial's reported figures.
    trials : sim.table.Table
        One row per virtual trial with a column per modelled figure (``Results.trials``).
    level : float, optional
        Coverage of the central interval.
    roles : dict, optional
        Each figure's role (:func:`figure_roles`); every figure is ``independent`` if not given.

    Returns
    -------
    sim.table.Table
        One row per figure (modelled or not), columns :data:`COLUMNS`.
    """
    roles = roles or {}
    order = sorted(seeds.figures, key=lambda key: ROLES.index(roles.get(key, INDEPENDENT)))
    rows = [figure_row(seeds.figures[key], trials[key] if seeds.figures[key].modelled else None, level,
                       roles.get(key, INDEPENDENT)) for key in order]
    return Table({name: [row[name] for row in rows] for name in COLUMNS})


def failed(table: Table) -> list[str]:
    """Keys of the figures that did not pass (failed, or never produced by a simulated trial)."""
    return [row["figure"] for row in table.rows() if row["status"] in (FAIL, NO_VALUE)]


def passes_by_role(table: Table) -> dict[str, tuple[int, int]]:
    """For each role with a modelled figure: (figures that pass, modelled figures)."""
    counts = {}
    for role in ROLES:
        rows = [r for r in table.rows() if r["role"] == role and r["status"] != NOT_MODELLED]
        if rows:
            counts[role] = (sum(r["status"] == PASS for r in rows), len(rows))
    return counts


def _defined(sample: Iterable[float]) -> np.ndarray:
    x = np.asarray(list(sample) if not isinstance(sample, np.ndarray) else sample, dtype=float)
    return x[~np.isnan(x)]
