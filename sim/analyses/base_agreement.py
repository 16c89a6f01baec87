"""Whether a run at the base values and a run over parameter uncertainty tell the same story, and why not.

``cartsim run`` shows results over parameter uncertainty by default and at the base values on
request.  The two answer different questions (what the base case gives; what we expect given what
we do not know), and they differ when outcomes are not linear in the inputs or when a base value
is not the centre of its own uncertainty.  :func:`base_agreement` runs the other of the two on the
same seed and compares the mean of each survival outcome: a difference larger than 1.96 times
its Monte Carlo standard error (the two runs' standard errors of the mean, combined) is flagged.

The text says why the two can differ, and names the inputs whose base value lies furthest from the
median of their uncertainty, without calling them the cause: being off centre says nothing of how
much an outcome depends on an input, and a wide, skewed input at its median can move the mean more
(docs/validation.md gives a measurement).  Which inputs move an outcome is what a sensitivity
analysis measures (``cartsim sensitivity``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.runs.runner import iterate_batches, run_to_folder
from sim.inputs.params import Params
from sim.inputs.uncertainty import Uncertainty
from sim.runs.results import Results
from sim.inputs.parameter_draws import inverse_cdf
from sim.stats.batch import Batch
from sim.stats.trial_figures import SURVIVAL_OUTCOMES, survival_outcomes

Z = 1.96  # a difference beyond 1.96 Monte Carlo standard errors is more than simulation noise (5%, two-sided)
MAX_TRIALS = 2000  # the other run needs no more to place a mean to about 0.01
OFF_CENTRE = 0.05  # a base value this far from its median, in units of its 95% range, is off centre
SHOWN = 5  # inputs named as the reason


@dataclass(frozen=True)
class Agreement:
    """Per survival outcome, the mean over parameter uncertainty and at the base values, and why they differ."""

    rows: list[dict]
    off_centre: list[dict]
    trials: int

    @property
    def differing(self) -> list[str]:
        return [r["outcome"] for r in self.rows if r["differs"]]

    def to_dict(self) -> dict:
        return {"rule": f"a difference beyond {Z} Monte Carlo standard errors of the difference of the two means",
                "other_run_trials": self.trials, "outcomes": self.rows, "off_centre_inputs": self.off_centre,
                "differing": self.differing, "why": self.why()}

    def why(self) -> str:
        """One paragraph: which outcomes differ, why the two can differ, and the inputs whose base value is off centre."""
        if not self.differing:
            return ("Over parameter uncertainty and at the base values the survival outcomes agree within their "
                    "Monte Carlo error.")
        names = "; ".join(f"{r['outcome']} {r['mean_uncertainty']:.2f} against {r['mean_base_values']:.2f} "
                          f"(+-{r['mc_se']:.2f})" for r in self.rows if r["differs"])
        text = (f"Means over parameter uncertainty and at the base values differ by more than their Monte Carlo "
                f"error: {names}.  Both are right answers to different questions: an outcome is not linear in its "
                "inputs, so its average over what we do not know is not its value at the base case.  Base values "
                "are mostly medians, and a wide, right-skewed input (a hazard level drawn from a lognormal) has "
                "its mean well above its median; which inputs move an outcome is what a sensitivity analysis "
                "(cartsim sensitivity) measures.")
        if not self.off_centre:
            return text
        inputs = "; ".join(f"{r['path']} (base {r['base']:.3g}, median {r['median']:.3g})" for r in self.off_centre)
        return text + ("  These inputs' base values are not the centre (median) of their own uncertainty (whether "
                       f"they matter here is not measured): {inputs}.")


def base_agreement(params: Params, results: Results, max_trials: int = MAX_TRIALS) -> Agreement:
    """Run the other of (base values, parameter uncertainty) on ``results``' seed and compare the means.

    Parameters
    ----------
    params : Params
        The parameters ``results`` ran with.
    results : Results
        A run, with or without parameter uncertainty.
    max_trials : int, optional
        The other run has as many trials as ``results``, up to this.
    """
    trials = min(results.n_trials, max_trials)
    other = survival_of_trials(params, trials, results.seed, not results.parameter_uncertainty)
    uncertain, base = (results.trials, other) if results.parameter_uncertainty else (other, results.trials)
    rows = [outcome_row(name, uncertain[name], base[name]) for name in SURVIVAL_OUTCOMES]
    return Agreement(rows, off_centre_inputs(params), trials)


def survival_of_trials(params: Params, trials: int, seed: int, parameter_uncertainty: bool) -> dict[str, np.ndarray]:
    """Each survival outcome of virtual trials 0..trials-1, as :func:`~sim.runs.runner.run_trials` computes them
    for its trials table (the same trials, the same numbers), without the tables the comparison does not read."""
    parts = []
    for _, records in iterate_batches(params, trials, seed, parameter_uncertainty):
        parts.append(survival_outcomes(Batch.from_records(records)))
    return {name: np.concatenate([part[name] for part in parts]) for name in SURVIVAL_OUTCOMES}


def run_with_agreement(params: Params, out: str | Path, trials: int = 1000, seed: int = 0, base_values: bool = False,
                       **options) -> tuple[Results, list[Path], Agreement]:
    """What ``cartsim run`` does: run ``trials`` virtual trials into the folder ``out`` (over parameter
    uncertainty unless ``base_values``), run the other mode on the same seed, and write the comparison with
    the results (``summary.json`` and the reports); returns the Results, the files and the comparison.

    ``options`` go to :func:`~sim.runs.runner.run_to_folder` (``fmt``, ``plots``, ``force``, ``progress``,
    ``command``).
    """
    agreement = []

    def check_agreement(results: Results) -> None:
        agreement.append(base_agreement(params, results))
        results.extra["base_agreement"] = agreement[0].to_dict()

    results, written = run_to_folder(params, out, trials=trials, seed=seed, parameter_uncertainty=not base_values,
                                     before_write=check_agreement, **options)
    return results, written, agreement[0]


def outcome_row(name: str, uncertain: np.ndarray, base: np.ndarray) -> dict:
    """The two means of one outcome, their difference and its Monte Carlo standard error."""
    u, b = (np.asarray(x, dtype=float) for x in (uncertain, base))
    u, b = u[~np.isnan(u)], b[~np.isnan(b)]
    if u.size < 2 or b.size < 2:
        return {"outcome": name, "mean_uncertainty": np.nan, "mean_base_values": np.nan, "difference": np.nan,
                "mc_se": np.nan, "differs": False}
    se = float(np.sqrt(u.var(ddof=1) / u.size + b.var(ddof=1) / b.size))
    difference = float(u.mean() - b.mean())
    return {"outcome": name, "mean_uncertainty": float(u.mean()), "mean_base_values": float(b.mean()),
            "difference": difference, "mc_se": se, "differs": bool(abs(difference) > Z * se)}


def off_centre_inputs(params: Params, shown: int = SHOWN) -> list[dict]:
    """The scalar inputs whose base value lies furthest from the median of their uncertainty, in units of
    its central 95% range (those beyond :data:`OFF_CENTRE`), furthest first."""
    rows = []
    for path in params.uncertain():
        u = params.entries[path].uncertainty
        if not isinstance(u, Uncertainty):
            continue
        low, median, high = inverse_cdf(u, np.array([0.025, 0.5, 0.975]))
        if high > low:
            offset = (params[path] - median) / (high - low)
            if abs(offset) > OFF_CENTRE:
                rows.append({"path": path, "base": float(params[path]), "median": float(median),
                             "offset": float(offset)})
    return sorted(rows, key=lambda r: -abs(r["offset"]))[:shown]
