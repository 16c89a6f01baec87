"""Pictures: every one is drawn from the saved files, is not empty, and the flow diagram's counts add up."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib import image
from matplotlib.figure import Figure

import sim
from conftest import PARAMS, ROOT
from sim.cli.main import main
from sim.stats.consort import flow_counts, flow_identities
from sim.output.run_files import write_results
from sim.plots.draw import draw_comparison, is_comparison
from sim.plots.consort_diagram import boxes, count_text
from sim.plots.overlay import crude_survival, reported_count
from sim.output.run_folder import COMPARISON_TEXT, read_run, read_table
from sim.plots.differences import HEADLINE, comparison_figure, short_titles, shown_outcomes
from sim.plots.draw import comparison_meta
from sim.plots.forest import is_exact, validation_figure
from sim.plots.style import house_style
from sim.stats.key_outcomes import KEY_OUTCOMES

RUN_PICTURES = ("flow", "survival", "cumulative_incidence", "swimmer", "resources")
CENTRE = ROOT / "params" / "scenarios" / "cll1_centre_50_per_year.toml"


@pytest.fixture(scope="module")
def cd5_run(tmp_path_factory, cd5):
    folder = tmp_path_factory.mktemp("cd5")
    write_results(sim.run_trials(cd5, trials=12, seed=3), folder)
    return folder


@pytest.fixture(scope="module")
def centre_run(tmp_path_factory):
    """A centre with limited slots and ICU beds (patients queue and withdraw while waiting), run with --plots."""
    folder = tmp_path_factory.mktemp("centre") / "out"
    assert main(["run", str(PARAMS["cll1_aml"]), "--scenario", str(CENTRE), "--trials", "6", "--seed", "1",
                 "--out", str(folder), "--plots"]) == 0
    return folder


def assert_picture(path, min_bytes: int = 5000) -> None:
    assert path.is_file() and path.stat().st_size > min_bytes, path
    if path.suffix == ".png":
        pixels = image.imread(path)[..., :3]
        assert (pixels < 0.9).any(axis=-1).mean() > 0.01, f"{path.name} is almost blank"
    else:
        assert path.read_text().lstrip().startswith("<?xml") and "<svg" in path.read_text()


@pytest.mark.parametrize("fixture", ["cd5_run", "centre_run"])
def test_every_picture_is_drawn_and_not_empty(fixture, request, capsys):
    folder = request.getfixturevalue(fixture)  # the centre run drew its pictures with 'run --plots'
    if fixture == "cd5_run":
        assert main(["plot", str(folder)]) == 0
        assert "drew 5 pictures" in capsys.readouterr().out
    for name in RUN_PICTURES:
        for fmt in ("png", "svg"):
            assert_picture(folder / "figures" / f"{name}.{fmt}")
    report = (folder / "report.md").read_text()
    assert all(f"(figures/{name}.png)" in report for name in RUN_PICTURES)


@pytest.mark.parametrize("fixture", ["cd5_run", "centre_run"])
def test_flow_counts_add_up_in_every_trial(fixture, request):
    run = read_run(request.getfixturevalue(fixture))
    flow = flow_counts(run.patients)
    assert len(flow) == run.manifest["trials"]
    for name, (box, parts) in flow_identities(flow).items():
        assert np.array_equal(box, parts), name
    assert np.array_equal(flow["enrolled"], np.full(len(flow), len(run.patients) / len(flow)))


def test_the_centre_run_has_queues_and_withdrawals_while_waiting(centre_run):
    patients = read_run(centre_run).patients
    assert np.nanmax(patients["mfg_wait"]) > 0 and np.nanmax(patients["icu_wait"]) > 0
    assert flow_counts(patients)["withdrawn"].sum() > 0


def test_flow_boxes_carry_the_reported_counts(cd5_run):
    by_title = {box.title: box for box in boxes(read_run(cd5_run))}
    enrolled = by_title["Enrolled"].lines[0]
    assert enrolled.column == "enrolled" and enrolled.reported == 19
    outcomes = {line.label: line.reported for line in by_title["No transplant"].lines}
    assert outcomes == {"patients": None, "in remission": 2, "relapsed": 3, "no remission": None,
                        "died of infection": 5, "died of TMA": 2, "died of transplant": None,
                        "died of CRS/ICANS": None}


def test_count_text_shows_median_and_interval_of_values_that_occurred():
    # 41 values 0..40: the 2.5th percentile is the first value whose share at or below reaches 2.5% (1, 2/41)
    assert count_text(np.arange(41)) == "20 [1-39]"
    assert count_text(np.array([3, 3, 3])) == "3 [3-3]"


def test_reported_points_come_from_the_seeds_file(cd5, cll1):
    crude = crude_survival(cd5.seeds)
    assert crude.patients == 16 and crude.months == 14.3
    assert crude.leukaemia_free == pytest.approx(5 / 16)  # in remission: 3 transplanted + 2 not
    assert (crude.alive_low, crude.alive_high) == pytest.approx((5 / 16, 1 - 8 / 16))  # 6 infection + 2 TMA deaths
    assert crude_survival(cll1.seeds) is None  # the CLL-1 abstract reports nothing after day 28
    assert reported_count(cll1.seeds, "withdrawn") == 2 and reported_count(cll1.seeds, "transplanted") is None


def test_csv_tables_read_back_exactly(cd5, tmp_path):
    results = sim.run_trials(cd5, trials=3, seed=3)
    write_results(results, tmp_path)
    run = read_run(tmp_path)
    assert run.patients.names == results.patients.names
    for name in results.patients.names:
        expected, got = results.patients[name], run.patients[name]
        if expected.dtype == object:
            assert list(got) == list(expected), name
        else:
            assert got.dtype.kind == expected.dtype.kind, name
            assert np.array_equal(got.astype(float), expected.astype(float), equal_nan=True), name
    assert np.array_equal(run.facilities["capacity"], results.facilities["capacity"])  # inf survives


def test_plot_command_refuses_a_folder_without_a_run(tmp_path, capsys):
    assert main(["plot", str(tmp_path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "summary.json: not found" in err[0]


@pytest.fixture(scope="module")
def dose_comparison(tmp_path_factory):
    """Dose groups B and C against A: CRS moves, response is the same in every dose arm by construction."""
    out = tmp_path_factory.mktemp("dose") / "cmp"
    scenarios = ROOT / "params" / "scenarios"
    assert main(["compare", *(str(scenarios / f"cll1_dose_{g}.toml") for g in "abc"), "--trials", "5", "--draws", "4",
                 "--inner", "2", "--out", str(out)]) == 0
    return out


def test_the_comparison_chart_is_drawn_from_a_compare_folder(dose_comparison):
    out = dose_comparison
    assert is_comparison(out) and not is_comparison(out / "cll1_dose_a")
    written = draw_comparison(out)
    for fmt in ("png", "svg"):
        assert out / "figures" / f"comparison.{fmt}" in written
        assert_picture(out / "figures" / f"comparison.{fmt}")


def share_axes_above_one(figure) -> list[str]:
    """The x labels of axes that draw a share (or a percentage) yet run above 100%."""
    bad = []
    for ax in figure.axes:
        label = ax.get_xlabel().lower()
        share = "share" in label or "\N{DIVISION SIGN}" in label or "proportion" in label
        if (share and ax.get_xlim()[1] > 1) or ("%" in label and ax.get_xlim()[1] > 100):
            bad.append(ax.get_xlabel())
    return bad


def panel_labels(figure) -> list[str]:
    return [t.get_text() for ax in figure.axes for t in ax.get_yticklabels()] + [ax.get_title() for ax in figure.axes]


@pytest.mark.parametrize("trial", ["cd5", "cll1"])
def test_the_validation_plot_has_no_share_above_one_and_no_panel_for_enrolled(trial, request):
    params = request.getfixturevalue(trial)
    validation = sim.run_validation(params, trials=30, seed=1)
    with house_style():
        figure = validation_figure(validation.table, validation.title)
    labels = panel_labels(figure)
    rows = {r["figure"]: r for r in validation.table.rows()}
    assert share_axes_above_one(figure) == []
    assert not any(rows["enrolled"]["says"] in label for label in labels)  # a design fact: in the notes only
    assert rows["enrolled"]["says"] in figure.get_supxlabel().replace("\n", " ")
    assert not any(key in labels for key in rows)  # labelled by what a figure says, never by its key
    drawn = [r for r in rows.values() if r["status"] != "not modelled" and not is_exact(r)]
    assert sum(len(ax.get_yticks()) for ax in figure.axes if ax.axison) == len(drawn)


def test_a_share_axis_above_one_is_caught():
    figure = Figure()
    ax = figure.add_subplot()
    ax.set_xlabel("count \N{DIVISION SIGN} reported denominator")
    ax.set_xlim(0, 1.5)  # what the forest plot once drew: 16 of 16 read as 119%
    assert share_axes_above_one(figure) == [ax.get_xlabel()]


def test_the_comparison_chart_names_arms_by_title_and_gives_no_panel_to_identical_outcomes(dose_comparison):
    meta = comparison_meta(dose_comparison)
    table = read_table(dose_comparison / "comparison.csv", COMPARISON_TEXT)
    with house_style():
        figure = comparison_figure(table, meta)
    titles = [ax.get_title().replace("\n", " ") for ax in figure.axes]
    note = figure.get_supxlabel().replace("\n", " ")
    differences = ("diff_mean", "diff_low95", "diff_high95", "spread_low95", "spread_high95", "effect_low95",
                   "effect_high95")
    same = {name for name in HEADLINE  # no difference anywhere (NaN: an interval one paired trial cannot give)
            if all(r["trials_paired"] > 0 and (r[c] == 0 or np.isnan(r[c])) for r in table.rows() if r["outcome"] == name
                   for c in differences)}
    assert same, "the dose arms share some headline outcome exactly (withdrawal happens before any dose)"
    for name in HEADLINE:
        label = KEY_OUTCOMES[name].label
        assert (label in titles) == (name not in same) and (label in note) == (name in same), name
    assert KEY_OUTCOMES["crs_g3_rate"].label in titles
    ticks = [t.get_text().replace("\n", " ") for ax in figure.axes for t in ax.get_yticklabels() if t.get_text()]
    assert ticks and not any("cll1_dose" in t or "CLL-1:" in t for t in ticks)
    assert any(t.startswith("every patient at dose group B") for t in ticks)
    assert all(ax.get_xlabel().endswith(")") for ax in figure.axes if ax.get_title())  # every axis has a unit
    assert share_axes_above_one(figure) == []


def test_short_titles_drop_the_shared_trial_prefix_only():
    assert short_titles(["CLL-1: dose A", "CLL-1: dose B"]) == ["dose A", "dose B"]
    assert short_titles(["CLL-1: dose A", "CD5: cohort A"]) == ["CLL-1: dose A", "CD5: cohort A"]
    assert short_titles(["CLL-1 at a centre"]) == ["CLL-1 at a centre"]


def test_the_comparison_chart_shares_one_scale_per_outcome_kind_in_the_terminals_order(dose_comparison):
    meta = comparison_meta(dose_comparison)
    table = read_table(dose_comparison / "comparison.csv", COMPARISON_TEXT)
    with house_style():
        figure = comparison_figure(table, meta)
    panels = [ax for ax in figure.axes if ax.get_title()]
    kinds = {}
    for ax in panels:
        kinds.setdefault(ax.get_xlabel(), []).append(ax.get_xlim())
    assert any(len(limits) > 1 for limits in kinds.values())  # else the check below says nothing
    assert all(len(set(limits)) == 1 for limits in kinds.values()), kinds
    order = list(dict.fromkeys(row["outcome"] for row in table.rows()))  # the order the terminal prints
    titles = [ax.get_title().replace("\n", " ") for ax in panels]
    expected = [KEY_OUTCOMES[name].label for name in shown_outcomes(table)]
    assert titles == expected and shown_outcomes(table) == [n for n in order if n in shown_outcomes(table)]


def test_saving_a_figure_twice_gives_the_same_bytes(tmp_path):
    """No time stamp and no random ids: a picture regenerated from the same numbers is the same file."""
    from sim.plots.style import new_figure, save

    with house_style():
        figure = new_figure(3, 2)
        figure.add_subplot().plot([0, 1, 2], [1, 0, 2], label="x")
    first = [p.read_bytes() for p in save(figure, tmp_path / "a", "f")]
    second = [p.read_bytes() for p in save(figure, tmp_path / "b", "f")]
    assert first == second and b"<dc:date>" not in first[1]
