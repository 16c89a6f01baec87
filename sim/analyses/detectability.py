"""Detectability: how likely validation is to notice a parameter that is wrong by a given shift.

Method.  The validation intervals are computed once, at the unshifted model (virtual trials with
parameter uncertainty, :func:`sim.analyses.validation.validation_table`).  Then, for each uncertain
parameter and each shift, the world is taken to be the base model with that one parameter shifted
(every other parameter at its base value), and R replicate "observed" trials are simulated in it
(patient-level chance only, seed ``seed + 1`` so that they share no luck with the reference run and
every shift meets the same R patients' luck).  A replicate is *flagged* when at least one modelled
figure falls outside its validation interval; a count k of n is placed, as validation places the
paper's, in the interval of the reference trials whose denominator is the replicate's own n (when
the reference run is given; a denominator fewer than 40 reference trials share is not judged).  ``p_detect`` is the share of flagged replicates: the
chance that one real trial, had this parameter been wrong by this much, would fail validation.  Its
Monte Carlo standard error is sqrt(p (1 - p) / R).  The row with shift ``none`` is the false-alarm
rate: the same chance with no parameter shifted.

Shifts.  A hazard (kind ``rate``) is halved and doubled; one whose base value is 0 (where any
multiple is 0) and every other kind (proportions, durations, spreads) go to the 2.5th and 97.5th
percentiles of its uncertainty distribution.  Category weights (Dirichlet) are not shifted.
"""

from __future__ import annotations

import math

import numpy as np

from sim.analyses.validation import MIN_AT_DENOMINATOR, NOT_MODELLED
from sim.runs.runner import run_trials
from sim.errors import InputError
from sim.inputs.params import Params
from sim.inputs.uncertainty import Uncertainty
from sim.table import Table
from sim.inputs.parameter_draws import inverse_cdf
from sim.stats.intervals import central_interval
from sim.stats.trial_figures import at_denominator, denominator_column

RATE_FACTORS = (("x0.5", 0.5), ("x2", 2.0))
PERCENTILES = (("p2.5", 0.025), ("p97.5", 0.975))
REPLICATE_SEED_OFFSET = 1
COLUMNS = ("parameter", "shift", "p_detect", "mc_se", "value", "base_value", "kind", "most_flagged", "replicates")


def shifts(params: Params, path: str) -> list[tuple[str, float]]:
    """(label, shifted value) for one parameter, by the rule in the module docstring."""
    entry = params.entries[path]
    if not isinstance(entry.uncertainty, Uncertainty):
        return []
    if entry.kind == "rate" and entry.value > 0:
        return [(label, entry.value * factor) for label, factor in RATE_FACTORS]
    return [(label, inverse_cdf(entry.uncertainty, q)) for label, q in PERCENTILES]


def flagged(trials: Table, intervals: dict[str, tuple[float, float]]) -> tuple[np.ndarray, dict[str, int]]:
    """Per replicate trial, whether some figure lies outside its interval; and how often each figure did."""
    outside = {key: _outside(np.asarray(trials[key], dtype=float), low, high) for key, (low, high) in intervals.items()}
    any_outside = np.any(np.array(list(outside.values())), axis=0) if outside else np.zeros(len(trials), bool)
    return any_outside, {key: int(np.count_nonzero(v)) for key, v in outside.items()}


def flagged_at_denominators(trials: Table, reference: Table, keys: list[str]) -> tuple[np.ndarray, dict[str, int]]:
    """As :func:`flagged`, each replicate's count judged by the reference trials at its own denominator."""
    outside = {}
    for key in keys:
        values = np.asarray(trials[key], dtype=float)
        column = denominator_column(key)
        if column not in trials.names or column not in reference.names:
            outside[key] = _outside(values, *central_interval(reference[key]))
            continue
        n = np.asarray(trials[column], dtype=float)
        out = np.zeros(len(values), bool)
        for size in np.unique(n[~np.isnan(n)]):
            at = at_denominator(reference[key], reference[column], size)
            if at.size >= MIN_AT_DENOMINATOR:
                out |= (n == size) & _outside(values, *central_interval(at))
        outside[key] = out
    any_outside = np.any(np.array(list(outside.values())), axis=0) if outside else np.zeros(len(trials), bool)
    return any_outside, {key: int(np.count_nonzero(v)) for key, v in outside.items()}


def reference_intervals(validation: Table) -> dict[str, tuple[float, float]]:
    """The validation intervals of the modelled figures with a defined interval."""
    return {r["figure"]: (r["sim_low95"], r["sim_high95"]) for r in validation.rows()
            if r["status"] != NOT_MODELLED and not math.isnan(r["sim_low95"])}


def detectability(params: Params, validation: Table, replicates: int = 400, seed: int = 0,
                  paths: list[str] | None = None, reference: Table | None = None) -> Table:
    """``p_detect`` for every uncertain parameter and shift, and for no shift.

    Parameters
    ----------
    params : sim.inputs.params.Params
        The trial's parameters at their base values.
    validation : sim.table.Table
        The validation table of the unshifted model: its intervals are the pass rule.
    replicates : int, optional
        Observed trials simulated per shift (R).
    seed : int, optional
        The validation's seed; the replicates use ``seed + 1``.
    paths : list of str, optional
        The parameters to shift (default: every uncertain one).
    reference : sim.table.Table, optional
        The validation's virtual trials: with them each replicate's count is judged at its own denominator.

    Returns
    -------
    sim.table.Table
        Columns :data:`COLUMNS`; the ``none`` row first, then parameters in file order.
    """
    intervals = reference_intervals(validation)
    if reference is None:
        judge = lambda trials: flagged(trials, intervals)  # noqa: E731
    else:
        judge = lambda trials: flagged_at_denominators(trials, reference, list(intervals))  # noqa: E731
    rows = [_row(params, judge, "(none)", "none", math.nan, replicates, seed)]
    for path in params.uncertain() if paths is None else paths:
        rows += [_row(params, judge, path, label, value, replicates, seed) for label, value in shifts(params, path)]
    return Table({name: [row[name] for row in rows] for name in COLUMNS})


def _row(params, judge, path, label, value, replicates, seed) -> dict:
    base = params.entries[path].value if path in params.entries else math.nan
    row = {"parameter": path, "shift": label, "value": value, "base_value": base,
           "kind": params.entries[path].kind if path in params.entries else "", "replicates": replicates}
    try:
        world = params.with_values({path: value}) if path in params.entries else params
    except InputError as problem:  # a shift that breaks a check across entries
        return row | {"p_detect": math.nan, "mc_se": math.nan, "most_flagged": f"not run: {problem}"}
    trials = run_trials(world, trials=replicates, seed=seed + REPLICATE_SEED_OFFSET).trials
    hits, per_figure = judge(trials)
    p = float(np.mean(hits))
    top = max(per_figure, key=per_figure.get) if per_figure and max(per_figure.values()) else ""
    return row | {"p_detect": p, "mc_se": math.sqrt(p * (1 - p) / replicates), "most_flagged": top}


def _outside(values: np.ndarray, low: float, high: float) -> np.ndarray:
    return ~np.isnan(values) & ((values < low) | (values > high))
