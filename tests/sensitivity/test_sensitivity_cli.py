"""`cartsim sensitivity` as a user meets it: each method end to end, scenarios, and bad options as one
line with exit status 2 (run in-process through sim.cli.main.main, as the installed command runs it)."""

from __future__ import annotations

import json
import socket

import pytest

from sim.cli.main import main

from conftest import PARAMS

SMALL = {"psa": ["--draws", "8", "--inner", "2"], "oneway": ["--inner", "2", "--inputs", "late"],
         "sobol": ["--samples", "4", "--inner", "2", "--inputs", "late.relapse_hazard,crs.incidence",
                   "--bootstrap", "100"],
         "morris": ["--trajectories", "2", "--inner", "2", "--inputs", "late", "--bootstrap", "100"]}
FILES = {"psa": {"psa_summary.csv", "psa_draws.csv", "psa.json", "figures/psa.png"},
         "oneway": {"oneway.csv", "oneway.json", "figures/tornado_os_12m.png", "figures/tornado_os_12m.svg"},
         "sobol": {"sobol.csv", "sobol.json", "figures/sobol_os_12m.png", "figures/sobol_os_12m.svg"},
         "morris": {"morris.csv", "morris.json", "figures/morris_os_12m.png", "figures/morris_os_12m.svg"}}


def cartsim(capsys, *args: str) -> tuple[int, str, str]:
    try:
        status = main(list(args))
    except SystemExit as exit_:
        status = exit_.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def error_line(err: str) -> str:
    """The one line an error prints (progress lines aside)."""
    lines = [line for line in err.splitlines() if "error" in line]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("method", list(SMALL))
def test_each_method_runs_and_writes_its_files(method, capsys, tmp_path):
    status, out, err = cartsim(capsys, "sensitivity", method, str(PARAMS["cd5_tall"]), "--outcomes", "os_12m",
                               "--workers", "1", "--seed", "0", "--out", str(tmp_path), *SMALL[method])
    assert status == 0, err
    assert "cd5_tall" in out and "wrote" in out
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert FILES[method] <= written and {"run.json", "evaluations.jsonl"} <= written
    manifest = json.loads((tmp_path / f"{method}.json").read_text())["manifest"]
    assert manifest["seed"] == 0 and manifest["method"] == method and len(manifest["params_fingerprint"]) == 64
    assert manifest["outcomes"] == ["os_12m"]


def test_a_scenario_is_analysed_on_its_base(capsys, tmp_path):
    scenario = tmp_path / "slow_manufacturing.toml"
    scenario.write_text(f'base = "{PARAMS["cd5_tall"]}"\ntitle = "slow"\ndescription = "a 21-day process"\n'
                        '[manufacturing.manufacturing_days]\nmedian = { value = 21, source = "scenario", '
                        'note = "slow" }\n')
    status, out, err = cartsim(capsys, "sensitivity", "psa", str(PARAMS["cd5_tall"]), "--scenario", str(scenario),
                               "--outcomes", "n_withdrawn", "--inputs", "withdrawal", "--workers", "1",
                               "--out", str(tmp_path / "out"), *SMALL["psa"])
    assert status == 0, err
    assert "cd5_tall: slow_manufacturing" in out
    manifest = json.loads((tmp_path / "out" / "psa.json").read_text())["manifest"]
    assert manifest["study"] == "cd5_tall: slow_manufacturing"
    assert manifest["params_file"] == str(scenario)


def test_a_scenario_of_another_trial_is_refused(capsys, tmp_path):
    scenario = tmp_path / "other.toml"
    scenario.write_text(f'base = "{PARAMS["cll1_aml"]}"\ntitle = "t"\ndescription = "d"\n')
    status, _, err = cartsim(capsys, "sensitivity", "psa", str(PARAMS["cd5_tall"]), "--scenario", str(scenario))
    assert status == 2 and "base" in error_line(err)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("args, named", [
    (["--outcomes", "os_12m,crs_grade3plus"], "crs_grade3plus"),
    (["--inputs", "crs.incidense"], "crs.incidense"),
    (["--inputs", "crs.reference_dose"], "no uncertainty distribution"),
    (["--workers", "2", "--dask", "tcp://127.0.0.1:8786"], "--workers"),
    (["--draws", "1"], "--draws"),
    (["--enrolled", "0"], "--enrolled"),
])
def test_bad_options_are_one_line_and_exit_status_2(args, named, capsys, tmp_path):
    status, _, err = cartsim(capsys, "sensitivity", "psa", str(PARAMS["cd5_tall"]), "--out", str(tmp_path / "o"), *args)
    assert status == 2
    assert named in error_line(err)
    assert not (tmp_path / "o").exists()  # nothing written


def test_an_unreachable_scheduler_is_one_line_and_exit_status_2(capsys, tmp_path):
    address = f"tcp://127.0.0.1:{closed_port()}"
    status, _, err = cartsim(capsys, "sensitivity", "psa", str(PARAMS["cd5_tall"]), "--dask", address,
                             "--dask-timeout", "1", "--out", str(tmp_path / "o"))
    assert status == 2
    line = error_line(err)
    assert address in line and "cannot reach the Dask scheduler" in line
    assert not (tmp_path / "o").exists()


def test_sobol_samples_must_be_a_power_of_two(capsys, tmp_path):
    status, _, err = cartsim(capsys, "sensitivity", "sobol", str(PARAMS["cd5_tall"]), "--samples", "100",
                             "--out", str(tmp_path / "o"))
    assert status == 2 and "power of 2" in error_line(err)


def test_help_lists_the_methods_and_the_outcomes(capsys):
    status, out, _ = cartsim(capsys, "sensitivity", "--help")
    assert status == 0 and all(method in out for method in SMALL)
    status, out, _ = cartsim(capsys, "sensitivity", "sobol", "--help")
    assert status == 0
    for text in ("--samples", "--resume", "--dask", "--workers", "os_12m", "nrm_12m", "icu_beds_in_use", "sobol.csv"):
        assert text in out


def test_patient_tables_only_when_asked(capsys, tmp_path):
    status, _, err = cartsim(capsys, "sensitivity", "psa", str(PARAMS["cd5_tall"]), "--outcomes", "os_12m",
                             "--workers", "1", "--save-patients", "--out", str(tmp_path), *SMALL["psa"])
    assert status == 0, err
    tables = sorted((tmp_path / "patients").glob("evaluation-*.csv"))
    assert len(tables) == 8
    rows = tables[0].read_text().splitlines()
    assert rows[0].startswith("trial,patient,") and len(rows) == 1 + 2 * 19  # inner trials x enrolled
    status, _, err = cartsim(capsys, "sensitivity", "psa", str(PARAMS["cd5_tall"]), "--outcomes", "os_12m",
                             "--workers", "1", "--out", str(tmp_path / "plain"), *SMALL["psa"])
    assert status == 0 and not (tmp_path / "plain" / "patients").exists()


def test_without_the_optional_extras_morris_and_dask_say_what_to_install(capsys, tmp_path, monkeypatch):
    """The base install (no SALib, no Dask) runs the other methods; these two ask for their extra."""
    for module in ("SALib", "SALib.sample", "SALib.analyze", "distributed"):
        monkeypatch.setitem(__import__("sys").modules, module, None)
    status, _, err = cartsim(capsys, "sensitivity", "morris", str(PARAMS["cd5_tall"]), "--out", str(tmp_path / "m"))
    assert status == 2 and "pip install 'cartsim[sensitivity]'" in error_line(err)
    status, _, err = cartsim(capsys, "sensitivity", "psa", str(PARAMS["cd5_tall"]), "--dask", "local",
                             "--out", str(tmp_path / "d"))
    assert status == 2 and "pip install 'cartsim[dask]'" in error_line(err)
