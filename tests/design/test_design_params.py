"""The [design] section: defaults, scenarios, and a test per class of bad input (one line naming file and key)."""

from __future__ import annotations

import pytest

from conftest import ROOT
from sim.inputs.design_settings import design_settings
from sim.errors import InputError
from sim.inputs.params import load_params
from sim.inputs.scenarios import load_scenario

SCENARIOS = ROOT / "params" / "scenarios"
GOOD = '''
[design]
name = "boin"
levels = "A,B,C"
start_level = "A"
cohort_size = { value = 3, source = "scenario", note = "cohorts of 3" }
max_sample_size = { value = 30, source = "scenario", note = "30 patients" }
target_dlt_rate = { value = 0.3, source = "scenario", note = "target" }
'''


def test_absent_section_is_the_fixed_design(cll1):
    s = design_settings(cll1)
    assert s.name == "fixed" and s.levels == ("A", "B", "C") and s.replace_non_evaluable


def test_levels_default_to_increasing_dose(cd5):
    assert design_settings(cd5).levels == ("low", "target")


@pytest.mark.parametrize("name", ["cll1_design_33", "cll1_design_boin", "cll1_design_33_fast_manufacturing",
                                  "cll1_design_boin_fast_manufacturing"])
def test_shipped_design_scenarios_load(name):
    params = load_scenario(SCENARIOS / f"{name}.toml")
    s = design_settings(params)
    assert s.name in ("3+3", "boin") and s.levels == ("A", "B", "C") and s.dlt.window_days == 28
    assert s.dlt.crs_min_grade == 3 and s.dlt.icans_min_grade == 3 and s.dlt.death


def test_a_params_file_with_a_design_section_loads(cll1_copy):
    cll1_copy.path.write_text(cll1_copy.text + GOOD)
    s = design_settings(load_params(cll1_copy.path))
    assert (s.name, s.cohort_size, s.max_sample_size, s.target) == ("boin", 3, 30, 0.3)


@pytest.mark.parametrize("old, new, key", [
    ('name = "boin"', 'name = "crm"', "design.name"),
    ('levels = "A,B,C"', 'levels = "A,B,D"', "design.levels"),
    ('levels = "A,B,C"', 'levels = "B,A,C"', "design.levels"),
    ('levels = "A,B,C"', 'levels = "A,A,C"', "design.levels"),
    ('start_level = "A"', 'start_level = "Z"', "design.start_level"),
    ('value = 3, source = "scenario", note = "cohorts of 3"', 'value = 31, source = "scenario", note = "x"',
     "design.cohort_size"),
    ('value = 3, source = "scenario", note = "cohorts of 3"', 'value = 2.5, source = "scenario", note = "x"',
     "design.cohort_size.value"),
    ('value = 0.3, source = "scenario"', 'value = 0.8, source = "scenario"', "design.target_dlt_rate"),
    ('value = 30, source = "scenario"', 'value = 30, source = "seeds:enrolled"', "design.max_sample_size.source"),
    ('name = "boin"', 'name = "boin"\ndlt_parts = "crs,gvhd"', "design.dlt_parts"),
    ('name = "boin"', 'name = "boin"\ndlt_crs_min_grade = { value = 5, source = "scenario", note = "x" }',
     "design.dlt_crs_min_grade"),
    ('name = "boin"', 'name = "boin"\nwhile_window_open = "dose"', "design.while_window_open"),
    ('name = "boin"', 'name = "boin"\nreplace_non_evaluable = true', "design.replace_non_evaluable"),
    ('name = "boin"', 'name = "boin"\ncohort = 3', "design.cohort"),
])
def test_bad_design_values_name_the_file_and_the_key(cll1_copy, old, new, key):
    cll1_copy.path.write_text(cll1_copy.text + GOOD.replace(old, new))
    with pytest.raises(InputError) as err:
        load_params(cll1_copy.path)
    assert err.value.key == key and str(cll1_copy.path) in str(err.value)
    assert "\n" not in str(err.value)


def test_a_scenario_with_a_bad_design_names_the_scenario(tmp_path):
    text = (SCENARIOS / "cll1_design_boin.toml").read_text().replace('name = "boin"', 'name = "4+4"')
    text = text.replace('base = "../cll1_aml.toml"', f'base = "{(ROOT / "params" / "cll1_aml.toml").as_posix()}"')
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    with pytest.raises(InputError) as err:
        load_scenario(bad)
    assert err.value.key == "design.name" and str(bad) in str(err.value)
