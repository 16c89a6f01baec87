"""Aalen-Johansen cumulative incidence on cases worked by hand, and against Kaplan-Meier."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.stats.competing_risks import aalen_johansen
from sim.stats.endpoints import for_infused, relapse_and_nrm, transplant_competing


def test_a_small_case_worked_by_hand():
    # times 1..6; causes: 1 at t=1, censored at 2, 2 at 3, 1 at 4, censored at 5, 2 at 6
    # t=1: 6 at risk, S- = 1        -> CIF1 += 1/6;            S = 5/6
    # t=3: 4 at risk, S- = 5/6      -> CIF2 += 5/6 * 1/4 = 5/24; S = 5/6 * 3/4 = 5/8
    # t=4: 3 at risk, S- = 5/8      -> CIF1 += 5/8 * 1/3 = 5/24; S = 5/12
    # t=6: 1 at risk, S- = 5/12     -> CIF2 += 5/12;            S = 0
    result = aalen_johansen([1, 2, 3, 4, 5, 6], [1, 0, 2, 1, 0, 2], causes=2)
    first = 1 / 6 + 5 / 24
    assert result.at(np.array([0.5, 1, 3.5, 4, 6]), 1) == pytest.approx([0, 1 / 6, 1 / 6, first, first])
    assert result.at(np.array([0.5, 3, 5.9, 6]), 2) == pytest.approx([0, 5 / 24, 5 / 24, 5 / 24 + 5 / 12])
    assert result.at(6.0, 1) + result.at(6.0, 2) == pytest.approx(1.0)  # everyone has had an event by t=6


def test_a_censored_patient_is_at_risk_at_their_censoring_time():
    # the event at t=2 has 2 at risk (the one censored at 2 counts), so CIF = 1/2, not 1
    assert aalen_johansen([2, 2], [1, 0], causes=1).at(2.0, 1) == pytest.approx(0.5)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_cause_equals_one_minus_kaplan_meier(seed):
    rng = np.random.default_rng(seed)
    time = np.round(rng.exponential(10, 60), 1)  # rounded, so there are ties
    event = rng.random(60) < 0.7
    result = aalen_johansen(time, event.astype(int), causes=1)
    km = stats.ecdf(stats.CensoredData(uncensored=time[event], right=time[~event])).sf
    grid = np.linspace(0, time.max(), 50)
    assert result.at(grid, 1) == pytest.approx(1 - km.evaluate(grid), abs=1e-12)


def test_causes_add_up_to_one_minus_kaplan_meier_of_any_event():
    rng = np.random.default_rng(5)
    time = rng.exponential(10, 80)
    cause = rng.choice([0, 1, 2], size=80, p=[0.3, 0.4, 0.3])
    result = aalen_johansen(time, cause, causes=2)
    any_event = cause > 0
    km = stats.ecdf(stats.CensoredData(uncensored=time[any_event], right=time[~any_event])).sf
    grid = np.linspace(0, time.max(), 40)
    assert result.at(grid, 1) + result.at(grid, 2) == pytest.approx(1 - km.evaluate(grid), abs=1e-12)


def test_undefined_beyond_the_last_follow_up_while_anyone_is_event_free():
    result = aalen_johansen([1, 2, 3], [1, 0, 0], causes=1)
    assert np.isnan(result.at(3.5, 1)) and result.at(3.0, 1) == pytest.approx(1 / 3)
    assert np.isnan(aalen_johansen([], [], causes=2).at(1.0, 1))  # no patients: undefined


def patients(**columns):
    """A tiny patient table: every column the endpoints read, NaN or '' unless given."""
    n = len(next(iter(columns.values())))
    times = ("t_infusion", "t_response", "t_relapse", "t_death", "t_transplant", "t_end")
    base = {name: np.full(n, np.nan) for name in times}
    base |= {"response": np.full(n, "", dtype=object), "death_cause": np.full(n, "", dtype=object)}
    return base | {name: np.asarray(values, dtype=object if name in ("response", "death_cause") else float)
                   for name, values in columns.items()}


def test_endpoints_read_relapse_nrm_and_transplant_from_the_patient_table():
    t = patients(t_infusion=[0, 10, 0, np.nan], t_response=[28, 38, 28, np.nan],
                 response=["mrd_neg_cr", "no_cr", "mrd_neg_cr", ""],
                 t_relapse=[100, np.nan, np.nan, np.nan], t_death=[150, 90, 60, np.nan],
                 death_cause=["disease", "disease", "infection", ""], t_transplant=[np.nan, np.nan, 50, np.nan],
                 t_end=[150, 90, 60, 20])
    time, cause = for_infused(relapse_and_nrm, t)  # the not-infused patient is left out
    assert time.tolist() == [100, 28, 60] and cause.tolist() == [1, 1, 2]
    time, cause = for_infused(transplant_competing, t)
    assert time.tolist() == [100, 28, 50] and cause.tolist() == [2, 2, 1]
