"""The data cut-off: what was observed by then, and each patient's one final state."""

from __future__ import annotations

import numpy as np

from .records import EVENT_TIMES, TrialRecord

WAIT_STARTS = {"mfg_wait": "t_mfg_start", "icu_wait": "t_icu_start", "transplant_wait": "t_transplant"}


def apply_cutoff(record: TrialRecord, cutoff: float) -> None:
    """Censor everything after ``cutoff`` and derive follow-up and the final state, in place."""
    c = record.columns
    record.cutoff = cutoff
    for column in EVENT_TIMES:
        c[column][c[column] > cutoff] = np.nan
    for wait, start in WAIT_STARTS.items():
        c[wait][np.isnan(c[start])] = np.nan
    _forget_unobserved(c)
    c["relapsed"] = ~np.isnan(c["t_relapse"])
    c["t_end"] = _end_of_follow_up(c, cutoff)
    c["final_state"] = final_state(c)


def _forget_unobserved(c: dict[str, np.ndarray]) -> None:
    not_made = np.isnan(c["t_mfg_end"])
    c["product"][not_made] = ""
    infused = ~np.isnan(c["t_infusion"])
    c["dose_level"][~infused] = ""
    c["dose"][~infused] = np.nan
    c["crs_grade"][np.isnan(c["t_crs_onset"])] = 0
    c["t_crs_end"][np.isnan(c["t_crs_onset"])] = np.nan
    c["icans_grade"][np.isnan(c["t_icans_onset"])] = 0
    c["cytopenia_g34"] &= infused
    c["early_infection"] &= infused
    c["response"][np.isnan(c["t_response"])] = ""
    c["death_cause"][np.isnan(c["t_death"])] = ""


def _end_of_follow_up(c: dict[str, np.ndarray], cutoff: float) -> np.ndarray:
    """Death or cut-off for infused patients; leaving the trial or cut-off for the others."""
    left = np.fmin(c["t_withdrawal"], np.where(c["product"] == "failed", c["t_mfg_end"], np.nan))
    infused = ~np.isnan(c["t_infusion"])
    end = np.where(infused, c["t_death"], left)
    return np.where(np.isnan(end), cutoff, end)


def final_state(c: dict[str, np.ndarray]) -> np.ndarray:
    """Exactly one of :data:`sim.records.FINAL_STATES` per patient, the first rule that applies."""
    infused = ~np.isnan(c["t_infusion"])
    rules = [
        (~np.isnan(c["t_withdrawal"]), "withdrawn"),
        (c["product"] == "failed", "not_infused"),
        (~infused, "pending_at_cutoff"),
        (c["death_cause"] == "disease", "died_disease"),
        (c["death_cause"] == "infection", "died_infection"),
        (c["death_cause"] == "tma", "died_tma"),
        (c["relapsed"], "alive_relapsed"),
        (c["response"] == "no_cr", "alive_no_remission"),
        (c["response"] != "", "alive_in_remission"),
    ]
    state = np.full(len(infused), "alive_before_response", dtype=object)
    for mask, name in reversed(rules):
        state[mask] = name
    return state
