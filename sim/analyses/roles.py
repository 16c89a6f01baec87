"""What a validation figure can prove: its role, decided by what the parameters rest on.

A figure is **used** when a params entry cites it (``source = "seeds:KEY"``, or one of several in
``"seeds:a+seeds:b"``): role ``input``; or when ``cartsim calibrate`` fits to it
(:func:`sim.analyses.calibration.target_keys`): role ``calibrated``.  An entry that uses a count k
of n uses its denominator n as well.

A figure nobody cites can still be given away by the ones that are used: the infused are the
enrolled less the not infused; the third response category is the infused less the other two; a
figure may count the very patients another one counts.  So the rule is numerical and cannot be
gamed by naming: a figure is **determined** when, over the virtual trials, its value is an exact
linear function of the used figures and their denominators (a least-squares fit with a constant
leaves no residual in any trial).  It then takes the role of what determines it (``input`` if the
inputs alone do, else ``calibrated``).  Only a figure that is neither used nor determined is
``independent``: the only kind whose pass tests the model rather than its inputs or its fit.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from sim.analyses.calibration import target_keys
from sim.stats.trial_figures import denominator_column

INPUT, CALIBRATED, INDEPENDENT = "input", "calibrated", "independent"
ROLES = (INPUT, CALIBRATED, INDEPENDENT)
EXACT = 1e-6  # largest residual of a fit that counts as exact: far below one patient, far above rounding
MIN_TRIALS = 20  # fewer trials with every column defined cannot show that a figure is determined


def used_figures(params) -> dict[str, tuple[str, str]]:
    """Figures used directly: key to (role, reason), inputs before calibration targets."""
    used: dict[str, tuple[str, str]] = {}
    for path, entry in params.entries.items():
        for key in entry.seeds_keys:
            if key in params.seeds.figures and key not in used:
                used[key] = (INPUT, f"{path} cites it")
    for key in target_keys(params):
        used.setdefault(key, (CALIBRATED, "a calibration target"))
    return used


def figure_roles(params, trials: Mapping[str, np.ndarray] | None = None) -> dict[str, tuple[str, str]]:
    """Each seeds figure's role and the reason for it, in file order.

    Parameters
    ----------
    params : sim.inputs.params.Params
        The trial's parameters (their sources, and their seeds file).
    trials : mapping, optional
        Columns of virtual trials (``Results.trials``): each figure and its denominator per trial.  Without
        them only the figures used directly are found.

    Returns
    -------
    dict
        Figure key to (role, reason).
    """
    used = used_figures(params)
    roles = {}
    for key, figure in params.seeds.figures.items():
        if key in used:
            roles[key] = used[key]
        elif trials is not None and figure.modelled and key in trials:
            roles[key] = _determined(key, used, trials) or (INDEPENDENT, "no entry uses it, and the used figures "
                                                                         "do not determine it")
        else:
            roles[key] = (INDEPENDENT, "no entry uses it")
    return roles


def _determined(key: str, used: dict[str, tuple[str, str]], trials) -> tuple[str, str] | None:
    """(role, reason) if ``key`` is an exact linear function of the inputs, or of inputs and targets."""
    for role, allowed in ((INPUT, (INPUT,)), (CALIBRATED, (INPUT, CALIBRATED))):
        names = [k for k, (r, _) in used.items() if r in allowed]
        columns = {name: trials[c] for k in names for name, c in ((k, k), (f"{k} (its denominator)",
                                                                          denominator_column(k))) if c in trials}
        given = determined_by(np.asarray(trials[key], dtype=float), columns)
        if given:
            return role, "determined by " + ", ".join(given)
    return None


def determined_by(target: np.ndarray, columns: Mapping[str, np.ndarray]) -> list[str]:
    """The columns that ``target`` is an exact linear function of (with a constant), or [] if it is not.

    Rows where anything is undefined (NaN) are left out; too few rows left (:data:`MIN_TRIALS`) means
    nothing can be shown, and [] is returned.

    Examples
    --------
    >>> enrolled = np.full(30, 19.0); not_infused = np.arange(30.0) % 4
    >>> determined_by(19 - not_infused, {"not_infused": not_infused})
    ['not_infused']
    >>> determined_by(np.arange(30.0) % 3, {"not_infused": not_infused})
    []
    """
    values = {n: np.asarray(v, dtype=float) for n, v in columns.items()}
    x = np.column_stack([np.ones(len(target)), *values.values()])
    rows = ~np.isnan(target) & ~np.isnan(x).any(axis=1)
    if rows.sum() < MIN_TRIALS:
        return []
    names = [n for n in values if np.ptp(values[n][rows]) > 0]  # a constant column is the constant again
    x = np.column_stack([np.ones(len(target))] + [values[n] for n in names])
    coef, *_ = np.linalg.lstsq(x[rows], target[rows], rcond=None)
    if np.max(np.abs(x[rows] @ coef - target[rows])) > EXACT * max(1.0, np.max(np.abs(target[rows]))):
        return []
    if np.ptp(target[rows]) == 0:
        return ["a constant: the same value in every virtual trial"]
    return [n for n, c in zip(names, coef[1:]) if abs(c) > EXACT] or ["a constant"]
