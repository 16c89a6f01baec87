"""An ICU bed is freed when its patient dies of toxicity in it, in both engines, and the picture agrees.

Deterministic: every infused patient has grade 4 CRS and dies of it half-way through the episode
(chance of death 1, at ``death_fraction_of_duration`` 0.5), with one ICU bed, so patients queue for
it and each bed must pass to the next patient at the death of the one before, not at the end of a
CRS episode that never finishes.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.runs.runner import simulate_trial
from sim.model.records import FACILITIES
from sim.plots.resources import use_intervals
from sim.stats.facilities import facility_metrics

FATAL = {"crs.incidence": 1.0, "crs.p_grade_at_least_2": 1.0, "crs.p_grade_at_least_3": 1.0,
         "crs.p_grade_at_least_4": 1.0, "crs.p_death_given_grade_3_plus": 1.0, "crs.death_fraction_of_duration": 0.5,
         "resources.icu_beds": 1}


@pytest.fixture(scope="module")
def fatal(request):
    from sim.inputs.params import load_params
    from conftest import PARAMS

    return load_params(PARAMS["cll1_aml"]).with_values(FATAL)


@pytest.mark.parametrize("engine", ["des", "cohort"])
def test_the_bed_is_freed_at_death_and_the_next_patient_takes_it_then(fatal, engine):
    record = simulate_trial(fatal, seed=3, trial=0, engine=engine)
    t = record.columns
    requested, start, end = record.uses["icu_beds"]
    used = ~np.isnan(start)
    assert used.sum() >= 3
    assert np.all(t["death_cause"][used] == "toxicity")
    assert np.array_equal(end[used], t["t_death"][used])  # freed at death ...
    survived = simulate_trial(fatal.with_values({"crs.p_death_given_grade_3_plus": 0.0}), seed=3, trial=0, engine=engine)
    duration = (survived["t_crs_end"] - survived["t_crs_onset"])[used]  # the same patients' episodes, unfinished
    assert np.allclose(end[used] - start[used], 0.5 * duration)  # ... half-way through the episode
    order = np.argsort(start[used])
    s, e, r = start[used][order], end[used][order], requested[used][order]
    assert np.all(s[1:] == np.maximum(r[1:], e[:-1]))  # one bed: each starts when it is asked for or freed


def test_both_engines_free_the_bed_at_the_same_time(fatal):
    des, cohort = (simulate_trial(fatal, seed=3, trial=1, engine=e) for e in ("des", "cohort"))
    for name in FACILITIES:
        for a, b in zip(des.uses[name], cohort.uses[name]):
            assert np.array_equal(a, b, equal_nan=True), name


def test_the_resources_picture_uses_the_uses_the_facility_table_counts(fatal):
    """resources.png once held a dead patient's bed to the cut-off; it now draws the recorded uses."""
    record = simulate_trial(fatal, seed=3, trial=2, engine="des")
    table = record.table()
    start, end = use_intervals(table, "icu_beds")
    _, recorded_start, recorded_end = record.uses["icu_beds"]
    kept = ~np.isnan(recorded_start)
    assert np.allclose(start, recorded_start[kept]) and np.allclose(end, np.fmin(recorded_end[kept], record.cutoff))
    metrics = facility_metrics(record.uses["icu_beds"], 1, record.cutoff)
    assert np.sum(end - start) == pytest.approx(metrics["occupied_days"])
