"""Deterministic verification: with fixed durations the times along the pathway add up exactly.

The toy trial (tests/data/toy_trial.toml) enrols 5 patients on day 0; each needs a new donor
(10 days), collection (5), manufacturing (20), lymphodepletion starting 5 days before infusion,
CRS grade 3 from day 4 for 6 days, response on day 28 and a transplant planned on day 40.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sim
from sim.model.records import event_log

TOY = Path(__file__).resolve().parents[1] / "data" / "toy_trial.toml"


@pytest.fixture(scope="module")
def toy():
    return sim.load_params(TOY)


def test_unlimited_capacity_times_add_up(toy):
    t = sim.simulate_trial(toy, seed=3, trial=0).table()
    expected = {"t_enrol": 0, "t_donor_found": 10, "t_collection": 15, "t_mfg_start": 15, "t_ld_start": 30,
                "t_mfg_end": 35, "t_infusion": 35, "t_crs_onset": 39, "t_icu_start": 39, "t_crs_end": 45,
                "t_peak": 44, "t_response": 63, "t_transplant": 75, "t_end": 1000}
    for column, value in expected.items():
        np.testing.assert_array_equal(t[column], np.full(5, float(value)), err_msg=column)
    for column in ("mfg_wait", "icu_wait", "transplant_wait"):
        np.testing.assert_array_equal(t[column], np.zeros(5), err_msg=column)
    assert list(t["final_state"]) == ["alive_in_remission"] * 5
    assert list(t["crs_grade"]) == [3] * 5


def test_event_trace_of_one_patient(toy):
    log = event_log(sim.simulate_trial(toy, seed=3, trial=0).table())
    mine = log["patient"] == 0
    trace = list(zip(log["event"][mine], log["time"][mine]))
    assert trace == [("enrol", 0), ("donor_found", 10), ("collection", 15), ("mfg_start", 15), ("ld_start", 30),
                     ("mfg_end", 35), ("infusion", 35), ("crs_onset", 39), ("icu_start", 39), ("peak", 44),
                     ("crs_end", 45), ("response", 63), ("transplant", 75)]


def test_one_slot_and_one_bed_make_a_first_come_first_served_queue(toy):
    one = toy.with_values({"resources.manufacturing_slots": 1, "resources.icu_beds": 1, "resources.transplant_beds": 1})
    t = sim.simulate_trial(one, seed=3, trial=0).table()
    k = np.arange(5)
    np.testing.assert_array_equal(t["t_mfg_start"], 15 + 20 * k)
    np.testing.assert_array_equal(t["mfg_wait"], 20 * k)
    np.testing.assert_array_equal(t["t_infusion"], 35 + 20 * k)
    np.testing.assert_array_equal(t["t_icu_start"], 39 + 20 * k)  # ICU stays of 6 days never overlap
    # transplant planned 40 days after infusion, beds held 30 days: each waits 10 more than the last
    np.testing.assert_array_equal(t["transplant_wait"], 10 * k)
    np.testing.assert_array_equal(t["t_transplant"], 75 + 30 * k)


def test_utilisation_of_one_slot_is_exact(toy):
    one = toy.with_values({"resources.manufacturing_slots": 1})
    results = sim.run_trials(one, trials=1, seed=3)
    row = [r for r in results.facilities.rows() if r["facility"] == "manufacturing_slots"][0]
    # five runs of 20 days back to back from day 15, over a horizon of 1000 days
    assert row["occupied_days"] == pytest.approx(100.0)
    assert row["utilisation"] == pytest.approx(100.0 / 1000.0)
    assert row["peak_occupancy"] == 1
    assert row["mean_wait_days"] == pytest.approx(np.mean(20 * np.arange(5)))


def test_withdrawal_while_queueing_for_a_slot(toy):
    # with one slot, patient k waits 20k days; a progression hazard makes some leave the queue
    slow = toy.with_values({"resources.manufacturing_slots": 1, "withdrawal.progression_hazard": 0.02})
    t = sim.simulate_trial(slow, seed=5, trial=0).table()
    withdrawn = t["final_state"] == "withdrawn"
    assert withdrawn.any()
    assert np.all(np.isnan(t["t_infusion"][withdrawn]))
    # a patient who left the queue never started manufacturing and never held the slot
    left_queue = withdrawn & np.isnan(t["t_mfg_start"])
    assert np.all(t["t_withdrawal"][left_queue] >= 15)


def test_cutoff_censors_later_events(toy):
    short = toy.with_values({"accrual.cutoff_after_last_enrolment_days": 50})
    t = sim.simulate_trial(short, seed=3, trial=0).table()
    assert np.all(t["t_infusion"] == 35) and np.all(np.isnan(t["t_response"]))
    assert np.all(np.isnan(t["t_transplant"])) and np.all(t["t_end"] == 50)
    assert list(t["final_state"]) == ["alive_before_response"] * 5
    before = toy.with_values({"accrual.cutoff_after_last_enrolment_days": 20})
    t = sim.simulate_trial(before, seed=3, trial=0).table()
    assert list(t["final_state"]) == ["pending_at_cutoff"] * 5
