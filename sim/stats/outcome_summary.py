"""The key outcomes of a run, summarised over its virtual trials, overall and by dose group.

The outcomes and their definitions are those of :mod:`sim.stats.key_outcomes` (the ones ``compare``
pairs); this module only adds the split by dose group and the summary over trials.  Each row says
over how many trials the outcome is defined (a rate among the infused is undefined in a trial that
infused nobody, a survival figure in a trial with no follow-up that long), and how many it is not.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from sim.table import Table
from sim.stats.batch import Batch
from sim.stats.key_outcomes import KEY_OUTCOMES, batch_outcomes

ALL_PATIENTS = "all"
GROUP_OUTCOMES = ("n_infused", "crs_g3_rate", "cr_rate", "transplant_rate", "os_12m", "lfs_12m", "relapse_12m",
                  "nrm_12m")  # the outcomes of infused patients, which a dose group has
SUMMARY_PERCENTILES = (2.5, 50.0, 97.5)
INTERVAL_CHANCE = "95% of virtual trials: one trial's chance at the base parameter values"
INTERVAL_DRAWN = "95% of virtual trials: parameter uncertainty and one trial's chance together"


def group_batch(batch: Batch, level: str) -> Batch:
    """The batch seen through one dose group: patients infused at another level count as not infused."""
    keep = np.asarray(batch["dose_level"]) == level
    return batch.with_columns(t_infusion=np.where(keep, batch["t_infusion"], np.nan),
                              response=np.where(keep, batch["response"], ""))


def outcome_tables(batch: Batch, levels: Sequence[str]) -> dict[str, Table]:
    """Per trial of a batch: every key outcome (key ``"all"``), and with several dose levels each level's
    outcomes of infused patients (key: the level's name)."""
    tables = {ALL_PATIENTS: Table({"trial": batch.trials} | batch_outcomes(batch))}
    if len(levels) > 1:
        for level in levels:
            tables[level] = Table({"trial": batch.trials} | batch_outcomes(group_batch(batch, level), GROUP_OUTCOMES))
    return tables


def central_interval(values: np.ndarray) -> tuple[float, float, float]:
    """2.5th, 50th and 97.5th percentiles of the defined values (inverted empirical CDF: each bound is a
    value some virtual trial produced); NaN when none is defined."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return (np.nan,) * 3
    low, mid, high = np.percentile(values, SUMMARY_PERCENTILES, method="inverted_cdf")
    return float(low), float(mid), float(high)


def summarise(tables: Mapping[str, Table], parameter_uncertainty: bool) -> Table:
    """One row per key outcome and dose group: median, 95% interval and mean over the trials where it
    is defined, and the number of trials where it is and is not."""
    interval = INTERVAL_DRAWN if parameter_uncertainty else INTERVAL_CHANCE
    rows = []
    for group, table in tables.items():
        for name in (n for n in table.names if n != "trial"):
            values = np.asarray(table[name], dtype=float)
            defined = int(np.count_nonzero(~np.isnan(values)))
            low, mid, high = central_interval(values)
            outcome = KEY_OUTCOMES[name]
            rows.append({"outcome": name, "dose_group": group, "label": outcome.label, "unit": outcome.unit,
                         "median": mid, "low95": low, "high95": high,
                         "mean": float(np.nanmean(values)) if defined else np.nan,
                         "trials_defined": defined, "trials_undefined": values.size - defined, "interval": interval})
    return Table({key: [row[key] for row in rows] for key in rows[0]})
