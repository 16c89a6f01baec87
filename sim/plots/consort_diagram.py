"""A CONSORT-style flow diagram: simulated counts (median and 95% interval over trials), reported beside."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from sim.stats.consort import OUTCOME_STATES, flow_counts
from sim.stats.intervals import median_interval
from sim.output.run_folder import RunData
from sim.output.paper_view import shows_paper
from sim.plots.overlay import reported_count
from sim.plots.style import COLOURS, footnote, house_style, new_figure, save

NAME = "flow"
STATE_LABELS = {"in_remission": "in remission", "relapsed": "relapsed", "no_remission": "no remission",
                "died_infection": "died of infection", "died_tma": "died of TMA",
                "died_transplant": "died of transplant", "died_toxicity": "died of CRS/ICANS"}
BOX_COLOUR, SIDE_COLOUR = "#eaf2fb", "#f4f4f4"
TOP = 0.98  # the top of the first box, in axes units
GAP = 0.085  # the longest arrow between boxes of the main column; side boxes sit at its middle
MIN_GAP = 0.05  # the shortest (when the boxes hold many lines)
TITLE_HEIGHT, LINE_HEIGHT = 0.045, 0.032


@dataclass(frozen=True)
class Line:
    """One row of a box: a label, the simulated column of the flow table, and the reported count if any."""

    label: str
    column: str
    reported: float | None = None


@dataclass(frozen=True)
class Box:
    title: str
    lines: tuple[Line, ...]
    x: float
    y: float
    width: float
    side: bool = False


def count_text(values: np.ndarray) -> str:
    """Median and 95% interval of a count over trials, e.g. '12 [9-14]' (values that occurred)."""
    mid, low, high = median_interval(values)
    fmt = lambda v: f"{v:.0f}" if float(v).is_integer() else f"{v:.1f}"  # noqa: E731
    return f"{fmt(mid)} [{fmt(low)}-{fmt(high)}]"


def boxes(run: RunData) -> list[Box]:
    """The diagram's boxes, with the reported counts the seeds file gives for each (a reported-only
    line is left out when the paper does not give it), stacked from the top."""
    kept = [Box(b.title, tuple(line for line in b.lines if line.column or line.reported is not None),
                b.x, b.y, b.width, b.side) for b in _all_boxes(run)]
    return stacked(kept)


def height(box: Box) -> float:
    """A box's height in axes units: its title and one row per line."""
    return TITLE_HEIGHT + LINE_HEIGHT * len(box.lines)


def stacked(layout: list[Box]) -> list[Box]:
    """Vertical places: the main column (Enrolled, Infused, Response) top down with an arrow's gap between
    boxes, each side box centred on the gap it branches from, the two outcome boxes side by side below."""
    enrolled, not_infused, infused, not_assessed, response, *outcomes = layout
    main = [enrolled, infused, response]
    room = TOP - sum(height(b) for b in main) - max(height(b) for b in outcomes) - 0.02
    gap = max(MIN_GAP, min(GAP, room / (len(main) - 1 + 0.7)))
    tops = [TOP]
    for box in main[:-1]:
        tops.append(tops[-1] - height(box) - gap)
    centre = lambda box, top: Box(box.title, box.lines, box.x, top - height(box) / 2, box.width, box.side)  # noqa: E731
    sides = [Box(b.title, b.lines, b.x, top - height(box) - gap / 2, b.width, b.side)
             for b, box, top in ((not_infused, enrolled, tops[0]), (not_assessed, infused, tops[1]))]
    below = tops[2] - height(response) - 0.7 * gap
    return [centre(enrolled, tops[0]), sides[0], centre(infused, tops[1]), sides[1], centre(response, tops[2])] + [
        centre(box, below) for box in outcomes]


def _all_boxes(run: RunData) -> list[Box]:
    # the paper's counts only beside a run of the trial as the paper ran it (sim.output.paper_view)
    seeds = run.seeds if shows_paper(run.summary.get("figures", []), run.manifest.get("scenario")) else None
    r = lambda metric, **q: reported_count(seeds, metric, **q)  # noqa: E731
    outcome = lambda branch, flag: tuple(  # noqa: E731
        Line(STATE_LABELS[s], f"{branch}.{s}", r("late_outcome", state=s, transplanted=flag)) for s in OUTCOME_STATES)
    return [
        Box("Enrolled", (Line("patients", "enrolled", r("enrolled")),), 0.30, 0.90, 0.36),
        Box("Not infused", (Line("withdrew (progression while waiting)", "withdrawn", r("withdrawn")),
                            Line("product failed", "product_failed"),
                            Line("awaiting infusion at cut-off", "awaiting_infusion"),
                            Line("reported: not infused, any reason", "", r("not_infused"))), 0.78, 0.755, 0.42, True),
        Box("Infused", (Line("patients", "infused", r("infused")),), 0.30, 0.62, 0.36),
        Box("Not assessed", (Line("died of CRS/ICANS before assessment", "died_before_assessment"),
                             Line("not yet assessed at cut-off", "not_yet_assessed")), 0.78, 0.525, 0.42, True),
        Box("Response at the day 28-30 assessment",
            (Line("CR, MRD-negative", "mrd_neg_cr", r("response", category="mrd_neg_cr")),
             Line("CR, MRD-positive", "mrd_pos_cr", r("response", category="mrd_pos_cr")),
             Line("no CR", "no_cr", r("response", category="no_cr")),
             Line("reported: CR, MRD-negative or positive", "", r("complete_remission"))), 0.30, 0.43, 0.50),
        Box("Consolidative transplant",
            (Line("patients", "transplanted", r("transplanted")),) + outcome("transplanted", True), 0.22, 0.168, 0.40),
        Box("No transplant", (Line("patients", "not_transplanted"),) + outcome("not_transplanted", False),
            0.70, 0.168, 0.40),
    ]


def draw(run: RunData, folder: Path) -> list[Path]:
    """The flow diagram of a run, with arrows from each box to the next."""
    with house_style():
        return save(flow_figure(run), folder, NAME)


def flow_figure(run: RunData):
    """The flow diagram as a figure (see :func:`draw`)."""
    flow = flow_counts(run.patients)
    layout = boxes(run)
    with house_style():
        bottom = min(box.y - height(box) / 2 for box in layout) - 0.02  # no empty band under the boxes
        figure = new_figure(11, 1.2 + 8.3 * (1 - bottom))  # the same inches per axes unit whatever the bottom
        ax = figure.subplots()
        ax.set_axis_off()
        ax.set_xlim(0, 1)
        ax.set_ylim(bottom, 1)
        paper = shows_paper(run.summary.get("figures", []), run.manifest.get("scenario"))
        frames = [_box(ax, box, flow, paper) for box in layout]
        for start, end in ((0, 2), (2, 4), (4, 5), (4, 6)):
            _arrow(ax, frames[start], frames[end], down=True)
        for start, end in ((0, 1), (2, 3)):
            _arrow(ax, frames[start], frames[end], down=False)
        figure.suptitle(f"{run.title}: patient flow, {run.manifest['trials']} virtual trials")
        footnote(figure, "Simulated: median [2.5th-97.5th percentile] of the count over virtual trials (medians of the "
                 "parts need not add up to the median of the whole; each trial's counts do).\n"
                 + ("Reported: the paper's count, where it gives one. " if paper else
                    "The paper's counts are shown only beside a run of the trial as the paper ran it. ")
                 + "Outcomes are at the data cut-off.")
        return figure


def _box(ax, box: Box, flow, paper: bool) -> tuple[float, float, float, float]:
    """Draw one box; returns its frame (left, bottom, width, height) in axes units."""
    height_ = height(box)
    left, bottom = box.x - box.width / 2, box.y - height_ / 2
    ax.add_patch(FancyBboxPatch((left, bottom), box.width, height_, boxstyle="round,pad=0.004,rounding_size=0.01",
                                facecolor=SIDE_COLOUR if box.side else BOX_COLOUR, edgecolor="#4a6a8a", linewidth=1))
    ax.text(box.x, bottom + height_ - 0.022, box.title, ha="center", va="center", fontweight="bold", fontsize=10.5)
    header = "simulated    reported" if paper else "simulated"
    ax.text(left + box.width - 0.012, bottom + height_ - 0.045, header, ha="right", va="center",
            fontsize=8, color="#555555")
    for i, line in enumerate(box.lines):
        y = bottom + height_ - 0.072 - 0.032 * i
        ax.text(left + 0.012, y, line.label, ha="left", va="center", fontsize=9)
        simulated = count_text(flow[line.column]) if line.column else ""
        reported = "-" if line.reported is None else f"{line.reported:g}"
        ax.text(left + box.width - (0.085 if paper else 0.012), y, simulated, ha="right", va="center", fontsize=9,
                family="monospace")
        if paper:
            ax.text(left + box.width - 0.012, y, reported, ha="right", va="center", fontsize=9, family="monospace",
                    color=COLOURS["reported"], fontweight="bold" if line.reported is not None else "normal")
    return left, bottom, box.width, height_


def _arrow(ax, start, end, down: bool) -> None:
    """Down: a vertical arrow where the two boxes overlap; across: from the line below ``start`` to ``end``."""
    (sl, sb, sw, _), (el, eb, ew, eh) = start, end
    if down:
        low, high = max(sl, el), min(sl + sw, el + ew)
        x = (low + high) / 2 if low < high else sl + sw / 2
        tail, head = (x, sb), (x, eb + eh)
    else:
        tail, head = (sl + sw / 2, eb + eh / 2), (el, eb + eh / 2)
    ax.add_patch(FancyArrowPatch(tail, head, arrowstyle="-|>", mutation_scale=14, color="#4a6a8a", linewidth=1.2))
