"""The detectability chart: the chance that validation flags a parameter shifted by each amount."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from sim.table import Table
from sim.plots.style import footnote, house_style, new_figure, save

NAME = "detectability"
MARKERS = {"x0.5": "<", "p2.5": "<", "x2": ">", "p97.5": ">"}


def draw(table: Table, folder: Path, title: str) -> list[Path]:
    """One row per parameter: p_detect at the low and high shift (with 95% Monte Carlo bars), and
    the false-alarm rate (no shift) as a vertical line; parameters by their largest p_detect."""
    rows = [r for r in table.rows() if r["shift"] != "none" and not math.isnan(r["p_detect"])]
    alarm = next((r for r in table.rows() if r["shift"] == "none"), None)
    names = sorted({r["parameter"] for r in rows}, key=lambda n: max(r["p_detect"] for r in rows if r["parameter"] == n))
    with house_style():
        figure = new_figure(9.0, 1.6 + 0.19 * len(names))
        ax = figure.add_subplot()
        for r in rows:
            y = names.index(r["parameter"])
            ax.errorbar(r["p_detect"], y, xerr=1.96 * r["mc_se"], fmt=MARKERS.get(r["shift"], "o"), markersize=5,
                        color="#1f4e79" if MARKERS.get(r["shift"]) == "<" else "#c0392b", elinewidth=0.8)
        if alarm is not None:
            ax.axvline(alarm["p_detect"], color="#555555", linestyle="--", linewidth=0.9)
        ax.set_yticks(np.arange(len(names)), names, fontsize=7)
        ax.set_xlim(0, 1)
        ax.set_xlabel("P(validation flags at least one figure) in one real trial")
        ax.set_title(title, fontsize=10)
        footnote(figure, "blue <: lowered (x0.5 for a hazard, else 2.5th percentile of its uncertainty); red >: raised "
                 "(x2, or 97.5th percentile). Bars: 95% Monte Carlo error.\nDashed line: false-alarm rate, the same "
                 "chance with nothing shifted. Other parameters at their base values.")
        return save(figure, folder, NAME)
