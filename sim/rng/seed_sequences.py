"""``numpy.random.SeedSequence`` over arrays: the first state word of many seed sequences at once.

A parameter's stream in a virtual trial is ``SeedSequence(seed, spawn_key=(trial, key, path key))``
(:mod:`sim.inputs.parameter_draws`).  Building one costs tens of microseconds, so drawing 48
parameters for each of thousands of trials one sequence at a time costs more than simulating the
trials.  Here numpy's algorithm (its pool of four 32-bit words, ``hashmix`` and ``mix``, then
``generate_state``) runs on uint32 arrays, one element per sequence; the constants are numpy's.
``tests/rng/test_seed_sequences.py`` checks the words against numpy's own.
"""

from __future__ import annotations

import numpy as np

POOL_SIZE = 4
INIT_A, MULT_A = 0x43B0D7E5, 0x931E8875
INIT_B, MULT_B = 0x8B51F9DD, 0x58F38DED
MIX_MULT_L, MIX_MULT_R = 0xCA01F9DD, 0x4973F715
XSHIFT = np.uint32(16)
MASK32 = 0xFFFFFFFF


def int_words(value: int) -> list[int]:
    """A non-negative integer as numpy's SeedSequence reads it: 32-bit words, least significant first."""
    words = [value & MASK32]
    value >>= 32
    while value:
        words.append(value & MASK32)
        value >>= 32
    return words


class _Hash:
    """numpy's running hash constant: the same sequence of multipliers for every element."""

    def __init__(self, start: int) -> None:
        self.value = start

    def mix(self, data: np.ndarray, mult: int) -> np.ndarray:
        out = data ^ np.uint32(self.value)
        self.value = (self.value * mult) & MASK32
        out = out * np.uint32(self.value)
        return out ^ (out >> XSHIFT)


def _mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    result = np.uint32(MIX_MULT_L) * x - np.uint32(MIX_MULT_R) * y
    return result ^ (result >> XSHIFT)


def first_state_words(entropy: int, spawn_keys: np.ndarray) -> np.ndarray:
    """The first uint64 of ``SeedSequence(entropy, spawn_key=row).generate_state(1, np.uint64)`` per row
    (see :func:`state_words`)."""
    return state_words(entropy, spawn_keys, 1)[:, 0]


def state_words(entropy: int, spawn_keys: np.ndarray, count: int) -> np.ndarray:
    """``SeedSequence(entropy, spawn_key=row).generate_state(count, np.uint64)`` per row: shape (rows, count).

    Parameters
    ----------
    entropy : int
        The run seed (>= 0).
    spawn_keys : ndarray of int, shape (sequences, key length)
        Each sequence's spawn key; every element below 2**32.
    count : int
        uint64 words per sequence.
    """
    keys = np.asarray(spawn_keys, dtype=np.uint64)
    if keys.size and int(keys.max()) > MASK32:
        raise ValueError("spawn key elements must be below 2**32")
    run = int_words(entropy)
    run += [0] * max(0, POOL_SIZE - len(run))
    columns = [np.full(len(keys), word, dtype=np.uint32) for word in run] + \
              [keys[:, j].astype(np.uint32) for j in range(keys.shape[1])]
    with np.errstate(over="ignore"):
        pool = _mix_entropy(columns)
        hashing = _Hash(INIT_B)
        halves = [hashing.mix(pool[i % POOL_SIZE], MULT_B).astype(np.uint64) for i in range(2 * count)]
    return np.stack([low | (high << np.uint64(32)) for low, high in zip(halves[::2], halves[1::2])], axis=-1)


def _mix_entropy(entropy: list[np.ndarray]) -> list[np.ndarray]:
    hashing = _Hash(INIT_A)
    zeros = np.zeros_like(entropy[0])
    pool = [hashing.mix(entropy[i] if i < len(entropy) else zeros, MULT_A) for i in range(POOL_SIZE)]
    for src in range(POOL_SIZE):
        for dst in range(POOL_SIZE):
            if src != dst:
                pool[dst] = _mix(pool[dst], hashing.mix(pool[src], MULT_A))
    for src in range(POOL_SIZE, len(entropy)):
        for dst in range(POOL_SIZE):
            pool[dst] = _mix(pool[dst], hashing.mix(entropy[src], MULT_A))
    return pool
