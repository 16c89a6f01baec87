"""The SimPy engine: each virtual patient walks the pathway, competing for the facilities.

Per-patient chances and durations are drawn beforehand over arrays (:mod:`sim.samplers`); the
processes add what depends on other patients (queues for manufacturing slots, ICU and transplant
beds) and on time (withdrawal while waiting).  Times beyond the data cut-off are censored
afterwards (:mod:`sim.outcome`), so the processes may schedule events past it.
"""

from __future__ import annotations

import numpy as np
import simpy

from .facility import Facility
from .late import first_event
from .params import Params
from .records import TrialRecord
from .samplers import LATE_CAUSES, PRODUCT, late_hazards

ICU_MIN_GRADE = 3  # ASTCT grade 3: vasopressor or high-flow oxygen, managed in intensive care


class Pathway:
    """One virtual trial's processes, writing into a :class:`TrialRecord`."""

    def __init__(self, params: Params, draws: dict[str, np.ndarray], record: TrialRecord) -> None:
        self.env = simpy.Environment()
        self.p = params
        self.d = draws
        self.c = record.columns
        log = record.resource_log
        self.manufacturing = Facility(self.env, "manufacturing_slots", params["resources.manufacturing_slots"], log)
        self.icu = Facility(self.env, "icu_beds", params["resources.icu_beds"], log)
        self.transplant = Facility(self.env, "transplant_beds", params["resources.transplant_beds"], log)

    def run(self, until: float) -> None:
        for i in range(len(self.d["arrival"])):
            self.env.process(self.patient(i))
        self.env.run(until=until)

    # -- before infusion -------------------------------------------------------------------
    def patient(self, i: int):
        env, d, c = self.env, self.d, self.c
        yield env.timeout(d["arrival"][i])
        c["t_enrol"][i] = env.now
        c["new_donor"][i] = d["new_donor"][i]
        if d["new_donor"][i]:
            if not (yield from self.wait(i, d["search_days"][i])):
                return
            c["t_donor_found"][i] = env.now
        if not (yield from self.wait(i, d["collection_days"][i])):
            return
        c["t_collection"][i] = env.now
        if (yield from self.manufacture(i)):
            yield from self.after_infusion(i)

    def progression_at(self, i: int) -> float:
        return self.d["arrival"][i] + self.d["progression_days"][i]

    def wait(self, i: int, days: float):
        """Wait ``days`` unless rapid progression comes first (then withdraw); True if still in."""
        progression_at = self.progression_at(i)
        if progression_at < self.env.now + days:
            yield self.env.timeout(progression_at - self.env.now)
            self.c["t_withdrawal"][i] = self.env.now
            return False
        yield self.env.timeout(days)
        return True

    def manufacture(self, i: int):
        """Queue for a slot, manufacture (lymphodepletion starts meanwhile) and infuse; True if infused."""
        env, c, d = self.env, self.c, self.d
        requested, request = env.now, None
        if self.manufacturing.limited:
            request = self.manufacturing.resource.request()
            yield request | env.timeout(max(self.progression_at(i) - env.now, 0.0))
            if not request.triggered:
                request.cancel()
                c["t_withdrawal"][i] = env.now
                return False
        c["t_mfg_start"][i], c["mfg_wait"][i] = env.now, env.now - requested
        start, lead = env.now, self.p["lymphodepletion.start_before_infusion_days"]
        mfg_end = start + d["manufacturing_days"][i]
        infusion = max(mfg_end, start + lead)  # cells are infused when ready, after a full lead time
        made = yield from self.wait(i, infusion - lead - env.now)
        if made:
            c["t_ld_start"][i] = env.now
            made = yield from self.wait(i, mfg_end - env.now)
        self.manufacturing.record(i, requested, start, env.now)
        if request is not None:
            self.manufacturing.resource.release(request)
        if not made:
            return False
        c["t_mfg_end"][i], c["product"][i] = env.now, PRODUCT[d["product"][i]]
        if d["product"][i] == 2 or not (yield from self.wait(i, infusion - env.now)):
            return False
        c["t_infusion"][i] = env.now
        return True

    # -- after infusion --------------------------------------------------------------------
    def after_infusion(self, i: int):
        env, c, d = self.env, self.c, self.d
        t0 = env.now
        c["dose_level"][i], c["dose"][i] = d["dose_level"][i], d["dose"][i]
        c["t_peak"][i] = t0 + d["peak_days"][i]
        c["cytopenia_g34"][i], c["early_infection"][i] = d["cytopenia_g34"][i], d["early_infection"][i]
        self.toxicity(i, t0)
        yield env.timeout(self.p["response.assessment_day"])
        c["t_response"][i] = env.now
        c["response"][i] = response = d["response"][i]
        if response == "no_cr":
            self.disease_death(i, env.now)
            return
        yield from self.remission(i, response)

    def toxicity(self, i: int, t0: float) -> None:
        c, d = self.c, self.d
        grade = d["crs_grade"][i]
        if grade > 0:
            c["crs_grade"][i] = grade
            c["t_crs_onset"][i] = onset = t0 + d["crs_onset_days"][i]
            c["t_crs_end"][i] = onset + d["crs_duration_days"][i]
            if grade >= ICU_MIN_GRADE and self.icu.limited:
                self.env.process(self.intensive_care(i, onset, d["crs_duration_days"][i]))
            elif grade >= ICU_MIN_GRADE:
                c["t_icu_start"][i], c["icu_wait"][i] = onset, 0.0
                self.icu.record(i, onset, onset, onset + d["crs_duration_days"][i])
        if d["icans_grade"][i] > 0:
            c["icans_grade"][i] = d["icans_grade"][i]
            c["t_icans_onset"][i] = t0 + d["icans_onset_days"][i]

    def intensive_care(self, i: int, onset: float, days: float):
        yield self.env.timeout(onset - self.env.now)
        with self.icu.resource.request() as bed:
            yield bed
            self.c["t_icu_start"][i], self.c["icu_wait"][i] = self.env.now, self.env.now - onset
            self.icu.record(i, onset, self.env.now, self.env.now + days)
            yield self.env.timeout(days)

    def remission(self, i: int, response: str):
        """Competing late events from the response date, with a transplant if intended and in time."""
        env, c, d = self.env, self.c, self.d
        r = env.now
        targets = np.array([d[f"target_{cause}"][i] for cause in LATE_CAUSES])
        before, after = late_hazards(self.p, response)
        time, cause = first_event(targets, before, after, np.inf)
        planned = d["transplant_delay_days"][i] - self.p["response.assessment_day"]
        if d["transplant_intended"][i] and planned < time:
            yield env.timeout(planned)
            granted = yield from self.transplant_bed(i, r + time)
            if granted:
                time, cause = first_event(targets, before, after, env.now - r)
        self.late_event(i, r + time, LATE_CAUSES[cause])

    def transplant_bed(self, i: int, event_at: float):
        """Take a transplant bed now, or when one frees up before ``event_at``; True if transplanted."""
        env, c = self.env, self.c
        requested = env.now
        bed_days = self.p["transplant.bed_days"]
        if self.transplant.limited:
            request = self.transplant.resource.request()
            yield request | env.timeout(event_at - env.now)
            if not request.triggered:
                request.cancel()
                return False
            env.process(self._release_later(self.transplant, request, bed_days))
        self.transplant.record(i, requested, env.now, env.now + bed_days)
        c["t_transplant"][i], c["transplant_wait"][i] = env.now, env.now - requested
        return True

    def _release_later(self, facility: Facility, request, days: float):
        yield self.env.timeout(days)
        facility.resource.release(request)

    def late_event(self, i: int, at: float, cause: str) -> None:
        if np.isinf(at):
            return
        if cause == "relapse":
            self.c["t_relapse"][i] = at
            self.disease_death(i, at)
        else:
            self.c["t_death"][i], self.c["death_cause"][i] = at, cause

    def disease_death(self, i: int, since: float) -> None:
        hazard = self.p["late.disease_death_hazard"]
        if hazard > 0:
            self.c["t_death"][i] = since + self.d["target_disease_death"][i] / hazard
            self.c["death_cause"][i] = "disease"
