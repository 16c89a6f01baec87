"""The uncertain inputs of the synthesis' likelihood that are sampled with the levels, under their stated priors.

Such an input is a *nuisance* parameter: the fit is not about it, but its likelihood depends on it.  Only
the inputs the likelihood depends on smoothly are sampled (the gradient sampler needs a smooth log
posterior):

- every cause's band shape (``late.<cause>_shape_k``, k = 2..5): a hazard is level x shape, so every
  chance is smooth in it;
- the patient factors (``late.relapse_hazard_ratio_mrd_pos``, ``late.infection_hr_cytopenia_g34``,
  ``late.infection_hr_early_infection``): multipliers of a patient's hazard, smooth in the same way.

Held at their base values, and why:

- the band starts (``late.band_k_start_days``): moving a band start moves a knot of the piecewise-constant
  hazard.  The chance is continuous in it, but its derivative jumps wherever the start crosses a window's
  end, a transplant day or a series' follow-up day (a series followed a median of 12 months ends inside
  band 4's start range, 300-430 days): a log posterior with kinks, which a central-difference gradient
  straddles with an error of the jump's size;

The data cut-off (``accrual.cutoff_after_last_enrolment_days``) is not sampled either (it decides which
simulated patients are assessed, a step a gradient sampler cannot follow), but it is not held: each virtual
trial of a shipped trial is cut where it reports the paper's median follow-up
(:func:`sim.analyses.calibration.late_windows`), so the likelihood conditions on the figure that informs
the cut-off rather than on one value of it.

Each parameter is sampled on an unconstrained scale: the log of one whose distribution lives on (0, inf)
(lognormal, gamma), the logit of its position in a bounded support (uniform, triangular).  Its log prior
is the log density of its params-file distribution plus the log-Jacobian of the transform: x for
value = exp(x); log(width) + log s + log(1 - s) for value = low + width s, s = expit(x).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import expit, logit

from sim.inputs.params import Entry, Params
from sim.inputs.schema import LATE_BANDS, LATE_HAZARD_NAMES

FACTORS = ("late.relapse_hazard_ratio_mrd_pos", "late.infection_hr_cytopenia_g34", "late.infection_hr_early_infection")


def shape_paths(cause: str) -> list[str]:
    """The params paths of a cause's relative level in bands 2..K."""
    return [f"late.{LATE_HAZARD_NAMES[cause]}_shape_{k}" for k in range(2, LATE_BANDS + 1)]


def smooth_paths() -> list[str]:
    """Every input the late chances depend on smoothly, besides the levels: the band shapes, then the patient factors."""
    return [p for c in LATE_HAZARD_NAMES for p in shape_paths(c)] + list(FACTORS)


@dataclass(frozen=True)
class Nuisance:
    """One sampled parameter: its params path, base value and prior (a frozen scipy distribution), and the
    prior as its params file states it (``lognormal[1.0, 0.3]``)."""

    path: str
    base: float
    prior: Any
    stated: str = ""

    @property
    def bounds(self) -> tuple[float, float]:
        low, high = self.prior.support()
        return float(low), float(high)

    @property
    def transform(self) -> str:
        """``log`` on (0, inf), ``logit`` on a bounded support."""
        low, high = self.bounds
        if low == 0 and np.isinf(high):
            return "log"
        if np.isfinite(low) and np.isfinite(high):
            return "logit"
        raise ValueError(f"{self.path}: no unconstrained scale for the support ({low}, {high})")

    def unconstrained(self, value: float) -> float:
        """``value`` on the sampled scale."""
        if self.transform == "log":
            return float(np.log(value))
        low, high = self.bounds
        return float(logit((value - low) / (high - low)))


def stated_entry(entry: Entry) -> Entry:
    """An entry as stated before any fit: one that an earlier synthesis calibrated (it keeps a ``prior``) becomes
    that prior as its uncertainty and the prior's median as its value (a base value is the median of its
    uncertainty); any other entry is itself."""
    if entry.prior is None:
        return entry
    return dataclasses.replace(entry, value=float(entry.prior.ppf(0.5)), source="assumption",
                               uncertainty=entry.prior, prior=None)


def as_stated(params: Params) -> Params:
    """``params`` with every entry as stated before any fit (:func:`stated_entry`).  A fit reads its inputs
    through this, so what it gives never depends on what an earlier ``--write-shipped`` wrote (the entries'
    posterior medians)."""
    stated = {path: stated_entry(e) for path, e in params.entries.items() if e.prior is not None}
    return dataclasses.replace(params, entries=params.entries | stated) if stated else params


def nuisance_of(params: Params, path: str) -> Nuisance | None:
    """The params entry at ``path`` as a sampled parameter, or None if it has no uncertainty (it stays fixed):
    as stated (:func:`stated_entry`), so its prior and start are never an earlier synthesis' posterior, which a
    new fit must not use as its prior again."""
    entry = params.entries.get(path)
    stated = stated_entry(entry) if entry is not None else None
    if stated is None or stated.uncertainty is None:
        return None
    return Nuisance(path, float(stated.value), stated.uncertainty.dist, repr(stated.uncertainty))


def smooth_nuisance(params: Params) -> list[Nuisance]:
    """The smooth inputs (:func:`smooth_paths`) that ``params`` states with an uncertainty."""
    return [m for m in (nuisance_of(params, p) for p in smooth_paths()) if m is not None]


class NuisanceSet:
    """Parameters sampled together: their values and log prior from unconstrained rows (rows, len(set))."""

    def __init__(self, members: list[Nuisance]) -> None:
        self.members = list(members)
        self.log_columns = np.array([m.transform == "log" for m in self.members], dtype=bool)
        bounds = np.array([m.bounds if m.transform == "logit" else (0.0, 1.0) for m in self.members]).reshape(-1, 2)
        self.low, self.width = bounds[:, 0], bounds[:, 1] - bounds[:, 0]
        self.families = _families(self.members)

    def __len__(self) -> int:
        return len(self.members)

    @property
    def paths(self) -> list[str]:
        return [m.path for m in self.members]

    def values(self, x: np.ndarray) -> np.ndarray:
        """Natural-scale values of unconstrained rows, (rows, parameters)."""
        with np.errstate(over="ignore"):
            return np.where(self.log_columns, np.exp(x), self.low + self.width * expit(x))

    def log_prior(self, x: np.ndarray) -> np.ndarray:
        """The log prior density of each unconstrained row: the natural-scale density plus the log-Jacobian."""
        values = self.values(x)
        total = np.zeros(x.shape[0])
        for family, columns, args, kwds in self.families:
            total = total + family.logpdf(values[:, columns], *args, **kwds).sum(axis=1)
        log_slope = np.log(self.width) - np.logaddexp(0.0, x) - np.logaddexp(0.0, -x)  # d value / dx = width s (1 - s)
        return total + np.where(self.log_columns, x, log_slope).sum(axis=1)

    def start(self) -> np.ndarray:
        """The base values on the unconstrained scale."""
        return np.array([m.unconstrained(m.base) for m in self.members])


def _families(members: list[Nuisance]) -> list[tuple]:
    """The members grouped by scipy family and argument layout: (family, columns, args, kwds), each argument an
    array over the group's columns, so one call gives the group's densities."""
    groups: dict = {}
    for i, m in enumerate(members):
        groups.setdefault((m.prior.dist.name, len(m.prior.args), tuple(sorted(m.prior.kwds))), []).append(i)
    out = []
    for (_, n_args, keys), columns in groups.items():
        args = tuple(np.array([members[i].prior.args[a] for i in columns], dtype=float) for a in range(n_args))
        kwds = {k: np.array([members[i].prior.kwds[k] for i in columns], dtype=float) for k in keys}
        out.append((members[columns[0]].prior.dist, np.array(columns), args, kwds))
    return out
