"""The clinical timeline, shared by both engines.

An engine resolves only what depends on other patients: when each patient starts manufacturing
(``mfg_start``; NaN if they never do), enters intensive care (``icu_start``) and is transplanted
(``transplant``).  Everything else follows from the per-patient draws by the functions here,
elementwise over arrays, so the SimPy engine and the cohort engine cannot disagree on clinical logic.
"""

from __future__ import annotations

import numpy as np

from sim.model import late_bands
from sim.model.late_bands import LATE_CAUSES
from sim.model.late_hazards import hitting_time
from sim.model.toxicity_death import toxicity_death_day
from sim.inputs.params import Params
from sim.model.draws import FAILED, MRD_POS, NO_CR, PRODUCT, dose_level_names
from sim.inputs.schema import RESPONSE_CATEGORIES

TOXICITY = "toxicity"  # the death cause of CRS of grade 3 or more or grade 4 ICANS (:mod:`sim.model.toxicity_death`)
ICU_MIN_GRADE = 3  # ASTCT grade 3: vasopressor or high-flow oxygen, managed in intensive care
NAN = np.nan


def plan(params: Params, d: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Times that do not depend on queues: when a patient is ready for manufacturing, when they
    would progress, the manufacturing-to-infusion steps, and their late course from response."""
    lead = params["lymphodepletion.start_before_infusion_days"]
    steps = np.maximum(d["manufacturing_days"], lead)  # infused when ready, after a full lead time
    donor_found = d["arrival"] + d["search_days"]
    p = {"donor_found": donor_found, "ready": donor_found + d["collection_days"],
         "progression_at": d["arrival"] + d["progression_days"],
         "ld_offset": steps - lead, "infusion_offset": steps}
    p.update(_late_plan(params, d))
    return p


def _late_plan(params: Params, d: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each cause's rates per band before and after transplant, on the clock of the late course
    (days from the response assessment), and each cause's time without a transplant."""
    factors = late_bands.patient_factors(params, d["response"] == MRD_POS, d["cytopenia_g34"], d["early_infection"])
    before, after = late_bands.rates(params, factors, False), late_bands.rates(params, factors, True)
    edges = late_bands.band_starts(params) - np.asarray(params["response.assessment_day"])[..., None]
    targets = np.stack([d[f"target_{cause}"] for cause in LATE_CAUSES])
    times = hitting_time(targets, before, after, edges, np.inf)
    responded = d["response"] != NO_CR
    untreated = np.where(responded, times.min(axis=0), np.inf)
    planned = np.where(d["transplant_intended"], d["transplant_delay_days"] - params["response.assessment_day"], np.inf)
    return {"hazards_before": before, "hazards_after": after, "late_targets": targets, "late_edges": edges,
            "times_without_transplant": times, "event_without_transplant": untreated,
            "transplant_planned": np.where(planned < untreated, planned, np.inf)}


def trial_rows(d: dict[str, np.ndarray], p: dict[str, np.ndarray]):
    """Yield (draws, plan) of each trial of a batch whose arrays hold a row per trial."""
    for r in range(d["arrival"].shape[0]):
        yield ({key: value[r] for key, value in d.items()},
               {key: (value if value.ndim == 1 else value[r]) if key == "late_edges"
                else value[:, r] if value.ndim >= 3 else value[r]
                for key, value in p.items()})


def stack_rows(outcomes: list[tuple]) -> tuple:
    """Stack per-trial queue outcomes (mfg_start, icu_start, transplant) into rows; None stays None."""
    return tuple(None if parts[0] is None else np.stack(parts) for parts in zip(*outcomes))


def unlimited_mfg_start(p: dict[str, np.ndarray]) -> np.ndarray:
    """Manufacturing starts when the patient is ready, unless they progressed first."""
    return np.where(p["progression_at"] < p["ready"], NAN, p["ready"])


def pre_infusion(d: dict[str, np.ndarray], p: dict[str, np.ndarray], mfg_start: np.ndarray) -> dict[str, np.ndarray]:
    """Columns from enrolment to infusion, given when manufacturing started (NaN: it never did)."""
    prog = p["progression_at"]
    ld_start, mfg_end = mfg_start + p["ld_offset"], mfg_start + d["manufacturing_days"]
    infusion = mfg_start + p["infusion_offset"]
    failed = d["product"] == FAILED
    last = np.where(failed, mfg_end, infusion)
    withdrawn = np.isnan(mfg_start) | (prog < last)

    def reached(t: np.ndarray) -> np.ndarray:
        return np.where(t <= prog, t, NAN)

    c = {"t_enrol": d["arrival"].astype(float), "new_donor": d["new_donor"],
         "t_donor_found": np.where(d["new_donor"], reached(p["donor_found"]), NAN),
         "t_collection": reached(p["ready"]), "t_mfg_start": reached(mfg_start),
         "t_ld_start": reached(ld_start), "t_mfg_end": reached(mfg_end),
         "t_infusion": np.where(failed, NAN, reached(infusion)),
         "t_withdrawal": np.where(withdrawn, prog, NAN)}
    c["mfg_wait"] = c["t_mfg_start"] - p["ready"]
    c["product"] = np.where(np.isnan(c["t_mfg_end"]), "", np.array(PRODUCT, dtype=object)[d["product"]])
    return c


def mfg_slot_uses(d, p, c) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(requested, start, end) per patient of a manufacturing slot (NaN start: no use); the slot is
    held to the end of manufacturing or to withdrawal."""
    start = c["t_mfg_start"]
    return p["ready"], start, np.fmin(start + d["manufacturing_days"], c["t_withdrawal"])


def response_time(params: Params, t_infusion: np.ndarray) -> np.ndarray:
    return t_infusion + params["response.assessment_day"]


def unlimited_transplant(params: Params, p: dict[str, np.ndarray], t_infusion: np.ndarray) -> np.ndarray:
    """Transplant on the planned day (if planned and before any late event): no bed queue."""
    return response_time(params, t_infusion) + p["transplant_planned"]


def crs_onset(d: dict[str, np.ndarray], t_infusion: np.ndarray) -> np.ndarray:
    return np.where(d["crs_grade"] > 0, t_infusion + d["crs_onset_days"], NAN)


def needs_icu(d: dict[str, np.ndarray], t_infusion: np.ndarray) -> np.ndarray:
    return (d["crs_grade"] >= ICU_MIN_GRADE) & ~np.isnan(t_infusion)


def icu_leave_at(d: dict[str, np.ndarray], t_infusion: np.ndarray) -> np.ndarray:
    """When a patient waiting for an intensive-care bed leaves the queue unserved: the end of the CRS,
    after which the bed is no longer needed."""
    return crs_onset(d, t_infusion) + d["crs_duration_days"]


def post_infusion(params: Params, d, p, t_infusion, icu_start, transplant) -> dict[str, np.ndarray]:
    """Columns from infusion on, given ICU entry and transplant times (NaN or inf: none)."""
    infused = ~np.isnan(t_infusion)
    onset = crs_onset(d, t_infusion)
    names = np.array(dose_level_names(params), dtype=object)
    c = {"dose_level": np.where(infused, names[d["dose_index"]], ""), "dose": np.where(infused, d["dose"], NAN),
         "t_peak": t_infusion + d["peak_days"], "crs_grade": np.where(infused, d["crs_grade"], 0),
         "t_crs_onset": onset, "t_crs_end": onset + d["crs_duration_days"],
         "t_icu_start": np.where(needs_icu(d, t_infusion), icu_start, NAN),
         "icans_grade": np.where(infused, d["icans_grade"], 0),
         "t_icans_onset": np.where(d["icans_grade"] > 0, t_infusion + d["icans_onset_days"], NAN),
         "cytopenia_g34": infused & d["cytopenia_g34"], "early_infection": infused & d["early_infection"]}
    c["icu_wait"] = c["t_icu_start"] - onset
    toxic = _toxicity_death(params, d, t_infusion, c)
    c.update(_late_course(params, d, p, t_infusion, transplant, toxic))
    _blank_after_death(c, toxic)
    return c


def _toxicity_death(params: Params, d, t_infusion, c) -> np.ndarray:
    """Time of death from CRS of grade 3 or more or grade 4 ICANS (NaN: none), from the ICU wait the engine
    resolved: a patient who needed a bed and never had one (the CRS ended first) waited the whole CRS."""
    entry = np.where(np.isnan(c["t_icu_start"]), d["crs_onset_days"], c["t_icu_start"] - t_infusion)
    never_had_one = needs_icu(d, t_infusion) & np.isnan(c["t_icu_start"])
    wait = np.where(never_had_one, d["crs_duration_days"], c["icu_wait"])
    day, _ = toxicity_death_day(params, d, c["crs_grade"], c["icans_grade"], entry, wait)
    return np.where(np.isfinite(day), t_infusion + day, NAN)


def _blank_after_death(c: dict[str, np.ndarray], toxic: np.ndarray) -> None:
    """Events of the acute course that a death from toxicity comes before never happen."""
    for column in ("t_peak", "t_crs_end", "t_icans_onset"):
        c[column] = np.where(toxic <= c[column], NAN, c[column])
    c["icans_grade"] = np.where(np.isnan(c["t_icans_onset"]), 0, c["icans_grade"])


def _late_course(params: Params, d, p, t_infusion, transplant, toxic) -> dict[str, np.ndarray]:
    """Relapse (the first event of a responder, if it is relapse), then death: the first of the
    causes other than relapse, which go on after a relapse and act without remission too, and of
    death from the disease once it is back (or never gone).  A death from toxicity (``toxic``, NaN:
    none) before the response assessment or the transplant means neither happens, and it is the
    death if it comes first."""
    r = response_time(params, t_infusion)
    r = np.where(toxic <= r, NAN, r)
    transplant = np.where(np.isfinite(transplant) & ~(toxic <= transplant), transplant, NAN)
    times = _cause_times(p, transplant - r)
    responded = ~np.isnan(r) & (d["response"] != NO_CR)
    assessed = ~np.isnan(r)
    relapse = np.where(responded & (times[0] < times[1:].min(axis=0)), r + times[0], NAN)
    failure = np.where(assessed & (d["response"] == NO_CR), r, relapse)  # disease back or never gone
    hazard = params["late.disease_death_hazard"]
    with np.errstate(divide="ignore", invalid="ignore"):
        disease_death = np.where(np.asarray(hazard) > 0, failure + d["target_disease_death"] / hazard, NAN)
    other = 1 + np.argmin(times[1:], axis=0)
    other_death = np.where(assessed, r + np.take_along_axis(times, other[None], 0)[0], NAN)
    other_death = np.where(np.isfinite(other_death), other_death, NAN)
    by_other = ~np.isnan(other_death) & ~(disease_death <= other_death)
    causes = np.array(LATE_CAUSES, dtype=object)
    death = np.where(by_other, other_death, disease_death)
    cause = np.where(by_other, causes[other], np.where(np.isnan(disease_death), "", "disease"))
    by_toxicity = ~np.isnan(toxic) & ~(death < toxic)
    return {"t_response": r, "response": np.where(np.isnan(r), "", np.array(RESPONSE_CATEGORIES, dtype=object)[d["response"]]),
            "t_transplant": transplant, "transplant_wait": transplant - (r + p["transplant_planned"]),
            "t_relapse": np.where(toxic <= relapse, NAN, relapse),
            "t_death": np.where(by_toxicity, toxic, death),
            "death_cause": np.where(by_toxicity, TOXICITY, cause)}


def _cause_times(p: dict[str, np.ndarray], switch: np.ndarray) -> np.ndarray:
    """Each cause's time from response with a transplant at ``switch`` (NaN: none); the plan already
    holds them without transplant, so only the transplanted are computed again."""
    times = p["times_without_transplant"].copy()
    moved = ~np.isnan(switch)
    if moved.any():
        edges = p["late_edges"]  # a row per trial in a batch whose band starts differ
        edges = edges if edges.ndim == 1 else np.broadcast_to(edges, moved.shape + edges.shape[-1:])[moved]
        times[:, moved] = hitting_time(p["late_targets"][:, moved], p["hazards_before"][:, moved],
                                       p["hazards_after"][:, moved], edges, switch[moved])
    return times


def icu_release(start: np.ndarray, crs_days: np.ndarray, death: np.ndarray) -> np.ndarray:
    """When an ICU bed entered at ``start`` is freed: at the end of the CRS episode, ``crs_days`` after entry
    (NaN: unknown, the patient died first), or at the patient's death (``death``, NaN: none), whichever comes
    first, never before entry; NaN where no bed was entered.

    The one rule for the engines' queues, the facility metrics and the resources picture.  The engines free a
    bed at a death from toxicity (decided at entry, :func:`icu_release_at`); the records and the picture at a
    death of any cause, which is never later, so a use they count never outlasts the engine's.
    """
    start = np.asarray(start, dtype=float)
    end = np.fmax(np.fmin(start + crs_days, death), start)
    return np.where(np.isnan(start), NAN, end)


def icu_release_at(params: Params, d: dict[str, np.ndarray], i: int, t_infusion: float, start: float) -> float:
    """When patient ``i`` (infused at ``t_infusion``) frees the ICU bed entered at ``start``: the death from
    severe CRS or grade 4 ICANS is decided at entry, from the wait for the bed, exactly as the records decide it."""
    one = {key: d[key][i:i + 1] for key in ("toxicity_death_u", "crs_duration_days", "icans_onset_days")}
    onset = t_infusion + d["crs_onset_days"][i]
    day, _ = toxicity_death_day(params, one, d["crs_grade"][i:i + 1], d["icans_grade"][i:i + 1],
                                np.array([start - t_infusion]), np.array([start - onset]))
    death = np.where(np.isfinite(day), t_infusion + day, NAN)
    return float(icu_release(np.array([start]), one["crs_duration_days"], death)[0])


def icu_uses(d, c) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(requested, start, end) per patient of an ICU bed: from CRS onset, for the CRS duration or until
    death (:func:`icu_release`)."""
    start = c["t_icu_start"]
    return c["t_crs_onset"], start, icu_release(start, d["crs_duration_days"], c["t_death"])


def transplant_bed_uses(params: Params, p, c) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(requested, start, end) per patient of a transplant bed."""
    start = c["t_transplant"]
    return c["t_response"] + p["transplant_planned"], start, start + params["transplant.bed_days"]
