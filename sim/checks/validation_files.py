"""A validation run of a trial and its files: every reported figure against virtual trials with parameter uncertainty.

:func:`run_validation` simulates the trials and places each figure of the seeds file in its
simulated distribution (:mod:`sim.analyses.validation`); :meth:`Validation.write` writes
``validation.csv``, ``validation.json`` (with the definitions and a manifest) and the forest plot.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from sim.analyses.calibration import target_keys
from sim.analyses.validation import (LEVEL, failed, figure_roles, independent_count, judged_targets, outside_band,
                                     passes_by_role, validation_table)
from sim.runs.runner import run_trials
from sim.inputs.params import Params
from sim.runs.results import Results
from sim.output.run_files import manifest, write_atomic
from sim.output.shown_values import json_records
from sim.stats.predictive_position import SETTLED
from sim.table import Table

DEFINITIONS = {
    "trials": "each virtual trial draws its parameters from their uncertainty distributions",
    "denominator": "a count reported as k of n is compared with the simulated counts of the virtual trials whose "
                   "denominator is n (the predictive of k given the reported n); other figures with every trial",
    "interval": "central 95% interval: 2.5th and 97.5th percentiles of the simulated values (inverted empirical CDF "
                "by exact integer ranks: the ceil(n p)-th of n sorted values, so each bound is a value some virtual "
                "trial produced)",
    "interval_mass": "share of the simulated values inside the interval: at least 0.95, more for a count whose "
                     "bounds carry ties",
    "percentile": "mid-rank (mid-p) percentile of the reported value r: 100 x (P(X < r) + P(X = r) / 2) over the simulated "
                  "values X (those at the reported denominator for a count)",
    "p_below": "P(X < r), the share of the simulated values below the reported value",
    "p_at_or_below": "P(X <= r); for a count, [p_below, p_at_or_below] is the interval its position spans",
    "percentile_mcse": "Monte Carlo standard error of the percentile, in percentage points, from the number of simulated "
                       "values compared (multinomial: sqrt((a(1-a) + b(1-b) + 2a(1-b)) / 4n) with a = p_below, "
                       "b = p_at_or_below)",
    "central_band": "inside when the mid-p percentile lies in [20, 80], edges included (the acceptance band for "
                    "calibration targets under full parameter uncertainty), else outside",
    "band_margin_se": "distance of the percentile from the nearer edge of the 20-80 band in Monte Carlo standard errors: "
                      "positive inside, negative outside; within about 2 the verdict is not settled by this many trials",
    "calibration_target": "true for a figure `cartsim calibrate` fits to (its role may still be input, when an entry "
                          "also cites it)",
    "pass": "the reported value lies inside the central 95% interval, bounds included",
    "role": "input: a params entry cites the figure (source seeds:KEY, or one of seeds:a+seeds:b), or the figures "
            "entries cite determine it exactly in every virtual trial (a pass only reproduces an input); calibrated: "
            "a fit target of `cartsim calibrate`, or determined by targets and inputs (a pass shows the fit "
            "worked); independent: neither (the only rows that test the model)",
}


@dataclass
class Validation:
    """The validation of one trial: the run behind it and the table of figures."""

    params: Params
    results: Results
    table: Table

    @property
    def failed(self) -> list[str]:
        """The modelled figures whose reported value lies outside the simulated interval."""
        return failed(self.table)

    @property
    def outside_band(self) -> list[str]:
        """The calibration targets whose mid-p percentile lies outside the central 20-80 band."""
        return outside_band(self.table)

    def band_summary(self) -> dict:
        """The calibration targets judged against the 20-80 band, those outside it, and the trials behind it."""
        judged = judged_targets(self.table)
        return {"band": [20, 80], "parameter_uncertainty": self.results.parameter_uncertainty,
                "judged": [row["figure"] for row in judged], "outside": self.outside_band,
                "not_settled": [row["figure"] for row in judged if abs(row["band_margin_se"]) < SETTLED]}

    @property
    def title(self) -> str:
        return (f"{self.params.text['trial.title']}\nreported figures against {self.results.n_trials} virtual trials "
                f"(seed {self.results.seed})")

    def document(self, command: list[str] | None = None) -> dict:
        """The JSON document: manifest, citation, definitions, failed figures, passes by role and every row."""
        return {"manifest": manifest(self.results, command), "citation": self.params.seeds.cite(),
                "definitions": DEFINITIONS, "failed": self.failed,
                "independent_figures": independent_count(self.table),
                "passes_by_role": {role: {"pass": n, "modelled": m} for role, (n, m) in passes_by_role(self.table).items()},
                "calibration_targets_in_band": self.band_summary(),
                "figures": json_records(self.table)}

    def write(self, out: str | Path, command: list[str] | None = None) -> list[Path]:
        """Write validation.csv, validation.json and the forest plot (PNG and SVG) into ``out``."""
        from sim.plots.forest import draw_validation  # matplotlib loads only when pictures are drawn

        out = Path(out)
        write_atomic(out / "validation.csv", self.table.to_csv_text())
        write_atomic(out / "validation.json", json.dumps(self.document(command), indent=2) + "\n")
        return [out / "validation.csv", out / "validation.json", *draw_validation(self.table, self.title, out)]


def run_validation(params: Params, trials: int = 2000, seed: int = 0, level: float = LEVEL,
                   progress: Callable[[int, int], None] | None = None) -> Validation:
    """Simulate ``trials`` virtual trials with parameter uncertainty and validate every reported figure;
    ``progress(done, total)`` is called as trials finish."""
    results = run_trials(params, trials=trials, seed=seed, parameter_uncertainty=True, progress=progress)
    roles = figure_roles(params, results.trials.columns)
    return Validation(params, results, validation_table(params.seeds, results.trials, level, roles, target_keys(params)))
