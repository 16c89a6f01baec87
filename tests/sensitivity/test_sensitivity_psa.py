"""Probabilistic sensitivity analysis: the draws are `cartsim run --parameter-uncertainty`'s, and the
variance split recovers known components (statistical checks with a stated tolerance)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.stats.key_outcomes import key_outcomes
from sim.runs.runner import run_trials
from sim.sensitivity import run_psa
from sim.sensitivity.psa import variance_split

OUTCOMES = ("os_12m", "cr_rate", "n_withdrawn", "crs_g3_rate")


def test_draw_d_has_the_parameters_of_virtual_trial_d_of_a_run_with_parameter_uncertainty(cll1):
    """With one inner trial, draw d is trial d of `run --parameter-uncertainty`: same parameters, same luck."""
    draws, seed = 12, 7
    psa = run_psa(cll1, draws=draws, inner=1, seed=seed, outcomes=OUTCOMES)
    results = run_trials(cll1, trials=draws, seed=seed, parameter_uncertainty=True)
    reference = key_outcomes(results.patients, results.facilities)
    table = psa.draws_table()
    for name in OUTCOMES:
        np.testing.assert_allclose(table[name], reference[name].astype(float), rtol=1e-12, err_msg=name)


def test_only_the_chosen_inputs_vary(cd5):
    psa = run_psa(cd5, draws=6, inner=2, seed=1, outcomes=["cr_rate"], inputs=["response"])
    table = psa.draws_table()
    inputs = [n for n in table.names if n.startswith("response.")]
    assert inputs == ["response.categories.mrd_neg_cr", "response.categories.mrd_pos_cr", "response.categories.no_cr",
                      "response.dose_log_odds"]
    assert not any(n.startswith("crs.") for n in table.names)
    assert len(set(table["response.categories.no_cr"])) == 6  # each draw its own


def test_variance_split_recovers_known_components():
    """theta ~ N(0, 2^2), five inner values Y ~ N(theta, 3^2) per draw: Var(E[Y|theta]) = 4, E[Var(Y|theta)] = 9.

    Tolerance: 4 standard errors of each estimate (var of 4,000 draw means of variance 5.8; mean of
    4,000 sample variances with 4 degrees of freedom).  Without the finite-inner correction the first
    would be 4 + 9/5 = 5.8, well outside it.
    """
    rng = np.random.default_rng(11)
    draws, inner = 4000, 5
    theta = rng.normal(0, 2, draws)
    y = theta[:, None] + rng.normal(0, 3, (draws, inner))
    split = variance_split(y.mean(axis=1), y.var(axis=1, ddof=1), np.full(draws, inner))
    assert abs(split["var_parameter"] - 4) < 4 * 5.8 * np.sqrt(2 / draws)
    assert abs(split["var_patient"] - 9) < 4 * 9 * np.sqrt(2 / (inner - 1) / draws)
    assert split["share_parameter"] == pytest.approx(4 / 13, abs=0.03)


def test_variance_split_needs_two_inner_trials():
    split = variance_split(np.array([0.1, 0.2, 0.3]), np.full(3, np.nan), np.ones(3, dtype=int))
    assert np.isnan(split["var_parameter"]) and np.isnan(split["share_parameter"])


def test_summary_and_files(cd5, tmp_path):
    psa = run_psa(cd5, draws=30, inner=4, seed=2, outcomes=["os_12m", "n_withdrawn"], out=tmp_path)
    written = {p.relative_to(tmp_path).as_posix() for p in psa.write(tmp_path)}
    assert written == {"psa_summary.csv", "psa_draws.csv", "psa.json", "figures/psa.png", "figures/psa.svg"}
    rows = psa.summary_table().rows()
    assert [r["outcome"] for r in rows] == ["os_12m", "n_withdrawn"]
    for row in rows:
        assert row["low95"] <= row["median"] <= row["high95"]
        assert 0 <= row["share_parameter"] <= 1
    assert len(psa.draws_table()) == 30


@pytest.mark.slow
@pytest.mark.parametrize("outcome", ["n_withdrawn", "crs_g3_rate"])
def test_the_variance_split_adds_up_to_the_variance_of_single_trials(cd5, outcome):
    """Var(Y) two ways: directly, over 4,000 virtual trials each with its own parameter draw; and as
    Var(E[Y|theta]) + E[Var(Y|theta)] from a PSA of 1,000 draws x 10 trials.  Tolerance: 4 standard
    errors of the difference (the direct one from the squared deviations, the PSA one by a bootstrap
    over draws, seeded)."""
    results = run_trials(cd5, trials=4000, seed=21, parameter_uncertainty=True)
    y = key_outcomes(results.patients, results.facilities)[outcome].astype(float)
    y = y[~np.isnan(y)]
    direct = y.var(ddof=1)
    direct_se = ((y - y.mean()) ** 2).std(ddof=1) / np.sqrt(y.size)
    psa = run_psa(cd5, draws=1000, inner=10, seed=22, outcomes=[outcome])
    mean, var, n = psa.collected.column(outcome)

    def total(rows):
        split = variance_split(mean[rows], var[rows], n[rows])
        return split["var_parameter"] + split["var_patient"]

    rng = np.random.default_rng(23)
    boot = [total(rng.integers(0, len(mean), len(mean))) for _ in range(400)]
    estimate = total(np.arange(len(mean)))
    assert abs(estimate - direct) < 4 * np.hypot(direct_se, np.std(boot, ddof=1))


@pytest.mark.slow
def test_a_psa_of_1000_draws_of_1000_patients_stays_under_1_gib(tmp_path):
    """Peak resident memory of the whole command (Python, NumPy, SciPy, matplotlib included), serial."""
    import resource
    import subprocess
    import sys

    from conftest import PARAMS

    done = subprocess.run([sys.executable, "-m", "sim", "sensitivity", "psa", str(PARAMS["cd5_tall"]),
                           "--draws", "1000", "--inner", "1", "--enrolled", "1000", "--workers", "1",
                           "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # kilobytes on Linux
    assert peak_mib < 1024, f"peak {peak_mib:.0f} MiB"
