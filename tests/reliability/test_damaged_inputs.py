"""Damaged run folders and logs, names that would leave their folder, odd option values, unwritable places:
each is one line naming the file, key or option, exit status 2, and nothing written."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from cli_runs import in_process as cli, refused  # noqa: E402

from sim.errors import InputError
from sim.sensitivity import run_psa
from sim.sensitivity.store import LOG, STATE

ROOT = Path(__file__).resolve().parents[2]
PARAMS = ROOT / "params" / "cd5_tall.toml"
CLL1 = ROOT / "params" / "cll1_aml.toml"
SCENARIO = ROOT / "params" / "scenarios" / "cll1_dose_a.toml"


def snapshot(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# --- plot on damaged folders ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("saved")
    assert cli("run", PARAMS, "--trials", "3", "--out", folder / "run", cwd=folder).returncode == 0
    scenario = folder / "dose_b.toml"
    scenario.write_text(SCENARIO.read_text().replace('base = "../cll1_aml.toml"', f'base = "{CLL1}"'))
    assert cli("compare", CLL1, scenario, "--trials", "2", "--out", folder / "compare", cwd=folder).returncode == 0
    return {"run": folder / "run", "compare": folder / "compare"}


def damaged_copy(saved: dict[str, Path], which: str, tmp_path: Path) -> Path:
    folder = tmp_path / which
    shutil.copytree(saved[which], folder)
    return folder


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2 + 7])


RUN_DAMAGE = {
    "summary-empty-object": (lambda f: (f / "summary.json").write_text("{}"), ["summary.json", "manifest"]),
    "summary-not-json": (lambda f: (f / "summary.json").write_text("{oops"), ["summary.json", "cannot read"]),
    "summary-a-list": (lambda f: (f / "summary.json").write_text("[1, 2]"), ["summary.json", "damaged"]),
    "patients-truncated": (lambda f: _truncate(f / "patients.csv"), ["patients.csv"]),
    "patients-missing": (lambda f: (f / "patients.csv").unlink(), ["patients.csv", "not found"]),
    "figures-a-file": (lambda f: (f / "figures").write_text("x"), ["figures", "not a folder"]),
}


@pytest.mark.parametrize("damage", sorted(RUN_DAMAGE))
def test_plot_refuses_a_damaged_run_folder_and_leaves_it_alone(saved, tmp_path, damage):
    folder = damaged_copy(saved, "run", tmp_path)
    spoil, fragments = RUN_DAMAGE[damage]
    spoil(folder)
    before = snapshot(folder)
    refused(cli("plot", folder, cwd=tmp_path), *fragments)
    assert snapshot(folder) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def _meta(folder: Path, change) -> None:
    meta = json.loads((folder / "comparison.json").read_text())
    change(meta)
    (folder / "comparison.json").write_text(json.dumps(meta))


COMPARE_DAMAGE = {
    "absolute-arm-folder": (lambda f, other: _meta(f, lambda m: m["base"].update(folder=str(other))),
                            ["comparison.json", "base.folder", "must name a folder inside"]),
    "arm-folder-dot-dot": (lambda f, other: _meta(f, lambda m: m["scenarios"][0].update(folder="..")),
                           ["comparison.json", "scenarios[0].folder"]),
    "comparison-not-json": (lambda f, other: (f / "comparison.json").write_text("{"), ["comparison.json"]),
    "comparison-without-arms": (lambda f, other: (f / "comparison.json").write_text('{"trials": 2}'),
                                ["comparison.json", "damaged"]),
}


@pytest.mark.parametrize("damage", sorted(COMPARE_DAMAGE))
def test_plot_writes_only_inside_the_comparison_folder_it_was_given(saved, tmp_path, damage):
    folder = damaged_copy(saved, "compare", tmp_path)
    other = damaged_copy(saved, "run", tmp_path)  # another run's folder, which plot must not touch
    spoil, fragments = COMPARE_DAMAGE[damage]
    spoil(folder, other)
    before, theirs = snapshot(folder), snapshot(other)
    refused(cli("plot", folder, cwd=tmp_path), *fragments)
    assert snapshot(folder) == before and snapshot(other) == theirs


def test_plot_of_a_missing_folder(tmp_path):
    refused(cli("plot", tmp_path / "nope", cwd=tmp_path), "not found")
    assert list(tmp_path.iterdir()) == []


# --- names that would leave their folder ------------------------------------------------------------------------


def test_a_scenario_file_named_dots_is_refused(tmp_path):
    scenario = tmp_path / "...toml"
    scenario.write_text(SCENARIO.read_text().replace('base = "../cll1_aml.toml"', f'base = "{CLL1}"'))
    for args in (["run", scenario, "--trials", "2"], ["compare", CLL1, scenario, "--trials", "2"]):
        refused(cli(*args, "--out", tmp_path / "out", cwd=tmp_path), "...toml", "cannot name a folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["...toml"]


# --- output places, checked before anything is simulated --------------------------------------------------------

PLACE_COMMANDS = {
    "run": ["run", PARAMS, "--trials", "100000"],
    "compare": ["compare", CLL1, SCENARIO, "--trials", "100000"],
    "validate": ["validate", PARAMS, "--trials", "100000"],
    "sensitivity": ["sensitivity", "psa", PARAMS, "--draws", "100000", "--workers", "1"],
}


@pytest.mark.parametrize("command", sorted(PLACE_COMMANDS))
@pytest.mark.parametrize("place, problem", [("file/out", "is a file, not a folder"),
                                            ("z" * 300, "longer than the file system allows")])
def test_an_unwritable_output_place_is_refused_before_the_simulation(tmp_path, command, place, problem):
    (tmp_path / "file").write_text("a file")
    refused(cli(*PLACE_COMMANDS[command], "--out", tmp_path / place, cwd=tmp_path), "--out", problem)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_calibrate_refuses_an_output_under_a_file(tmp_path):
    (tmp_path / "file").write_text("a file")
    refused(cli("calibrate", PARAMS, "--trials", "100000", "--out", tmp_path / "file" / "x.toml", cwd=tmp_path),
            "--out", "not a folder")


# --- odd option values ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("option, value, fragment", [
    ("--inputs", ",", "must name at least one"),
    ("--outcomes", " , ", "must name at least one"),
    ("--dask-timeout", "nan", "finite number of seconds"),
    ("--dask-timeout", "-1", "finite number of seconds"),
    ("--dask-timeout", "inf", "finite number of seconds"),
    ("--enrolled", "1000000000000", "must be <= 4294967296"),
    ("--inner", "1" * 401, "must be <="),
    ("--draws", "0", "must be >= 2"),
])
def test_odd_option_values_name_the_option(tmp_path, option, value, fragment):
    refused(cli("sensitivity", "psa", PARAMS, option, value, "--out", tmp_path / "out", cwd=tmp_path),
            f"argument {option}", fragment)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("value, fragment", [("1", "strictly between 0 and 1"), ("0", "strictly between 0 and 1"),
                                             ("nan", "strictly between 0 and 1"), ("high", "a number between 0 and 1")])
def test_a_target_acceptance_outside_0_1_is_refused_before_any_fit(tmp_path, value, fragment):
    refused(cli("evidence", "--target-accept", value, "--out", tmp_path / "out", cwd=tmp_path),
            "argument --target-accept", fragment)
    assert list(tmp_path.iterdir()) == []


# --- --resume on damaged logs ------------------------------------------------------------------------------------


def psa(params, out, **options):
    return run_psa(params, draws=6, inner=2, seed=4, outcomes=("os_12m", "cr_rate"), out=out, **options)


def _edit_log(folder: Path, change) -> None:
    records = [json.loads(line) for line in (folder / LOG).read_text().splitlines()]
    change(records)
    (folder / LOG).write_text("".join(json.dumps(r) + "\n" for r in records))


LOG_DAMAGE = {
    "log-is-a-folder": (lambda f: ((f / LOG).unlink(), (f / LOG).mkdir()), "is not a file"),
    "state-config-not-a-table": (lambda f: (f / STATE).write_text(json.dumps({"status": "running", "config": 3})),
                                 "config"),
    "record-without-outcomes": (lambda f: _edit_log(f, lambda r: r[0].pop("outcomes")), "no outcomes"),
    "negative-index": (lambda f: _edit_log(f, lambda r: r[0].update(index=-1)), "index must be a whole number"),
    "fractional-index": (lambda f: _edit_log(f, lambda r: r[0].update(index=1.5)), "index must be a whole number"),
    "index-past-the-design": (lambda f: _edit_log(f, lambda r: r[0].update(index=6)), "index must be"),
    "outcomes-of-another-run": (lambda f: _edit_log(f, lambda r: r[0].update(outcomes={"x": [1, 0, 1]})),
                                "not the run's"),
    "moments-not-numbers": (lambda f: _edit_log(f, lambda r: r[0]["outcomes"].update(os_12m=["a", 0, 1])),
                            "[mean, variance, count]"),
}


@pytest.mark.parametrize("damage", sorted(LOG_DAMAGE))
def test_resume_refuses_a_damaged_log(cd5, tmp_path, damage):
    psa(cd5, tmp_path)
    spoil, fragment = LOG_DAMAGE[damage]
    spoil(tmp_path)
    with pytest.raises(InputError, match=re.escape(fragment)) as info:
        psa(cd5, tmp_path, resume=True)
    assert "\n" not in str(info.value)
