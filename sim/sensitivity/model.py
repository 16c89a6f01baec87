"""What one evaluation of a sensitivity design is: a point of parameter values in, outcome moments out.

A :class:`Point` sets some parameters (the rest stay at their base values), or, for a probabilistic
analysis, names a parameter draw.  :class:`TrialModel` runs ``inner`` virtual trials at those
parameters and returns, per outcome, the mean and variance over the trials (:class:`Moments`):
memory stays flat whatever the number of points, and patient tables are kept only when asked.

Patient-level luck.  Evaluation luck block b runs virtual trials b*inner .. (b+1)*inner - 1 of the
seed (the counter-based streams of :mod:`sim.rng.streams` give each trial index its own luck).  A design
that compares points on common random numbers gives them all block 0; one that needs independent
noise gives each point its own block.  A :class:`FunctionModel` wraps a plain function of the
values instead, so the designs and analyses can be checked on functions with known answers through
the same code path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from sim.inputs.parameter_draws import draw_values
from sim.inputs.param_batch import ParamBatch
from sim.inputs.params import Params
from sim.model.records import TrialRecord
from sim.runs.runner import BATCH, choose_engine, facility_capacities, row_engines, simulate
from sim.model.draws import draw_uniforms
from sim.rng.streams import check_seed, stream_key
from sim.table import Table
from sim.sensitivity.inputs import flat_inputs
from sim.stats.batch import Batch
from sim.stats.key_outcomes import OUTCOMES

FUNCTION_STREAM = "sensitivity.function"


@dataclass(frozen=True)
class Point:
    """One evaluation of a design.

    Parameters
    ----------
    index : int
        Its position in the design; results are stored and sorted by it.
    values : mapping
        Parameter path -> value (a number, or weights by category); other parameters at base.
    luck : int
        The block of virtual trials it runs (see the module docstring).
    draw : int or None
        For a probabilistic analysis: first draw the model's uncertain parameters from their
        streams for (seed, draw), as virtual trial ``draw`` of ``cartsim run --parameter-uncertainty``.
    """

    index: int
    values: Mapping[str, Any] = field(default_factory=dict)
    luck: int = 0
    draw: int | None = None


@dataclass(frozen=True)
class Moments:
    """An outcome over the inner trials of one evaluation: mean and variance where defined, and how many."""

    mean: float
    var: float
    n: int

    @staticmethod
    def of(values: np.ndarray) -> "Moments":
        """Moments of the defined (not NaN) values; variance with n - 1, NaN below two values."""
        defined = np.asarray(values, dtype=float)
        defined = defined[~np.isnan(defined)]
        mean = float(defined.mean()) if defined.size else math.nan
        var = float(defined.var(ddof=1)) if defined.size > 1 else math.nan
        return Moments(mean, var, int(defined.size))


@dataclass(frozen=True)
class Evaluation:
    """The result of one point: the input values it ran with, and each outcome's moments."""

    index: int
    inputs: dict[str, float]
    outcomes: dict[str, Moments]
    patients: Table | None = None

    def to_json(self) -> dict:
        """A JSON-ready record (floats round-trip exactly; NaN is written as NaN)."""
        return {"index": self.index, "inputs": self.inputs,
                "outcomes": {name: [m.mean, m.var, m.n] for name, m in self.outcomes.items()}}

    @staticmethod
    def from_json(record: dict) -> "Evaluation":
        outcomes = {name: Moments(float(m), float(v), int(n)) for name, (m, v, n) in record["outcomes"].items()}
        return Evaluation(int(record["index"]), {k: float(v) for k, v in record["inputs"].items()}, outcomes)


def point_values(params: Params | None, seed: int, draw_paths: Sequence[str], point: Point) -> dict[str, Any]:
    """The parameter values a point sets: its drawn ones (if it names a draw), then its own."""
    if point.draw is None:
        return dict(point.values)
    drawn = draw_values(params, seed, [point.draw])[0]
    return {path: drawn[path] for path in draw_paths} | dict(point.values)


def simulate_trials(params: Params, seed: int, trials: np.ndarray, engine: str = "auto") -> list[TrialRecord]:
    """Virtual trials with the given indices, in batches as :func:`sim.runs.runner.iterate_trials` runs them."""
    n = int(params["accrual.enrolled"])
    engine = choose_engine(params, engine)
    records: list[TrialRecord] = []
    for start in range(0, len(trials), BATCH):
        batch = trials[start:start + BATCH]
        records.extend(simulate(params, draw_uniforms(seed, batch, n), batch, engine))
    return records


@dataclass(frozen=True)
class TrialModel:
    """Outcomes of ``inner`` virtual trials at a point's parameters.

    Parameters
    ----------
    params : Params
        Base parameters (a scenario's, if one is analysed).
    outcomes : tuple of str
        Outcome names (:data:`sim.stats.key_outcomes.OUTCOMES`).
    inner : int
        Virtual trials per evaluation, each of ``params["accrual.enrolled"]`` patients.
    seed : int
        Seed of the parameter draws and of the patients' luck.
    draw_paths : tuple of str
        The parameters a probabilistic draw varies (the others stay at base).
    keep_patients : bool
        Return each evaluation's patient table too (large; for inspection only).
    engine : str
        ``"auto"``, ``"cohort"`` or ``"des"`` (:func:`sim.runs.runner.choose_engine`).
    """

    params: Params
    outcomes: tuple[str, ...]
    inner: int
    seed: int = 0
    draw_paths: tuple[str, ...] = ()
    keep_patients: bool = False
    engine: str = "auto"

    def __post_init__(self) -> None:
        check_seed(self.seed)
        if isinstance(self.inner, bool) or not isinstance(self.inner, int) or self.inner < 1:
            raise ValueError(f"inner must be a whole number >= 1, got {self.inner!r}")

    def __call__(self, point: Point) -> Evaluation:
        values = point_values(self.params, self.seed, self.draw_paths, point)
        theta = self.params.with_values(values) if values else self.params
        records = simulate_trials(theta, self.seed, self._trials(point), self.engine)
        return self._evaluation(point, values, records, facility_capacities(theta))

    def evaluate_many(self, points: Sequence[Point]) -> list[Evaluation]:
        """The evaluations of several points, the same as one at a time, computed together: the
        points' trials run as one batch of rows, each row with its point's parameters
        (:class:`~sim.inputs.param_batch.ParamBatch`), so the cost per evaluation is mostly the trials'."""
        group = max(1, BATCH // self.inner)
        if group == 1 or any("accrual.enrolled" in p.values for p in points):
            return [self(point) for point in points]
        draws = [p.draw for p in points if p.draw is not None]
        drawn = dict(zip(draws, draw_values(self.params, self.seed, draws))) if draws else {}
        values = [({path: drawn[p.draw][path] for path in self.draw_paths} if p.draw is not None else {})
                  | dict(p.values) for p in points]
        out = []
        for start in range(0, len(points), group):
            out += self._evaluate_group(points[start:start + group], values[start:start + group])
        return out

    def _evaluate_group(self, points: Sequence[Point], values: list[dict]) -> list[Evaluation]:
        rows = ParamBatch.of_rows(self.params, values, repeat=self.inner)
        trials = np.concatenate([self._trials(p) for p in points])
        u = draw_uniforms(self.seed, trials, int(self.params["accrual.enrolled"]))
        records = simulate(rows, u, trials, row_engines(rows, self.engine))
        per_trial = self._outcomes(Batch.from_records(records, facility_capacities(rows)))  # every outcome is one value per trial
        out = []
        for k, (point, point_values) in enumerate(zip(points, values)):
            trial_rows = slice(k * self.inner, (k + 1) * self.inner)
            outcomes = {name: Moments.of(value[trial_rows]) for name, value in per_trial.items()}
            patients = Table.concat([Table(r.table()) for r in records[trial_rows]]) if self.keep_patients else None
            out.append(Evaluation(point.index, flat_inputs(point_values), outcomes, patients))
        return out

    def _outcomes(self, batch: Batch) -> dict[str, np.ndarray]:
        return {name: OUTCOMES[name].compute(batch) for name in self.outcomes}

    def _trials(self, point: Point) -> np.ndarray:
        return np.arange(point.luck * self.inner, (point.luck + 1) * self.inner)

    def _evaluation(self, point: Point, values: dict, records: list[TrialRecord], capacities) -> Evaluation:
        outcomes = {name: Moments.of(value) for name, value in self._outcomes(Batch.from_records(records, capacities)).items()}
        patients = Table.concat([Table(r.table()) for r in records]) if self.keep_patients else None
        return Evaluation(point.index, flat_inputs(values), outcomes, patients)


@dataclass(frozen=True)
class FunctionModel:
    """A plain function of the parameter values in place of the simulation, for checks with known answers.

    Parameters
    ----------
    function : callable
        ``function(values, rng) -> {outcome: number}``; ``values`` maps each set path to its value,
        ``rng`` is a generator for the point's luck block (for noise that behaves like the
        simulation's).  Must be picklable (a module-level function) for process and Dask backends.
    outcomes : tuple of str
        The names the function returns.
    params : Params or None
        Base parameters, needed only for probabilistic draws.
    seed : int
        Seed of the draws and of ``rng``.
    draw_paths : tuple of str
        The parameters a probabilistic draw varies.
    """

    function: Callable[[dict[str, Any], np.random.Generator], Mapping[str, float]]
    outcomes: tuple[str, ...]
    params: Params | None = None
    seed: int = 0
    draw_paths: tuple[str, ...] = ()

    def __call__(self, point: Point) -> Evaluation:
        values = point_values(self.params, self.seed, self.draw_paths, point)
        sequence = np.random.SeedSequence(self.seed, spawn_key=(stream_key(FUNCTION_STREAM), point.luck))
        rng = np.random.default_rng(sequence)
        result = self.function(values, rng)
        outcomes = {name: Moments.of(np.array([result[name]], dtype=float)) for name in self.outcomes}
        return Evaluation(point.index, flat_inputs(values), outcomes)
