"""The evidence forest plot: each series' reported non-relapse mortality and relapse beside the model's,
then per class each shipped trial's one-year risks at its own levels, and the pooled and predictive ones."""

from __future__ import annotations

from pathlib import Path

from matplotlib.lines import Line2D

from sim.plots.style import house_style, new_figure, save

REPORTED, FITTED, POOLED, PREDICTED, TRIAL = "#111111", "#1f77b4", "#2ca02c", "#d62728", "#9467bd"
COLOURS = {"trial": TRIAL, "pooled": POOLED, "predictive": PREDICTED}
PANELS = (("nrm", "non-relapse mortality"), ("relapse", "relapse (or, for EFS/RFS/LFS, any event)"))


def draw_evidence(rows: list[dict], summary: list[dict], folder: Path, name: str = "evidence") -> list[Path]:
    """Write ``name``.png (and .svg) into ``folder``.

    ``rows``: per series figure, keys ``panel``, ``label``, ``reported``, ``reported_low``, ``reported_high``,
    ``estimate``, ``low``, ``high`` (shares); ``summary``: per class and panel, keys ``panel``, ``label``,
    ``kind`` ("trial", "pooled" or "predictive"), ``estimate``, ``low``, ``high`` (one-year risks).
    """
    with house_style():
        heights = [max(3, sum(r["panel"] == p for r in rows) + sum(s["panel"] == p for s in summary)) for p, _ in PANELS]
        figure = new_figure(11, 2.2 + 0.32 * sum(heights))
        axes = figure.subplots(len(PANELS), 1, gridspec_kw={"height_ratios": heights})
        for ax, (panel, title) in zip(axes, PANELS):
            _panel(ax, [r for r in rows if r["panel"] == panel], [s for s in summary if s["panel"] == panel], title)
        figure.legend(handles=_legend(), loc="outside upper center", ncol=1, fontsize=8, frameon=False)
        return save(figure, folder, name)


def _panel(ax, rows: list[dict], summary: list[dict], title: str) -> None:
    labels = []
    y = 0
    for r in rows:
        ax.plot([100 * r["reported_low"], 100 * r["reported_high"]], [y + 0.15] * 2, color=REPORTED, linewidth=1)
        ax.plot(100 * r["reported"], y + 0.15, "o", color=REPORTED, markersize=4)
        ax.plot([100 * r["low"], 100 * r["high"]], [y - 0.15] * 2, color=FITTED, linewidth=2)
        ax.plot(100 * r["estimate"], y - 0.15, "s", color=FITTED, markersize=4)
        labels.append(r["label"])
        y += 1
    for s in summary:
        colour = COLOURS[s["kind"]]
        ax.plot([100 * s["low"], 100 * s["high"]], [y] * 2, color=colour, linewidth=2 if s["kind"] == "trial" else 3)
        ax.plot(100 * s["estimate"], y, "s" if s["kind"] == "trial" else "D", color=colour, markersize=5)
        labels.append(s["label"])
        y += 1
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.set_xlim(0, 100)
    ax.set_xlabel(f"{title}: patients (%)")
    ax.grid(axis="x", color="#dddddd", linewidth=0.5)


def _legend() -> list[Line2D]:
    return [Line2D([], [], color=REPORTED, marker="o", markersize=4, label="reported, with its 95% Jeffreys interval (one trial's chance)"),
            Line2D([], [], color=FITTED, marker="s", markersize=4, linewidth=2,
                   label="model's posterior for the same figure, 95% interval (parameter uncertainty)"),
            Line2D([], [], color=TRIAL, marker="s", markersize=5, linewidth=2,
                   label="1-year risk of responders at a shipped trial's own partially pooled levels, 95% interval "
                   "(parameter uncertainty); the trial itself reports counts at its cut-off"),
            Line2D([], [], color=POOLED, marker="D", markersize=5, linewidth=3,
                   label="pooled 1-year risk at the class's mean level, 95% interval (parameter uncertainty)"),
            Line2D([], [], color=PREDICTED, marker="D", markersize=5, linewidth=3,
                   label="1-year risk of a new trial, 95% predictive interval (parameter uncertainty + heterogeneity)")]
