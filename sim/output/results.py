"""What a run gives back: per-patient, per-trial and per-facility tables, and their summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from sim.stats.trial_figures import SURVIVAL_OUTCOMES
from sim.inputs.params import Params
from sim.model.records import event_log
from sim.output.table import Table

SURVIVAL_LABELS = {"os_6m": "overall survival at 6 months (Kaplan-Meier)",
                   "os_12m": "overall survival at 12 months (Kaplan-Meier)",
                   "lfs_6m": "leukaemia-free survival at 6 months (Kaplan-Meier)",
                   "lfs_12m": "leukaemia-free survival at 12 months (Kaplan-Meier)",
                   "median_followup_months": "median follow-up, months (reverse Kaplan-Meier)"}


@dataclass
class Results:
    """Tables of a run of virtual trials.

    ``patients``: one row per patient per trial; ``events``: the tidy event log; ``trials``: one row
    per trial with every figure; ``facilities``: queue waits and utilisation per trial and facility.
    """

    params: Params
    seed: int
    parameter_uncertainty: bool
    patients: Table
    trials: Table
    facilities: Table
    run_seconds: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def n_trials(self) -> int:
        return len(self.trials)

    @cached_property
    def events(self) -> Table:
        return Table(event_log(self.patients.columns))

    def summary(self) -> Table:
        """Per figure: the reported value next to the simulated mean, median and 95% interval."""
        rows = [_summary_row(key, f.says, f.value, f.of, self.trials[key])
                for key, f in self.params.seeds.figures.items() if f.modelled]
        metrics = {f.metric for f in self.params.seeds.figures.values()}
        rows += [_summary_row(key, SURVIVAL_LABELS[key], np.nan, None, self.trials[key])
                 for key in (*SURVIVAL_OUTCOMES, "median_followup_months") if key not in metrics]
        return Table({name: [row[name] for row in rows] for name in rows[0]})

    def facility_summary(self) -> Table:
        """Per facility: mean over trials of each metric."""
        names = [n for n in self.facilities.names if n not in ("trial", "facility")]
        rows = []
        for facility in dict.fromkeys(self.facilities["facility"]):
            mask = self.facilities["facility"] == facility
            rows.append({"facility": facility} | {n: _nanmean(self.facilities[n][mask].astype(float)) for n in names})
        return Table({name: [row[name] for row in rows] for name in rows[0]})


def _summary_row(key: str, says: str, reported: float, of: int | None, values: np.ndarray) -> dict:
    values = np.asarray(values, dtype=float)
    defined = values[~np.isnan(values)]
    stats = (np.mean(defined), *np.percentile(defined, [50, 2.5, 97.5])) if defined.size else (np.nan,) * 4
    return {"figure": key, "says": says, "reported": reported, "of": np.nan if of is None else of,
            "sim_mean": stats[0], "sim_median": stats[1], "sim_low95": stats[2], "sim_high95": stats[3],
            "trials_defined": float(defined.size)}


def _nanmean(values: np.ndarray) -> float:
    return float(np.nanmean(values)) if np.any(~np.isnan(values)) else np.nan
