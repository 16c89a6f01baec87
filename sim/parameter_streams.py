"""Drawing a virtual trial's parameters with common random numbers across scenarios.

Each uncertain parameter has its own stream, keyed by the run seed, the trial index and the
parameter's dotted path, and a scalar is drawn through the inverse CDF of its uncertainty
distribution.  A parameter that two scenarios leave alone therefore takes the same value in
trial k of both, whatever else they change (adding, removing or reshaping another parameter's
uncertainty shifts nothing), and a parameter whose range a scenario moves keeps its quantile.
"""

from __future__ import annotations

import numpy as np

from .params import Params
from .streams import stream_key
from .uncertainty import Uncertainty

PARAMETERS_STREAM = "parameters"


def parameter_generator(seed: int, trial: int, path: str) -> np.random.Generator:
    """The random stream of one parameter in one virtual trial."""
    sequence = np.random.SeedSequence(seed, spawn_key=(trial, stream_key(PARAMETERS_STREAM), stream_key(path)))
    return np.random.Generator(np.random.PCG64(sequence))


def draw_parameter(uncertainty, rng: np.random.Generator):
    """A scalar through its inverse CDF at a uniform in (0, 1); category weights from their Dirichlet."""
    if isinstance(uncertainty, Uncertainty):
        return uncertainty.ppf(rng.uniform(np.nextafter(0.0, 1.0), 1.0))
    return uncertainty.sample(rng)


def draw_trial_parameters(params: Params, seed: int, trial: int) -> Params:
    """A copy of ``params`` with every uncertain value drawn from its own stream for (seed, trial)."""
    return params.with_values({path: draw_parameter(params.entries[path].uncertainty,
                                                    parameter_generator(seed, trial, path))
                               for path in params.uncertain()})
