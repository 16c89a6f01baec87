"""Per-patient draws over arrays: everything about a patient that does not depend on the queues.

Every function maps uniforms (one named stream each, see :mod:`sim.rng.streams`) through an inverse
CDF, elementwise, so the same code serves one trial (arrays of patients) or a batch of trials (a
row per trial), and both engines share it.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, logit

from sim.model.late_bands import LATE_CAUSES
from sim.model.late_hazards import unit_exponential
from sim.inputs.params import Params
from sim.inputs.schema import RESPONSE_CATEGORIES
from sim.rng.streams import uniforms
from sim.inputs.durations import ppf

PRODUCT = ("full", "insufficient", "failed")
FULL, INSUFFICIENT, FAILED = 0, 1, 2
MRD_NEG, MRD_POS, NO_CR = 0, 1, 2
STREAMS = (
    "accrual", "donor_route", "donor_search", "collection", "manufacturing", "manufacturing_failure", "yield",
    "progression", "dose_allocation", "expansion", "crs", "crs_grade", "crs_onset", "crs_duration",
    "icans", "icans_grade", "icans_onset", "cytopenia", "early_infection", "response", "transplant",
    "transplant_delay", "late_relapse", "late_infection", "late_tma", "late_disease_death", "late_transplant",
    "toxicity_death",
)


def draw_uniforms(seed: int, trials: np.ndarray | int, n: int) -> dict[str, np.ndarray]:
    """Every stream's uniforms: shape (n,) for one trial index, (len(trials), n) for several."""
    rows = np.atleast_1d(trials)
    u = {name: uniforms(seed, name, rows, n) for name in STREAMS}
    return {name: value[0] for name, value in u.items()} if np.ndim(trials) == 0 else u


def duration(params: Params, path: str, u: np.ndarray) -> np.ndarray:
    """Days drawn from the time distribution at ``path``."""
    family, args = params.timedist(path)
    return ppf(family, args, u)


def along_last(values) -> np.ndarray:
    """Values (floats, or arrays of a value per trial row) stacked along a new last axis."""
    return np.stack(np.broadcast_arrays(*[np.asarray(v, dtype=float) for v in values]), axis=-1)


def categorical(weights, u: np.ndarray) -> np.ndarray:
    """Index into ``weights`` (in order) chosen by each uniform, through the cumulative weights;
    a weight may be an array of one per trial row."""
    w = along_last(weights)
    cumulative = np.cumsum(w, axis=-1) / w.sum(axis=-1, keepdims=True)
    if cumulative.ndim == 1:
        return np.minimum(np.searchsorted(cumulative, u, side="right"), len(cumulative) - 1)
    chosen = np.sum(cumulative <= np.asarray(u)[..., None], axis=-1)  # searchsorted, row by row
    return np.minimum(chosen, cumulative.shape[-1] - 1)


def pick(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``values[index]`` along the last axis of ``values``, which may hold a row per trial."""
    if values.ndim == 1:
        return values[index]
    return np.take_along_axis(np.broadcast_to(values, index.shape + values.shape[-1:]), index[..., None], -1)[..., 0]


def arrival_times(mean_period: float, u: np.ndarray) -> np.ndarray:
    """Enrolment days along the last axis: day 0, then exponential gaps averaging period / (n - 1)."""
    n = u.shape[-1]
    gaps = -np.log1p(-u[..., 1:]) * (mean_period / max(n - 1, 1))
    return np.concatenate([np.zeros(u.shape[:-1] + (1,)), np.cumsum(gaps, axis=-1)], axis=-1)


def latent_time(hazard: float, u: np.ndarray) -> np.ndarray:
    """Exponential latent times with a constant hazard (inf when the hazard is zero); elementwise."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.asarray(hazard) > 0, unit_exponential(u) / hazard, np.inf)


def grades(params: Params, section: str, u: np.ndarray, shift: np.ndarray | float = 0.0) -> np.ndarray:
    """Grade 1-4 given the event: exceedance probabilities P(grade >= g), shifted on the log-odds scale.

    The exceedances are made non-increasing by a running minimum; ``shift`` moves every threshold
    together (a proportional-odds effect, e.g. of dose), so a higher shift never lowers a grade.
    """
    exceed = np.minimum.accumulate(np.moveaxis(along_last([params[f"{section}.p_grade_at_least_{g}"] for g in (2, 3, 4)]), -1, 0))
    grade = np.ones(np.shape(u), dtype=int)
    with np.errstate(divide="ignore"):
        for p in exceed:
            grade += u < expit(logit(p) + shift)
    return grade


def crs_shift(params: Params, dose: np.ndarray) -> np.ndarray:
    """Log-odds shift of CRS severity for each patient's dose (zero at the reference dose)."""
    return (params["crs.dose_log_odds"] * (dose - params["crs.reference_dose"])
            + params["crs.severity_log_odds_shift"])


def draw_patients(params: Params, u: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every per-patient draw from the streams' uniforms ``u`` (see :func:`draw_uniforms`)."""
    d: dict[str, np.ndarray] = {"arrival": arrival_times(params["accrual.mean_period_days"], u["accrual"])}
    d.update(_pre_infusion(params, u))
    d.update(_dose(params, d["product"], u["dose_allocation"]))
    d["peak_days"] = duration(params, "expansion.peak_day", u["expansion"])
    d.update(_toxicity(params, d["dose"], u))
    d.update(_response_and_transplant(params, d["new_donor"], d["dose"], u))
    d.update({f"target_{cause}": unit_exponential(u[f"late_{cause}"]) for cause in (*LATE_CAUSES, "disease_death")})
    return d


def _pre_infusion(params: Params, u: dict) -> dict[str, np.ndarray]:
    new_donor = u["donor_route"] < params["donor.p_new_donor"]
    failed = u["manufacturing_failure"] < params["manufacturing.p_failure"]
    insufficient = u["yield"] < params["manufacturing.p_insufficient_yield"]
    if params.text.get("dose.low_yield_level") is None:
        failed = failed | insufficient  # no lower dose in the protocol: an insufficient product is not infused
    return {
        "new_donor": new_donor,
        "search_days": np.where(new_donor, duration(params, "donor.search_days", u["donor_search"]), 0.0),
        "collection_days": duration(params, "manufacturing.collection_days", u["collection"]),
        "manufacturing_days": duration(params, "manufacturing.manufacturing_days", u["manufacturing"]),
        "product": np.where(failed, FAILED, np.where(insufficient, INSUFFICIENT, FULL)),
        "progression_days": latent_time(params["withdrawal.progression_hazard"], u["progression"]),
    }


def dose_level_names(params: Params) -> list[str]:
    """Dose level names in params order; draws hold indices into this list."""
    return list(params.dose_levels())


def _dose(params: Params, product: np.ndarray, u: np.ndarray) -> dict[str, np.ndarray]:
    names = dose_level_names(params)
    allocation = params["dose.allocation"]
    level = categorical([allocation.get(name, 0.0) for name in names], u)
    low = params.text.get("dose.low_yield_level")
    if low is not None:
        level = np.where(product == INSUFFICIENT, names.index(low), level)
    doses = along_last([params.dose_levels()[name] for name in names])
    return {"dose_index": level, "dose": pick(doses, level)}


def _toxicity(params: Params, dose: np.ndarray, u: dict) -> dict[str, np.ndarray]:
    crs = u["crs"] < params["crs.incidence"]
    crs_grade = np.where(crs, grades(params, "crs", u["crs_grade"], crs_shift(params, dose)), 0)
    duration_u = u["crs_duration"]
    crs_duration = np.where(crs_grade >= 3, duration(params, "crs.duration_days_severe", duration_u),
                            duration(params, "crs.duration_days_mild", duration_u))
    icans = u["icans"] < params["icans.incidence"]
    return {
        "crs_grade": crs_grade,
        "crs_onset_days": duration(params, "crs.onset_day", u["crs_onset"]),
        "crs_duration_days": crs_duration,
        "icans_grade": np.where(icans, grades(params, "icans", u["icans_grade"]), 0),
        "icans_onset_days": duration(params, "icans.onset_day", u["icans_onset"]),
        "cytopenia_g34": u["cytopenia"] < params["early.p_cytopenia_g34"],
        "early_infection": u["early_infection"] < params["early.p_infection"],
        "toxicity_death_u": u["toxicity_death"],  # decided in the timeline, after the ICU queue
    }


def response_cumulative(params: Params, dose: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each patient's cumulative chances of (MRD-negative CR, any CR), the chance of CR shifted on
    the log-odds scale by ``response.dose_log_odds`` per log10 of dose over the reference dose; the
    MRD split of a CR stays as the params state it."""
    weights = along_last([params["response.categories"].get(c, 0.0) for c in RESPONSE_CATEGORIES])
    weights = weights / weights.sum(axis=-1, keepdims=True)
    p_cr = weights[..., 0] + weights[..., 1]
    shift = params["response.dose_log_odds"] * np.log10(dose / params["response.reference_dose"])
    with np.errstate(divide="ignore", invalid="ignore"):
        cr = np.where((0 < p_cr) & (p_cr < 1), expit(logit(p_cr) + shift), p_cr)
        mrd_neg = np.where(p_cr > 0, cr * (weights[..., 0] / p_cr), 0.0)
    return mrd_neg, cr


def _response_and_transplant(params: Params, new_donor: np.ndarray, dose: np.ndarray, u: dict) -> dict[str, np.ndarray]:
    mrd_neg, cr = response_cumulative(params, dose)
    response = np.where(u["response"] < mrd_neg, MRD_NEG, np.where(u["response"] < cr, MRD_POS, NO_CR))
    p_transplant = np.where(new_donor, params["transplant.p_if_cr_new_donor"], params["transplant.p_if_cr_same_donor"])
    intends = (u["transplant"] < p_transplant) & (response != NO_CR)
    delay = np.maximum(duration(params, "transplant.delay_days", u["transplant_delay"]), params["response.assessment_day"])
    return {"response": response, "transplant_intended": intends, "transplant_delay_days": delay}
