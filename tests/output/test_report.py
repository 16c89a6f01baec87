"""The run report (STRESS-DES layout, filled from the run's files) and the progress bar."""

from __future__ import annotations

import io
import re

import pytest

import sim
from conftest import ROOT
from sim.cli.progress import ProgressBar
from sim.output.run_files import write_results
from sim.inputs.provenance import parameter_table
from sim.output.report import render_report
from sim.output.run_folder import read_run
from sim.inputs.scenarios import load_scenario

STRESS_ITEMS = ("1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "2.4", "2.5", "2.5.1", "2.5.2", "2.5.3", "2.5.4", "2.5.5",
                "3.1", "3.2", "3.3", "3.4", "4.1", "4.2", "4.3", "5.1", "5.2", "5.3", "5.4", "6.1")
SECTIONS = ("## 1. Objectives", "## 2. Logic", "## 3. Data", "## 4. Experimentation", "## 5. Implementation",
            "## 6. Code access")


@pytest.fixture(scope="module")
def scenario_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    params = load_scenario(ROOT / "params" / "scenarios" / "cd5_transplant_all_responders.toml")
    write_results(sim.run_trials(params, trials=4, seed=6), folder, command=["cartsim", "run", "x"])
    return folder


def test_every_checklist_item_appears_in_order(scenario_run):
    report = (scenario_run / "report.md").read_text()
    positions = [report.index(section) for section in SECTIONS]
    assert positions == sorted(positions)
    items = [re.search(rf"(\*\*|- ){re.escape(item)} ", report) for item in STRESS_ITEMS]
    assert all(items), [i for i, m in zip(STRESS_ITEMS, items) if not m]
    assert [m.start() for m in items] == sorted(m.start() for m in items)


def test_the_report_is_filled_from_the_run_metadata(scenario_run):
    report = (scenario_run / "report.md").read_text()
    manifest = read_run(scenario_run).manifest
    assert "4 virtual trials, seed 6" in report and "`cartsim run x`" in report
    assert f"Python {manifest['python']}" in report and f"numpy {manifest['libraries']['numpy']}" in report
    assert f"{manifest['machine']['cpus']} CPUs" in report and manifest["params_sha256"][:16] in report
    assert "Pan J" in report  # the citation


def test_every_parameter_is_in_the_provenance_table(scenario_run):
    params = load_scenario(ROOT / "params" / "scenarios" / "cd5_transplant_all_responders.toml")
    report = (scenario_run / "report.md").read_text()
    rows = {line.split(" | ")[0].strip("| `"): line for line in report.splitlines() if line.startswith("| `")}
    for path, entry in params.entries.items():
        assert path in rows, path
        assert f"| {entry.source} |" in rows[path]
    assert rows["transplant.p_if_cr_same_donor"].rstrip().endswith("| yes |")  # set by the scenario


def test_the_scenario_logic_lists_each_change_with_its_base_value(scenario_run):
    report = (scenario_run / "report.md").read_text()
    assert "| `transplant.p_if_cr_same_donor` | 0.25 | 1 |" in report
    assert "(A) Scenario **cd5_transplant_all_responders**" in report


def test_without_pictures_the_report_says_how_to_draw_them(scenario_run):
    assert "cartsim plot" in render_report(read_run(scenario_run)).split("## Results")[1]


def test_parameter_table_has_a_row_per_entry_text_and_family(cd5):
    table = parameter_table(cd5)
    assert len(table) == len(cd5.entries) + len([v for v in cd5.text.values() if v is not None]) + len(cd5.families)
    assert set(cd5.entries) <= set(table["path"]) and set(table["scenario"]) == {""}


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_waits_then_draws_on_a_terminal_and_ends_its_line():
    now = [0.0]
    stream = Terminal()
    with ProgressBar(stream, delay=2.0, clock=lambda: now[0]) as bar:
        bar(1, 10)
        assert stream.getvalue() == ""  # a short run says nothing
        now[0] = 4.0
        bar(5, 10)
        assert stream.getvalue().startswith("\r[" + "#" * 15 + " " * 15 + "]  50%  5/10 trials, 4 s left")
        drawn = stream.getvalue()
        bar(6, 10)
        assert stream.getvalue() == drawn  # no redraw within a fifth of a second
        now[0] = 4.5
        bar(7, 10)
        assert stream.getvalue() != drawn
    assert stream.getvalue().endswith("\n")


def test_progress_bar_is_silent_when_stderr_is_not_a_terminal():
    stream = io.StringIO()
    with ProgressBar(stream, delay=0.0) as bar:
        bar(3, 3)
    assert stream.getvalue() == ""


def test_parameter_values_read_back_exactly(cd5):
    """parameters.csv gives each value as the shortest text that reads back to it, not a rounded one."""
    exact = cd5.with_values({"crs.incidence": 0.123456789012345, "accrual.mean_period_days": 365.0})
    table = parameter_table(exact)
    shown = dict(zip(table["path"].tolist(), table["value"].tolist()))
    assert float(shown["crs.incidence"]) == 0.123456789012345 and shown["accrual.mean_period_days"] == "365"
    assert all(float(shown[path]) == exact[path] for path, entry in exact.entries.items()
               if isinstance(entry.value, float))


def _late_table(source: str, note: str):
    from sim.table import Table

    return Table({"path": ["a.b", "late.infection_death_hazard"], "source": ["assumption", source],
                  "note": ["a reason", note]})


@pytest.mark.parametrize("source, note, said", [
    ("predicted", "PREDICTED for a new trial: rests on 2 trials, tau 0.5", True),
    ("calibration", "partially pooled posterior of the evidence synthesis: 9 series, tau 0.5", True),
    ("calibration", "calibrated by cartsim calibrate to 5 of 12", False),  # a trial's own fit: nothing pooled
])
def test_the_report_says_what_a_synthesised_late_course_rests_on(source, note, said):
    from sim.output.report import _source_counts

    text = _source_counts(_late_table(source, note))
    assert (f"The late course: {note}." in text) is said
