"""One-way sensitivity analysis: percentiles, Dirichlet components, ranking, and common random numbers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.sensitivity import FunctionModel, run_oneway
from sim.sensitivity.oneway import share_rest, weight_swings

# a linear outcome of four parameters of cd5_tall with coefficients chosen so that the swings,
# coefficient x (97.5th - 2.5th percentile), fall in a known order (none is close to another)
COEFFICIENTS = {"crs.incidence": 1.0, "withdrawal.progression_hazard": 100.0, "accrual.mean_period_days": 0.01,
                "donor.p_new_donor": -2.0}


def linear(values, rng):
    """The linear outcome at the base values of cd5_tall, moved by the parameters set."""
    base = {"crs.incidence": 0.8, "withdrawal.progression_hazard": 0.00349, "accrual.mean_period_days": 365.0,
            "donor.p_new_donor": 0.5}
    return {"y": sum(c * values.get(path, base[path]) for path, c in COEFFICIENTS.items())}


def test_one_way_ranks_inputs_in_a_known_order(cd5):
    result = run_oneway(cd5, inputs=list(COEFFICIENTS), model=FunctionModel(linear, ("y",)))
    rows = result.summary_table().rows()
    expected = {}
    for path, c in COEFFICIENTS.items():
        dist = cd5.entries[path].uncertainty.dist
        expected[path] = abs(c) * (dist.ppf(0.975) - dist.ppf(0.025))
    order = sorted(expected, key=expected.get, reverse=True)
    assert [r["input"] for r in rows] == order
    for row in rows:
        assert row["swing"] == pytest.approx(expected[row["input"]], rel=1e-9)
        assert row["rank"] == order.index(row["input"]) + 1


def test_severe_crs_swings_most_with_its_own_probability(cll1):
    """The simulation itself: P(CRS grade >= 3) drives the severe-CRS rate more than any other input."""
    result = run_oneway(cll1, inner=40, seed=3, outcomes=["crs_g3_rate"], inputs=["crs", "dose", "expansion"])
    rows = result.summary_table().rows()
    assert rows[0]["input"] == "crs.p_grade_at_least_3"
    assert rows[0]["outcome_at_low"] < rows[0]["outcome_base"] < rows[0]["outcome_at_high"]


def test_runs_share_their_luck_so_an_input_without_effect_has_no_swing(cd5):
    """On common random numbers the expansion peak day cannot move CR at all; with independent luck it would."""
    result = run_oneway(cd5, inner=10, seed=4, outcomes=["cr_rate", "os_12m"],
                        inputs=["expansion.peak_day", "late.infection_death_hazard"])
    rows = {(r["outcome"], r["input"]): r for r in result.summary_table().rows()}
    for path in ("expansion.peak_day.median", "expansion.peak_day.sigma"):
        assert rows[("cr_rate", path)]["swing"] == 0.0
    assert rows[("os_12m", "late.infection_death_hazard")]["swing"] > 0


def test_a_dirichlet_component_takes_its_marginal_beta_percentiles_and_the_rest_share_what_is_left(cll1):
    path = "response.categories"
    uncertainty = cll1.entries[path].uncertainty
    alpha = dict(zip(uncertainty.counts, uncertainty.alpha, strict=True))
    total = sum(alpha.values())
    swings = {s.name: s for s in weight_swings(cll1, path)}
    low = swings[f"{path}.no_cr"]
    assert low.low == pytest.approx(stats.beta(alpha["no_cr"], total - alpha["no_cr"]).ppf(0.025))
    weights = low.low_values[path]
    assert sum(weights.values()) == pytest.approx(1.0)
    base = {c: w / sum(cll1[path].values()) for c, w in cll1[path].items()}
    assert weights["mrd_neg_cr"] / weights["mrd_pos_cr"] == pytest.approx(base["mrd_neg_cr"] / base["mrd_pos_cr"])


def test_the_rest_shares_by_alpha_when_its_base_weights_are_zero():
    weights = share_rest({"a": 1.0, "b": 0.0, "c": 0.0}, {"a": 3.0, "b": 1.0, "c": 3.0}, "a", 0.6)
    assert weights == pytest.approx({"a": 0.6, "b": 0.1, "c": 0.3})


def test_tornado_files(cd5, tmp_path):
    result = run_oneway(cd5, inner=3, seed=1, outcomes=["os_12m"], inputs=["late"])
    names = {p.relative_to(tmp_path).as_posix() for p in result.write(tmp_path)}
    assert names == {"oneway.csv", "oneway.json", "figures/tornado_os_12m.png", "figures/tornado_os_12m.svg"}
    assert np.all(np.diff(result.summary_table()["swing"]) <= 0)
