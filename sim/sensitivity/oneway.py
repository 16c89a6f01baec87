"""One-way sensitivity analysis: each uncertain input at its 2.5th and 97.5th percentile, the others at base.

Every run uses the same virtual trials (the same seed and trial indices: common random numbers), so
the difference between an input's two runs is that input's effect, not chance.  Inputs are ranked
by swing, the absolute difference between the outcome at the two percentiles, and drawn as a
tornado plot.

Category weights with a Dirichlet(alpha) uncertainty are varied one category at a time: its weight
goes to the 2.5th and 97.5th percentile of its marginal Beta(alpha_i, sum(alpha) - alpha_i), and the
other categories share the rest in proportion to their base weights (in proportion to their alphas
if their base weights are all zero).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from scipy import stats

from sim.inputs.params import Params
from sim.table import Table
from sim.inputs.uncertainty import DirichletUncertainty
from sim.sensitivity.execute import Collected, Design, Progress, RunInfo, run_design
from sim.sensitivity.inputs import select_paths
from sim.sensitivity.model import Point, TrialModel
from sim.stats.key_outcomes import DEFAULT_OUTCOMES, OUTCOMES, check_outcomes
from sim.sensitivity.report import Result, citation, study_label

METHOD = "oneway"
PERCENTILES = (0.025, 0.975)


@dataclass(frozen=True)
class Swing:
    """One input of a one-way analysis: its value at base and at each percentile, and what each sets."""

    name: str
    base: float
    low: float
    high: float
    low_values: dict[str, Any]
    high_values: dict[str, Any]


def scalar_swing(params: Params, path: str) -> Swing:
    """A scalar parameter at its uncertainty distribution's percentiles."""
    low, high = (params.entries[path].uncertainty.ppf(q) for q in PERCENTILES)
    return Swing(path, float(params[path]), low, high, {path: low}, {path: high})


def share_rest(base: dict[str, float], alpha: dict[str, float], category: str, weight: float) -> dict[str, float]:
    """Weights with ``category`` at ``weight`` and the others sharing 1 - weight in proportion to base (or alpha)."""
    others = [c for c in base if c != category]
    basis = {c: base[c] for c in others}
    if sum(basis.values()) <= 0:
        basis = {c: alpha[c] for c in others}
    total = sum(basis.values())
    return {c: weight if c == category else (1 - weight) * basis[c] / total for c in base}


def weight_swings(params: Params, path: str) -> list[Swing]:
    """Category weights, one category at a time, at the percentiles of its marginal Beta."""
    uncertainty: DirichletUncertainty = params.entries[path].uncertainty
    alpha = dict(zip(uncertainty.counts, uncertainty.alpha, strict=True))
    total = sum(params[path].values())
    base = {c: params[path][c] / total for c in uncertainty.counts}
    swings = []
    for category, a in alpha.items():
        low, high = stats.beta(a, sum(alpha.values()) - a).ppf(PERCENTILES)
        swings.append(Swing(f"{path}.{category}", base[category], float(low), float(high),
                            {path: share_rest(base, alpha, category, float(low))},
                            {path: share_rest(base, alpha, category, float(high))}))
    return swings


def swings(params: Params, paths: Sequence[str]) -> list[Swing]:
    """The one-way inputs of these uncertain parameters, in order."""
    out: list[Swing] = []
    for path in paths:
        is_weights = isinstance(params.entries[path].uncertainty, DirichletUncertainty)
        out.extend(weight_swings(params, path) if is_weights else [scalar_swing(params, path)])
    return out


def oneway_design(inputs: Sequence[Swing]) -> Design:
    """Point 0 at base; points 2j+1 and 2j+2 with input j low and high; all on the same luck."""
    def point(index: int) -> Point:
        if index == 0:
            return Point(0)
        swing = inputs[(index - 1) // 2]
        return Point(index, swing.low_values if index % 2 else swing.high_values)
    return Design(METHOD, 1 + 2 * len(inputs), point)


def ranked_rows(name: str, inputs: Sequence[Swing], collected: Collected) -> list[dict]:
    """One outcome's rows, largest swing first (undefined swings last)."""
    mean = collected.column(name)[0]
    at_low, at_high = mean[1::2], mean[2::2]
    swing = np.abs(at_high - at_low)
    order = sorted(range(len(swing)), key=lambda j: (np.isnan(swing[j]), -np.nan_to_num(swing[j], nan=0.0)))
    return [{"outcome": name, "rank": rank + 1, "input": inputs[j].name, "input_base": inputs[j].base,
             "input_low": inputs[j].low, "input_high": inputs[j].high, "outcome_base": mean[0],
             "outcome_at_low": at_low[j], "outcome_at_high": at_high[j], "swing": swing[j]}
            for rank, j in enumerate(order)]


@dataclass
class OneWayResult(Result):
    """Each outcome at base and with each input at its two percentiles."""

    label: str
    citation: str
    info: RunInfo
    outcomes: tuple[str, ...]
    inputs: list[Swing]
    collected: Collected
    method: str = METHOD

    def summary_table(self) -> Table:
        rows = [row for name in self.outcomes for row in ranked_rows(name, self.inputs, self.collected)]
        return Table({key: [row[key] for row in rows] for key in rows[0]})

    def tables(self) -> dict[str, Table]:
        return {"oneway.csv": self.summary_table()}

    def draw(self, folder: Path) -> list[Path]:
        from sim.sensitivity.plots import tornado

        return [path for name in self.outcomes for path in tornado(self, name, folder)]

    def outcome_label(self, name: str) -> str:
        return OUTCOMES[name].axis_label if name in OUTCOMES else name


def run_oneway(params: Params, *, inner: int = 100, seed: int = 0, outcomes: Sequence[str] = DEFAULT_OUTCOMES,
               inputs: Sequence[str] | None = None, backend=None, out: str | Path | None = None,
               resume: bool = False, progress: Progress | None = None, keep_patients: bool = False,
               model=None) -> OneWayResult:
    """One-way sensitivity analysis of ``params`` on common random numbers.

    Parameters
    ----------
    params : Params
        The parameters (a scenario's, to analyse a scenario).
    inner : int
        Virtual trials per run (the same trials for every run).
    seed : int
        Seed of the virtual trials.
    outcomes, inputs, backend, out, resume, progress, keep_patients, model
        As for :func:`~sim.sensitivity.psa.run_psa`.

    Returns
    -------
    OneWayResult
    """
    outcomes = check_outcomes(outcomes) if model is None else tuple(model.outcomes)
    paths = select_paths(params, inputs)
    inputs_ = swings(params, paths)
    model = model or TrialModel(params, outcomes, inner, seed, keep_patients=keep_patients)
    collected, info = run_design(oneway_design(inputs_), model, {"inputs": list(paths)}, params=params,
                                 backend=backend, out=out, resume=resume, progress=progress)
    return OneWayResult(study_label(params), citation(params), info, outcomes, inputs_, collected)
