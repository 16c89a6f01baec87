"""Named random streams: common random numbers across scenarios.

Each virtual trial has its own ``SeedSequence`` (the run seed and the trial index); each stochastic
element of the pathway has its own stream within it, keyed by the element's name, so adding a
stream shifts no other.  A stream hands out an array of uniforms and patient i, in enrolment order,
takes element i: the same seed gives a patient the same luck in every scenario.
"""

from __future__ import annotations

import zlib

import numpy as np


def check_seed(seed: object) -> int:
    """A seed must be a whole number >= 0 (0 is a seed like any other)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}")
    return int(seed)


def stream_key(name: str) -> int:
    """A stable number for a stream's name (the same in every Python process)."""
    return zlib.crc32(name.encode("utf-8"))


class Streams:
    """The random streams of one virtual trial."""

    def __init__(self, seed: int, trial: int) -> None:
        self.seed = check_seed(seed)
        self.trial = int(trial)

    def generator(self, name: str) -> np.random.Generator:
        sequence = np.random.SeedSequence(self.seed, spawn_key=(self.trial, stream_key(name)))
        return np.random.Generator(np.random.PCG64(sequence))

    def uniforms(self, name: str, n: int) -> np.ndarray:
        """n uniforms in [0, 1) from the stream ``name``; element i belongs to patient i."""
        return self.generator(name).random(n)
