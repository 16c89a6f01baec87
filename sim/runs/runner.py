"""Running virtual trials: one, or many with a seed, into a :class:`~sim.runs.results.Results`.

Two engines give the same records: the SimPy engine (``"des"``) and the cohort engine
(``"cohort"``), which computes queues in request order over arrays.  With every facility unlimited
they agree exactly, and ``engine="auto"`` uses the cohort engine; with a limited facility
``"auto"`` uses the SimPy engine.
"""

from __future__ import annotations

import math
import time
from typing import Callable, Iterator, Sequence

import numpy as np

from sim.engines.cohort_engine import cohort_queues
from sim.engines.simpy_engine import des_queues
from sim.engines.rows import queues_by_row
from sim.inputs.param_batch import ParamBatch, TrialParams
from sim.inputs.params import Params
from sim.model.draws import draw_patients, draw_uniforms
from sim.model.records import COLUMNS, FACILITIES, TrialRecord, build_records
from sim.model.timeline import plan
from sim.runs.results import Results
from sim.table import Table
from sim.inputs.parameter_draws import draw_batch_parameters, draw_parameter_batch
from sim.rng.streams import check_seed
from sim.stats.batch import Batch
from sim.stats.facilities import facility_metrics_rows
from sim.stats.trial_figures import trial_figures

ENGINES = {"des": des_queues, "cohort": cohort_queues}
BATCH = 256  # trials whose uniforms are drawn together


def choose_engine(params: Params, engine: str = "auto") -> str:
    """The engine to run: 'cohort' where it is exact (no limited facility) if ``engine`` is 'auto'."""
    if engine not in (*ENGINES, "auto"):
        raise ValueError(f"engine must be one of {sorted(ENGINES)} or 'auto', got {engine!r}")
    if engine != "auto":
        return engine
    limited = any(not math.isinf(params[f"resources.{name}"]) for name in FACILITIES)
    return "des" if limited else "cohort"


def simulate_trial(params: Params, seed: int, trial: int, engine: str = "des") -> TrialRecord:
    """One virtual trial: draws from the named streams of (seed, trial), then an engine."""
    n = int(params["accrual.enrolled"])
    return simulate(params, draw_uniforms(check_seed(seed), trial, n), trial, choose_engine(params, engine))[0]


def simulate(params: Params | ParamBatch, u: dict[str, np.ndarray], trials, engine: str | Sequence[str]) -> list[TrialRecord]:
    """Trials from their streams' uniforms (a row per trial if ``trials`` is a sequence), with one
    parameter set or a :class:`~sim.inputs.param_batch.ParamBatch` of one per row; ``engine`` may
    name one per row."""
    d = draw_patients(params, u)
    p = plan(params, d)
    queues = ENGINES[engine] if isinstance(engine, str) else _engine_per_row(engine)
    return build_records(params, trials, d, p, *queues(params, d, p))


def _engine_per_row(engines: Sequence[str]):
    """Queues of a batch whose rows each name their engine."""
    return lambda params, d, p: queues_by_row(params, d, p, lambda r: ENGINES[engines[r]])


def trial_parameters(params: Params, seed: int, trial: int) -> Params:
    """The parameters of one virtual trial drawn from their uncertainty distributions (a batch of one)."""
    return draw_batch_parameters(params, seed, [trial])[0]


def facility_capacities(params: Params | Sequence[TrialParams]) -> dict[str, np.ndarray]:
    """Each facility's capacity: a float for one parameter set, an array for one per trial."""
    if isinstance(params, Params):
        return {name: params[f"resources.{name}"] for name in FACILITIES}
    return {name: np.array([p[f"resources.{name}"] for p in params], dtype=float) for name in FACILITIES}


def iterate_batches(params: Params, trials: int, seed: int, parameter_uncertainty: bool = False,
                    engine: str = "auto") -> Iterator[tuple[list, list[TrialRecord]]]:
    """Yield (each trial's parameters, records) a batch of trials at a time; trial k's luck depends only on (seed, k).

    With ``parameter_uncertainty`` the batch's trials run together on a
    :class:`~sim.inputs.param_batch.ParamBatch`, and each trial's parameters are a
    :class:`~sim.inputs.param_batch.TrialParams` (its ``params()`` builds a checked Params)."""
    seed = check_seed(seed)
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise ValueError(f"trials must be a whole number >= 1, got {trials!r}")
    n = int(params["accrual.enrolled"])
    for first in range(0, trials, BATCH):
        batch = np.arange(first, min(first + BATCH, trials))
        u = draw_uniforms(seed, batch, n)
        if not parameter_uncertainty:
            yield [params] * len(batch), simulate(params, u, batch, choose_engine(params, engine))
            continue
        drawn = draw_parameter_batch(params, seed, batch)
        rows = drawn.rows()
        engines = [choose_engine(row, engine) for row in rows]
        yield rows, simulate(drawn, u, batch, engines[0] if len(set(engines)) == 1 else engines)


def iterate_trials(params: Params, trials: int, seed: int, parameter_uncertainty: bool = False,
                   engine: str = "auto") -> Iterator[tuple[Params | TrialParams, TrialRecord]]:
    """Yield (trial parameters, record) for trials 0..trials-1; trial k's luck depends only on (seed, k)."""
    for drawn, records in iterate_batches(params, trials, seed, parameter_uncertainty, engine):
        yield from zip(drawn, records)


def patient_columns(batch: Batch, records: Sequence[TrialRecord]) -> dict[str, np.ndarray]:
    """The per-patient table of a batch's trials: trial and patient ids, every column, the cut-off."""
    shape = batch["t_enrol"].shape
    head = {"trial": np.repeat(batch.trials, shape[1]), "patient": np.tile(np.arange(shape[1]), shape[0])}
    cutoff = np.repeat(np.array([r.cutoff for r in records], dtype=float), shape[1])
    return head | {name: batch[name].ravel() for name in COLUMNS} | {"cutoff": cutoff}


def facility_rows(batch: Batch, records: Sequence[TrialRecord]) -> dict[str, np.ndarray]:
    """Per trial and facility (trial-major): capacity and every facility metric."""
    horizon = np.array([r.cutoff for r in records], dtype=float)
    parts = []
    for name in FACILITIES:
        uses = tuple(np.stack([r.uses[name][i] for r in records]) if records[0].row is None
                     else records[0].batch_uses[name][i][[r.row for r in records]] for i in range(3))
        capacity = np.broadcast_to(np.asarray(batch.capacities[name], dtype=float), horizon.shape)
        parts.append({"capacity": capacity} | facility_metrics_rows(uses, capacity, horizon))
    rows = {"trial": np.repeat(batch.trials, len(FACILITIES)),
            "facility": np.tile(np.array(FACILITIES, dtype=object), len(records))}
    return rows | {key: np.stack([p[key] for p in parts], axis=1).ravel() for key in parts[0]}


def run_trials(params: Params, trials: int = 1000, seed: int = 0, parameter_uncertainty: bool = False,
               progress: Callable[[int, int], None] | None = None, engine: str = "auto",
               stream=None) -> Results:
    """Simulate ``trials`` virtual trials; trial k uses the streams of (seed, k) whatever ``trials`` is.

    With ``parameter_uncertainty`` each trial first draws its parameters from their distributions;
    otherwise every trial runs at the base values and only patient-level chance varies.  With a
    ``stream`` (:class:`sim.output.run_files.PatientStream`) the patients go to it a batch at a time
    and are not kept, so memory does not grow with ``trials``.
    """
    started = time.perf_counter()
    patients, figures, facilities, engines, done = [], [], [], set(), 0
    for drawn, records in iterate_batches(params, trials, seed, parameter_uncertainty, engine):
        batch = Batch.from_records(records, facility_capacities(drawn if parameter_uncertainty else params))
        figures.append(Table({"trial": batch.trials} | trial_figures(params.seeds.figures, batch)))
        facilities.append(Table(facility_rows(batch, records)))
        table = Table(patient_columns(batch, records))
        if stream is not None:
            stream.add(table)
        else:
            patients.append(table)
        engines.update(choose_engine(p, engine) for p in {id(p): p for p in drawn}.values())
        if progress:
            for k in range(done + 1, done + len(records) + 1):
                progress(k, trials)
        done += len(records)
    return Results(
        params=params, seed=check_seed(seed), parameter_uncertainty=parameter_uncertainty,
        stored_patients=Table.concat(patients) if stream is None else None,
        trials=Table.concat(figures), facilities=Table.concat(facilities),
        run_seconds=time.perf_counter() - started, extra={"engine": "+".join(sorted(engines))},
        stream=stream,
    )
