"""The shipped trials' rows of evidence.csv: each trial's own estimate beside its partially pooled one."""

from __future__ import annotations

import numpy as np
import pytest

from sim.analyses.calibration import late_groups
from sim.analyses.synthesis.evidence import TRIAL_ONLY, shipped_rows
from sim.analyses.synthesis.hierarchy import CAUSE_LABELS, CAUSES
from sim.inputs.params import load_params
from sim.inputs.trial_catalog import shipped_trials
from sim.model.late_bands import level_path


def test_a_trial_with_late_outcomes_shows_its_fit_to_its_own_data_not_its_params_entry(synthesis):
    shipped = [load_params(path) for path in shipped_trials().values()]
    rows = shipped_rows(synthesis, shipped)
    units = {u.name: u for u in synthesis.hierarchy.units}
    for params in shipped:
        own = [r for r in rows if r["series"] == params.name and r["row"] == "trial_only"]
        assert len(own) == len(CAUSES)
        for c in CAUSES:
            row = next(r for r in own if r["cause_or_figure"] == CAUSE_LABELS[c])
            path = level_path(c, False)
            if late_groups(params):  # the trial-only fit, whatever its params file holds now (the pooled level)
                value, draws = units[params.name].own[path]
                assert row["interval"] == TRIAL_ONLY and row["estimate"] == value
                assert row["low"] == pytest.approx(np.quantile(draws, 0.025))
                assert row["low"] < value < row["high"]
            else:
                assert row["estimate"] == params[path] and "entry" in row["interval"]
