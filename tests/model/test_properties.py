"""Properties of one virtual trial that must hold whatever the seed, the trial, the parameter draw,
the engine and the (finite or unlimited) capacities: one final state per patient, a complete flow,
event times in pathway order, no negative waits, utilisation within capacity, monotone queues.

Each hypothesis example is a :class:`Scenario`; its repr in a failure report is a reproduction:
``simulate_trial(scenario.params(...), scenario.seed, scenario.trial, engine=scenario.engine)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.model.records import EVENT_TIMES, FINAL_STATES
from sim.runs.runner import simulate_trial
from sim.stats.facilities import facility_metrics

FACILITIES = ("manufacturing_slots", "icu_beds", "transplant_beds")
CAPACITY_KEYS = {name: f"resources.{name}" for name in FACILITIES}
FACILITY_START = {"manufacturing_slots": "t_mfg_start", "icu_beds": "t_icu_start", "transplant_beds": "t_transplant"}
WAIT_OF = {"manufacturing_slots": "mfg_wait", "icu_beds": "icu_wait", "transplant_beds": "transplant_wait"}
ENGINES = ("des", "cohort")
NOT_INFUSED = ("withdrawn", "not_infused", "pending_at_cutoff")

# event times along one patient's pathway: within a chain, each time is <= every later one (where both happened)
CHAINS = (
    ("t_enrol", "t_donor_found", "t_collection", "t_mfg_start", "t_ld_start", "t_mfg_end", "t_infusion",
     "t_crs_onset", "t_crs_end"),
    ("t_infusion", "t_response", "t_transplant"),
    ("t_infusion", "t_response", "t_relapse", "t_death"),
    ("t_transplant", "t_relapse", "t_death"),
    ("t_infusion", "t_peak"),
    ("t_infusion", "t_crs_onset", "t_icu_start"),
    ("t_infusion", "t_icans_onset"),
    ("t_enrol", "t_withdrawal"),
)

EXAMPLES = settings(max_examples=100, deadline=None)


@pytest.fixture(scope="module")
def trials(cd5, cll1) -> dict[str, sim.Params]:
    return {"cd5_tall": cd5, "cll1_aml": cll1}


@dataclass(frozen=True)
class Scenario:
    """One virtual trial to simulate."""

    name: str
    seed: int
    trial: int
    draw_seed: int | None  # None: base values; otherwise params.draw(draw_seed), as a run with that seed draws trial 0
    capacities: tuple[float, float, float]  # manufacturing slots, ICU beds, transplant beds
    engine: str = "des"

    def params(self, trials: dict[str, sim.Params]) -> sim.Params:
        params = trials[self.name]
        if self.draw_seed is not None:
            params = params.draw(self.draw_seed)
        return params.with_values(dict(zip(CAPACITY_KEYS.values(), self.capacities)))

    @property
    def finite(self) -> bool:
        return all(math.isfinite(c) for c in self.capacities)


@st.composite
def scenarios(draw, finite: bool | None = None) -> Scenario:
    if finite is None:
        finite = draw(st.booleans())
    if finite:  # small capacities so that the queues bind
        capacities = (draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    else:
        capacities = (math.inf, math.inf, math.inf)
    return Scenario(
        name=draw(st.sampled_from(["cd5_tall", "cll1_aml"])),
        seed=draw(st.integers(0, 2**32 - 1)),
        trial=draw(st.integers(0, 10_000)),
        draw_seed=draw(st.none() | st.integers(0, 2**32 - 1)),
        capacities=tuple(float(c) for c in capacities),
        engine=draw(st.sampled_from(ENGINES)),
    )


def simulate(scenario: Scenario, trials: dict[str, sim.Params]):
    params = scenario.params(trials)
    return params, simulate_trial(params, scenario.seed, scenario.trial, engine=scenario.engine)


def happened(x: np.ndarray) -> np.ndarray:
    return ~np.isnan(x)


def metrics(record, facility: str, capacity: float) -> dict[str, float]:
    return facility_metrics(record.uses[facility], capacity, record.cutoff)


# -- final states and the flow ---------------------------------------------------------------------

@EXAMPLES
@given(scenario=scenarios())
def test_each_patient_ends_in_exactly_one_final_state(trials, scenario):
    params, record = simulate(scenario, trials)
    state = record["final_state"]
    assert len(state) == record.n == int(params["accrual.enrolled"])
    assert set(state) <= set(FINAL_STATES), set(state) - set(FINAL_STATES)
    # the state agrees with the events it is read from
    np.testing.assert_array_equal(state == "withdrawn", happened(record["t_withdrawal"]))
    infused_state = ~np.isin(state, NOT_INFUSED)
    np.testing.assert_array_equal(infused_state, happened(record["t_infusion"]))
    died = np.array([s.startswith("died_") for s in state], dtype=bool)
    np.testing.assert_array_equal(died, happened(record["t_death"]) & infused_state)
    np.testing.assert_array_equal(state == "alive_relapsed", happened(record["t_relapse"]) & ~died)


@EXAMPLES
@given(scenario=scenarios())
def test_enrolled_are_withdrawn_or_not_infused_or_infused(trials, scenario):
    params, record = simulate(scenario, trials)
    state = record["final_state"]
    withdrawn = state == "withdrawn"
    not_infused = np.isin(state, ["not_infused", "pending_at_cutoff"])
    infused = happened(record["t_infusion"])
    # a partition: every patient in exactly one of the three groups, so the counts add up
    np.testing.assert_array_equal(withdrawn.astype(int) + not_infused + infused, np.ones(record.n, dtype=int))
    assert withdrawn.sum() + not_infused.sum() + infused.sum() == int(params["accrual.enrolled"])
    assert happened(record["t_enrol"]).all()  # everyone enrols before the cut-off


@EXAMPLES
@given(scenario=scenarios())
def test_outcomes_are_recorded_only_for_what_happened(trials, scenario):
    params, record = simulate(scenario, trials)
    c = record.columns
    infused = happened(c["t_infusion"])
    np.testing.assert_array_equal(happened(c["dose"]), infused)
    np.testing.assert_array_equal(c["dose_level"] != "", infused)
    np.testing.assert_array_equal(c["crs_grade"] > 0, happened(c["t_crs_onset"]))
    np.testing.assert_array_equal(c["icans_grade"] > 0, happened(c["t_icans_onset"]))
    assert set(c["crs_grade"]) <= {0, 1, 2, 3, 4} and set(c["icans_grade"]) <= {0, 1, 2, 3, 4}
    np.testing.assert_array_equal(c["response"] != "", happened(c["t_response"]))
    np.testing.assert_array_equal(c["relapsed"], happened(c["t_relapse"]))
    np.testing.assert_array_equal(c["death_cause"] != "", happened(c["t_death"]))
    assert not (c["cytopenia_g34"] & ~infused).any() and not (c["early_infection"] & ~infused).any()
    # a relapse or a transplant only after a remission; a death from disease only once it is back or never went
    remission = np.isin(c["response"], ["mrd_neg_cr", "mrd_pos_cr"])
    assert not (happened(c["t_relapse"]) & ~remission).any()
    assert not (happened(c["t_transplant"]) & ~remission).any()
    disease = c["death_cause"] == "disease"
    assert not (disease & ~(happened(c["t_relapse"]) | (c["response"] == "no_cr"))).any()
    # follow-up ends at death, on leaving the trial, or at the cut-off
    assert np.all((c["t_enrol"] <= c["t_end"]) & (c["t_end"] <= record.cutoff))
    dead = happened(c["t_death"])
    np.testing.assert_array_equal(c["t_end"][dead], c["t_death"][dead])
    withdrawn = happened(c["t_withdrawal"])
    np.testing.assert_array_equal(c["t_end"][withdrawn], c["t_withdrawal"][withdrawn])


# -- event times -----------------------------------------------------------------------------------

@EXAMPLES
@given(scenario=scenarios())
def test_event_times_follow_the_pathway(trials, scenario):
    params, record = simulate(scenario, trials)
    c, cutoff = record.columns, record.cutoff
    for chain in CHAINS:
        for a, earlier in enumerate(chain):
            for later in chain[a + 1:]:
                both = happened(c[earlier]) & happened(c[later])
                bad = np.flatnonzero(both & (c[earlier] > c[later]))
                assert bad.size == 0, f"{earlier} > {later} for patients {bad}: {c[earlier][bad]} > {c[later][bad]}"
    for column in EVENT_TIMES:
        t = c[column][happened(c[column])]
        assert np.all((t >= 0) & (t <= cutoff)), f"{column} outside [0, cutoff={cutoff}]: {t}"
    # a withdrawn patient is never infused, nor has anything that follows infusion
    withdrawn = happened(c["t_withdrawal"])
    for column in ("t_infusion", "t_peak", "t_crs_onset", "t_response", "t_transplant", "t_relapse", "t_death"):
        assert not happened(c[column][withdrawn]).any(), column
    # lymphodepletion starts a fixed lead time before infusion
    infused = happened(c["t_infusion"])
    lead = params["lymphodepletion.start_before_infusion_days"]
    np.testing.assert_allclose(c["t_ld_start"][infused], c["t_infusion"][infused] - lead, rtol=0, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(["cd5_tall", "cll1_aml"]), seed=st.integers(0, 2**32 - 1),
       median=st.floats(0.5, 8.0), lead=st.sampled_from([3.0, 4.0, 5.0, 5.5, 7.0]),
       slots=st.sampled_from([1.0, 2.0, math.inf]), engine=st.sampled_from(ENGINES))
def test_manufacturing_shorter_than_the_lymphodepletion_lead(trials, name, seed, median, lead, slots, engine):
    """Infusion waits for a full lead time after manufacturing starts (once a float-rounding crash)."""
    params = trials[name].with_values({"manufacturing.manufacturing_days.median": median,
                                       "lymphodepletion.days": 2.0,
                                       "lymphodepletion.start_before_infusion_days": lead,
                                       "resources.manufacturing_slots": slots})
    for trial in range(3):
        c = simulate_trial(params, seed, trial, engine=engine).columns
        infused = happened(c["t_infusion"])
        start, end, inf = c["t_mfg_start"][infused], c["t_mfg_end"][infused], c["t_infusion"][infused]
        np.testing.assert_allclose(inf, np.maximum(end, start + lead), rtol=0, atol=1e-9)
        np.testing.assert_allclose(c["t_ld_start"][infused], inf - lead, rtol=0, atol=1e-9)


# -- waits and facilities --------------------------------------------------------------------------

@EXAMPLES
@given(scenario=scenarios())
def test_waits_are_never_negative_and_zero_without_limits(trials, scenario):
    params, record = simulate(scenario, trials)
    c = record.columns
    for facility, wait in WAIT_OF.items():
        start = c[FACILITY_START[facility]]
        # a wait is known exactly when its facility use started before the cut-off
        np.testing.assert_array_equal(happened(c[wait]), happened(start), err_msg=wait)
        assert np.all(c[wait][happened(c[wait])] >= 0), (wait, c[wait])
        if not scenario.finite:
            np.testing.assert_array_equal(c[wait][happened(c[wait])], 0.0, err_msg=wait)
    icu = happened(c["t_icu_start"])
    np.testing.assert_allclose(c["icu_wait"][icu], c["t_icu_start"][icu] - c["t_crs_onset"][icu], rtol=0, atol=1e-9)


@EXAMPLES
@given(scenario=scenarios(finite=True))
def test_utilisation_within_capacity(trials, scenario):
    params, record = simulate(scenario, trials)
    for facility, key in CAPACITY_KEYS.items():
        capacity = params[key]
        m = metrics(record, facility, capacity)
        assert 0.0 <= m["utilisation"] <= 1.0 + 1e-12, (facility, m)
        assert 0 <= m["peak_occupancy"] <= capacity, (facility, m)
        if m["uses"]:
            assert 0 <= m["mean_wait_days"] <= m["max_wait_days"], (facility, m)
        # every use that started by the cut-off is counted, one per patient who started it
        assert m["uses"] == happened(record[FACILITY_START[facility]]).sum(), (facility, m)


@EXAMPLES
@given(scenario=scenarios(finite=False))
def test_unlimited_facilities_have_no_utilisation_and_no_waits(trials, scenario):
    params, record = simulate(scenario, trials)
    for facility, key in CAPACITY_KEYS.items():
        m = metrics(record, facility, params[key])
        assert math.isnan(m["utilisation"]), (facility, m)
        assert m["uses"] == happened(record[FACILITY_START[facility]]).sum(), (facility, m)
        if m["uses"]:
            assert m["max_wait_days"] == 0.0, (facility, m)


@EXAMPLES
@given(scenario=scenarios())
def test_severe_crs_has_an_icu_stay_unless_every_bed_was_taken(trials, scenario):
    params, record = simulate(scenario, trials)
    c, cutoff = record.columns, record.cutoff
    severe = c["crs_grade"] >= 3
    in_icu = happened(c["t_icu_start"])
    assert not in_icu[~severe].any(), "an ICU stay without CRS of grade 3 or more"
    assert not (c["t_icu_start"] > c["t_crs_end"]).any(), "an ICU bed entered after the CRS had ended"
    waiting = severe & ~in_icu
    capacity = params["resources.icu_beds"]
    if math.isinf(capacity):
        assert not waiting.any(), f"grade >= 3 CRS without an ICU stay: patients {np.flatnonzero(waiting)}"
        np.testing.assert_array_equal(c["t_icu_start"][severe], c["t_crs_onset"][severe])
    elif waiting.any():
        # never in a bed: still queueing at the cut-off, or left the queue when the CRS ended; either way every
        # bed was taken when the patient asked (first come, first served: a free bed is taken at once)
        _, start, end = record.uses["icu_beds"]
        for i in np.flatnonzero(waiting & happened(c["t_crs_onset"])):
            asked = c["t_crs_onset"][i]
            busy = int(np.sum((start <= asked) & (asked < end)))
            assert busy == capacity, f"patient {i} had no ICU bed while {busy} of {capacity} were busy when asked"


@settings(max_examples=60, deadline=None)
@given(scenario=scenarios())
def test_engines_agree(trials, scenario):
    """The SimPy engine and the cohort engine give the same record (exactly, without limits)."""
    params = scenario.params(trials)
    des = simulate_trial(params, scenario.seed, scenario.trial, engine="des")
    cohort = simulate_trial(params, scenario.seed, scenario.trial, engine="cohort")
    assert des.cutoff == cohort.cutoff
    assert set(des.columns) == set(cohort.columns)
    for name in des.columns:
        a, b = des[name], cohort[name]
        if scenario.finite and a.dtype.kind == "f":
            np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=name)
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-9, err_msg=name)
        else:
            np.testing.assert_array_equal(a, b, err_msg=name)
    for facility, key in CAPACITY_KEYS.items():
        m_des, m_cohort = metrics(des, facility, params[key]), metrics(cohort, facility, params[key])
        for name, value in m_des.items():
            np.testing.assert_allclose(value, m_cohort[name], rtol=1e-12, atol=1e-9, err_msg=f"{facility} {name}")


# -- monotonicity in capacity (common random numbers) ----------------------------------------------

@settings(max_examples=25, deadline=None)
@given(name=st.sampled_from(["cd5_tall", "cll1_aml"]), seed=st.integers(0, 2**32 - 1),
       draw_seed=st.none() | st.integers(0, 2**32 - 1), engine=st.sampled_from(ENGINES))
def test_fewer_manufacturing_slots_mean_longer_waits_and_more_withdrawals(trials, name, seed, draw_seed, engine):
    params = trials[name]
    if draw_seed is not None:
        params = params.draw(draw_seed)
    runs = {}
    for slots in (1, 3):
        scenario = params.with_values({"resources.manufacturing_slots": slots})
        records = [simulate_trial(scenario, seed, k, engine=engine) for k in range(5)]
        waits = np.concatenate([r["mfg_wait"] for r in records])
        runs[slots] = (np.nanmean(waits), sum(int((r["final_state"] == "withdrawn").sum()) for r in records))
    assert runs[1][0] >= runs[3][0], f"mean manufacturing wait: 1 slot {runs[1][0]} < 3 slots {runs[3][0]}"
    assert runs[1][1] >= runs[3][1], f"withdrawals: 1 slot {runs[1][1]} < 3 slots {runs[3][1]}"


def test_one_slot_queues_bind(cll1):
    """The monotonicity property is not vacuous: one slot makes patients wait, unlimited slots do not."""
    one = cll1.with_values({"resources.manufacturing_slots": 1})
    waits = np.concatenate([simulate_trial(one, 11, k)["mfg_wait"] for k in range(5)])
    unlimited = np.concatenate([simulate_trial(cll1, 11, k)["mfg_wait"] for k in range(5)])
    assert np.nanmean(waits) > 1.0
    assert np.nanmax(unlimited) == 0.0


@pytest.mark.parametrize("engine", ENGINES)
def test_manufacturing_in_progress_at_cutoff_counts_in_facility_metrics(cll1, engine):
    """A slot still in use at the cut-off is a use, occupied up to the cut-off."""
    params = cll1.with_values({"accrual.cutoff_after_last_enrolment_days": 20, "resources.manufacturing_slots": 1})
    for seed in range(50):  # the first seed whose trial has a slot in use at the cut-off
        record = simulate_trial(params, seed, 0, engine=engine)
        started = happened(record["t_mfg_start"])
        in_progress = started & np.isnan(record["t_mfg_end"]) & np.isnan(record["t_withdrawal"])
        if in_progress.any():
            break
    assert in_progress.sum() == 1, "no seed gives a slot in use at the cut-off"
    m = metrics(record, "manufacturing_slots", 1)
    assert m["uses"] == started.sum()
    assert m["peak_occupancy"] == 1
    _, start, end = record.uses["manufacturing_slots"]
    assert np.sum((start <= record.cutoff) & (record.cutoff < end)) == 1
