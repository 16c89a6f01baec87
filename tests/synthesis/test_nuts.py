"""The evidence synthesis' sampler: its central-difference gradient, and NUTS draws of a hierarchy whose
posterior is known exactly (no data: the prior itself)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.analyses.synthesis.hierarchy import CAUSES, MU_PRIOR, Block, Hierarchy, Unit
from sim.analyses.synthesis.sampler import sample_hierarchy, value_and_gradient

pytest.importorskip("nutpie")


def prior_only() -> Hierarchy:
    return Hierarchy([Unit("a", "b_lineage", 10), Unit("b", "b_lineage", 20)], [])


def analytic_gradient(hierarchy: Hierarchy, x: np.ndarray) -> np.ndarray:
    """d log prior / d (mu, log tau, z): Normal for mu and z; HalfNormal(1) in tau plus the log-Jacobian for
    log tau, whose log density is -tau^2/2 + log tau, so its derivative in log tau is 1 - tau^2."""
    c, k = len(CAUSES), len(hierarchy.classes)
    out = np.empty_like(x)
    out[:c * k] = -(x[:c * k] - MU_PRIOR[0]) / MU_PRIOR[1] ** 2
    tau = np.exp(x[c * k:c * k + c])
    out[c * k:c * k + c] = 1.0 - tau ** 2
    out[c * k + c:] = -x[c * k + c:]
    return out


def test_the_gradient_is_the_analytic_one():
    hierarchy = prior_only()
    x = hierarchy.start(np.random.default_rng(3), 1)[0] + np.random.default_rng(4).normal(0, 0.5, hierarchy.ndim)
    value, gradient = value_and_gradient(hierarchy, x)
    assert value == pytest.approx(float(hierarchy(x)[0]))
    # central differences with step 1e-5 on terms whose third derivative is O(1): error ~ step^2 = 1e-10,
    # plus rounding ~ 1e-16 x |value| / step ~ 1e-10; 1e-6 leaves a margin of four orders of magnitude
    np.testing.assert_allclose(gradient, analytic_gradient(hierarchy, x), atol=1e-6)


def test_nuts_draws_the_prior_when_there_is_no_data():
    hierarchy = prior_only()
    sample = sample_hierarchy(hierarchy, draws=400, tune=300, chains=2, seed=11)
    assert sample.theta.shape == (800, hierarchy.ndim) and sample.divergences == 0
    q = sample.quantities()
    c, k = len(CAUSES), len(hierarchy.classes)
    mu = sample.theta[:, :c * k]
    tau = np.exp(sample.theta[:, c * k:c * k + c])
    # each mean within 4 Monte Carlo SEs of the exact one (SE = prior SD / sqrt(ESS)); the ESS is the sampler's
    # own estimate for the pooled level, which the test also requires to be at least 100 of the 800 draws
    ess = min(sample.ess[f"pooled {cause} b_lineage"] for cause in CAUSES)
    assert ess >= 100
    np.testing.assert_allclose(mu.mean(axis=0), MU_PRIOR[0], atol=4 * MU_PRIOR[1] / np.sqrt(ess))
    half_normal_mean, half_normal_sd = np.sqrt(2 / np.pi), np.sqrt(1 - 2 / np.pi)
    np.testing.assert_allclose(tau.mean(axis=0), half_normal_mean, atol=4 * half_normal_sd / np.sqrt(ess))
    assert set(q) >= {f"tau {cause}" for cause in CAUSES}
    assert max(sample.rhat.values()) < 1.05  # two chains of one exact target agree (a loose bound: 400 draws each)


def test_a_divergence_is_a_warning_everywhere_the_diagnostics_go():
    hierarchy = prior_only()
    sample = sample_hierarchy(hierarchy, draws=100, tune=100, chains=2, seed=1)
    diverged = type(sample)(**{**sample.__dict__, "divergences": 3})
    assert diverged.warnings == ["3 divergent transitions after tuning (1.5% of the draws)"]
    assert diverged.diagnostics()["warnings"] == diverged.warnings and diverged.diagnostics()["divergences"] == 3
    assert diverged.problems == sample.problems  # the convergence checks are R-hat and ESS alone


def gaussian_data(precision: float, truth: float = np.log(2e-3)) -> Hierarchy:
    """Three trials whose data on every cause's log level are Normal(truth, 1 / precision) observations."""
    units = [Unit(name, "b_lineage", 50) for name in ("a", "b", "c")]

    def log_likelihood(levels, extras):
        return sum(-0.5 * precision * ((np.log(levels[c]) - truth) ** 2).sum(axis=1) for c in CAUSES)

    return Hierarchy(units, [Block([0, 1, 2], log_likelihood)])


def test_well_measured_levels_are_sampled_centred_and_weakly_measured_ones_not():
    from sim.analyses.synthesis.sampler import chosen_forms

    strong, _ = chosen_forms(gaussian_data(precision=400.0), seed=0)
    weak, _ = chosen_forms(gaussian_data(precision=0.01), seed=0)
    assert strong.centred.all() and not weak.centred.any()
    assert all(n.startswith("log_level[") for n in strong.names[len(CAUSES) + len(CAUSES):])


def test_the_forms_are_one_posterior():
    hierarchy = gaussian_data(precision=5.0)
    centred = hierarchy.with_centring(np.ones_like(hierarchy.centred))
    theta = hierarchy.start(np.random.default_rng(5), 4)
    moved = hierarchy.to_centring(theta, centred)
    np.testing.assert_allclose(centred.log_levels(moved), hierarchy.log_levels(theta))
    # the densities differ by the log-Jacobian of z -> log level = mu + tau z, which is log tau per level
    _, tau, _, _ = hierarchy.split(theta)
    jacobian = np.log(tau).sum(axis=1) * len(hierarchy.units)
    np.testing.assert_allclose(hierarchy(theta) - centred(moved), jacobian, rtol=1e-10)


@pytest.mark.parametrize("content", ["not numpy", None])
def test_a_saved_sample_that_is_not_one_is_refused_in_one_line(tmp_path, capsys, content):
    from sim.cli.main import main

    path = tmp_path / "sample.npz"
    if content is None:
        np.savez(path, theta=np.zeros((2, 2, 2)))  # no tune, divergences or forms
    else:
        path.write_text(content)
    assert main(["evidence", "--from-sample", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "sample.npz" in err and not (tmp_path / "out").exists()
