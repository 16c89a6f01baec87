"""Dose-limiting toxicities from the model's own per-patient draws, at every dose level.

A patient's luck is fixed by their uniforms (:mod:`sim.streams`); their toxicity at a dose then
follows from the model's dose-dependent CRS grade model (:func:`sim.samplers.grades` shifted by
``crs.dose_log_odds`` per 10^6 cells/kg, :func:`sim.samplers.crs_shift`), so the same patient
given a higher dose has a CRS grade at least as high, and every design meets the same patients
(common random numbers).  ICANS does not depend on dose in the model; death within the window
comes from CRS of grade 3 or more (at the dose's grade) or ICANS (:mod:`sim.model.toxicity_death`, with no
wait for an ICU bed), or from the model's late course (response assessment, then late deaths and death from disease
without a transplant, which starts after the window).

With fixed true DLT rates (the standard operating-characteristics scenario) patient i has a DLT
at dose j when their CRS-grade uniform is below p_j, so DLTs are again monotone in dose; the
time of a DLT is then the model's CRS onset, capped at the window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model.draws import NO_CR, crs_shift, grades
from sim.model.toxicity_death import toxicity_death_day
from sim.inputs.design_settings import DLTDefinition

NEVER = np.inf


@dataclass(frozen=True)
class Toxicity:
    """Per patient and dose level (last axis): whether a DLT happens, and when after infusion."""

    dlt: np.ndarray
    onset: np.ndarray


def model_toxicity(params, d: dict, p: dict, u: dict, doses: np.ndarray, dlt: DLTDefinition) -> Toxicity:
    """DLT and its day after infusion for each patient (leading axes) at each dose in ``doses``.

    Parameters
    ----------
    params : sim.params.Params
    d, p, u : dict
        The model's draws (:func:`sim.samplers.draw_patients`), plan (:func:`sim.timeline.plan`)
        and uniforms.
    doses : numpy.ndarray
        Dose of each level, in escalation order, 10^6 cells/kg.
    dlt : DLTDefinition
    """
    times = [np.broadcast_to(np.fmin(_crs_onset(params, d, u, dose, dlt), _toxicity_death(params, d, u, dose, dlt)),
                             np.shape(d["arrival"])) for dose in doses]
    onset = np.stack(times, axis=-1)
    other = np.fmin(_icans_onset(d, dlt), _death_day(params, d, p, dlt))[..., None]
    onset = np.fmin(onset, other)
    return Toxicity(onset <= dlt.window_days, onset)


def fixed_toxicity(d: dict, u: dict, rates: np.ndarray, dlt: DLTDefinition) -> Toxicity:
    """DLTs at fixed true rates per dose: uniform of the CRS-grade stream below the rate."""
    has = u["crs_grade"][..., None] < np.asarray(rates)
    when = np.minimum(d["crs_onset_days"], dlt.window_days)[..., None]
    return Toxicity(has, np.where(has, when, NEVER))


def _crs_onset(params, d, u, dose: float, dlt: DLTDefinition) -> np.ndarray:
    if dlt.crs_min_grade is None:
        return np.full(np.shape(d["arrival"]), NEVER)
    grade = _crs_grade(params, d, u, dose)
    return np.where(grade >= dlt.crs_min_grade, d["crs_onset_days"], NEVER)


def _crs_grade(params, d, u, dose: float) -> np.ndarray:
    crs = u["crs"] < params["crs.incidence"]
    return np.where(crs, grades(params, "crs", u["crs_grade"], crs_shift(params, np.asarray(dose))), 0)


def _toxicity_death(params, d, u, dose: float, dlt: DLTDefinition) -> np.ndarray:
    """Day after infusion of death from CRS of grade 3 or more (at this dose's grade) or ICANS; no ICU wait."""
    if not dlt.death:
        return np.full(np.shape(d["arrival"]), NEVER)
    day, _ = toxicity_death_day(params, d, _crs_grade(params, d, u, dose), d["icans_grade"],
                                d["crs_onset_days"], np.zeros(np.shape(d["arrival"])))
    return day


def _icans_onset(d, dlt: DLTDefinition) -> np.ndarray:
    if dlt.icans_min_grade is None:
        return np.full(np.shape(d["arrival"]), NEVER)
    return np.where(d["icans_grade"] >= dlt.icans_min_grade, d["icans_onset_days"], NEVER)


def _death_day(params, d, p, dlt: DLTDefinition) -> np.ndarray:
    """Day after infusion of death in the model's course without transplant (inf: none)."""
    if not dlt.death:
        return np.full(np.shape(d["arrival"]), NEVER)
    times = p["times_without_transplant"]  # per cause from the response; relapse first
    late_death = times[1:].min(axis=0)  # infection, TMA: with or without remission, and after relapse
    relapse = np.where(times[0] < late_death, times[0], NEVER)
    failure = np.where(d["response"] == NO_CR, 0.0, relapse)
    hazard = params["late.disease_death_hazard"]
    disease = failure + d["target_disease_death"] / hazard if hazard > 0 else np.full(np.shape(failure), NEVER)
    return params["response.assessment_day"] + np.fmin(late_death, disease)
