"""Scenario files: the shipped ones load, changes land where they should, and bad input is refused.

Bad input is checked at both layers: ``load_scenario`` raises an InputError naming the scenario file,
the key and the problem; ``cartsim run PARAMS --scenario FILE`` (in-process, and once as a real
process) exits with status 2, prints one line on stderr and nothing on stdout, and writes nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import sim
from sim.output.shown_path import shown_path
from conftest import PARAMS, ROOT, SCENARIO_HEAD, write_scenario
from sim.cli.main import main
from sim.inputs.parameter_draws import INVERSE_CDF, draw_trial_parameters, inverse_cdf
from sim.runs.runner import trial_parameters
from sim.inputs.scenarios import is_scenario_file, load_params_or_scenario, load_scenario
from sim.inputs.uncertainty import parse_scalar

SCENARIOS = sorted((ROOT / "params" / "scenarios").glob("*.toml"))
def test_every_shipped_scenario_loads_and_changes_something():
    assert len(SCENARIOS) >= 10
    for path in SCENARIOS:
        params = load_scenario(path)
        assert params.scenario.changed, path.name
        assert params.path == path and params.scenario.base_path in {p.resolve() for p in PARAMS.values()}
        assert len(params.scenario.description) > 100, "a shipped scenario says what it asks"


def test_dose_scenarios_say_what_cr_by_dose_rests_on():
    # the description names the lever by which CR depends on dose, and it is what the params file holds:
    # an assumption with no effect at its base value
    for level in "abc":
        params = load_scenario(ROOT / "params" / "scenarios" / f"cll1_dose_{level}.toml")
        text = params.scenario.description
        assert "response.dose_log_odds" in text and "assumed range" in text
        entry = params.entries["response.dose_log_odds"]
        assert entry.source == "assumption" and entry.value == 0 and entry.uncertainty is not None


def test_a_scenario_replaces_whole_entries_and_leaves_the_rest(cll1):
    params = load_scenario(ROOT / "params" / "scenarios" / "cll1_cd4_cd8_adjusted.toml")
    entry = params.entries["crs.severity_log_odds_shift"]
    assert entry.value == -0.7 and entry.source == "assumption" and repr(entry.uncertainty) == "uniform[-1.4, 0.0]"
    assert cll1.entries["crs.severity_log_odds_shift"].uncertainty is None  # the base is not touched
    summary = lambda p: {k: (e.value, e.source, e.note, repr(e.uncertainty))  # noqa: E731
                         for k, e in p.entries.items() if k != "crs.severity_log_odds_shift"}
    assert summary(params) == summary(cll1)
    assert params.scenario.base_values == ("0",)


def test_one_argument_of_a_duration_or_a_whole_duration(tmp_path, cll1):
    one = load_scenario(write_scenario(tmp_path, '[manufacturing.manufacturing_days]\n'
                                       'median = { value = 7, source = "scenario", note = "faster" }\n'))
    assert one.timedist("manufacturing.manufacturing_days") == ("lognormal", {"loc": 0.0, "median": 7.0, "sigma": 0.25})
    whole = load_scenario(write_scenario(tmp_path, '[manufacturing.manufacturing_days]\nfamily = "fixed"\n'
                                         'days = { value = 10, source = "scenario", note = "ten days" }\n'))
    assert whole.timedist("manufacturing.manufacturing_days") == ("fixed", {"days": 10.0})
    assert "manufacturing.manufacturing_days.median" not in whole.entries  # the old arguments are gone


def test_a_dose_level_can_be_added_and_used(tmp_path):
    body = ('[dose.levels]\nD = { value = 2.0, source = "scenario", note = "new" }\n'
            '[dose]\nallocation = { value = { D = 1 }, source = "scenario", note = "all D" }\n')
    params = load_scenario(write_scenario(tmp_path, body))
    assert params.dose_levels()["D"] == 2.0
    record = sim.simulate_trial(params, seed=1, trial=0)
    infused = ~np.isnan(record["t_infusion"])
    assert set(record["dose_level"][infused]) == {"D"}


def test_parameters_or_scenario_file_is_recognised():
    assert is_scenario_file(SCENARIOS[0]) and not is_scenario_file(PARAMS["cd5_tall"])
    assert load_params_or_scenario(PARAMS["cd5_tall"]).scenario is None


# --- bad input ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Bad:
    id: str
    body: str
    key: str
    problem: str
    head: str = SCENARIO_HEAD


BAD = [
    Bad("unknown-top-level-key", 'titel = "x"\n', "titel", "unknown key"),
    Bad("unknown-section", "[crss]\nincidence = 1\n", "crss", "unknown key"),
    Bad("trial-section", '[trial]\nname = "x"\n', "trial", "cannot change the trial section"),
    Bad("section-not-a-table", "crs = 3\n", "crs", "must be a table"),
    Bad("misspelt-parameter", '[crs]\nincidense = { value = 0.5, source = "scenario", note = "x" }\n',
        "crs.incidense", "unknown key"),
    Bad("unknown-entry-field", '[crs]\nincidence = { value = 0.5, source = "scenario", note = "x", colour = 1 }\n',
        "crs.incidence.colour", "unknown key"),
    Bad("probability-above-one", '[crs]\nincidence = { value = 1.5, source = "scenario", note = "x" }\n',
        "crs.incidence.value", "a probability must be in [0, 1]"),
    Bad("value-not-a-number", '[crs]\nincidence = { value = "high", source = "scenario", note = "x" }\n',
        "crs.incidence.value", "must be a number"),
    Bad("entry-without-source", "[crs]\nincidence = { value = 0.5 }\n", "crs.incidence.source", "missing"),
    Bad("scenario-without-note", '[crs]\nincidence = { value = 0.5, source = "scenario" }\n',
        "crs.incidence.note", "must say why"),
    Bad("assumption-without-range", '[crs]\nincidence = { value = 0.5, source = "assumption", note = "x" }\n',
        "crs.incidence.uncertainty", "plausible range"),
    Bad("bad-uncertainty",
        '[crs]\nincidence = { value = 0.5, source = "assumption", note = "x", '
        'uncertainty = { uniform = [0.9, 0.1] } }\n',
        "crs.incidence.uncertainty.uniform", "needs low < high"),
    Bad("unknown-seeds-key", '[crs]\nincidence = { value = 0.5, source = "seeds:nothing" }\n',
        "crs.incidence.source", "names no figure"),
    Bad("unknown-dose-level", '[dose]\nallocation = { value = { Z = 1 }, source = "scenario", note = "x" }\n',
        "dose.allocation.value.Z", "does not exist"),
    Bad("wrong-duration-argument",
        '[manufacturing.manufacturing_days]\nmean = { value = 7, source = "scenario", note = "x" }\n',
        "manufacturing.manufacturing_days.mean", "unknown key for a lognormal"),
    Bad("inconsistent-duration", '[transplant.delay_days]\nmedian = { value = 20, source = "scenario", note = "x" }\n',
        "transplant.delay_days", "needs median > loc"),
    Bad("capacity-not-whole", '[resources]\nicu_beds = { value = 1.5, source = "scenario", note = "x" }\n',
        "resources.icu_beds.value", "whole number"),
    Bad("missing-description", "", "description", "missing", head='base = "{base}"\ntitle = "t"\n'),
    Bad("empty-title", "", "title", "non-empty string", head='base = "{base}"\ntitle = ""\ndescription = "d"\n'),
    Bad("base-not-found", "", "base", "not found", head='base = "nowhere.toml"\ntitle = "t"\ndescription = "d"\n'),
    Bad("not-toml", "[crs\n", "", "not valid TOML"),
]


@pytest.mark.parametrize("case", BAD, ids=[c.id for c in BAD])
def test_load_scenario_refuses_bad_input(case, tmp_path):
    path = write_scenario(tmp_path, case.body, head=case.head)
    with pytest.raises(sim.InputError) as caught:
        load_scenario(path)
    assert caught.value.source == str(path)
    assert caught.value.key == case.key
    assert case.problem in caught.value.problem


@pytest.mark.parametrize("case", BAD, ids=[c.id for c in BAD])
def test_cli_refuses_bad_scenario_with_one_line_and_writes_nothing(case, tmp_path, capsys):
    path = write_scenario(tmp_path, case.body, head=case.head)
    out = tmp_path / "out"
    status = main(["run", str(PARAMS["cll1_aml"]), "--scenario", str(path), "--trials", "2", "--out", str(out)])
    captured = capsys.readouterr()
    assert status == 2 and captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"cartsim: error: {path}: {case.key + ': ' if case.key else ''}")
    assert not out.exists()


def test_cli_refuses_a_scenario_written_for_another_params_file(tmp_path, capsys):
    path = write_scenario(tmp_path, "", trial="cd5_tall")
    status = main(["run", str(PARAMS["cll1_aml"]), "--scenario", str(path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.splitlines()
    assert status == 2 and len(err) == 1 and f"{path}: base: " in err[0] and not (tmp_path / "out").exists()


def test_a_real_process_exits_with_status_2(tmp_path):
    path = write_scenario(tmp_path, BAD[4].body)
    done = subprocess.run([sys.executable, "-m", "sim", "run", str(PARAMS["cll1_aml"]), "--scenario", str(path),
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2 and done.stdout == "" and len(done.stderr.splitlines()) == 1
    assert "crs.incidense: unknown key" in done.stderr and not (tmp_path / "out").exists()


# --- running a scenario ---------------------------------------------------------------------------------------
def test_run_with_a_scenario_records_it(tmp_path, capsys):
    scenario = ROOT / "params" / "scenarios" / "cll1_dose_c.toml"
    out = tmp_path / "out"
    assert main(["run", str(PARAMS["cll1_aml"]), "--scenario", str(scenario), "--trials", "3", "--out", str(out)]) == 0
    assert "scenario cll1_dose_c" in capsys.readouterr().out
    manifest = sim_json(out)["manifest"]
    assert manifest["scenario"]["name"] == "cll1_dose_c" and manifest["scenario"]["changed"] == ["dose.allocation"]
    assert manifest["params_file"] == shown_path(scenario) and not Path(manifest["params_file"]).is_absolute()
    dose = {row.split(",")[0]: row for row in (out / "parameters.csv").read_text().splitlines()}
    assert dose["dose.allocation"].endswith(",cll1_dose_c")


def sim_json(folder: Path) -> dict:
    return json.loads((folder / "summary.json").read_text())


# --- parameter draws on common random numbers ----------------------------------------------------------------
@pytest.mark.parametrize("spec", [{"beta": [3, 12]}, {"beta": [0, 12]}, {"beta": [12, 12]}, {"gamma": [2, 294]},
                                  {"gamma": [0, 1400]}, {"beta_ab": [0.5, 20]}, {"uniform": [-1.4, 0]},
                                  {"triangular": [8, 9, 10]}, {"triangular": [0, 0, 1]}, {"lognormal": [30, 0.5]}])
def test_written_out_inverse_cdfs_equal_scipy(spec):
    uncertainty = parse_scalar(spec, "test", "x")
    assert uncertainty.kind in INVERSE_CDF
    for q in (1e-6, 0.025, 0.3, 0.5, 0.77, 0.975, 1 - 1e-6):
        assert inverse_cdf(uncertainty, q) == pytest.approx(uncertainty.ppf(q), rel=1e-9, abs=1e-12)


def test_parameter_draws_follow_their_distribution(cll1):
    # 400 draws of the entry's distribution (uniform[0.25, 0.75]): the KS test at the 0.1% level fails a
    # correct sampler 1 time in 1000
    assert cll1.entries["donor.search_days.sigma"].uncertainty.args == (0.25, 0.75)
    draws = [trial_parameters(cll1, 3, k)["donor.search_days.sigma"] for k in range(400)]
    assert stats.kstest(draws, stats.uniform(0.25, 0.5).cdf).pvalue > 1e-3


def test_a_parameter_the_scenario_leaves_alone_is_drawn_the_same(cll1):
    # the scenario adds an uncertainty (one more stream) and changes another parameter's range:
    # every other parameter must be drawn exactly as in the base, trial by trial
    scenario = load_scenario(ROOT / "params" / "scenarios" / "cll1_cd4_cd8_adjusted.toml")
    for k in range(5):
        base, changed = draw_trial_parameters(cll1, 0, k), draw_trial_parameters(scenario, 0, k)
        differ = {p for p in base.entries if base[p] != changed[p]}
        assert differ == {"crs.severity_log_odds_shift"}
        assert -1.4 <= changed["crs.severity_log_odds_shift"] <= 0


def test_an_edited_value_survives_parameter_draws(cd5):
    """with_values fixes the entry: every draw keeps the edit, and the other parameters are still drawn.

    Fails if the draw redraws the edited entry from its old distribution (the edit would be undone)."""
    path, base = "late.infection_death_hazard", cd5["late.infection_death_hazard"]
    edited = cd5.with_values({path: 3 * base})
    assert path not in edited.uncertain() and len(edited.uncertain()) == len(cd5.uncertain()) - 1
    draws = [draw_trial_parameters(edited, seed=0, trial=k) for k in range(20)]
    assert all(d[path] == 3 * base for d in draws)
    # the relapse level is still drawn: with joint posterior draws, from one of their 1000 rows per trial, so
    # 20 trials share a row now and then (about 0.2 repeats expected; fewer than 15 distinct is all but impossible)
    assert len({d["late.relapse_hazard"] for d in draws}) >= 15
    original = sim.run_trials(cd5, trials=300, seed=0, parameter_uncertainty=True).patients
    tripled = sim.run_trials(edited, trials=300, seed=0, parameter_uncertainty=True).patients
    deaths = [np.count_nonzero(t["final_state"] == "died_infection") for t in (original, tripled)]
    assert deaths[1] > deaths[0]
