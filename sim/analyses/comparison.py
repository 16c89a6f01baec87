"""Scenario comparisons on common random numbers: paired differences from the base, trial by trial.

Every arm (the base and each scenario) runs with the same seed, so virtual trial k of every arm has
the same patients with the same luck (:mod:`sim.rng.streams`, :mod:`sim.inputs.parameter_draws`), and the
difference d_k = scenario_k - base_k moves only as far as the scenario itself moves it.  Over the
K trials where an outcome is defined in both arms, the mean difference gets a t interval for a mean,

    mean(d) +- t(0.975, K - 1) * sd(d) / sqrt(K),

and the spread of the d_k themselves (2.5th to 97.5th percentile) is the spread with the *same
patients* in both arms (``spread_low95``, ``spread_high95``), which no pair of real trials can have.
To show what common random numbers buy, each scenario is also run with another seed, and the same
interval is computed on the unpaired differences; ``width_ratio`` is the paired interval's width
over the independent one's (below 1: narrower with common random numbers).  The spread of those
unpaired differences is what **two real trials** could show, with different patients in each arm
(``two_trials_low95``, ``two_trials_high95``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy import stats

from sim.analyses.effects import SUMMARY_COLUMNS
from sim.stats.intervals import central_interval
from sim.stats.key_outcomes import KEY_OUTCOMES, results_outcomes
from sim.inputs.params import Params
from sim.runs.results import Results
from sim.runs.runner import run_trials
from sim.table import Table

CONFIDENCE = 0.95
INDEPENDENT_SEED_OFFSET = 1  # the independent arm's seed: the comparison seed plus this


@dataclass(frozen=True)
class Arm:
    """One arm of a comparison: its label, parameters, run, and (scenarios only) the independent run."""

    label: str
    params: Params
    results: Results
    outcomes: Table
    independent: Table | None = None


@dataclass(frozen=True)
class Comparison:
    """The base arm, the scenario arms, and the table of paired differences."""

    base: Arm
    scenarios: list[Arm]
    seed: int
    independent_seed: int
    table: Table
    settings: dict = field(default_factory=dict)  # the effect analysis's draws and inner trials, if run


def arm_label(params: Params) -> str:
    """A scenario's name, or the trial's name for a params file."""
    return params.scenario.name if params.scenario is not None else params.name


def unique_labels(labels: list[str]) -> list[str]:
    """Labels made unique by a numeric suffix where one repeats."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label}_{seen[label]}")
    return out


def paired_differences(base: np.ndarray, scenario: np.ndarray) -> np.ndarray:
    """scenario_k - base_k for the trials where both are defined."""
    base, scenario = np.asarray(base, dtype=float), np.asarray(scenario, dtype=float)
    both = ~np.isnan(base) & ~np.isnan(scenario)
    return scenario[both] - base[both]


def mean_interval(differences: np.ndarray, confidence: float = CONFIDENCE) -> dict[str, float]:
    """Mean, standard deviation, t interval for the mean and percentile spread of per-trial differences."""
    d = np.asarray(differences, dtype=float)
    n = d.size
    if n == 0:
        return dict.fromkeys(("mean", "sd", "low", "high", "spread_low", "spread_high"), np.nan) | {"trials": 0.0}
    sd = float(np.std(d, ddof=1)) if n > 1 else np.nan
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / np.sqrt(n)) if n > 1 else np.nan
    spread_low, spread_high = central_interval(d, confidence)
    mean = float(np.mean(d))
    return {"mean": mean, "sd": sd, "low": mean - half, "high": mean + half,
            "spread_low": float(spread_low), "spread_high": float(spread_high), "trials": float(n)}


def width_ratio(paired: dict[str, float], independent: dict[str, float]) -> float:
    """Width of the paired interval over the independent one's (NaN when the latter has no width)."""
    width = independent["high"] - independent["low"]
    return float((paired["high"] - paired["low"]) / width) if width > 0 else np.nan


def compare_outcomes(base: Table, scenario: Table, independent: Table | None, label: str) -> list[dict]:
    """One row per outcome shared by the arms: means, paired difference and interval, width ratio."""
    rows = []
    for name in (n for n in base.names if n != "trial" and n in scenario.columns):
        paired = mean_interval(paired_differences(base[name], scenario[name]))
        row = {"scenario": label, "outcome": name, "key": name in KEY_OUTCOMES,
               "base_mean": _nanmean(base[name]), "scenario_mean": _nanmean(scenario[name]),
               "diff_mean": paired["mean"], "diff_low95": paired["low"], "diff_high95": paired["high"],
               "diff_sd": paired["sd"], "spread_low95": paired["spread_low"], "spread_high95": paired["spread_high"],
               "trials_paired": paired["trials"]}
        if independent is not None and name in independent.columns:
            unpaired = mean_interval(paired_differences(base[name], independent[name]))
            row |= {"independent_low95": unpaired["low"], "independent_high95": unpaired["high"],
                    "width_ratio": width_ratio(paired, unpaired),
                    "two_trials_low95": unpaired["spread_low"], "two_trials_high95": unpaired["spread_high"]}
        else:
            row |= dict.fromkeys(("independent_low95", "independent_high95", "width_ratio", "two_trials_low95",
                                  "two_trials_high95"), np.nan)
        rows.append(row)
    return rows


def comparison_table(base: Arm, scenarios: list[Arm]) -> Table:
    """Every scenario's rows of :func:`compare_outcomes`, as one table."""
    rows = [row for arm in scenarios
            for row in compare_outcomes(base.outcomes, arm.outcomes, arm.independent, arm.label)]
    names = list(rows[0]) if rows else ["scenario", "outcome"]
    return Table({name: [row[name] for row in rows] for name in names})


def run_comparison(base: Params, scenarios: list[Params], trials: int, seed: int,
                   parameter_uncertainty: bool = False, independent: bool = True,
                   progress: Callable[[int, int], None] | None = None) -> Comparison:
    """Run the base and every scenario on the same seed (and each scenario on another seed too)."""
    other_seed = seed + INDEPENDENT_SEED_OFFSET
    labels = unique_labels([arm_label(p) for p in (base, *scenarios)])
    runs = [(p, seed) for p in (base, *scenarios)] + ([(p, other_seed) for p in scenarios] if independent else [])
    results = [run_trials(p, trials=trials, seed=s, parameter_uncertainty=parameter_uncertainty,
                          progress=_overall(progress, j * trials, len(runs) * trials))
               for j, (p, s) in enumerate(runs)]
    outcomes = [results_outcomes(r) for r in results]
    n = 1 + len(scenarios)
    base_arm = Arm(labels[0], base, results[0], outcomes[0])
    arms = [Arm(labels[i], results[i].params, results[i], outcomes[i], outcomes[n + i - 1] if independent else None)
            for i in range(1, n)]
    return Comparison(base_arm, arms, seed, other_seed, comparison_table(base_arm, arms))


EFFECT_COLUMNS = (*SUMMARY_COLUMNS, "draws_defined", "zero_event_parameters")


def with_effects(comparison: Comparison, draws: int, inner: int,
                 progress: Callable[[int, int], None] | None = None) -> Comparison:
    """The comparison with each row's effect over parameter uncertainty (:mod:`sim.analyses.effects`)."""
    from sim.analyses.effects import effect_rows, run_effects

    arms = comparison.scenarios
    effects = run_effects(comparison.base.params, [a.params for a in arms], [comparison.base.label] + [a.label for a in arms],
                          draws, inner, comparison.seed, progress=progress)
    found = {(r["scenario"], r["outcome"]): r for r in effect_rows(effects)}
    columns = dict(comparison.table.columns)
    keys = list(zip(comparison.table["scenario"], comparison.table["outcome"]))
    for name in EFFECT_COLUMNS:
        missing = "" if name == "zero_event_parameters" else np.nan
        columns[name] = [found.get(key, {}).get(name, missing) for key in keys]
    return dataclasses.replace(comparison, table=Table(columns), settings={"draws": draws, "inner": inner})


def _overall(progress: Callable[[int, int], None] | None, before: int, total: int):
    """One run's progress as progress over all the comparison's runs (``before`` trials already done)."""
    if progress is None:
        return None
    return lambda done, _: progress(before + done, total)


def _nanmean(values: np.ndarray) -> float:
    values = np.asarray(values, dtype=float)
    return float(np.mean(values[~np.isnan(values)])) if np.any(~np.isnan(values)) else np.nan
