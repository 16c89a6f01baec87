"""What one virtual trial records: a column per field, a row per patient, and facility uses.

Both engines resolve the queues and hand the results to :func:`build_record`, which derives every
column from the shared clinical timeline (:mod:`sim.model.timeline`) and applies the data cut-off.
Times are days since the first enrolment; NaN means the event did not happen before the cut-off.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from sim.model import timeline as T
from sim.model.cutoff import apply_cutoff
from sim.inputs.params import Params

# event columns, in the order they happen along the pathway; the event log is read from these
EVENT_TIMES = (
    "t_enrol", "t_donor_found", "t_collection", "t_mfg_start", "t_mfg_end", "t_withdrawal",
    "t_ld_start", "t_infusion", "t_crs_onset", "t_icu_start", "t_peak", "t_icans_onset",
    "t_crs_end", "t_response", "t_transplant", "t_relapse", "t_death",
)
COLUMNS = (
    *EVENT_TIMES, "mfg_wait", "icu_wait", "transplant_wait", "t_end", "new_donor", "product", "dose_level",
    "dose", "crs_grade", "icans_grade", "cytopenia_g34", "early_infection", "response", "relapsed",
    "death_cause", "final_state",
)
FINAL_STATES = (
    "withdrawn", "not_infused", "pending_at_cutoff",
    "alive_before_response", "alive_in_remission", "alive_no_remission", "alive_relapsed",
    "died_disease", "died_infection", "died_tma", "died_transplant", "died_toxicity",
)
FACILITIES = ("manufacturing_slots", "icu_beds", "transplant_beds")


@dataclass
class TrialRecord:
    """Per-patient columns of one virtual trial, and each facility's uses (requested, start, end).

    A trial of a batch keeps the batch's arrays and its row, and slices them when first asked.
    """

    trial: int
    batch_columns: dict[str, np.ndarray]
    cutoff: float
    batch_uses: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    row: int | None = None

    @cached_property
    def columns(self) -> dict[str, np.ndarray]:
        if self.row is None:
            return self.batch_columns
        return {name: column[self.row] for name, column in self.batch_columns.items()}

    @cached_property
    def uses(self) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        if self.row is None:
            return self.batch_uses
        return {name: tuple(a[self.row] for a in use) for name, use in self.batch_uses.items()}

    @property
    def n(self) -> int:
        return len(self.columns["t_enrol"])

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def table(self) -> dict[str, np.ndarray]:
        """The per-patient table: trial and patient ids first, then every column in a fixed order."""
        head = {"trial": np.full(self.n, self.trial), "patient": np.arange(self.n)}
        return head | {name: self.columns[name] for name in COLUMNS} | {"cutoff": np.full(self.n, self.cutoff)}


def trial_cutoff(params: Params, arrival: np.ndarray) -> np.ndarray:
    """Data cut-off: a fixed time after the last enrolment (one per trial row)."""
    return (arrival[..., -1:] + params["accrual.cutoff_after_last_enrolment_days"])[..., 0]


def build_records(params: Params, trials, d: dict, p: dict, mfg_start: np.ndarray,
                  icu_start: np.ndarray | None = None, transplant: np.ndarray | None = None) -> list[TrialRecord]:
    """Every column from the draws ``d``, the plan ``p`` and the queues' outcomes, then the cut-off.

    Arrays hold one trial (``trials`` an int) or a row per trial (``trials`` a sequence).
    ``icu_start`` and ``transplant`` default to no queue: ICU entry at CRS onset, transplant on the
    planned day.
    """
    c = T.pre_infusion(d, p, mfg_start)
    t_inf = c["t_infusion"]
    icu_start = T.crs_onset(d, t_inf) if icu_start is None else icu_start
    transplant = T.unlimited_transplant(params, p, t_inf) if transplant is None else transplant
    c.update(T.post_infusion(params, d, p, t_inf, icu_start, transplant))
    uses = {"manufacturing_slots": T.mfg_slot_uses(d, p, c), "icu_beds": T.icu_uses(d, c),
            "transplant_beds": T.transplant_bed_uses(params, p, c)}
    cutoff = trial_cutoff(params, d["arrival"])
    apply_cutoff(c, np.asarray(cutoff)[..., None])
    if np.ndim(trials) == 0:
        return [TrialRecord(int(trials), c, float(cutoff), uses)]
    return [TrialRecord(int(k), c, float(cutoff[row]), uses, row) for row, k in enumerate(trials)]


def event_log_rows(table: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The event log's order: for each event, the index of its column in EVENT_TIMES and its patient row.

    Events go by trial, patient and time; events at the same time keep EVENT_TIMES' order.
    """
    times = np.stack([table[column] for column in EVENT_TIMES])
    trial, patient = np.asarray(table["trial"]), np.asarray(table["patient"])
    if _in_patient_order(trial, patient):  # a run's table: only each patient's events need sorting
        order = np.argsort(times.T, axis=1, kind="stable")  # NaN (no event) last
        defined = ~np.isnan(np.take_along_axis(times.T, order, axis=1))
        return order[defined], np.broadcast_to(np.arange(times.shape[1])[:, None], order.shape)[defined]
    which, rows = np.nonzero(~np.isnan(times))
    order = np.lexsort((times[which, rows], patient[rows], trial[rows]))
    return which[order], rows[order]


def _in_patient_order(trial: np.ndarray, patient: np.ndarray) -> bool:
    """Whether rows go by trial, then patient, each (trial, patient) once."""
    step_trial, step_patient = np.diff(trial), np.diff(patient)
    return bool(np.all((step_trial > 0) | ((step_trial == 0) & (step_patient > 0))))


def event_log(table: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The tidy event log (trial, patient, event, time) read from the event-time columns."""
    which, rows = event_log_rows(table)
    times = np.stack([table[column] for column in EVENT_TIMES])
    return {"trial": table["trial"][rows], "patient": table["patient"][rows],
            "event": np.array([column[2:] for column in EVENT_TIMES], dtype=object)[which],
            "time": times[which, rows]}
