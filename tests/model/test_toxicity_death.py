"""Death from CRS of grade 3 or more, or grade 4 ICANS: its chance, its time, the ICU-wait lever and what it ends."""

from __future__ import annotations

import numpy as np
import pytest

from sim.design.dlt import model_toxicity
from sim.inputs.design_settings import DLTDefinition
from sim.runs.runner import iterate_trials
from sim.model.draws import draw_patients, draw_uniforms
from sim.model.records import FINAL_STATES
from sim.model.timeline import plan
from sim.model.toxicity_death import crs_death_chance

NO_ICANS_DEATH = {"icans.p_death_given_grade_4": 0.0}


def tables(params, trials: int, seed: int, engine: str = "cohort") -> dict[str, np.ndarray]:
    rows = [record.table() for _, record in iterate_trials(params, trials, seed, engine=engine)]
    return {column: np.concatenate([r[column] for r in rows]) for column in rows[0]}


def test_the_chance_rises_with_the_icu_wait_by_the_stated_odds_ratio(cll1):
    params = cll1.with_values({"crs.p_death_given_grade_3_plus": 0.2, "crs.death_log_odds_per_icu_wait_day": np.log(2)})
    chance = crs_death_chance(params, np.array([np.nan, 0.0, 1.0, 2.0]))
    # odds 0.25 doubled per day waited: 0.25, 0.25, 0.5, 1.0
    np.testing.assert_allclose(chance, [0.2, 0.2, 1 / 3, 0.5])
    assert np.all(crs_death_chance(cll1, np.array([0.0, 5.0])) == cll1["crs.p_death_given_grade_3_plus"])  # lever off


def test_certain_death_from_severe_crs_comes_before_the_assessment(cll1):
    params = cll1.with_values({"crs.p_death_given_grade_3_plus": 1.0, "crs.death_fraction_of_duration": 0.5} | NO_ICANS_DEATH)
    t = tables(params, 30, seed=1)
    severe = t["crs_grade"] >= 3
    assert severe.sum() > 10
    assert np.all(t["death_cause"][severe] == "toxicity")
    assert np.all(t["final_state"][severe] == "died_toxicity")
    # most die before the day-28 assessment; a long grade-3 CRS can end in death after it, never in a transplant
    assert np.mean(t["response"][severe] == "") > 0.9 and np.all(np.isnan(t["t_transplant"][severe]))
    # with unlimited beds, ICU entry is CRS onset, so death is half the CRS duration after it
    half = t["t_death"][severe] - t["t_crs_onset"][severe]
    assert np.all(half > 0) and np.all(np.isnan(t["t_crs_end"][severe]))
    assert not np.any(t["death_cause"][~severe] == "toxicity")
    assert "died_toxicity" in FINAL_STATES


def test_the_share_of_severe_crs_that_dies_matches_the_chance(cll1):
    p = cll1["crs.p_death_given_grade_3_plus"]
    t = tables(cll1.with_values(NO_ICANS_DEATH), 400, seed=2)
    severe = t["crs_grade"] >= 3
    n = severe.sum()
    share = np.mean(t["death_cause"][severe] == "toxicity")
    # binomial: within 4 standard errors (two-sided p about 6e-5) of the chance
    assert abs(share - p) < 4 * np.sqrt(p * (1 - p) / n), (share, p, n)


def test_icans_grade_4_deaths_come_the_stated_days_after_onset(cll1):
    params = cll1.with_values({"crs.p_death_given_grade_3_plus": 0.0, "icans.p_death_given_grade_4": 1.0,
                               "icans.death_days_after_onset": 3.0})
    t = tables(params, 60, seed=3)
    died = t["death_cause"] == "toxicity"
    assert died.any()
    np.testing.assert_allclose(t["t_death"][died] - t["t_icans_onset"][died], 3.0)
    assert np.all(t["icans_grade"][died] == 4)


def test_no_chance_no_death_from_toxicity(cll1):
    params = cll1.with_values({"crs.p_death_given_grade_3_plus": 0.0, "icans.p_death_given_grade_4": 0.0})
    assert not np.any(tables(params, 40, seed=4)["death_cause"] == "toxicity")


@pytest.mark.parametrize("engine", ["des", "cohort"])
def test_a_wait_for_an_icu_bed_raises_deaths_with_common_random_numbers(cll1, engine):
    """With one ICU bed some patients wait; with the lever on, a waiting patient's chance only rises,
    and the same uniform decides, so every death without the lever is still a death with it."""
    base = cll1.with_values({"resources.icu_beds": 1} | NO_ICANS_DEATH)
    off, on = (tables(base.with_values({"crs.death_log_odds_per_icu_wait_day": s}), 60, 5, engine) for s in (0.0, 2.0))
    dead_off, dead_on = off["death_cause"] == "toxicity", on["death_cause"] == "toxicity"
    assert np.all(dead_on[dead_off])
    assert dead_on.sum() > dead_off.sum()
    assert np.nanmax(on["icu_wait"][dead_on & ~dead_off]) > 0  # the new deaths waited for a bed


def test_both_engines_agree_with_the_lever_and_a_binding_icu(cll1):
    params = cll1.with_values({"resources.icu_beds": 1, "crs.death_log_odds_per_icu_wait_day": 1.0})
    des, cohort = tables(params, 40, 6, "des"), tables(params, 40, 6, "cohort")
    for column in des:
        np.testing.assert_array_equal(des[column], cohort[column], err_msg=column)
    assert np.any(des["death_cause"] == "toxicity")


def test_death_from_toxicity_is_a_dlt_when_death_counts(cll1):
    params = cll1.with_values({"crs.p_death_given_grade_3_plus": 1.0} | NO_ICANS_DEATH)
    u = draw_uniforms(7, 0, 200)
    d = draw_patients(params, u)
    p = plan(params, d)
    doses = np.array([0.5, 1.0, 1.5])
    window = 28.0
    with_death = model_toxicity(params, d, p, u, doses, DLTDefinition(window, None, None, True))
    without = model_toxicity(params, d, p, u, doses, DLTDefinition(window, None, None, False))
    assert not without.dlt.any()
    crs4 = model_toxicity(params, d, p, u, doses, DLTDefinition(window, 4, None, False))
    # every grade 4 CRS dies (chance 1) about a few days after onset: within the window, a DLT
    early = crs4.dlt & (crs4.onset + params["crs.death_fraction_of_duration"] * d["crs_duration_days"][:, None] <= window)
    assert early.any() and np.all(with_death.dlt[early])


@pytest.mark.parametrize("engine", ["cohort", "des"])
def test_a_patient_whose_crs_ends_before_a_bed_frees_leaves_the_queue_having_waited_all_of_it(cll1, engine):
    """One ICU bed and severe CRS in most patients: some never get a bed.  They leave the queue when the CRS
    ends (no bed is entered after it), and their chance of death is that of a wait as long as the whole CRS:
    with a lever of 50 on the log-odds per day, certain unless the CRS lasted under about 0.06 days
    (a chance of about 2e-7 under the severe duration's lognormal)."""
    params = cll1.with_values({"resources.icu_beds": 1, "crs.incidence": 1.0, "crs.p_grade_at_least_2": 1.0,
                               "crs.p_grade_at_least_3": 0.9, "crs.p_death_given_grade_3_plus": 0.01,
                               "crs.death_log_odds_per_icu_wait_day": 50.0} | NO_ICANS_DEATH)
    t = tables(params, 40, seed=2, engine=engine)
    asked = (t["crs_grade"] >= 3) & ~np.isnan(t["t_crs_onset"])
    never = asked & np.isnan(t["t_icu_start"]) & (t["final_state"] != "pending_at_cutoff")
    assert never.sum() >= 5
    assert np.all(t["death_cause"][never] == "toxicity")
    admitted = asked & (t["icu_wait"] == 0)
    # those given a bed at once die with chance 0.01: over 300 of them, a share of 0.05 is over 7 binomial SEs away
    assert admitted.sum() >= 300 and np.mean(t["death_cause"][admitted] == "toxicity") < 0.05
