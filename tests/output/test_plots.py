"""Pictures: every one is drawn from the saved files, is not empty, and the flow diagram's counts add up."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib import image

import sim
from conftest import PARAMS, ROOT
from sim.cli.main import main
from sim.stats.consort import flow_counts, flow_identities
from sim.output.run_files import write_results
from sim.plots.draw import draw_comparison, is_comparison
from sim.plots.consort_diagram import boxes, count_text
from sim.plots.overlay import crude_survival, reported_count
from sim.output.run_folder import read_run

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


def test_the_comparison_chart_is_drawn_from_a_compare_folder(tmp_path, capsys):
    out = tmp_path / "cmp"
    scenarios = ROOT / "params" / "scenarios"
    assert main(["compare", str(PARAMS["cll1_aml"]), str(scenarios / "cll1_cd4_cd8_adjusted.toml"),
                 str(scenarios / "cll1_faster_manufacturing.toml"), "--trials", "5", "--draws", "4", "--inner", "2",
                 "--out", str(out)]) == 0
    assert is_comparison(out) and not is_comparison(out / "cll1_aml")
    written = draw_comparison(out)
    for fmt in ("png", "svg"):
        assert out / "figures" / f"comparison.{fmt}" in written
        assert_picture(out / "figures" / f"comparison.{fmt}")
