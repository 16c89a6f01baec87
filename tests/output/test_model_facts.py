"""The report's model section follows the model: change a fact and the text changes with it."""

from __future__ import annotations

import re

import pytest

import sim
from conftest import ROOT
from sim.inputs import schema
from sim.model import draws
from sim.output import model_facts
from sim.output.report import render_report
from sim.output.run_files import write_results
from sim.output.run_folder import read_run

STALE = (r"(?<!piecewise-)constant hazards", "no deaths within 30 days", "response does not depend on dose",
         r"SeedSequence\(seed, k\)")  # the report once said these; the model has none of them


def lookup(params):
    return lambda path: str(params[path])


@pytest.fixture(scope="module")
def cd5():
    return sim.load_params(ROOT / "params" / "cd5_tall.toml")


def report_of(params, folder) -> str:
    write_results(sim.run_trials(params, trials=2, seed=3), folder, command=["cartsim", "run", "x"])
    return render_report(read_run(folder))


def test_the_band_start_days_are_the_runs_own(cd5):
    text = model_facts.late_course(lookup(cd5))
    starts = [cd5[f"late.band_{k}_start_days"] for k in range(2, schema.LATE_BANDS + 1)]
    for k, day in enumerate(starts, 2):
        assert f"band {k} from day {day:g}" in text
    moved = model_facts.late_course(lookup(cd5.with_values({"late.band_2_start_days": starts[0] + 17})))
    assert f"band 2 from day {starts[0] + 17:g}" in moved and f"band 2 from day {starts[0]:g}" not in moved


def test_a_new_late_cause_appears_in_the_text(cd5, monkeypatch):
    assert "`gvhd_death`" not in model_facts.late_course(lookup(cd5))
    monkeypatch.setitem(schema.LATE_HAZARD_NAMES, "gvhd", "gvhd_death")
    monkeypatch.setitem(schema.SCHEMA, "late", {**schema.SCHEMA["late"], "gvhd_death_hazard": schema.RATE})
    assert "`gvhd_death`" in model_facts.late_course(lookup(cd5))


def test_a_cause_after_transplant_only_is_said_so(cd5):
    always, after_only = model_facts.late_causes()
    assert after_only == ["transplant_death"] and "relapse" in always
    assert "`transplant_death` (after a transplant only)" in model_facts.late_course(lookup(cd5))


def test_the_levers_are_every_real_valued_entry_with_its_value(cd5):
    paths = [path for path, _ in model_facts.levers(lookup(cd5))]
    assert "response.dose_log_odds" in paths and "crs.severity_log_odds_shift" in paths
    shifted = model_facts.lever_sentence(lookup(cd5.with_values({"crs.severity_log_odds_shift": -0.7})))
    assert "`crs.severity_log_odds_shift` = -0.7" in shifted


def test_the_streams_and_the_generator_come_from_their_modules(monkeypatch):
    text = model_facts.random_numbers()
    assert f"{len(draws.STREAMS)} named streams" in text and "SplitMix64" in text
    monkeypatch.setattr(draws, "STREAMS", (*draws.STREAMS, "new_stream"))
    assert "new_stream" in model_facts.random_numbers()


def test_the_report_carries_the_facts_and_none_of_the_stale_statements(cd5, tmp_path):
    report = report_of(cd5, tmp_path / "a")
    for stale in STALE:
        assert not re.search(stale, report, flags=re.I), stale
    assert model_facts.band_sentence(lookup(cd5)) in report and "SplitMix64" in report
    assert "`died_toxicity`" in report and "`response.dose_log_odds`" in report
    moved = report_of(cd5.with_values({"late.band_3_start_days": 200}), tmp_path / "b")
    assert "band 3 from day 200" in moved and "band 3 from day 200" not in report
