"""Capacity-limited resources (manufacturing slots, ICU beds, transplant beds) and their use.

An unlimited facility never queues and costs no SimPy event; a limited one is a ``simpy.Resource``.
Each use is logged as an interval (facility, patient, requested, start, end) for the metrics.
"""

from __future__ import annotations

import math

import simpy


class Facility:
    def __init__(self, env: simpy.Environment, name: str, capacity: float, log: list) -> None:
        self.env = env
        self.name = name
        self.capacity = capacity
        self.limited = not math.isinf(capacity)
        self.resource = simpy.Resource(env, int(capacity)) if self.limited else None
        self.log = log

    def record(self, patient: int, requested: float, start: float, end: float) -> None:
        self.log.append((self.name, patient, requested, start, end))
