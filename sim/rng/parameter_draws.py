"""Drawing a virtual trial's parameters with common random numbers across scenarios.

Each uncertain parameter has its own stream, keyed by the run seed, the trial index and the
parameter's dotted path, and a scalar is drawn through the inverse CDF of its uncertainty
distribution.  A parameter that two scenarios leave alone therefore takes the same value in
trial k of both, whatever else they change (adding, removing or reshaping another parameter's
uncertainty shifts nothing), and a parameter whose range a scenario moves keeps its quantile.
The inverse CDFs are written out with :mod:`scipy.special` (a frozen scipy distribution's ``ppf``
is twenty times slower); ``tests/test_scenarios.py`` checks them against scipy.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from sim.inputs.params import Params
from sim.rng.streams import stream_key
from sim.inputs.uncertainty import JEFFREYS, Uncertainty

PARAMETERS_STREAM = "parameters"


def _triangular(low: float, mode: float, high: float, q: float) -> float:
    if q < (mode - low) / (high - low):
        return low + math.sqrt(q * (high - low) * (mode - low))
    return high - math.sqrt((1 - q) * (high - low) * (high - mode))


INVERSE_CDF = {
    "beta": lambda k, n, q: float(special.betaincinv(k + JEFFREYS, n - k + JEFFREYS, q)),
    "gamma": lambda events, exposure, q: float(special.gammaincinv(events + JEFFREYS, q)) / exposure,
    "beta_ab": lambda a, b, q: float(special.betaincinv(a, b, q)),
    "uniform": lambda low, high, q: low + (high - low) * q,
    "triangular": _triangular,
    "lognormal": lambda median, sigma, q: median * math.exp(sigma * float(special.ndtri(q))),
}


def parameter_sequence(seed: int, trial: int, path: str) -> np.random.SeedSequence:
    """The seed sequence of one parameter's stream in one virtual trial."""
    return np.random.SeedSequence(seed, spawn_key=(trial, stream_key(PARAMETERS_STREAM), stream_key(path)))


def parameter_uniform(seed: int, trial: int, path: str) -> float:
    """One uniform in (0, 1) from a parameter's stream: 53 random bits, centred in their interval."""
    bits = int(parameter_sequence(seed, trial, path).generate_state(1, np.uint64)[0]) >> 11
    return (bits + 0.5) * 2.0 ** -53


def inverse_cdf(uncertainty: Uncertainty, q: float) -> float:
    """The ``q`` quantile of a scalar uncertainty distribution."""
    if uncertainty.kind in INVERSE_CDF:
        return INVERSE_CDF[uncertainty.kind](*uncertainty.args, q)
    return uncertainty.ppf(q)


def draw_parameter(uncertainty, seed: int, trial: int, path: str):
    """A scalar through its inverse CDF at its stream's uniform; category weights from their Dirichlet."""
    if isinstance(uncertainty, Uncertainty):
        return inverse_cdf(uncertainty, parameter_uniform(seed, trial, path))
    return uncertainty.sample(np.random.Generator(np.random.PCG64(parameter_sequence(seed, trial, path))))


def draw_trial_parameters(params: Params, seed: int, trial: int) -> Params:
    """A copy of ``params`` with every uncertain value drawn from its own stream for (seed, trial)."""
    return params.with_values({path: draw_parameter(params.entries[path].uncertainty, seed, trial, path)
                               for path in params.uncertain()})
