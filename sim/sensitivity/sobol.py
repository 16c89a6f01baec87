"""Sobol' first-order and total indices, with bootstrap intervals and the noise floor of the simulation.

Design (Saltelli et al. 2010): a scrambled Sobol' sequence in 2k dimensions gives the uniforms of two
independent matrices A and B of ``samples`` rows (a power of 2); each input goes through its own
inverse CDF (:mod:`sim.sensitivity.inputs`: Beta, Gamma, uniform, ..., and Dirichlet weights as
independent Gamma inputs normalised).  The model runs at the rows of A, of B, and of each A_B^i
(A with column i from B): samples x (k + 2) points.  The indices are those of
:func:`scipy.stats.sobol_indices` (method ``saltelli_2010``) on these evaluations, and their 95%
intervals come from a percentile bootstrap over the ``samples`` rows (the resampling that
``SobolResult.bootstrap`` does, but drawn from the run's seed, so that a run is reproducible).

Noise floor.  Every point runs virtual trials with luck of its own, so the outcome carries
patient-level noise that no input explains.  A dummy input that the model ignores is added to the
design: its first-order index estimates zero and shows how far from zero an index of an input
without effect falls; its total index estimates the noise's share of the variance, which every
input's total index also carries.  An index is reported as distinguishable when the lower end of its
interval lies above the upper end of the dummy's.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Sequence

import numpy as np
from scipy import stats
from scipy.stats import qmc

from sim.errors import InputError
from sim.inputs.params import Params
from sim.rng.streams import stream_key
from sim.table import Table
from sim.sensitivity.execute import Collected, Design, Progress, RunInfo, run_design
from sim.sensitivity.inputs import InputSpace, parameter_space, select_paths
from sim.sensitivity.model import Point, TrialModel
from sim.stats.key_outcomes import DEFAULT_OUTCOMES, OUTCOMES, check_outcomes
from sim.sensitivity.report import Result, citation, study_label

METHOD = "sobol"
LEVEL = 0.95
DESIGN_STREAM, BOOTSTRAP_STREAM = "sensitivity.sobol.design", "sensitivity.sobol.bootstrap"
BOOTSTRAP_VALUES_PER_BATCH = 2_000_000  # evaluations resampled at once, to bound the bootstrap's memory


def generator(seed: int, stream: str) -> np.random.Generator:
    """A generator of its own for one use of the run's seed."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream_key(stream),)))


def _rng_keyword(function) -> str:
    """scipy >= 1.15 takes ``rng``; earlier versions ``seed`` (qmc) or ``random_state`` (bootstrap)."""
    names = inspect.signature(function).parameters
    return next(name for name in ("rng", "seed", "random_state") if name in names)


def check_samples(samples: int) -> int:
    """The number of rows of A and B: a power of 2, as the Sobol' sequence's balance needs."""
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 2 or samples & (samples - 1):
        raise InputError("--samples", str(samples), "must be a power of 2 (e.g. 256, 512, 1024), at least 2")
    return samples


def sobol_matrices(space: InputSpace, samples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Input values of A and B (``samples`` rows each) from one scrambled Sobol' sequence in 2k dimensions."""
    k = len(space)
    sobol = qmc.Sobol(2 * k, scramble=True, **{_rng_keyword(qmc.Sobol): generator(seed, DESIGN_STREAM)})
    u = sobol.random(check_samples(samples))
    return space.transform(u[:, :k]), space.transform(u[:, k:])


def sobol_design(space: InputSpace, a: np.ndarray, b: np.ndarray) -> Design:
    """Points: the rows of A, then of B, then of A_B^1 .. A_B^k; each with luck of its own."""
    n, k = a.shape

    def point(index: int) -> Point:
        block, row = divmod(index, n)
        x = a[row] if block == 0 else b[row] if block == 1 else _swap(a[row], b[row], block - 2)
        return Point(index, space.values(x), luck=index)
    return Design(METHOD, n * (k + 2), point)


def _swap(a_row: np.ndarray, b_row: np.ndarray, column: int) -> np.ndarray:
    x = a_row.copy()
    x[column] = b_row[column]
    return x


def split_evaluations(values: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """f(A), f(B) and f(A_B^i) (shape (k, n)) from the values at every point, in design order."""
    return values[:n], values[n:2 * n], values[2 * n:].reshape(-1, n)


def sobol_estimates(f_a: np.ndarray, f_b: np.ndarray, f_ab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First-order and total indices by :func:`scipy.stats.sobol_indices`, for one or a batch of outputs.

    ``f_a`` and ``f_b`` have shape (s, n), ``f_ab`` (k, s, n); the results have shape (s, k).
    """
    result = stats.sobol_indices(func={"f_A": f_a, "f_B": f_b, "f_AB": f_ab}, n=f_a.shape[-1])
    k = f_ab.shape[0]
    return np.reshape(result.first_order, (-1, k)), np.reshape(result.total_order, (-1, k))


def bootstrap_intervals(f_a: np.ndarray, f_b: np.ndarray, f_ab: np.ndarray, resamples: int,
                        rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap intervals of every first-order and total index, resampling the n rows.

    Returns
    -------
    low, high : ndarray, shape (2, k)
        Row 0 the first-order indices, row 1 the total ones.
    """
    n, k = f_a.shape[0], f_ab.shape[0]

    def statistic(rows: np.ndarray, axis: int = -1) -> np.ndarray:
        rows = np.atleast_2d(rows)
        first, total = sobol_estimates(f_a[rows], f_b[rows], f_ab[:, rows])
        return np.concatenate([first, total], axis=1).T

    result = stats.bootstrap((np.arange(n),), statistic, vectorized=True, n_resamples=resamples,
                             batch=max(1, BOOTSTRAP_VALUES_PER_BATCH // (n * (k + 2))), method="percentile",
                             confidence_level=LEVEL, **{_rng_keyword(stats.bootstrap): rng})
    low, high = result.confidence_interval
    return np.reshape(low, (2, k)), np.reshape(high, (2, k))


def _problem(values: np.ndarray) -> str:
    """Why an outcome's indices cannot be computed, or ''."""
    undefined = int(np.isnan(values).sum())
    if undefined:
        return (f"undefined in {undefined} of {values.size} evaluations (e.g. too short a follow-up): "
                "raise --inner, or choose another outcome")
    if np.ptp(values) == 0:
        return "the same in every evaluation: no variance to apportion"
    return ""


def outcome_rows(name: str, names: Sequence[str], values: np.ndarray, n: int, resamples: int, seed: int) -> list[dict]:
    """One outcome's indices, intervals and noise floor, a row per input (the dummy last)."""
    problem = _problem(values)
    k = len(names)
    if problem:
        nan = np.full((2, k), np.nan)
        estimate, low, high = nan, nan, nan
    else:
        f_a, f_b, f_ab = split_evaluations(values, n)
        first, total = sobol_estimates(f_a[None], f_b[None], f_ab[:, None])
        estimate = np.vstack([first[0], total[0]])
        low, high = bootstrap_intervals(f_a, f_b, f_ab, resamples, generator(seed, f"{BOOTSTRAP_STREAM}.{name}"))
    floor = high[:, -1]
    return [{"outcome": name, "input": names[j], "S1": estimate[0, j], "S1_low": low[0, j], "S1_high": high[0, j],
             "ST": estimate[1, j], "ST_low": low[1, j], "ST_high": high[1, j], "floor_S1": floor[0],
             "floor_ST": floor[1], "S1_above_floor": bool(low[0, j] > floor[0]),
             "ST_above_floor": bool(low[1, j] > floor[1]), "note": problem} for j in range(k)]


@dataclass
class SobolResult(Result):
    """Sobol' indices of each outcome, with intervals and the dummy input's noise floor."""

    label: str
    citation: str
    info: RunInfo
    outcomes: tuple[str, ...]
    space: InputSpace
    samples: int
    collected: Collected
    resamples: int
    seed: int
    method: str = METHOD

    def summary_table(self) -> Table:
        return self.indices

    @cached_property
    def indices(self) -> Table:
        """The indices table, computed once (the bootstrap takes a moment)."""
        rows = [row for name in self.outcomes
                for row in outcome_rows(name, self.space.names, self.collected.column(name)[0], self.samples,
                                        self.resamples, self.seed)]
        return Table({key: [row[key] for row in rows] for key in rows[0]})

    def tables(self) -> dict[str, Table]:
        return {"sobol.csv": self.summary_table()}

    def draw(self, folder: Path) -> list[Path]:
        from sim.sensitivity.plots import sobol_bars

        return [path for name in self.outcomes for path in sobol_bars(self, name, folder)]

    def outcome_label(self, name: str) -> str:
        return OUTCOMES[name].axis_label if name in OUTCOMES else name


def run_sobol(params: Params | None = None, *, samples: int = 512, inner: int = 20, seed: int = 0,
              outcomes: Sequence[str] = DEFAULT_OUTCOMES, inputs: Sequence[str] | None = None,
              space: InputSpace | None = None, resamples: int = 1000, backend=None, out: str | Path | None = None,
              resume: bool = False, progress: Progress | None = None, keep_patients: bool = False,
              model=None) -> SobolResult:
    """Sobol' indices of the outcomes with respect to the uncertain inputs of ``params``.

    Parameters
    ----------
    params : Params, optional
        The parameters (a scenario's, to analyse a scenario); optional with ``space`` and ``model``.
    samples : int
        Rows of A and B, a power of 2; the model runs samples x (k + 2) times, k counting the dummy.
    inner : int
        Virtual trials per point.
    seed : int
        Seed of the design, the patients' luck and the bootstrap.
    outcomes, inputs, backend, out, resume, progress, keep_patients
        As for :func:`~sim.sensitivity.psa.run_psa`.
    space : InputSpace, optional
        The inputs, in place of those of ``params`` (for checks on functions with known indices).
    resamples : int
        Bootstrap resamples for the intervals.
    model : optional
        A :class:`~sim.sensitivity.model.FunctionModel` in place of the virtual trials.

    Returns
    -------
    SobolResult
    """
    outcomes = check_outcomes(outcomes) if model is None else tuple(model.outcomes)
    space = (space or parameter_space(params, select_paths(params, inputs))).with_dummy()
    a, b = sobol_matrices(space, samples, seed)
    model = model or TrialModel(params, outcomes, inner, seed, keep_patients=keep_patients)
    collected, info = run_design(sobol_design(space, a, b), model,
                                 {"samples": samples, "inputs": space.names, "resamples": resamples},
                                 params=params, backend=backend, out=out, resume=resume, progress=progress)
    return SobolResult(study_label(params), citation(params), info, outcomes, space, samples, collected, resamples,
                       seed)
