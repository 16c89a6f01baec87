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


def test_a_series_figure_is_computed_at_each_draws_sampled_shapes(synthesis_with_inputs):
    """With the band shapes sampled, the model's estimate of a series' figure at a draw uses that draw's shapes (as
    the fit's likelihood did), not the reference params' values: the rows equal a direct computation with them and
    differ from one at the reference's shapes."""
    from sim.analyses.synthesis.evidence import LOO_DRAWS, _thinned, series_rows, shape_inputs

    synthesis = synthesis_with_inputs
    hierarchy, likelihood = synthesis.hierarchy, synthesis.likelihood
    theta = _thinned(synthesis, LOO_DRAWS)
    shapes = shape_inputs(hierarchy, theta)
    assert shapes and all(np.ptp(v) > 0 for v in shapes.values())  # the fixture's shapes vary between draws
    levels = np.exp(hierarchy.log_levels(theta))
    count = len(likelihood.series)
    at = {c: levels[:, i, :count] for i, c in enumerate(CAUSES)}
    rows = series_rows(synthesis)
    for name, given in (("sampled", shapes), ("reference", None)):
        medians = [float(np.median(sum(chances))) for chances in likelihood.chances(at, given)]
        shown = [r["estimate"] / (r["of"] if r["metric"].endswith("deaths") or r["metric"] == "relapse_count" else 1)
                 for r in rows]
        matches = np.allclose(shown, medians, rtol=1e-9)
        assert matches == (name == "sampled")
