"""Pictures of sensitivity results: PSA histograms, tornado plots, Sobol' and Morris bar charts.

Each function draws from a result's tables, in the house style of :mod:`sim.plots.style` (no pyplot
state, Agg canvas), and saves PNG and SVG into the result folder's ``figures/``.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np

from sim.plots.style import COLOURS, footnote, house_style, new_figure, save
from sim.sensitivity.inputs import DUMMY

NOTE_WIDTH = 150  # characters per line of a footnote

FIGURES = "figures"
TOP = 15
LOW_COLOUR, HIGH_COLOUR = "#2e86c1", "#c0392b"
FIRST_COLOUR, TOTAL_COLOUR, FLOOR_COLOUR = "#7fb3d5", "#1f5a96", "#d5d8dc"
PANEL_COLUMNS = 4


def _figures(folder: Path) -> Path:
    return Path(folder) / FIGURES


def number(value: float) -> str:
    """A value for a label: three significant figures, or '-'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.3g}"


def _wrapped(text: str, width: int = 34) -> str:
    return "\n".join(textwrap.wrap(text, width))


def _note(figure, text: str, width: int = NOTE_WIDTH) -> None:
    footnote(figure, _wrapped(text, width))


def _legend_above(ax) -> None:
    """The legend in a row above the axes, clear of the bars."""
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)  # two columns fit narrow axes


def _outcome_rows(table, name: str) -> dict[str, np.ndarray]:
    rows = np.asarray(table["outcome"]) == name
    return {key: np.asarray(table[key])[rows] for key in table.names}


def _psa_panel(ax, values: np.ndarray, row: dict, unit: str) -> None:
    """One outcome's histogram over draws, its median and 95% interval, and its variance split."""
    defined = values[~np.isnan(values)]
    ax.set_title(_wrapped(str(row["label"])), fontsize=9.5)
    ax.set_xlabel(unit)
    if defined.size == 0:
        ax.text(0.5, 0.5, "undefined in every draw", ha="center", va="center", transform=ax.transAxes)
        return
    ax.hist(defined, bins=min(40, max(10, defined.size // 25)), color=COLOURS["os"], alpha=0.75, edgecolor="white",
            linewidth=0.4)
    ax.axvspan(row["low95"], row["high95"], color=COLOURS["grey"], alpha=0.15, linewidth=0)
    ax.axvline(row["median"], color="#111111", linewidth=1.6)
    for edge in (row["low95"], row["high95"]):
        ax.axvline(edge, color="#111111", linewidth=1, linestyle="--")
    ax.set_title(f"{_wrapped(str(row['label']))}\n{psa_numbers(row)}", fontsize=9)  # above the axes: covers no line


def psa_numbers(row: dict) -> str:
    """A panel's median, 95% interval over draws and the parameters' share of the variance, as two lines."""
    text = f"median {number(row['median'])}, 95% [{number(row['low95'])}, {number(row['high95'])}]"
    share = row["share_parameter"]
    return text + ("" if math.isnan(share) else f"\nparameters: {share:.0%} of trial-to-trial variance")


def psa_histograms(result, folder: Path) -> list[Path]:
    """One panel per outcome: the distribution over parameter draws of the outcome's mean."""
    with house_style():
        return save(psa_figure(result), _figures(folder), "psa")


def psa_figure(result):
    """The PSA histograms as a figure (see :func:`psa_histograms`)."""
    table = result.summary_table()
    rows = table.rows()
    columns = min(PANEL_COLUMNS, len(rows))
    lines = math.ceil(len(rows) / columns)
    with house_style():
        figure = new_figure(3.6 * columns, 3.4 * lines + 0.9)
        axes = np.atleast_1d(figure.subplots(lines, columns, squeeze=False)).ravel()
        for ax, row in zip(axes, rows, strict=False):  # spare axes are hidden below
            _psa_panel(ax, result.collected.column(row["outcome"])[0], row, str(row["unit"]))
        for ax in axes[len(rows):]:
            ax.set_visible(False)
        for ax in axes[::columns]:
            ax.set_ylabel("parameter draws")
        config = result.info.config
        figure.suptitle(f"{result.label}: probabilistic sensitivity analysis, {config['points']} parameter draws")
        _note(figure, f"Each draw's mean over {result.inner} virtual trials of {config.get('patients_per_trial', '?')} "
                 "patients; solid line: median, dashed lines and band: 95% interval over the draws (parameter uncertainty).  Variance split by the law of "
                 "total variance, corrected for the finite number of virtual trials per draw.")
        return figure


BAR_OFFSET, BAR_HEIGHT = 0.18, 0.34  # a row's two bars side by side, so neither can hide the other


def tornado(result, name: str, folder: Path, top: int = TOP) -> list[Path]:
    """The inputs with the largest swings: bars from the base outcome to its value at each percentile."""
    with house_style():
        return save(tornado_figure(result, name, top), _figures(folder), f"tornado_{name}")


def tornado_figure(result, name: str, top: int = TOP):
    """The tornado plot as a figure: the ``top`` inputs by swing, those with none drawn at zero."""
    rows = _outcome_rows(result.summary_table(), name)
    swings = np.nan_to_num(np.asarray(rows["swing"], dtype=float))
    moved = int(np.count_nonzero(swings > 0))
    shown = max(1, min(top, len(rows["input"])))
    base = float(rows["outcome_base"][0])
    with house_style():
        figure = new_figure(10, 1.8 + 0.36 * shown)
        ax = figure.subplots()
        y = np.arange(shown)[::-1]
        for side, colour, label, offset in (("low", LOW_COLOUR, "input at 2.5th percentile", BAR_OFFSET),
                                            ("high", HIGH_COLOUR, "input at 97.5th percentile", -BAR_OFFSET)):
            at = np.asarray(rows[f"outcome_at_{side}"][:shown], dtype=float)
            ax.barh(y + offset, at - base, left=base, height=BAR_HEIGHT, color=colour, alpha=0.85, label=label)
        _no_swing(ax, y[swings[:shown] == 0], base)
        noise = chance_swing(result.collected, name, 0)
        if math.isfinite(noise):
            ax.axvspan(base - noise, base + noise, color=FLOOR_COLOUR, alpha=0.6, linewidth=0, zorder=0,
                       label=f"chance alone: ±{number(noise)}")
        ax.axvline(base, color="#111111", linewidth=1.2, label=f"base: {number(base)}")
        ax.set_yticks(y, [f"{rows['input'][j]}  [{number(rows['input_low'][j])} to {number(rows['input_high'][j])}]"
                          for j in range(shown)])
        ax.grid(axis="y", visible=False)
        ax.set_xlabel(result.outcome_label(name))
        figure.suptitle(f"{result.label}: one-way sensitivity of {_title(result, name)}")
        _legend_above(ax)
        inner = result.info.config.get("inner", 1)
        _note(figure, f"Each input at its 2.5th and 97.5th percentile (in brackets), the others at base; {inner} "
              "virtual trials per run, the same for every run (common random numbers).  The "
              f"{shown} of {len(rows['input'])} inputs with the largest swings; {len(rows['input']) - moved} moved "
              f"this outcome not at all (drawn as zero: 'no change').  {NOISE_NOTE}")
        return figure


def _no_swing(ax, rows: np.ndarray, base: float) -> None:
    """Inputs that did not move the outcome: a zero-length bar, marked at the base and labelled."""
    for row in rows:
        ax.plot([base], [row], marker="|", markersize=12, color="#555555", linestyle="")
        ax.annotate("no change", (base, row), xytext=(6, 0), textcoords="offset points", va="center", fontsize=8,
                    color="#555555")


NOISE_NOTE = ("Grey band: chance alone, 1.96 standard errors of the difference between two runs of the base on "
              "independent luck; common random numbers make the noise smaller, so a bar inside the band may be "
              "chance and one outside it is not.")


def chance_swing(collected, name: str, point: int) -> float:
    """1.96 x the standard error of the difference of two independent runs like ``point`` (nan if unknown)."""
    _, variance, count = collected.column(name)
    if count[point] < 2 or not math.isfinite(variance[point]):
        return float("nan")
    return 1.96 * math.sqrt(2 * variance[point] / count[point])


def chance_effect(result, name: str) -> float:
    """The mu* of pure noise: sqrt(2/pi) x the standard error of an elementary effect on independent luck.

    An effect is a difference of two points' means over a grid step of levels / (2 (levels - 1)).
    """
    _, variance, count = result.collected.column(name)
    usable = (count >= 2) & np.isfinite(variance)
    if not usable.any():
        return float("nan")
    step = result.levels / (2 * (result.levels - 1))
    standard_error = math.sqrt(2 * float(np.mean(variance[usable] / count[usable]))) / step
    return math.sqrt(2 / math.pi) * standard_error


def _title(result, name: str) -> str:
    """The outcome's label without its unit, for a title."""
    return result.outcome_label(name).rsplit(" (", 1)[0]


def sobol_bars(result, name: str, folder: Path, top: int = TOP) -> list[Path]:
    """First-order and total indices with their intervals, ranked by total index, above the noise floor."""
    rows = _outcome_rows(result.summary_table(), name)
    with house_style():
        figure = new_figure(10, 2.2 + 0.42 * min(top, len(rows["input"])))
        ax = figure.subplots()
        figure.suptitle(f"{result.label}: Sobol' indices of {_title(result, name)}")
        if rows["note"][0]:
            ax.text(0.5, 0.5, _wrapped(str(rows["note"][0]), 70), ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
        else:
            _sobol_axes(ax, rows, top)
        _note(figure, f"{result.samples} x ({len(result.space)} inputs, the dummy included, + 2) points, "
                 f"{result.info.config.get('inner', 1)} virtual trials each, with luck of their own.  "
                 "Bars: 95% bootstrap intervals.  Grey band: noise "
                 "floor, the upper 95% bound of the total index of a dummy input the model ignores; * marks a "
                 "total index whose interval lies above it.  An index is a share of variance, never below 0: a "
                 "negative estimate or interval bound is estimation noise, drawn as computed.")
        return save(figure, _figures(folder), f"sobol_{name}")


def _sobol_axes(ax, rows: dict, top: int) -> None:
    inputs = [j for j in np.argsort(-np.asarray(rows["ST"], dtype=float), kind="stable") if rows["input"][j] != DUMMY]
    dummy = [j for j in range(len(rows["input"])) if rows["input"][j] == DUMMY]
    shown = inputs[:top] + dummy
    y = np.arange(len(shown))[::-1]
    ax.axvspan(0, float(rows["floor_ST"][0]), color=FLOOR_COLOUR, alpha=0.6, linewidth=0, label="noise floor (total)")
    for offset, key, colour, label in ((0.2, "ST", TOTAL_COLOUR, "total index"),
                                       (-0.2, "S1", FIRST_COLOUR, "first-order index")):
        values = np.asarray(rows[key], dtype=float)[shown]
        errors = np.abs(np.vstack([values - np.asarray(rows[f"{key}_low"])[shown],
                                   np.asarray(rows[f"{key}_high"])[shown] - values]))
        ax.barh(y + offset, values, height=0.38, color=colour, label=label, xerr=errors,
                error_kw={"elinewidth": 0.8, "capsize": 2, "ecolor": "#333333"})
    ax.axvline(0, color="#111111", linewidth=0.8)
    ax.set_yticks(y, [("* " if rows["ST_above_floor"][j] else "") + str(rows["input"][j]) for j in shown])
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("Sobol' index (share of the outcome's variance)")
    _legend_above(ax)


def morris_bars(result, name: str, folder: Path, top: int = TOP) -> list[Path]:
    """mu* with its interval, and sigma, for the inputs with the largest mu*."""
    rows = _outcome_rows(result.summary_table(), name)
    order = np.argsort(-np.nan_to_num(np.asarray(rows["mu_star"], dtype=float), nan=-1.0), kind="stable")[:top]
    unit = result.outcome_label(name).rsplit("(", 1)[-1].rstrip(")")
    with house_style():
        figure = new_figure(10, 2.0 + 0.36 * len(order))
        ax = figure.subplots()
        y = np.arange(len(order))[::-1]
        ax.barh(y, np.asarray(rows["mu_star"], dtype=float)[order], height=0.6, color=COLOURS["os"],
                xerr=np.asarray(rows["mu_star_conf"], dtype=float)[order], label="μ* (mean |effect|), 95% interval",
                error_kw={"elinewidth": 0.8, "capsize": 2, "ecolor": "#333333"})
        ax.scatter(np.asarray(rows["sigma"], dtype=float)[order], y, marker="D", s=22, color=COLOURS["relapse"],
                   zorder=3, label="σ (spread of the effects)")
        noise = chance_effect(result, name)
        if math.isfinite(noise):
            ax.axvspan(0, noise, color=FLOOR_COLOUR, alpha=0.6, linewidth=0, zorder=0,
                       label=f"μ* of chance alone: {number(noise)}")
        ax.set_yticks(y, [str(rows["input"][j]) for j in order])
        ax.grid(axis="y", visible=False)
        ax.set_xlabel(f"elementary effect ({unit} per 95% range of the input)")
        figure.suptitle(f"{result.label}: Morris screening of {_title(result, name)}")
        _legend_above(ax)
        _note(figure, f"{result.info.config['trajectories']} trajectories on a {result.levels}-level grid over each "
                 "input's 2.5th-97.5th percentile range, the same virtual trials for every point.  "
                 f"Top {len(order)} of {len(rows['input'])} inputs by μ*.  Grey band: the μ* that chance alone "
                 "would give, sqrt(2/π) x the standard error of an effect between two points on independent luck; "
                 "common random numbers make the noise smaller, so the band is an upper bound.")
        return save(figure, _figures(folder), f"morris_{name}")
