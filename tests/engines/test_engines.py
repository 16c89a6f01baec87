"""The cohort engine gives the same records as the SimPy engine, patient by patient."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sim
from sim.engines.cohort_engine import fifo_queue
from sim.runs.runner import choose_engine, iterate_trials

TOY = Path(__file__).resolve().parents[1] / "data" / "toy_trial.toml"
LIMITED = {"resources.manufacturing_slots": 1, "resources.icu_beds": 1, "resources.transplant_beds": 1}


def assert_same_tables(params, seed: int, trials: int) -> None:
    des = [record.table() for _, record in iterate_trials(params, trials, seed, engine="des")]
    cohort = [record.table() for _, record in iterate_trials(params, trials, seed, engine="cohort")]
    for k, (a, b) in enumerate(zip(des, cohort)):
        for column in a:
            np.testing.assert_array_equal(a[column], b[column], err_msg=f"seed {seed}, trial {k}, {column}")


@pytest.mark.parametrize("trial", ["cd5", "cll1"])
@pytest.mark.parametrize("seed", range(0, 40, 8))
def test_unlimited_capacity_gives_identical_records(trial, seed, request):
    assert_same_tables(request.getfixturevalue(trial), seed, trials=40)


@pytest.mark.parametrize("trial", ["cd5", "cll1"])
@pytest.mark.parametrize("capacities", [(1, 1, 1), (2, 1, 2)])
def test_binding_capacity_gives_identical_records(trial, capacities, request):
    """Queues served first come, first served agree exactly, withdrawals from the queue included."""
    params = request.getfixturevalue(trial).with_values({
        "resources.manufacturing_slots": capacities[0], "resources.icu_beds": capacities[1],
        "resources.transplant_beds": capacities[2], "withdrawal.progression_hazard": 0.01})
    assert_same_tables(params, seed=3, trials=60)
    waits = np.concatenate([r["mfg_wait"] for _, r in iterate_trials(params, 60, 3, engine="cohort")])
    assert np.nanmax(waits) > 0  # the capacity did bind


def test_ties_in_a_queue_are_served_in_index_order():
    toy = sim.load_params(TOY).with_values(LIMITED)
    assert_same_tables(toy, seed=0, trials=3)


def test_parameter_draws_give_identical_records(cd5):
    des = [r.table() for _, r in iterate_trials(cd5, 20, 4, parameter_uncertainty=True, engine="des")]
    cohort = [r.table() for _, r in iterate_trials(cd5, 20, 4, parameter_uncertainty=True, engine="cohort")]
    for a, b in zip(des, cohort):
        for column in a:
            np.testing.assert_array_equal(a[column], b[column], err_msg=column)


def test_auto_uses_the_cohort_engine_only_without_limits(cd5):
    assert choose_engine(cd5) == "cohort"
    assert choose_engine(cd5.with_values({"resources.icu_beds": 2})) == "des"
    assert choose_engine(cd5, "des") == "des"
    assert sim.run_trials(cd5, trials=2, seed=0).extra["engine"] == "cohort"
    with pytest.raises(ValueError, match="engine"):
        choose_engine(cd5, "fast")


def test_fifo_queue_by_hand():
    # two servers; requests at 0, 0, 1, 2 holding 5 days; the last leaves at 4 if not served by then
    start = fifo_queue(np.array([0.0, 0.0, 1.0, 2.0]), np.full(4, 5.0), np.array([9, 9, 9, 4.0]), capacity=2)
    np.testing.assert_array_equal(start, [0.0, 0.0, 5.0, np.nan])
