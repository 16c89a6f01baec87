"""One virtual dose-finding trial as a discrete-event simulation of the patient flow.

Patients arrive at the model's enrolment times; on enrolment their cells are collected and the
product made as in the model (every facility unlimited); a patient is ready for infusion at the
model's earliest infusion day (product made, lymphodepletion done) and withdraws if their latent
progression time comes first, or is not infused if the product fails.

A design adds the decisions.  With ``wait`` (3+3, BOIN) the trial has a cohort of open slots at
one dose; the next enrolled patients take them in enrolment order, start lymphodepletion once
assigned (so infusion is at the later of product-ready and assignment plus the lymphodepletion
lead), and the decision is an event when the last slot's DLT window closes: escalate,
de-escalate, stay, eliminate or stop, which opens the next cohort's slots.  Patients enrolled
meanwhile (at most one cohort ahead) wait and may withdraw.  With ``dose`` (TITE-BOIN) each
patient ready for lymphodepletion is dosed at once at the dose the design gives on the data then
(DLTs seen so far and pending patients' follow-up), a new decision every cohort, unless accrual is
suspended.  A patient who withdraws or is not infused is replaced (their slot reopens) unless the
design says otherwise.  The trial ends at the final decision (all windows closed) and the
patients still waiting then are turned away.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass

import numpy as np

from sim.design.boin import BOIN, Action
from sim.inputs.design_settings import DesignSettings

ARRIVE, PROGRESS, FAIL, REQUEST, INFUSE, DLT_SEEN, WINDOW_END = range(7)
POOL, WAITING, ASSIGNED, INFUSED, WITHDRAWN, FAILED, TURNED_AWAY = range(7)


@dataclass(frozen=True)
class Patients:
    """One trial's candidate patients in enrolment order (arrays of one trial)."""

    arrival: np.ndarray
    ready: np.ndarray  # earliest infusion: product made and lymphodepletion done
    lead: float  # lymphodepletion starts this many days before infusion
    progression_at: np.ndarray
    failed_at: np.ndarray  # when a failed product is known (inf: it does not fail)
    dlt: np.ndarray  # (patients, levels)
    onset: np.ndarray  # (patients, levels), days after infusion
    fixed_level: np.ndarray  # the model's allocation as a level index (-1: not a design level)


@dataclass
class TrialResult:
    """What one virtual trial under a design gave."""

    selected: int | None
    treated: np.ndarray
    dlts: np.ndarray
    duration: float
    enrolled: int
    withdrawn: int
    withdrawn_waiting: int
    not_infused: int
    turned_away: int
    reason: str


def make_rules(s: DesignSettings):
    """The rules object of the design ``s`` for one trial."""
    from sim.design.rules_33 import ThreePlusThree
    from sim.design.tite import TITEBOIN

    k = len(s.levels)
    if s.name == "3+3":
        return ThreePlusThree(k, s.start, s.expand_mtd)
    common = dict(n_levels=k, start=s.start, cohort_size=s.cohort_size, max_sample_size=s.max_sample_size,
                  target=s.target, cutoff=s.elimination_cutoff, early_stop=s.early_stop_patients)
    if s.name == "boin":
        return BOIN(**common)
    return TITEBOIN(**common, max_pending_fraction=s.max_pending_fraction, estimator=s.tite_estimator)


def run_trial(s: DesignSettings, pts: Patients) -> TrialResult:
    """Simulate one trial of design ``s`` on the candidate patients ``pts``."""
    if s.name == "fixed":
        return fixed_trial(s, pts)
    flow = (TimeToEventFlow if s.dose_while_open else CohortFlow)(s, pts, make_rules(s))
    return flow.run()


def fixed_trial(s: DesignSettings, pts: Patients, enrolled: int | None = None) -> TrialResult:
    """Today's flow: the first ``enrolled`` patients, each infused when ready at their allocated dose."""
    n = len(pts.arrival) if enrolled is None else enrolled
    ready, prog, failed_at = pts.ready[:n], pts.progression_at[:n], pts.failed_at[:n]
    failed = np.isfinite(failed_at)
    withdrawn = prog < np.where(failed, failed_at, ready)
    infused = ~failed & ~withdrawn & (pts.fixed_level[:n] >= 0)
    k = pts.dlt.shape[1]
    level = np.where(infused, pts.fixed_level[:n], 0)
    dlt = pts.dlt[np.arange(n), level] & infused
    ends = np.where(infused, ready + s.dlt.window_days, np.fmin(prog, np.where(failed, failed_at, np.inf)))
    return TrialResult(None, np.bincount(level[infused], minlength=k), np.bincount(level[dlt], minlength=k),
                       float(np.max(ends)), n, int(withdrawn.sum()), 0, int((failed & ~withdrawn).sum()), 0,
                       "fixed allocation")


class _Flow:
    """The event loop and patient bookkeeping shared by both flows."""

    def __init__(self, s: DesignSettings, pts: Patients, rules) -> None:
        self.s, self.pts, self.rules = s, pts, rules
        n, k = len(pts.arrival), len(s.levels)
        self.status = np.full(n, POOL)
        self.dose_of = np.full(n, -1)
        self.t_inf = np.full(n, np.nan)
        self.heap: list = []
        self.seq = 0
        self.now = 0.0
        self.done = False
        self.consumed = 0  # non-evaluable patients who used a slot (no replacement)
        self.counts = dict(enrolled=0, withdrawn=0, withdrawn_waiting=0, not_infused=0, turned_away=0)
        self.selected: int | None = None
        self.reason = ""
        self.k = k
        for i in range(n):
            self.push(pts.arrival[i], ARRIVE, i)

    def push(self, t: float, kind: int, i: int) -> None:
        heapq.heappush(self.heap, (t, self.seq, kind, i))
        self.seq += 1

    def run(self) -> TrialResult:
        self.begin()
        handlers = {ARRIVE: self.arrive, PROGRESS: self.progress, FAIL: self.fail, REQUEST: self.request,
                    INFUSE: self.infuse, DLT_SEEN: self.dlt_seen, WINDOW_END: self.window_end}
        while self.heap and not self.done:
            self.now, _, kind, i = heapq.heappop(self.heap)
            handlers[kind](i)
        if not self.done:
            self.finish(self.final_selection(), "ran out of candidate patients")
        return self.result()

    # --- patients -------------------------------------------------------------------------
    def pipeline(self) -> int:
        return int(np.sum((self.status == WAITING) | (self.status == ASSIGNED)))

    def used(self) -> int:
        """Slots used towards the maximum sample size: infused, assigned, and consumed."""
        return int(np.sum((self.status == INFUSED) | (self.status == ASSIGNED))) + self.consumed

    def arrive(self, i: int) -> None:
        if not self.may_enrol():
            return
        pts = self.pts
        self.status[i] = WAITING
        self.counts["enrolled"] += 1
        if np.isfinite(pts.progression_at[i]):
            self.push(pts.progression_at[i], PROGRESS, i)
        if np.isfinite(pts.failed_at[i]):
            self.push(pts.failed_at[i], FAIL, i)
        self.enrolled(i)

    def progress(self, i: int) -> None:
        if self.status[i] not in (WAITING, ASSIGNED):
            return
        self.counts["withdrawn"] += 1
        self.counts["withdrawn_waiting"] += int(self.now >= self.pts.ready[i])
        self.lose(i, WITHDRAWN)

    def fail(self, i: int) -> None:
        if self.status[i] in (WAITING, ASSIGNED):
            self.counts["not_infused"] += 1
            self.lose(i, FAILED)

    def lose(self, i: int, status: int) -> None:
        was_assigned = self.status[i] == ASSIGNED
        self.status[i] = status
        self.forget(i)
        if was_assigned:
            self.lost_slot(i)

    def assign(self, i: int, dose: int) -> None:
        self.status[i] = ASSIGNED
        self.dose_of[i] = dose
        self.push(max(self.pts.ready[i], self.now + self.pts.lead), INFUSE, i)

    def infuse(self, i: int) -> None:
        if self.status[i] != ASSIGNED:
            return
        self.status[i] = INFUSED
        self.t_inf[i] = self.now
        d = self.dose_of[i]
        if self.pts.dlt[i, d]:
            self.push(self.now + self.pts.onset[i, d], DLT_SEEN, i)
        self.push(self.now + self.s.dlt.window_days, WINDOW_END, i)
        self.infused(i)

    def data(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per dose now: patients infused, DLTs seen, pending (no DLT yet, window open), their STFT."""
        idx = np.flatnonzero(self.status == INFUSED)
        d = self.dose_of[idx]
        follow = self.now - self.t_inf[idx]
        seen = self.pts.dlt[idx, d] & (follow >= self.pts.onset[idx, d])
        pending = ~seen & (follow < self.s.dlt.window_days)
        frac = np.where(pending, follow / self.s.dlt.window_days, 0.0)
        k = self.k
        return (np.bincount(d, minlength=k), np.bincount(d[seen], minlength=k),
                np.bincount(d[pending], minlength=k), np.bincount(d, weights=frac, minlength=k))

    def finish(self, selected: int | None, reason: str) -> None:
        self.done = True
        self.selected, self.reason = selected, reason
        left = (self.status == WAITING) | (self.status == ASSIGNED)
        self.counts["turned_away"] += int(left.sum())
        self.status[left] = TURNED_AWAY

    def final_selection(self) -> int | None:
        n, y, _, _ = self.data()
        return self.rules.select(n, y) if hasattr(self.rules, "select") else None

    def result(self) -> TrialResult:
        n, y, _, _ = self.data()
        return TrialResult(self.selected, n, y, self.now, reason=self.reason, **self.counts)

    # --- hooks --------------------------------------------------------------------------------
    def begin(self) -> None: ...
    def may_enrol(self) -> bool: ...
    def enrolled(self, i: int) -> None: ...
    def forget(self, i: int) -> None: ...
    def lost_slot(self, i: int) -> None: ...
    def request(self, i: int) -> None: ...
    def infused(self, i: int) -> None: ...
    def dlt_seen(self, i: int) -> None: ...
    def window_end(self, i: int) -> None: ...


class CohortFlow(_Flow):
    """Cohorts that wait for the previous cohort's DLT windows to close (3+3, BOIN)."""

    def begin(self) -> None:
        self.waiting: deque[int] = deque()
        self.open_cohort(self.rules.first())

    def open_cohort(self, action: Action) -> None:
        self.dose, self.slots, self.unfilled = action.dose, action.slots, action.slots
        self.members: list[int] = []
        self.cohort_consumed = 0
        self.fill()

    def cap(self) -> float:
        return self.s.max_sample_size if self.s.name != "3+3" else np.inf

    def may_enrol(self) -> bool:
        return (not self.done and self.pipeline() < self.unfilled + self.s.cohort_size
                and self.used() + int(np.sum(self.status == WAITING)) < self.cap())

    def enrolled(self, i: int) -> None:
        self.waiting.append(i)
        self.fill()

    def fill(self) -> None:
        while self.unfilled > 0 and self.waiting:
            i = self.waiting.popleft()
            self.assign(i, self.dose)
            self.members.append(i)
            self.unfilled -= 1

    def forget(self, i: int) -> None:
        if i in self.waiting:
            self.waiting.remove(i)

    def lost_slot(self, i: int) -> None:
        self.members.remove(i)
        if self.s.replace_non_evaluable:
            self.unfilled += 1
            self.fill()
        else:
            self.consumed += 1
            self.cohort_consumed += 1
            self.check_cohort()

    def window_end(self, i: int) -> None:
        self.check_cohort()

    def check_cohort(self) -> None:
        closed = sum(self.status[m] == INFUSED and self.now >= self.t_inf[m] + self.s.dlt.window_days
                     for m in self.members)
        if self.unfilled == 0 and closed + self.cohort_consumed == self.slots:
            self.decide(evaluated=closed)

    def decide(self, evaluated: int) -> None:
        n, y, _, _ = self.data()
        if evaluated == 0:  # nobody evaluable in the cohort (no replacement): treat the cohort again
            action = Action(self.dose, self.slots)
        elif isinstance(self.rules, BOIN):
            action = self.rules.decide(self.dose, n, y, used=self.used())
        else:
            action = self.rules.decide(self.dose, n, y)
        if action.dose is None or action.slots <= 0:
            self.finish(action.selected if action.dose is None else self.final_selection(), action.reason)
        else:
            self.open_cohort(action)


class TimeToEventFlow(_Flow):
    """Patients dosed as they become ready, on the data then, pending follow-up included (TITE-BOIN)."""

    def begin(self) -> None:
        self.queue: deque[int] = deque()  # ready for lymphodepletion, waiting for a dose
        self.dose = self.rules.start
        self.since_decision = 0
        self.closing = False
        self.suspended = False

    def may_enrol(self) -> bool:
        """Accrual is continuous unless suspended, closed, or every remaining slot is spoken for."""
        return (not self.done and not self.closing and not self.suspended
                and self.used() + int(np.sum(self.status == WAITING)) < self.s.max_sample_size)

    def enrolled(self, i: int) -> None:
        self.push(max(self.now, self.pts.ready[i] - self.pts.lead), REQUEST, i)

    def request(self, i: int) -> None:
        if self.status[i] == WAITING:
            self.queue.append(i)
            self.serve()

    def forget(self, i: int) -> None:
        if i in self.queue:
            self.queue.remove(i)

    def lost_slot(self, i: int) -> None:
        if self.s.replace_non_evaluable:
            self.since_decision = max(self.since_decision - 1, 0)
        else:
            self.consumed += 1
        self.serve()

    def infused(self, i: int) -> None:
        self.serve()

    def dlt_seen(self, i: int) -> None:
        self.serve()

    def window_end(self, i: int) -> None:
        self.serve()

    def serve(self) -> None:
        if self.suspended and not self.queue:  # nobody waiting for a dose: lift the suspension when it is over
            self.suspended = self.rules.suspends(self.dose, *self.data())
        infused = int(np.sum(self.status == INFUSED)) + self.consumed
        if not self.closing and infused >= self.s.max_sample_size:
            self.close(True, "maximum sample size")
        while self.queue and not self.closing and self.used() < self.s.max_sample_size:
            if self.since_decision >= self.s.cohort_size or (self.since_decision == 0 and self.used() > 0):
                action = self.rules.decide_pending(self.dose, *self.data())
                self.suspended = action.suspend
                if action.suspend:
                    break
                if action.dose is None:
                    self.close(not action.reason.startswith("lowest"), action.reason)
                    break
                self.dose, self.since_decision = action.dose, 0
            self.assign(self.queue.popleft(), self.dose)
            self.since_decision += 1
        if self.closing:
            self.try_finish()

    def close(self, select: bool, reason: str) -> None:
        """Stop accrual; the trial ends once every window is closed, selecting then if ``select``."""
        self.closing, self.close_select, self.close_reason = True, select, reason
        for i in list(self.queue):
            self.status[i] = TURNED_AWAY
            self.counts["turned_away"] += 1
        self.queue.clear()

    def try_finish(self) -> None:
        n, y, c, _ = self.data()
        if c.sum() == 0 and not np.any(self.status == ASSIGNED):
            self.finish(self.rules.select(n, y) if self.close_select else None, self.close_reason)
