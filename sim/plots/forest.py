"""The validation forest plot: each reported figure against its simulated 95% interval.

Counts out of a reported denominator are drawn as shares of that denominator (so 3/19 and 5/12
share one axis); figures without a denominator get a panel per unit (days, months, patients).
Figures the model does not produce are listed under the plot with the reason.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.transforms import blended_transform_factory

from sim.output.table import Table
from sim.analyses.validation import NOT_MODELLED, PASS
from sim.plots.style import house_style, new_figure, save

PASS_COLOUR, FAIL_COLOUR, REPORTED_COLOUR = "#1f7a4d", "#c0392b", "#111111"
SHARE_PANEL = "share of the reported denominator"
UNIT_NAMES = {"": "patients", "days": "days", "months": "months"}
ROW_INCHES, PANEL_INCHES, WIDTH = 0.3, 0.95, 10.0


def draw_validation(table: Table, title: str, folder: Path, name: str = "validation") -> list[Path]:
    """Draw the forest plot of a validation table and save it as ``name``.png and ``name``.svg.

    Parameters
    ----------
    table : sim.output.table.Table
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
    rows = table.rows()
    panels = _panels([r for r in rows if r["status"] != NOT_MODELLED])
    absent = [r for r in rows if r["status"] == NOT_MODELLED]
    with house_style():
        figure = new_figure(WIDTH, _height(panels, absent))
        grid = figure.add_gridspec(len(panels), 1, height_ratios=[len(p) + 1.2 for p in panels.values()])
        for index, (label, panel_rows) in enumerate(panels.items()):
            _panel(figure.add_subplot(grid[index]), label, panel_rows, first=index == 0)
        figure.suptitle(title)
        if absent:
            figure.supxlabel(_absent_note(absent), fontsize=8, color="#555555", ha="left", x=0.01)
        return save(figure, folder, name)


def _panels(rows: list[dict]) -> dict[str, list[dict]]:
    """Rows by panel: counts with a denominator first, then one panel per unit, in file order."""
    panels: dict[str, list[dict]] = {SHARE_PANEL: []}
    for row in rows:
        key = SHARE_PANEL if not math.isnan(row["of"]) else UNIT_NAMES.get(row["unit"], row["unit"])
        panels.setdefault(key, []).append(row)
    return {key: value for key, value in panels.items() if value}


def _height(panels: dict[str, list[dict]], absent: list[dict]) -> float:
    rows = sum(len(p) for p in panels.values())
    return 1.3 + ROW_INCHES * rows + PANEL_INCHES * len(panels) + (0.18 * len(absent) + 0.2 if absent else 0.0)


def _panel(ax, label: str, rows: list[dict], first: bool) -> None:
    """One panel: a row per figure, top to bottom grouped by role (input, calibrated, independent)."""
    scale = [r["of"] if label == SHARE_PANEL else 1.0 for r in rows]
    y = np.arange(len(rows))[::-1]
    for yi, row, s in zip(y, rows, scale):
        _row(ax, yi, row, s)
    ax.set_yticks(y, [_label(row) for row in rows])
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(_axis_label(label))
    if label == SHARE_PANEL:
        ax.set_xlim(-0.04, max(1.04, max(r["sim_high95"] / r["of"] for r in rows) + 0.04))
    elif label == UNIT_NAMES[""]:  # whole patients, from zero
        ax.set_xlim(0, 1.15 * max(max(r["sim_high95"], r["reported"]) for r in rows))
        ax.xaxis.get_major_locator().set_params(integer=True)
    _annotate(ax, y, rows, header=first)
    if first:
        ax.legend(handles=_legend_handles(), loc="lower left", bbox_to_anchor=(0.0, 1.01), ncol=4, frameon=False,
                  handlelength=1.6, columnspacing=1.2)


def _row(ax, y: float, row: dict, scale: float) -> None:
    colour = PASS_COLOUR if row["status"] == PASS else FAIL_COLOUR
    ax.plot([row["sim_low95"] / scale, row["sim_high95"] / scale], [y, y], color=colour, linewidth=4,
            solid_capstyle="butt", alpha=0.55)
    ax.plot(row["sim_median"] / scale, y, "o", color=colour, markersize=5, markerfacecolor="white", markeredgewidth=1.5)
    ax.plot(row["reported"] / scale, y, "D", color=REPORTED_COLOUR, markersize=5.5)


def _label(row: dict) -> str:
    reported = f"{row['reported']:g}" + (f"/{row['of']:g}" if not math.isnan(row["of"]) else "")
    return f"[{row['role']}] {row['figure']}  ({reported})"


def _axis_label(label: str) -> str:
    if label == SHARE_PANEL:
        return "count ÷ reported denominator (k of n drawn at k/n)"
    return {"patients": "patients", "days": "days after infusion", "months": "months"}.get(label, label)


def _annotate(ax, y: np.ndarray, rows: list[dict], header: bool) -> None:
    """Percentile and result at the right of each row, outside the axes."""
    where = blended_transform_factory(ax.transAxes, ax.transData)
    for yi, row in zip(y, rows):
        passed = row["status"] == PASS
        ax.text(1.01, yi, f"{row['percentile']:4.0f}%  {'pass' if passed else row['status'].upper()}", transform=where,
                va="center", ha="left", fontsize=8.5, color=PASS_COLOUR if passed else FAIL_COLOUR)
    if header:
        ax.text(1.01, 1.01, "percentile of\nreported, result", transform=ax.transAxes, va="bottom", ha="left",
                fontsize=8, color="#555555")


def _legend_handles() -> list[Line2D]:
    return [Line2D([], [], color=PASS_COLOUR, linewidth=4, alpha=0.55, label="simulated 95% interval: pass"),
            Line2D([], [], color=FAIL_COLOUR, linewidth=4, alpha=0.55, label="95% interval: fail"),
            Line2D([], [], marker="o", linestyle="", color=PASS_COLOUR, markerfacecolor="white", label="simulated median"),
            Line2D([], [], marker="D", linestyle="", color=REPORTED_COLOUR, label="reported")]


def _absent_note(rows: list[dict]) -> str:
    lines = [textwrap.shorten(f"Not modelled: {r['figure']} - {r['why']}", 150) for r in rows]
    return "\n".join(lines)
