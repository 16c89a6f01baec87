"""Rank-normalised split R-hat and the effective sample size, on chains whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from sim.stats.convergence import effective_sample_size, split_rhat


def ar1(rng, rho, draws, chains):
    x = np.zeros((draws, chains))
    for t in range(1, draws):
        x[t] = rho * x[t - 1] + rng.normal(size=chains)
    return x


def test_independent_chains_give_rhat_near_one():
    # 8 chains of 2000 iid draws: R-hat's sampling spread is about 1/(number of draws), far below 0.01
    x = np.random.default_rng(0).normal(size=(2000, 8))
    assert split_rhat(x) < 1.005


def test_a_chain_stuck_elsewhere_is_caught():
    x = np.random.default_rng(1).normal(size=(2000, 8))
    x[:, 0] += 1.0
    assert split_rhat(x) > 1.01


def test_a_chain_with_another_spread_is_caught_by_the_tails():
    x = np.random.default_rng(2).normal(size=(2000, 8))
    x[:, 0] *= 3.0  # same centre: only the folded (tail) R-hat sees it
    assert split_rhat(x) > 1.01


def test_effective_sample_size_of_ar1():
    # AR(1) with rho 0.9 has integrated autocorrelation time (1 + rho) / (1 - rho) = 19; with 8 x 4000 draws
    # and emcee's window of about 5 tau, the estimate's relative SE is about sqrt(2 (2 x 95 + 1) / 32000) = 0.11:
    # allow 3 SE
    x = ar1(np.random.default_rng(3), 0.9, 4000, 8)
    assert effective_sample_size(x) == pytest.approx(32000 / 19, rel=0.33)
