"""Facility use over calendar time (manufacturing slots, ICU beds) and the queue waits for them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.model.timeline import ICU_MIN_GRADE, icu_release
from sim.stats.key_outcomes import facility_column, trial_slices
from sim.output.run_folder import RunData
from sim.plots.style import COLOURS, footnote, house_style, new_figure, save

NAME = "resources"
GRID_POINTS = 400
EXAMPLE_TRIALS = 3  # single trials drawn beside the mean
FACILITIES = {"manufacturing_slots": "manufacturing slots", "icu_beds": "ICU beds"}
WAITS = {"manufacturing_slots": "mfg_wait", "icu_beds": "icu_wait"}


def use_intervals(t: dict[str, np.ndarray], facility: str) -> tuple[np.ndarray, np.ndarray]:
    """(start, end) days of each use of ``facility`` in one trial, ends cut at the data cut-off.

    A manufacturing slot is held from the start of manufacturing to its end or to withdrawal; an
    ICU bed from entry to the end of the CRS episode or to death, by the model's own
    rule (:func:`sim.model.timeline.icu_release`), so the picture shows the uses ``facilities.csv`` counts.
    """
    cutoff = t["cutoff"]
    if facility == "manufacturing_slots":
        start, end = t["t_mfg_start"], np.fmin(t["t_mfg_end"], t["t_withdrawal"])
    else:
        start = t["t_icu_start"]
        end = icu_release(start, t["t_crs_end"] - t["t_crs_onset"], t["t_death"])
    used = ~np.isnan(start)
    end = np.where(np.isnan(end), cutoff, np.fmin(end, cutoff))
    return start[used], end[used]


def occupancy(run: RunData, facility: str, grid_days: np.ndarray) -> np.ndarray:
    """Units of ``facility`` in use at each grid day: a row per trial, NaN after the trial's cut-off."""
    rows = []
    for _, t in trial_slices(run.patients):
        start, end = use_intervals(t, facility)
        busy = ((start[:, None] <= grid_days) & (grid_days < end[:, None])).sum(axis=0).astype(float)
        rows.append(np.where(grid_days <= t["cutoff"][0], busy, np.nan))
    return np.array(rows)


def mean_where_shown(curves: np.ndarray, shown: np.ndarray) -> np.ndarray:
    """Mean over the trials defined at each column where ``shown``; NaN elsewhere."""
    defined = ~np.isnan(curves)
    counts = defined.sum(axis=0)
    sums = np.where(defined, curves, 0.0).sum(axis=0)
    return np.where(shown & (counts > 0), sums / np.maximum(counts, 1), np.nan)


def draw(run: RunData, folder: Path) -> list[Path]:
    """Top: units in use over time (mean over trials, a few single trials, capacity); bottom: queue waits."""
    with house_style():
        return save(resources_figure(run), folder, NAME)


def resources_figure(run: RunData):
    """The facilities picture as a figure (see :func:`draw`)."""
    days = np.linspace(0.0, float(np.nanmax(run.patients["cutoff"])), GRID_POINTS)
    queued = any(np.nansum(run.patients[WAITS[f]]) > 0 for f in FACILITIES)
    with house_style():
        figure = new_figure(11, 7.5 if queued else 4.4)
        axes = np.asarray(figure.subplots(2 if queued else 1, len(FACILITIES))).reshape(-1, len(FACILITIES))
        for column, (facility, label) in enumerate(FACILITIES.items()):
            _occupancy_panel(axes[0, column], run, facility, label, days)
            if queued:
                _wait_panel(axes[1, column], run, facility, label)
        figure.suptitle(f"{run.title}: facilities, {run.manifest['trials']} virtual trials")
        footnote(figure, "Units in use on each day since the first enrolment: the mean over the trials not yet at "
                 "their cut-off (while at least half are), and single trials.\n" + (
                     "Bottom: the waits of the uses that queued, all trials pooled; uses with no wait are counted in the note." if queued else
                     "No patient waited for a manufacturing slot or an ICU bed."))
        return figure


def _capacity(run: RunData, facility: str) -> float:
    capacity = facility_column(run.facilities, facility, "capacity")
    return float(capacity[0]) if capacity.size else np.inf


def _occupancy_panel(ax, run: RunData, facility: str, label: str, days: np.ndarray) -> None:
    curves = occupancy(run, facility, days)
    shown = (~np.isnan(curves)).mean(axis=0) >= 0.5
    colour = COLOURS[facility]
    for k in range(min(EXAMPLE_TRIALS, len(curves))):
        ax.step(days, curves[k], where="post", color=colour, alpha=0.35, linewidth=0.9,
                label="single virtual trials" if k == 0 else None)
    ax.plot(days, mean_where_shown(curves, shown), color=colour, linewidth=2.4, label="mean over trials")
    capacity = _capacity(run, facility)
    if np.isfinite(capacity):
        ax.axhline(capacity, color="#222222", linestyle="--", linewidth=1.3, label=f"capacity: {capacity:g}")
    title = f"capacity {capacity:g}" if np.isfinite(capacity) else "capacity unlimited"
    ax.set_title(f"{label[0].upper() + label[1:]} in use ({title})")
    ax.set_xlabel("days since the first enrolment")
    ax.set_ylabel(f"{label} in use")
    examples = curves[:EXAMPLE_TRIALS]
    top = max(np.nanmax(examples) if np.any(~np.isnan(examples)) else 1, capacity if np.isfinite(capacity) else 0)
    ax.set_ylim(0, top + 0.8)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_xlim(0, days[shown].max() if shown.any() else days.max())
    if np.any(np.nan_to_num(curves) > 0):
        ax.legend(loc="upper right", frameon=True, framealpha=0.9, edgecolor="none")
        return
    ax.set_yticks([0, 1])  # whole units only: nothing was in use, so nothing to explain in a legend
    ax.text(0.5, 0.5, f"no patient needed {label}\nin any virtual trial", transform=ax.transAxes,
            ha="center", va="center", color="#555555", fontsize=11)


def _wait_panel(ax, run: RunData, facility: str, label: str) -> None:
    waits = run.patients[WAITS[facility]]
    waits = waits[~np.isnan(waits)]
    queued = waits[waits > 0]
    ax.set_title(f"Wait for {label}")
    ax.set_xlabel("days waited")
    ax.set_ylabel("uses that waited (all trials)")
    if queued.size == 0:
        ax.text(0.5, 0.5, f"Wait for {label}: none\n({waits.size} uses over all trials, no patient queued)",
                transform=ax.transAxes, ha="center", va="center", color="#555555", fontsize=11)
        ax.set_axis_off()
        return
    ax.hist(queued, bins=30, color=COLOURS[facility], alpha=0.8)  # the uses with no wait are counted in the note
    never = f"\n{never_had_a_bed(run.patients)} never had one: the CRS or the data ended first" \
        if facility == "icu_beds" else ""
    ax.text(0.98, 0.95, f"{waits.size - queued.size} of {waits.size} uses with no wait (not drawn)\n"
            f"{queued.size} waited: mean {queued.mean():.1f} days, longest {waits.max():.0f}\n"
            f"mean over all uses {waits.mean():.1f} days" + never,
            transform=ax.transAxes, ha="right", va="top")


def never_had_a_bed(t: dict[str, np.ndarray]) -> int:
    """Patients whose CRS of grade 3 or more began by the cut-off and who never entered intensive care: they
    left the queue when the CRS ended, or were still in it at the cut-off."""
    needed = (t["crs_grade"] >= ICU_MIN_GRADE) & ~np.isnan(t["t_crs_onset"])
    return int(np.count_nonzero(needed & np.isnan(t["t_icu_start"])))
