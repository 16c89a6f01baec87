"""The user's path: trials by name, a new trial, global options, folders that never clobber, the report."""

from __future__ import annotations

import json
import math
import re
import tomllib
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT
from sim.cli.main import build_parser, main, package_version
from sim.errors import InputError
from sim.inputs.params import load_params
from sim.inputs.seeds_agreement import disagreement
from sim.inputs.trial_catalog import shipped_scenarios, shipped_trials, trial_path
from sim.output.folder_claims import claim_comparison, claim_run, comparison_folder_name
from sim.output.paper_view import paper_view, shows_paper, with_rate
from sim.output.shown_path import shown_command, shown_path
from sim.table import Table


def test_every_code_package_is_in_the_wheel():
    """pyproject lists its packages by hand (to map params/ and seeds/ in): a new subpackage must be added."""
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "sim").rglob("__init__.py")}
    assert on_disk <= set(tool["packages"])
    for package, folder in tool["package-dir"].items():
        assert package in tool["packages"] and (ROOT / folder).is_dir() and list((ROOT / folder).glob("*.toml"))


def test_shipped_trials_are_found_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert {"cd5_tall", "cll1_aml"} <= set(shipped_trials())
    assert "cll1_dose_a" in shipped_scenarios()
    assert trial_path("cd5_tall").samefile(ROOT / "params" / "cd5_tall.toml")
    assert trial_path("cll1_dose_a").samefile(ROOT / "params" / "scenarios" / "cll1_dose_a.toml")
    assert trial_path("no_such_trial") == Path("no_such_trial")
    (tmp_path / "cd5_tall").write_text("a local file wins over the shipped trial")
    assert trial_path("cd5_tall") == Path("cd5_tall")


def test_trials_lists_the_shipped_trials(capsys):
    assert main(["trials"]) == 0
    out = capsys.readouterr().out
    assert "cd5_tall" in out and "cll1_aml" in out and "cll1_dose_c" in out


def test_version_quiet_and_help(capsys, tmp_path):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"cartsim {package_version()}"
    assert main(["-q", "run", "cll1_aml", "--trials", "3", "--out", str(tmp_path / "q")]) == 0
    assert capsys.readouterr().out == "" and (tmp_path / "q" / "summary.json").is_file()
    for command in ("run", "compare"):
        assert "%%" not in build_parser()._subparsers._group_actions[0].choices[command].format_help()


def test_a_seeds_value_that_disagrees_names_both():
    assert disagreement("count", 30, 14) is not None and "30" in disagreement("count", 30, 14)
    assert "14" in disagreement("count", 30, 14)
    assert disagreement("count", 14, 14) is None
    assert disagreement("duration", 3.0, 3) is None
    assert disagreement("prob", 0.0, 12, 14) is None  # a proportion may read a count in several ways


def test_new_trial_runs_as_written_and_checks_its_marked_entries(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["new", "trial30", "--from", "cll1_aml"]) == 0
    said = capsys.readouterr().out
    assert re.search(r"rests on \d+ trials of the class \(\w+(, \w+)*\)", said)  # named, for the user to judge
    params_file, seeds_file = tmp_path / "params" / "trial30.toml", tmp_path / "seeds" / "trial30.toml"
    text = params_file.read_text()
    marked = [line for line in text.splitlines() if re.match(r"^[a-zA-Z_0-9]+ = \{", line)]
    markers = re.findall(r"^# (SUPPLY|BORROWED|ASSUMED|CALIBRATED|PREDICTED|SCENARIO) ", text, flags=re.M)
    assert len(markers) == len(marked)  # every entry is marked
    params = load_params(params_file)
    assert params.seeds.planned and params["accrual.enrolled"] == 14
    assert main(["new", "trial30"]) == 2  # never overwrites without --force
    assert "exists" in capsys.readouterr().err

    params_file.write_text(text.replace('enrolled = { value = 14,', 'enrolled = { value = 30,'))
    assert main(["run", "params/trial30.toml", "--trials", "3"]) == 2
    err = capsys.readouterr().err
    assert "accrual.enrolled" in err and "30" in err and "14" in err and "trial30.toml" in err
    seeds_file.write_text(re.sub(r"(\[design\.enrolled\]\nvalue = )14", r"\g<1>30", seeds_file.read_text()))
    assert main(["run", "params/trial30.toml", "--trials", "3"]) == 0
    summary = json.loads((tmp_path / "results" / "trial30" / "summary.json").read_text())
    assert not any(f["reported"] is not None and not math.isnan(f["reported"]) for f in summary["figures"]
                   if f["reported"] is not None)
    capsys.readouterr()
    assert main(["validate", "params/trial30.toml", "--trials", "40"]) == 0
    assert "nothing to compare" in capsys.readouterr().out


def _summary(enrolled_sim: float) -> Table:
    return Table({"figure": ["enrolled", "infused", "os_12m"], "says": ["", "", ""],
                  "reported": [14.0, 12.0, np.nan], "of": [np.nan, 14.0, np.nan],
                  "sim_median": [enrolled_sim, 11.0, 0.4], "sim_low95": [enrolled_sim, 8.0, 0.2],
                  "sim_high95": [enrolled_sim, 14.0, 0.6]})


def test_the_papers_figures_only_beside_the_trial_as_run():
    same, note = paper_view(_summary(14.0), None)
    assert list(same["figure"]) == ["infused", "os_12m"] and same["reported"][0] == 12 and note == ""
    other, note = paper_view(_summary(30.0), None)
    assert list(other["figure"]) == ["os_12m"] and "30" in note and "14" in note
    scenario, note = paper_view(_summary(14.0), {"name": "dose_c", "changed": ["dose.allocation"]})
    assert list(scenario["figure"]) == ["infused", "os_12m"] and np.all(np.isnan(scenario["reported"]))
    assert "dose_c" in note
    assert with_rate(12.0, 14.0) == "12/14 (86%)" and with_rate(9.0, float("nan")) == "9"
    records = [dict(zip(r, map(_plain, r.values()))) for r in _summary(14.0).rows()]
    assert shows_paper(records, None) and not shows_paper(records, {"name": "x", "changed": ["crs.incidence"]})
    planned = [r | {"reported": None} for r in records]
    assert not shows_paper(planned, None) and not shows_paper([], None)


def _plain(value):
    return value.item() if hasattr(value, "item") else value


def test_comparison_folders_never_clobber(tmp_path):
    assert comparison_folder_name(["a", "b", "c"]) == "a_vs_b_c"
    long = comparison_folder_name(["base"] + [f"scenario_{i}" for i in range(20)])
    assert len(long) <= 80 and long != comparison_folder_name(["base"] + [f"scenario_{i}" for i in range(21)])
    (tmp_path / "comparison.json").write_text(json.dumps({"base": {"label": "a"}, "scenarios": [{"label": "b"}]}))
    claim_comparison(tmp_path, ["a", "b"], force=False)
    with pytest.raises(InputError, match="another comparison"):
        claim_comparison(tmp_path, ["a", "c"], force=False)
    claim_comparison(tmp_path, ["a", "c"], force=True)


def test_a_run_never_replaces_another_params_files_results(tmp_path):
    (tmp_path / "summary.json").write_text(json.dumps({"manifest": {"params_file": "params/one.toml"}}))
    claim_run(tmp_path, "params/one.toml", force=False)
    with pytest.raises(InputError, match="params/one.toml"):
        claim_run(tmp_path, "params/two.toml", force=False)
    claim_run(tmp_path, "params/two.toml", force=True)
    (tmp_path / "summary.json").write_text(json.dumps({"manifest": {"params_file": "one.toml", "params_sha256": "ab"}}))
    claim_run(tmp_path, "params/one.toml", force=False, sha256="ab")  # the same file, named from elsewhere


def test_no_absolute_path_is_shown(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert shown_path(tmp_path / "x" / "y.toml") == "x/y.toml"
    assert shown_path(ROOT / "params" / "cd5_tall.toml") == "cartsim:params/cd5_tall.toml"
    assert shown_path(Path("/somewhere/else/z.toml")) == "z.toml"
    assert shown_command(["cartsim", "run", str(tmp_path / "p.toml"), "--out=/elsewhere/o"]) == \
        ["cartsim", "run", "p.toml", "--out=o"]


def test_report_reads_results_first_with_nothing_of_this_machine(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "deep" / "out"
    assert main(["-q", "run", str(ROOT / "params" / "cd5_tall.toml"), "--trials", "5", "--out", str(out)]) == 0
    report = (out / "report.md").read_text()
    assert report.index("## Results") < report.index("## 1. Objectives") < report.index("## Appendix A. Parameters")
    assert "SplitMix64" in report and "PCG64" not in report
    for name in ("report.md", "summary.json", "parameters.csv", "summary.csv"):
        text = (out / name).read_text()
        assert str(tmp_path) not in text and str(ROOT) not in text, name
