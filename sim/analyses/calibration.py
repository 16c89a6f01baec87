"""Calibration: the inputs the papers give only through outcomes, fitted to the reported counts.

Three kinds of input are known only through what happened to the patients; each is fitted when,
and only when, the trial's seeds file reports a figure that informs it:

- **pre-infusion progression hazard** (``withdrawal.progression_hazard``), from a count of
  patients withdrawn (metric ``withdrawn``) or not infused (``not_infused`` / ``infused``);
- **data cut-off** (``accrual.cutoff_after_last_enrolment_days``), from the median follow-up
  (``median_followup_months``);
- **late hazards** (``late.*_hazard`` before and after transplant), from the outcomes at cut-off
  by transplant status (``late_outcome``).

Method: maximum likelihood with censoring on a fixed-seed simulated exposure.  Virtual trials at
the base parameters (other inputs at their base values, one seed, so every candidate value meets
the same simulated patients) give each patient's *window*: for the progression hazard, the days
from enrolment to infusion (or to a failed product); for the late hazards, the days from the
response assessment to the cut-off and the planned transplant day.  The chance of each reported
outcome is then exact for constant competing hazards (no second simulation, so the likelihood is
smooth), averaged over the simulated windows, and the reported counts are binomial or
multinomial draws from it.  The fitted value is the maximum-likelihood estimate; its uncertainty
is the posterior under the project's Jeffreys convention (``Beta(k + 1/2, n - k + 1/2)`` for a
proportion, ``Dirichlet(counts + 1/2)`` for a split), each posterior draw of the outcome chances
mapped to the hazards that reproduce it.  The posterior is written to the params file as a gamma
``[events, exposure]`` matched to its mean and variance (effective events and patient-days), or
a triangular distribution for the cut-off.

The cut-off is the value at which the median virtual trial reports the reported median follow-up;
its uncertainty is the spread of the cut-offs at which single virtual trials report it.  The
median follow-up pins only the cut-off plus about half the accrual period, so the accrual period
stays an assumption and the cut-off is fitted at its base value.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, stats

from sim.errors import InputError
from sim.inputs.params import Params
from sim.engines.runner import run_trials
from sim.inputs.schema import RESPONSE_CATEGORIES
from sim.inputs.paper import Figure
from sim.rng.streams import stream_key
from sim.stats.kaplan_meier import DAYS_PER_MONTH, reverse_km_median_followup

LEVEL = 0.95
JEFFREYS = 0.5
NO_CUTOFF_DAYS = 36525.0  # a cut-off a century after the last enrolment: every course is seen whole
PROGRESSION = "withdrawal.progression_hazard"
CUTOFF = "accrual.cutoff_after_last_enrolment_days"
PROGRESSION_METRICS = ("withdrawn", "not_infused", "infused")  # in order of preference
CAUSE_STATES = {"relapse": "relapsed", "infection": "died_infection", "tma": "died_tma"}
HAZARDS = {False: {"relapse": "late.relapse_hazard", "infection": "late.infection_death_hazard",
                   "tma": "late.tma_death_hazard"},
           True: {"relapse": "late.relapse_hazard_after_transplant",
                  "infection": "late.infection_death_hazard_after_transplant",
                  "tma": "late.tma_death_hazard_after_transplant"}}
LATE_ZERO = {path: 0.0 for regime in HAZARDS.values() for path in regime.values()} | {"late.disease_death_hazard": 0.0}
SCALE = 1000.0  # hazards are optimised per 1000 days, where they are of order one
OTHER = "other"
TINY = 1e-300  # floor of a chance under a logarithm
DRAW_WINDOWS = 2000  # windows behind each posterior draw: their error is small beside the posterior's spread


@dataclass(frozen=True)
class Target:
    """A reported figure a fit is calibrated to, and the model's value for it at the fit."""

    key: str
    reported: float
    of: float | None
    at_fit: float
    unit: str = ""


@dataclass(frozen=True)
class Fit:
    """A fitted parameter: its value, posterior draws, and what it was fitted to.

    Attributes
    ----------
    path : str
        The parameter's dotted path.
    value : float
        Maximum-likelihood estimate (for the cut-off: the value matching the median trial).
    draws : numpy.ndarray
        Draws from its fit uncertainty.
    uncertainty : dict
        The uncertainty as written in a params file, e.g. ``{"gamma": [events, exposure]}``.
    targets : tuple of Target
        The reported figures it was fitted to.
    method : str
        How, in a sentence, for the params file's note.
    """

    path: str
    value: float
    draws: np.ndarray
    uncertainty: dict
    targets: tuple[Target, ...]
    method: str

    @property
    def interval(self) -> tuple[float, float]:
        """Central 95% interval of the fit uncertainty, with the lower bound at 0 when the
        estimate is 0 (no event reported: the interval of Brown, Cai and DasGupta)."""
        low, high = np.quantile(self.draws, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
        return (0.0 if self.value == 0 else float(low)), float(high)


@dataclass(frozen=True)
class Calibration:
    """Every fit of one params file, in the order they were made."""

    params: Params
    fits: tuple[Fit, ...]
    trials: int
    seed: int
    draws: int
    skipped: dict[str, str] = field(default_factory=dict)


# -- the whole calibration ----------------------------------------------------------------------

def calibrate(params: Params, trials: int = 1000, seed: int = 0, draws: int = 1000,
              exclude: tuple[str, ...] = ()) -> Calibration:
    """Fit every input that the trial's seeds figures inform, in pathway order.

    The progression hazard is fitted first (it decides who is infused), then the cut-off (it sets
    the windows after response), then the late hazards.

    Parameters
    ----------
    params : sim.inputs.params.Params
        The trial's parameters; the fitted entries' current values are not used.
    trials : int, optional
        Virtual trials simulated for the windows (the exposure).
    seed : int, optional
        Seed of those trials: the same for every candidate value (common random numbers).
    draws : int, optional
        Posterior draws behind each fit's uncertainty.
    exclude : tuple of str, optional
        Keys of seeds figures the fit must not see (for leave-one-out checks).

    Returns
    -------
    Calibration
        The fits; ``skipped`` says why an input was not fitted.
    """
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 10:
        raise ValueError(f"draws must be a whole number >= 10, got {draws!r}")
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream_key("calibration"),)))
    skipped: dict[str, str] = {}
    params = _without(params, exclude)
    progression = _progression_step(params, trials, seed, draws, rng, skipped)
    current = _with_fits(params, progression)
    late_needed = followup_figure(params) is not None or bool(late_groups(params))
    windows = LateWindows.simulate(current, trials, seed) if late_needed else None
    cutoff = _cutoff_step(current, windows, skipped)
    current = _with_fits(current, cutoff)
    late = _late_step(current, windows, draws, rng, skipped)
    return Calibration(params, tuple(progression + cutoff + late), trials, seed, draws, skipped)


def _without(params: Params, exclude: tuple[str, ...]) -> Params:
    """``params`` whose seeds file lacks the figures ``exclude`` names (the calibration never sees them)."""
    if not exclude:
        return params
    figures = {k: f for k, f in params.seeds.figures.items() if k not in set(exclude)}
    return dataclasses.replace(params, seeds=dataclasses.replace(params.seeds, figures=figures))


def target_keys(params: Params, exclude: tuple[str, ...] = ()) -> list[str]:
    """Keys of the seeds figures that :func:`calibrate` fits to (with ``exclude`` left out), in file order."""
    params = _without(params, exclude)
    keys = {f.key for f in (progression_figure(params), followup_figure(params)) if f is not None}
    keys |= {key for group in late_groups(params) for key in group.keys.values()}
    return [key for key in params.seeds.figures if key in keys]


def _with_fits(params: Params, fits: list[Fit]) -> Params:
    return params.with_values({fit.path: fit.value for fit in fits}, source="calibration")


def _progression_step(params, trials, seed, draws, rng, skipped) -> list[Fit]:
    figure = progression_figure(params)
    if figure is None:
        skipped[PROGRESSION] = "the seeds file reports no count of patients withdrawn or not infused"
        return []
    return [fit_progression(PreInfusionWindows.simulate(params, trials, seed), figure, draws, rng)]


def _cutoff_step(params, windows, skipped) -> list[Fit]:
    figure = followup_figure(params)
    if figure is None:
        skipped[CUTOFF] = "the seeds file reports no median follow-up"
        return []
    return [fit_cutoff(windows, figure)]


def _late_step(params, windows, draws, rng, skipped) -> list[Fit]:
    groups = late_groups(params)
    fits = fit_late(windows.at_cutoff(params[CUTOFF]), groups, params, draws, rng) if groups else []
    why = ("the seeds file reports no outcome at cut-off that this hazard acts on" if groups
           else "the seeds file reports no outcome at cut-off by transplant status")
    done = {fit.path for fit in fits}
    skipped.update({path: why for regime in HAZARDS.values() for path in regime.values() if path not in done})
    return fits


# -- pre-infusion progression ------------------------------------------------------------------

def progression_figure(params: Params) -> Figure | None:
    """The seeds figure that informs the progression hazard: a count of patients withdrawn (or else
    not infused, or else infused) out of the patients enrolled; None if there is none."""
    for metric in PROGRESSION_METRICS:
        for figure in params.seeds.figures.values():
            if figure.metric == metric and figure.of is not None and not figure.qualifiers:
                if not 0 <= figure.value <= figure.of:
                    raise InputError(params.seeds.path, f"figures.{figure.key}",
                                     f"a count of {figure.value:g} of {figure.of} cannot inform a chance")
                return figure
    return None


@dataclass(frozen=True)
class PreInfusionWindows:
    """Each simulated patient's days from enrolment to the end of the pre-infusion course.

    ``days`` ends at infusion, or at a failed product; ``infusable`` is False for a patient whose
    product failed (never infused, whatever the hazard).
    """

    days: np.ndarray
    infusable: np.ndarray

    @classmethod
    def simulate(cls, params: Params, trials: int, seed: int) -> "PreInfusionWindows":
        """Windows of ``trials`` virtual trials with no progression and no cut-off."""
        quiet = params.with_values({PROGRESSION: 0.0, CUTOFF: NO_CUTOFF_DAYS}, source="calibration")
        t = run_trials(quiet, trials=trials, seed=seed).patients
        infused = ~np.isnan(t["t_infusion"])
        end = np.where(infused, t["t_infusion"], t["t_mfg_end"])
        end = np.where(np.isnan(end), t["cutoff"], end)
        return cls(days=end - t["t_enrol"], infusable=infused)

    def chance(self, metric: str, hazard: float) -> float:
        """Expected share of patients counting towards ``metric`` at this progression hazard per day."""
        withdrawn = -np.expm1(-hazard * self.days)
        not_infused = np.where(self.infusable, withdrawn, 1.0)
        return float(np.mean({"withdrawn": withdrawn, "not_infused": not_infused, "infused": 1.0 - not_infused}[metric]))


def fit_progression(windows: PreInfusionWindows, figure: Figure, draws: int,
                    rng: np.random.Generator) -> Fit:
    """Maximum-likelihood progression hazard for ``figure.value`` of ``figure.of`` (binomial), and
    its posterior from Beta(k + 1/2, n - k + 1/2) on the chance.

    Parameters
    ----------
    windows : PreInfusionWindows
        The simulated exposure.
    figure : sim.inputs.paper.Figure
        A count of patients withdrawn, not infused or infused, of those enrolled.
    draws : int
        Posterior draws.
    rng : numpy.random.Generator
        Source of the posterior draws.
    """
    k, n = figure.value, float(figure.of)
    hazard = _progression_hazard(windows, figure.metric, k / n)
    chances = stats.beta(k + JEFFREYS, n - k + JEFFREYS).rvs(draws, random_state=rng)
    grid = np.concatenate([[0.0], np.geomspace(1e-7, 1.0, 400)])
    share = np.array([windows.chance(figure.metric, h) for h in grid])
    sign = 1.0 if share[-1] > share[0] else -1.0  # 'infused' falls as the hazard rises
    sample = np.interp(sign * chances, sign * share, grid)
    target = Target(figure.key, k, n, n * float(windows.chance(figure.metric, hazard)))
    method = (f"maximum likelihood, the binomial chance being 1 - exp(-hazard x wait) averaged over the simulated "
              f"enrolment-to-infusion waits; uncertainty: Beta({k + JEFFREYS:g}, {n - k + JEFFREYS:g}) of the chance mapped "
              f"to the hazard, as a gamma with its mean and variance")
    return Fit(PROGRESSION, hazard, sample, gamma_by_moments(sample), (target,), method)


def _progression_hazard(windows: PreInfusionWindows, metric: str, chance: float) -> float:
    """The hazard per day at which the expected share counting towards ``metric`` is ``chance``
    (0 if even no progression gives more; the share is monotone in the hazard)."""
    gap = lambda h: (windows.chance(metric, h) - chance) * (-1 if metric == "infused" else 1)  # noqa: E731
    if gap(0.0) >= 0:
        return 0.0
    high = 1e-3
    while gap(high) < 0:
        high *= 4
    return float(optimize.brentq(gap, 0.0, high, xtol=1e-12, rtol=1e-10))


# -- the data cut-off --------------------------------------------------------------------------

def followup_figure(params: Params) -> Figure | None:
    """The seeds figure giving the median follow-up in months, or None."""
    return next((f for f in params.seeds.figures.values() if f.metric == "median_followup_months"), None)


@dataclass(frozen=True)
class LateWindows:
    """Each simulated patient's course after infusion, before late events and the cut-off.

    Attributes (one element per infused patient): ``trial``; ``last_enrolment`` of their trial;
    ``infusion`` and ``response`` days; ``transplant_delay``: days from response to transplant
    (inf if none is planned); ``response_category``.  ``cutoff_after_last`` is the cut-off the
    windows are cut at (inf before :meth:`at_cutoff`).
    """

    trial: np.ndarray
    last_enrolment: np.ndarray
    infusion: np.ndarray
    response: np.ndarray
    transplant_delay: np.ndarray
    response_category: np.ndarray
    cutoff_after_last: float = np.inf

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
                   response_category=t["response"][infused])

    def cutoff(self, after_last: float) -> np.ndarray:
        """Each patient's data cut-off day for a cut-off ``after_last`` days after the last enrolment."""
        return self.last_enrolment + after_last

    def median_followup_months(self, after_last: float) -> np.ndarray:
        """Each trial's median follow-up (reverse Kaplan-Meier, months) with this cut-off."""
        cutoff = self.cutoff(after_last)
        seen = self.infusion <= cutoff
        return np.array([reverse_km_median_followup((cutoff - self.infusion)[seen & (self.trial == k)],
                                                    np.zeros(np.sum(seen & (self.trial == k)), bool))
                         for k in np.unique(self.trial)]) / DAYS_PER_MONTH

    def at_cutoff(self, after_last: float) -> "LateWindows":
        """The patients assessed for response by the cut-off, with windows cut there."""
        keep = self.response <= self.cutoff(after_last)
        cut = {f.name: getattr(self, f.name)[keep] for f in dataclasses.fields(self) if f.name != "cutoff_after_last"}
        return LateWindows(**cut, cutoff_after_last=after_last)

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


def _per_trial_max(trial: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For each row, the maximum of ``values`` over the rows of its trial."""
    ids, index = np.unique(trial, return_inverse=True)
    most = np.full(ids.size, -np.inf)
    np.maximum.at(most, index, values)
    return most[index]


# -- late hazards ------------------------------------------------------------------------------

@dataclass(frozen=True)
class LateGroup:
    """Reported outcomes at cut-off of one group: transplanted (True) or not (False).

    ``counts`` holds a count per category: the states reported, plus ``in_remission`` and the
    states of every cause (zero if unreported) when the reported counts add up to ``size``, or
    else ``other`` for the patients whose state is not reported.
    """

    transplanted: bool
    size: float
    counts: dict[str, float]
    keys: dict[str, str]

    @property
    def causes(self) -> list[str]:
        """The causes whose hazards this group informs."""
        return [cause for cause, state in CAUSE_STATES.items() if state in self.counts]

    @property
    def hazard_paths(self) -> list[str]:
        return [HAZARDS[self.transplanted][cause] for cause in self.causes]


def late_groups(params: Params) -> list[LateGroup]:
    """The groups of ``late_outcome`` figures in the seeds file (none if it reports no late outcome).

    Only outcomes reported by transplant status inform the hazards: pooled over both, the
    transplanted patients' share would tie the hazards before transplant to those after it.

    Raises
    ------
    InputError
        If the figures of one group state different group sizes, or none, or add up to more.
    """
    by_group: dict[bool, list[Figure]] = {}
    for figure in params.seeds.figures.values():
        if figure.metric == "late_outcome" and set(figure.qualifiers) == {"state", "transplanted"}:
            by_group.setdefault(figure.qualifiers["transplanted"], []).append(figure)
    return [_group(params, transplanted, figures) for transplanted, figures in by_group.items()]


def _group(params: Params, transplanted: bool, figures: list[Figure]) -> LateGroup:
    sizes = {f.of for f in figures}
    where = f"figures.{figures[0].key}"
    if len(sizes) != 1 or None in sizes:
        raise InputError(params.seeds.path, where, f"outcomes at cut-off of one group need one common 'of', got {sorted(map(str, sizes))}")
    size = float(sizes.pop())
    counts = {f.qualifiers["state"]: f.value for f in figures}
    keys = {f.qualifiers["state"]: f.key for f in figures}
    rest = size - sum(counts.values())
    if rest < 0:
        raise InputError(params.seeds.path, where, f"outcomes at cut-off add up to {sum(counts.values()):g}, more than 'of' = {size:g}")
    if rest == 0:
        counts = {"in_remission": 0.0} | {state: 0.0 for state in CAUSE_STATES.values()} | counts
    else:
        counts[OTHER] = rest
    return LateGroup(transplanted, size, counts, keys)


class LateModel:
    """Chances of each outcome at cut-off, exact for constant competing hazards that change at
    transplant, averaged over simulated windows.

    A patient in remission at the response assessment, with window w to the cut-off, total hazard
    H before transplant and G after, and a transplant planned s days after the assessment
    (transplanted only if no event came first and s < w): cause j happens before transplant with
    chance h_j (1 - exp(-H x)) / H, x = min(s, w); with s < w the patient is transplanted with
    chance exp(-H s), then meets cause j with chance exp(-H s) g_j (1 - exp(-G (w - s))) / G and
    is in remission at cut-off with chance exp(-H s - G (w - s)).  A patient without remission
    stays in 'no_remission'.  The relapse hazard of an MRD-positive remission is multiplied by
    ``late.relapse_hazard_ratio_mrd_pos``.
    """

    def __init__(self, windows: LateWindows, ratio_mrd_pos: float) -> None:
        w, s = windows.window, windows.transplant_delay
        self.remission = windows.response_category != RESPONSE_CATEGORIES[-1]
        self.rho = np.where(windows.response_category == "mrd_pos_cr", ratio_mrd_pos, 1.0)
        self.transplantable = self.remission & (s < w)
        self.x = np.where(self.transplantable, s, w)  # days at risk before transplant, at most
        self.y = np.where(self.transplantable, w - s, 0.0)  # days at risk after transplant, at most

    def total(self, hazards: dict[str, float]) -> np.ndarray:
        """Each patient's total late hazard per day."""
        return sum(self._rate(hazards, cause) for cause in CAUSE_STATES)

    def _rate(self, hazards: dict[str, float], cause: str) -> np.ndarray | float:
        return hazards[cause] * self.rho if cause == "relapse" else hazards[cause]

    def _members(self, regime: bool, before: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
        """Each patient's weight in the regime's group and days at risk there, at most."""
        if regime:
            reach = np.where(self.transplantable, np.exp(-self.total(before) * self.x), 0.0)
            return reach, self.y
        return self.remission.astype(float), self.x

    def regime(self, regime: bool, before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
        """Chance of (being in the group of ``regime``, and each state at cut-off)."""
        return self.regime_and_gradient(regime, before, after)[0]

    def regime_and_gradient(self, regime: bool, before: dict[str, float], after: dict[str, float]):
        """Chances as :meth:`regime`, and their gradients with respect to the regime's own hazards
        (arrays over the causes, in the order of ``CAUSE_STATES``)."""
        weight, time = self._members(regime, before)
        hazards = after if regime else before
        total = self.total(hazards)
        fraction, slope = _event_fraction(total, time), _event_fraction_slope(total, time)
        survive = np.exp(-total * time)
        stay = weight if regime else weight * ~self.transplantable
        chance, gradient = {}, {}
        factors = {cause: self.rho if cause == "relapse" else np.ones_like(time) for cause in CAUSE_STATES}
        for cause, state in CAUSE_STATES.items():
            share = weight * factors[cause]
            chance[state] = float(np.mean(share * hazards[cause] * fraction))
            gradient[state] = np.array([np.mean(share * ((cause == k) * fraction + hazards[cause] * factors[k] * slope))
                                        for k in CAUSE_STATES])
        chance["in_remission"] = float(np.mean(stay * survive))
        gradient["in_remission"] = np.array([-np.mean(stay * time * factors[k] * survive) for k in CAUSE_STATES])
        chance["no_remission"] = 0.0 if regime else float(np.mean(~self.remission))
        gradient["no_remission"] = np.zeros(len(CAUSE_STATES))
        return chance, gradient

    def conditional(self, group: LateGroup, before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
        """Chance of each of ``group``'s categories among the patients of the group."""
        chance = self.regime(group.transplanted, before, after)
        size = sum(chance.values())
        out = {c: chance[c] / size for c in group.counts if c != OTHER}
        if OTHER in group.counts:
            out[OTHER] = max(1.0 - sum(out.values()), 0.0)
        return out

    def loss(self, group: LateGroup, weight: dict[str, float], before: dict[str, float],
             after: dict[str, float]) -> tuple[float, np.ndarray]:
        """Minus the log-likelihood of ``weight`` (counts by category) and
        its gradient with respect to the group's hazards (per cause, in ``CAUSE_STATES`` order)."""
        chance, gradient = self.regime_and_gradient(group.transplanted, before, after)
        size, d_size = sum(chance.values()), sum(gradient.values())
        listed = [c for c in group.counts if c != OTHER]
        share = {c: max(chance[c] / size, TINY) for c in listed}
        d_share = {c: (gradient[c] - share[c] * d_size) / size for c in listed}
        value = -sum(weight[c] * np.log(share[c]) for c in listed if weight[c] > 0)
        d_value = -sum(weight[c] * d_share[c] / share[c] for c in listed if weight[c] > 0)
        if weight.get(OTHER, 0) > 0:
            rest = max(1.0 - sum(share.values()), TINY)
            value -= weight[OTHER] * np.log(rest)
            d_value = d_value + weight[OTHER] * sum(d_share.values()) / rest
        return float(value), np.asarray(d_value, dtype=float)

    def exposure(self, group: LateGroup, before: dict[str, float], after: dict[str, float]) -> float:
        """Expected patient-days at risk in ``group``'s regime, for a group of its reported size."""
        weight, time = self._members(group.transplanted, before)
        total = self.total(after if group.transplanted else before)
        days = weight * _event_fraction(total, time)
        if not group.transplanted:  # who survives to transplant leaves the group
            days = days - self.transplantable * time * np.exp(-total * time)
        members = sum(self.regime(group.transplanted, before, after).values())
        return float(group.size * np.mean(days) / members)

    def crude_hazards(self, group: LateGroup) -> dict[str, float]:
        """Events over the group's longest possible exposure, with half an event added: a start for
        the fit that depends on the counts alone."""
        time = self.y[self.transplantable] if group.transplanted else self.x[self.remission]
        return {c: (group.counts[CAUSE_STATES[c]] + JEFFREYS) / (group.size * float(np.mean(time))) for c in group.causes}

    def subset(self, index: np.ndarray) -> "LateModel":
        """The model over some of its windows (a cheaper approximation for posterior draws)."""
        new = object.__new__(LateModel)
        new.__dict__ = {name: value[index] for name, value in self.__dict__.items()}
        return new


def _event_fraction_slope(rate: np.ndarray | float, time: np.ndarray) -> np.ndarray:
    """Derivative of :func:`_event_fraction` with respect to the rate: (t exp(-rt) - (1 - exp(-rt)) / r) / r,
    by its series -t^2/2 + r t^3/3 where r t is small (the closed form cancels there)."""
    rate = np.broadcast_to(np.asarray(rate, dtype=float), np.shape(time))
    small = rate * time < 1e-3
    safe = np.where(small, 1.0, rate)
    exact = (time * np.exp(-safe * time) + np.expm1(-safe * time) / safe) / safe
    return np.where(small, -time**2 / 2 + rate * time**3 / 3, exact)


def _event_fraction(rate: np.ndarray | float, time: np.ndarray) -> np.ndarray:
    """(1 - exp(-rate time)) / rate, which is ``time`` at rate 0: the expected time at risk."""
    rate = np.broadcast_to(np.asarray(rate, dtype=float), np.shape(time))
    safe = np.where(rate > 0, rate, 1.0)
    return np.where(rate > 0, -np.expm1(-safe * time) / safe, time)


def fit_late(windows: LateWindows, groups: list[LateGroup], params: Params, draws: int,
             rng: np.random.Generator) -> list[Fit]:
    """Maximum-likelihood late hazards for every group's reported outcomes, with their posterior.

    The groups before transplant are fitted first: the chances after transplant depend on who
    reaches transplant, and so on the hazards before it.

    Parameters
    ----------
    windows : LateWindows
        Simulated windows cut at the trial's cut-off.
    groups : list of LateGroup
        Reported outcomes at cut-off.
    params : sim.inputs.params.Params
        Supplies the hazards that are not fitted and the MRD-positive relapse ratio.
    draws : int
        Posterior draws: Dirichlet(counts + 1/2) on each group's categories, each mapped to the
        hazards that maximise the likelihood of those chances.
    rng : numpy.random.Generator
        Source of the posterior draws.
    """
    model = LateModel(windows, params["late.relapse_hazard_ratio_mrd_pos"])
    start = {regime: {c: params[p] for c, p in paths.items()} for regime, paths in HAZARDS.items()}
    for group in groups:  # start from the counts, not from the values being replaced
        start[group.transplanted] |= model.crude_hazards(group)
    order = sorted(groups, key=lambda g: g.transplanted)
    best = _snap(_fit_groups(model, order, start, [g.counts for g in order]))
    light = model.subset(rng.choice(len(model.x), size=min(len(model.x), DRAW_WINDOWS), replace=False))
    samples = [_fit_groups(light, order, best, [_dirichlet(g, rng) for g in order]) for _ in range(draws)]
    fits = []
    for group in order:
        targets = _late_targets(model, group, best)
        method = _late_method(group, model.exposure(group, best[False], best[True]))
        for cause, path in zip(group.causes, group.hazard_paths):
            sample = np.array([s[group.transplanted][cause] for s in samples])
            fits.append(Fit(path, best[group.transplanted][cause], sample, gamma_by_moments(sample), targets, method))
    return fits


def _fit_groups(model: LateModel, groups: list[LateGroup], start: dict, weights: list[dict]) -> dict:
    """Hazards (per regime and cause) maximising the likelihood of each group's weighted categories."""
    hazards = {regime: dict(values) for regime, values in start.items()}
    for group, weight in zip(groups, weights):
        hazards[group.transplanted].update(_fit_group(model, group, hazards, weight))
    return hazards


def _fit_group(model: LateModel, group: LateGroup, hazards: dict, weight: dict) -> dict[str, float]:
    """The group's free hazards maximising the likelihood of ``weight`` (SLSQP with hazards >= 0:
    as exact as L-BFGS-B here, and several times faster when other processes load the BLAS threads)."""
    causes = group.causes
    columns = [list(CAUSE_STATES).index(c) for c in causes]

    def loss(x: np.ndarray):
        free = dict(hazards[group.transplanted]) | {c: v / SCALE for c, v in zip(causes, x)}
        before, after = (hazards[False], free) if group.transplanted else (free, hazards[True])
        value, gradient = model.loss(group, weight, before, after)
        return value, gradient[columns] / SCALE

    guess = np.array([max(hazards[group.transplanted][c] * SCALE, 1e-3) for c in causes])
    result = optimize.minimize(loss, guess, jac=True, method="SLSQP",
                               bounds=[(0.0, 100.0)] * len(causes), options={"ftol": 1e-12, "maxiter": 500})
    return {c: float(v) / SCALE for c, v in zip(causes, result.x)}


def _snap(hazards: dict, floor: float = 1e-12) -> dict:
    """Hazards per regime and cause with an optimiser's round-off below ``floor`` per day set to 0."""
    return {regime: {c: (0.0 if h < floor else h) for c, h in values.items()} for regime, values in hazards.items()}


def _dirichlet(group: LateGroup, rng: np.random.Generator) -> dict[str, float]:
    counts = np.array(list(group.counts.values()))
    return dict(zip(group.counts, rng.dirichlet(counts + JEFFREYS) * group.size))


def _late_targets(model: LateModel, group: LateGroup, hazards: dict) -> tuple[Target, ...]:
    chance = model.conditional(group, hazards[False], hazards[True])
    who = "transplanted" if group.transplanted else "untransplanted"
    return tuple(Target(group.keys.get(state, f"({who} {state}: 0 implied)"), count, group.size,
                        group.size * chance[state])
                 for state, count in group.counts.items() if state != OTHER)


def _late_method(group: LateGroup, exposure: float) -> str:
    who = "transplanted" if group.transplanted else "not transplanted"
    return (f"maximum likelihood, the multinomial chances of the {group.size:g} {who} exact for constant competing "
            f"hazards over the simulated windows from response to cut-off (about {exposure:.0f} patient-days at risk); "
            f"uncertainty: Dirichlet(counts + 1/2) mapped to the hazards, as a gamma with its mean and variance")


# -- uncertainty as written in a params file ----------------------------------------------------

def triangular_by_quantiles(sample: np.ndarray) -> list[float]:
    """``[low, mode, high]`` of the triangular distribution with the 2.5th, 50th and 97.5th
    percentiles of ``sample`` (a skewed, bounded shape that a lognormal cannot take)."""
    probabilities = [(1 - LEVEL) / 2, 0.5, (1 + LEVEL) / 2]
    wanted = np.quantile(sample, probabilities)

    def gap(v: np.ndarray) -> np.ndarray:
        low, mode, high = np.sort(v)
        return stats.triang((mode - low) / (high - low), low, high - low).ppf(probabilities) - wanted

    spread = wanted[2] - wanted[0]
    start = [wanted[0] - spread / 4, wanted[1], wanted[2] + spread / 4]
    low, mode, high = np.sort(optimize.least_squares(gap, start).x)
    return [float(low), float(mode), float(high)]


def gamma_by_moments(sample: np.ndarray) -> dict:
    """``{"gamma": [events, exposure]}`` with the mean and variance of ``sample``.

    The params file reads ``gamma = [e, x]`` as Gamma(e + 1/2, scale 1/x), mean (e + 1/2)/x; a
    posterior too skewed for e >= 0 keeps its mean with e = 0.
    """
    mean, var = float(np.mean(sample)), float(np.var(sample, ddof=1))
    if mean <= 0 or var <= 0:
        raise ValueError(f"a gamma needs draws with a positive mean and spread, got mean {mean}, variance {var}")
    events = max(mean**2 / var - JEFFREYS, 0.0)
    return {"gamma": [events, (events + JEFFREYS) / mean]}
