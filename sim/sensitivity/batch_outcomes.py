"""The outcomes a sensitivity analysis can be run on, by name, each computed on a batch of virtual trials.

The names, labels and units are those of :data:`sim.stats.key_outcomes.KEY_OUTCOMES` (what scenario
comparisons and reports read), so ``os_12m`` means the same thing everywhere.  Here each is computed
for a batch of virtual trials at once (a row per trial) rather than one trial at a time: a
sensitivity analysis evaluates it on tens of thousands of trials.  The clinical definitions are not
restated: endpoints come from :mod:`sim.stats.trial_figures` and :mod:`sim.stats.competing_risks`, facility metrics from
:mod:`sim.stats.facilities`, and ``tests/test_sensitivity_outcomes.py`` checks every outcome here against
:mod:`sim.stats.key_outcomes`, trial by trial.

``n_enrolled`` is left out: it is fixed by the design and has no sensitivity to analyse.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Iterator, Sequence

import numpy as np

from sim.stats.competing_risks import NON_RELAPSE_DEATH, RELAPSE, relapse_and_nrm
from sim.errors import InputError
from sim.stats.trial_figures import leukaemia_free_survival, overall_survival
from sim.stats.key_outcomes import FACILITY_OUTCOMES, HORIZON_DAYS, KEY_OUTCOMES, RESPONDED, withdrawn_in_queue
from sim.inputs.params import Params
from sim.model.records import TrialRecord
from sim.stats.facilities import facility_metrics
from sim.sensitivity.batch_survival import cif_at, km_at

EXCLUDED = ("n_enrolled",)


class Batch(Mapping):
    """Virtual trials run at one parameter set: each patient column as a 2-D array, a row per trial.

    Parameters
    ----------
    params : Params
        The parameters the trials ran with (for facility capacities).
    records : list of TrialRecord
        The trials, in order; rows of the arrays follow it.
    """

    def __init__(self, params: Params, records: Sequence[TrialRecord]) -> None:
        self.params = params
        self.records = list(records)
        self._columns: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._columns:
            self._columns[name] = _stack_rows(self.records, name)
        return self._columns[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.records[0].batch_columns)

    def __len__(self) -> int:
        return len(self.records[0].batch_columns)

    @cached_property
    def infused(self) -> np.ndarray:
        return ~np.isnan(self["t_infusion"])


def _stack_rows(records: Sequence[TrialRecord], name: str) -> np.ndarray:
    """One column of several trials as a 2-D array, read from the engine's batches without slicing each trial."""
    parts, start = [], 0
    while start < len(records):
        shared = records[start].batch_columns
        end = start
        while end < len(records) and records[end].batch_columns is shared:
            end += 1
        column = shared[name]
        rows = [r.row for r in records[start:end]]
        parts.append(column[None, :] if rows[0] is None else column[rows])
        start = end
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


class _Flat(Mapping):
    """A batch's columns flattened to one patient per element, for the one-trial endpoint functions."""

    def __init__(self, batch: Batch) -> None:
        self.batch = batch

    def __getitem__(self, name: str) -> np.ndarray:
        return self.batch[name].ravel()

    def __iter__(self) -> Iterator[str]:
        return iter(self.batch)

    def __len__(self) -> int:
        return len(self.batch)


def endpoint_rows(batch: Batch, endpoint: Callable) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(time, event or cause, infused) as 2-D arrays from an endpoint of :mod:`sim.stats.trial_figures` or :mod:`sim.stats.competing_risks`.

    The endpoint functions return values for the infused patients only, in patient order; they are
    put back in place, and the infused mask says where they are.
    """
    time, code = endpoint(_Flat(batch))
    infused = batch.infused
    time_rows, code_rows = np.full(infused.shape, np.inf), np.zeros(infused.shape, dtype=int)
    time_rows[infused], code_rows[infused] = time, np.asarray(code, dtype=int)
    return time_rows, code_rows, infused


def _count(mask: np.ndarray) -> np.ndarray:
    return np.count_nonzero(mask, axis=-1).astype(float)


def _share(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Per row, the share of ``denominator`` patients who are also ``numerator``; NaN if none."""
    n = np.count_nonzero(denominator, axis=-1)
    k = np.count_nonzero(numerator & denominator, axis=-1)
    return np.divide(k, n, out=np.full(n.shape, np.nan), where=n > 0)


def _row_median(values: np.ndarray) -> np.ndarray:
    """Per row, the median of the defined values; NaN for a row with none."""
    out = np.full(values.shape[0], np.nan)
    defined = ~np.all(np.isnan(values), axis=-1)
    if defined.any():
        out[defined] = np.nanmedian(values[defined], axis=-1)
    return out


def _facility(facility: str, metric: str) -> Callable[[Batch], np.ndarray]:
    """A facility metric per trial, as the runner's facilities table computes it."""
    def compute(batch: Batch) -> np.ndarray:
        capacity = batch.params[f"resources.{facility}"]
        return np.array([facility_metrics(r.uses[facility], capacity, r.cutoff)[metric] for r in batch.records],
                        dtype=float)
    return compute


PATIENT_OUTCOMES: dict[str, Callable[[Batch], np.ndarray]] = {
    "n_withdrawn": lambda b: _count(b["final_state"] == "withdrawn"),
    "n_withdrawn_in_queue": lambda b: _count(withdrawn_in_queue(b)),
    "n_infused": lambda b: _count(b.infused),
    "days_to_infusion": lambda b: _row_median(b["t_infusion"] - b["t_enrol"]),
    "crs_g3_rate": lambda b: _share(b["crs_grade"] >= 3, b.infused),
    "cr_rate": lambda b: _share(np.isin(b["response"], RESPONDED), b["response"] != ""),
    "transplant_rate": lambda b: _share(~np.isnan(b["t_transplant"]), b.infused),
    "os_12m": lambda b: km_at(*endpoint_rows(b, overall_survival), HORIZON_DAYS),
    "lfs_12m": lambda b: km_at(*endpoint_rows(b, leukaemia_free_survival), HORIZON_DAYS),
    "relapse_12m": lambda b: cif_at(*endpoint_rows(b, relapse_and_nrm), HORIZON_DAYS, RELAPSE),
    "nrm_12m": lambda b: cif_at(*endpoint_rows(b, relapse_and_nrm), HORIZON_DAYS, NON_RELAPSE_DEATH),
}


@dataclass(frozen=True)
class Outcome:
    """An outcome by name: how it reads, its unit, and its value in each trial of a batch."""

    name: str
    label: str
    unit: str
    compute: Callable[[Batch], np.ndarray]

    @property
    def axis_label(self) -> str:
        """The label with its unit, for a plot axis."""
        return f"{self.label} ({self.unit})"


def _registry() -> dict[str, Outcome]:
    computes = PATIENT_OUTCOMES | {name: _facility(*where) for name, where in FACILITY_OUTCOMES.items()}
    return {name: Outcome(name, outcome.label, outcome.unit, computes[name])
            for name, outcome in KEY_OUTCOMES.items() if name not in EXCLUDED}


OUTCOMES: dict[str, Outcome] = _registry()
DEFAULT_OUTCOMES = ("os_12m", "lfs_12m", "cr_rate", "crs_g3_rate", "n_withdrawn", "nrm_12m", "relapse_12m",
                    "transplant_rate")


def check_outcomes(names: Sequence[str], source: str = "--outcomes") -> tuple[str, ...]:
    """The outcome names, checked; InputError naming the first unknown one and the valid choices.

    Parameters
    ----------
    names : sequence of str
        Outcome names, e.g. ``["os_12m", "cr_rate"]``.
    source : str
        What to name in the error (the option or argument the names came from).
    """
    names = tuple(names)
    if not names:
        raise InputError(source, "", f"name at least one outcome (choose from {', '.join(OUTCOMES)})")
    for name in names:
        if name not in OUTCOMES:
            close = difflib.get_close_matches(name, OUTCOMES, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise InputError(source, name, f"unknown outcome ({hint}choose from {', '.join(OUTCOMES)})")
    if len(set(names)) != len(names):
        raise InputError(source, "", f"an outcome is named twice: {', '.join(names)}")
    return names
