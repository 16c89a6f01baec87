"""The data cut-off: what was observed by then, and each patient's one final state."""

from __future__ import annotations

import numpy as np

EVENT_TIME_PREFIX = "t_"
WAIT_STARTS = {"mfg_wait": "t_mfg_start", "icu_wait": "t_icu_start", "transplant_wait": "t_transplant"}


def apply_cutoff(c: dict[str, np.ndarray], cutoff: float) -> None:
    """Censor everything after ``cutoff`` and derive follow-up and the final state, in place."""
    for column in [name for name in c if name.startswith(EVENT_TIME_PREFIX)]:
        c[column] = np.where(c[column] > cutoff, np.nan, c[column])
    for wait, start in WAIT_STARTS.items():
        c[wait] = np.where(np.isnan(c[start]), np.nan, c[wait])
    _forget_unobserved(c)
    c["relapsed"] = ~np.isnan(c["t_relapse"])
    c["t_end"] = _end_of_follow_up(c, cutoff)
    c["final_state"] = final_state(c)


def _forget_unobserved(c: dict[str, np.ndarray]) -> None:
    """Blank what is only known at an event that has not happened by the cut-off."""
    infused = ~np.isnan(c["t_infusion"])
    c["product"] = np.where(np.isnan(c["t_mfg_end"]), "", c["product"])
    c["dose_level"] = np.where(infused, c["dose_level"], "")
    c["dose"] = np.where(infused, c["dose"], np.nan)
    c["crs_grade"] = np.where(np.isnan(c["t_crs_onset"]), 0, c["crs_grade"])
    c["t_crs_end"] = np.where(np.isnan(c["t_crs_onset"]), np.nan, c["t_crs_end"])
    c["icans_grade"] = np.where(np.isnan(c["t_icans_onset"]), 0, c["icans_grade"])
    c["cytopenia_g34"] = c["cytopenia_g34"] & infused
    c["early_infection"] = c["early_infection"] & infused
    c["response"] = np.where(np.isnan(c["t_response"]), "", c["response"])
    c["death_cause"] = np.where(np.isnan(c["t_death"]), "", c["death_cause"])


def _end_of_follow_up(c: dict[str, np.ndarray], cutoff: float) -> np.ndarray:
    """Death or cut-off for infused patients; leaving the trial or cut-off for the others."""
    left = np.fmin(c["t_withdrawal"], np.where(c["product"] == "failed", c["t_mfg_end"], np.nan))
    infused = ~np.isnan(c["t_infusion"])
    end = np.where(infused, c["t_death"], left)
    return np.where(np.isnan(end), cutoff, end)


def final_state(c: dict[str, np.ndarray]) -> np.ndarray:
    """Exactly one of :data:`sim.model.records.FINAL_STATES` per patient, the first rule that applies."""
    infused = ~np.isnan(c["t_infusion"])
    rules = [
        (~np.isnan(c["t_withdrawal"]), "withdrawn"),
        (c["product"] == "failed", "not_infused"),
        (~infused, "pending_at_cutoff"),
        (c["death_cause"] == "disease", "died_disease"),
        (c["death_cause"] == "infection", "died_infection"),
        (c["death_cause"] == "tma", "died_tma"),
        (c["death_cause"] == "transplant", "died_transplant"),
        (c["death_cause"] == "toxicity", "died_toxicity"),
        (c["relapsed"], "alive_relapsed"),
        (c["response"] == "no_cr", "alive_no_remission"),
        (c["response"] != "", "alive_in_remission"),
    ]
    state = np.full(np.shape(infused), "alive_before_response", dtype=object)
    for mask, name in reversed(rules):
        state[mask] = name
    return state
