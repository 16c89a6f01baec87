"""Designs on the patient flow: decisions wait for DLT windows, common random numbers across designs,
the exact 3+3 through the whole flow, and the effect of manufacturing time on withdrawals."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import ROOT
from sim.inputs.design_settings import design_settings
from sim.design.exact import three_plus_three
from sim.design.oc import candidates, pool_size, run_design
from sim.design.trial_flow import INFUSED, CohortFlow, make_rules
from sim.inputs.scenarios import load_scenario

Z = 4.0
SCENARIOS = ROOT / "params" / "scenarios"


@pytest.fixture(scope="module")
def boin_params():
    return load_scenario(SCENARIOS / "cll1_design_boin.toml")


def test_a_cohort_is_dosed_only_after_the_last_cohort_s_windows_close(boin_params):
    s = design_settings(boin_params)
    for trial_patients in candidates(boin_params, s, 5, np.arange(20), pool_size(boin_params, s))[0]:
        flow = CohortFlow(s, trial_patients, make_rules(s))
        flow.run()
        infused = np.flatnonzero(flow.status == INFUSED)
        order = infused[np.argsort(flow.t_inf[infused])]
        for group, later in zip(_groups(order, s.cohort_size), _groups(order, s.cohort_size)[1:]):
            closes = max(flow.t_inf[group]) + s.dlt.window_days
            assert min(flow.t_inf[later]) >= closes - 1e-9


def _groups(order, size):
    return [order[i:i + size] for i in range(0, len(order), size)]


def test_designs_meet_the_same_patients(boin_params):
    s = design_settings(boin_params)
    a, _ = candidates(boin_params, s, 3, np.arange(4), 60)
    b, _ = candidates(boin_params, s.with_name("3+3"), 3, np.arange(4), 90)  # another pool size
    for x, y in zip(a, b):
        assert np.array_equal(x.arrival, y.arrival[:60]) and np.array_equal(x.dlt, y.dlt[:60])
        assert np.array_equal(x.progression_at, y.progression_at[:60])


def test_a_higher_dose_never_lowers_a_patient_s_toxicity(boin_params):
    s = design_settings(boin_params)
    _, tox = candidates(boin_params, s, 1, np.arange(50), 40)
    assert np.all(np.diff(tox.dlt.astype(int), axis=-1) >= 0)


def test_the_whole_flow_gives_the_exact_3_plus_3(boin_params):
    """With fixed true rates and replacement of the non-evaluable, the flow's selection is the design's."""
    rates = [0.1, 0.25, 0.45]
    trials = 2000
    oc = run_design(boin_params, design_settings(boin_params).with_name("3+3"), trials, seed=2, rates=rates)
    exact = three_plus_three(rates)
    for j, p in [*enumerate(exact.select), (-1, exact.select_none)]:
        se = np.sqrt(p * (1 - p) / trials)
        assert abs(np.mean(oc.selected == j) - p) < Z * se, j


def test_faster_manufacturing_means_fewer_withdrawals_and_a_shorter_trial(boin_params):
    fast = load_scenario(SCENARIOS / "cll1_design_boin_fast_manufacturing.toml")
    trials = 300
    base = run_design(boin_params, design_settings(boin_params), trials, seed=4)
    quick = run_design(fast, design_settings(fast), trials, seed=4)
    for diff in (quick.counts["withdrawn"] - base.counts["withdrawn"], quick.duration - base.duration):
        t = diff.mean() / (diff.std(ddof=1) / np.sqrt(trials))
        assert t < -Z, t


def test_without_progression_nobody_withdraws_and_every_enrolled_patient_is_treated_or_turned_away(boin_params):
    params = boin_params.with_values({"withdrawal.progression_hazard": 0.0})
    oc = run_design(params, design_settings(params), 100, seed=6)
    assert oc.counts["withdrawn"].sum() == 0
    treated = oc.treated.sum(axis=1)
    assert np.array_equal(oc.counts["enrolled"], treated + oc.counts["turned_away"] + oc.counts["not_infused"])
    assert np.all(treated <= 30)


def test_tite_boin_dosing_with_partial_follow_up_shortens_a_fast_accruing_trial(boin_params):
    fast_accrual = boin_params.with_values({"accrual.mean_period_days": 60.0})
    s = design_settings(fast_accrual)
    trials = 200
    boin = run_design(fast_accrual, s, trials, seed=8)
    tite = run_design(fast_accrual, s.with_name("tite_boin"), trials, seed=8)
    diff = tite.duration - boin.duration
    assert diff.mean() / (diff.std(ddof=1) / np.sqrt(trials)) < -Z
    assert np.all(tite.treated.sum(axis=1) <= s.max_sample_size)


def test_same_seed_same_results(boin_params):
    s = design_settings(boin_params)
    a, b = run_design(boin_params, s, 30, seed=9), run_design(boin_params, s, 30, seed=9)
    assert np.array_equal(a.selected, b.selected) and np.array_equal(a.duration, b.duration)
