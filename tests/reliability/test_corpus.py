"""A corpus of bad inputs, many per category, each run through ``cartsim`` in this process.

Every case must end with exit status 2 and one line on stderr that names the file (or option) at
fault and the key, no traceback, and nothing written: no output folder, no staging or temporary
file left in the working folder.  The categories are those of the newer surfaces: seeds figures
checked by their kind, posterior draws that could lie, scenario bases, comparison names, design
settings for the design actually run, sizes above their limits, names of new trials.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from cli_runs import in_process, refused  # noqa: E402
from test_faults import ROOT  # noqa: E402

from sim.inputs.posterior_draws import MAX_DRAWS_BYTES, draws_csv_text, draws_paths, provenance_text

TRIAL = "cd5_tall"


def copy_trial(folder: Path, trial: str = TRIAL, draws: bool = False) -> Path:
    """A copy of a shipped trial (params and seeds, and its posterior draws if asked) under ``folder``."""
    (folder / "params").mkdir(exist_ok=True)
    (folder / "seeds").mkdir(exist_ok=True)
    shutil.copy(ROOT / "seeds" / f"{trial}.toml", folder / "seeds")
    shutil.copy(ROOT / "params" / f"{trial}.toml", folder / "params")
    if draws:
        for path in draws_paths(ROOT / "params" / f"{trial}.toml"):
            shutil.copy(path, folder / "params")
    return folder / "params" / f"{trial}.toml"


def nothing_written(folder: Path, before: set[str]) -> None:
    after = {str(p.relative_to(folder)) for p in folder.rglob("*")}
    assert after == before, sorted(after - before)


def files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


# -- seeds figures, checked by kind -------------------------------------------------------------------------

FIGURE = '\n[figures.{key}]\nmetric = "{metric}"\nvalue = {value}\n{extra}says = "a test figure"\n'
SEEDS_CASES = [  # (metric, value, extra lines, the key named)
    ("infused", "7", "of = 5\n", "value"),            # a count above its denominator
    ("infused", "-1", "of = 16\n", "value"),          # a negative count
    ("infused", "2.5", "of = 16\n", "value"),         # half a patient
    ("withdrawn", "-3", "", "value"),
    ("complete_remission", "1e9", "of = 19\n", "value"),
    ("share", "50", 'outcome = "death"\n', "value"),  # a percentage
    ("share", "-0.2", 'outcome = "death"\n', "value"),
    ("share", "1.5", 'outcome = "relapse"\n', "value"),
    ("share", "0.4", 'outcome = "death"\nof = 10\n', "of"),  # a share with a denominator
    ("km_median_months", "-4", 'endpoint = "os"\n', "value"),  # a negative Kaplan-Meier median
    ("km_median_months", "0", 'endpoint = "os"\n', "value"),
    ("median_followup_months", "-1", "", "value"),
    ("median_followup_months", "12", "of = 19\n", "of"),
    ("peak_day", "-9", 'stat = "median"\n', "value"),
    ("infused", "nan", "of = 16\n", "value"),
    ("infused", "inf", "of = 16\n", "value"),
    ("infused", "true", "of = 16\n", "value"),
    ("infused", '"16"', "of = 16\n", "value"),
    ("infused", "3", "of = 0\n", "of"),
    ("infused", "3", "of = 2.5\n", "of"),
]


@pytest.mark.parametrize("metric,value,extra,key", SEEDS_CASES)
def test_a_seeds_figure_of_the_wrong_kind_is_refused_naming_the_seeds_file(tmp_path, metric, value, extra, key):
    params = copy_trial(tmp_path)
    seeds = tmp_path / "seeds" / f"{TRIAL}.toml"
    seeds.write_text(seeds.read_text() + FIGURE.format(key="bad", metric=metric, value=value, extra=extra))
    before = files(tmp_path)
    refused(in_process("run", params, "--trials", "2", cwd=tmp_path), f"{TRIAL}.toml", f"figures.bad.{key}")
    nothing_written(tmp_path, before)


@pytest.mark.parametrize("value", ['"thirty"', '"30 patients"', "true", "[30]"])
def test_a_design_fact_a_number_cites_must_be_a_number(tmp_path, value):
    params = copy_trial(tmp_path)
    seeds = tmp_path / "seeds" / f"{TRIAL}.toml"
    text = seeds.read_text()
    start = text.index("[design.adverse_event_window]")
    seeds.write_text(text[:start] + text[start:].replace("value = 30", f"value = {value}", 1))
    before = files(tmp_path)
    line = refused(in_process("run", params, "--trials", "2", cwd=tmp_path), "seeds", "design.adverse_event_window")
    assert "params" not in line.split(":")[0]  # blamed on the seeds file, not the params file
    nothing_written(tmp_path, before)


# -- posterior draws that could lie -------------------------------------------------------------------------

def write_draws(params: Path, names: list[str], rows: list[list[float]], fitted: dict[str, float] | None = None,
                header: list[str] | None = None) -> None:
    import numpy as np

    csv_path, json_path = draws_paths(params)
    text = draws_csv_text(tuple(names), np.array(rows, dtype=float))
    if header is not None:
        text = ",".join(header) + text[text.index("\n"):]
    csv_path.write_text(text)
    fitted = fitted if fitted is not None else {name: 0.001 for name in dict.fromkeys(names)}
    json_path.write_text(provenance_text(text, csv_path.name, fitted, {"converged": True}, {}))


HAZARD = "late.relapse_hazard"
OTHER = "late.infection_death_hazard"


def _extra_column(params):
    write_draws(params, [HAZARD, OTHER], [[0.001, 0.001]], fitted={HAZARD: 0.001})


def _twice(params):
    write_draws(params, [HAZARD, OTHER], [[0.001, 0.002]], fitted={HAZARD: 0.001}, header=["draw", HAZARD, HAZARD])


def _unknown(params):
    write_draws(params, ["late.no_such_hazard"], [[0.001]])


def _lacking(params):
    write_draws(params, [HAZARD], [[0.001]], fitted={HAZARD: 0.001, OTHER: 0.001})


def _json_without_csv(params):
    write_draws(params, [HAZARD], [[0.001]])
    draws_paths(params)[0].unlink()


def _csv_without_json(params):
    write_draws(params, [HAZARD], [[0.001]])
    draws_paths(params)[1].unlink()


def _no_draw_column(params):
    write_draws(params, [HAZARD], [[0.001]], header=["row", HAZARD])


def _not_a_record(params):
    write_draws(params, [HAZARD], [[0.001]])
    draws_paths(params)[1].write_text("[1, 2]")


def _too_large(params):
    write_draws(params, [HAZARD], [[0.001]])
    with open(draws_paths(params)[0], "r+b") as stream:
        stream.truncate(MAX_DRAWS_BYTES + 1)  # sparse: no disk used


DRAWS_AT_LOAD = {  # refused when the params file loads, whatever the run
    "an extra column": (_extra_column, "columns"),
    "a parameter in two columns": (_twice, "columns"),
    "a column for no parameter": (_unknown, "columns"),
    "a lacking column": (_lacking, "columns"),
    "a JSON without its CSV": (_json_without_csv, "draws_file"),
    "a CSV without its JSON": (_csv_without_json, "provenance"),
    "no draw column": (_no_draw_column, "header"),
    "a JSON that is not a record": (_not_a_record, "fitted"),
}


@pytest.mark.parametrize("case", sorted(DRAWS_AT_LOAD))
def test_draws_that_could_lie_are_refused_naming_the_draws_file(tmp_path, case):
    params = copy_trial(tmp_path)
    make, key = DRAWS_AT_LOAD[case]
    make(params)
    before = files(tmp_path)
    line = refused(in_process("run", params, "--trials", "2", cwd=tmp_path), f"{TRIAL}.posterior.", key)
    assert line.split(": ")[2].endswith((".csv", ".json")), line  # "cartsim: error: FILE: key: problem"
    nothing_written(tmp_path, before)


@pytest.mark.parametrize("values", [[[-0.5]], [[0.001], [-1e-9]], [[float("nan")]], [[float("inf")]]])
def test_a_draw_out_of_its_parameters_domain_is_blamed_on_the_draws_csv(tmp_path, values):
    from sim.inputs.params import load_params

    params = copy_trial(tmp_path)
    entry = load_params(params).entries[HAZARD]
    assert entry.source == "calibration"  # so a run with parameter uncertainty takes it from the draws
    write_draws(params, [HAZARD], values, fitted={HAZARD: float(entry.value)})
    before = files(tmp_path)
    line = refused(in_process("run", params, "--trials", "2", "--parameter-uncertainty", cwd=tmp_path),
                   f"{TRIAL}.posterior.csv")
    assert not line.startswith(str(params)), line
    nothing_written(tmp_path, before)


def test_a_draws_file_too_large_is_refused_before_it_is_read(tmp_path):
    params = copy_trial(tmp_path)
    _too_large(params)
    before = files(tmp_path)
    refused(in_process("run", params, "--trials", "2", "--parameter-uncertainty", cwd=tmp_path),
            f"{TRIAL}.posterior.csv", "MiB")
    nothing_written(tmp_path, before)


def test_draws_are_not_read_by_a_run_that_does_not_use_them(tmp_path):
    # `cartsim run` always runs over parameter uncertainty too (the base-agreement check), so the
    # run that never opens the rows is a base-values run from the library.
    import sim

    params = copy_trial(tmp_path)
    _too_large(params)  # loading the params and running at the base values never open the rows
    results = sim.run_trials(sim.load_params(params), trials=2, seed=0, parameter_uncertainty=False)
    assert results.n_trials == 2


# -- scenario bases, comparison names ------------------------------------------------------------------------

HEAD = 'base = "{base}"\ntitle = "t"\ndescription = "d"\n'


@pytest.mark.parametrize("case", ["itself", "a cycle of two", "a cycle of three", "a scenario", "a scenario's scenario"])
def test_a_scenario_based_on_a_scenario_says_so(tmp_path, case):
    shipped = (ROOT / "params" / "scenarios" / "cll1_dose_a.toml").as_posix()
    bases = {"itself": {"s": "s.toml"}, "a cycle of two": {"s": "b.toml", "b": "s.toml"},
             "a cycle of three": {"s": "b.toml", "b": "c.toml", "c": "s.toml"}, "a scenario": {"s": shipped},
             "a scenario's scenario": {"s": "b.toml", "b": shipped}}[case]
    for name, base in bases.items():
        (tmp_path / f"{name}.toml").write_text(HEAD.format(base=base))
    before = files(tmp_path)
    line = refused(in_process("run", tmp_path / "s.toml", "--trials", "2", cwd=tmp_path), "s.toml", "base")
    assert "unknown key" not in line
    assert ("cycle" in line) == case.startswith("a cycle") and ("itself" in line) == (case == "itself")
    nothing_written(tmp_path, before)


@pytest.mark.parametrize("name", ["report.md", "comparison.csv", "comparison.json", "figures", "Figures", "REPORT.MD"])
def test_a_comparison_arm_named_like_the_comparisons_own_files_is_refused_before_simulating(tmp_path, name):
    base = (ROOT / "params" / "cll1_aml.toml").as_posix()
    scenario = tmp_path / f"{name}.toml"
    scenario.write_text(HEAD.format(base=base) + '[dose]\nallocation = { value = { A = 1, B = 0, C = 0 }, '
                        'source = "scenario", note = "all at A" }\n')
    before = files(tmp_path)
    refused(in_process("compare", base, scenario, "--trials", "2", "--base-values-only", "--out", tmp_path / "out",
                       cwd=tmp_path), scenario.name, "name")
    nothing_written(tmp_path, before)


# -- design settings for the design actually run -------------------------------------------------------------

DESIGN = '\n[design]\nname = "{name}"\n{settings}'
DESIGN_CASES = [  # (the file's design, its settings, --design, the key named)
    ("fixed", 'target_dlt_rate = { value = 0, source = "scenario", note = "t" }\n', "boin", "design.target_dlt_rate"),
    ("fixed", 'target_dlt_rate = { value = 1, source = "scenario", note = "t" }\n', "boin", "design.target_dlt_rate"),
    ("fixed", 'target_dlt_rate = { value = 0.9, source = "scenario", note = "t" }\n', "tite_boin",
     "design.target_dlt_rate"),
    ("3+3", 'target_dlt_rate = { value = 0.01, source = "scenario", note = "t" }\n', "3+3,boin",
     "design.target_dlt_rate"),
    ("boin", 'max_sample_size = { value = 1000000000, source = "scenario", note = "t" }\n', "boin",
     "design.max_sample_size"),
    ("boin", 'max_sample_size = { value = 100000, source = "scenario", note = "t" }\n', "boin",
     "design.max_sample_size"),
    ("fixed", 'max_sample_size = { value = 100000, source = "scenario", note = "t" }\n', "boin",
     "design.max_sample_size"),
    ("boin", 'cohort_size = { value = 40, source = "scenario", note = "t" }\n', "boin", "design.cohort_size"),
]


@pytest.mark.parametrize("name,settings,run,key", DESIGN_CASES)
def test_design_settings_are_checked_for_the_design_run(tmp_path, name, settings, run, key):
    params = copy_trial(tmp_path, "cll1_aml")
    params.write_text(params.read_text() + DESIGN.format(name=name, settings=settings))
    before = files(tmp_path)
    refused(in_process("design", params, "--design", run, "--trials", "2", "--out", tmp_path / "out", cwd=tmp_path),
            "cll1_aml.toml", key)
    nothing_written(tmp_path, before)


# -- sizes above their limits ------------------------------------------------------------------------------

SIZES = [
    ("run", TRIAL, "--trials", "4294967296"), ("run", TRIAL, "--trials", "1000001"),
    ("validate", TRIAL, "--trials", "4294967296"), ("design", "cll1_aml", "--trials", "2000000"),
    ("compare", "cll1_dose_a", "--trials", "1000001"), ("compare", "cll1_dose_a", "--draws", "1000001"),
    ("compare", "cll1_dose_a", "--inner", "1000001"), ("calibrate", TRIAL, "--trials", "100001"),
    ("calibrate", TRIAL, "--draws", "100001"), ("sensitivity", "psa", "--draws", "1000001"),
    ("sensitivity", "psa", "--inner", "1000001"), ("sensitivity", "sobol", "--samples", "1000001"),
    ("sensitivity", "morris", "--trajectories", "1000001"), ("validate", TRIAL, "--replicates", "1000001"),
]


@pytest.mark.parametrize("command,what,option,value", SIZES)
def test_a_size_above_its_limit_is_refused_before_anything_runs(tmp_path, command, what, option, value):
    args = [command, what] if command != "sensitivity" else [command, what, TRIAL]
    if command == "compare":
        args = [command, "cll1_aml", what]
    before = files(tmp_path)
    line = refused(in_process(*args, option, value, cwd=tmp_path), option, "memory")
    assert "must be <=" in line
    nothing_written(tmp_path, before)


# -- names of new trials, and missing extras ----------------------------------------------------------------

@pytest.mark.parametrize("name", [".", "..", "....", "a" * 101, "a/b", "a b", "ü", "a\nb", "", "x;rm"])
def test_new_refuses_a_bad_name_before_reading_or_writing(tmp_path, name):
    before = files(tmp_path)
    refused(in_process("new", name, cwd=tmp_path), "NAME")
    nothing_written(tmp_path, before)


def test_a_missing_optional_package_is_one_line_naming_its_extra(tmp_path, monkeypatch):
    from sim.cli.extras import extras_providing

    if not extras_providing("SALib"):
        pytest.skip("the installed metadata lists no extra for SALib")
    monkeypatch.setitem(sys.modules, "SALib", None)  # import SALib now raises ImportError
    for name in [m for m in sys.modules if m.startswith("SALib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    before = files(tmp_path)
    line = refused(in_process("sensitivity", "morris", TRIAL, "--trajectories", "2", "--inner", "1", "--out",
                              tmp_path / "out", cwd=tmp_path), "cartsim[")
    assert "SALib" in line
    nothing_written(tmp_path, before)
