"""Key outcomes of each virtual trial, the ones scenario comparisons and reports are read on.

Each is computed on one trial's patients (and its facility rows), so scenarios run with the same
seed can be compared trial by trial.  Proportions are of the infused patients unless said otherwise;
times in days; survival and cumulative incidence at 12 months from infusion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from sim.stats.competing_risks import NON_RELAPSE_DEATH, RELAPSE, aalen_johansen, relapse_and_nrm
from sim.stats.trial_figures import leukaemia_free_survival, overall_survival
from sim.output.results import Results
from sim.stats.kaplan_meier import DAYS_PER_MONTH, km_survival_at
from sim.output.table import Table

HORIZON_MONTHS = 12
Patients = dict[str, np.ndarray]


@dataclass(frozen=True)
class Outcome:
    """A key outcome: how to read it, its unit, and how to compute it on one trial's patients."""

    label: str
    unit: str
    compute: Callable[[Patients], float] | None = None  # None: read from the facilities table


def _infused(t: Patients) -> np.ndarray:
    return ~np.isnan(t["t_infusion"])


def _share(numerator: np.ndarray, denominator: np.ndarray) -> float:
    n = np.count_nonzero(denominator)
    return float(np.count_nonzero(numerator & denominator) / n) if n else np.nan


def _median_or_nan(values: np.ndarray) -> float:
    values = values[~np.isnan(values)]
    return float(np.median(values)) if values.size else np.nan


def withdrawn_in_queue(t: Patients) -> np.ndarray:
    """Patients who withdrew while waiting for a manufacturing slot: cells collected, no slot yet."""
    return ~np.isnan(t["t_withdrawal"]) & ~np.isnan(t["t_collection"]) & np.isnan(t["t_mfg_start"])


def cumulative_incidence_at(t: Patients, cause: int, days: float) -> float:
    """Aalen-Johansen cumulative incidence of relapse or non-relapse death at ``days`` after infusion."""
    time, causes = relapse_and_nrm(t)
    return float(aalen_johansen(time, causes, 2).at(days, cause)) if time.size else np.nan


HORIZON_DAYS = HORIZON_MONTHS * DAYS_PER_MONTH
RESPONDED = ("mrd_neg_cr", "mrd_pos_cr")

KEY_OUTCOMES: dict[str, Outcome] = {
    "n_enrolled": Outcome("patients enrolled", "patients", lambda t: float(len(t["t_enrol"]))),
    "n_withdrawn": Outcome("withdrew before infusion", "patients",
                           lambda t: float(np.count_nonzero(t["final_state"] == "withdrawn"))),
    "n_withdrawn_in_queue": Outcome("withdrew while waiting for a manufacturing slot", "patients",
                                    lambda t: float(np.count_nonzero(withdrawn_in_queue(t)))),
    "n_infused": Outcome("infused", "patients", lambda t: float(np.count_nonzero(_infused(t)))),
    "days_to_infusion": Outcome("median days from enrolment to infusion", "days",
                                lambda t: _median_or_nan((t["t_infusion"] - t["t_enrol"]))),
    "crs_g3_rate": Outcome("CRS grade >= 3, of infused", "proportion",
                           lambda t: _share(t["crs_grade"] >= 3, _infused(t))),
    "cr_rate": Outcome("CR (MRD-negative or positive), of those assessed", "proportion",
                       lambda t: _share(np.isin(t["response"], RESPONDED), t["response"] != "")),
    "transplant_rate": Outcome("consolidative transplant, of infused", "proportion",
                               lambda t: _share(~np.isnan(t["t_transplant"]), _infused(t))),
    "os_12m": Outcome("overall survival at 12 months (Kaplan-Meier)", "proportion",
                      lambda t: float(km_survival_at(*overall_survival(t), HORIZON_DAYS))),
    "lfs_12m": Outcome("leukaemia-free survival at 12 months (Kaplan-Meier)", "proportion",
                       lambda t: float(km_survival_at(*leukaemia_free_survival(t), HORIZON_DAYS))),
    "relapse_12m": Outcome("relapse or no remission by 12 months (Aalen-Johansen)", "proportion",
                           lambda t: cumulative_incidence_at(t, RELAPSE, HORIZON_DAYS)),
    "nrm_12m": Outcome("non-relapse mortality by 12 months (Aalen-Johansen)", "proportion",
                       lambda t: cumulative_incidence_at(t, NON_RELAPSE_DEATH, HORIZON_DAYS)),
    "mfg_wait_days": Outcome("mean wait for a manufacturing slot", "days"),
    "mfg_slots_in_use": Outcome("mean manufacturing slots in use", "slots"),
    "icu_wait_days": Outcome("mean wait for an ICU bed", "days"),
    "icu_beds_in_use": Outcome("mean ICU beds occupied", "beds"),
    "icu_peak": Outcome("peak ICU beds occupied", "beds"),
}
FACILITY_OUTCOMES = {"mfg_wait_days": ("manufacturing_slots", "mean_wait_days"),
                     "mfg_slots_in_use": ("manufacturing_slots", "mean_occupancy"),
                     "icu_wait_days": ("icu_beds", "mean_wait_days"),
                     "icu_beds_in_use": ("icu_beds", "mean_occupancy"),
                     "icu_peak": ("icu_beds", "peak_occupancy")}


def trial_slices(patients: Table) -> Iterator[tuple[int, Patients]]:
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


def key_outcomes(patients: Table, facilities: Table) -> Table:
    """One row per virtual trial: ``trial`` and every key outcome."""
    rows = [{"trial": k} | {name: o.compute(t) for name, o in KEY_OUTCOMES.items() if o.compute is not None}
            for k, t in trial_slices(patients)]
    columns = {name: np.array([row[name] for row in rows]) for name in rows[0]}
    for name, (facility, metric) in FACILITY_OUTCOMES.items():
        columns[name] = facility_column(facilities, facility, metric)
    return Table({name: columns[name] for name in ("trial", *KEY_OUTCOMES)})


def results_outcomes(results: Results) -> Table:
    """Key outcomes of a run, then every per-trial figure of ``results.trials`` not already among them."""
    key = key_outcomes(results.patients, results.facilities)
    extra = {name: results.trials[name] for name in results.trials.names if name not in key.columns}
    return Table(key.columns | extra)
