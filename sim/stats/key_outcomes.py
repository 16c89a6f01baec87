"""Key outcomes of virtual trials, by name: the ones scenario comparisons, reports and sensitivity analyses read.

Each is defined once, over a :class:`~sim.stats.batch.Batch` of trials (one value per trial; a
single trial is a batch of one), so scenarios run with the same seed can be compared trial by
trial and a sensitivity analysis can evaluate tens of thousands of trials.  Proportions are of the
infused patients unless said otherwise; times in days; survival and cumulative incidence at 12
months from infusion.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import numpy as np

from sim.errors import InputError
from sim.table import Table
from sim.stats.batch import Batch
from sim.stats.competing_risks import NON_RELAPSE_DEATH, RELAPSE, cumulative_incidence
from sim.stats.endpoints import in_remission, relapse_and_nrm
from sim.stats.kaplan_meier import DAYS_PER_MONTH
from sim.stats.trial_figures import survival_at_months

HORIZON_MONTHS = 12
HORIZON_DAYS = HORIZON_MONTHS * DAYS_PER_MONTH


@dataclass(frozen=True)
class Outcome:
    """A key outcome: its name, how to read it, its unit, and its value in each trial of a batch."""

    name: str
    label: str
    unit: str
    compute: Callable[[Batch], np.ndarray]

    @property
    def axis_label(self) -> str:
        """The label with its unit, for a plot axis."""
        return f"{self.label} ({self.unit})"


def _count(mask: np.ndarray) -> np.ndarray:
    return np.count_nonzero(mask, axis=-1).astype(float)


def _share(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Per trial, the share of ``denominator`` patients who are also ``numerator``; NaN if none."""
    n = np.count_nonzero(denominator, axis=-1)
    k = np.count_nonzero(numerator & denominator, axis=-1)
    return np.divide(k, n, out=np.full(n.shape, np.nan), where=n > 0)


def _median(values: np.ndarray) -> np.ndarray:
    """Per trial, the median of the defined values; NaN for a trial with none."""
    out = np.full(values.shape[0], np.nan)
    defined = ~np.all(np.isnan(values), axis=-1)
    if defined.any():
        out[defined] = np.nanmedian(values[defined], axis=-1)
    return out


def withdrawn_in_queue(t) -> np.ndarray:
    """Patients who withdrew while waiting for a manufacturing slot: cells collected, no slot yet."""
    return ~np.isnan(t["t_withdrawal"]) & ~np.isnan(t["t_collection"]) & np.isnan(t["t_mfg_start"])


def cumulative_incidence_at(b: Batch, cause: int, days: float) -> np.ndarray:
    """Aalen-Johansen cumulative incidence of relapse or non-relapse death at ``days`` after infusion, per trial."""
    if "relapse_and_nrm" not in b.cache:
        b.cache["relapse_and_nrm"] = cumulative_incidence(*relapse_and_nrm(b), b.present & b.infused, 2)
    return b.cache["relapse_and_nrm"].rows_at(days, cause)


def _facility(facility: str, metric: str) -> Callable[[Batch], np.ndarray]:
    return lambda b: b.facility(facility, metric)


def _outcomes(*outcomes: Outcome) -> dict[str, Outcome]:
    return {o.name: o for o in outcomes}


KEY_OUTCOMES: dict[str, Outcome] = _outcomes(
    Outcome("n_enrolled", "patients enrolled", "patients", lambda b: _count(b.present)),
    Outcome("n_withdrawn", "withdrew before infusion", "patients", lambda b: _count(b["final_state"] == "withdrawn")),
    Outcome("n_withdrawn_in_queue", "withdrew while waiting for a manufacturing slot", "patients",
            lambda b: _count(withdrawn_in_queue(b))),
    Outcome("n_infused", "infused", "patients", lambda b: _count(b.infused)),
    Outcome("days_to_infusion", "median days from enrolment to infusion", "days",
            lambda b: _median(b["t_infusion"] - b["t_enrol"])),
    Outcome("crs_g3_rate", "CRS grade >= 3, of infused", "proportion", lambda b: _share(b["crs_grade"] >= 3, b.infused)),
    Outcome("cr_rate", "CR (MRD-negative or positive), of those assessed", "proportion",
            lambda b: _share(in_remission(b), b["response"] != "")),
    Outcome("transplant_rate", "consolidative transplant, of infused", "proportion",
            lambda b: _share(~np.isnan(b["t_transplant"]), b.infused)),
    Outcome("os_12m", "overall survival at 12 months (Kaplan-Meier)", "proportion",
            lambda b: survival_at_months(b, "os", HORIZON_MONTHS)),
    Outcome("lfs_12m", "leukaemia-free survival at 12 months (Kaplan-Meier)", "proportion",
            lambda b: survival_at_months(b, "lfs", HORIZON_MONTHS)),
    Outcome("relapse_12m", "relapse or no remission by 12 months (Aalen-Johansen)", "proportion",
            lambda b: cumulative_incidence_at(b, RELAPSE, HORIZON_DAYS)),
    Outcome("nrm_12m", "non-relapse mortality by 12 months (Aalen-Johansen)", "proportion",
            lambda b: cumulative_incidence_at(b, NON_RELAPSE_DEATH, HORIZON_DAYS)),
    Outcome("mfg_wait_days", "mean wait for a manufacturing slot", "days",
            _facility("manufacturing_slots", "mean_wait_days")),
    Outcome("mfg_slots_in_use", "mean manufacturing slots in use", "slots",
            _facility("manufacturing_slots", "mean_occupancy")),
    Outcome("icu_wait_days", "mean wait for an ICU bed", "days", _facility("icu_beds", "mean_wait_days")),
    Outcome("icu_beds_in_use", "mean ICU beds occupied", "beds", _facility("icu_beds", "mean_occupancy")),
    Outcome("icu_peak", "peak ICU beds occupied", "beds", _facility("icu_beds", "peak_occupancy")),
)

EXCLUDED = ("n_enrolled",)  # fixed by the design: nothing for a sensitivity analysis to find
OUTCOMES: dict[str, Outcome] = {name: o for name, o in KEY_OUTCOMES.items() if name not in EXCLUDED}
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


def trial_slices(patients: Table) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """(trial index, that trial's columns) for each trial, in order; rows of a trial are contiguous."""
    trials = np.asarray(patients["trial"])
    starts = np.flatnonzero(np.r_[True, trials[1:] != trials[:-1]])
    ends = np.r_[starts[1:], len(trials)]
    for start, end in zip(starts, ends):
        yield int(trials[start]), {name: column[start:end] for name, column in patients.columns.items()}


def facility_column(facilities: Table, facility: str, metric: str) -> np.ndarray:
    """One facility metric per trial, in trial order."""
    rows = facilities["facility"] == facility
    order = np.argsort(facilities["trial"][rows], kind="stable")
    return np.asarray(facilities[metric][rows], dtype=float)[order]


def batch_outcomes(batch: Batch, names: Sequence[str] = tuple(KEY_OUTCOMES)) -> dict[str, np.ndarray]:
    """The named key outcomes of every trial of a batch."""
    return {name: KEY_OUTCOMES[name].compute(batch) for name in names}


def key_outcomes(patients: Table, facilities: Table) -> Table:
    """One row per virtual trial: ``trial`` and every key outcome."""
    batch = Batch.from_table(patients, facilities)
    return Table({"trial": batch.trials} | batch_outcomes(batch))


def results_outcomes(results) -> Table:
    """Key outcomes of a run, then every per-trial figure of ``results.trials`` not already among them."""
    key = key_outcomes(results.patients, results.facilities)
    extra = {name: results.trials[name] for name in results.trials.names if name not in key.columns}
    return Table(key.columns | extra)
