"""The data cut-off, fitted to the median follow-up, on simulated courses after infusion."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from sim.analyses.calibration.fits import CUTOFF, NO_CUTOFF_DAYS, Fit, Target, triangular_by_quantiles
from sim.runs.runner import run_trials
from sim.inputs.paper import Figure
from sim.inputs.params import Params
from sim.model.late_bands import LATE_CAUSES, level_path
from sim.stats.kaplan_meier import DAYS_PER_MONTH, reverse_km_median_followup

LATE_ZERO = {level_path(c, t): 0.0 for c in LATE_CAUSES for t in (False, True) if (c, t) != ("transplant", False)} \
    | {"late.disease_death_hazard": 0.0}


def followup_figure(params: Params, exclude=()) -> Figure | None:
    """The seeds figure giving the median follow-up in months, or None."""
    return next((f for f in params.seeds.figures.values()
                 if f.metric == "median_followup_months" and f.key not in exclude), None)


@dataclass(frozen=True)
class LateWindows:
    """Each simulated patient's course after infusion, before late events and the cut-off.

    Attributes (one element per infused patient): ``trial``; ``last_enrolment`` of their trial;
    ``infusion`` and ``response`` days; ``transplant_delay``: days from response to transplant
    (inf if none is planned); ``response_category``; ``cytopenia`` and ``early_infection`` (the
    early toxicities that raise the infection hazard).  ``cutoff_after_last`` is the cut-off the
    windows are cut at (inf before :meth:`at_cutoff`).
    """

    trial: np.ndarray
    last_enrolment: np.ndarray
    infusion: np.ndarray
    response: np.ndarray
    transplant_delay: np.ndarray
    response_category: np.ndarray
    cytopenia: np.ndarray
    early_infection: np.ndarray
    cutoff_after_last: float | np.ndarray = np.inf

    @classmethod
    def simulate(cls, params: Params, trials: int, seed: int) -> "LateWindows":
        """Courses of ``trials`` virtual trials with no late event and no cut-off."""
        quiet = params.with_values(LATE_ZERO | {CUTOFF: NO_CUTOFF_DAYS}, source="calibration")
        t = run_trials(quiet, trials=trials, seed=seed).patients
        last = _per_trial_max(t["trial"], t["t_enrol"])
        infused = ~np.isnan(t["t_infusion"])
        delay = t["t_transplant"] - t["t_response"]
        return cls(trial=t["trial"][infused], last_enrolment=last[infused], infusion=t["t_infusion"][infused],
                   response=t["t_response"][infused], transplant_delay=np.where(np.isnan(delay), np.inf, delay)[infused],
                   response_category=t["response"][infused], cytopenia=t["cytopenia_g34"][infused].astype(bool),
                   early_infection=t["early_infection"][infused].astype(bool))

    def cutoff(self, after_last: float | np.ndarray) -> np.ndarray:
        """Each patient's data cut-off day for a cut-off ``after_last`` days after the last enrolment
        (a number, or one per patient)."""
        return self.last_enrolment + after_last

    def median_followup_months(self, after_last: float | np.ndarray) -> np.ndarray:
        """Each trial's median follow-up (reverse Kaplan-Meier, months) with this cut-off."""
        cutoff = self.cutoff(after_last)
        seen = self.infusion <= cutoff
        return np.array([reverse_km_median_followup((cutoff - self.infusion)[seen & (self.trial == k)],
                                                    np.zeros(np.sum(seen & (self.trial == k)), bool))
                         for k in np.unique(self.trial)]) / DAYS_PER_MONTH

    def at_cutoff(self, after_last: float | np.ndarray) -> "LateWindows":
        """The patients assessed for response by the cut-off (a number, or one per patient), with windows cut there."""
        keep = self.response <= self.cutoff(after_last)
        cut = {f.name: getattr(self, f.name)[keep] for f in dataclasses.fields(self) if f.name != "cutoff_after_last"}
        return LateWindows(**cut, cutoff_after_last=after_last[keep] if np.ndim(after_last) else after_last)

    def at_trial_cutoffs(self, figure: Figure) -> "LateWindows":
        """Each virtual trial cut where it reports the median follow-up of ``figure`` (:func:`trial_cutoffs`)."""
        return self.at_cutoff(trial_cutoffs(self, figure.value))

    @property
    def window(self) -> np.ndarray:
        """Days from the response assessment to the cut-off."""
        return self.cutoff(self.cutoff_after_last) - self.response


def fit_cutoff(windows: LateWindows, figure: Figure) -> Fit:
    """The cut-off (days after the last enrolment) at which the median virtual trial reports the
    median follow-up of ``figure``; its uncertainty is the spread of the cut-offs at which single
    virtual trials report it, as a triangular distribution.

    Deaths are left out: the reverse Kaplan-Meier median estimates the median potential follow-up
    whatever the deaths, so the fit does not depend on the late hazards.
    """
    target = figure.value
    median = lambda c: float(np.median(windows.median_followup_months(c))) - target  # noqa: E731
    high = target * DAYS_PER_MONTH
    while median(high) < 0:
        high *= 2
    cutoff = optimize.brentq(median, 0.0, high, xtol=1e-3) if median(0.0) < 0 else 0.0
    # a later cut-off shifts every follow-up by as much, so trial k reports the target at:
    per_trial = cutoff + (target - windows.median_followup_months(cutoff)) * DAYS_PER_MONTH
    per_trial = per_trial[per_trial > 0]
    fitted = Target(figure.key, target, None, float(np.median(windows.median_followup_months(cutoff))), figure.unit)
    method = ("the cut-off at which the median simulated trial reports it (reverse Kaplan-Meier from infusion), at the "
              "base accrual period, which the median follow-up cannot separate from the cut-off; uncertainty: a "
              "triangular distribution through the 2.5th, 50th and 97.5th percentiles of the cut-offs at which single "
              "simulated trials report it")
    return Fit(CUTOFF, cutoff, per_trial, {"triangular": triangular_by_quantiles(per_trial)}, (fitted,), method)


def trial_cutoffs(windows: LateWindows, target_months: float, high: float = NO_CUTOFF_DAYS,
                  tolerance_days: float = 1e-3) -> np.ndarray:
    """For each patient, the cut-off of their virtual trial, in days after its last enrolment, at which the
    trial reports a median follow-up of ``target_months`` (0 when it reports more even at its last enrolment).

    Conditioning each trial on the reported follow-up replaces a single cut-off drawn from its prior: the windows
    a late likelihood is computed on then describe trials that report what the paper reports, whatever their
    accrual.  A trial's median follow-up rises with its cut-off, so bisection finds it, all trials at once, to
    ``tolerance_days``.
    """
    index = np.unique(windows.trial, return_inverse=True)[1]
    low, top = np.zeros(index.max() + 1), np.full(index.max() + 1, float(high))
    while np.max(top - low) > tolerance_days:
        middle = (low + top) / 2
        short = ~(windows.median_followup_months(middle[index]) >= target_months)  # none seen yet: too short
        low, top = np.where(short, middle, low), np.where(short, top, middle)
    return top[index]


def _per_trial_max(trial: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For each row, the maximum of ``values`` over the rows of its trial."""
    ids, index = np.unique(trial, return_inverse=True)
    most = np.full(ids.size, -np.inf)
    np.maximum.at(most, index, values)
    return most[index]
