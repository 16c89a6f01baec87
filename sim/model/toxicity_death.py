"""Death from severe CRS or grade 4 ICANS: whether it happens and when, from the patient's own uniform.

A patient with CRS of grade 3 or more dies of it with chance ``crs.p_death_given_grade_3_plus`` (the
published counts of CRS deaths are per severe, grade 3 or more, CRS), raised on the
log-odds scale by ``crs.death_log_odds_per_icu_wait_day`` for each day they waited for an
intensive-care bed; a patient with grade 4 ICANS dies of it with chance
``icans.p_death_given_grade_4``.  One uniform (stream ``toxicity_death``) decides both: below the
CRS chance the patient dies of CRS, else below the chance of either they die of ICANS, so a larger
chance never spares a patient who would otherwise die (common random numbers).

A CRS death comes ``crs.death_fraction_of_duration`` of the CRS duration after entering intensive
care (or after CRS onset when no bed is needed); an ICANS death comes
``icans.death_days_after_onset`` after ICANS onset.  The ICU wait is what an engine resolved, so
this is decided in the shared timeline, after the queues; a bed is held for the full CRS duration.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, logit

from sim.inputs.params import Params

NEVER = np.inf


def crs_death_chance(params: Params, icu_wait: np.ndarray) -> np.ndarray:
    """Chance of death given CRS of grade 3 or more after waiting ``icu_wait`` days (NaN: no wait) for a bed."""
    p = params["crs.p_death_given_grade_3_plus"]
    slope = params["crs.death_log_odds_per_icu_wait_day"]
    wait = np.nan_to_num(np.asarray(icu_wait, dtype=float), nan=0.0, posinf=1e9)
    with np.errstate(divide="ignore", over="ignore"):
        chance = expit(logit(p) + slope * wait)  # elementwise: p and slope may be a batch's columns
    return np.broadcast_to(chance, np.broadcast_shapes(np.shape(chance), wait.shape))


def toxicity_death_day(params: Params, d: dict[str, np.ndarray], crs_grade: np.ndarray, icans_grade: np.ndarray,
                       icu_entry_day: np.ndarray, icu_wait: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Days after infusion of death from CRS of grade 3 or more or grade 4 ICANS (inf: none), and whether it was CRS.

    Parameters
    ----------
    params : Params
    d : dict
        Per-patient draws (:func:`sim.model.draws.draw_patients`): the uniform ``toxicity_death_u``,
        ``crs_duration_days`` and ``icans_onset_days``.
    crs_grade, icans_grade : ndarray of int
        The grades the patient has (a dose-finding design passes the grades at each dose).
    icu_entry_day : ndarray
        Days after infusion of entering intensive care, or of CRS onset when no bed is needed.
    icu_wait : ndarray
        Days waited for a bed (NaN or 0: none).
    """
    u = d["toxicity_death_u"]
    p_crs = np.where(crs_grade >= 3, crs_death_chance(params, icu_wait), 0.0)
    p_icans = np.where(icans_grade >= 4, params["icans.p_death_given_grade_4"], 0.0)
    by_crs = u < p_crs
    by_icans = ~by_crs & (u < p_crs + (1 - p_crs) * p_icans)
    crs_day = icu_entry_day + params["crs.death_fraction_of_duration"] * d["crs_duration_days"]
    icans_day = d["icans_onset_days"] + params["icans.death_days_after_onset"]
    day = np.where(by_crs, crs_day, np.where(by_icans, icans_day, NEVER))
    return day, by_crs
