"""Cumulative incidence of relapse, non-relapse mortality and transplant (Aalen-Johansen), across trials."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.stats.batch import Batch
from sim.stats.competing_risks import aalen_johansen, cumulative_incidence
from sim.stats.endpoints import (NON_RELAPSE_DEATH, NON_RELAPSE_DEATH_CAUSES, RELAPSE, TRANSPLANT, for_infused,
                                 relapse_and_nrm, transplant_competing)
from sim.output.run_folder import RunData
from sim.stats.kaplan_meier import DAYS_PER_MONTH
from sim.plots.style import COLOURS, band, footnote, house_style, new_figure, percentile_band, save
from sim.plots.survival_curves import BAND_DEFINED, grid

NAME = "cumulative_incidence"
CAUSE_WORDS = {"tma": "TMA", "toxicity": "CRS/ICANS"}  # death causes as a reader says them (else the cause itself)
NRM_CAUSES = ", ".join(CAUSE_WORDS.get(cause, cause) for cause in NON_RELAPSE_DEATH_CAUSES)
CURVES = {  # name: (label, endpoint, cause)
    "relapse": ("relapse or no remission", relapse_and_nrm, RELAPSE),
    "nrm": (f"non-relapse mortality\n({NRM_CAUSES})", relapse_and_nrm, NON_RELAPSE_DEATH),
    "transplant": ("consolidative transplant", transplant_competing, TRANSPLANT),
}
CAUSES = 2  # each endpoint has two competing causes (see sim.stats.competing_risks)


def incidence_curves(run: RunData, name: str, grid_days: np.ndarray) -> np.ndarray:
    """Aalen-Johansen cumulative incidence of one curve at ``grid_days``: a row per virtual trial."""
    _, endpoint, cause = CURVES[name]
    batch = Batch.from_table(run.patients)
    return cumulative_incidence(*endpoint(batch), batch.present & batch.infused, CAUSES).rows_at(grid_days, cause)


def pooled_incidence(run: RunData, name: str, grid_days: np.ndarray) -> np.ndarray:
    """Aalen-Johansen cumulative incidence over every virtual patient of every trial."""
    _, endpoint, cause = CURVES[name]
    time, causes = for_infused(endpoint, run.patients.columns)
    return aalen_johansen(time, causes, CAUSES).at(grid_days, cause)


def draw(run: RunData, folder: Path) -> list[Path]:
    """One panel per curve: the three cumulative incidence curves with their bands across virtual trials."""
    with house_style():
        return save(incidence_figure(run), folder, NAME)


def incidence_figure(run: RunData):
    """The cumulative incidence picture as a figure (see :func:`draw`)."""
    days = grid(run)
    months = days / DAYS_PER_MONTH
    with house_style():
        figure = new_figure(12, 4.9)
        rows = figure.add_gridspec(2, len(CURVES), height_ratios=(6, 0.8))
        axes = [figure.add_subplot(rows[0, column]) for column in range(len(CURVES))]
        for column, (ax, (name, (label, _, _))) in enumerate(zip(axes, CURVES.items())):
            low, _, high = percentile_band(incidence_curves(run, name, days), BAND_DEFINED)
            band(ax, months, low, pooled_incidence(run, name, days), high, COLOURS[name], "all virtual patients")
            ax.plot([], [], color=COLOURS[name], alpha=0.25, linewidth=8, label="95% of single virtual trials")
            ax.set_title(label[0].upper() + label[1:])
            ax.set_xlabel("months since infusion")
            ax.set_ylim(-0.02, 1.02)
            ax.set_xlim(0, months.max())
            ax.set_ylabel("cumulative incidence (probability)" if column == 0 else "")
            key = figure.add_subplot(rows[1, column])
            key.set_axis_off()  # the legend under its panel, never over a curve or a band
            key.legend(*ax.get_legend_handles_labels(), loc="upper left", frameon=False, borderaxespad=0)
        figure.suptitle(f"{run.title}: cumulative incidence after infusion, {run.manifest['trials']} virtual trials")
        footnote(figure, "Aalen-Johansen estimates. Relapse (or no remission at assessment) competes with non-relapse "
                 "death; transplant competes with relapse or death before it.\nLines: all virtual patients; bands: "
                 "2.5th-97.5th percentiles of single trials, where at least 90% of trials are still in follow-up.")
        return figure
