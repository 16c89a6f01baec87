"""The traditional 3+3 design.

Storer BE. Design and analysis of phase I clinical trials.  Biometrics 1989;45:925-937 (design
"A"+"B"); as usually run (e.g. Le Tourneau C, Lee JJ, Siu LL. J Natl Cancer Inst
2009;101:708-720):

- treat 3 patients at the current dose; 0 of 3 with a DLT: escalate; 1 of 3: treat 3 more at the
  same dose, then escalate if at most 1 of the 6 had a DLT and stop otherwise; 2 or more of 3:
  stop;
- the MTD is the dose below the one at which the trial stopped (none when it stopped at the
  lowest dose); escalating past the highest dose selects the highest;
- option ``expand_mtd`` (the common variant in which the MTD must have 6 patients): a candidate
  MTD with only 3 patients gets 3 more; with at most 1 DLT of 6 it is the MTD, otherwise the dose
  below becomes the candidate, and so on down (none below the lowest).

Without replacement of non-evaluable patients a cohort may hold fewer than 3; the rules then read
"0 DLTs / 1 DLT / 2 or more" of those evaluated, as for 3 (an extension, not part of the design).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.design.boin import Action

COHORT = 3
MAX_DLT_OF_SIX = 1


@dataclass
class ThreePlusThree:
    """The 3+3 rules for one trial, as a state machine driven by each cohort's outcome.

    Parameters
    ----------
    n_levels, start : int
        Number of dose levels and the starting dose index.
    expand_mtd : bool
        Require 6 patients at the selected MTD (see the module docstring).
    """

    n_levels: int
    start: int
    expand_mtd: bool = False
    cohorts: list[int] = field(init=False)  # cohorts treated at each dose
    confirming: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.cohorts = [0] * self.n_levels

    def first(self) -> Action:
        self.cohorts[self.start] = 1
        return Action(self.start, COHORT)

    def decide(self, d: int, n: np.ndarray, y: np.ndarray) -> Action:
        """The next action after a cohort at dose ``d``; ``n``, ``y`` are evaluable patients and
        DLTs per dose so far."""
        if self.confirming:
            return self._confirmed(d, n, y)
        if self.cohorts[d] == 1:
            if y[d] == 0:
                return self._escalate(d, n, y)
            if y[d] == 1:
                return self._treat(d)
            return self._stopped_at(d, n, y)
        if y[d] <= MAX_DLT_OF_SIX:
            return self._escalate(d, n, y)
        return self._stopped_at(d, n, y)

    def _treat(self, d: int) -> Action:
        self.cohorts[d] += 1
        return Action(d, COHORT)

    def _escalate(self, d: int, n, y) -> Action:
        if d + 1 < self.n_levels:
            return self._treat(d + 1)
        return self._candidate(d, n, y, "escalated past the highest dose")

    def _stopped_at(self, d: int, n, y) -> Action:
        return self._candidate(d - 1, n, y, f"stopped at dose index {d}")

    def _candidate(self, m: int, n, y, reason: str) -> Action:
        """Dose ``m`` is the candidate MTD (-1: none)."""
        if m < 0 or n[m] == 0:
            return Action(None, selected=None, reason=reason + "; no dose below")
        if not self.expand_mtd or self.cohorts[m] >= 2:
            return Action(None, selected=m, reason=reason)
        self.confirming = True
        return self._treat(m)

    def _confirmed(self, m: int, n, y) -> Action:
        if y[m] <= MAX_DLT_OF_SIX:
            return Action(None, selected=m, reason="MTD confirmed with 6 patients")
        return self._candidate(m - 1, n, y, "MTD not confirmed")
