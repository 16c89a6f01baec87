"""A run's numbers do not depend on how its trials are batched, and the shortcuts of the run path give
the numbers of the long way round."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.analyses.base_agreement import survival_of_trials
from sim.inputs.param_batch import ParamBatch
from sim.output.run_files import PatientStream
from sim.runs import runner
from sim.stats.trial_figures import SURVIVAL_OUTCOMES

TRIALS, SEED = 11, 5


def tables(results) -> dict:
    return {"patients": results.patients, "trials": results.trials, "facilities": results.facilities,
            **{f"outcomes {group}": table for group, table in results.trial_outcomes.items()}}


def small_batches(monkeypatch, trials: int = 4) -> None:
    monkeypatch.setattr(runner, "BATCH", trials)
    monkeypatch.setattr(runner, "BATCH_PATIENTS", 1)


@pytest.mark.parametrize("parameter_uncertainty", [False, True])
def test_a_run_is_the_same_in_batches_of_4_trials_as_in_one(cd5, monkeypatch, parameter_uncertainty):
    assert runner.batch_trials(int(cd5["accrual.enrolled"])) > TRIALS  # by default the run is one batch
    whole = runner.run_trials(cd5, TRIALS, SEED, parameter_uncertainty)
    small_batches(monkeypatch)
    assert runner.batch_trials(int(cd5["accrual.enrolled"])) == 4
    batched = runner.run_trials(cd5, TRIALS, SEED, parameter_uncertainty)
    for name, table in tables(whole).items():
        other = tables(batched)[name]
        assert table.names == other.names, name
        for column in table.names:
            np.testing.assert_array_equal(table[column], other[column], err_msg=f"{name}: {column}")


def test_a_streamed_run_keeps_exactly_its_first_trials_for_the_pictures(cd5, monkeypatch, tmp_path):
    small_batches(monkeypatch)
    monkeypatch.setattr(runner, "PICTURE_TRIALS", 6)  # within the second batch of 4
    stream = PatientStream(tmp_path, "csv")
    results = runner.run_trials(cd5, TRIALS, SEED, stream=stream)
    stream.close()
    assert np.unique(results.kept_patients["trial"]).tolist() == list(range(6))


@pytest.mark.parametrize("parameter_uncertainty", [False, True])
def test_the_base_agreement_run_gives_the_survival_of_the_trials_table(cd5, parameter_uncertainty):
    full = runner.run_trials(cd5, TRIALS, SEED, parameter_uncertainty).trials
    short = survival_of_trials(cd5, TRIALS, SEED, parameter_uncertainty)
    for name in SURVIVAL_OUTCOMES:
        np.testing.assert_array_equal(short[name], full[name], err_msg=name)


def test_the_engines_of_a_batch_are_those_chosen_trial_by_trial(cd5):
    rows = [{"resources.icu_beds": math.inf}, {"resources.icu_beds": 2.0}, {"resources.icu_beds": math.inf}]
    mixed = ParamBatch.of_rows(cd5, rows)
    assert runner.row_engines(mixed) == [runner.choose_engine(row) for row in mixed.rows()] == ["cohort", "des", "cohort"]
    assert runner.row_engines(ParamBatch.of_rows(cd5, [rows[0], rows[2]])) == "cohort"
    assert runner.row_engines(ParamBatch.of_rows(cd5, [rows[1]])) == "des"
    assert runner.row_engines(mixed, "des") == "des"
