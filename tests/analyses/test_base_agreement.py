"""Why a run over parameter uncertainty and the base case differ: what the run's text lists, and what it may claim.

The text lists the inputs whose base value is off the centre of its uncertainty, but must not call them the
cause: for CD5, moving them to their medians changes the base case's survival by less than the 0.01 to which a
run prints it, while the calibrated hazard levels (base values at the medians of wide lognormals) move it.  Each
comparison is of two runs at the base values on the same seed (the same virtual patients), with a margin of
3 standard errors of the paired per-trial difference.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.analyses.base_agreement import Agreement, off_centre_inputs, survival_of_trials
from sim.inputs.parameter_draws import inverse_cdf
from sim.inputs.params import load_params

TRIALS, SEED = 2000, 0
PRINTED = 0.01  # a run prints survival means to two places
GRID = np.linspace(0.0005, 0.9995, 4000)  # quantiles at which an input's distribution is read


@pytest.fixture(scope="module")
def cd5():
    return load_params("cd5_tall")


def paired_shift(params, moved) -> tuple[float, float]:
    """Mean change of OS at 12 months from ``params`` to ``moved`` over the same virtual trials, and its SE."""
    before = survival_of_trials(params, TRIALS, SEED, False)["os_12m"]
    after = survival_of_trials(moved, TRIALS, SEED, False)["os_12m"]
    d = (after - before)[~np.isnan(after - before)]
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(d.size))


def at(params, paths, statistic):
    return params.with_values({p: float(statistic(inverse_cdf(params.entries[p].uncertainty, GRID))) for p in paths})


def test_the_listed_off_centre_inputs_barely_move_cd5s_base_case(cd5):
    listed = [row["path"] for row in off_centre_inputs(cd5)]
    assert listed
    shift, se = paired_shift(cd5, at(cd5, listed, np.median))
    assert abs(shift) + 3 * se < PRINTED, (shift, se)


def test_cd5s_hazard_levels_at_their_means_move_its_base_case_down(cd5):
    levels = [p for p in cd5.uncertain() if p.startswith("late.") and p.endswith("_hazard")
              and cd5.entries[p].source == "calibration"]
    assert levels
    shift, se = paired_shift(cd5, at(cd5, levels, np.mean))
    assert shift + 3 * se < -PRINTED, (shift, se)


def test_the_text_lists_off_centre_inputs_without_calling_them_the_reason():
    rows = [{"outcome": "os_12m", "mean_uncertainty": 0.3, "mean_base_values": 0.4, "mc_se": 0.01, "differs": True}]
    why = Agreement(rows, [{"path": "a.b", "base": 0.0, "median": 0.2, "offset": 0.4}], 100).why()
    assert "a.b (base 0, median 0.2)" in why and "not measured" in why and "cartsim sensitivity" in why
    assert "reason" not in why and "responsible" not in why
