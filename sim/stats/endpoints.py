"""The time-to-event endpoints of a virtual trial, defined once, for one trial or a batch of trials.

Each function takes patient columns of any shape (one trial: 1-D; a batch: a row per trial) and
returns, for every patient, the days from infusion to the endpoint's event or to censoring, and the
event's code (bool for a single event; cause 1..K or 0 censored for competing causes).  The
analysis set is the infused patients, :func:`infused`; values outside it are meaningless.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from sim.inputs.schema import NO_REMISSION, REMISSION_CATEGORIES

Columns = Mapping[str, np.ndarray]
CENSORED = 0
RELAPSE, NON_RELAPSE_DEATH = 1, 2
TRANSPLANT, EVENT_BEFORE_TRANSPLANT = 1, 2
NON_RELAPSE_DEATH_CAUSES = ("infection", "tma", "transplant", "toxicity")


def infused(t: Columns) -> np.ndarray:
    """Patients who received the cells: the analysis set of every endpoint after infusion."""
    return ~np.isnan(t["t_infusion"])


def in_remission(t: Columns) -> np.ndarray:
    """A complete remission (MRD-negative or positive) at the response assessment."""
    return np.isin(t["response"], REMISSION_CATEGORIES)


def no_remission(t: Columns) -> np.ndarray:
    """Assessed and not in remission: the disease never went."""
    return t["response"] == NO_REMISSION


def disease_failure(t: Columns) -> np.ndarray:
    """Relapse, or no remission at the assessment: the earlier, NaN if neither."""
    return np.fmin(t["t_relapse"], np.where(no_remission(t), t["t_response"], np.nan))


def overall_survival(t: Columns) -> tuple[np.ndarray, np.ndarray]:
    """Days from infusion to death or cut-off, and whether it was death."""
    return t["t_end"] - t["t_infusion"], ~np.isnan(t["t_death"])


def leukaemia_free_survival(t: Columns) -> tuple[np.ndarray, np.ndarray]:
    """Days from infusion to relapse, no remission at assessment, death, or cut-off."""
    first = np.fmin(disease_failure(t), t["t_death"])
    return np.where(np.isnan(first), t["t_end"], first) - t["t_infusion"], ~np.isnan(first)


def relapse_and_nrm(t: Columns) -> tuple[np.ndarray, np.ndarray]:
    """Days from infusion to relapse (or no remission) or to a non-relapse death, and which.

    Causes: :data:`RELAPSE` (relapse, or no remission at the assessment), :data:`NON_RELAPSE_DEATH`
    (death from infection, TMA, transplant or CRS/ICANS toxicity before any relapse), 0 censored at the end of follow-up.
    """
    failure = disease_failure(t)
    nrm = np.where(np.isin(t["death_cause"], NON_RELAPSE_DEATH_CAUSES) & np.isnan(failure), t["t_death"], np.nan)
    return _first_of(t, [failure, nrm])


def transplant_competing(t: Columns) -> tuple[np.ndarray, np.ndarray]:
    """Days from infusion to transplant, or to a relapse or death before it, and which.

    Causes: :data:`TRANSPLANT`, :data:`EVENT_BEFORE_TRANSPLANT` (relapse, no remission, or death,
    which end the chance of a consolidative transplant), 0 censored.
    """
    before = np.fmin(disease_failure(t), t["t_death"])
    transplant = t["t_transplant"]
    before = np.where(np.isnan(transplant) | (before < transplant), before, np.nan)
    return _first_of(t, [transplant, before])


def _first_of(t: Columns, event_times: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(days from infusion, cause 1..K or 0) of the first of several event times."""
    filled = np.where(np.isnan(np.stack(event_times)), np.inf, np.stack(event_times))
    earliest = filled.min(axis=0)
    cause = np.where(np.isinf(earliest), CENSORED, np.argmin(filled, axis=0) + 1)
    return np.where(np.isinf(earliest), t["t_end"], earliest) - t["t_infusion"], cause


def for_infused(endpoint: Callable[[Columns], tuple], t: Columns) -> tuple[np.ndarray, np.ndarray]:
    """An endpoint of one trial, for its infused patients only, in patient order."""
    keep = infused(t)
    return tuple(values[keep] for values in endpoint(t))
