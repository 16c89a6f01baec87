"""The likelihood of what a published series reports, computed with the model's own late course.

A series' patients in remission are followed from the response assessment, as the model's are, with
the model's band shapes, patient-free factors (a series' level is its typical patient's band-1
hazard: the patient factors are absorbed into it) and competing risks, by the very chances the
calibration uses (:class:`~sim.analyses.calibration.late.LateModel`, on windows made for the series).

Choices, each stated where it is used:

- **follow-up**: a count "by last follow-up" is the chance by the series' median follow-up (every
  patient followed that long); a cumulative incidence or survival at a day is the chance by that day.
- **who is at risk**: the model's late causes act in remission.  A figure of the infused is the
  remission share (the series' complete remission count over the infused, when it reports one; else 1)
  times the chance among those in remission; a figure of the responders is the chance among them.
- **counts and shares**: a count k of n is binomial; a share s at a day is binomial with
  s x n events of the n at risk (the effective count is n: censoring before the day is ignored, so
  such a figure weighs a little more than it should).
- **consolidative transplant**: the series' ``transplanted_after`` share of the at-risk patients
  switch to the model's levels after transplant (the params file's values) at the params file's
  median infusion-to-transplant day; the series' own levels act before it, and its figures count
  the events after transplant too, as its papers do.
- **not used**: overall survival (the model's death after relapse is not among the pooled causes)
  and figures without a day or a follow-up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.analyses.calibration.cutoff import LateWindows
from sim.analyses.calibration.late import TINY, LateModel
from sim.inputs.durations import ppf
from sim.inputs.params import Params
from sim.inputs.series import Series, SeriesFigure
from sim.model import late_bands
from sim.model.late_bands import LATE_CAUSES
from sim.stats.kaplan_meier import DAYS_PER_MONTH

POOLED = ("infection", "tma", "relapse")  # the causes whose band-1 levels are pooled across series
NRM_STATES = ("died_infection", "died_tma", "died_transplant")
USED_METRICS = ("nrm_deaths", "nrm_cumulative_incidence", "infection_deaths", "relapse_count",
                "relapse_cumulative_incidence", "lfs")


@dataclass(frozen=True)
class FigureTerm:
    """One figure's multinomial term: ``events[i]`` of ``size`` in category i, whose chance is ``scale``
    x the model's chance of ``states[i]`` among patients in remission by ``day`` (days since infusion);
    the rest of ``size`` fall in none.  One category is a binomial."""

    key: str
    metric: str
    events: tuple[float, ...]
    size: float
    day: float
    scale: float
    states: tuple[tuple[str, ...], ...]


def series_terms(series: Series) -> tuple[list[FigureTerm], list[str]]:
    """The terms of a series' figures, and why each unused figure is left out.

    A count of non-relapse deaths and a count of infection deaths among the same patients make one
    trinomial term (infection deaths, other non-relapse deaths, neither), so no death counts twice.
    """
    cr = series.figure("complete_remission")
    remission = cr.value / cr.of if cr is not None else 1.0
    followup = (series.median_followup_months or 0.0) * DAYS_PER_MONTH
    nrm, infection = series.figure("nrm_deaths"), series.figure("infection_deaths")
    paired = (nrm is not None and infection is not None and nrm.of == infection.of
              and infection.value <= nrm.value and followup > 0)
    terms, unused = [], []
    for f in series.figures.values():
        if paired and f.key == infection.key:
            continue
        term = _pair(nrm, infection, remission, followup) if paired and f.key == nrm.key else \
            _term(f, remission, followup, series.infused)
        if term is not None:
            terms.append(term)
        elif f.metric != "complete_remission":
            unused.append(f"{f.key} ({f.metric}): " + ("no median follow-up" if f.metric in USED_METRICS else "not modelled"))
    return terms, unused


def _pair(nrm: SeriesFigure, infection: SeriesFigure, remission: float, followup: float) -> FigureTerm:
    return FigureTerm(f"{nrm.key}+{infection.key}", "nrm_deaths", (infection.value, nrm.value - infection.value),
                      nrm.of, followup, remission, (("died_infection",), ("died_tma", "died_transplant")))


def _term(f: SeriesFigure, remission: float, followup: float, infused: int) -> FigureTerm | None:
    if f.metric in ("nrm_deaths", "infection_deaths", "relapse_count"):
        if followup <= 0:
            return None
        states = {"nrm_deaths": NRM_STATES, "infection_deaths": ("died_infection",), "relapse_count": ("relapsed",)}[f.metric]
        scale = 1.0 if f.of_kind == "responders" else remission
        return FigureTerm(f.key, f.metric, (f.value,), f.of, followup, scale, (states,))
    if f.metric in ("nrm_cumulative_incidence", "relapse_cumulative_incidence"):
        states = NRM_STATES if f.metric.startswith("nrm") else ("relapsed",)
        return FigureTerm(f.key, f.metric, (f.value * infused,), infused, f.day, remission, (states,))
    if f.metric == "lfs":
        responders = f.definition in ("RFS", "LFS")
        # EFS of the infused: alive in remission = remission share x in remission among responders
        size = round(remission * infused) if responders else infused
        return FigureTerm(f.key, f.metric, (f.value * size,), size, f.day, 1.0 if responders else remission,
                          (("in_remission",),))
    return None


class SeriesLikelihood:
    """Log-likelihood of one series' figures as a function of its band-1 levels (arrays over points).

    Parameters
    ----------
    series : Series
        The series and its figures.
    params : Params
        The reference params: band edges and shapes, levels after transplant, the response
        assessment day and the median infusion-to-transplant day.
    """

    def __init__(self, series: Series, params: Params) -> None:
        self.series = series
        self.terms, self.unused = series_terms(series)
        self.transplanted = series.transplanted_after / series.infused
        transplant_day = _median_transplant_day(params)
        self.after = {c: late_bands.level(params, c, True) for c in LATE_CAUSES}
        self.models = [(_model(params, t.day, np.inf), _model(params, t.day, transplant_day)) for t in self.terms]

    def chances(self, levels: dict[str, np.ndarray]) -> list[list[np.ndarray]]:
        """The model's chance of each category of each term (per point)."""
        out = []
        for term, (plain, moved) in zip(self.terms, self.models):
            states = [(w, m.states(levels, self.after)) for w, m in ((1.0 - self.transplanted, plain),
                                                                   (self.transplanted, moved)) if w > 0]
            out.append([term.scale * sum(w * s[regime][name] for w, s in states for regime in (False, True)
                                         for name in category if name in s[regime])
                        for category in term.states])
        return out

    def __call__(self, levels: dict[str, np.ndarray]) -> np.ndarray:
        total = 0.0
        for term, chances in zip(self.terms, self.chances(levels)):
            rest = 1.0
            for events, p in zip(term.events, chances):
                total = total + events * np.log(np.maximum(p, TINY))
                rest = rest - p
            total = total + (term.size - sum(term.events)) * np.log(np.maximum(rest, TINY))
        return total


def _median_transplant_day(params: Params) -> float:
    """Days from infusion to transplant: the median of ``transplant.delay_days``, not before the response
    assessment."""
    family, args = params.timedist("transplant.delay_days")
    median = float(ppf(family, args, np.array([0.5]))[0])
    return max(median, float(params["response.assessment_day"]))


def _model(params: Params, day: float, transplant_day: float) -> LateModel:
    """One patient in remission from the assessment day to ``day``, transplanted at ``transplant_day``
    (inf: never) unless an event comes first: the model's chances of each state by ``day``."""
    assessment = float(params["response.assessment_day"])
    one = lambda v, dtype=float: np.array([v], dtype=dtype)  # noqa: E731
    windows = LateWindows(trial=one(0, int), last_enrolment=one(0.0), infusion=one(0.0), response=one(assessment),
                          transplant_delay=one(transplant_day - assessment), response_category=one("mrd_neg_cr", object),
                          cytopenia=one(False, bool), early_infection=one(False, bool),
                          cutoff_after_last=max(day, assessment))
    return LateModel(windows, params)
