"""Probabilistic sensitivity analysis: how uncertain each outcome is, and how much of that is the parameters.

Draw d (d = 0, 1, ...) takes every uncertain parameter from its own stream for (seed, d) through its
inverse CDF (category weights from their Dirichlet), exactly as virtual trial d of ``cartsim run
--parameter-uncertainty --seed S`` does (:mod:`sim.inputs.parameter_draws`); with ``inputs`` only those
parameters vary and the rest stay at base.  It then runs ``inner`` virtual trials of the trial's
size, with luck of their own (virtual trials d*inner .. (d+1)*inner - 1 of the seed), and keeps each
outcome's mean and variance over them.  Each outcome's distribution over draws (median, 95% interval,
histogram) is that of the per-draw mean, an estimate of E[Y | theta].

The variance split is the law of total variance for Y, an outcome of one virtual trial:
Var(Y) = E[Var(Y | theta)] + Var(E[Y | theta]), patient-level chance plus parameter uncertainty.
The within-draw sample variances s2_d estimate the first term without bias; the variance of the
draw means over-states the second by the noise each mean still carries, E[s2_d / n_d] (finite-inner
correction), which is subtracted (and the result floored at zero).  The draws have independent luck
(not common random numbers) because this correction assumes the noise is independent across draws.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from sim.stats.intervals import median_interval
from sim.inputs.params import Params
from sim.table import Table
from sim.sensitivity.execute import Collected, Design, Progress, RunInfo, run_design
from sim.sensitivity.inputs import flat_names, select_paths
from sim.sensitivity.model import Point, TrialModel
from sim.stats.key_outcomes import DEFAULT_OUTCOMES, OUTCOMES, check_outcomes
from sim.sensitivity.report import Result, citation, study_label

METHOD = "psa"
LEVEL = 0.95


def psa_design(draws: int) -> Design:
    """Point d draws the parameters for (seed, d) and runs luck block d."""
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 2:
        raise ValueError(f"draws must be a whole number >= 2, got {draws!r}")
    return Design(METHOD, draws, lambda d: Point(d, luck=d, draw=d))


def _mean_defined(values: np.ndarray) -> float:
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else np.nan


def variance_split(mean: np.ndarray, var: np.ndarray, n: np.ndarray) -> dict[str, float]:
    """The law of total variance from per-draw moments, with the finite-inner correction.

    Parameters
    ----------
    mean, var, n : ndarray, shape (draws,)
        Per draw: the outcome's mean and sample variance over its inner trials, and how many.

    Returns
    -------
    dict
        ``var_parameter`` (Var(E[Y | theta]), corrected), ``var_patient`` (E[Var(Y | theta)]), their
        shares of the total, and ``noise_in_draw_means`` (E[Var(mean | theta)], removed from the first).
    """
    defined = ~np.isnan(mean)
    noise = _mean_defined(np.where(n > 0, var / np.maximum(n, 1), np.nan)[defined])
    within = _mean_defined(var[defined])
    spread = float(np.var(mean[defined], ddof=1)) if defined.sum() > 1 else np.nan
    between = max(spread - noise, 0.0) if not (np.isnan(spread) or np.isnan(noise)) else np.nan
    total = between + within
    share = between / total if total > 0 else np.nan
    return {"var_parameter": between, "var_patient": within, "share_parameter": share,
            "share_patient": 1 - share if not np.isnan(share) else np.nan, "noise_in_draw_means": noise}


def outcome_summary(name: str, mean: np.ndarray, var: np.ndarray, n: np.ndarray) -> dict:
    """One outcome's row: its distribution over draws and the variance split."""
    defined = mean[~np.isnan(mean)]
    median, low, high = median_interval(defined, LEVEL)
    outcome = OUTCOMES.get(name)
    return {"outcome": name, "label": outcome.label if outcome else name, "unit": outcome.unit if outcome else "",
            "draws_defined": int(defined.size), "mean": float(defined.mean()) if defined.size else np.nan,
            "median": float(median), "low95": float(low), "high95": float(high)} | variance_split(mean, var, n)


@dataclass
class PsaResult(Result):
    """Per-draw inputs and outcome moments, and each outcome's summary."""

    label: str
    citation: str
    info: RunInfo
    outcomes: tuple[str, ...]
    collected: Collected
    inner: int
    method: str = METHOD

    def summary_table(self) -> Table:
        rows = [outcome_summary(name, *self.collected.column(name)) for name in self.outcomes]
        return Table({key: [row[key] for row in rows] for key in rows[0]})

    def draws_table(self) -> Table:
        c = self.collected
        columns = {"draw": np.arange(len(c.done))} | {name: c.inputs[:, j] for j, name in enumerate(c.input_names)}
        for name in self.outcomes:
            mean, var, n = c.column(name)
            columns |= {name: mean, f"{name}_var": var, f"{name}_n": n}
        return Table(columns)

    def tables(self) -> dict[str, Table]:
        return {"psa_summary.csv": self.summary_table(), "psa_draws.csv": self.draws_table()}

    def draw(self, folder: Path) -> list[Path]:
        from sim.sensitivity.plots import psa_histograms

        return psa_histograms(self, folder)


def run_psa(params: Params, *, draws: int = 1000, inner: int = 20, seed: int = 0,
            outcomes: Sequence[str] = DEFAULT_OUTCOMES, inputs: Sequence[str] | None = None, backend=None,
            out: str | Path | None = None, resume: bool = False, progress: Progress | None = None,
            keep_patients: bool = False, model=None) -> PsaResult:
    """Probabilistic sensitivity analysis of ``params``.

    Parameters
    ----------
    params : Params
        The parameters (a scenario's, to analyse a scenario).
    draws : int
        Parameter draws (outer loop).
    inner : int
        Virtual trials per draw (inner loop), each of the trial's enrolment.
    seed : int
        Seed of the draws and of the patients' luck.
    outcomes : sequence of str
        Outcome names (:data:`~sim.stats.key_outcomes.OUTCOMES`).
    inputs : sequence of str, optional
        The uncertain parameters to draw (paths or sections); default all.
    backend : optional
        Serial (default), :class:`~sim.sensitivity.backends.PoolBackend` or
        :class:`~sim.sensitivity.backends.DaskBackend`.
    out : path, optional
        Run folder: each draw is appended to it as it finishes, and the run can be resumed.
    resume : bool
        Continue the run in ``out``.
    progress : callable, optional
        ``progress(done, total)`` after each chunk of draws.
    keep_patients : bool
        Also write each draw's patient table into ``out``/patients.
    model : optional
        A :class:`~sim.sensitivity.model.FunctionModel` in place of the virtual trials (for checks).

    Returns
    -------
    PsaResult
    """
    outcomes = check_outcomes(outcomes) if model is None else tuple(model.outcomes)
    paths = tuple(select_paths(params, inputs))
    model = model or TrialModel(params, outcomes, inner, seed, draw_paths=paths, keep_patients=keep_patients)
    collected, info = run_design(psa_design(draws), model, {"draws": draws, "inputs": list(paths)},
                                 params=params, backend=backend, out=out, resume=resume, progress=progress,
                                 input_names=flat_names(params, paths))
    return PsaResult(study_label(params), citation(params), info, outcomes, collected, inner)
