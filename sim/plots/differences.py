"""A scenario comparison chart: each scenario's paired difference from the base, with its intervals."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from sim.stats.key_outcomes import KEY_OUTCOMES
from sim.output.table import Table
from sim.plots.style import COLOURS, footnote, house_style, new_figure, save

NAME = "comparison"
COLUMNS = 3
HEADLINE = ("crs_g3_rate", "cr_rate", "n_withdrawn", "transplant_rate", "os_12m", "lfs_12m", "nrm_12m")


def _moves(row: dict) -> bool:
    values = [row["diff_mean"], row["diff_low95"], row["diff_high95"]]
    return any(np.isfinite(v) and v != 0 for v in values)


def shown_outcomes(table: Table) -> list[str]:
    """The headline outcomes, then every other key outcome that some scenario moves."""
    moved = {row["outcome"] for row in table.rows() if row["outcome"] in KEY_OUTCOMES and _moves(row)}
    return [*HEADLINE, *(name for name in KEY_OUTCOMES if name in moved and name not in HEADLINE)]


def draw(table: Table, folder: Path, base_label: str, trials: int) -> list[Path]:
    """One small forest plot per key outcome that moves: scenarios down, differences across."""
    names = shown_outcomes(table)
    scenarios = list(dict.fromkeys(table["scenario"]))
    rows = max(1, -(-len(names) // COLUMNS))
    with house_style():
        figure = new_figure(4.2 * COLUMNS, 0.9 + rows * (0.55 * len(scenarios) + 1.3))
        axes = np.atleast_1d(figure.subplots(rows, COLUMNS, squeeze=False)).ravel()
        for ax, name in zip(axes, names):
            _panel(ax, table, name, scenarios)
        for ax in axes[len(names):]:
            ax.set_axis_off()
        figure.suptitle(f"Scenarios against {base_label}: differences with 95% intervals, "
                        f"{trials} virtual trials each\n"
                        "red (headline): effect over parameter uncertainty; dark: Monte Carlo precision at base values; "
                        "grey: the same on independent seeds")
        footnote(figure, "Red bar (headline): 2.5th-97.5th percentile over parameter draws of the expected difference, "
                 "tick at its median; '! zero events': it rests on a parameter estimated from no event.\nDot and dark bar: mean difference (scenario - base) over virtual trials run with the same "
                 "seed, with its 95% t interval. Grey bar: the same interval when the scenario\nruns on another seed. "
                 "'identical' marks an outcome equal in every trial of both arms. Other key outcomes are shown only "
                 "when some scenario moves them.")
        return save(figure, folder, NAME)


def _panel(ax, table: Table, name: str, scenarios: list[str]) -> None:
    outcome = KEY_OUTCOMES[name]
    for y, scenario in enumerate(scenarios):
        row = next((r for r in table.rows() if r["scenario"] == scenario and r["outcome"] == name), None)
        if row is None:
            continue
        if "effect_low95" in row and np.isfinite(row["effect_low95"]):
            ax.plot([row["effect_low95"], row["effect_high95"]], [y - 0.2] * 2, color="#c0392b", linewidth=5,
                    solid_capstyle="butt", alpha=0.6)
            ax.plot(row["effect_median"], y - 0.2, "|", color="#c0392b", markersize=9)
            if row.get("zero_event_parameters"):
                ax.annotate("! zero events", (row["effect_high95"], y - 0.2), xytext=(4, -3), textcoords="offset points",
                            fontsize=7, color="#c0392b")
        ax.plot([row["independent_low95"], row["independent_high95"]], [y + 0.18] * 2, color=COLOURS["independent"],
                linewidth=3, solid_capstyle="butt")
        ax.plot([row["diff_low95"], row["diff_high95"]], [y] * 2, color=COLOURS["paired"], linewidth=3,
                solid_capstyle="butt")
        ax.plot(row["diff_mean"], y, "o", color=COLOURS["paired"], markersize=6)
        if not _moves(row):
            ax.annotate("identical", (0, y), xytext=(6, 4), textcoords="offset points", fontsize=8, color="#555555")
    ax.axvline(0, color="#333333", linewidth=0.8)
    ax.set_yticks(range(len(scenarios)), scenarios, fontsize=8)
    ax.set_ylim(len(scenarios) - 0.5, -0.6)
    ax.set_title(textwrap.fill(outcome.label, 42, break_on_hyphens=False), fontsize=9.5)
    ax.set_xlabel(f"difference from base ({outcome.unit})", fontsize=9)
    ax.grid(axis="y", visible=False)
