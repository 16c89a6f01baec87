"""The validation forest plot: each reported figure against the interval of its virtual trials.

Rows are grouped by role (input, calibrated, independent: :mod:`sim.analyses.validation`), each
group in its own tinted block headed by what a pass there can prove.  Counts are drawn as counts
of patients: a virtual trial's own denominator (how many it infused, transplanted, ...) varies
from trial to trial, so a count over the paper's denominator is no share of anything and could
read above 100%.  Each count row carries a grey track from 0 to the paper's denominator n, so
"k of n" is read off the axis.  Figures in days or months get their own axis within the group.

Figures every virtual trial reproduces exactly (the enrolled count: a design fact) carry no
information in an interval and are listed under the plot, as are the figures the model does not
produce.  Each row is labelled by the figure's own description (``says``), never its key.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import blended_transform_factory

from sim.analyses.validation import CALIBRATED, INDEPENDENT, INPUT, NOT_MODELLED, PASS, ROLES
from sim.output.paper_view import ENROLLED, shows_paper, with_rate
from sim.table import Table
from sim.plots.style import house_style, new_figure, save
from sim.stats.trial_figures import METRICS

PASS_COLOUR, FAIL_COLOUR, REPORTED_COLOUR, TRACK_COLOUR = "#1f7a4d", "#c0392b", "#111111", "#e3e3e3"
COUNT = "patients"
SHARE = "share"  # a proportion (a share of a subgroup, survival or incidence at a time): never on an axis of counts
SHARE_METRICS = tuple(name for name, metric in METRICS.items() if metric.kind == "share")
AXIS_LABELS = {
    COUNT: "patients (count in one virtual trial; grey track: 0 to the paper's denominator n)",
    SHARE: "proportion, 0 to 1 (a share of a subgroup, or survival or cumulative incidence at a time)",
    "days": "days after infusion",
    "months": "months",
}
ROLE_HEADINGS = {
    INPUT: "INPUTS - set a parameter, or given away by those that do: a pass only reproduces the input",
    CALIBRATED: "CALIBRATION TARGETS (or given away by them) - a pass shows the fit worked",
    INDEPENDENT: "INDEPENDENT - neither input nor target: these test the model",
}
ROLE_TINTS = {INPUT: "#f3f3f3", CALIBRATED: "#eef3f9", INDEPENDENT: "#edf6ef"}
COLUMNS = (("reported", 8), ("percentile", 88), ("result", 148))  # right-hand text columns, points from the axes
LABEL_WIDTH, PANEL_INCHES, WIDTH, LEGEND_ROWS = 44, 0.75, 11.0, 1.2
HEADING_WIDTH = 44  # characters of a group's heading per line: it must end before the columns' titles, and the
# plot area is about 4 inches wide (the labels, wrapped at LABEL_WIDTH, and the right-hand columns take the rest)
NOTE_WIDTH = 170  # characters of a note per line under the plot: it must fit the figure's width


def draw_validation(table: Table, title: str, folder: Path, name: str = "validation") -> list[Path]:
    """Draw the forest plot of a validation table and save it as ``name``.png and ``name``.svg.

    Parameters
    ----------
    table : sim.table.Table
        A table from :func:`sim.analyses.validation.validation_table`.
    title : str
        The figure's title (the trial and the run).
    folder : pathlib.Path
        Where to write the files.
    name : str, optional
        File name without extension.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    with house_style():
        return save(validation_figure(table, title), folder, name)


def validation_figure(table: Table, title: str) -> Figure:
    """The forest plot of a validation table, as a figure (see :func:`draw_validation`)."""
    rows = table.rows()
    drawn = [r for r in rows if r["status"] != NOT_MODELLED and not is_exact(r)]
    panels = panels_of(drawn)
    reported = shows_paper(rows, None)
    figure = new_figure(WIDTH, _height(panels, rows))
    grid = figure.add_gridspec(1 + len(panels), 1, height_ratios=[LEGEND_ROWS, *(len(p) + 1.0 for p in panels.values())])
    legend = figure.add_subplot(grid[0])
    legend.set_axis_off()
    legend.legend(handles=_legend_handles(reported), loc="center", ncol=3, frameon=False, handlelength=1.6,
                  columnspacing=1.4)
    count_limit = _count_limit(drawn)
    for index, ((role, unit), panel_rows) in enumerate(panels.items()):
        heading = ROLE_HEADINGS[role] if index == 0 or list(panels)[index - 1][0] != role else ""
        _panel(figure.add_subplot(grid[1 + index]), role, unit, panel_rows, heading, count_limit, reported,
               header=index == 0)
    figure.suptitle(title)
    figure.supxlabel(_notes(rows), fontsize=8, color="#555555", ha="left", x=0.01)
    return figure


def is_exact(row: dict) -> bool:
    """True for the enrolled count, and for any figure every virtual trial reproduces exactly."""
    low, high = row["sim_low95"], row["sim_high95"]
    return row["figure"] == ENROLLED or (low == high == row["reported"])


def unit_of(row: dict) -> str:
    """The axis a row is drawn on: a share for a proportion, patients for counts (with or without a
    denominator), else its unit."""
    if row.get("metric") in SHARE_METRICS:
        return SHARE
    return row["unit"] or COUNT


def panels_of(rows: list[dict]) -> dict[tuple[str, str], list[dict]]:
    """Rows by (role, unit): roles in order, counts first within a role, rows in table order."""
    units = [COUNT, *dict.fromkeys(unit_of(r) for r in rows if unit_of(r) != COUNT)]
    panels = {(role, unit): [r for r in rows if r["role"] == role and unit_of(r) == unit]
              for role in ROLES for unit in units}
    return {key: value for key, value in panels.items() if value}


def _count_limit(rows: list[dict]) -> float:
    """One upper limit for every count panel, so a count reads the same in every group."""
    counts = [r for r in rows if unit_of(r) == COUNT]
    values = [v for r in counts for v in (r["sim_high95"], r["reported"], r["of"]) if not math.isnan(v)]
    return max(values, default=1.0) * 1.04 + 0.3


def _height(panels: dict, rows: list[dict]) -> float:
    lines = sum(_label(r).count("\n") + 1 for p in panels.values() for r in p)
    notes = _notes(rows).count("\n") + 1
    return 2.0 + 0.2 * lines + 0.1 * sum(len(p) for p in panels.values()) + PANEL_INCHES * len(panels) + 0.16 * notes


def _panel(ax, role: str, unit: str, rows: list[dict], heading: str, count_limit: float, reported: bool,
           header: bool) -> None:
    """One block of rows sharing a role and an axis, top to bottom in table order."""
    y = np.arange(len(rows))[::-1]
    ax.set_facecolor(ROLE_TINTS[role])
    for yi, row in zip(y, rows):
        _row(ax, yi, row, unit == COUNT, reported)
    ax.set_yticks(y, [_label(row) for row in rows], fontsize=8.5)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(AXIS_LABELS.get(unit, unit), fontsize=8.5)
    if unit == COUNT:
        ax.set_xlim(-0.02 * count_limit, count_limit)
        ax.xaxis.get_major_locator().set_params(integer=True)
    if unit == SHARE:
        ax.set_xlim(-0.02, 1.0)
    if heading:
        ax.set_title(textwrap.fill(heading, HEADING_WIDTH), loc="left", fontsize=9.5, fontweight="bold",
                     color="#333333")
    _annotate(ax, y, rows, reported, header)


def _row(ax, y: float, row: dict, count: bool, reported: bool) -> None:
    colour = PASS_COLOUR if row["status"] == PASS else FAIL_COLOUR
    if count and not math.isnan(row["of"]):
        ax.plot([0, row["of"]], [y, y], color=TRACK_COLOUR, linewidth=9, solid_capstyle="butt", zorder=1)
    ax.plot([row["sim_low95"], row["sim_high95"]], [y, y], color=colour, linewidth=4, solid_capstyle="butt",
            alpha=0.6, zorder=2)
    ax.plot(row["sim_median"], y, "o", color=colour, markersize=5, markerfacecolor="white", markeredgewidth=1.5,
            zorder=3)
    if reported:
        ax.plot(row["reported"], y, "D", color=REPORTED_COLOUR, markersize=5.5, zorder=4)


def _label(row: dict) -> str:
    """The figure's own description, wrapped to at most two lines."""
    return "\n".join(textwrap.wrap(row["says"] or row["figure"], LABEL_WIDTH, max_lines=2, placeholder=" ..."))


def _annotate(ax, y: np.ndarray, rows: list[dict], reported: bool, header: bool) -> None:
    """The reported value, its percentile among the virtual trials and the result, right of each row."""
    where = blended_transform_factory(ax.transAxes, ax.transData)
    for yi, row in zip(y, rows):
        passed = row["status"] == PASS
        cells = {"reported": _reported_text(row) if reported else "",
                 "percentile": f"{row['percentile']:.0f}%" if reported else "",
                 "result": "pass" if passed else row["status"]}
        for column, offset in COLUMNS:
            ax.annotate(cells[column], (1.0, yi), xycoords=where, xytext=(offset, 0), textcoords="offset points",
                        va="center", ha="left", fontsize=8.5,
                        color=(PASS_COLOUR if passed else FAIL_COLOUR) if column == "result" else "#222222")
    if header:
        titles = {"reported": "reported", "percentile": "percentile of\nreported", "result": "result"}
        for column, offset in COLUMNS:
            ax.annotate(titles[column], (1.0, 1.0), xycoords="axes fraction", xytext=(offset, 4),
                        textcoords="offset points", va="bottom", ha="left", fontsize=8, color="#555555")


def _reported_text(row: dict) -> str:
    text = with_rate(row["reported"], row["of"])
    return text if row["unit"] in ("", None) else f"{text} {row['unit']}"


def _legend_handles(reported: bool) -> list:
    handles = [Line2D([], [], color=PASS_COLOUR, linewidth=4, alpha=0.6,
                      label="95% of virtual trials (parameter uncertainty and one trial's chance): pass"),
               Line2D([], [], color=FAIL_COLOUR, linewidth=4, alpha=0.6, label="the same: fail"),
               Line2D([], [], marker="o", linestyle="", color=PASS_COLOUR, markerfacecolor="white",
                      label="median of virtual trials")]
    if reported:
        handles.append(Line2D([], [], marker="D", linestyle="", color=REPORTED_COLOUR, label="reported in the paper"))
    return handles + [Patch(color=TRACK_COLOUR, label="0 to the paper's denominator n")]


def _notes(rows: list[dict]) -> str:
    """Under the plot: figures reproduced exactly, figures not modelled, and how to read the columns."""
    exact = [f"{r['says'] or r['figure']} ({r['reported']:g})" for r in rows
             if r["status"] != NOT_MODELLED and is_exact(r)]
    lines = [textwrap.shorten("Not drawn, reproduced by every virtual trial (an interval of one value carries no "
                              "information): " + "; ".join(exact) + ".", 190)] if exact else []
    lines += [textwrap.shorten(f"Not modelled: {r['says'] or r['figure']} - {r['why']}", 190)
              for r in rows if r["status"] == NOT_MODELLED]
    lines.append("Percentile: mid-rank percentile of the reported value among the virtual trials; pass: the reported "
                 "value lies inside their central 95% interval.  A count k of n: only the virtual trials with n in "
                 "its denominator.")
    return "\n".join(wrapped for line in lines for wrapped in textwrap.wrap(line, NOTE_WIDTH))
