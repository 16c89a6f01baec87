"""A scenario comparison chart: each scenario's paired difference from the base, with its intervals."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..outcomes import KEY_OUTCOMES
from ..table import Table
from .style import COLOURS, footnote, house_style, new_figure, save

NAME = "comparison"
COLUMNS = 3


def changed_outcomes(table: Table) -> list[str]:
    """Key outcomes that some scenario moves (a non-zero difference or interval), in their usual order."""
    moved = set()
    for row in table.rows():
        values = [row["diff_mean"], row["diff_low95"], row["diff_high95"]]
        if row["outcome"] in KEY_OUTCOMES and any(np.isfinite(v) and v != 0 for v in values):
            moved.add(row["outcome"])
    return [name for name in KEY_OUTCOMES if name in moved]


def draw(table: Table, folder: Path, base_label: str, trials: int) -> list[Path]:
    """One small forest plot per key outcome that moves: scenarios down, differences across."""
    names = changed_outcomes(table)
    scenarios = list(dict.fromkeys(table["scenario"]))
    rows = max(1, -(-len(names) // COLUMNS))
    with house_style():
        figure = new_figure(4.2 * COLUMNS, 0.9 + rows * (0.55 * len(scenarios) + 1.3))
        axes = np.atleast_1d(figure.subplots(rows, COLUMNS, squeeze=False)).ravel()
        for ax, name in zip(axes, names):
            _panel(ax, table, name, scenarios)
        for ax in axes[len(names):]:
            ax.set_axis_off()
        if not names:
            axes[0].text(0.5, 0.5, "no key outcome differs from the base", ha="center", va="center",
                         transform=axes[0].transAxes)
        figure.suptitle(f"Scenarios against {base_label}: paired differences, {trials} virtual trials each")
        footnote(figure, "Dark: mean difference (scenario - base) over virtual trials run with the same seed (common "
                 "random numbers), with its 95% t interval.\nGrey: the same interval when the scenario runs on "
                 "another seed (independent). Outcomes no scenario moves are left out.")
        return save(figure, folder, NAME)


def _panel(ax, table: Table, name: str, scenarios: list[str]) -> None:
    outcome = KEY_OUTCOMES[name]
    for y, scenario in enumerate(scenarios):
        row = next((r for r in table.rows() if r["scenario"] == scenario and r["outcome"] == name), None)
        if row is None:
            continue
        ax.plot([row["independent_low95"], row["independent_high95"]], [y - 0.18] * 2, color=COLOURS["independent"],
                linewidth=3, solid_capstyle="butt")
        ax.plot([row["diff_low95"], row["diff_high95"]], [y] * 2, color=COLOURS["paired"], linewidth=3,
                solid_capstyle="butt")
        ax.plot(row["diff_mean"], y, "o", color=COLOURS["paired"], markersize=6)
    ax.axvline(0, color="#333333", linewidth=0.8)
    ax.set_yticks(range(len(scenarios)), scenarios, fontsize=8)
    ax.set_ylim(len(scenarios) - 0.5, -0.6)
    ax.set_title(outcome.label, fontsize=9.5)
    ax.set_xlabel(f"difference from base ({outcome.unit})", fontsize=9)
    ax.grid(axis="y", visible=False)
