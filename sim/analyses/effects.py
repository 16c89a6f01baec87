"""Scenario effects over parameter uncertainty: the interval a decision rests on.

For D parameter draws d (every arm draws each parameter it leaves alone from the same stream,
:func:`sim.inputs.parameter_draws.draw_trial_parameters`, so the arms share the draw), each arm runs M
inner virtual trials at that draw's values, on the same patients' luck in every arm (trials
d M .. d M + M - 1 of the seed).  Per draw, the **expected difference** e_d is the mean over the
inner trials of scenario - base.  Three intervals, each for what it is:

- **effect** (the headline): the 2.5th, 50th and 97.5th percentiles of e_d over the draws: what we
  do not know about the effect, given the evidence behind the parameters;
- **Monte Carlo error**: mean(e_d) +- t(0.975, D - 1) sd(e_d) / sqrt(D): how precisely the
  simulation estimated the mean effect (shrinks with more draws; says nothing about the world);
- **one trial**: the 2.5th-97.5th percentiles of the single-trial differences over every draw and
  inner trial: what one real trial of this size could show.

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


def _summary(effects: Effects, arm: int, name: str) -> dict:
    per_draw, singles, within = [], [], []
    for draw in effects.outcomes:
        d = draw[arm][name] - draw[0][name]
        d = d[~np.isnan(d)]
        if d.size:
            per_draw.append(d.mean())
            singles.append(d)
            within.append(d.var(ddof=1) / d.size if d.size > 1 else np.nan)
    e = np.array(per_draw)
    if e.size < 2:
        return dict.fromkeys(("effect_median", "effect_low95", "effect_high95", "effect_mean", "mc_low95", "mc_high95",
                              "trial_low95", "trial_high95", "inner_noise_share"), np.nan) | {
            "draws_defined": float(e.size), "zero_event_parameters": ""}
    tail = (1 - LEVEL) / 2
    half = stats.t.ppf(1 - tail, e.size - 1) * e.std(ddof=1) / np.sqrt(e.size)
    pooled = np.concatenate(singles)
    var = e.var(ddof=1)
    return {"effect_median": float(np.median(e)), "effect_low95": float(np.quantile(e, tail)),
            "effect_high95": float(np.quantile(e, 1 - tail)), "effect_mean": float(e.mean()),
            "mc_low95": float(e.mean() - half), "mc_high95": float(e.mean() + half),
            "trial_low95": float(np.quantile(pooled, tail)), "trial_high95": float(np.quantile(pooled, 1 - tail)),
            "inner_noise_share": float(np.nanmean(within) / var) if var > 0 else np.nan,
            "draws_defined": float(e.size),
            "zero_event_parameters": " ".join(_flags(effects, arm, name))}


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
