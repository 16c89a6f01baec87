"""Roles that cannot be gamed: a figure is independent only when nothing the parameters rest on gives it away."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from conftest import PARAMS
from sim.analyses.roles import INDEPENDENT, determined_by, figure_roles, used_figures
from sim.analyses.validation import independent_count, validation_table
from sim.errors import InputError
from sim.inputs.params import load_params, seeds_keys

# the figures the issue found labelled independent although the inputs give them away
GIVEN_AWAY = {"cll1": ("mrd_positive_cr", "no_cr", "expansion_detected", "peak_day_min", "peak_day_max"),
              "cd5": ("infused",)}


@pytest.fixture(scope="module")
def runs():
    out = {}
    for trial in ("cll1_aml", "cd5_tall"):
        params = load_params(PARAMS[trial])
        out[trial[:4].rstrip("_")] = (params, sim.run_trials(params, trials=200, seed=5, parameter_uncertainty=True))
    return out


@pytest.mark.parametrize("trial", ["cll1", "cd5"])
def test_no_figure_the_inputs_give_away_is_independent(trial, runs):
    params, results = runs[trial]
    roles = figure_roles(params, results.trials.columns)
    for key in GIVEN_AWAY[trial]:
        assert roles[key][0] != INDEPENDENT, (key, roles[key])
    table = validation_table(params.seeds, results.trials, roles=roles)
    assert independent_count(table) == 0  # neither trial has a genuinely independent figure


def test_an_entry_derived_from_several_figures_names_them_all(cll1):
    assert cll1.entries["response.categories"].seeds_keys == ("mrd_negative_cr", "mrd_positive_cr", "no_cr")
    assert set(cll1.entries["expansion.peak_day.sigma"].seeds_keys) == {"peak_day_min", "peak_day_max"}
    assert {k for k, (role, _) in used_figures(cll1).items()} >= {"mrd_positive_cr", "no_cr", "peak_day_max"}


def test_seeds_keys_reads_one_or_several_figures():
    assert seeds_keys("seeds:a") == ("a",)
    assert seeds_keys("seeds:a+seeds:b") == ("a", "b")
    assert seeds_keys("calibration") == ()


@pytest.mark.parametrize("source, problem", [
    ("seeds:peak_day_min+peak_day_max", "several figures are cited as 'seeds:a+seeds:b'"),
    ("seeds:peak_day_min+seeds:peak_day_min", "cites a figure twice"),
    ("seeds:peak_day_min+seeds:nothing", "'seeds:nothing' names no figure"),
])
def test_a_bad_list_of_figures_is_refused_naming_file_and_key(cll1_copy, source, problem):
    cll1_copy.replace('sigma = { value = 0.158, source = "seeds:peak_day_min+seeds:peak_day_max"',
                      f'sigma = {{ value = 0.158, source = "{source}"')
    with pytest.raises(InputError) as error:
        load_params(cll1_copy.path)
    assert "expansion.peak_day.sigma.source" in str(error.value) and problem in str(error.value)


def test_a_value_derived_from_several_figures_must_say_how(cll1_copy):
    import re

    text = cll1_copy.path.read_text()
    line = next(x for x in text.splitlines() if x.startswith("sigma = { value = 0.158"))
    cll1_copy.replace(line, re.sub(r', note = "[^"]*"', "", line))
    with pytest.raises(InputError) as error:
        load_params(cll1_copy.path)
    assert "expansion.peak_day.sigma.note" in str(error.value) and "must say how" in str(error.value)


def test_a_complement_is_determined_and_an_unrelated_count_is_not():
    """infused = 19 - not_infused in every trial; a count that moves on its own is not determined."""
    rng = np.random.default_rng(0)
    not_infused = rng.integers(0, 6, 200).astype(float)
    assert determined_by(19 - not_infused, {"not_infused": not_infused}) == ["not_infused"]
    assert determined_by(rng.integers(0, 6, 200).astype(float), {"not_infused": not_infused}) == []
    # the third category of a split is the denominator less the other two
    infused, a, b = (rng.integers(5, 9, 200).astype(float) for _ in range(3))
    assert set(determined_by(infused - a - b, {"a": a, "b": b, "infused": infused})) == {"a", "b", "infused"}


def test_dropping_a_citation_does_not_make_a_figure_independent(cll1_copy, runs):
    """Gaming by naming: if p_failure no longer cited the infused count, the expansion count (the same
    patients) would still be given away by the denominators the cited figures use."""
    cll1_copy.replace('source = "seeds:infused+seeds:withdrawn"', 'source = "seeds:withdrawn"')
    params = load_params(cll1_copy.path)
    _, results = runs["cll1"]
    roles = figure_roles(params, results.trials.columns)
    assert roles["infused"][0] != INDEPENDENT and roles["expansion_detected"][0] != INDEPENDENT
