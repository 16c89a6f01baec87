"""Joint posterior sampling: the sampler against exact posteriors, and the draws file beside a params file."""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest
from scipy import stats

from conftest import PARAMS
from sim.analyses.posterior import gamma_log_prior, sample_posterior, split_rhat
from sim.errors import InputError
from sim.inputs.params import load_params
from sim.inputs.posterior_draws import (draw_rows, draws_csv_text, draws_paths, joint_paths, joint_values,
                                        load_draws, provenance_text)
from sim.rng.parameter_draws import draw_trial_parameters


def poisson_log_density(counts: dict[str, tuple[float, float]]):
    """Log posterior of independent rates, each with k events over exposure x and a Gamma(1/2, 0) prior:
    exactly Gamma(k + 1/2, scale 1/x)."""
    prior = gamma_log_prior(0.0, 0.0)

    def log_density(values: dict[str, np.ndarray]) -> np.ndarray:
        return sum(k * np.log(values[n]) - x * values[n] + prior(values[n]) for n, (k, x) in counts.items())

    return log_density


def test_sampler_matches_an_exact_gamma_posterior():
    counts = {"a": (5.0, 1000.0), "b": (0.0, 800.0)}  # a rate with no event seen keeps a proper posterior
    sample = sample_posterior(poisson_log_density(counts), {"a": 0.005, "b": 0.001}, seed=3)
    assert sample.converged, sample.problems
    for column, (k, x) in zip(sample.draws.T, counts.values()):
        # the kept draws are spaced about a dozen autocorrelation times apart: close to independent, so a
        # Kolmogorov-Smirnov test at the 0.1% level applies
        assert stats.kstest(column, stats.gamma(k + 0.5, scale=1 / x).cdf).pvalue > 1e-3
        assert column.min() > 0


def test_split_rhat_flags_chains_that_disagree():
    rng = np.random.default_rng(0)
    mixed = rng.standard_normal((1000, 8, 1))
    apart = mixed + np.arange(8)[None, :, None]  # each chain around its own centre
    assert split_rhat(mixed)[0] < 1.01
    assert split_rhat(apart)[0] > 2


@pytest.mark.slow
def test_posterior_intervals_cover_the_true_rate():
    """Over 60 data sets simulated from known rates, the 95% posterior interval holds the truth in about
    95% of them: with 60 Bernoulli(0.95) trials, fewer than 51 covers has probability below 0.2%."""
    rng = np.random.default_rng(11)
    truth, exposure = 0.004, 1500.0
    covered = 0
    for i in range(60):
        k = float(rng.poisson(truth * exposure))
        sample = sample_posterior(poisson_log_density({"h": (k, exposure)}), {"h": (k + 0.5) / exposure},
                                  steps=2000, burn=500, seed=i)
        low, high = np.percentile(sample.draws[:, 0], [2.5, 97.5])
        covered += low <= truth <= high
    assert covered >= 51


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
    with pytest.raises(InputError, match="sha256"):
        load_draws(path)


def test_without_draws_nothing_is_joint(cd5):
    bare = dataclasses.replace(cd5, posterior=None)
    assert joint_values(bare, bare.posterior, 0, np.arange(3)) == {}
