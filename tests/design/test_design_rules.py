"""The designs' rules: BOIN boundaries and selection, 3+3 against its exact operating characteristics,
TITE-BOIN's estimate, and BOIN's operating characteristics against a published table.

Statistical checks use fixed seeds and allow Z = 4 binomial standard errors (a false alarm about
1 in 16,000 for a correct design), as tests/test_statistical.py.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from sim.design.boin import BOIN, boundaries, pava, select_mtd, too_toxic
from sim.design.exact import three_plus_three
from sim.design.rules_33 import ThreePlusThree
from sim.inputs.design_settings import DesignSettings, DLTDefinition
from sim.design.standard import standard_oc
from sim.design.tite import TITEBOIN, imputed_rate

Z = 4.0
DLT = DLTDefinition(28, 3, 3, True)


def settings(name: str, k: int, **changes) -> DesignSettings:
    base = DesignSettings(name, tuple("ABCDEFG"[:k]), 0, 3, 30, 0.3, 0.95, None, DLT, name == "tite_boin", True,
                          False, 0.5, "imputation")
    return replace(base, **changes)


def assert_share(observed: float, p: float, n: int, extra_var: float = 0.0) -> None:
    se = np.sqrt(p * (1 - p) / n + extra_var)
    if se == 0:
        assert observed == p
        return
    assert abs(observed - p) < Z * se, f"{observed:.4f} vs {p:.4f} (tolerance {Z * se:.4f})"


@pytest.mark.parametrize("target, lam_e, lam_d", [(0.25, 0.197, 0.298), (0.3, 0.236, 0.358)])
def test_boin_boundaries_match_the_published_table(target, lam_e, lam_d):
    """Liu and Yuan 2015 (and BOIN::get.boundary), printed to three decimals (0.3585 appears as 0.358)."""
    e, d = boundaries(target)
    assert abs(e - lam_e) <= 6e-4 and abs(d - lam_d) <= 6e-4


def test_elimination_rule_is_beta_posterior_above_095_from_three_patients():
    assert too_toxic(3, 3, 0.3, 0.95)  # P(p > 0.3 | 3/3) = 1 - 0.3^4 = 0.9919
    assert not too_toxic(2, 3, 0.3, 0.95)  # 0.9163
    assert not too_toxic(2, 2, 0.3, 0.95)  # fewer than 3 patients: never
    assert too_toxic(4, 6, 0.3, 0.95) and not too_toxic(3, 6, 0.3, 0.95)  # get.boundary: eliminate if >= 4 of 6


def test_pava_pools_adjacent_violators_by_weight():
    assert np.allclose(pava(np.array([0.1, 0.3, 0.2, 0.4]), np.ones(4)), [0.1, 0.25, 0.25, 0.4])
    assert np.allclose(pava(np.array([0.5, 0.1]), np.array([1.0, 3.0])), [0.2, 0.2])
    assert np.allclose(pava(np.array([0.1, 0.2]), np.ones(2)), [0.1, 0.2])


def test_select_mtd_the_bOIN_package_example_and_ties():
    assert select_mtd(np.array([3, 3, 15, 9, 0]), np.array([0, 0, 4, 4, 0]), 0.3) == 2  # select.mtd's example
    # the same data at two doses pool to one estimate: below the target the higher dose wins ...
    assert select_mtd(np.array([6, 6, 0]), np.array([1, 1, 0]), 0.3) == 1
    # ... above the target the lower one
    assert select_mtd(np.array([6, 6, 0]), np.array([3, 3, 0]), 0.3) == 0
    assert select_mtd(np.array([3, 3]), np.array([3, 0]), 0.3) is None  # lowest dose eliminated
    assert select_mtd(np.array([3, 6, 0]), np.array([0, 4, 0]), 0.3) == 0  # dose 2 eliminated: only dose 1 left


def test_boin_eliminates_and_never_escalates_into_an_eliminated_dose():
    rules = BOIN(3, 0, 3, 30, 0.3)
    n, y = np.array([3, 3, 0]), np.array([0, 3, 0])
    action = rules.decide(1, n, y)
    assert rules.eliminated == 1 and action.dose == 0
    assert rules.decide(0, np.array([6, 3, 0]), np.array([0, 3, 0])).dose == 0  # would escalate, but 1 is out
    lowest = BOIN(3, 0, 3, 30, 0.3).decide(0, np.array([3, 0, 0]), np.array([3, 0, 0]))
    assert lowest.stops and lowest.selected is None


@pytest.mark.parametrize("expand", [False, True])
@pytest.mark.parametrize("rates", [[0.05, 0.15, 0.3, 0.45, 0.6], [0.3, 0.4, 0.5], [0.02, 0.05, 0.1]])
def test_three_plus_three_selection_matches_the_exact_closed_form(rates, expand):
    trials = 4000
    s = settings("3+3", len(rates), expand_mtd=expand)
    selected, n, y = standard_oc(s, rates, trials, seed=7)
    exact = three_plus_three(rates, expand)
    assert np.isclose(exact.select.sum() + exact.select_none, 1)
    for j in range(len(rates)):
        assert_share(np.mean(selected == j), exact.select[j], trials)
    assert_share(np.mean(selected == -1), exact.select_none, trials)
    sd = n.std(axis=0) + 1e-12
    assert np.all(np.abs(n.mean(axis=0) - exact.patients) < Z * sd / np.sqrt(trials) + 1e-9)


def test_three_plus_three_exact_form_by_hand():
    """One dose at rate p: select it with (1-p)^3 + 3p(1-p)^2 (1-p)^3; 3 + 3 x 3p(1-p)^2 patients."""
    p = 0.2
    exact = three_plus_three([p])
    passed = (1 - p) ** 3 + 3 * p * (1 - p) ** 2 * (1 - p) ** 3
    assert np.isclose(exact.select[0], passed) and np.isclose(exact.select_none, 1 - passed)
    assert np.isclose(exact.patients[0], 3 + 9 * p * (1 - p) ** 2)


def test_three_plus_three_rules_step_by_step():
    rules = ThreePlusThree(3, 0)
    assert rules.first().dose == 0
    assert rules.decide(0, np.array([3, 0, 0]), np.array([0, 0, 0])).dose == 1  # 0/3: escalate
    add = rules.decide(1, np.array([3, 3, 0]), np.array([0, 1, 0]))
    assert add.dose == 1 and add.slots == 3  # 1/3: 3 more at the same dose
    stop = rules.decide(1, np.array([3, 6, 0]), np.array([0, 2, 0]))
    assert stop.stops and stop.selected == 0  # 2/6: MTD is the dose below
    confirm = ThreePlusThree(2, 0, expand_mtd=True)
    confirm.first()
    confirm.decide(0, np.array([3, 0]), np.array([0, 0]))
    expand = confirm.decide(1, np.array([3, 3]), np.array([0, 2]))
    assert expand.dose == 0 and expand.slots == 3  # MTD candidate with 3 patients gets 3 more
    assert confirm.decide(0, np.array([6, 3]), np.array([2, 2])).selected is None  # 2/6 at the lowest: none


def test_tite_estimate_without_pending_is_the_observed_rate_and_falls_with_follow_up():
    assert imputed_rate(1, 6, 0, 0.0, 0.3) == pytest.approx(1 / 6)
    rates = [imputed_rate(0, 6, 3, stft, 0.3) for stft in (0.0, 1.0, 2.0, 3.0)]
    assert all(a > b for a, b in zip(rates, rates[1:])) and rates[-1] == pytest.approx(0.0)


def test_tite_escalation_matches_the_stft_threshold_form():
    """p^ <= lambda_e exactly when STFT >= c - (1 - p~)/p~ (n lambda_e - y) (the decision table's form)."""
    lam_e, _ = boundaries(0.3)
    for n, y, c in [(6, 1, 2), (9, 1, 4), (6, 0, 3), (12, 2, 5)]:
        p_tilde = (y + 0.15) / (n - c + 1)
        threshold = c - (1 - p_tilde) / p_tilde * (n * lam_e - y)
        for stft in np.linspace(0, c, 41):
            assert (imputed_rate(y, n, c, stft, 0.3) <= lam_e + 1e-12) == (stft >= threshold - 1e-9)


def test_tite_suspends_accrual_when_more_than_half_are_pending():
    rules = TITEBOIN(3, 0, 3, 30, 0.3)
    n, y = np.array([4, 0, 0]), np.array([0, 0, 0])
    assert rules.decide_pending(0, n, y, np.array([3, 0, 0]), np.array([1.0, 0, 0])).suspend
    go = rules.decide_pending(0, n, y, np.array([2, 0, 0]), np.array([1.9, 0, 0]))
    assert not go.suspend and go.dose == 1
    same = rules.decide_pending(0, np.array([6, 0, 0]), np.array([1, 0, 0]), np.zeros(3), np.zeros(3))
    assert same.dose == BOIN(3, 0, 3, 30, 0.3).decide(0, np.array([6, 0, 0]), np.array([1, 0, 0])).dose


# Published operating characteristics: Homma G. simFastBOIN: Fast Bayesian Optimal Interval Design for
# Phase I Dose-Finding Trials, R package version 1.3.2 (CRAN, December 2025), vignette "Introduction to
# simFastBOIN", section "Running a Basic BOIN Simulation", whose engine reproduces BOIN::get.oc: target 0.30,
# true DLT rates 0.10, 0.25, 0.40, 0.55, 0.70, 10 cohorts of 3, cutoff.eli 0.95, n.earlystop 18 (the
# package's default), 1000 simulated trials, seed 123.  Printed: MTD selection 10.8, 52.4, 33.8, 2.8, 0.1 %
# (no MTD 0.1 %); average patients 6.8, 11.9, 7.7, 1.8, 0.1 (total 28.4).
PUBLISHED_TRIALS = 1000
PUBLISHED_SELECT = [0.108, 0.524, 0.338, 0.028, 0.001]
PUBLISHED_PATIENTS = [6.8, 11.9, 7.7, 1.8, 0.1]


def test_boin_operating_characteristics_match_the_published_table():
    rates = [0.10, 0.25, 0.40, 0.55, 0.70]
    trials = 4000
    s = settings("boin", 5, early_stop_patients=18)
    selected, n, _ = standard_oc(s, rates, trials, seed=3)
    for j, published in enumerate(PUBLISHED_SELECT):
        # both estimates carry Monte Carlo error: ours (trials) and the published (1000 trials)
        ours = np.mean(selected == j)
        assert_share(ours, published, trials, extra_var=published * (1 - published) / PUBLISHED_TRIALS)
    for j, published in enumerate(PUBLISHED_PATIENTS):
        se = n[:, j].std() * np.sqrt(1 / trials + 1 / PUBLISHED_TRIALS)
        assert abs(n[:, j].mean() - published) < Z * se + 0.05, j  # + rounding to one decimal
