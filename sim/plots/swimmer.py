"""A swimmer plot of one virtual trial: each patient's course from enrolment, with its events marked."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import offset_copy

from sim.stats.key_outcomes import trial_slices
from sim.output.run_folder import RunData
from sim.stats.kaplan_meier import DAYS_PER_MONTH
from sim.plots.style import GRADE_COLOURS, footnote, house_style, new_figure, save

NAME = "swimmer"
RESPONSE_COLOURS = {"mrd_neg_cr": "#27ae60", "mrd_pos_cr": "#a9dfbf", "no_cr": "#f0b27a", "": "#d5d8dc"}
RESPONSE_LABELS = {"mrd_neg_cr": "after infusion: CR, MRD-negative", "mrd_pos_cr": "after infusion: CR, MRD-positive",
                   "no_cr": "after infusion: no CR", "": "after infusion: not yet assessed"}
DEATH_COLOURS = {"disease": "#17202a", "infection": "#7d3c98", "tma": "#935116", "transplant": "#1f618d",
                 "toxicity": "#c0392b"}
DEATH_WORDS = {"tma": "TMA", "toxicity": "CRS/ICANS"}  # as a reader says them (else the cause itself)
END_OFFSET = 6  # points: a mark at the end of a bar sits just after it, so an event close before it stays visible
BEFORE_COLOUR = "#aab7b8"
RELAPSED_COLOUR = "#f1948a"
MARKERS = {  # event: (marker, colour, size, label)
    "transplant": ("^", "#2e86c1", 8, "transplant"),
    "relapse": ("X", "#c0392b", 9, "relapse"),
    "withdrawal": ("x", "#566573", 8, "withdrew before infusion"),
    "failed": ("o", "none", 7, "product failed, not infused"),
    "alive": (">", "#566573", 6, "alive at cut-off"),
}


def representative_trial(run: RunData) -> int:
    """The trial shown: the first one (trial 0 has the same patients in every scenario run on the seed)."""
    return int(np.min(run.patients["trial"]))


def draw(run: RunData, folder: Path, trial: int | None = None) -> list[Path]:
    """One bar per enrolled patient of ``trial`` (default: the first), longest follow-up at the top."""
    with house_style():
        return save(swimmer_figure(run, trial), folder, NAME)


def swimmer_figure(run: RunData, trial: int | None = None):
    """The swimmer plot as a figure (see :func:`draw`)."""
    trial = representative_trial(run) if trial is None else trial
    t = dict(trial_slices(run.patients))[trial]
    order = np.argsort(t["t_end"] - t["t_enrol"], kind="stable")
    with house_style():
        figure = new_figure(10, max(4.5, 0.3 * len(order) + 2.2))
        ax = figure.subplots()
        for row, i in enumerate(order):
            _patient(ax, row, {name: column[i] for name, column in t.items()})
        ax.set_yticks(range(len(order)), [f"P{i + 1}" for i in order], fontsize=8)
        ax.set_ylim(-0.7, len(order) - 0.3)
        ax.set_xlim(0, ax.get_xlim()[1] * 1.03)
        ax.grid(axis="y", visible=False)
        ax.set_xlabel("months since enrolment")
        ax.set_ylabel("virtual patient (P1 enrolled first)")
        ax.set_title(f"{run.title}: virtual trial {trial} of {run.manifest['trials']}, one bar per enrolled patient")
        ax.legend(handles=_legend(t), loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
        footnote(figure, "Bars run from enrolment to death, leaving the trial, or the data cut-off: grey until "
                 "infusion, then coloured by the response at assessment,\nred after relapse. Circles: CRS onset, "
                 "coloured by ASTCT grade. Longest follow-up at the top.")
        return figure


def _months(t: dict, column: str) -> float:
    return (t[column] - t["t_enrol"]) / DAYS_PER_MONTH


def _patient(ax, row: int, t: dict) -> None:
    end = _months(t, "t_end")
    infused = not np.isnan(t["t_infusion"])
    start_after = _months(t, "t_infusion") if infused else end
    ax.barh(row, start_after, left=0, height=0.6, color=BEFORE_COLOUR)
    if infused:
        relapse = _months(t, "t_relapse") if not np.isnan(t["t_relapse"]) else end
        colour = RESPONSE_COLOURS.get(t["response"], RESPONSE_COLOURS[""])
        ax.barh(row, relapse - start_after, left=start_after, height=0.6, color=colour)
        ax.barh(row, end - relapse, left=relapse, height=0.6, color=RELAPSED_COLOUR)
    if t["crs_grade"] > 0 and not np.isnan(t["t_crs_onset"]):
        ax.plot(_months(t, "t_crs_onset"), row, "o", color=GRADE_COLOURS[int(t["crs_grade"])], markersize=7,
                markeredgecolor="#333333", markeredgewidth=0.6)
    _events(ax, row, t, end)


def _events(ax, row: int, t: dict, end: float) -> None:
    for event, column in (("transplant", "t_transplant"), ("relapse", "t_relapse"), ("withdrawal", "t_withdrawal")):
        if not np.isnan(t[column]):
            marker, colour, size, _ = MARKERS[event]
            ax.plot(_months(t, column), row, marker, color=colour, markersize=size, zorder=4)
    after_end = offset_copy(ax.transData, fig=ax.figure, x=END_OFFSET, units="points")
    if t["final_state"] == "not_infused":
        ax.plot(end, row, "o", markerfacecolor="none", markeredgecolor="#566573", markersize=7, transform=after_end)
    if not np.isnan(t["t_death"]):
        ax.plot(end, row, "s", color=DEATH_COLOURS.get(t["death_cause"], "#17202a"), markersize=7,
                transform=after_end, zorder=3)
    elif np.isnan(t["t_withdrawal"]) and t["final_state"] != "not_infused":
        marker, colour, size, _ = MARKERS["alive"]
        ax.plot(end, row, marker, color=colour, markersize=size, transform=after_end)


def occurring(t: dict) -> dict[str, set]:
    """What happened in a trial's columns ``t``: response categories of the infused, CRS grades, marked
    events and death causes; the legend lists only these."""
    infused = ~np.isnan(np.asarray(t["t_infusion"], dtype=float))
    alive = np.isnan(t["t_death"]) & np.isnan(t["t_withdrawal"]) & (np.asarray(t["final_state"]) != "not_infused")
    events = {"transplant": ~np.isnan(t["t_transplant"]), "relapse": ~np.isnan(t["t_relapse"]),
              "withdrawal": ~np.isnan(t["t_withdrawal"]), "failed": np.asarray(t["final_state"]) == "not_infused",
              "alive": alive}
    crs = np.asarray(t["crs_grade"])[~np.isnan(np.asarray(t["t_crs_onset"], dtype=float))]
    return {"response": set(np.asarray(t["response"])[infused]), "crs": {int(g) for g in crs if g > 0},
            "events": {name for name, happened in events.items() if np.any(happened)},
            "deaths": set(np.asarray(t["death_cause"])[~np.isnan(t["t_death"])])}


def _legend(t: dict) -> list:
    seen = occurring(t)
    handles = [Patch(color=BEFORE_COLOUR, label="before infusion")]
    handles += [Patch(color=RESPONSE_COLOURS[r], label=RESPONSE_LABELS[r]) for r in RESPONSE_COLOURS
                if r in seen["response"]]
    handles += [Line2D([], [], marker="o", linestyle="", color=GRADE_COLOURS[g], markeredgecolor="#333333",
                       markersize=7, label=f"CRS grade {g}") for g in GRADE_COLOURS if g in seen["crs"]]
    handles += [Patch(color=RELAPSED_COLOUR, label="after relapse")] if "relapse" in seen["events"] else []
    handles += [Line2D([], [], marker=m, linestyle="", color=c if c != "none" else "#566573", markersize=s,
                       markerfacecolor=c if c != "none" else "none", label=label)
                for event, (m, c, s, label) in MARKERS.items() if event in seen["events"]]
    handles += [Line2D([], [], marker="s", linestyle="", color=c, markersize=7,
                       label=f"death: {DEATH_WORDS.get(cause, cause)}")
                for cause, c in DEATH_COLOURS.items() if cause in seen["deaths"]]
    return handles
