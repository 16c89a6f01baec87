"""What a run gives back: per-patient, per-trial and per-facility tables, and their summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from sim.inputs.params import Params
from sim.model.records import event_log
from sim.table import Table
from sim.stats.intervals import median_interval
from sim.stats.trial_figures import SURVIVAL_LABELS, SURVIVAL_OUTCOMES, figure_at_denominator


@dataclass
class Results:
    """Tables of a run of virtual trials.

    ``patients``: one row per patient per trial; ``events``: the tidy event log; ``trials``: one row
    per trial with every figure; ``facilities``: queue waits and utilisation per trial and facility.
    A run streamed to its output folder keeps no patients in memory: ``patients`` and ``events``
    are read back from the files when asked for.
    """

    params: Params
    seed: int
    parameter_uncertainty: bool
    stored_patients: Table | None  # None: streamed to ``stream`` and read back when asked for
    trials: Table
    facilities: Table
    run_seconds: float = 0.0
    extra: dict = field(default_factory=dict)
    stream: object = None  # the PatientStream the patients went to, if any

    def __post_init__(self) -> None:
        if self.stored_patients is None and self.stream is None:
            raise ValueError("Results needs its patients, or the stream they were written to")

    @cached_property
    def patients(self) -> Table:
        return self.stored_patients if self.stored_patients is not None else self.stream.read_back("patients")

    @property
    def n_trials(self) -> int:
        return len(self.trials)

    @cached_property
    def events(self) -> Table:
        if self.stored_patients is None:
            return self.stream.read_back("events")
        return Table(event_log(self.patients.columns))

    def summary(self) -> Table:
        """Per figure: the reported value next to the simulated mean, median and 95% interval (a count k of n
        over the trials whose denominator is n; :mod:`sim.stats.intervals` for the percentiles)."""
        rows = [_summary_row(key, f.says, f.value, f.of, figure_at_denominator(self.trials, key, f.of))
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

    def write(self, out: str | Path, command: list[str] | None = None, fmt: str = "csv") -> list[Path]:
        """Write every table, the JSON summary and the report into the folder ``out``; returns the files.

        Parameters
        ----------
        out : path
            The output folder (created if needed).
        command : list of str, optional
            The command line to record in the manifest (default: ``sys.argv``).
        fmt : {"csv", "parquet"}
            Format of the two large tables, patients and events (Parquet needs the ``parquet`` extra).
        """
        from sim.output.run_files import write_results  # run_files reads Results: imported on use

        return write_results(self, Path(out), command=command, fmt=fmt)


def _summary_row(key: str, says: str, reported: float, of: int | None, values: np.ndarray) -> dict:
    values = np.asarray(values, dtype=float)
    defined = values[~np.isnan(values)]
    stats = (np.mean(defined), *median_interval(defined)) if defined.size else (np.nan,) * 4
    return {"figure": key, "says": says, "reported": reported, "of": np.nan if of is None else of,
            "sim_mean": stats[0], "sim_median": stats[1], "sim_low95": stats[2], "sim_high95": stats[3],
            "trials_defined": float(defined.size)}


def _nanmean(values: np.ndarray) -> float:
    return float(np.nanmean(values)) if np.any(~np.isnan(values)) else np.nan
