"""What a run gives back: per-patient, per-trial and per-facility tables, and their summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from sim.inputs.paper import figure_unit
from sim.inputs.params import Params
from sim.model.records import event_log
from sim.table import Table
from sim.stats.intervals import median_interval
from sim.stats.trial_figures import SURVIVAL_LABELS, SURVIVAL_OUTCOMES, SURVIVAL_UNITS, figure_at_denominator
from sim.stats.batch import Batch
from sim.stats.outcome_summary import outcome_tables, summarise
from sim.runs.saving import save_results


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
    outcomes: dict[str, Table] | None = None  # per trial, the key outcomes: "all" patients, then each dose group
    kept_patients: Table | None = None  # a streamed run's first trials, kept for the pictures

    def __post_init__(self) -> None:
        if self.stored_patients is None and self.stream is None:
            raise ValueError("Results needs its patients, or the stream they were written to")

    @cached_property
    def patients(self) -> Table:
        return self.stored_patients if self.stored_patients is not None else self.stream.read_back("patients")

    @property
    def picture_patients(self) -> Table | None:
        """The patients the pictures are drawn from: all of them when held in memory, else the first trials
        a streamed run kept (:data:`sim.runs.runner.PICTURE_TRIALS`); None if it kept none."""
        return self.stored_patients if self.stored_patients is not None else self.kept_patients

    @property
    def n_trials(self) -> int:
        return len(self.trials)

    @cached_property
    def events(self) -> Table:
        if self.stored_patients is None:
            return self.stream.read_back("events")
        return Table(event_log(self.patients.columns))

    @cached_property
    def trial_outcomes(self) -> dict[str, Table]:
        """Per virtual trial, every key outcome (key ``"all"``), and each dose group's outcomes of its infused
        patients (key: the level's name) where the trial has several dose levels."""
        if self.outcomes is not None:
            return self.outcomes
        return outcome_tables(Batch.from_table(self.patients, self.facilities), list(self.params.dose_levels()))

    def key_outcomes(self) -> Table:
        """Per key outcome and dose group: median, 95% interval and mean over the virtual trials, and over how
        many trials it is defined (the names and definitions of ``cartsim compare``; see ``sim.KEY_OUTCOMES``)."""
        return summarise(self.trial_outcomes, self.parameter_uncertainty)

    def summary(self) -> Table:
        """Per figure: the reported value next to the simulated mean, median and 95% interval (a count k of n
        over the trials whose denominator is n; :mod:`sim.stats.intervals` for the percentiles)."""
        rows = [_summary_row(key, f.says, figure_unit(f), f.value, f.of, figure_at_denominator(self.trials, key, f.of))
                for key, f in self.params.seeds.figures.items() if f.modelled]
        metrics = {f.metric for f in self.params.seeds.figures.values()}
        rows += [_summary_row(key, SURVIVAL_LABELS[key], SURVIVAL_UNITS[key], np.nan, None, self.trials[key])
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

    def write(self, out: str | Path, command: list[str] | None = None, fmt: str = "csv", plots: bool = False,
              force: bool = False) -> list[Path]:
        """Write every table, the summary, the reports and (with ``plots``) the pictures into the folder ``out``,
        whole or not at all; returns the files.

        Parameters
        ----------
        out : path
            The output folder (created if needed).  Its lock is held while writing; the files go to a
            staging folder swapped in at the end, so an error leaves the earlier result as it was.
        command : list of str, optional
            The command line to record in the manifest (default: ``sys.argv``).
        fmt : {"csv", "parquet"}
            Format of the two large tables, patients and events (Parquet needs the ``parquet`` extra).
        plots : bool
            Also draw the pictures into ``out/figures`` (embedded in ``report.html``).
        force : bool
            Replace the results of another params file in ``out``.
        """
        return save_results(self, out, command=command, fmt=fmt, plots=plots, force=force)


def _summary_row(key: str, says: str, unit: str, reported: float, of: int | None, values: np.ndarray) -> dict:
    values = np.asarray(values, dtype=float)
    defined = values[~np.isnan(values)]
    stats = (np.mean(defined), *median_interval(defined)) if defined.size else (np.nan,) * 4
    return {"figure": key, "says": says, "unit": unit, "reported": reported, "of": np.nan if of is None else of,
            "sim_mean": stats[0], "sim_median": stats[1], "sim_low95": stats[2], "sim_high95": stats[3],
            "trials_defined": float(defined.size)}


def _nanmean(values: np.ndarray) -> float:
    return float(np.nanmean(values)) if np.any(~np.isnan(values)) else np.nan
