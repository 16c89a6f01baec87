"""Parameter streams over arrays equal numpy's SeedSequence, so batched draws equal one-at-a-time draws."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.inputs.parameter_draws import (draw_batch_parameters, draw_parameter, draw_weights, parameter_sequence,
                                     parameter_uniforms)
from sim.rng.seed_sequences import first_state_words, state_words

WORD = st.integers(0, 2**32 - 1)


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**130), keys=st.lists(st.tuples(WORD, WORD, WORD), min_size=1, max_size=6))
def test_first_state_words_equal_numpy_seed_sequence(seed, keys):
    words = first_state_words(seed, np.array(keys))
    expected = [np.random.SeedSequence(seed, spawn_key=key).generate_state(1, np.uint64)[0] for key in keys]
    assert words.tolist() == [int(w) for w in expected]


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**130), keys=st.lists(st.tuples(WORD, WORD, WORD), min_size=1, max_size=4),
       count=st.integers(1, 6))
def test_state_words_equal_numpy_seed_sequence(seed, keys, count):
    words = state_words(seed, np.array(keys), count)
    expected = [np.random.SeedSequence(seed, spawn_key=key).generate_state(count, np.uint64).tolist() for key in keys]
    assert words.tolist() == expected


def test_batched_category_weights_equal_one_generator_per_trial(cll1):
    for path in [p for p in cll1.uncertain() if cll1.entries[p].kind == "weights"]:
        uncertainty = cll1.entries[path].uncertainty
        batched = draw_weights(uncertainty, 5, [0, 4, 17], path)
        assert batched == [draw_parameter(uncertainty, 5, trial, path) for trial in (0, 4, 17)]


def test_parameter_uniforms_are_the_streams_first_53_bits(cd5):
    paths = cd5.uncertain()[:5]
    q = parameter_uniforms(7, [0, 3, 11], paths)
    for row, trial in enumerate([0, 3, 11]):
        for col, path in enumerate(paths):
            bits = int(parameter_sequence(7, trial, path).generate_state(1, np.uint64)[0]) >> 11
            assert q[row, col] == (bits + 0.5) * 2.0 ** -53


def test_a_trial_draws_the_same_parameters_alone_or_in_a_batch(cll1):
    batch = draw_batch_parameters(cll1, 4, [0, 1, 2, 9])
    for params, trial in zip(batch, [0, 1, 2, 9]):
        alone = draw_batch_parameters(cll1, 4, [trial])[0]
        assert all(params[path] == alone[path] for path in cll1.uncertain())
    assert batch[0]["crs.incidence"] != batch[1]["crs.incidence"]


def test_spawn_keys_must_fit_in_a_word():
    with pytest.raises(ValueError):
        first_state_words(0, np.array([[2**32, 0, 0]]))
