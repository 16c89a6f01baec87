"""Exact operating characteristics of the 3+3 design for true DLT rates, in closed form.

For dose j with true DLT rate p_j (Lin Y, Shih WJ.  Statistical properties of the traditional
algorithm-based designs for phase I cancer clinical trials.  Biostatistics 2001;2:203-215):
P0_j = (1 - p_j)^3 (0 of 3), P1_j = 3 p_j (1 - p_j)^2 (1 of 3), and the dose is passed with
E_j = P0_j + P1_j (1 - p_j)^3 (0 of 3, or 1 of 3 then 0 of the next 3).  The trial starting at
the lowest dose stops at dose s with probability E_1 ... E_{s-1} (1 - E_s), when dose s - 1 is
the MTD, and passes every dose with probability E_1 ... E_K, selecting the highest.

With the MTD expanded to 6 patients, each passed dose holds 3 patients without a DLT (chance
P0_j / E_j given it was passed) or 6 with one; a candidate with 3 is expanded and kept when at
most 1 of 6 has a DLT (chance R_j = P(Binomial(3, p_j) <= 1)), otherwise the dose below is the
candidate.  Both are written out below independently of the simulated rules in
:mod:`sim.design.rules_33`, which the tests compare with them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ExactOC:
    """Exact operating characteristics per dose: chance of selection, expected patients and DLTs."""

    select: np.ndarray
    select_none: float
    patients: np.ndarray
    dlts: np.ndarray


def three_plus_three(p: np.ndarray, expand_mtd: bool = False) -> ExactOC:
    """The exact 3+3 operating characteristics for true DLT rates ``p`` (start at the lowest dose).

    Parameters
    ----------
    p : array_like
        True DLT rate of each dose, in escalation order.
    expand_mtd : bool
        The variant in which the MTD must have 6 patients.

    Returns
    -------
    ExactOC
    """
    p = np.asarray(p, float)
    k = len(p)
    p0, p1, none3 = (1 - p) ** 3, 3 * p * (1 - p) ** 2, (1 - p) ** 3
    passed = p0 + p1 * none3
    reach = np.concatenate([[1.0], np.cumprod(passed)])  # reach[j]: chance of treating dose j
    stop_at = reach[:k] * (1 - passed)  # trial stops at dose j
    patients = reach[:k] * (3 + 3 * p1)
    dlts = reach[:k] * (3 * p + 3 * p * p1)
    if not expand_mtd:
        select = np.append(stop_at[1:], reach[k])
        return ExactOC(select, float(stop_at[0]), patients, dlts)
    return _expanded(p, p0, passed, reach, stop_at, patients, dlts)


def _expanded(p, p0, passed, reach, stop_at, patients, dlts) -> ExactOC:
    """The MTD-expansion variant: from each stopping point, walk down the candidates."""
    k = len(p)
    only3 = np.divide(p0, passed, out=np.zeros(k), where=passed > 0)  # 3 patients, given passed
    keep = (1 - p) ** 3 + 3 * p * (1 - p) ** 2  # at most 1 DLT among 3 more (the first 3 had none)
    expected_dlts_added = 3 * p  # the 3 added patients' expected DLTs
    select, none = np.zeros(k), float(stop_at[0])
    patients, dlts = patients.copy(), dlts.copy()
    endings = [(s, stop_at[s]) for s in range(1, k)] + [(k, reach[k])]
    for s, chance in endings:  # candidate s - 1 first
        at = chance
        for m in range(s - 1, -1, -1):
            expanded = at * only3[m]
            select[m] += at * (1 - only3[m]) + expanded * keep[m]
            patients[m] += 3 * expanded
            dlts[m] += expanded * expected_dlts_added[m]
            at = expanded * (1 - keep[m])
        none += at
    return ExactOC(select, none, patients, dlts)
