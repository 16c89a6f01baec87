"""The scenario comparison chart: each scenario's effect on the key outcomes, against the base.

One panel per key outcome that some scenario moves; outcomes equal in every trial of every arm get
one line under the chart instead.  The headline interval is the effect over parameter uncertainty
(:mod:`sim.analyses.effects`: 2.5th-97.5th percentile over parameter draws of the expected
difference); beside it, the Monte Carlo interval of the mean effect (simulation precision) and the
spread of the difference between two real trials (different patients in each arm).  Without the effect analysis (``--base-values-only``) the
chart shows the paired difference at the base values, labelled as such.  Proportions are drawn in
percentage points; arms are named by their scenario's title.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from sim.analyses.comparison_files import moved
from sim.table import Table
from sim.plots.style import footnote, house_style, new_figure, save
from sim.stats.key_outcomes import KEY_OUTCOMES

NAME = "comparison"
HEADLINE = ("crs_g3_rate", "cr_rate", "n_withdrawn", "transplant_rate", "os_12m", "lfs_12m", "nrm_12m")
NOT_OUTCOMES = ("n_enrolled",)  # a design fact: never an effect
EFFECT_COLOUR, MC_COLOUR, TRIAL_COLOUR, BASE_COLOUR = "#c0392b", "#111111", "#9a9a9a", "#1f5a96"
SCALE = {"proportion": (100.0, "percentage points")}
LABEL_WIDTH, PANEL_WIDTH = 30, 5.2


def draw(table: Table, folder: Path, meta: dict) -> list[Path]:
    """Draw the comparison chart of ``table`` (``comparison.csv``) with the arms of ``meta`` (``comparison.json``).

    Parameters
    ----------
    table : sim.table.Table
        The comparison table, one row per scenario and outcome.
    folder : pathlib.Path
        Where to write ``comparison.png`` and ``comparison.svg``.
    meta : dict
        The comparison's metadata: its arms (label, title), trials and effect settings.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    with house_style():
        return save(comparison_figure(table, meta), folder, NAME)


def comparison_figure(table: Table, meta: dict) -> Figure:
    """The comparison chart as a figure (see :func:`draw`)."""
    names, same = shown_outcomes(table), identical_outcomes(table)
    labels = [arm["label"] for arm in meta["scenarios"]]
    arm_names = dict(zip(labels, short_titles([arm_title(a) for a in meta["scenarios"]])))
    effects = "effect_low95" in table.columns and np.any(np.isfinite(np.asarray(table["effect_low95"], float)))
    columns = 1 if len(names) <= 1 else 2
    rows = max(1, -(-len(names) // columns))
    per_arm = 0.16 * max(t.count("\n") + 1 for t in arm_names.values()) + 0.3
    figure = new_figure(3.2 + PANEL_WIDTH * columns, 2.2 + rows * (per_arm * len(labels) + 1.0))
    figure.get_layout_engine().set(hspace=0.06)
    grid = figure.add_gridspec(rows + 1, columns, height_ratios=[0.35, *[1.0] * rows])
    legend = figure.add_subplot(grid[0, :])
    legend.set_axis_off()
    legend.legend(handles=_legend_handles(effects), loc="center", ncol=3 if effects else 2, frameon=False)
    by_key = {(r["scenario"], r["outcome"]): r for r in table.rows()}
    panels = {}
    for index, name in enumerate(names):
        ax = figure.add_subplot(grid[1 + index // columns, index % columns])
        _panel(ax, [by_key.get((label, name)) for label in labels], name, effects)
        ax.set_yticks(range(len(labels)), [arm_names[label] for label in labels] if index % columns == 0 else [],
                      fontsize=8.5)
        panels[name] = ax
    share_scales(panels)
    figure.suptitle(_title(meta))
    flagged = any(row.get("zero_event_parameters") for row in table.rows() if row["outcome"] in names)
    footnote(figure, _notes(meta, same, effects, flagged))
    return figure


def shown_outcomes(table: Table) -> list[str]:
    """The key outcomes some scenario moves, in the table's order (the order the terminal prints them)."""
    moving = {row["outcome"] for row in table.rows() if _moves(row)}
    order = dict.fromkeys(row["outcome"] for row in table.rows())
    return [name for name in order if name in moving and name in KEY_OUTCOMES and name not in NOT_OUTCOMES]


def share_scales(panels: dict) -> None:
    """One x scale for every panel of an outcome kind (rates, counts, days, ...), so that equal effects look
    equal: each kind's panels take the union of their limits."""
    kinds: dict[str, list] = {}
    for name, ax in panels.items():
        kinds.setdefault(_scale(name)[1], []).append(ax)
    for axes in kinds.values():
        limits = np.array([ax.get_xlim() for ax in axes])
        for ax in axes:
            ax.set_xlim(limits[:, 0].min(), limits[:, 1].max())


def identical_outcomes(table: Table) -> list[str]:
    """The headline outcomes equal in every trial of every arm (no panel: one line says so)."""
    present = {row["outcome"] for row in table.rows() if row["trials_paired"] > 0}
    moving = {row["outcome"] for row in table.rows() if _moves(row)}
    return [name for name in HEADLINE if name in present and name not in moving]


def arm_title(arm: dict) -> str:
    """An arm's scenario title, else its trial's title, else its label."""
    return arm.get("title") or arm.get("trial_title") or arm["label"]


def short_titles(titles: list[str], width: int = LABEL_WIDTH) -> list[str]:
    """Titles without the trial prefix they all share (``"CLL-1: "``), wrapped to at most three lines."""
    prefixes = {t.split(": ", 1)[0] for t in titles if ": " in t}
    strip = len(prefixes) == 1 and all(": " in t for t in titles)
    cut = [t.split(": ", 1)[1] if strip else t for t in titles]
    return ["\n".join(textwrap.wrap(t, width, max_lines=3, placeholder=" ...")) for t in cut]


def _moves(row: dict) -> bool:
    effect = [row.get(name, math.nan) for name in ("effect_low95", "effect_high95")]
    return moved(row) or any(isinstance(v, float) and np.isfinite(v) and v != 0 for v in effect)


def _scale(name: str) -> tuple[float, str]:
    unit = KEY_OUTCOMES[name].unit
    return SCALE.get(unit, (1.0, unit))


def _panel(ax, rows: list[dict | None], name: str, effects: bool) -> None:
    """One outcome: a row per scenario, its difference from the base with the intervals."""
    factor, unit = _scale(name)
    for y, row in enumerate(rows):
        if row is None:
            continue
        if not _moves(row):
            ax.plot(0, y, "o", color=MC_COLOUR, markersize=4)
            ax.annotate("same in every trial", (0, y), xytext=(5, 3), textcoords="offset points", fontsize=7.5,
                        color="#555555")
        elif effects:
            _effect_row(ax, y, row, factor)
        else:
            _base_values_row(ax, y, row, factor)
    ax.axvline(0, color="#333333", linewidth=0.8)
    ax.set_ylim(len(rows) - 0.4, -0.6)
    ax.set_title(textwrap.fill(KEY_OUTCOMES[name].label, 52, break_on_hyphens=False), fontsize=9.5)
    ax.set_xlabel(f"scenario - base ({unit})", fontsize=8.5)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
    ax.grid(axis="y", visible=False)


def _effect_row(ax, y: float, row: dict, factor: float) -> None:
    low, high, median = (factor * row[k] for k in ("effect_low95", "effect_high95", "effect_median"))
    ax.plot([low, high], [y, y], color=EFFECT_COLOUR, linewidth=6, solid_capstyle="butt", alpha=0.55)
    ax.plot(median, y, "o", color=EFFECT_COLOUR, markersize=6, markerfacecolor="white", markeredgewidth=1.6)
    ax.errorbar(factor * row["effect_mean"], y, xerr=[[factor * (row["effect_mean"] - row["mc_low95"])],
                [factor * (row["mc_high95"] - row["effect_mean"])]], fmt="none", ecolor=MC_COLOUR, elinewidth=1.4,
                capsize=3)
    ax.plot([factor * row["two_trials_low95"], factor * row["two_trials_high95"]], [y + 0.3] * 2, color=TRIAL_COLOUR,
            linewidth=1.6)
    if row.get("zero_event_parameters"):
        ax.annotate("! zero events", (high, y), xytext=(4, 0), textcoords="offset points", va="center", fontsize=7.5,
                    color=EFFECT_COLOUR)


def _base_values_row(ax, y: float, row: dict, factor: float) -> None:
    ax.plot([factor * row["diff_low95"], factor * row["diff_high95"]], [y, y], color=BASE_COLOUR, linewidth=4,
            solid_capstyle="butt")
    ax.plot(factor * row["diff_mean"], y, "o", color=BASE_COLOUR, markersize=6)
    ax.plot([factor * row["two_trials_low95"], factor * row["two_trials_high95"]], [y + 0.3] * 2, color=TRIAL_COLOUR,
            linewidth=1.6)


def _legend_handles(effects: bool) -> list[Line2D]:
    trial = Line2D([], [], color=TRIAL_COLOUR, linewidth=1.6, label="two real trials (other patients in each arm): 95% of their differences")
    if not effects:
        return [Line2D([], [], color=BASE_COLOUR, linewidth=4, marker="o",
                       label="mean difference at the base values, 95% Monte Carlo error (no parameter uncertainty)"),
                trial]
    return [Line2D([], [], color=EFFECT_COLOUR, linewidth=6, alpha=0.55, marker="o", markerfacecolor="white",
                   label="effect, median and 95% over parameter uncertainty"),
            Line2D([], [], color=MC_COLOUR, linewidth=1.4, marker="|", markersize=7,
                   label="Monte Carlo error of the mean effect (95%)"),
            trial]


def _title(meta: dict) -> str:
    base = meta["base"]
    trial = base.get("trial_title")
    against = short_titles([arm_title(base)], 90)[0].replace("\n", " ") if base.get("title") else "the trial as designed"
    return (f"{trial + chr(10) if trial else ''}Scenarios against {against}")


def _notes(meta: dict, same: list[str], effects: bool, flagged: bool) -> str:
    lines = []
    if same:
        lines.append("Same in every virtual trial of every arm (no panel): "
                     + "; ".join(KEY_OUTCOMES[name].label for name in same) + ".")
    if effects and meta.get("effect"):
        lines.append(f"{meta['effect']['draws']} parameter draws x {meta['effect']['inner_trials']} virtual trials per "
                     "draw and arm; every arm shares the draws and the patients' luck (common random numbers)."
                     + ("  '! zero events': the effect rests on a parameter estimated from no observed event."
                        if flagged else ""))
    else:
        lines.append(f"{meta['trials']} virtual trials per arm at the base parameter values, every arm with the same "
                     "patients' luck (common random numbers).")
    return "\n".join(textwrap.fill(line, 170) for line in lines)
