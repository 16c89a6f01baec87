"""Kaplan-Meier overall and leukaemia-free survival from infusion, with a band across virtual trials."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.stats.batch import Batch
from sim.stats.endpoints import for_infused, leukaemia_free_survival, overall_survival
from sim.output.run_folder import RunData
from sim.stats.kaplan_meier import DAYS_PER_MONTH, km_survival_at, survival_at
from sim.output.paper_view import shows_paper
from sim.plots.overlay import crude_survival, reported_label
from sim.plots.style import COLOURS, band, footnote, house_style, new_figure, percentile_band, save

NAME = "survival"
GRID_POINTS = 300
ROWS = (6, 0.7, 1.4)  # heights of the curves, the numbers at risk and the legend (under the curves, never on them)
BAND_DEFINED = 0.9  # the band is drawn where at least this share of trials still has follow-up
ENDPOINTS = {"os": ("Overall survival", overall_survival), "lfs": ("Leukaemia-free survival", leukaemia_free_survival)}


def survival_curves(run: RunData, endpoint: str, grid_days: np.ndarray) -> np.ndarray:
    """Kaplan-Meier survival of ``endpoint`` ('os' or 'lfs') at ``grid_days``: a row per virtual trial."""
    function = ENDPOINTS[endpoint][1]
    batch = Batch.from_table(run.patients)
    return survival_at(*function(batch), batch.present & batch.infused, grid_days)


def pooled_curve(run: RunData, endpoint: str, grid_days: np.ndarray) -> np.ndarray:
    """Kaplan-Meier survival of ``endpoint`` over every virtual patient of every trial: the model's curve."""
    time, event = for_infused(ENDPOINTS[endpoint][1], run.patients.columns)
    return km_survival_at(time, event, grid_days)


def grid(run: RunData) -> np.ndarray:
    """Days from infusion up to the longest follow-up of any infused patient."""
    t = run.patients
    follow = (t["t_end"] - t["t_infusion"])[~np.isnan(t["t_infusion"])]
    return np.linspace(0.0, float(follow.max()) if follow.size else 1.0, GRID_POINTS)


def draw(run: RunData, folder: Path) -> list[Path]:
    """Two panels, OS and LFS: median and 95% band of the trials' Kaplan-Meier curves; reported points."""
    with house_style():
        return save(survival_figure(run), folder, NAME)


def survival_figure(run: RunData):
    """The survival picture as a matplotlib figure (drawn in the house style by :func:`draw`)."""
    days = grid(run)
    months = days / DAYS_PER_MONTH
    paper = shows_paper(run.summary.get("figures", []), run.manifest.get("scenario"))
    crude = crude_survival(run.seeds) if paper else None
    with house_style():
        figure = new_figure(10, 6.6)
        rows = figure.add_gridspec(len(ROWS), len(ENDPOINTS), height_ratios=ROWS)
        first = None
        for column, endpoint in enumerate(ENDPOINTS):
            ax = figure.add_subplot(rows[0, column], sharey=first)
            first = first or ax
            _panel(ax, endpoint, months, survival_curves(run, endpoint, days), pooled_curve(run, endpoint, days), crude,
                   reported_label(bool(run.manifest.get("scenario"))))
            _at_risk(ax, figure.add_subplot(rows[1, column], sharex=ax), run, endpoint)
            _legend_below(ax, figure.add_subplot(rows[2, column]))
        figure.suptitle(f"{run.title}: survival after infusion, {run.manifest['trials']} virtual trials")
        footnote(figure, "Line: Kaplan-Meier over every virtual patient (the model's curve). Band: 2.5th-97.5th "
                 "percentiles of the trials' own Kaplan-Meier estimates,\nwhere at least 90% of the trials are still "
                 "in follow-up (one trial is as large as the real one, so its curve varies this much by chance).\n"
                 "At risk: patients still followed and event-free at that time, median over virtual trials.")
        return figure


def _panel(ax, endpoint: str, months: np.ndarray, curves: np.ndarray, pooled: np.ndarray, crude, label: str) -> None:
    title = ENDPOINTS[endpoint][0]
    low, _, high = percentile_band(curves, BAND_DEFINED)
    band(ax, months, low, pooled, high, COLOURS[endpoint], "simulated, all virtual patients")
    ax.plot([], [], color=COLOURS[endpoint], alpha=0.25, linewidth=8, label="95% of single virtual trials")
    if crude is not None:
        _overlay(ax, endpoint, crude, label)
    ax.set_title(title)
    ax.set_xlabel("months since infusion")
    ax.set_ylabel("probability")
    ax.set_ylim(-0.02, 1.02)
    shown = ~np.isnan(pooled)
    ax.set_xlim(0, months[shown].max() * 1.02 if shown.any() else 1)



def at_risk(run: RunData, endpoint: str, months: np.ndarray) -> np.ndarray:
    """Patients still at risk of ``endpoint`` at each time in ``months``: the median over virtual trials,
    a count some trial had (inverted empirical CDF)."""
    time, _ = ENDPOINTS[endpoint][1](run.patients.columns)
    time_months = np.asarray(time, dtype=float) / DAYS_PER_MONTH
    _, trial = np.unique(run.patients["trial"], return_inverse=True)
    trials = int(trial.max()) + 1 if trial.size else 1
    counts = [np.bincount(trial, weights=time_months >= m, minlength=trials) for m in months]
    return np.array([np.percentile(c, 50, method="inverted_cdf") for c in counts]).reshape(len(months))


def _at_risk(ax, row, run: RunData, endpoint: str) -> None:
    """A numbers-at-risk row in ``row`` (an axes under the panel, sharing its x axis), at the panel's x ticks."""
    left, right = ax.get_xlim()
    ticks = [tick for tick in ax.get_xticks() if left <= tick <= right]
    row.set_axis_off()
    transform = row.get_xaxis_transform()
    row.text(left, 1.0, "number at risk (median per virtual trial)", transform=transform, ha="left", va="top",
             fontsize=8, color="#555555")
    for tick, count in zip(ticks, at_risk(run, endpoint, np.asarray(ticks))):
        row.text(tick, 0.3, f"{count:.0f}", transform=transform, ha="center", va="top", fontsize=8)


def _legend_below(ax, key) -> None:
    """The panel's legend in ``key``, an empty axes under it."""
    key.set_axis_off()
    key.legend(*ax.get_legend_handles_labels(), loc="upper left", frameon=False, fontsize=8, borderaxespad=0)


def _overlay(ax, endpoint: str, crude, reported: str) -> None:
    n = int(round(crude.patients))
    ax.axvline(crude.months, color=COLOURS["grey"], linestyle=":", linewidth=1,
               label=f"{reported} median follow-up, {crude.months:g} months")
    if endpoint == "lfs":
        ax.plot([crude.months], [crude.leukaemia_free], "D", color=COLOURS["reported"], markersize=7,
                label=f"{reported}: in remission at last follow-up ({crude.leukaemia_free * n:.0f}/{n}, crude)")
        return
    ax.errorbar([crude.months], [(crude.alive_low + crude.alive_high) / 2],
                yerr=[[(crude.alive_high - crude.alive_low) / 2]] * 2, fmt="D", color=COLOURS["reported"],
                markersize=7, capsize=4,
                label=f"{reported}: alive at last follow-up, {crude.alive_low * n:.0f}-{crude.alive_high * n:.0f}/{n} "
                "(crude;\nvital status after relapse not reported)")
