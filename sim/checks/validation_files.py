"""A validation run of a trial and its files: every reported figure against virtual trials with parameter uncertainty.

:func:`run_validation` simulates the trials and places each figure of the seeds file in its
simulated distribution (:mod:`sim.analyses.validation`); :meth:`Validation.write` writes
``validation.csv``, ``validation.json`` (with the definitions and a manifest) and the forest plot.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from sim.analyses.validation import LEVEL, failed, figure_roles, independent_count, passes_by_role, validation_table
from sim.runs.runner import run_trials
from sim.inputs.params import Params
from sim.runs.results import Results
from sim.output.run_files import manifest, write_atomic
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
    "percentile": "mid-rank percentile of the reported value r: 100 x (P(X < r) + P(X = r) / 2) over the simulated values X",
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
    def title(self) -> str:
        return (f"{self.params.text['trial.title']}\nreported figures against {self.results.n_trials} virtual trials "
                f"(seed {self.results.seed})")

    def document(self, command: list[str] | None = None) -> dict:
        """The JSON document: manifest, citation, definitions, failed figures, passes by role and every row."""
        return {"manifest": manifest(self.results, command), "citation": self.params.seeds.cite(),
                "definitions": DEFINITIONS, "failed": self.failed,
                "independent_figures": independent_count(self.table),
                "passes_by_role": {role: {"pass": n, "modelled": m} for role, (n, m) in passes_by_role(self.table).items()},
                "figures": [{key: _plain(value) for key, value in row.items()} for row in self.table.rows()]}

    def write(self, out: str | Path, command: list[str] | None = None) -> list[Path]:
        """Write validation.csv, validation.json and the forest plot (PNG and SVG) into ``out``."""
        from sim.plots.forest import draw_validation  # matplotlib loads only when pictures are drawn

        out = Path(out)
        write_atomic(out / "validation.csv", self.table.to_csv_text())
        write_atomic(out / "validation.json", json.dumps(self.document(command), indent=2) + "\n")
        return [out / "validation.csv", out / "validation.json", *draw_validation(self.table, self.title, out)]


def run_validation(params: Params, trials: int = 2000, seed: int = 0, level: float = LEVEL) -> Validation:
    """Simulate ``trials`` virtual trials with parameter uncertainty and validate every reported figure."""
    results = run_trials(params, trials=trials, seed=seed, parameter_uncertainty=True)
    roles = figure_roles(params, results.trials.columns)
    return Validation(params, results, validation_table(params.seeds, results.trials, level, roles))


def _plain(value):
    """A JSON value: NaN becomes null."""
    return None if isinstance(value, float) and math.isnan(value) else value
