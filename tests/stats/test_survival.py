"""Kaplan-Meier and reverse Kaplan-Meier on cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from sim.stats.kaplan_meier import km_median, km_survival_at, reverse_km_median_followup


def test_without_censoring_km_is_the_empirical_survival():
    time = np.array([1.0, 2, 3, 4, 5])
    event = np.ones(5, bool)
    assert km_survival_at(time, event, 2.5) == pytest.approx(0.6)
    assert km_median(time, event) == 3.0


def test_km_with_censoring_by_hand():
    # deaths at 1 and 3, censored at 2 and 4: S(3) = (3/4) * (1/2)
    time, event = np.array([1.0, 2, 3, 4]), np.array([True, False, True, False])
    assert km_survival_at(time, event, 3.5) == pytest.approx(0.375)


def test_beyond_follow_up_is_undefined_unless_all_died():
    assert np.isnan(km_survival_at(np.array([1.0, 2.0]), np.array([True, False]), 5.0))
    assert km_survival_at(np.array([1.0, 2.0]), np.array([True, True]), 5.0) == 0.0
    assert km_survival_at(np.array([3.0, 4.0]), np.array([False, False]), 2.0) == 1.0


def test_reverse_km_counts_deaths_as_censored():
    # follow-up 10, 20, 30 (alive) and a death at 5: reverse KM median of potential follow-up is 20
    time, died = np.array([5.0, 10, 20, 30]), np.array([True, False, False, False])
    assert reverse_km_median_followup(time, died) == 20.0
