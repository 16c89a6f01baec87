"""TITE-BOIN's decision function against the published decision tables, entry by entry.

Sources (target DLT rate phi, cohorts of 3, pending patients' STFT = total follow-up / window):

- phi = 0.2, n = 3, 6, 9: Table 1 of the TITE-BOIN protocol-design article in Contemp Clin Trials
  Commun 2022 (PMC9260438, https://pmc.ncbi.nlm.nih.gov/articles/PMC9260438/table/tbl1/), which
  follows Yuan Y, Lin R, Li D, Nie L, Warren KE, Clin Cancer Res 2018;24:4921-4930.
- phi = 0.2, n = 12, 15 and phi = 0.3, n = 3 to 15: Table 1 and Supplementary Table S1 of Yuan et al.
  (2018), as transcribed in the simFastBOIN R package's tests (Homma G, github gosukehommaEX/simFastBOIN,
  tests/testthat/fixtures/yuan2018-tables.csv); its phi = 0.2 rows for n <= 9 agree with PMC9260438.

A row is (n, DLTs from, DLTs to, pending from, pending to, decision, STFT boundary); "to" None means
up to the most possible (DLTs + pending <= n).  Decisions: E escalate, S stay, D de-escalate, DE
de-escalate and eliminate, SUS suspend accrual; ES escalate when STFT >= boundary else stay; SD
de-escalate when STFT <= boundary else stay.  The published boundaries are rounded to 0.01, so each is
probed 0.006 either side (the rounding error is at most 0.005).
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.design.tite import TITEBOIN

PHI_02 = [
    (3, 0, 0, 0, 1, "E", None), (3, 0, 0, 2, None, "SUS", None), (3, 1, 1, 0, 2, "D", None),
    (3, 2, None, 0, 1, "DE", None),
    (6, 0, 0, 0, 3, "E", None), (6, 0, 0, 4, None, "SUS", None), (6, 1, 1, 0, 3, "S", None),
    (6, 1, 1, 4, None, "SUS", None), (6, 2, 2, 0, 4, "D", None), (6, 3, None, 0, 3, "DE", None),
    (9, 0, 0, 0, 4, "E", None), (9, 0, 0, 5, None, "SUS", None), (9, 1, 1, 0, 2, "E", None),
    (9, 1, 1, 3, 3, "ES", 0.77), (9, 1, 1, 4, 4, "ES", 2.15), (9, 1, 1, 5, None, "SUS", None),
    (9, 2, 2, 0, 0, "S", None), (9, 2, 2, 1, 1, "SD", 0.52), (9, 2, 2, 2, 2, "SD", 1.59),
    (9, 2, 2, 3, 3, "SD", 2.66), (9, 2, 2, 4, 4, "SD", 3.73), (9, 2, 2, 5, None, "SUS", None),
    (9, 3, 3, 0, 6, "D", None), (9, 4, None, 0, 5, "DE", None),
    (12, 0, 0, 0, 6, "E", None), (12, 0, 0, 7, None, "SUS", None), (12, 1, 1, 0, 5, "E", None),
    (12, 1, 1, 6, 6, "ES", 1.24), (12, 1, 1, 7, None, "SUS", None), (12, 2, 2, 0, 6, "S", None),
    (12, 2, 2, 7, None, "SUS", None), (12, 3, 4, 0, 9, "D", None), (12, 5, None, 0, 7, "DE", None),
    (15, 0, 0, 0, 7, "E", None), (15, 0, 0, 8, None, "SUS", None), (15, 1, 1, 0, 7, "E", None),
    (15, 1, 1, 8, None, "SUS", None), (15, 2, 2, 0, 2, "E", None), (15, 2, 2, 3, 3, "ES", 1.14),
    (15, 2, 2, 4, 4, "ES", 2.31), (15, 2, 2, 5, 5, "ES", 3.48), (15, 2, 2, 6, 6, "ES", 4.65),
    (15, 2, 2, 7, 7, "ES", 5.82), (15, 2, 2, 8, None, "SUS", None), (15, 3, 3, 0, 2, "S", None),
    (15, 3, 3, 3, 3, "SD", 1.16), (15, 3, 3, 4, 4, "SD", 2.34), (15, 3, 3, 5, 5, "SD", 3.53),
    (15, 3, 3, 6, 6, "SD", 4.72), (15, 3, 3, 7, 7, "SD", 5.90), (15, 3, 3, 8, None, "SUS", None),
    (15, 4, 5, 0, 11, "D", None), (15, 6, None, 0, 9, "DE", None),
]
PHI_03 = [
    (3, 0, 0, 0, 1, "E", None), (3, 0, 0, 2, None, "SUS", None), (3, 1, 1, 0, 0, "S", None),
    (3, 1, 1, 1, 1, "SD", 0.88), (3, 1, 1, 2, None, "SUS", None), (3, 2, 2, 0, 1, "D", None),
    (3, 3, 3, 0, 0, "DE", None),
    (6, 0, 0, 0, 3, "E", None), (6, 0, 0, 4, None, "SUS", None), (6, 1, 1, 0, 1, "E", None),
    (6, 1, 1, 2, 2, "ES", 0.60), (6, 1, 1, 3, 3, "ES", 1.96), (6, 1, 1, 4, None, "SUS", None),
    (6, 2, 2, 0, 0, "S", None), (6, 2, 2, 1, 1, "SD", 0.73), (6, 2, 2, 2, 2, "SD", 1.80),
    (6, 2, 2, 3, 3, "SD", 2.87), (6, 2, 2, 4, None, "SUS", None), (6, 3, 3, 0, 3, "D", None),
    (6, 4, None, 0, 2, "DE", None),
    (9, 0, 0, 0, 4, "E", None), (9, 0, 0, 5, None, "SUS", None), (9, 1, 1, 0, 4, "E", None),
    (9, 1, 1, 5, None, "SUS", None), (9, 2, 2, 0, 0, "E", None), (9, 2, 2, 1, 1, "ES", 0.59),
    (9, 2, 2, 2, 2, "ES", 1.65), (9, 2, 2, 3, 3, "ES", 2.71), (9, 2, 2, 4, 4, "ES", 3.77),
    (9, 2, 2, 5, None, "SUS", None), (9, 3, 3, 0, 0, "S", None), (9, 3, 3, 1, 1, "SD", 0.58),
    (9, 3, 3, 2, 2, "SD", 1.65), (9, 3, 3, 3, 3, "SD", 2.72), (9, 3, 3, 4, 4, "SD", 3.79),
    (9, 3, 3, 5, None, "SUS", None), (9, 4, 4, 0, 5, "D", None), (9, 5, None, 0, 4, "DE", None),
    (12, 0, 0, 0, 6, "E", None), (12, 0, 0, 7, None, "SUS", None), (12, 1, 1, 0, 6, "E", None),
    (12, 1, 1, 7, None, "SUS", None), (12, 2, 2, 0, 3, "E", None), (12, 2, 2, 4, 4, "ES", 1.33),
    (12, 2, 2, 5, 5, "ES", 2.72), (12, 2, 2, 6, 6, "ES", 4.11), (12, 2, 2, 7, None, "SUS", None),
    (12, 3, 3, 0, 6, "S", None), (12, 3, 3, 7, None, "SUS", None), (12, 4, 4, 0, 0, "S", None),
    (12, 4, 4, 1, 1, "SD", 0.43), (12, 4, 4, 2, 2, "SD", 1.50), (12, 4, 4, 3, 3, "SD", 2.57),
    (12, 4, 4, 4, 4, "SD", 3.65), (12, 4, 4, 5, 5, "SD", 4.72), (12, 4, 4, 6, 6, "SD", 5.79),
    (12, 4, 4, 7, None, "SUS", None), (12, 5, 6, 0, 7, "D", None), (12, 7, None, 0, 5, "DE", None),
    (15, 0, 0, 0, 7, "E", None), (15, 0, 0, 8, None, "SUS", None), (15, 1, 1, 0, 7, "E", None),
    (15, 1, 1, 8, None, "SUS", None), (15, 2, 2, 0, 5, "E", None), (15, 2, 2, 6, 6, "ES", 0.35),
    (15, 2, 2, 7, 7, "ES", 2.07), (15, 2, 2, 8, None, "SUS", None), (15, 3, 3, 0, 1, "E", None),
    (15, 3, 3, 2, 2, "ES", 0.11), (15, 3, 3, 3, 3, "ES", 1.29), (15, 3, 3, 4, 4, "ES", 2.46),
    (15, 3, 3, 5, 5, "ES", 3.64), (15, 3, 3, 6, 6, "ES", 4.81), (15, 3, 3, 7, 7, "ES", 5.98),
    (15, 3, 3, 8, None, "SUS", None), (15, 4, 4, 0, 7, "S", None), (15, 4, 4, 8, None, "SUS", None),
    (15, 5, 5, 0, 0, "S", None), (15, 5, 5, 1, 1, "SD", 0.28), (15, 5, 5, 2, 2, "SD", 1.35),
    (15, 5, 5, 3, 3, "SD", 2.42), (15, 5, 5, 4, 4, "SD", 3.50), (15, 5, 5, 5, 5, "SD", 4.57),
    (15, 5, 5, 6, 6, "SD", 5.64), (15, 5, 5, 7, 7, "SD", 6.72), (15, 5, 5, 8, None, "SUS", None),
    (15, 6, 7, 0, 9, "D", None), (15, 8, None, 0, 7, "DE", None),
]
STATES_PER_TABLE = 10 + 28 + 55 + 91 + 136  # (n + 1)(n + 2)/2 states (DLTs, pending) for n = 3, ..., 15
PROBE = 0.006  # half a rounding step (0.005) plus a margin, either side of a published boundary
D = 1  # the current dose: the middle of three, so that escalation and de-escalation both show


def expand(rows):
    """One (n, y, c, decision, boundary) per state the rows cover."""
    out = []
    for n, y_lo, y_hi, c_lo, c_hi, code, bound in rows:
        for y in range(y_lo, (n if y_hi is None else y_hi) + 1):
            top = n - y if c_hi is None else min(c_hi, n - y)
            out += [(n, y, c, code, bound) for c in range(c_lo, top + 1)]
    return out


def decide(phi, n, y, c, stft):
    """(action, rules) of TITE-BOIN at dose D of three with the data only at D."""
    rules = TITEBOIN(3, D, 3, 100, phi)
    at = lambda v: np.array([0, v, 0], dtype=float)  # noqa: E731
    return rules.decide_pending(D, at(n), at(y), at(c), at(stft)), rules


def outcome(phi, n, y, c, stft):
    action, rules = decide(phi, n, y, c, stft)
    if action.suspend:
        return "SUS"
    code = {D + 1: "E", D: "S", D - 1: "D"}[action.dose]
    return "DE" if rules.eliminated == D else code


def probes(code, bound, c):
    """(STFT, expected decision) pairs for a table cell; STFT lies in [0, c) (pending: under a window each)."""
    if bound is None:
        return [(s, code) for s in (0.0, c / 2, max(c - 1e-9, 0.0))]
    low, high = ("S", "E") if code == "ES" else ("D", "S")
    pairs = [(bound - PROBE, low), (bound + PROBE, high)]
    return [(s, want) for s, want in pairs if 0 <= s < c]


@pytest.mark.parametrize("phi, rows", [(0.2, PHI_02), (0.3, PHI_03)], ids=["Table 1", "Table S1"])
def test_tite_boin_reproduces_the_published_decision_table(phi, rows):
    states = expand(rows)
    assert len(states) == STATES_PER_TABLE == len({s[:3] for s in states})  # every state, once
    assert sum(b is not None for *_, b in states) == (17 if phi == 0.2 else 38)  # boundary cells
    wrong = [(n, y, c, round(s, 3), want, got)
             for n, y, c, code, bound in states for s, want in probes(code, bound, c)
             if (got := outcome(phi, n, y, c, s)) != want]
    assert wrong == []


def test_elimination_counts_pending_patients_as_treated_without_dlt():
    """phi = 0.2, 3 treated, 2 DLTs, 1 pending: Table 1 says de-escalate and eliminate.

    P(p > 0.2 | 2 of 3, Beta(1, 1)) = 0.973 > 0.95; with only the 2 complete patients the rule
    (n >= 3) would not apply.  9 treated, 3 DLTs, 6 pending: P(p > 0.2 | 3 of 9) = 0.879, only
    de-escalate (with the 3 complete alone it would be 0.998 and eliminate).
    """
    assert outcome(0.2, 3, 2, 1, 0.5) == "DE"
    assert outcome(0.2, 9, 3, 6, 3.0) == "D"


def test_a_sure_de_escalation_is_not_suspended():
    """y/n >= lambda_d de-escalates whatever the pending outcomes, before the 50% suspension rule."""
    assert outcome(0.2, 3, 1, 2, 0.1) == "D"  # 1/3 >= 0.238 with 2 of 3 pending
    assert outcome(0.3, 3, 1, 2, 0.1) == "SUS"  # 1/3 < 0.359: the pending decide, so wait


def test_a_late_dlt_below_the_current_dose_moves_the_trial_under_it():
    """Elimination is checked at every dose: a dose eliminated below the current one sends the next
    patient to the highest dose left (3 of 3 at the lowest of three eliminates all, stopping)."""
    rules = TITEBOIN(3, 2, 3, 100, 0.3)
    n, y = np.array([6, 3, 3]), np.array([4, 0, 0])  # P(p > 0.3 | 4 of 6) = 0.96 at dose 0
    stop = rules.decide_pending(2, n, y, np.array([0, 0, 3]), np.array([0, 0, 1.0]))
    assert stop.stops and stop.reason == "lowest dose eliminated"
    rules = TITEBOIN(3, 2, 3, 100, 0.3)
    n, y = np.array([3, 6, 3]), np.array([0, 4, 0])
    move = rules.decide_pending(2, n, y, np.array([0, 0, 3]), np.array([0, 0, 1.0]))
    assert move.dose == 0 and rules.eliminated == 1
