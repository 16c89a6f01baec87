"""The pictures' geometry: nothing hides what it should show, every panel can be read, scales compare.

Each test draws a picture as a figure, renders it, and measures the artists' boxes on the canvas:
legends clear of the curves and bands, end marks clear of events just before them, arrows long
enough to read, a share never on an axis of counts, one scale per outcome kind.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

import sim
from conftest import ROOT
from sim.design.oc import spread
from sim.design.plot import _spread
from sim.output.run_files import write_results
from sim.output.run_folder import read_run
from sim.plots import swimmer
from sim.plots.consort_diagram import flow_figure
from sim.plots.cumulative_incidence import NRM_CAUSES, incidence_figure
from sim.plots.forest import AXIS_LABELS, SHARE, validation_figure
from sim.plots.resources import resources_figure
from sim.plots.style import house_style, new_figure
from sim.plots.survival_curves import survival_figure
from sim.sensitivity.execute import Collected, RunInfo
from sim.sensitivity.oneway import OneWayResult, Swing
from sim.sensitivity.plots import psa_figure, tornado_figure
from sim.sensitivity.psa import PsaResult
from sim.stats.endpoints import NON_RELAPSE_DEATH_CAUSES


def rendered(figure: Figure):
    """The figure drawn on its canvas, and the renderer that measured it."""
    figure.canvas.draw()
    return figure.canvas.get_renderer()


def overlap(a, b) -> float:
    """The area two display boxes share (0 when apart or touching)."""
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(width, 0.0) * max(height, 0.0)


def curve_axes(figure: Figure) -> list:
    """The panels that draw curves or bars (those with an x label), not the rows of numbers or legends."""
    return [ax for ax in figure.axes if ax.axison and ax.get_xlabel()]


def legends(figure: Figure) -> list:
    return [legend for ax in figure.axes if (legend := ax.get_legend()) is not None] + list(figure.legends)


@pytest.fixture(scope="module")
def cd5_run(tmp_path_factory, cd5):
    folder = tmp_path_factory.mktemp("geometry")
    write_results(sim.run_trials(cd5, trials=12, seed=3), folder)
    return folder


@pytest.fixture
def cd5_data(cd5_run, monkeypatch):
    monkeypatch.chdir(ROOT)  # the run names its seeds file relative to where it ran
    return read_run(cd5_run)


def test_survival_every_panel_has_numbers_and_no_legend_covers_a_curve(cd5_data):
    with house_style():
        figure = survival_figure(cd5_data)
        renderer = rendered(figure)
    panels = curve_axes(figure)
    assert len(panels) == 2 and cd5_data.seeds is not None  # the paper's overlay is in the legend too
    for ax in panels:
        assert [t.get_text() for t in ax.get_yticklabels() if t.get_visible() and t.get_text()], ax.get_title()
    for legend in legends(figure):
        box = legend.get_window_extent(renderer)
        for ax in panels:
            assert overlap(box, ax.get_window_extent(renderer)) == 0, ax.get_title()
            for band in (c for c in ax.collections if isinstance(c, PolyCollection)):
                assert overlap(box, band.get_window_extent(renderer)) == 0


def test_survival_at_risk_numbers_are_whole_and_apart(cd5_data):
    with house_style():
        figure = survival_figure(cd5_data)
        renderer = rendered(figure)
    texts = [t for ax in figure.axes if not ax.axison for t in ax.texts if re.fullmatch(r"[\d.]+", t.get_text())]
    assert texts and all(re.fullmatch(r"\d+", t.get_text()) for t in texts)
    boxes = [t.get_window_extent(renderer) for t in texts]
    assert all(overlap(a, b) == 0 for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_cumulative_incidence_names_every_non_relapse_cause_and_keeps_legends_off_the_bands(cd5_data):
    with house_style():
        figure = incidence_figure(cd5_data)
        renderer = rendered(figure)
    titles = [ax.get_title() for ax in curve_axes(figure)]
    assert any(NRM_CAUSES in title for title in titles)
    assert len(NRM_CAUSES.split(", ")) == len(NON_RELAPSE_DEATH_CAUSES)
    for ax in curve_axes(figure):
        assert [t.get_text() for t in ax.get_yticklabels() if t.get_visible() and t.get_text()]
        for legend in legends(figure):
            assert overlap(legend.get_window_extent(renderer), ax.get_window_extent(renderer)) == 0


def test_an_empty_facility_panel_has_no_legend_and_whole_units(cd5_data):
    icu = cd5_data.patients["t_icu_start"]
    assert np.all(np.isnan(icu)), "the CD5 base case needs no ICU bed (no CRS of grade 3 or more)"
    with house_style():
        figure = resources_figure(cd5_data)
        rendered(figure)
    (empty,) = [ax for ax in figure.axes if ax.get_title().startswith("ICU beds")]
    assert empty.get_legend() is None
    assert all(float(tick).is_integer() for tick in empty.get_yticks())


def test_swimmer_legend_lists_only_what_happens_in_the_trial(cd5_data):
    with house_style():
        figure = swimmer.swimmer_figure(cd5_data)
    labels = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    trial = dict(swimmer.trial_slices(cd5_data.patients))[swimmer.representative_trial(cd5_data)]
    causes = set(trial["death_cause"][~np.isnan(trial["t_death"])])
    assert {label for label in labels if label.startswith("death: ")} == {
        f"death: {swimmer.DEATH_WORDS.get(c, c)}" for c in causes}
    assert ("relapse" in labels) == bool(np.any(~np.isnan(trial["t_relapse"])))
    assert len(labels) < 19  # the legend once listed every possible event


def test_a_death_mark_does_not_hide_a_relapse_just_before_it():
    figure = new_figure(8, 2)
    ax = figure.add_subplot()
    enrol, death = 0.0, 170.0
    t = {"t_enrol": enrol, "t_transplant": np.nan, "t_relapse": death - 1.0, "t_withdrawal": np.nan,
         "t_death": death, "death_cause": "infection", "final_state": "died_infection"}
    swimmer._events(ax, 0, t, swimmer._months(t, "t_death"))
    ax.set_xlim(0, 6)
    renderer = rendered(figure)
    relapse, death_mark = (line.get_window_extent(renderer) for line in ax.lines)
    assert overlap(relapse, death_mark) == 0


def test_flow_arrows_are_long_enough_to_read_and_boxes_do_not_overlap(cd5_data):
    with house_style():
        figure = flow_figure(cd5_data)
        renderer = rendered(figure)
    ax = figure.axes[0]
    arrows = [p.get_window_extent(renderer) for p in ax.patches if isinstance(p, FancyArrowPatch)]
    boxes = [p.get_window_extent(renderer) for p in ax.patches if isinstance(p, FancyBboxPatch)]
    assert len(arrows) == 6 and len(boxes) == 7
    assert min(max(a.width, a.height) for a in arrows) >= 0.3 * figure.dpi  # the stub was about a tenth of an inch
    assert all(overlap(a, b) == 0 for i, a in enumerate(boxes) for b in boxes[i + 1:])


def oneway_result(low: list[float], high: list[float], base: float = 0.5) -> OneWayResult:
    """A one-way result with made-up outcomes: input j at its low and high percentile gives low[j], high[j]."""
    inputs = [Swing(f"input_{j}", 1.0, 0.5, 2.0, {}, {}) for j in range(len(low))]
    collected = Collected(1 + 2 * len(low), ("os_12m",))
    collected.mean[:, 0] = [base, *np.ravel(np.column_stack([low, high]))]
    collected.var[:, 0], collected.n[:, 0] = 0.01, 50
    collected.done[:] = True
    info = RunInfo({"inner": 50}, None)
    return OneWayResult("made-up trial", "", info, ("os_12m",), inputs, collected)


def test_tornado_bars_of_one_input_never_hide_each_other_and_zero_swings_are_drawn():
    result = oneway_result(low=[0.40, 0.45, 0.5], high=[0.30, 0.60, 0.5])  # input 0: both ends below the base
    with house_style():
        figure = tornado_figure(result, "os_12m")
        renderer = rendered(figure)
    ax = figure.axes[0]
    assert len([t for t in ax.get_yticklabels() if t.get_text()]) == 3  # the zero-swing input is listed
    assert any(text.get_text() == "no change" for text in ax.texts)
    bars = [bar for container in ax.containers for bar in container if bar.get_width() != 0]
    boxes = [bar.get_window_extent(renderer) for bar in bars]
    assert len(bars) == 4 and all(overlap(a, b) == 0 for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_psa_numbers_cover_no_interval_line():
    collected = Collected(200, ("os_12m",))
    collected.mean[:, 0] = np.random.default_rng(0).beta(4, 8, 200)
    collected.var[:, 0], collected.n[:, 0] = 0.02, 20
    collected.done[:] = True
    result = PsaResult("made-up trial", "", RunInfo({"points": 200, "patients_per_trial": 19}, None), ("os_12m",),
                       collected, 20)
    with house_style():
        figure = psa_figure(result)
        renderer = rendered(figure)
    ax = figure.axes[0]
    row = result.summary_table().rows()[0]
    assert f"95% [{row['low95']:.3g}" in ax.get_title()  # the numbers are in the panel's title
    lines = [line.get_window_extent(renderer) for line in ax.lines]
    for text in ax.texts:
        assert all(overlap(text.get_window_extent(renderer), line) == 0 for line in lines)


def test_the_design_picture_draws_the_interval_its_table_gives():
    withdrawn = np.array([0] * 20 + [1] * 10 + [6] * 9 + [7])  # linear interpolation would draw 6.5
    assert spread(withdrawn, count=True)[2] in set(withdrawn)
    figure = new_figure(6, 3)
    ax = figure.add_subplot()
    oc = SimpleNamespace(settings=SimpleNamespace(name="3+3"), counts={"withdrawn": withdrawn})
    _spread(ax, [oc], lambda o: o.counts["withdrawn"], "patients withdrawn before infusion", count=True)
    low, _, high = spread(withdrawn, count=True)
    assert list(ax.lines[0].get_xdata()) == [low, high]


@pytest.mark.parametrize("metric", ["share", "km_survival", "cumulative_incidence"])
def test_a_share_is_drawn_on_a_share_axis(cd5, metric):
    validation = sim.run_validation(cd5, trials=30, seed=1)
    rows = validation.table.rows()
    share = dict(rows[0], figure="nrm_share", metric=metric, says="non-relapse deaths among responders not "
                 "transplanted (share)", reported=0.35, of=float("nan"), unit="", sim_median=0.3, sim_low95=0.1,
                 sim_high95=0.6)
    table = sim.Table({name: [row[name] for row in [*rows, share]] for name in validation.table.names})
    with house_style():
        figure = validation_figure(table, "made-up")
    (axis,) = [ax for ax in figure.axes for t in ax.get_yticklabels() if t.get_text().startswith("non-relapse deaths")]
    assert axis.get_xlabel() == AXIS_LABELS[SHARE] and 0.9 <= axis.get_xlim()[1] <= 1.0


def test_validation_text_stays_inside_the_picture_and_headings_clear_the_column_titles(cd5):
    validation = sim.run_validation(cd5, trials=30, seed=1)
    with house_style():
        figure = validation_figure(validation.table, "made-up")
    renderer = rendered(figure)
    page = figure.bbox
    texts = [t for t in figure.findobj(lambda a: hasattr(a, "get_text") and hasattr(a, "get_window_extent"))
             if t.get_visible() and t.get_text().strip()]
    outside = [t.get_text()[:40] for t in texts
               if (box := t.get_window_extent(renderer)).x1 > page.x1 + 1 or box.x0 < page.x0 - 1]
    assert not outside, outside
    titles = [ax._left_title for ax in figure.axes if ax._left_title.get_text()]
    column_titles = [t for t in texts if t.get_text() in ("reported", "percentile of\nreported", "result")]
    assert titles and column_titles
    clashes = [(h.get_text()[:30], c.get_text()) for h in titles for c in column_titles
               if overlap(h.get_window_extent(renderer), c.get_window_extent(renderer)) > 0]
    assert not clashes, clashes
