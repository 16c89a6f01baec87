"""The time-to-event BOIN design (TITE-BOIN) for DLTs that take a while to show.

Yuan Y, Lin R, Li D, Nie L, Warren KE.  Time-to-event Bayesian optimal interval design to
accelerate phase I trials.  Clin Cancer Res 2018;24:4921-4930.  New patients are dosed while
earlier ones are still inside their DLT window.  At a decision, dose j has n_j patients treated,
y_j with a DLT observed, and c_j pending (no DLT yet, window not complete), pending patient i
followed for u_i of the window T.  The standardized total follow-up time of the pending is
STFT_j = sum_i u_i / T.

- Estimate (``imputation``, the paper's single mean imputation): with the prior Beta(phi/2,
  1 - phi/2), the posterior mean from the patients with complete data is
  p~_j = (y_j + phi/2) / (n_j - c_j + 1); each pending outcome is imputed by its expected value
  under a uniform time to DLT, which gives p^_j = [y_j + p~_j / (1 - p~_j) (c_j - STFT_j)] / n_j,
  equivalently the published decision table's STFT thresholds.  As in the table, escalation is
  possible only while y_j / n_j < phi (then: escalate if p^_j <= lambda_e, else stay) and
  de-escalation only once y_j / n_j >= phi (then: de-escalate if p^_j >= lambda_d, else stay).
- Estimate (``ess``, Lin R, Yuan Y, Biostatistics 2020;21:807-824): the effective sample size
  n_j - c_j + STFT_j and p^_j = y_j / (n_j - c_j + STFT_j), compared with both boundaries.
- Order of the rules: elimination; de-escalation when y_j / n_j >= lambda_d (whatever the pending
  outcomes, so never suspended); accrual suspension while more than half the patients at the
  current dose are pending (c_j / n_j > ``max_pending_fraction``, 0.5 in the paper); then the
  estimate.  With nobody pending the rules are BOIN's.
- Elimination counts every patient treated, the pending ones as without DLT (y_j of n_j,
  n_j >= 3), at every dose (a late DLT can eliminate a dose below the current one); the trial
  then moves to the highest dose not eliminated.  At the maximum sample size accrual stops and
  the MTD is selected by BOIN's isotonic rule once every window is complete.

The published decision tables (Yuan et al. 2018, Table 1 for phi = 0.2, Table S1 for phi = 0.3)
follow from these rules; ``tests/design/test_tite_table.py`` checks them entry by entry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.design.boin import BOIN, Action, eliminated_from

RATE_TOL = 1e-12  # y/n equal to phi counts as "at the target" despite rounding


def imputed_rate(y: float, n: float, c: float, stft: float, target: float) -> float:
    """TITE-BOIN's estimate of the DLT rate by single mean imputation of the pending outcomes.

    Parameters
    ----------
    y, n, c : float
        DLTs observed, patients treated, patients pending at the dose.
    stft : float
        Standardized total follow-up time of the pending patients.
    target : float
        The target DLT rate phi (the prior is Beta(phi/2, 1 - phi/2)).
    """
    p_tilde = (y + target / 2) / (n - c + 1)  # < 1 since y <= n - c
    return (y + p_tilde / (1 - p_tilde) * (c - stft)) / n


def ess_rate(y: float, n: float, c: float, stft: float) -> float:
    """The effective-sample-size estimate y / (n - c + STFT) of Lin and Yuan (2020)."""
    ess = n - c + stft
    return y / ess if ess > 0 else 0.0


@dataclass
class TITEBOIN(BOIN):
    """BOIN's rules on TITE-BOIN's estimate, with accrual suspension."""

    max_pending_fraction: float = 0.5
    estimator: str = "imputation"

    def decide_pending(self, d: int, n: np.ndarray, y: np.ndarray, c: np.ndarray, stft: np.ndarray) -> Action:
        """The next dose for a new patient given the data now, pending patients included.

        Parameters
        ----------
        d : int
            The current dose.
        n, y, c, stft : numpy.ndarray
            Per dose: patients treated, DLTs observed, patients pending, their STFT.
        """
        self.eliminated = min(self.eliminated, eliminated_from(n, y, self.target, self.cutoff))
        if self.eliminated == 0:
            return Action(None, reason="lowest dose eliminated")
        if d >= self.eliminated:
            return self._next(self.eliminated - 1, n)
        if n[d] == 0:
            return Action(d, self.cohort_size)
        step = self.step_pending(d, int(n[d]), int(y[d]), int(c[d]), float(stft[d]))
        if step is None:
            return Action(None, suspend=True, reason="accrual suspended: too many pending")
        if self.early_stop is not None and n[d] >= self.early_stop and step == 0:
            return Action(None, reason="early stop: n.earlystop reached")
        return self._next(d + step, n)

    def _next(self, dose: int, n: np.ndarray) -> Action:
        return Action(dose, min(self.cohort_size, self.max_sample_size - int(n.sum())))

    def suspends(self, d: int, n: np.ndarray, y: np.ndarray, c: np.ndarray, stft: np.ndarray) -> bool:
        """Whether accrual at dose ``d`` is suspended on these data (no side effects)."""
        if n[d] == 0 or d >= min(self.eliminated, eliminated_from(n, y, self.target, self.cutoff)):
            return False
        return self.step_pending(d, int(n[d]), int(y[d]), int(c[d]), float(stft[d])) is None

    def step_pending(self, d: int, n: int, y: int, c: int, stft: float) -> int | None:
        """+1, 0 or -1 at dose ``d`` (not eliminated) with n treated, y DLTs, c pending; None: suspend."""
        if c == 0:
            return self._step(d, y / n)
        if y / n >= self.lam_d:  # de-escalate whatever the pending outcomes
            return -1 if d > 0 else 0
        if c / n > self.max_pending_fraction:
            return None
        rate = self.rate(y, n, c, stft)
        if self.estimator == "ess":
            return self._step(d, rate)
        if y / n < self.target - RATE_TOL:  # escalate or stay
            return self._step(d, rate) if rate <= self.lam_e else 0
        return -1 if rate >= self.lam_d and d > 0 else 0  # stay or de-escalate

    def rate(self, y: float, n: float, c: float, stft: float) -> float:
        """The estimated DLT rate at a dose (plain y/n when nothing is pending)."""
        if c == 0:
            return y / n
        if self.estimator == "ess":
            return ess_rate(y, n, c, stft)
        return imputed_rate(y, n, c, stft, self.target)
