"""Scenario effects over parameter uncertainty: the interval a decision rests on.

For D parameter draws d (every arm draws each parameter it leaves alone from the same stream,
:func:`sim.inputs.parameter_draws.draw_trial_parameters`, so the arms share the draw), each arm runs M
inner virtual trials at that draw's values, on the same patients' luck in every arm (trials
d M .. d M + M - 1 of the seed).  Per draw, the **expected difference** e_d is the mean over the
inner trials of scenario - base.  Three intervals, each for what it is:

- **effect** (the headline): the 2.5th, 50th and 97.5th percentiles of e_d over the draws: what we
  do not know about the effect, given the evidence behind the parameters;
  Its endpoints carry their own **Monte Carlo standard error** (``effect_low95_mcse``,
  ``effect_high95_mcse``: the standard deviation of each endpoint over bootstrap resamples of the
  draws), since 100 draws place a 2.5th percentile only roughly;
- **Monte Carlo error**: mean(e_d) +- t(0.975, D - 1) sd(e_d) / sqrt(D): how precisely the
  simulation estimated the mean effect (shrinks with more draws; says nothing about the world);
- **two real trials**: the 2.5th-97.5th percentiles, over every draw, of the scenario's inner trial
  j minus the base's inner trial j + 1 (cyclically): two trials of the same therapy in the same world
  (the draw), with *different* patients, as two real trials would have.  It needs M >= 2.
- **same patients**: the same percentiles of scenario - base in the *same* inner trial: the spread of
  the difference when both arms treat the same virtual patients with the same luck, which no pair of
  real trials can do; narrower, and labelled as such wherever it is shown.

Percentiles are the project's one definition (:mod:`sim.stats.intervals`).

``inner_noise_share`` is the share of the variance of e_d that the inner trials' chance adds
(mean within-draw variance / M over the variance of e_d): small means the effect interval is
parameter uncertainty, not simulation noise.

**Zero-event flag.**  A parameter *rests on zero events* when its uncertainty is a count with no
event: ``gamma = [0, exposure]`` or ``beta = [0, n]``.  Its posterior is then the Jeffreys prior's
shape scaled by the exposure: the data bound it from above only.  Such a parameter is flagged for
an outcome's effect when the scenarios change it (an arm fixes or replaces it), or when the effect
depends on it: the Spearman rank correlation between its draws and e_d is significant at 5% after
a Bonferroni correction over the zero-event parameters.  The parameter draws are an input to the
function that computes the arm's parameters (``draw``), so calibrated parameters can later come
jointly from posterior draws without changing this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import stats

from sim.runs.runner import choose_engine, facility_capacities, simulate
from sim.inputs.params import Params
from sim.inputs.uncertainty import Uncertainty
from sim.model.draws import draw_uniforms
from sim.inputs.parameter_draws import draw_trial_parameters
from sim.stats.batch import Batch
from sim.stats.intervals import central_interval, defined, median_interval, rank, tails
from sim.stats.key_outcomes import batch_outcomes

LEVEL = 0.95
SIGNIFICANCE = 0.05
DRAWS, INNER = 100, 20  # about 20 s an arm for the shipped trials
Draw = Callable[[Params, int, int], Params]


def zero_event_parameters(params: Params) -> list[str]:
    """Paths whose uncertainty is a count with no event (``gamma = [0, x]`` or ``beta = [0, n]``)."""
    return [path for path in params.uncertain()
            if isinstance(u := params.entries[path].uncertainty, Uncertainty)
            and u.kind in ("gamma", "beta") and u.args[0] == 0]


def arm_outcomes(params: Params, seed: int, trials: np.ndarray) -> dict[str, np.ndarray]:
    """Every key outcome of virtual trials ``trials`` at fixed ``params``."""
    n = int(params["accrual.enrolled"])
    records = simulate(params, draw_uniforms(seed, trials, n), trials, choose_engine(params))
    return batch_outcomes(Batch.from_records(records, facility_capacities(params)))


@dataclass(frozen=True)
class Effects:
    """Per draw, per arm, the outcomes of the inner trials; and the parameter values drawn."""

    labels: list[str]
    outcomes: list[list[dict[str, np.ndarray]]]  # [draw][arm] -> outcome -> inner trials
    values: dict[str, np.ndarray]  # zero-event parameter -> its value in the base arm per draw
    changed: list[set[str]]  # per scenario arm, the paths it changes
    draws: int
    inner: int
    seed: int


def run_effects(base: Params, scenarios: list[Params], labels: list[str], draws: int = DRAWS, inner: int = INNER,
                seed: int = 0, draw: Draw = draw_trial_parameters,
                progress: Callable[[int, int], None] | None = None) -> Effects:
    """Run every arm at D parameter draws x M inner trials on common random numbers."""
    arms = [base, *scenarios]
    zero = zero_event_parameters(base)
    outcomes, values = [], {path: np.empty(draws) for path in zero}
    for d in range(draws):
        trials = np.arange(d * inner, (d + 1) * inner)
        drawn = [draw(p, seed, d) for p in arms]
        outcomes.append([arm_outcomes(p, seed, trials) for p in drawn])
        for path in zero:
            values[path][d] = drawn[0][path]
        if progress:
            progress(d + 1, draws)
    changed = [set(p.scenario.changed) if p.scenario is not None else set() for p in scenarios]
    return Effects(labels, outcomes, values, changed, draws, inner, seed)


def effect_rows(effects: Effects) -> list[dict]:
    """One row per scenario and outcome: the three intervals, the inner-noise share and the flags."""
    rows = []
    for j, label in enumerate(effects.labels[1:], start=1):
        for name in effects.outcomes[0][0]:
            rows.append({"scenario": label, "outcome": name} | _summary(effects, j, name))
    return rows


SUMMARY_COLUMNS = ("effect_median", "effect_low95", "effect_high95", "effect_low95_mcse", "effect_high95_mcse",
                   "effect_mean", "mc_low95", "mc_high95", "two_trials_low95", "two_trials_high95",
                   "same_patients_low95", "same_patients_high95", "inner_noise_share")
BOOTSTRAP = 1000  # resamples of the draws behind the Monte Carlo error of the effect interval's endpoints


def _summary(effects: Effects, arm: int, name: str) -> dict:
    per_draw, singles, within, real = [], [], [], []
    for draw in effects.outcomes:
        d = draw[arm][name] - draw[0][name]
        if effects.inner > 1:  # the scenario's trial j against the base's trial j + 1: other patients, same world
            real.append(draw[arm][name] - np.roll(draw[0][name], -1))
        d = d[~np.isnan(d)]
        if d.size:
            per_draw.append(d.mean())
            singles.append(d)
            within.append(d.var(ddof=1) / d.size if d.size > 1 else np.nan)
    e = np.array(per_draw)
    if e.size < 2:
        return dict.fromkeys(SUMMARY_COLUMNS, np.nan) | {"draws_defined": float(e.size), "zero_event_parameters": ""}
    half = stats.t.ppf((1 + LEVEL) / 2, e.size - 1) * e.std(ddof=1) / np.sqrt(e.size)
    var = e.var(ddof=1)
    median, low, high = median_interval(e, LEVEL)
    low_se, high_se = endpoint_mcse(e, LEVEL)
    two = central_interval(np.concatenate(real), LEVEL) if real else (np.nan, np.nan)
    same = central_interval(np.concatenate(singles), LEVEL)
    return {"effect_median": median, "effect_low95": low, "effect_high95": high,
            "effect_low95_mcse": low_se, "effect_high95_mcse": high_se, "effect_mean": float(e.mean()),
            "mc_low95": float(e.mean() - half), "mc_high95": float(e.mean() + half),
            "two_trials_low95": two[0], "two_trials_high95": two[1],
            "same_patients_low95": same[0], "same_patients_high95": same[1],
            "inner_noise_share": float(np.nanmean(within) / var) if var > 0 else np.nan,
            "draws_defined": float(e.size),
            "zero_event_parameters": " ".join(_flags(effects, arm, name))}


def endpoint_mcse(values: np.ndarray, level: float = LEVEL, resamples: int = BOOTSTRAP,
                  seed: int = 0) -> tuple[float, float]:
    """Monte Carlo standard error of the central interval's endpoints over ``values`` (the per-draw
    effects): the standard deviation of each endpoint over bootstrap resamples of the draws.

    It says how far the endpoints would move with another set of draws of the same size; it shrinks
    as the draws grow (about as 1 / sqrt(D)).  The resampling is seeded, so a comparison repeats.
    """
    x = defined(values)
    if x.size < 2:
        return np.nan, np.nan
    rng = np.random.default_rng(seed)
    resampled = np.sort(x[rng.integers(0, x.size, size=(resamples, x.size))], axis=1)
    ranks = [rank(x.size, p) - 1 for p in tails(level)]
    low, high = resampled[:, ranks[0]], resampled[:, ranks[1]]
    return float(low.std(ddof=1)), float(high.std(ddof=1))


def _flags(effects: Effects, arm: int, name: str) -> list[str]:
    """Zero-event parameters the scenario changes, or whose draws the effect depends on (see module)."""
    differences = [draw[arm][name] - draw[0][name] for draw in effects.outcomes]
    means = np.array([np.nanmean(x) if np.any(~np.isnan(x)) else np.nan for x in differences], dtype=float)
    ok = ~np.isnan(means)
    flagged = []
    tests = max(len(effects.values), 1)
    for path, values in effects.values.items():
        if path in effects.changed[arm - 1]:
            flagged.append(path)
        elif np.ptp(means[ok]) > 0 and np.ptp(values[ok]) > 0:
            rho, p = stats.spearmanr(values[ok], means[ok])
            if p < SIGNIFICANCE / tests:
                flagged.append(path)
    return flagged
