"""What one virtual trial records: a column per field, a row per patient.

Engines fill a :class:`TrialRecord`; everything downstream (tables, event log, summaries) reads it.
Times are days since the first enrolment; NaN means the event did not happen before the data cut-off.
"""

from __future__ import annotations

import numpy as np

# event columns, in the order they happen along the pathway; the event log is read from these
EVENT_TIMES = (
    "t_enrol", "t_donor_found", "t_collection", "t_mfg_start", "t_mfg_end", "t_withdrawal",
    "t_ld_start", "t_infusion", "t_crs_onset", "t_icu_start", "t_peak", "t_icans_onset",
    "t_crs_end", "t_response", "t_transplant", "t_relapse", "t_death",
)
WAITS = ("mfg_wait", "icu_wait", "transplant_wait")
FLOATS = EVENT_TIMES + WAITS + ("dose", "t_end")
INTS = ("crs_grade", "icans_grade")
BOOLS = ("new_donor", "cytopenia_g34", "early_infection", "relapsed")
TEXTS = ("product", "dose_level", "response", "death_cause", "final_state")

FINAL_STATES = (
    "withdrawn", "not_infused", "pending_at_cutoff",
    "alive_before_response", "alive_in_remission", "alive_no_remission", "alive_relapsed",
    "died_disease", "died_infection", "died_tma",
)
DEATH_CAUSES = ("disease", "infection", "tma")


class TrialRecord:
    """Per-patient columns for one virtual trial, pre-filled with 'did not happen'."""

    def __init__(self, trial: int, n: int) -> None:
        self.trial = trial
        self.n = n
        self.cutoff = np.nan
        self.columns: dict[str, np.ndarray] = {name: np.full(n, np.nan) for name in FLOATS}
        self.columns.update({name: np.zeros(n, dtype=int) for name in INTS})
        self.columns.update({name: np.zeros(n, dtype=bool) for name in BOOLS})
        self.columns.update({name: np.full(n, "", dtype=object) for name in TEXTS})
        self.resource_log: list[tuple[str, float, int, float]] = []  # (resource, time, +1/-1, wait)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def table(self) -> dict[str, np.ndarray]:
        """The per-patient table: trial and patient ids first, then every column."""
        head = {"trial": np.full(self.n, self.trial), "patient": np.arange(self.n)}
        return head | self.columns | {"cutoff": np.full(self.n, self.cutoff)}


def event_log(table: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The tidy event log (trial, patient, event, time) read from the event-time columns."""
    trials, patients, events, times = [], [], [], []
    for column in EVENT_TIMES:
        t = table[column]
        happened = ~np.isnan(t)
        trials.append(table["trial"][happened])
        patients.append(table["patient"][happened])
        events.append(np.full(happened.sum(), column[2:], dtype=object))
        times.append(t[happened])
    log = {"trial": np.concatenate(trials), "patient": np.concatenate(patients),
           "event": np.concatenate(events), "time": np.concatenate(times)}
    order = np.lexsort((log["time"], log["patient"], log["trial"]))
    return {key: value[order] for key, value in log.items()}
