"""Morris elementary-effects screening (SALib): a cheap ranking of many inputs.

SALib draws ``trajectories`` one-at-a-time paths through a grid of ``levels`` levels in the unit
hypercube; grid value x of an input is its quantile 0.025 + 0.95 x, taken through the input's
inverse CDF (:mod:`sim.sensitivity.inputs`), so each input moves across its central 95% range (as
in the one-way analysis) whatever its distribution.  mu* (the mean absolute elementary effect) ranks
the inputs: an elementary effect is the change in the outcome per unit of that range.  sigma, the
standard deviation of the effects, flags non-linearity or interactions.  Every point runs the same
virtual trials (common random numbers), so an effect is the input's and not chance.

SALib is an optional extra: ``pip install 'cartsim[sensitivity]'``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Sequence

import numpy as np

from sim.errors import InputError
from sim.inputs.params import Params
from sim.table import Table
from sim.sensitivity.execute import Collected, Design, Progress, RunInfo, run_design
from sim.sensitivity.inputs import InputSpace, parameter_space, select_paths
from sim.sensitivity.model import Point, TrialModel
from sim.stats.key_outcomes import DEFAULT_OUTCOMES, OUTCOMES, check_outcomes
from sim.sensitivity.report import Result, citation, study_label
from sim.sensitivity.sobol import generator

METHOD = "morris"
LOW_QUANTILE, HIGH_QUANTILE = 0.025, 0.975
LEVEL = 0.95
DESIGN_STREAM, BOOTSTRAP_STREAM = "sensitivity.morris.design", "sensitivity.morris.bootstrap"


def _salib():
    try:
        from SALib.analyze import morris as analyze
        from SALib.sample import morris as sample
    except ImportError:
        raise InputError("morris", "", "needs SALib: pip install 'cartsim[sensitivity]'") from None
    return sample, analyze


def problem(space: InputSpace) -> dict:
    """SALib's problem: every input on the unit interval (its quantile range is applied afterwards)."""
    return {"num_vars": len(space), "names": space.names, "bounds": [[0.0, 1.0]] * len(space)}


def morris_grid(space: InputSpace, trajectories: int, levels: int, seed: int) -> np.ndarray:
    """SALib's trajectories on the unit grid: (trajectories x (k + 1)) rows, a column per input."""
    if trajectories < 2 or levels < 2 or levels % 2:
        raise InputError("--trajectories/--levels", f"{trajectories}/{levels}",
                         "need at least 2 trajectories and an even number of levels >= 2")
    sample, _ = _salib()
    return sample.sample(problem(space), trajectories, num_levels=levels, seed=generator(seed, DESIGN_STREAM))


def morris_design(space: InputSpace, grid: np.ndarray) -> Design:
    """Point j sets the inputs to row j of the grid, through their quantiles; all on the same luck."""
    values = space.transform(LOW_QUANTILE + (HIGH_QUANTILE - LOW_QUANTILE) * grid)
    return Design(METHOD, len(grid), lambda j: Point(j, space.values(values[j])))


def outcome_rows(name: str, space: InputSpace, grid: np.ndarray, y: np.ndarray, levels: int,
                 resamples: int, seed: int) -> list[dict]:
    """One outcome's mu, mu* (with its bootstrap interval half-width) and sigma, a row per input."""
    k = len(space)
    if np.isnan(y).any():
        note = (f"undefined in {int(np.isnan(y).sum())} of {y.size} evaluations: raise --inner, "
                "or choose another outcome")
        stats = {key: np.full(k, np.nan) for key in ("mu", "mu_star", "mu_star_conf", "sigma")}
    else:
        _, analyze = _salib()
        note = ""
        stats = analyze.analyze(problem(space), grid, y, num_resamples=resamples, conf_level=LEVEL,
                                num_levels=levels, seed=generator(seed, f"{BOOTSTRAP_STREAM}.{name}"))
    return [{"outcome": name, "input": space.names[j], "mu": float(stats["mu"][j]),
             "mu_star": float(stats["mu_star"][j]), "mu_star_conf": float(stats["mu_star_conf"][j]),
             "sigma": float(stats["sigma"][j]), "note": note} for j in range(k)]


@dataclass
class MorrisResult(Result):
    """Elementary-effect statistics of each outcome, per input."""

    label: str
    citation: str
    info: RunInfo
    outcomes: tuple[str, ...]
    space: InputSpace
    grid: np.ndarray
    levels: int
    collected: Collected
    resamples: int
    seed: int
    method: str = METHOD

    @cached_property
    def effects(self) -> Table:
        rows = [row for name in self.outcomes
                for row in outcome_rows(name, self.space, self.grid, self.collected.column(name)[0], self.levels,
                                        self.resamples, self.seed)]
        return Table({key: [row[key] for row in rows] for key in rows[0]})

    def summary_table(self) -> Table:
        return self.effects

    def tables(self) -> dict[str, Table]:
        return {"morris.csv": self.effects}

    def draw(self, folder: Path) -> list[Path]:
        from sim.sensitivity.plots import morris_bars

        return [path for name in self.outcomes for path in morris_bars(self, name, folder)]

    def outcome_label(self, name: str) -> str:
        return OUTCOMES[name].axis_label if name in OUTCOMES else name


def run_morris(params: Params | None = None, *, trajectories: int = 20, levels: int = 4, inner: int = 20,
               seed: int = 0, outcomes: Sequence[str] = DEFAULT_OUTCOMES, inputs: Sequence[str] | None = None,
               space: InputSpace | None = None, resamples: int = 1000, backend=None, out: str | Path | None = None,
               resume: bool = False, progress: Progress | None = None, keep_patients: bool = False,
               model=None) -> MorrisResult:
    """Morris screening of the uncertain inputs of ``params``.

    Parameters
    ----------
    params : Params, optional
        The parameters (a scenario's, to analyse a scenario); optional with ``space`` and ``model``.
    trajectories : int
        Paths through the grid; the model runs trajectories x (k + 1) times.
    levels : int
        Grid levels per input (even).
    inner : int
        Virtual trials per point (the same trials for every point).
    seed : int
        Seed of the trajectories, the virtual trials and the bootstrap of mu*.
    outcomes, inputs, space, backend, out, resume, progress, keep_patients, model
        As for :func:`~sim.sensitivity.sobol.run_sobol`.
    resamples : int
        Bootstrap resamples for the interval of mu*.

    Returns
    -------
    MorrisResult
    """
    outcomes = check_outcomes(outcomes) if model is None else tuple(model.outcomes)
    space = space or parameter_space(params, select_paths(params, inputs))
    grid = morris_grid(space, trajectories, levels, seed)
    model = model or TrialModel(params, outcomes, inner, seed, keep_patients=keep_patients)
    config = {"trajectories": trajectories, "levels": levels, "inputs": space.names, "resamples": resamples}
    collected, info = run_design(morris_design(space, grid), model, config, params=params, backend=backend,
                                 out=out, resume=resume, progress=progress)
    return MorrisResult(study_label(params), citation(params), info, outcomes, space, grid, levels, collected,
                        resamples, seed)
