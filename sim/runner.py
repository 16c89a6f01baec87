"""Running virtual trials: one, or many with a seed, into a :class:`~sim.results.Results`."""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from .metrics import compute, survival_outcomes
from .outcome import apply_cutoff
from .params import Params
from .pathway import Pathway
from .records import TrialRecord
from .results import Results
from .samplers import draw_patients
from .streams import Streams, check_seed, stream_key
from .table import Table
from .utilisation import CAPACITY_KEYS, facility_metrics


def simulate_trial(params: Params, seed: int, trial: int) -> TrialRecord:
    """One virtual trial with the SimPy engine: draws, processes, then the data cut-off."""
    draws = draw_patients(params, Streams(seed, trial))
    record = TrialRecord(trial, len(draws["arrival"]))
    cutoff = float(draws["arrival"][-1] + params["accrual.cutoff_after_last_enrolment_days"])
    Pathway(params, draws, record).run(until=np.nextafter(cutoff, np.inf))
    apply_cutoff(record, cutoff)
    return record


def trial_parameters(params: Params, seed: int, trial: int) -> Params:
    """The parameters of one virtual trial drawn from their uncertainty distributions."""
    sequence = np.random.SeedSequence(seed, spawn_key=(trial, stream_key("parameters")))
    return params.draw(np.random.default_rng(sequence))


def trial_figures(params: Params, table: dict[str, np.ndarray]) -> dict[str, float]:
    """Every modelled seeds figure, and the survival outcomes, computed on one trial."""
    figures = {key: compute(f.metric, f.qualifiers, table)
               for key, f in params.seeds.figures.items() if f.modelled}
    followup = [figures[key] for key, f in params.seeds.figures.items() if f.metric == "median_followup_months"]
    return figures | survival_outcomes(table, followup[0] if followup else None)


def run_trials(params: Params, trials: int = 1000, seed: int = 0, parameter_uncertainty: bool = False,
               progress: Callable[[int, int], None] | None = None) -> Results:
    """Simulate ``trials`` virtual trials; trial k uses the streams of (seed, k) whatever ``trials`` is.

    With ``parameter_uncertainty`` each trial first draws its parameters from their distributions;
    otherwise every trial runs at the base values and only patient-level chance varies.
    """
    seed = check_seed(seed)
    if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
        raise ValueError(f"trials must be a whole number >= 1, got {trials!r}")
    started = time.perf_counter()
    patients, figure_rows, facility_rows = [], [], []
    for k in range(trials):
        trial_params = trial_parameters(params, seed, k) if parameter_uncertainty else params
        record = simulate_trial(trial_params, seed, k)
        table = record.table()
        patients.append(Table(table))
        figure_rows.append({"trial": k} | trial_figures(params, table))
        facility_rows.extend(_facility_rows(trial_params, record))
        if progress:
            progress(k + 1, trials)
    return Results(
        params=params, seed=seed, parameter_uncertainty=parameter_uncertainty,
        patients=Table.concat(patients),
        trials=Table({name: [row[name] for row in figure_rows] for name in figure_rows[0]}),
        facilities=Table({name: [row[name] for row in facility_rows] for name in facility_rows[0]}),
        run_seconds=time.perf_counter() - started,
    )


def _facility_rows(params: Params, record: TrialRecord) -> list[dict]:
    return [{"trial": record.trial, "facility": name, "capacity": params[key]}
            | facility_metrics(record.resource_log, name, params[key], record.cutoff)
            for name, key in CAPACITY_KEYS.items()]
