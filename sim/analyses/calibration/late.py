"""Late hazards: each cause's level, fitted to the outcomes at cut-off by transplant status.

The shape of each cause over time since infusion (its relative level per band) is an input with a
source; only the level is fitted.  The chance of each outcome at cut-off is exact for
piecewise-constant competing hazards over each simulated patient's window (from the response
assessment to the cut-off, with a switch at the planned transplant day), averaged over the
windows, and the reported counts are a multinomial draw from it.

- Not transplanted: maximum likelihood; uncertainty from the posterior under a Jeffreys prior
  (level^-1/2 per cause), sampled by adaptive importance sampling from the Laplace fit (:mod:`sim.analyses.posterior`).
  Only the state at cut-off is seen, not when the event happened, so when every patient of the group is
  reported with an event (none in remission) ever higher levels only make the counts likelier: the
  likelihood does not fall towards 0, the posterior is improper and the group is refused
  (:func:`bounded_above`).
- Transplanted: the posterior is the prior stated in the params file (a gamma on each level,
  ``late.<cause>_prior_events_after_transplant`` pseudo-events over
  ``late.<cause>_prior_days_after_transplant`` pseudo-exposure, from published outcomes of
  transplant after CAR-T remission) times the likelihood of the trial's counts; the fitted value
  is the posterior mean, so no level is ever 0 because no event was seen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from sim.analyses.calibration.cutoff import LateWindows
from sim.analyses.calibration.fits import JEFFREYS, Fit, Target, gamma_by_moments
from sim.analyses.posterior import sample_posterior
from sim.errors import InputError
from sim.inputs.paper import Figure
from sim.inputs.params import Params
from sim.inputs.schema import LATE_HAZARD_NAMES
from sim.model import late_bands
from sim.model.late_bands import LATE_CAUSES, level_path
from sim.model.late_hazards import band_index, knots

CAUSE_STATES = {"relapse": "relapsed", "infection": "died_infection", "tma": "died_tma",
                "transplant": "died_transplant"}
OTHER = "other"
TINY = 1e-300  # floor of a chance under a logarithm
DRAW_WINDOWS = 2000  # windows behind the posterior: their error is small beside the posterior's spread
PROPOSALS_PER_DRAW = 10  # importance-sampling proposals per posterior draw written (at least MIN_PROPOSALS)
MIN_PROPOSALS = 4000
LOG_BOUNDS = (-12.0, 0.0)  # log10 of a level per day while maximising


def hazard_path(cause: str, transplanted: bool) -> str:
    return level_path(cause, transplanted)


def applies(cause: str, transplanted: bool) -> bool:
    """Whether a cause can happen in a regime (death from transplant only after one)."""
    return transplanted or cause != "transplant"


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
        """The causes whose levels this group informs."""
        return [c for c, state in CAUSE_STATES.items() if state in self.counts and applies(c, self.transplanted)]

    @property
    def hazard_paths(self) -> list[str]:
        return [hazard_path(cause, self.transplanted) for cause in self.causes]


def bounded_above(group: LateGroup) -> bool:
    """Whether the counts of a group fitted under the Jeffreys prior bound its levels from above.

    As every fitted level grows, each reported cause keeps a share of the events while the chance of
    staying in remission (and of an unfitted cause, which ``other`` holds when the counts are
    incomplete) falls to 0.  The likelihood falls to 0 with it only if some patient is counted there;
    otherwise it stays bounded away from 0, and with the prior level^-1/2 of each of d levels the
    posterior mass grows like the integral of r^(d/2 - 1) dr: it is improper.
    """
    return group.transplanted or group.counts.get("in_remission", 0.0) > 0 or group.counts.get(OTHER, 0.0) > 0


def late_groups(params: Params, exclude=()) -> list[LateGroup]:
    """The groups of ``late_outcome`` figures in the seeds file, leaving out the keys in ``exclude``.

    Only outcomes reported by transplant status inform the hazards.

    Raises
    ------
    InputError
        If the figures of one group state different group sizes, or none, or add up to more.
    """
    by_group: dict[bool, list[Figure]] = {}
    for figure in params.seeds.figures.values():
        if (figure.metric == "late_outcome" and set(figure.qualifiers) == {"state", "transplanted"}
                and figure.key not in exclude):
            by_group.setdefault(figure.qualifiers["transplanted"], []).append(figure)
    return [_group(params, transplanted, figures) for transplanted, figures in sorted(by_group.items())]


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
        zeros = {state: 0.0 for c, state in CAUSE_STATES.items() if applies(c, transplanted)}
        counts = {"in_remission": 0.0} | zeros | counts
    else:
        counts[OTHER] = rest
    return LateGroup(transplanted, size, counts, keys)


class RowInputs:
    """The params' values, except the paths in ``inputs`` (arrays over rows), each given as (rows, 1) so that it
    broadcasts against a patient axis, as a batch of trials' params does."""

    def __init__(self, params: Params, inputs: dict[str, np.ndarray]) -> None:
        self.params, self.inputs = params, inputs

    def __getitem__(self, path: str):
        return np.asarray(self.inputs[path], dtype=float)[:, None] if path in self.inputs else self.params[path]


class LateModel:
    """Chances of each outcome at cut-off, exact for piecewise-constant competing hazards that
    change at transplant, averaged over simulated windows.

    Each patient's window is cut into segments at the band edges and the planned transplant day
    (transplanted only if no event came first and before the cut-off).  On a segment of length L
    with total rate R, starting with survival S, cause j happens with chance r_j S (1 - exp(-R L)) / R.
    Levels may be arrays over candidate values (axis 0); the chances are then arrays too.
    """

    def __init__(self, windows: LateWindows, params: Params) -> None:
        w, s = windows.window, windows.transplant_delay
        self.remission = windows.response_category != "no_cr"
        self.transplantable = self.remission & (s < w)
        edges = late_bands.band_starts(params) - params["response.assessment_day"]
        k, self.after = knots(edges, np.where(self.transplantable, s, np.inf))
        ends = np.concatenate([k[:, 1:], np.full((k.shape[0], 1), np.inf)], axis=1)
        self.length = np.minimum(ends, w[:, None]) - np.minimum(k, w[:, None])
        self.band = band_index(k, edges)
        self.flags = {"mrd_pos": windows.response_category == "mrd_pos_cr", "cytopenia": np.asarray(windows.cytopenia),
                      "early_infection": np.asarray(windows.early_infection)}
        self.params = params
        self.unit = self._unit(params)

    def _unit(self, params) -> dict[str, np.ndarray]:
        """Each cause's relative rate per patient and segment: the patient's factor x the band's shape.  With
        ``params`` a :class:`RowInputs`, each has a leading row axis (rows, patients, segments)."""
        flags = self.flags
        factors = late_bands.patient_factors(params, flags["mrd_pos"], flags["cytopenia"], flags["early_infection"])
        out = {}
        for c in LATE_CAUSES:
            shape = late_bands.shape(params, c)  # (bands,), or (rows, 1, bands) from RowInputs
            shape = shape[..., 0, :] if shape.ndim > 1 else shape
            out[c] = factors[c][..., None] * np.take(shape, self.band, axis=-1)
        return out

    def subset(self, index: np.ndarray) -> "LateModel":
        """The model over some of its windows (a cheaper approximation for posterior draws)."""
        new = object.__new__(LateModel)
        new.__dict__ = {name: (value if name == "params" else {c: v[index] for c, v in value.items()}
                               if isinstance(value, dict) else value[index])
                        for name, value in self.__dict__.items()}
        return new

    def _parts(self, before: dict, after: dict, per_patient: bool = False, inputs: dict | None = None):
        """Rates, each segment's chance weight, and survival to the window's end.  ``per_patient``:
        the levels hold a value per patient on their last axis (else one value for all).  ``inputs``:
        band shapes and patient factors by params path, arrays over the levels' rows, in place of the
        params' values (:class:`RowInputs`)."""
        rates = {}
        axes = (...,) + (None,) * (1 if per_patient else 2)
        unit = self._unit(RowInputs(self.params, inputs)) if inputs else self.unit
        for c in LATE_CAUSES:
            b = np.asarray(before.get(c, 0.0) if applies(c, False) else 0.0, dtype=float)[axes]
            a = np.asarray(after.get(c, 0.0), dtype=float)[axes]
            rates[c] = np.where(self.after, a, b) * unit[c]
        total = sum(rates.values())
        step = total * self.length
        start = np.exp(-(np.cumsum(step, axis=-1) - step))
        with np.errstate(invalid="ignore", divide="ignore"):
            fraction = np.where(total > 0, -np.expm1(-step) / np.where(total > 0, total, 1.0), self.length)
        return rates, start * fraction, np.exp(-step.sum(axis=-1))

    def states(self, before: dict, after: dict, inputs: dict | None = None) -> dict[bool, dict[str, np.ndarray]]:
        """Chance of (being in each regime's group, and each state at cut-off), per regime (``inputs``: as
        :meth:`_parts`)."""
        each = self.patient_states(before, after, inputs=inputs)
        return {regime: {state: np.mean(v, axis=-1) for state, v in chances.items()} for regime, chances in each.items()}

    def patient_states(self, before: dict, after: dict, per_patient: bool = False,
                       inputs: dict | None = None) -> dict[bool, dict[str, np.ndarray]]:
        """Each patient's chance (last axis) of being in each regime's group and each state at cut-off.
        ``per_patient``: the levels before transplant hold one value per patient on their last axis;
        ``inputs``: band shapes and patient factors per row (:meth:`_parts`)."""
        rates, base, end = self._parts(before, after, per_patient, inputs)
        out = {False: {}, True: {}}
        for regime in (False, True):
            mask = (self.after == regime) & self.remission[:, None]
            for c, state in CAUSE_STATES.items():
                if applies(c, regime):
                    out[regime][state] = np.sum(rates[c] * base * mask, axis=-1)
        stay = self.remission & ~self.transplantable
        out[False]["in_remission"] = end * stay
        out[True]["in_remission"] = end * self.transplantable
        out[False]["no_remission"] = ~self.remission + 0.0 * out[False]["in_remission"]
        return out

    def conditional(self, group: LateGroup, before: dict, after: dict, states: dict | None = None) -> dict[str, np.ndarray]:
        """Chance of each of ``group``'s categories among the patients of the group (``states``: the
        result of :meth:`states` at these levels, when the caller has it already)."""
        chance = (states if states is not None else self.states(before, after))[group.transplanted]
        size = sum(chance.values())
        out = {c: chance[c] / size for c in group.counts if c != OTHER}
        if OTHER in group.counts:
            out[OTHER] = np.maximum(1.0 - sum(out.values()), 0.0)
        return out

    def log_likelihood(self, group: LateGroup, before: dict, after: dict, states: dict | None = None) -> np.ndarray:
        """The multinomial log-likelihood of the group's counts (up to a constant)."""
        share = self.conditional(group, before, after, states)
        return sum(n * np.log(np.maximum(share[c], TINY)) for c, n in group.counts.items() if n > 0)

    def exposure(self, group: LateGroup, cause: str, before: dict, after: dict) -> float:
        """Expected band-1-equivalent patient-days at risk of ``cause`` in the group's regime, for
        a group of its reported size (the days a constant hazard at the level would need)."""
        _, base, _ = self._parts(before, after)
        mask = (self.after == group.transplanted) & self.remission[:, None]
        days = float(np.mean(np.sum(self.unit[cause] * base * mask, axis=-1)))
        members = float(sum(self.states(before, after)[group.transplanted].values()))
        return group.size * days / members


def fit_late(windows: LateWindows, groups: list[LateGroup], params: Params, draws: int,
             rng: np.random.Generator) -> list[Fit]:
    """Levels of every group's causes with their posterior (the group before transplant first: who
    reaches transplant depends on the levels before it).

    Parameters
    ----------
    windows : LateWindows
        Simulated windows cut at the trial's cut-off.
    groups : list of LateGroup
        Reported outcomes at cut-off.
    params : sim.inputs.params.Params
        Band edges, shapes, patient factors, the priors after transplant, and the levels not fitted.
    draws : int
        Posterior draws written behind each fit.
    rng : numpy.random.Generator
        Source of the posterior draws.
    """
    model = LateModel(windows, params)
    light = model.subset(rng.choice(len(model.length), size=min(len(model.length), DRAW_WINDOWS), replace=False))
    levels = {regime: {c: late_bands.level(params, c, regime) for c in LATE_CAUSES} for regime in (False, True)}
    fits = []
    for group in sorted(groups, key=lambda g: g.transplanted):
        value, sample, method = (_fit_after if group.transplanted else _fit_before)(model, light, group, levels, params, draws, rng)
        levels[group.transplanted] |= value
        targets = _late_targets(model, group, levels)
        for cause in group.causes:
            fits.append(Fit(hazard_path(cause, group.transplanted), value[cause], sample[cause],
                            gamma_by_moments(sample[cause]), targets, method))
    return fits


def _candidates(levels: dict, group: LateGroup, proposal: dict[str, np.ndarray]) -> tuple[dict, dict]:
    free = levels[group.transplanted] | proposal
    return (levels[False], free) if group.transplanted else (free, levels[True])


def _mle(model: LateModel, group: LateGroup, levels: dict) -> tuple[dict, dict]:
    """Maximum-likelihood levels of the group's causes, and whether each is inside its bounds."""
    causes = group.causes

    def loss(x: np.ndarray) -> float:
        return -float(model.log_likelihood(group, *_candidates(levels, group, dict(zip(causes, 10.0 ** x)))))

    crude = _crude(model, group, levels)
    best = optimize.minimize(loss, np.log10([crude[c] for c in causes]), method="L-BFGS-B", bounds=[LOG_BOUNDS] * len(causes))
    return dict(zip(causes, 10.0 ** best.x)), dict(zip(causes, best.x > LOG_BOUNDS[0] + 1))


def _centre(mle: dict, model: LateModel, group: LateGroup, levels: dict) -> dict:
    """The proposal's centre: the maximum-likelihood level, or the crude one where that is at its bound."""
    crude = _crude(model, group, levels)
    return {c: (v if v > 10.0 ** (LOG_BOUNDS[0] + 1) else crude[c]) for c, v in mle.items()}


def _crude(model: LateModel, group: LateGroup, levels: dict) -> dict[str, float]:
    """Events (plus half) over the group's longest possible exposure: a start and a proposal centre
    that depend on the counts alone, not on the values being replaced."""
    zero = {c: 0.0 for c in group.causes}
    return {c: (group.counts[CAUSE_STATES[c]] + JEFFREYS) / model.exposure(group, c, *_candidates(levels, group, zero))
            for c in group.causes}


def jeffreys_log_prior(level: np.ndarray) -> np.ndarray:
    """Log density (up to a constant) of the Jeffreys prior of a level, level^-1/2: where the counts speak alone."""
    return -JEFFREYS * np.log(level)


def transplant_prior_counts(params: Params, cause: str) -> tuple[float, float]:
    """The params file's prior of a cause's level after transplant as (pseudo-events, pseudo-exposure days)."""
    name = LATE_HAZARD_NAMES[cause]
    return params[f"late.{name}_prior_events_after_transplant"], params[f"late.{name}_prior_days_after_transplant"]


def transplant_prior(params: Params, cause: str):
    """The params file's gamma prior of a cause's level after transplant: ``prior_events`` pseudo-events over
    ``prior_days`` pseudo-exposure (a frozen scipy distribution)."""
    events, days = transplant_prior_counts(params, cause)
    return stats.gamma(events, scale=1.0 / days)


def level_log_prior(params: Params, cause: str, transplanted: bool):
    """The log prior density of a level: the params file's gamma after transplant, else Jeffreys."""
    return transplant_prior(params, cause).logpdf if transplanted else jeffreys_log_prior


def _posterior(light, group, levels, params, centre: dict, draws: int, rng):
    """The group's levels drawn from their posterior (the likelihood of its counts times each level's prior),
    by :func:`sim.analyses.posterior.sample_posterior`: each level's draws, and the sample with its diagnostics."""
    priors = {c: level_log_prior(params, c, group.transplanted) for c in group.causes}

    def log_density(values: dict[str, np.ndarray]) -> np.ndarray:
        return (light.log_likelihood(group, *_candidates(levels, group, values))
                + sum(prior(values[c]) for c, prior in priors.items()))

    sample = sample_posterior(log_density, centre, draws=draws, proposals=max(PROPOSALS_PER_DRAW * draws, MIN_PROPOSALS),
                              seed=int(rng.integers(2**32)))
    return dict(zip(sample.names, sample.draws.T)), sample


def _sampling(sample) -> str:
    return (f"adaptive importance sampling from the Laplace fit (Pareto k-hat {sample.pareto_k:.2f}, effective sample "
            f"{sample.ess:.0f})")


def _fit_before(model, light, group, levels, params, draws, rng):
    """Maximum likelihood, and the posterior under a Jeffreys prior.

    Raises
    ------
    InputError
        If no patient of the group is in remission at cut-off (:func:`bounded_above`).
    """
    if not bounded_above(group):
        key = group.keys.get("in_remission", next(iter(group.keys.values()), ""))
        raise InputError(params.seeds.path, f"figures.{key}" if key else "figures",
                         f"none of the {group.size:g} not transplanted is in remission at cut-off, so the outcomes "
                         f"at cut-off set no upper bound on the late levels (their posterior under the Jeffreys prior "
                         f"does not exist) and the levels cannot be calibrated from them")
    causes = group.causes
    mle, interior = _mle(model, group, levels)
    sample, drawn = _posterior(light, group, levels, params, _centre(mle, model, group, levels), draws, rng)
    value = {c: (mle[c] if interior[c] else float(np.mean(sample[c]))) for c in causes}
    days = model.exposure(group, "infection", *_candidates(levels, group, value))
    method = (f"maximum likelihood, the multinomial chances of the {group.size:g} not transplanted exact for piecewise-"
              f"constant competing hazards (each cause's band shape fixed, its level fitted) over the simulated windows "
              f"from response to cut-off (about {days:.0f} patient-days at risk); uncertainty: posterior under a Jeffreys "
              f"prior (level^-1/2) by {_sampling(drawn)}, as a gamma with its mean and variance")
    return value, sample, method


def _fit_after(model, light, group, levels, params, draws, rng):
    """Posterior mean under the params file's gamma priors."""
    causes = group.causes
    density = {c: transplant_prior(params, c) for c in causes}
    centre = {c: float(density[c].mean()) for c in causes}  # the prior's mean: where the density is surely finite
    sample, drawn = _posterior(light, group, levels, params, centre, draws, rng)
    mean = {c: float(np.mean(sample[c])) for c in causes}
    stated = ", ".join(f"{c} Gamma({d.args[0]:g}, {1 / d.kwds['scale']:g} days)" for c, d in density.items())
    method = (f"posterior mean: the prior of the params file ({stated}; pseudo-events over pseudo-exposure, from published "
              f"outcomes of transplant after CAR-T remission) times the multinomial likelihood of the {group.size:g} "
              f"transplanted, exact for piecewise-constant competing hazards over the simulated windows; "
              f"{_sampling(drawn)}; as a gamma with its mean and variance")
    return mean, sample, method


def _late_targets(model: LateModel, group: LateGroup, levels: dict) -> tuple[Target, ...]:
    chance = model.conditional(group, levels[False], levels[True])
    who = "transplanted" if group.transplanted else "untransplanted"
    return tuple(Target(group.keys.get(state, f"({who} {state}: 0 implied)"), count, group.size,
                        group.size * float(chance[state]))
                 for state, count in group.counts.items() if state != OTHER)
