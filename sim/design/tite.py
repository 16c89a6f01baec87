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
  under a uniform time to DLT, which gives p^_j = [y_j + p~_j / (1 - p~_j) (c_j - STFT_j)] / n_j.
  BOIN's rules then act on p^_j; equivalently escalation needs STFT_j >= c_j - (1 - p~_j)/p~_j
  (n_j lambda_e - y_j), the published decision table's STFT thresholds.
- Estimate (``ess``, Lin R, Yuan Y, Biostatistics 2020;21:807-824): the effective sample size
  n_j - c_j + STFT_j and p^_j = y_j / (n_j - c_j + STFT_j).
- Accrual suspension: while more than half the patients at the current dose are pending
  (c_j / n_j > ``max_pending_fraction``, 0.5 in the paper), the next patient waits.
- Elimination uses the patients with complete data (y_j of n_j - c_j), as BOIN's rule; at the
  maximum sample size, accrual stops and the MTD is selected once every window is complete.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.design.boin import BOIN, Action, too_toxic


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
    p_tilde = (y + target / 2) / (n - c + 1)
    p_tilde = min(p_tilde, 1 - 1e-12)
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
        if n[d] == 0:
            return Action(d, self.cohort_size)
        if c[d] / n[d] > self.max_pending_fraction:
            return Action(None, suspend=True, reason="accrual suspended: too many pending")
        complete = n - c
        if too_toxic(y[d], complete[d], self.target, self.cutoff):
            self.eliminated = min(self.eliminated, d)
            if d == 0:
                return Action(None, reason="lowest dose eliminated")
        rate = self.rate(y[d], n[d], c[d], stft[d])
        step = self._step(d, rate)
        if self.early_stop is not None and n[d] >= self.early_stop and step == 0:
            return Action(None, reason="early stop: n.earlystop reached")
        return Action(d + step, min(self.cohort_size, self.max_sample_size - int(n.sum())))

    def rate(self, y: float, n: float, c: float, stft: float) -> float:
        """The estimated DLT rate at a dose (plain y/n when nothing is pending)."""
        if c == 0:
            return y / n
        if self.estimator == "ess":
            return ess_rate(y, n, c, stft)
        return imputed_rate(y, n, c, stft, self.target)
