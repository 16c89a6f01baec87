"""The SimPy engine: virtual patients compete for manufacturing slots, ICU beds and transplant beds.

The processes resolve only what depends on other patients - when each patient starts
manufacturing, enters intensive care and is transplanted - and when they leave a queue through
progression or a late event.  Everything else follows from the shared timeline
(:mod:`sim.model.timeline`); an unlimited facility costs no SimPy event.
"""

from __future__ import annotations

import math

import numpy as np
import simpy

from sim.model import timeline as T
from sim.engines.rows import queues_by_row
from sim.inputs.params import Params
from sim.model.records import trial_cutoff
from sim.model.draws import FAILED


class Pathway:
    """One virtual trial's processes over the per-patient draws ``d`` and plan ``p``."""

    def __init__(self, params: Params, d: dict[str, np.ndarray], p: dict[str, np.ndarray]) -> None:
        self.env = simpy.Environment()
        self.params, self.d, self.p = params, d, p
        self.n = len(d["arrival"])
        self.slots = self._resource("resources.manufacturing_slots")
        self.icu = self._resource("resources.icu_beds")
        self.beds = self._resource("resources.transplant_beds")
        self.freed_at: dict[simpy.Resource, float] = {}  # when each resource's last unit was meant to be freed
        self.mfg_start = np.full(self.n, np.nan)
        self.icu_start = None if self.icu is None else np.full(self.n, np.nan)
        self.transplant = None if self.beds is None else np.full(self.n, np.nan)
        # plain Python lists: indexing them is several times cheaper than numpy arrays
        self.v = {key: np.asarray(value).tolist() for key, value in {
            "arrival": d["arrival"], "ready": p["ready"], "progression_at": p["progression_at"],
            "manufacturing_days": d["manufacturing_days"], "infusion_offset": p["infusion_offset"],
            "failed": d["product"] == FAILED, "icu": d["crs_grade"] >= T.ICU_MIN_GRADE,
            "crs_onset_days": d["crs_onset_days"], "crs_duration_days": d["crs_duration_days"],
            "transplant_planned": p["transplant_planned"], "event": p["event_without_transplant"]}.items()}

    def _resource(self, path: str) -> simpy.Resource | None:
        capacity = self.params[path]
        return None if math.isinf(capacity) else simpy.Resource(self.env, int(capacity))

    def acquire(self, resource: simpy.Resource, at: float, leave_at: float):
        """Request a unit at time ``at`` (now), leaving the queue at ``leave_at``; a process body.

        Returns (request, start), or (None, None) if the patient left first.  Times are the
        intended values, not ``env.now``, which can differ in the last bit after a timeout.
        """
        request = resource.request()
        if request.triggered:
            return request, at
        yield request | self.env.timeout(leave_at - self.env.now)
        if not request.triggered:
            request.cancel()
            return None, None
        return request, self.freed_at[resource]

    def release(self, resource: simpy.Resource, request, at: float) -> None:
        self.freed_at[resource] = at
        resource.release(request)

    def run(self, until: float) -> None:
        for i in range(self.n):
            self.env.process(self.patient(i))
        self.env.run(until=until)

    def patient(self, i: int):
        env, v = self.env, self.v
        ready, progression_at = v["ready"][i], v["progression_at"][i]
        if progression_at < ready:
            return  # progresses before cells can be collected
        yield env.timeout(ready)
        start = ready
        if self.slots is not None:
            request, start = yield from self.acquire(self.slots, ready, progression_at)
            if request is None:
                return
        self.mfg_start[i] = start
        made = start + v["manufacturing_days"][i]
        freed = min(made, progression_at)
        yield env.timeout(freed - env.now)
        if self.slots is not None:
            self.release(self.slots, request, freed)
        infusion = start + v["infusion_offset"][i]
        if progression_at < made or v["failed"][i] or progression_at < infusion:
            return
        yield env.timeout(infusion - env.now)
        if self.icu is not None and v["icu"][i]:
            env.process(self.intensive_care(i, infusion))
        if self.beds is not None and v["transplant_planned"][i] < math.inf:
            yield from self.transplant_bed(i, infusion)

    def intensive_care(self, i: int, infusion: float):
        """Ask for a bed at CRS onset, and leave the queue if the CRS ends first; hold it to the end of the
        CRS, or to death from toxicity in it."""
        onset = infusion + self.v["crs_onset_days"][i]
        yield self.env.timeout(onset - self.env.now)
        crs_end = onset + self.d["crs_duration_days"][i]  # when the queue is left: sim.model.timeline.icu_leave_at
        bed, start = yield from self.acquire(self.icu, onset, crs_end)
        if bed is None:
            return
        self.icu_start[i] = start
        leave = T.icu_release_at(self.params, self.d, i, infusion, start)
        yield self.env.timeout(leave - self.env.now)
        self.release(self.icu, bed, leave)

    def transplant_bed(self, i: int, infusion: float):
        """Ask for a bed on the planned day; leave the queue if a late event comes first."""
        env = self.env
        response = T.response_time(self.params, infusion)
        asked = response + self.v["transplant_planned"][i]
        yield env.timeout(asked - env.now)
        bed, start = yield from self.acquire(self.beds, asked, response + self.v["event"][i])
        if bed is None:
            return
        self.transplant[i] = start
        leave = start + self.params["transplant.bed_days"]
        yield env.timeout(leave - env.now)
        self.release(self.beds, bed, leave)


def des_queues(params: Params, d: dict[str, np.ndarray], p: dict[str, np.ndarray]):
    """The queues' outcomes by the SimPy engine: (mfg_start, icu_start, transplant), a row per trial
    if the arrays hold several trials.  ``icu_start`` or ``transplant`` is None where that facility
    is unlimited (no queue)."""
    if d["arrival"].ndim == 2:
        return queues_by_row(params, d, p, lambda r: des_queues)
    pathway = Pathway(params, d, p)
    pathway.run(until=np.nextafter(trial_cutoff(params, d["arrival"]), np.inf))
    return pathway.mfg_start, pathway.icu_start, pathway.transplant
