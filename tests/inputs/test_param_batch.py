"""A batch of trials with their own parameters runs as one array computation, and gives each trial
exactly what its own parameter set gives."""

from __future__ import annotations

import numpy as np
import pytest

from sim.runs.runner import simulate
from sim.errors import InputError
from sim.inputs.param_batch import ParamBatch
from sim.model.draws import draw_uniforms
from sim.inputs.parameter_draws import draw_batch_parameters, draw_parameter_batch

TRIALS = np.array([0, 1, 5, 12, 40, 41])


def _one_at_a_time(params, seed, engine):
    n = int(params["accrual.enrolled"])
    u = draw_uniforms(seed, TRIALS, n)
    drawn = draw_batch_parameters(params, seed, TRIALS)
    return [simulate(p, {name: v[row] for name, v in u.items()}, int(k), engine)[0].table()
            for row, (k, p) in enumerate(zip(TRIALS, drawn))]


@pytest.mark.parametrize("name", ["cd5", "cll1"])
@pytest.mark.parametrize("engine", ["cohort", "des"])
def test_a_batch_gives_each_trial_the_records_of_its_own_parameters(request, name, engine):
    params = request.getfixturevalue(name)
    n = int(params["accrual.enrolled"])
    batch = draw_parameter_batch(params, 2, TRIALS)
    together = [r.table() for r in simulate(batch, draw_uniforms(2, TRIALS, n), TRIALS, engine)]
    for a, b in zip(together, _one_at_a_time(params, 2, engine)):
        for column in a:
            np.testing.assert_array_equal(a[column], b[column], err_msg=column)


def test_a_batch_with_a_limited_facility_queues_each_trial_with_its_own_capacity(cd5):
    params = cd5.with_values({"resources.manufacturing_slots": 1})
    n = int(params["accrual.enrolled"])
    batch = draw_parameter_batch(params, 3, TRIALS)
    together = [r.table() for r in simulate(batch, draw_uniforms(3, TRIALS, n), TRIALS, "cohort")]
    for a, b in zip(together, _one_at_a_time(params, 3, "des")):
        for column in a:
            np.testing.assert_array_equal(a[column], b[column], err_msg=column)


def test_a_trial_reads_its_own_values(cll1):
    batch = draw_parameter_batch(cll1, 1, TRIALS)
    for row, params in enumerate(draw_batch_parameters(cll1, 1, TRIALS)):
        trial = batch.row(row)
        assert all(trial[path] == params[path] for path in cll1.entries)
        assert trial.timedist("donor.search_days") == params.timedist("donor.search_days")
        assert batch["crs.incidence"][row, 0] == params["crs.incidence"]


def test_values_that_make_no_valid_parameter_set_fail_as_they_would_for_one_trial(cd5):
    good = draw_parameter_batch(cd5, 0, TRIALS)
    starts = good.columns["late.band_3_start_days"].copy()
    starts[2] = good.columns["late.band_2_start_days"][2]  # band 3 no later than band 2 in trial row 2
    bad = ParamBatch(cd5, good.columns | {"late.band_3_start_days": starts}, len(TRIALS))
    with pytest.raises(InputError) as batch_error:
        bad.check()
    with pytest.raises(InputError) as alone_error:
        cd5.with_values(bad.values(2))
    assert str(batch_error.value) == str(alone_error.value)


def test_a_probability_drawn_out_of_range_fails(cd5):
    good = draw_parameter_batch(cd5, 0, TRIALS)
    incidence = good.columns["crs.incidence"].copy()
    incidence[4] = 1.5
    with pytest.raises(InputError, match="crs.incidence"):
        ParamBatch(cd5, good.columns | {"crs.incidence": incidence}, len(TRIALS)).check()


def test_rows_whose_engines_differ_run_each_with_its_own(cd5):
    beds = [np.inf, 1, np.inf, 2]
    severe = {"crs.incidence": 0.95, "crs.p_grade_at_least_2": 0.95, "crs.p_grade_at_least_3": 0.9}
    batch = ParamBatch.of_rows(cd5, [severe | {"resources.icu_beds": b} for b in beds])
    trials = np.arange(len(beds))
    u = draw_uniforms(6, trials, int(cd5["accrual.enrolled"]))
    engines = ["cohort" if np.isinf(b) else "des" for b in beds]
    together = [r.table() for r in simulate(batch, u, trials, engines)]
    for row, (b, engine) in enumerate(zip(beds, engines)):
        alone = simulate(cd5.with_values(severe | {"resources.icu_beds": b}),
                         {name: v[row] for name, v in u.items()}, int(trials[row]), engine)[0].table()
        for column in alone:
            np.testing.assert_array_equal(together[row][column], alone[column], err_msg=column)
    assert np.nanmax(together[1]["icu_wait"]) > 0  # one bed: the queue did form
