"""The operating-characteristics picture: selection, patients per dose, duration and withdrawals."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from sim.plots.style import footnote, house_style, new_figure, save
from sim.design.oc import INTERVAL, NONE, DesignOC, spread

COLOURS = ("#1f5a96", "#d68910", "#2a9d8f", "#7d3c98", "#8c8c8c")
LABELS = {"fixed": "fixed allocation", "3+3": "3+3", "boin": "BOIN", "tite_boin": "TITE-BOIN"}


def draw_oc(ocs: list[DesignOC], title: str, folder: Path, name: str = "oc") -> list[Path]:
    """Draw the four panels and save ``name``.png and ``name``.svg in ``folder``.

    Parameters
    ----------
    ocs : list of DesignOC
        The designs, run on the same patients.
    title : str
        The figure's title.
    folder : pathlib.Path
        Where to write.

    Returns
    -------
    list of pathlib.Path
    """
    with house_style():
        return save(oc_figure(ocs, title), folder, name)


def oc_figure(ocs: list[DesignOC], title: str):
    """The operating-characteristics picture as a figure (see :func:`draw_oc`)."""
    with house_style():
        figure = new_figure(11, 7.8)
        axes = figure.subplots(2, 2)
        _selection(axes[0, 0], ocs)
        _patients(axes[0, 1], ocs)
        _spread(axes[1, 0], ocs, lambda oc: oc.duration, "trial duration, days from first enrolment")
        _spread(axes[1, 1], ocs, lambda oc: oc.counts["withdrawn"], "patients withdrawn before infusion", count=True)
        figure.suptitle("\n".join(textwrap.fill(line, 95) for line in title.split("\n")))
        footnote(figure, f"{ocs[0].trials} virtual trials per design on the same patients (common random numbers); "
                 f"dots: medians, bars: {INTERVAL[0]:g}th-{INTERVAL[1]:g}th percentiles over single trials, "
                 "diamonds: means")
        return figure


def _levels(oc: DesignOC) -> list[str]:
    return [f"{n}\nDLT {c:.0%}" for n, c in zip(oc.settings.levels, oc.dlt_chance)]


def _bars(ax, ocs, values, labels) -> None:
    width = 0.8 / len(ocs)
    x = np.arange(len(labels))
    for k, (oc, v) in enumerate(zip(ocs, values)):
        ax.bar(x + (k - (len(ocs) - 1) / 2) * width, v, width, color=COLOURS[k % len(COLOURS)],
               label=LABELS.get(oc.settings.name, oc.settings.name))
    ax.set_xticks(x, labels)


def _selection(ax, ocs) -> None:
    chosen = [oc for oc in ocs if oc.settings.name != "fixed"]
    if not chosen:
        ax.set_axis_off()
        return
    labels = _levels(chosen[0]) + ["none"]
    values = [[np.mean(oc.selected == j) * 100 for j in (*range(len(oc.settings.levels)), NONE)] for oc in chosen]
    _bars(ax, chosen, values, labels)
    ax.set_ylabel("selected as MTD, % of trials")
    ax.set_xlabel("dose level (chance of a DLT)")
    ax.set_title("Which dose is selected")
    ax.legend(frameon=False)


def _patients(ax, ocs) -> None:
    _bars(ax, ocs, [oc.treated.mean(axis=0) for oc in ocs], _levels(ocs[0]))
    ax.set_ylabel("patients treated per trial (mean)")
    ax.set_xlabel("dose level (chance of a DLT)")
    ax.set_title("Where patients are treated")
    ax.legend(frameon=False)


def _spread(ax, ocs, values, label: str, count: bool = False) -> None:
    y = np.arange(len(ocs))[::-1]
    for k, (oc, yi) in enumerate(zip(ocs, y)):
        v = values(oc)
        low, mid, high = spread(v, count)
        colour = COLOURS[k % len(COLOURS)]
        ax.plot([low, high], [yi, yi], color=colour, linewidth=3, solid_capstyle="butt")
        ax.plot(mid, yi, "o", color=colour, markersize=8)
        ax.plot(np.mean(v), yi, "D", color="white", markeredgecolor=colour, markersize=6)
    ax.set_ylim(-0.6, len(ocs) - 0.4)
    ax.set_yticks(y, [LABELS.get(oc.settings.name, oc.settings.name) for oc in ocs])
    ax.set_xlabel(label)
    ax.set_xlim(left=0)
    ax.set_title(label.split(",")[0].capitalize())
