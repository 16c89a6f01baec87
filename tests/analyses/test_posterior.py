"""Joint posterior sampling: the sampler against exact posteriors, and the draws file beside a params file."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from conftest import PARAMS
from sim.analyses.calibration.cutoff import LateWindows
from sim.analyses.calibration.late import LateGroup, LateModel, bounded_above, fit_late, late_groups
from sim.analyses.calibration.late import jeffreys_log_prior
from sim.analyses.posterior import pareto_k, sample_posterior
from sim.model import late_bands
from sim.errors import InputError
from sim.inputs.params import load_params
from sim.inputs.posterior_draws import (draw_rows, draws_csv_text, draws_paths, joint_paths, joint_values,
                                        load_draws, parse_draws, provenance_text)
from sim.inputs.parameter_draws import draw_trial_parameters


def poisson_log_density(counts: dict[str, tuple[float, float]]):
    """Log posterior of independent rates, each with k events over exposure x and the Jeffreys prior (rate^-1/2):
    exactly Gamma(k + 1/2, scale 1/x)."""
    prior = jeffreys_log_prior

    def log_density(values: dict[str, np.ndarray]) -> np.ndarray:
        return sum(k * np.log(values[n]) - x * values[n] + prior(values[n]) for n, (k, x) in counts.items())

    return log_density


def test_sampler_matches_an_exact_gamma_posterior():
    counts = {"a": (5.0, 1000.0), "b": (0.0, 800.0)}  # a rate with no event seen keeps a proper posterior
    sample = sample_posterior(poisson_log_density(counts), {"a": 0.005, "b": 0.001}, proposals=40000, seed=3)
    assert sample.converged, sample.problems
    for column, (k, x) in zip(sample.draws.T, counts.values()):
        # 1000 rows resampled from 40,000 weighted proposals with an effective sample in the thousands
        # repeat rarely, so a Kolmogorov-Smirnov test at the 0.1% level applies
        assert stats.kstest(column, stats.gamma(k + 0.5, scale=1 / x).cdf).pvalue > 1e-3
        assert column.min() > 0


def test_pareto_k_tells_bounded_weights_from_heavy_tailed_ones():
    rng = np.random.default_rng(0)
    assert pareto_k(rng.uniform(0.5, 1.0, 20000)) < 0.2  # bounded weights: a negative or small shape
    assert pareto_k(stats.pareto(1.0).rvs(20000, random_state=rng)) > 0.7  # infinite-mean weights: shape 1


@pytest.mark.slow
def test_joint_posterior_of_late_levels_covers_the_known_levels(cd5):
    """Outcomes of 12 untransplanted patients simulated 40 times from known late levels (the calibration's
    exact multinomial chances over simulated windows); the joint posterior's 95% interval of each of the 3
    levels holds the truth.  Of 120 intervals about 6 miss; 15 or more misses has probability below 0.5%
    under Binomial(120, 0.05), so the test fails only if the intervals are too narrow.

    Only outcomes with at least one patient in remission are drawn (a draw with none is drawn again):
    with none, the counts set no upper bound on the levels, the posterior under the Jeffreys prior does
    not exist and the calibration refuses them (``bounded_above``).  At the shipped levels a patient stays
    in remission with chance about 0.21, so about one in eighteen unconditioned draws (0.79^12 = 0.06) are
    such counts; the intervals over the rest are what the calibration can report."""
    windows = LateWindows.simulate(cd5, trials=200, seed=5).at_cutoff(cd5["accrual.cutoff_after_last_enrolment_days"])
    model = LateModel(windows, cd5)
    model = model.subset(np.arange(min(len(model.length), 800)))
    causes = ["relapse", "infection", "tma"]
    states = ["relapsed", "died_infection", "died_tma", "in_remission"]
    truth = {c: late_bands.level(cd5, c, False) for c in causes}
    after = {c: late_bands.level(cd5, c, True) for c in late_bands.LATE_CAUSES}
    template = LateGroup(False, 12.0, dict.fromkeys(states, 1.0), {})
    chance = model.conditional(template, truth, after)
    rng = np.random.default_rng(7)
    misses = 0
    for i in range(40):
        group = _bounded_outcomes(rng, states, [float(chance[s]) for s in states])
        counts = group.counts

        def log_density(values, group=group):
            before = {c: values[c] for c in causes}
            return model.log_likelihood(group, before, after) - 0.5 * sum(np.log(values[c]) for c in causes)

        start = {c: (counts[s] + 0.5) / 5000.0 for c, s in zip(causes, states)}
        sample = sample_posterior(log_density, start, proposals=4000, seed=i)
        assert sample.converged, (counts, sample.problems)
        for j, c in enumerate(causes):
            low, high = np.percentile(sample.draws[:, j], [2.5, 97.5])
            misses += not low <= truth[c] <= high
    print(f"{misses} of 120 intervals miss the known level")
    assert misses < 15


def _bounded_outcomes(rng: np.random.Generator, states: list[str], chances: list[float]) -> LateGroup:
    """Outcomes of 12 untransplanted patients drawn from ``chances`` until their posterior exists."""
    while True:
        group = LateGroup(False, 12.0, dict(zip(states, rng.multinomial(12, chances).astype(float))), {})
        if bounded_above(group):
            return group


def test_outcomes_with_none_in_remission_are_refused_naming_the_figure(cd5_copy):
    """No patient in remission at cut-off leaves the late levels unbounded above: the fit refuses the counts
    rather than report levels from an improper posterior."""
    cd5_copy.seeds.write_text(cd5_copy.seeds.read_text().replace(
        'value = 2\nof = 12\nsays = "in remission', 'value = 0\nof = 12\nsays = "in remission').replace(
        'value = 3\nof = 12\nsays = "relapsed', 'value = 5\nof = 12\nsays = "relapsed'))
    params = load_params(cd5_copy.path)
    groups = late_groups(params)
    assert not bounded_above(groups[0]) and bounded_above(groups[1])
    windows = LateWindows.simulate(params, trials=2, seed=1).at_cutoff(300.0)
    with pytest.raises(InputError, match=r"cd5_tall\.toml: figures\.untransplanted_in_remission: none of the 12"):
        fit_late(windows, groups, params, 20, np.random.default_rng(0))


# -- the draws file ---------------------------------------------------------------------------

@pytest.fixture
def calibrated_copy(tmp_path):
    """A copy of the CD5 params file with joint draws for two of its calibrated entries."""
    for name in ("cd5_tall",):
        shutil.copy(PARAMS[name], tmp_path / f"{name}.toml")
    seeds = PARAMS["cd5_tall"].parent.parent / "seeds"
    shutil.copytree(seeds, tmp_path.parent / "seeds", dirs_exist_ok=True)
    path = tmp_path / "cd5_tall.toml"
    params = load_params(path)
    names = tuple(p for p in params.uncertain() if params.entries[p].source == "calibration")[:2]
    assert len(names) == 2
    values = np.column_stack([np.linspace(1, 2, 50) * params[n] for n in names])
    csv_path, json_path = draws_paths(path)
    text = draws_csv_text(names, values)
    csv_path.write_text(text)
    json_path.write_text(provenance_text(text, csv_path.name, {n: float(params[n]) for n in names},
                                         {"converged": True}, {}))
    return path, names, values


def test_draws_load_beside_the_params_file_and_rows_are_shared(calibrated_copy):
    path, names, values = calibrated_copy
    params = load_params(path)
    assert params.posterior is not None and params.posterior.names == names
    assert joint_paths(params, params.posterior) == names
    rows = draw_rows(params.posterior, seed=4, trials=np.arange(200))
    assert np.array_equal(rows, draw_rows(params.posterior, seed=4, trials=np.arange(200)))
    assert len(set(rows.tolist())) > 30  # rows spread over the 50 draws
    drawn = draw_trial_parameters(params, seed=4, trial=7)
    row = rows[7]
    for j, name in enumerate(names):
        assert drawn[name] == values[row, j]  # taken together from one row


def test_an_edited_calibrated_entry_leaves_the_joint_draws(calibrated_copy):
    path, names, _ = calibrated_copy
    params = load_params(path)
    edited = params.with_values({names[0]: params[names[0]] * 3})
    assert joint_paths(edited, edited.posterior) == names[1:]
    joint = joint_values(edited, edited.posterior, 0, np.arange(5))
    assert set(joint) == {names[1]}


def test_draws_that_differ_from_their_record_are_refused(calibrated_copy):
    path, _, _ = calibrated_copy
    csv_path, _ = draws_paths(path)
    csv_path.write_text(csv_path.read_text().replace("\n1,", "\n1,9", 1))
    draws = load_draws(path)  # the rows are read, and checked, when a run first uses them
    with pytest.raises(InputError, match="sha256"):
        draws.values


def test_without_draws_nothing_is_joint(cd5):
    bare = dataclasses.replace(cd5, posterior=None)
    assert joint_values(bare, bare.posterior, 0, np.arange(3)) == {}


@given(st.lists(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=3, max_size=3), min_size=1,
                max_size=30))
@settings(max_examples=60, deadline=None)
def test_draws_written_read_back_exactly(rows):
    """Every draw of every magnitude reads back bit for bit (the table library writes and reads the CSV)."""
    names = ("late.relapse_hazard", "late.tma_death_hazard", "b_lineage.relapse")
    values = np.array(rows, dtype=float)
    read_names, back = parse_draws(Path("draws.csv"), draws_csv_text(names, values), len(names))
    assert read_names == names
    assert np.array_equal(back.view(np.uint64), values.view(np.uint64))


@pytest.mark.parametrize("names", [("a", "a"), ("draw", "a")])
def test_draws_columns_are_named_once(names):
    with pytest.raises(ValueError, match="one column"):
        draws_csv_text(names, np.ones((2, 2)))


@pytest.mark.parametrize("text, problem", [("draw,a\n", "at least one row"), ("draw,a,b\n0,1\n", "every row must hold"),
                                           ("draw,a\n0,x\n", "not a number"), ("draw,a\n0,inf\n", "finite"),
                                           ("draw,a\n0,1,2\n", "every row must hold")])
def test_a_damaged_draws_table_is_refused_naming_the_file(text, problem):
    with pytest.raises(InputError, match=f"draws.csv: values: .*{problem}"):
        parse_draws(Path("draws.csv"), text)
