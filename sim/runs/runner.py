"""Running virtual trials: one, or many with a seed, into a :class:`~sim.runs.results.Results`.

Two engines give the same records: the SimPy engine (``"des"``) and the cohort engine
(``"cohort"``), which computes queues in request order over arrays.  With every facility unlimited
they agree exactly, and ``engine="auto"`` uses the cohort engine; with a limited facility
``"auto"`` uses the SimPy engine.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
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
from sim.output.run_files import PatientStream
from sim.runs.saving import run_folder, write_into
from sim.table import Table
from sim.inputs.parameter_draws import draw_batch_parameters, draw_parameter_batch
from sim.rng.streams import check_seed
from sim.stats.batch import Batch
from sim.stats.facilities import facility_metrics_rows
from sim.stats.outcome_summary import outcome_tables
from sim.stats.trial_figures import trial_figures

ENGINES = {"des": des_queues, "cohort": cohort_queues}
BATCH = 256  # trials whose uniforms are drawn together, at least
BATCH_PATIENTS = 1 << 16  # small trials are batched up to this many patients: fewer, larger array operations
PICTURE_TRIALS = 2048  # a streamed run keeps this many trials' patients for its pictures (memory stays bounded)


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


def facility_capacities(params: Params | ParamBatch | Sequence[TrialParams]) -> dict[str, np.ndarray]:
    """Each facility's capacity: a float for one parameter set, an array of one per trial for a batch."""
    if isinstance(params, Params):
        return {name: params[f"resources.{name}"] for name in FACILITIES}
    if isinstance(params, ParamBatch):
        return {name: np.broadcast_to(np.asarray(params[f"resources.{name}"], dtype=float), (params.size, 1))[:, 0]
                for name in FACILITIES}
    return {name: np.array([p[f"resources.{name}"] for p in params], dtype=float) for name in FACILITIES}


def row_engines(batch: ParamBatch, engine: str = "auto") -> str | list[str]:
    """The engine of each trial of a batch (:func:`choose_engine` row by row, over the capacity columns):
    one name if every row runs the same, else a list of one per row."""
    if engine != "auto":
        return choose_engine(batch.base, engine)
    limited = np.zeros(batch.size, dtype=bool)
    for capacity in facility_capacities(batch).values():
        limited |= ~np.isinf(capacity)
    if limited.all() or not limited.any():
        return "des" if limited.any() else "cohort"
    return ["des" if row else "cohort" for row in limited]


def batch_trials(patients: int) -> int:
    """Trials run together as one batch, for trials of ``patients`` patients: :data:`BATCH`, or more while a
    batch holds at most :data:`BATCH_PATIENTS` patients.  A trial's numbers do not depend on its batch."""
    return max(BATCH, BATCH_PATIENTS // max(patients, 1))


def _batches(params: Params, trials: int, seed: int, parameter_uncertainty: bool = False, engine: str = "auto"):
    """Yield (the batch's parameters, each trial's parameters, the engines that ran, records) a batch of trials
    at a time (see :func:`iterate_batches`)."""
    seed = check_seed(seed)
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise ValueError(f"trials must be a whole number >= 1, got {trials!r}")
    n = int(params["accrual.enrolled"])
    size = batch_trials(n)
    for first in range(0, trials, size):
        batch = np.arange(first, min(first + size, trials))
        u = draw_uniforms(seed, batch, n)
        if not parameter_uncertainty:
            chosen = choose_engine(params, engine)
            yield params, [params] * len(batch), {chosen}, simulate(params, u, batch, chosen)
            continue
        drawn = draw_parameter_batch(params, seed, batch)
        engines = row_engines(drawn, engine)
        used = {engines} if isinstance(engines, str) else set(engines)
        yield drawn, drawn.rows(), used, simulate(drawn, u, batch, engines)


def iterate_batches(params: Params, trials: int, seed: int, parameter_uncertainty: bool = False,
                    engine: str = "auto") -> Iterator[tuple[list, list[TrialRecord]]]:
    """Yield (each trial's parameters, records) a batch of trials at a time; trial k's luck depends only on (seed, k).

    With ``parameter_uncertainty`` the batch's trials run together on a
    :class:`~sim.inputs.param_batch.ParamBatch`, and each trial's parameters are a
    :class:`~sim.inputs.param_batch.TrialParams` (its ``params()`` builds a checked Params)."""
    for _, rows, _, records in _batches(params, trials, seed, parameter_uncertainty, engine):
        yield rows, records


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
    patients, figures, facilities, outcomes, engines, done = [], [], [], [], set(), 0
    levels = list(params.dose_levels())
    for drawn, _, used, records in _batches(params, trials, seed, parameter_uncertainty, engine):
        batch = Batch.from_records(records, facility_capacities(drawn))
        figures.append(Table({"trial": batch.trials} | trial_figures(params.seeds.figures, batch)))
        facilities.append(Table(facility_rows(batch, records)))
        batch.facilities = facilities[-1]
        outcomes.append(outcome_tables(batch, levels))
        table = Table(patient_columns(batch, records))
        if stream is not None:
            stream.add(table)
            if done < PICTURE_TRIALS:
                patients.append(_first_trials(table, PICTURE_TRIALS))
        else:
            patients.append(table)
        engines |= used
        if progress:
            for k in range(done + 1, done + len(records) + 1):
                progress(k, trials)
        done += len(records)
    return Results(
        params=params, seed=check_seed(seed), parameter_uncertainty=parameter_uncertainty,
        stored_patients=Table.concat(patients) if stream is None else None,
        kept_patients=Table.concat(patients) if stream is not None and patients else None,
        trials=Table.concat(figures), facilities=Table.concat(facilities),
        run_seconds=time.perf_counter() - started, extra={"engine": "+".join(sorted(engines))},
        stream=stream, outcomes={group: Table.concat([part[group] for part in outcomes]) for group in outcomes[0]},
    )


def _first_trials(patients: Table, trials: int) -> Table:
    """The rows of a patients table whose trial index is below ``trials``."""
    keep = patients["trial"] < trials
    return patients if keep.all() else Table({name: column[keep] for name, column in patients.columns.items()})


def run_to_folder(params: Params, out: str | Path, trials: int = 1000, seed: int = 0, parameter_uncertainty: bool = False,
                  fmt: str = "csv", plots: bool = False, force: bool = False,
                  progress: Callable[[int, int], None] | None = None, command: list[str] | None = None,
                  engine: str = "auto", before_write: Callable[[Results], None] | None = None
                  ) -> tuple[Results, list[Path]]:
    """Run ``trials`` virtual trials straight into the output folder ``out``; returns the Results and the files.

    ``before_write(results)``, if given, is called once the trials have run and before anything is
    written (to add to ``results.extra`` what the summary and reports should carry).

    The patients go to their files a batch of trials at a time (memory does not grow with ``trials``); the
    folder is claimed, locked, staged and swapped in whole as :meth:`Results.write` does it
    (:mod:`sim.runs.saving`), so an error or Ctrl-C leaves the earlier result as it was.
    """
    with run_folder(out, params, force) as folder:
        stream = PatientStream(folder, fmt)
        try:
            results = run_trials(params, trials, seed, parameter_uncertainty, progress, engine, stream=stream)
        except BaseException:
            stream.abort()
            raise
        stream.close()
        if before_write is not None:
            before_write(results)
        written = write_into(results, folder, Path(out), command, fmt, plots)
    stream.folder = Path(out)  # the files are in ``out`` now: results.patients reads them from there
    return results, written
