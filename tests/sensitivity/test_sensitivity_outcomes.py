"""Sensitivity outcomes: computed over batches of trials, they equal the one-trial definitions of sim.stats.key_outcomes.

The batch estimators of survival and cumulative incidence are checked against the one-trial ones
(scipy's Kaplan-Meier, the Aalen-Johansen of sim.stats.competing_risks) on data with many ties; every registered
outcome is checked against sim.stats.key_outcomes.key_outcomes trial by trial, with limited facilities so that
the queue outcomes are not trivially zero.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.stats.competing_risks import aalen_johansen
from sim.errors import InputError
from sim.stats.key_outcomes import KEY_OUTCOMES, key_outcomes
from sim.engines.runner import run_trials
from sim.sensitivity.batch_survival import cif_at, km_at
from sim.sensitivity.model import simulate_trials
from sim.sensitivity.batch_outcomes import EXCLUDED, OUTCOMES, Batch, check_outcomes
from sim.stats.kaplan_meier import km_survival_at

TRIALS, SEED = 60, 5
AT = (0.0, 2.0, 3.5, 5.0, 9.0)


def rows_strategy():
    """Small trials with tied integer times, a few causes, and patients outside the analysis set."""
    cell = st.tuples(st.integers(0, 6), st.integers(0, 2), st.booleans())
    return st.lists(st.lists(cell, min_size=1, max_size=9), min_size=1, max_size=5).map(
        lambda rows: [row + [(0, 0, False)] * (9 - len(row)) for row in rows])


def as_arrays(rows):
    a = np.array(rows, dtype=float)
    return a[..., 0], a[..., 1].astype(int), a[..., 2].astype(bool)


@settings(max_examples=100, deadline=None)
@given(rows_strategy())
def test_batch_kaplan_meier_equals_scipy_per_trial(rows):
    time, cause, mask = as_arrays(rows)
    for at in AT:
        batch = km_at(time, cause > 0, mask, at)
        reference = [km_survival_at(time[r][mask[r]], cause[r][mask[r]] > 0, at) for r in range(len(rows))]
        np.testing.assert_allclose(batch, reference, rtol=1e-12, atol=1e-15)


@settings(max_examples=100, deadline=None)
@given(rows_strategy())
def test_batch_cumulative_incidence_equals_aalen_johansen_per_trial(rows):
    time, cause, mask = as_arrays(rows)
    for at in AT:
        for of in (1, 2):
            batch = cif_at(time, cause, mask, at, of)
            reference = [aalen_johansen(time[r][mask[r]], cause[r][mask[r]], 2).at(at, of) if mask[r].any()
                         else np.nan for r in range(len(rows))]
            np.testing.assert_allclose(batch, reference, rtol=1e-12, atol=1e-15)


def test_the_registry_offers_every_key_outcome_but_the_fixed_ones():
    assert set(OUTCOMES) == set(KEY_OUTCOMES) - set(EXCLUDED)
    for name, outcome in OUTCOMES.items():
        assert (outcome.label, outcome.unit) == (KEY_OUTCOMES[name].label, KEY_OUTCOMES[name].unit)


@pytest.fixture(scope="module", params=["cd5_tall", "cll1_aml"])
def limited(request, cd5, cll1):
    """Each trial with one manufacturing slot and one ICU bed (the SimPy engine), and a long accrual."""
    params = {"cd5_tall": cd5, "cll1_aml": cll1}[request.param]
    return params.with_values({"resources.manufacturing_slots": 1, "resources.icu_beds": 1,
                               "accrual.mean_period_days": 120})


def test_every_outcome_equals_its_one_trial_definition(limited):
    results = run_trials(limited, trials=TRIALS, seed=SEED)
    reference = key_outcomes(results.patients, results.facilities)
    batch = Batch(limited, simulate_trials(limited, SEED, np.arange(TRIALS)))
    for name, outcome in OUTCOMES.items():
        np.testing.assert_allclose(outcome.compute(batch), reference[name].astype(float), rtol=1e-12, atol=1e-15,
                                   err_msg=name)
    assert np.nanmax(reference["mfg_wait_days"]) > 0  # the queues were exercised


def test_outcomes_are_defined_where_expected(cd5):
    batch = Batch(cd5, simulate_trials(cd5, SEED, np.arange(TRIALS)))
    for name in ("n_withdrawn", "n_infused", "crs_g3_rate", "transplant_rate", "os_12m"):
        values = OUTCOMES[name].compute(batch)
        assert values.shape == (TRIALS,) and not np.isnan(values).all(), name


@pytest.mark.parametrize("names, named", [(["os_12m", "os_13m"], "os_13m"), (["crs_grade3plus"], "crs_grade3plus")])
def test_an_unknown_outcome_is_named_with_the_choices(names, named):
    with pytest.raises(InputError) as error:
        check_outcomes(names)
    message = str(error.value)
    assert named in message and "os_12m" in message and "cr_rate" in message and "\n" not in message


def test_outcomes_must_be_named_once():
    with pytest.raises(InputError, match="twice"):
        check_outcomes(["os_12m", "os_12m"])
    with pytest.raises(InputError, match="at least one"):
        check_outcomes([])
