"""Uncertainty distributions of parameters, written in params files as one-key tables.

``{ beta = [k, n] }`` is a proportion of k in n with a Jeffreys prior, Beta(k + 1/2, n - k + 1/2);
``{ gamma = [events, exposure_days] }`` is a rate from events over exposure, also with a Jeffreys
prior, Gamma(events + 1/2, scale = 1 / exposure); ``{ dirichlet = {category = count, ...} }`` a split
of counts, Dirichlet(counts + 1/2).  The rest are stated directly: ``beta_ab = [a, b]``,
``uniform = [low, high]``, ``triangular = [low, mode, high]``, ``lognormal = [median, sigma]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from scipy import stats

from sim.errors import InputError

JEFFREYS = 0.5


@dataclass(frozen=True)
class Uncertainty:
    """A scalar parameter's uncertainty: a frozen scipy distribution and how it was written."""

    kind: str
    args: tuple[float, ...]
    dist: Any

    def __repr__(self) -> str:
        return f"{self.kind}{list(self.args)}"

    def sample(self, rng: np.random.Generator) -> float:
        return float(self.dist.rvs(random_state=rng))

    def ppf(self, q: float) -> float:
        return float(self.dist.ppf(q))

    def contains(self, value: float) -> bool:
        low, high = self.dist.support()
        return bool(low <= value <= high)


@dataclass(frozen=True)
class DirichletUncertainty:
    """Uncertainty of category weights: Dirichlet(counts + 1/2), over named categories."""

    counts: dict[str, float]

    def __repr__(self) -> str:
        return f"dirichlet{self.counts}"

    @cached_property
    def alpha(self) -> np.ndarray:
        alpha = np.array(list(self.counts.values()), dtype=float) + JEFFREYS
        alpha.flags.writeable = False
        return alpha

    def sample(self, rng: np.random.Generator) -> dict[str, float]:
        return dict(zip(self.counts, rng.dirichlet(self.alpha).tolist()))


def _beta_counts(k: float, n: float):
    if not 0 <= k <= n:
        raise ValueError("needs 0 <= k <= n")
    return stats.beta(k + JEFFREYS, n - k + JEFFREYS)


def _gamma_counts(events: float, exposure: float):
    if events < 0 or exposure <= 0:
        raise ValueError("needs events >= 0 and exposure > 0")
    return stats.gamma(events + JEFFREYS, scale=1.0 / exposure)


def _beta_ab(a: float, b: float):
    if a <= 0 or b <= 0:
        raise ValueError("needs a > 0 and b > 0")
    return stats.beta(a, b)


def _uniform(low: float, high: float):
    if not low < high:
        raise ValueError("needs low < high")
    return stats.uniform(low, high - low)


def _triangular(low: float, mode: float, high: float):
    if not low <= mode <= high or low == high:
        raise ValueError("needs low <= mode <= high and low < high")
    return stats.triang((mode - low) / (high - low), loc=low, scale=high - low)


def _lognormal(median: float, sigma: float):
    if median <= 0 or sigma <= 0:
        raise ValueError("needs median > 0 and sigma > 0")
    return stats.lognorm(sigma, scale=median)


SCALAR_KINDS = {
    "beta": (2, _beta_counts),
    "gamma": (2, _gamma_counts),
    "beta_ab": (2, _beta_ab),
    "uniform": (2, _uniform),
    "triangular": (3, _triangular),
    "lognormal": (2, _lognormal),
}


def parse_scalar(spec: Any, source: str, key: str) -> Uncertainty:
    """Read ``{ kind = [numbers] }`` into an :class:`Uncertainty`, or raise InputError."""
    if not isinstance(spec, dict) or len(spec) != 1:
        raise InputError(source, key, f"must be a table with one of {sorted(SCALAR_KINDS)}")
    (kind, args), = spec.items()
    if not isinstance(kind, str) or kind not in SCALAR_KINDS:
        raise InputError(source, key, f"unknown distribution '{kind}' (expected one of {sorted(SCALAR_KINDS)})")
    n_args, build = SCALAR_KINDS[kind]
    if not isinstance(args, list) or len(args) != n_args or not all(_is_number(a) and math.isfinite(a) for a in args):
        raise InputError(source, f"{key}.{kind}", f"must be a list of {n_args} finite numbers, got {args!r}")
    try:
        dist = build(*map(float, args))
    except ValueError as err:
        raise InputError(source, f"{key}.{kind}", f"{args} is invalid: {err}") from None
    with np.errstate(all="ignore"):
        finite = all(math.isfinite(float(dist.ppf(q))) for q in (0.025, 0.5, 0.975))
    if not finite:
        raise InputError(source, f"{key}.{kind}", f"{args} gives no finite 95% interval (numbers too large)")
    return Uncertainty(kind, tuple(float(a) for a in args), dist)


def parse_dirichlet(spec: Any, categories: list[str], source: str, key: str) -> DirichletUncertainty:
    """Read ``{ dirichlet = {category = count} }`` over exactly the given categories."""
    if not isinstance(spec, dict) or list(spec) != ["dirichlet"] or not isinstance(spec["dirichlet"], dict):
        raise InputError(source, key, "must be { dirichlet = { category = count, ... } }")
    counts = spec["dirichlet"]
    if sorted(counts) != sorted(categories):
        raise InputError(source, f"{key}.dirichlet", f"categories must be {sorted(categories)}, got {sorted(counts)}")
    for name, count in counts.items():
        if not _is_number(count) or not 0 <= count < math.inf:
            raise InputError(source, f"{key}.dirichlet.{name}", f"count must be a finite number >= 0, got {count!r}")
    if not math.isfinite(sum(counts.values())):
        raise InputError(source, f"{key}.dirichlet", "counts too large: their sum is not a finite number")
    return DirichletUncertainty({name: float(counts[name]) for name in categories})


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
