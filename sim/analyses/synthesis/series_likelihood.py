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
- **consolidative transplant**: except in a figure over untransplanted responders (a relapse count
  ``of_kind = "responders"``), the series' ``transplanted_after`` share of the at-risk patients
  switch to levels after transplant at the params file's median infusion-to-transplant day: the
  mean of the params file's stated prior after transplant (``*_prior_events_after_transplant`` over
  ``*_prior_days_after_transplant``, from published outcomes of transplant after CAR-T), never the
  reference trial's own fitted level, which is another trial's and which ``--write-shipped``
  rewrites.  The series' own levels act before it, and its figures count the events after
  transplant too, as its papers do.
- **not used**: overall survival (the model's death after relapse is not among the pooled causes)
  and figures without a day or a follow-up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.analyses.calibration.cutoff import LateWindows
from sim.analyses.calibration.late import TINY, LateModel, transplant_prior
from sim.analyses.synthesis.nuisance import as_stated
from sim.inputs.durations import ppf
from sim.inputs.params import Params
from sim.inputs.series import Series, SeriesFigure
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
    untransplanted: bool = False  # the figure counts only patients who had no transplant after CAR-T


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
        # responders in a relapse count are those not transplanted after CAR-T (the series files' contract)
        return FigureTerm(f.key, f.metric, (f.value,), f.of, followup, scale, (states,), f.of_kind == "responders")
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
    """Log-likelihood of the figures of several series as a function of their band-1 levels.

    Every term's patients (one followed to the term's day, and one transplanted on the way when the
    series transplanted some) are rows of one :class:`LateModel`, so a call is one pass over arrays.

    Parameters
    ----------
    series : list of Series
        The series and their figures.
    params : Params
        The reference params: band edges and shapes, the stated priors of the levels after
        transplant (their means are used), the response assessment day and the median
        infusion-to-transplant day.
    """

    def __init__(self, series: list[Series], params: Params) -> None:
        self.series = list(series)
        self.terms, self.unused, rows = [], {}, []
        params = as_stated(params)  # band shapes held at their stated values (when not sampled), never a fit's
        transplant_day = _median_transplant_day(params)
        for j, s in enumerate(self.series):
            terms, self.unused[s.key] = series_terms(s)
            for term in terms:
                moved = 0.0 if term.untransplanted else s.transplanted_after / s.infused
                index = len(self.terms)
                self.terms.append((j, term))
                rows += [(j, index, 1.0 - moved, term.day, np.inf)] + ([(j, index, moved, term.day, transplant_day)] if moved > 0 else [])
        owner, term_of, weight, day, transplant = (np.array(v) for v in zip(*rows)) if rows else [np.zeros(0)] * 5
        self.owner, self.weight, self.term_of = owner.astype(int), weight, term_of.astype(int)
        self.after = after_transplant_levels(params)
        self.model = _model(params, day, transplant)

    def chances(self, levels: dict[str, np.ndarray], inputs: dict | None = None) -> list[list[np.ndarray]]:
        """The model's chance of each category of each term, arrays over points.

        ``levels`` by cause: arrays shaped (points, series); ``inputs``: band shapes by params path, arrays
        over points, in place of the reference params' values."""
        before = {c: np.asarray(v)[..., self.owner] for c, v in levels.items()}
        each = self.model.patient_states(before, self.after, per_patient=True, inputs=inputs)
        out = [[None] * len(term.states) for _, term in self.terms]
        for states, (matrix, places) in self._weights().items():
            share = sum(each[regime][name] for regime in (False, True) for name in states if name in each[regime])
            for column, (t, c) in zip((share @ matrix).T, places):
                out[t][c] = column.T
        return out

    def _weights(self) -> dict:
        """For each set of states a category counts: a (patients x categories) matrix of each patient's
        weight times the term's scale, and the (term, category) of each column."""
        if not hasattr(self, "_cache"):
            groups: dict = {}
            for t, (_, term) in enumerate(self.terms):
                for c, states in enumerate(term.states):
                    groups.setdefault(states, []).append((t, c))
            self._cache = {}
            for states, places in groups.items():
                matrix = np.zeros((len(self.owner), len(places)))
                for k, (t, _) in enumerate(places):
                    rows = self.term_of == t
                    matrix[rows, k] = self.weight[rows] * self.terms[t][1].scale
                self._cache[states] = (matrix, places)
        return self._cache

    def __call__(self, levels: dict[str, np.ndarray], inputs: dict | None = None) -> np.ndarray:
        """The log-likelihood of every series' figures together, per point (``inputs``: as :meth:`chances`)."""
        total = 0.0
        for (_, term), chances in zip(self.terms, self.chances(levels, inputs)):
            rest = 1.0
            for events, p in zip(term.events, chances):
                total = total + events * np.log(np.maximum(p, TINY))
                rest = rest - p
            total = total + (term.size - sum(term.events)) * np.log(np.maximum(rest, TINY))
        return total


def after_transplant_levels(params: Params) -> dict[str, float]:
    """Each cause's level after transplant for a published series: the mean of the params file's stated
    gamma prior (published outcomes of transplant after CAR-T), not the file's own fitted level."""
    return {c: float(transplant_prior(params, c).mean()) for c in LATE_CAUSES}


def _median_transplant_day(params: Params) -> float:
    """Days from infusion to transplant: the median of ``transplant.delay_days``, not before the response
    assessment."""
    family, args = params.timedist("transplant.delay_days")
    median = float(ppf(family, args, np.array([0.5]))[0])
    return max(median, float(params["response.assessment_day"]))


def _model(params: Params, day: np.ndarray, transplant_day: np.ndarray) -> LateModel:
    """Patients in remission from the assessment day to ``day``, transplanted at ``transplant_day``
    (inf: never) unless an event comes first: the model's chances of each state by ``day``."""
    assessment = float(params["response.assessment_day"])
    n = len(day)
    windows = LateWindows(trial=np.zeros(n, int), last_enrolment=np.maximum(day, assessment), infusion=np.zeros(n),
                          response=np.full(n, assessment), transplant_delay=transplant_day - assessment,
                          response_category=np.full(n, "mrd_neg_cr", dtype=object), cytopenia=np.zeros(n, bool),
                          early_infection=np.zeros(n, bool), cutoff_after_last=0.0)
    return LateModel(windows, params)
