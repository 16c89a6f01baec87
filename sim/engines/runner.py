"""Running virtual trials: one, or many with a seed, into a :class:`~sim.output.results.Results`.

Two engines give the same records: the SimPy engine (``"des"``) and the cohort engine
(``"cohort"``), which computes queues in request order over arrays.  With every facility unlimited
they agree exactly, and ``engine="auto"`` uses the cohort engine; with a limited facility
``"auto"`` uses the SimPy engine.
"""

from __future__ import annotations

import math
import time
from typing import Callable

import numpy as np

from sim.engines.cohort_engine import cohort_queues
from sim.stats.trial_figures import compute, late_state, survival_outcomes
from sim.rng.parameter_draws import draw_trial_parameters
from sim.inputs.params import Params
from sim.engines.simpy_engine import des_queues
from sim.model.records import FACILITIES, TrialRecord, build_records
from sim.output.results import Results
from sim.model.draws import draw_patients, draw_uniforms
from sim.rng.streams import check_seed
from sim.output.table import Table
from sim.model.timeline import plan
from sim.stats.facilities import facility_metrics

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


def simulate(params: Params, u: dict[str, np.ndarray], trials, engine: str) -> list[TrialRecord]:
    """Trials from their streams' uniforms (a row per trial if ``trials`` is a sequence)."""
    d = draw_patients(params, u)
    p = plan(params, d)
    return build_records(params, trials, d, p, *ENGINES[engine](params, d, p))


def trial_parameters(params: Params, seed: int, trial: int) -> Params:
    """The parameters of one virtual trial drawn from their uncertainty distributions, one stream per
    parameter (:mod:`sim.rng.parameter_draws`), so that scenarios share each unchanged parameter's draw."""
    return draw_trial_parameters(params, seed, trial)


def trial_figures(params: Params, table: dict[str, np.ndarray]) -> dict[str, float]:
    """Every modelled seeds figure, and the survival outcomes, computed on one trial."""
    table = table | {"late_state": late_state(table)}
    figures = {key: compute(f.metric, f.qualifiers, table)
               for key, f in params.seeds.figures.items() if f.modelled}
    followup = [figures[key] for key, f in params.seeds.figures.items() if f.metric == "median_followup_months"]
    return figures | survival_outcomes(table, followup[0] if followup else None)


def iterate_trials(params: Params, trials: int, seed: int, parameter_uncertainty: bool = False,
                   engine: str = "auto"):
    """Yield (trial parameters, record) for trials 0..trials-1; trial k's luck depends only on (seed, k)."""
    seed = check_seed(seed)
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise ValueError(f"trials must be a whole number >= 1, got {trials!r}")
    n = int(params["accrual.enrolled"])
    for first in range(0, trials, BATCH):
        batch = np.arange(first, min(first + BATCH, trials))
        u = draw_uniforms(seed, batch, n)
        if not parameter_uncertainty:
            yield from ((params, record) for record in simulate(params, u, batch, choose_engine(params, engine)))
            continue
        for row, k in enumerate(batch):
            trial_params = trial_parameters(params, seed, int(k))
            u_row = {name: v[row] for name, v in u.items()}
            yield trial_params, simulate(trial_params, u_row, int(k), choose_engine(trial_params, engine))[0]


def run_trials(params: Params, trials: int = 1000, seed: int = 0, parameter_uncertainty: bool = False,
               progress: Callable[[int, int], None] | None = None, engine: str = "auto") -> Results:
    """Simulate ``trials`` virtual trials; trial k uses the streams of (seed, k) whatever ``trials`` is.

    With ``parameter_uncertainty`` each trial first draws its parameters from their distributions;
    otherwise every trial runs at the base values and only patient-level chance varies.
    """
    started = time.perf_counter()
    patients, figure_rows, facility_rows, engines = [], [], [], set()
    for k, (trial_params, record) in enumerate(iterate_trials(params, trials, seed, parameter_uncertainty, engine)):
        table = record.table()
        patients.append(Table(table))
        figure_rows.append({"trial": k} | trial_figures(params, table))
        facility_rows.extend(_facility_rows(trial_params, record))
        engines.add(choose_engine(trial_params, engine))
        if progress:
            progress(k + 1, trials)
    return Results(
        params=params, seed=check_seed(seed), parameter_uncertainty=parameter_uncertainty,
        patients=Table.concat(patients),
        trials=Table({name: [row[name] for row in figure_rows] for name in figure_rows[0]}),
        facilities=Table({name: [row[name] for row in facility_rows] for name in facility_rows[0]}),
        run_seconds=time.perf_counter() - started, extra={"engine": "+".join(sorted(engines))},
    )


def _facility_rows(params: Params, record: TrialRecord) -> list[dict]:
    return [{"trial": record.trial, "facility": name, "capacity": params[f"resources.{name}"]}
            | facility_metrics(record.uses[name], params[f"resources.{name}"], record.cutoff)
            for name in FACILITIES]
