"""Sensitivity outcomes: computed from the engines' records, they equal the key outcomes of a run's tables.

Every registered outcome, on a batch read straight from the engines' records, is checked against
sim.stats.key_outcomes.key_outcomes on the run's patient and facility tables, trial by trial, with
limited facilities so that the queue outcomes are not trivially zero.  (The estimators themselves
are checked against scipy and lifelines in tests/stats/test_estimators.py.)
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.runs.runner import facility_capacities, run_trials
from sim.errors import InputError
from sim.sensitivity.model import simulate_trials
from sim.stats.batch import Batch
from sim.stats.key_outcomes import EXCLUDED, KEY_OUTCOMES, OUTCOMES, check_outcomes, key_outcomes

TRIALS, SEED = 60, 5


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
    batch = Batch.from_records(simulate_trials(limited, SEED, np.arange(TRIALS)), facility_capacities(limited))
    for name, outcome in OUTCOMES.items():
        np.testing.assert_allclose(outcome.compute(batch), reference[name].astype(float), rtol=1e-12, atol=1e-15,
                                   err_msg=name)
    assert np.nanmax(reference["mfg_wait_days"]) > 0  # the queues were exercised


def test_outcomes_are_defined_where_expected(cd5):
    batch = Batch.from_records(simulate_trials(cd5, SEED, np.arange(TRIALS)), facility_capacities(cd5))
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
