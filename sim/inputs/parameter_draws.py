"""Drawing a virtual trial's parameters with common random numbers across scenarios.

Each uncertain parameter has its own stream, keyed by the run seed, the trial index and the
parameter's dotted path, and a scalar is drawn through the inverse CDF of its uncertainty
distribution.  A parameter that two scenarios leave alone therefore takes the same value in
trial k of both, whatever else they change (adding, removing or reshaping another parameter's
uncertainty shifts nothing), and a parameter whose range a scenario moves keeps its quantile.
The inverse CDFs are written out with :mod:`scipy.special` over arrays (a frozen scipy
distribution's ``ppf`` is twenty times slower), and a batch of trials draws each parameter for all
its trials at once; ``tests/inputs/test_scenarios.py`` checks them against scipy.
"""

from __future__ import annotations


from typing import TYPE_CHECKING, Sequence

import numpy as np
from numpy.random.bit_generator import ISeedSequence
from scipy import special

from sim.inputs.param_batch import ParamBatch
from sim.inputs.posterior_draws import joint_values
from sim.rng.seed_sequences import first_state_words, state_words
from sim.rng.streams import stream_key
from sim.inputs.uncertainty import JEFFREYS, Uncertainty

if TYPE_CHECKING:  # Params.draw calls this module: Params is a type name here only
    from sim.inputs.params import Params

PARAMETERS_STREAM = "parameters"
PCG64_WORDS = 4  # uint64 words a PCG64 takes from its seed sequence (state and increment)


def _triangular(low: float, mode: float, high: float, q):
    q = np.asarray(q, dtype=float)
    below = low + np.sqrt(q * (high - low) * (mode - low))
    above = high - np.sqrt((1 - q) * (high - low) * (high - mode))
    return np.where(q < (mode - low) / (high - low), below, above)


INVERSE_CDF = {  # elementwise over an array of quantiles
    "beta": lambda k, n, q: special.betaincinv(k + JEFFREYS, n - k + JEFFREYS, q),
    "gamma": lambda events, exposure, q: special.gammaincinv(events + JEFFREYS, q) / exposure,
    "beta_ab": lambda a, b, q: special.betaincinv(a, b, q),
    "uniform": lambda low, high, q: low + (high - low) * np.asarray(q, dtype=float),
    "triangular": _triangular,
    "lognormal": lambda median, sigma, q: median * np.exp(sigma * special.ndtri(q)),
}


def parameter_sequence(seed: int, trial: int, path: str) -> np.random.SeedSequence:
    """The seed sequence of one parameter's stream in one virtual trial."""
    return np.random.SeedSequence(seed, spawn_key=(trial, stream_key(PARAMETERS_STREAM), stream_key(path)))


def parameter_uniforms(seed: int, trials, paths: Sequence[str]) -> np.ndarray:
    """One uniform in (0, 1) per trial and parameter from the parameter's stream: shape (trials, paths).

    53 random bits, centred in their interval: the first state word of :func:`parameter_sequence`,
    computed for every (trial, parameter) at once (:mod:`sim.rng.seed_sequences`).
    """
    trials = np.atleast_1d(np.asarray(trials, dtype=np.uint64))
    path_keys = np.array([stream_key(path) for path in paths], dtype=np.uint64)
    keys = np.stack(np.broadcast_arrays(trials[:, None], np.uint64(stream_key(PARAMETERS_STREAM)),
                                        path_keys[None, :]), axis=-1).reshape(-1, 3)
    bits = first_state_words(seed, keys) >> np.uint64(11)
    return ((bits.astype(float) + 0.5) * 2.0 ** -53).reshape(len(trials), len(paths))


def parameter_uniform(seed: int, trial: int, path: str) -> float:
    """The uniform of one trial and parameter (a batch of one)."""
    return float(parameter_uniforms(seed, [trial], [path])[0, 0])


def inverse_cdf(uncertainty: Uncertainty, q):
    """The ``q`` quantiles (an array, or a scalar) of a scalar uncertainty distribution."""
    if uncertainty.kind in INVERSE_CDF:
        values = np.asarray(INVERSE_CDF[uncertainty.kind](*uncertainty.args, q), dtype=float)
    else:
        values = np.array([uncertainty.ppf(float(x)) for x in np.ravel(q)], dtype=float).reshape(np.shape(q))
    return float(values) if values.ndim == 0 else values


def draw_parameter(uncertainty, seed: int, trial: int, path: str):
    """One parameter's value in one trial: a scalar through its inverse CDF at its stream's uniform,
    category weights from their Dirichlet (a generator on the same stream)."""
    if isinstance(uncertainty, Uncertainty):
        return inverse_cdf(uncertainty, parameter_uniform(seed, trial, path))
    return uncertainty.sample(np.random.Generator(np.random.PCG64(parameter_sequence(seed, trial, path))))


def draw_columns(params: Params, seed: int, trials) -> dict:
    """Every uncertain parameter's drawn values for a batch of trial indices, by path: an array of
    one float per trial, or (category weights) a list of one mapping per trial.  Calibrated
    parameters come together from one row of their joint posterior draws per trial
    (:mod:`sim.inputs.posterior_draws`), every other one from its own stream.

    The scalars' uniforms are computed for all trials and parameters at once and mapped through
    their inverse CDFs a column at a time; category weights draw from their Dirichlet per trial.
    """
    trials = np.atleast_1d(trials)
    joint = joint_values(params, params.posterior, seed, trials)
    uncertain = {path: params.entries[path].uncertainty for path in params.uncertain() if path not in joint}
    scalars = [path for path, u in uncertain.items() if isinstance(u, Uncertainty)]
    q = parameter_uniforms(seed, trials, scalars)
    values = {path: np.asarray(inverse_cdf(uncertain[path], q[:, j]), dtype=float).reshape(len(trials))
              for j, path in enumerate(scalars)}
    values |= {path: draw_weights(u, seed, trials, path) for path, u in uncertain.items() if path not in values}
    return {path: values[path] for path in uncertain} | joint


class _StateWords(ISeedSequence):
    """A seed sequence whose state words are already known (:func:`sim.rng.seed_sequences.state_words`)."""

    def __init__(self, words: np.ndarray) -> None:
        self.words = words

    def generate_state(self, n_words, dtype=np.uint32):
        if n_words != len(self.words) or np.dtype(dtype) != np.uint64:
            raise ValueError("only the state words computed in advance are known")
        return self.words


def draw_weights(uncertainty, seed: int, trials, path: str) -> list[dict]:
    """Category weights for each trial from their Dirichlet, on the generator of :func:`parameter_sequence`
    (its PCG64 state words computed for every trial at once)."""
    trials = np.atleast_1d(np.asarray(trials, dtype=np.uint64))
    keys = np.stack(np.broadcast_arrays(trials, np.uint64(stream_key(PARAMETERS_STREAM)),
                                        np.uint64(stream_key(path))), axis=-1)
    words = state_words(seed, keys, PCG64_WORDS)
    return [uncertainty.sample(np.random.Generator(np.random.PCG64(_StateWords(row)))) for row in words]


def draw_values(params: Params, seed: int, trials) -> list[dict]:
    """Each trial's drawn value of every uncertain parameter, for a batch of trial indices."""
    columns = draw_columns(params, seed, trials)
    lists = {path: c.tolist() if isinstance(c, np.ndarray) else c for path, c in columns.items()}
    return [{path: column[row] for path, column in lists.items()} for row in range(len(np.atleast_1d(trials)))]


def draw_parameter_batch(params: Params, seed: int, trials) -> ParamBatch:
    """A batch of trials' parameters, every uncertain value drawn from its own stream, as columns
    (:class:`~sim.inputs.param_batch.ParamBatch`); InputError if a trial's values are not valid."""
    trials = np.atleast_1d(trials)
    batch = ParamBatch(params, draw_columns(params, seed, trials), len(trials))
    batch.check()
    return batch


def draw_batch_parameters(params: Params, seed: int, trials) -> list[Params]:
    """Each trial's parameters for a batch of trial indices (see :func:`draw_values`)."""
    return [params.with_values(values) for values in draw_values(params, seed, trials)]


def draw_trial_parameters(params: Params, seed: int, trial: int) -> Params:
    """A copy of ``params`` with every uncertain value drawn for (seed, trial)."""
    return draw_batch_parameters(params, seed, [trial])[0]
