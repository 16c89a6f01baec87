"""The Bayesian optimal interval (BOIN) design.

Liu S, Yuan Y. Bayesian optimal interval designs for phase I clinical trials.  J R Stat Soc Ser C
2015;64:507-523, as implemented in the BOIN R package (``get.boundary``, ``get.oc``,
``select.mtd``; Yan F, Pan H, Zhang L, Liu S, Yuan Y. J Stat Softw 2020;94(13)):

- escalate when the observed DLT rate at the current dose is <= lambda_e, de-escalate when it is
  >= lambda_d, else stay; lambda_e and lambda_d minimise the chance of a wrong decision between
  phi1 = 0.6 phi (too low) and phi2 = 1.4 phi (too toxic) (:func:`boundaries`);
- elimination: once n >= 3 at a dose and P(p > phi | y, n) > 0.95 under a Beta(1, 1) prior, that
  dose and every higher dose are eliminated; eliminating the lowest dose stops the trial with no
  dose selected; escalation never enters an eliminated dose;
- optional early stop (the package's ``n.earlystop``): stop when the current dose has that many
  patients and the decision would keep the trial there;
- the trial ends at the maximum sample size; the MTD is selected by isotonic regression
  (:func:`select_mtd`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy.stats import beta

P_SAFE, P_TOXIC = 0.6, 1.4  # phi1 = 0.6 phi and phi2 = 1.4 phi, the published defaults
PRIOR_SELECT = 0.05  # select.mtd's Beta(0.05, 0.05) prior for the isotonic estimates
TIE_STEP = 1e-10  # select.mtd's tie-breaking increment, increasing with dose
MIN_TO_ELIMINATE = 3


@dataclass(frozen=True)
class Action:
    """What the design does next: treat ``slots`` patients at ``dose``, or stop (``dose`` None).

    ``suspend`` (TITE-BOIN) holds the next patient until more follow-up is in.  ``selected`` is
    the final choice when stopping (None: no dose selected).
    """

    dose: int | None
    slots: int = 0
    suspend: bool = False
    selected: int | None = None
    reason: str = ""

    @property
    def stops(self) -> bool:
        return self.dose is None and not self.suspend


def boundaries(target: float) -> tuple[float, float]:
    """(lambda_e, lambda_d) of BOIN for target ``phi`` with phi1 = 0.6 phi and phi2 = 1.4 phi.

    Parameters
    ----------
    target : float
        The target DLT rate phi.

    Returns
    -------
    tuple of float
        lambda_e = log((1 - phi1)/(1 - phi)) / log(phi (1 - phi1) / (phi1 (1 - phi))) and
        lambda_d = log((1 - phi)/(1 - phi2)) / log(phi2 (1 - phi) / (phi (1 - phi2))).
    """
    p1, p2 = P_SAFE * target, P_TOXIC * target
    lam_e = math.log((1 - p1) / (1 - target)) / math.log(target * (1 - p1) / (p1 * (1 - target)))
    lam_d = math.log((1 - target) / (1 - p2)) / math.log(p2 * (1 - target) / (target * (1 - p2)))
    return lam_e, lam_d


def too_toxic(y: float, n: float, target: float, cutoff: float) -> bool:
    """The elimination rule: n >= 3 and P(p > target | y of n) > cutoff under Beta(1, 1)."""
    return n >= MIN_TO_ELIMINATE and _exceeds(int(y), int(n), float(target)) > cutoff


@lru_cache(maxsize=65536)
def _exceeds(y: int, n: int, target: float) -> float:
    """P(p > target | y DLTs of n) under a Beta(1, 1) prior (cached: counts repeat across trials)."""
    return float(beta.sf(target, y + 1, n - y + 1))


def pava(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted isotonic (non-decreasing) regression by pool-adjacent-violators.

    Parameters
    ----------
    x, w : numpy.ndarray
        Values and positive weights, in dose order.

    Returns
    -------
    numpy.ndarray
        The weighted least-squares non-decreasing fit.
    """
    blocks: list[list[float]] = []  # [mean, weight, count]
    for xi, wi in zip(np.asarray(x, float), np.asarray(w, float)):
        blocks.append([xi, wi, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, c2 = blocks.pop()
            m1, w1, c1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    return np.concatenate([np.full(c, m) for m, _, c in blocks]) if blocks else np.array([])


def eliminated_from(n: np.ndarray, y: np.ndarray, target: float, cutoff: float) -> int:
    """The lowest dose meeting the elimination rule (doses from it up are out); len(n) if none."""
    for j in range(len(n)):
        if too_toxic(y[j], n[j], target, cutoff):
            return j
    return len(n)


def select_mtd(n: np.ndarray, y: np.ndarray, target: float, cutoff: float = 0.95) -> int | None:
    """The MTD at the end of a BOIN trial, as the BOIN package's ``select.mtd``.

    Among doses tried and not eliminated, the isotonic estimates (PAVA on the posterior means
    (y + 0.05)/(n + 0.1), weighted by their inverse posterior variances) pick the dose closest
    to the target; ties go to the higher dose when the estimate is below the target and to the
    lower dose when above (an increasing 1e-10 added per dose breaks them).

    Returns
    -------
    int or None
        The selected dose index, or None when the lowest dose is eliminated or nothing was tried.
    """
    n, y = np.asarray(n, float), np.asarray(y, float)
    first_out = eliminated_from(n, y, target, cutoff)
    tried = np.flatnonzero((n > 0) & (np.arange(len(n)) < first_out))
    if first_out == 0 or len(tried) == 0:
        return None
    nt, yt = n[tried], y[tried]
    phat = (yt + PRIOR_SELECT) / (nt + 2 * PRIOR_SELECT)
    var = (yt + PRIOR_SELECT) * (nt - yt + PRIOR_SELECT) / ((nt + 2 * PRIOR_SELECT) ** 2 * (nt + 2 * PRIOR_SELECT + 1))
    iso = pava(phat, 1 / var) + TIE_STEP * np.arange(1, len(tried) + 1)
    return int(tried[np.argmin(np.abs(iso - target))])


@dataclass
class BOIN:
    """BOIN's rules for one trial: the next cohort from the data at each decision.

    Parameters
    ----------
    n_levels, start, cohort_size, max_sample_size : int
        Dose levels, starting dose index, cohort size and maximum sample size.
    target, cutoff : float
        Target DLT rate and elimination cutoff (0.95).
    early_stop : int or None
        ``n.earlystop`` (None: off).
    """

    n_levels: int
    start: int
    cohort_size: int
    max_sample_size: int
    target: float
    cutoff: float = 0.95
    early_stop: int | None = None
    eliminated: int = field(init=False)  # doses from this index up are eliminated

    def __post_init__(self) -> None:
        self.eliminated = self.n_levels
        self.lam_e, self.lam_d = boundaries(self.target)

    def first(self) -> Action:
        return Action(self.start, self.cohort_size)

    def decide(self, d: int, n: np.ndarray, y: np.ndarray, used: int | None = None) -> Action:
        """The next action after a cohort at dose ``d`` given the data ``n``, ``y`` per dose.

        ``used`` counts the slots used so far towards the maximum sample size (default: the
        patients treated, ``n.sum()``; without replacement, non-evaluable patients use slots too).
        """
        used = int(n.sum()) if used is None else used
        if used >= self.max_sample_size:
            return self._stop(n, y, "maximum sample size")
        if too_toxic(y[d], n[d], self.target, self.cutoff):
            self.eliminated = min(self.eliminated, d)
            if d == 0:
                return Action(None, reason="lowest dose eliminated")
        step = self._step(d, y[d] / n[d])
        if self.early_stop is not None and n[d] >= self.early_stop and step == 0:
            return self._stop(n, y, "early stop: n.earlystop reached")
        nxt = d + step
        return Action(nxt, min(self.cohort_size, self.max_sample_size - used))

    def _step(self, d: int, rate: float) -> int:
        """+1 escalate, -1 de-escalate, 0 stay (including an escalation the design cannot make)."""
        if d >= self.eliminated:
            return -1
        if rate <= self.lam_e:
            return 1 if d + 1 < min(self.n_levels, self.eliminated) else 0
        if rate >= self.lam_d:
            return -1 if d > 0 else 0
        return 0

    def _stop(self, n, y, reason: str) -> Action:
        return Action(None, selected=self.select(n, y), reason=reason)

    def select(self, n: np.ndarray, y: np.ndarray) -> int | None:
        return select_mtd(n, y, self.target, self.cutoff)
