"""Per-patient draws over arrays: everything about a patient that does not depend on the queues.

Each function takes the parameters and one array of uniforms (a named stream) and returns an
array, through the inverse CDF, so both engines share the same samplers and the same luck.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, logit

from .late import unit_exponential
from .params import Params
from .schema import RESPONSE_CATEGORIES
from .streams import Streams
from .timedist import ppf

LATE_CAUSES = ("relapse", "infection", "tma")
PRODUCT = ("full", "insufficient", "failed")


def duration(params: Params, path: str, u: np.ndarray) -> np.ndarray:
    """Days drawn from the time distribution at ``path``."""
    family, args = params.timedist(path)
    return ppf(family, args, u)


def categorical(weights: dict[str, float], u: np.ndarray) -> np.ndarray:
    """Index into ``weights`` (in its order) chosen by each uniform, through the cumulative weights."""
    w = np.array(list(weights.values()), dtype=float)
    cumulative = np.cumsum(w) / w.sum()
    return np.minimum(np.searchsorted(cumulative, u, side="right"), len(w) - 1)


def arrival_times(mean_period: float, n: int, u: np.ndarray) -> np.ndarray:
    """Enrolment days: the first patient on day 0, then exponential gaps averaging period / (n - 1)."""
    if n == 1:
        return np.zeros(1)
    gaps = -np.log1p(-u[1:]) * mean_period / (n - 1)
    return np.concatenate([[0.0], np.cumsum(gaps)])


def latent_time(hazard: float, u: np.ndarray) -> np.ndarray:
    """Exponential latent times with a constant hazard (inf when the hazard is zero)."""
    with np.errstate(divide="ignore"):
        return unit_exponential(u) / hazard if hazard > 0 else np.full(u.shape, np.inf)


def grades(params: Params, section: str, u: np.ndarray, shift: np.ndarray | float = 0.0) -> np.ndarray:
    """Grade 1-4 given the event: exceedance probabilities P(grade >= g), shifted on the log-odds scale.

    The exceedances are made non-increasing by a running minimum; ``shift`` moves every threshold
    together (a proportional-odds effect, e.g. of dose), so a higher shift never lowers a grade.
    """
    exceed = np.minimum.accumulate([params[f"{section}.p_grade_at_least_{g}"] for g in (2, 3, 4)])
    with np.errstate(divide="ignore"):
        p = expit(logit(exceed)[:, None] + np.asarray(shift, dtype=float))
    return 1 + (u[None, :] < p).sum(axis=0)


def crs_shift(params: Params, dose: np.ndarray) -> np.ndarray:
    """Log-odds shift of CRS severity for each patient's dose (zero at the reference dose)."""
    return (params["crs.dose_log_odds"] * (dose - params["crs.reference_dose"])
            + params["crs.severity_log_odds_shift"])


def draw_patients(params: Params, streams: Streams) -> dict[str, np.ndarray]:
    """Every per-patient draw of one virtual trial, one named stream per stochastic element."""
    n = int(params["accrual.enrolled"])
    u = lambda name: streams.uniforms(name, n)  # noqa: E731
    d: dict[str, np.ndarray] = {"arrival": arrival_times(params["accrual.mean_period_days"], n, u("accrual"))}
    d.update(_pre_infusion(params, n, u))
    d.update(_dose(params, d["product"], u("dose_allocation")))
    d["peak_days"] = duration(params, "expansion.peak_day", u("expansion"))
    d.update(_toxicity(params, d["dose"], u))
    d.update(_response_and_transplant(params, d["new_donor"], u))
    d.update({f"target_{cause}": unit_exponential(u(f"late_{cause}")) for cause in (*LATE_CAUSES, "disease_death")})
    return d


def _pre_infusion(params: Params, n: int, u) -> dict[str, np.ndarray]:
    new_donor = u("donor_route") < params["donor.p_new_donor"]
    failed = u("manufacturing_failure") < params["manufacturing.p_failure"]
    insufficient = u("yield") < params["manufacturing.p_insufficient_yield"]
    product = np.where(failed, 2, np.where(insufficient, 1, 0))
    if params.text.get("dose.low_yield_level") is None:
        product[product == 1] = 2  # no lower dose in the protocol: an insufficient product is not infused
    return {
        "new_donor": new_donor,
        "search_days": np.where(new_donor, duration(params, "donor.search_days", u("donor_search")), 0.0),
        "collection_days": duration(params, "manufacturing.collection_days", u("collection")),
        "manufacturing_days": duration(params, "manufacturing.manufacturing_days", u("manufacturing")),
        "product": product,
        "progression_days": latent_time(params["withdrawal.progression_hazard"], u("progression")),
    }


def _dose(params: Params, product: np.ndarray, u: np.ndarray) -> dict[str, np.ndarray]:
    allocation = params["dose.allocation"]
    names = np.array(list(allocation), dtype=object)
    level = names[categorical(allocation, u)]
    low = params.text.get("dose.low_yield_level")
    if low is not None:
        level = np.where(product == 1, low, level)
    levels = params.dose_levels()
    return {"dose_level": level, "dose": np.array([levels[name] for name in level], dtype=float)}


def _toxicity(params: Params, dose: np.ndarray, u) -> dict[str, np.ndarray]:
    crs = u("crs") < params["crs.incidence"]
    crs_grade = np.where(crs, grades(params, "crs", u("crs_grade"), crs_shift(params, dose)), 0)
    duration_u = u("crs_duration")
    crs_duration = np.where(crs_grade >= 3, duration(params, "crs.duration_days_severe", duration_u),
                            duration(params, "crs.duration_days_mild", duration_u))
    icans = u("icans") < params["icans.incidence"]
    return {
        "crs_grade": crs_grade,
        "crs_onset_days": duration(params, "crs.onset_day", u("crs_onset")),
        "crs_duration_days": crs_duration,
        "icans_grade": np.where(icans, grades(params, "icans", u("icans_grade")), 0),
        "icans_onset_days": duration(params, "icans.onset_day", u("icans_onset")),
        "cytopenia_g34": u("cytopenia") < params["early.p_cytopenia_g34"],
        "early_infection": u("early_infection") < params["early.p_infection"],
    }


def _response_and_transplant(params: Params, new_donor: np.ndarray, u) -> dict[str, np.ndarray]:
    weights = {c: params["response.categories"].get(c, 0.0) for c in RESPONSE_CATEGORIES}
    response = np.array(RESPONSE_CATEGORIES, dtype=object)[categorical(weights, u("response"))]
    p_transplant = np.where(new_donor, params["transplant.p_if_cr_new_donor"], params["transplant.p_if_cr_same_donor"])
    intends = (u("transplant") < p_transplant) & (response != "no_cr")
    delay = np.maximum(duration(params, "transplant.delay_days", u("transplant_delay")), params["response.assessment_day"])
    return {"response": response, "transplant_intended": intends, "transplant_delay_days": delay}


def late_hazards(params: Params, response: str) -> tuple[np.ndarray, np.ndarray]:
    """Hazards per day of (relapse, infection death, TMA death), without and after transplant."""
    ratio = params["late.relapse_hazard_ratio_mrd_pos"] if response == "mrd_pos_cr" else 1.0
    before = np.array([params["late.relapse_hazard"] * ratio, params["late.infection_death_hazard"],
                       params["late.tma_death_hazard"]])
    after = np.array([params["late.relapse_hazard_after_transplant"] * ratio,
                      params["late.infection_death_hazard_after_transplant"],
                      params["late.tma_death_hazard_after_transplant"]])
    return before, after
