"""Statistical checks with fixed seeds; each tolerance comes from the sampling error it states.

Proportions pooled over virtual patients are compared with their expected value at 4 binomial
standard errors (a false alarm about 1 in 16,000 for a correct model); distributions with a
Kolmogorov-Smirnov test at p > 0.001.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import sim

Z = 4.0


def assert_proportion(successes: int, n: int, p: float) -> None:
    """Observed proportion within Z binomial standard errors of p (exact when p is 0 or 1)."""
    observed = successes / n
    if p in (0.0, 1.0):
        assert observed == p
        return
    se = np.sqrt(p * (1 - p) / n)
    assert abs(observed - p) < Z * se, f"{observed:.4f} vs {p:.4f} (n={n}, tolerance {Z * se:.4f})"


@pytest.fixture(scope="module")
def cll1_runs(cll1):
    return sim.run_trials(cll1, trials=400, seed=11)


@pytest.fixture(scope="module")
def cd5_runs(cd5):
    return sim.run_trials(cd5, trials=400, seed=12)


@pytest.mark.parametrize("runs", ["cll1_runs", "cd5_runs"])
def test_every_reported_figure_lies_within_the_simulated_95_interval(runs, request):
    summary = request.getfixturevalue(runs).summary()
    for row in summary.rows():
        if not np.isnan(row["reported"]):
            assert row["sim_low95"] <= row["reported"] <= row["sim_high95"], row["figure"]


def test_withdrawal_matches_progression_competing_with_the_wait(cll1, cll1_runs):
    """P(withdraw) = 1 - E[exp(-h (C + M))] for collection C and manufacturing M, computed by scipy."""
    h = cll1["withdrawal.progression_hazard"]
    collection = stats.lognorm(cll1["manufacturing.collection_days.sigma"], scale=cll1["manufacturing.collection_days.median"])
    making = stats.lognorm(cll1["manufacturing.manufacturing_days.sigma"], scale=cll1["manufacturing.manufacturing_days.median"])
    expected = 1 - collection.expect(lambda c: np.exp(-h * c)) * making.expect(lambda m: np.exp(-h * m))
    t = cll1_runs.patients
    assert_proportion(int(np.sum(t["final_state"] == "withdrawn")), len(t), expected)


def test_cll1_response_split_matches_its_weights(cll1_runs):
    t = cll1_runs.patients
    assessed = t["response"] != ""
    for category, weight in {"mrd_neg_cr": 7 / 12, "mrd_pos_cr": 2 / 12, "no_cr": 3 / 12}.items():
        assert_proportion(int(np.sum(t["response"][assessed] == category)), int(assessed.sum()), weight)


def test_cll1_crs_in_everyone_infused(cll1_runs):
    t = cll1_runs.patients
    infused = ~np.isnan(t["t_infusion"])
    assert_proportion(int(np.sum(t["crs_grade"][infused] >= 1)), int(infused.sum()), 1.0)


def test_cll1_severe_crs_at_the_reference_dose(cll1_runs):
    t = cll1_runs.patients
    at_reference = t["dose_level"] == "B"  # dose 1.0 = reference: no dose shift
    assert_proportion(int(np.sum(t["crs_grade"][at_reference] >= 3)), int(at_reference.sum()), 5 / 12)


def test_cd5_low_dose_share_and_early_infection(cd5_runs):
    t = cd5_runs.patients
    infused = ~np.isnan(t["t_infusion"])
    assert_proportion(int(np.sum(t["dose_level"][infused] == "low")), int(infused.sum()), 6 / 16)
    assert_proportion(int(np.sum(t["early_infection"][infused])), int(infused.sum()), 1 / 16)
    assert_proportion(int(np.sum(t["cytopenia_g34"][infused])), int(infused.sum()), 1.0)


def test_late_events_are_competing_exponentials(cd5):
    """Without transplant and censoring, time from response to the first late event is
    Exp(sum of hazards) for MRD-negative patients when every band has the same level, and each cause
    takes its share of the hazard."""
    flat = {f"late.{name}_shape_{k}": 1.0 for name in ("relapse", "infection_death", "tma_death") for k in range(2, 6)}
    params = cd5.with_values(flat | {"transplant.p_if_cr_same_donor": 0, "transplant.p_if_cr_new_donor": 0,
                                     "accrual.cutoff_after_last_enrolment_days": 1e6,
                                     "late.infection_hr_early_infection": 1.0, "late.infection_hr_cytopenia_g34": 1.0})
    t = sim.run_trials(params, trials=300, seed=13).patients
    mrd_neg = t["response"] == "mrd_neg_cr"
    relapse, death = t["t_relapse"][mrd_neg], t["t_death"][mrd_neg]
    first = np.where(np.isnan(relapse), death, relapse) - t["t_response"][mrd_neg]
    hazards = {"relapse": params["late.relapse_hazard"], "infection": params["late.infection_death_hazard"],
               "tma": params["late.tma_death_hazard"]}
    total = sum(hazards.values())
    assert stats.kstest(first, stats.expon(scale=1 / total).cdf).pvalue > 0.001
    causes = np.where(~np.isnan(relapse), "relapse", t["death_cause"][mrd_neg])
    for cause, hazard in hazards.items():
        assert_proportion(int(np.sum(causes == cause)), len(causes), hazard / total)


def test_late_events_follow_the_banded_cumulative_hazard(cd5):
    """With the params' band shapes, no transplant and no cut-off, the time from response to the
    first late event of MRD-negative patients without early infection has CDF 1 - exp(-H(t)), H the
    sum of the causes' piecewise-linear cumulative hazards (Kolmogorov-Smirnov, p > 0.001)."""
    from sim.model import late_bands
    from sim.model.late_hazards import cumulative_hazard
    params = cd5.with_values({"transplant.p_if_cr_same_donor": 0, "transplant.p_if_cr_new_donor": 0,
                              "accrual.cutoff_after_last_enrolment_days": 1e6})
    t = sim.run_trials(params, trials=300, seed=14).patients
    keep = (t["response"] == "mrd_neg_cr") & ~t["early_infection"].astype(bool)
    relapse, death = t["t_relapse"][keep], t["t_death"][keep]
    first = np.where(np.isnan(relapse), death, relapse) - t["t_response"][keep]
    assert np.all(t["cytopenia_g34"][keep])  # every patient has the same infection hazard ratio
    factors = late_bands.patient_factors(params, np.zeros(1, bool), np.ones(1, bool), np.zeros(1, bool))
    total = late_bands.rates(params, factors, False).sum(axis=0)[0]
    edges = late_bands.band_starts(params) - params["response.assessment_day"]

    def cdf(x):
        x = np.asarray(x, dtype=float)
        rates = np.broadcast_to(total, x.shape + total.shape)
        return -np.expm1(-cumulative_hazard(x, rates, rates, edges, np.full(x.shape, np.inf)))

    assert stats.kstest(first, cdf).pvalue > 0.001
