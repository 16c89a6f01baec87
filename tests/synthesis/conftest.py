"""A small synthesis shared by the tests that only need its shape, not a converged fit."""

from __future__ import annotations

import numpy as np
import pytest

from sim.analyses.synthesis.fit import build_hierarchy, synthesis_from_sample
from sim.inputs.params import load_params
from sim.inputs.series import load_all_series
from sim.inputs.trial_catalog import shipped_trials


@pytest.fixture(scope="session")
def synthesis():
    """A synthesis whose 'draws' are points near the hierarchy's start (their values do not matter here)."""
    series = load_all_series(None)
    shipped = [load_params(path) for path in shipped_trials().values()]
    hierarchy, _ = build_hierarchy(series, shipped, shipped[0], 5, 0)
    theta = hierarchy.start(np.random.default_rng(0), 40).reshape(20, 2, hierarchy.ndim)
    return synthesis_from_sample(series, shipped, shipped[0], theta, 10, 0, hierarchy.centred, 5, 0)
