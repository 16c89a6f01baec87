"""The hierarchical model of the late course across trials, and its log posterior.

For each pooled cause c (infection death, other non-relapse death - the model's TMA cause - and
relapse) the band-1 hazard level of trial j, of target class k(j), is

    log level[c, j] ~ Normal(mu[c, k(j)], tau[c]^2).

Each (cause, trial) is sampled in one of two forms (:meth:`Hierarchy.with_centring`): non-centred,
``log level = mu + tau z`` with ``z ~ Normal(0, 1)``, where the trial's data say little about the level
(it avoids the funnel between tau and the levels); centred, the log level itself a coordinate, where its
data pin it down (otherwise a well-measured level ties its z to mu and tau along a curved ridge).  The
sampler chooses the form from the data's information about each level
(:func:`~sim.analyses.synthesis.sampler.centring`).  Priors:

- ``mu[c, k] ~ Normal(log 1e-3, 2.5^2)`` on the log of a hazard per day: centred on a band-1 hazard
  of 0.001 per day (about 25% by one year with the model's band shapes), its 95% range 7e-6 to 0.13
  per day, from a death or relapse in a thousand patient-years to nearly all patients within a month:
  weakly informative, it only excludes rates no trial of this kind has shown.
- ``tau[c] ~ HalfNormal(1)``: on the log-hazard scale tau = 1 means that the middle 95% of trials'
  levels span a 50-fold range (exp(2 x 1.96)); the prior keeps 95% of its mass below tau = 1.96
  (a 2000-fold span) and 68% below 1, so it allows the very large heterogeneity seen between CAR-T
  series while ruling out heterogeneity no two trials of one therapy could show.

Each unit (a published series, or a shipped trial with its exact per-patient likelihood) contributes
the log-likelihood of what it reports as a function of its levels; a shipped trial also brings its
own free parameters (``extras``: its levels after transplant, with their stated priors), sampled on
the log scale with the log-Jacobian added.  The inputs the likelihood shares and depends on smoothly
(``nuisance``: band shapes, patient factors; :mod:`~sim.analyses.synthesis.nuisance`) may be sampled with
them under their stated priors, so that a row of the sample is one joint draw of everything the
likelihood depends on; a block names the ones it reads (``Block.reads``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from sim.analyses.synthesis.nuisance import Nuisance, NuisanceSet

CAUSES = ("infection", "tma", "relapse")
CAUSE_LABELS = {"infection": "infection death", "tma": "other non-relapse death", "relapse": "relapse"}
MU_PRIOR = (float(np.log(1e-3)), 2.5)
TAU_SCALE = 1.0


@dataclass
class Unit:
    """A trial in the hierarchy: its name, target class, size (patients infused), its own free
    parameters ``extras``: path -> (start value, log prior density on the natural scale), and for a shipped
    trial with late outcomes its ``own`` fit: level path -> (estimate, posterior draws) from its data alone."""

    name: str
    target_class: str
    size: int = 0
    extras: dict[str, tuple[float, Callable]] = field(default_factory=dict)
    own: dict[str, tuple[float, np.ndarray]] = field(default_factory=dict)


@dataclass
class Block:
    """The log-likelihood of some units' reports: ``log_likelihood(levels, extras)`` with ``levels``
    by cause, arrays (points, len(units)) in the order of ``units`` (indices into the hierarchy's units),
    and ``extras`` by path (arrays over points, natural scale): the units' own free parameters, and the
    sampled inputs named in ``reads``."""

    units: list[int]
    log_likelihood: Callable[[dict, dict], np.ndarray]
    reads: tuple[str, ...] = ()


class Hierarchy:
    """The log posterior over the flat vector (mu, log tau, z, log extras, nuisance inputs on their unconstrained
    scale), vectorised over rows."""

    def __init__(self, units: list[Unit], blocks: list[Block], classes: tuple[str, ...] | None = None,
                 nuisance: list[Nuisance] = ()) -> None:
        self.units, self.blocks = units, blocks
        self.classes = classes or tuple(sorted({u.target_class for u in units}))
        self.extra_paths = [(j, path) for j, u in enumerate(units) for path in u.extras]
        self.nuisance = NuisanceSet(list(nuisance))
        self.names = ([f"mu[{c},{k}]" for c in CAUSES for k in self.classes] + [f"log_tau[{c}]" for c in CAUSES]
                      + [f"z[{c},{u.name}]" for c in CAUSES for u in units]
                      + [f"log {u.name}:{p}" for j, p in self.extra_paths for u in [units[j]]]
                      + [f"{m.transform} {m.path}" for m in self.nuisance.members])
        self.class_index = np.array([self.classes.index(u.target_class) for u in units])
        self.centred = np.zeros((len(CAUSES), len(units)), dtype=bool)

    def with_centring(self, centred: np.ndarray) -> Hierarchy:
        """A copy whose (cause, unit) pairs marked in ``centred`` have their log level as coordinate."""
        new = copy.copy(self)
        new.centred = np.asarray(centred, dtype=bool).reshape(len(CAUSES), len(self.units))
        first = len(CAUSES) * len(self.classes) + len(CAUSES)
        new.names = list(self.names)
        for i, (c, u) in enumerate((c, u) for c in CAUSES for u in self.units):
            new.names[first + i] = f"{'log_level' if new.centred.ravel()[i] else 'z'}[{c},{u.name}]"
        return new

    def to_centring(self, theta: np.ndarray, other: Hierarchy) -> np.ndarray:
        """``theta`` of this hierarchy as the same points in ``other``'s forms."""
        theta = np.atleast_2d(theta).copy()
        mu, tau, _, _ = self.split(theta)
        c, k, j = len(CAUSES), len(self.classes), len(self.units)
        log_levels = self.log_levels(theta)
        z = (log_levels - mu[:, :, self.class_index]) / tau[:, :, None]
        theta[:, c * k + c:c * k + c + c * j] = np.where(other.centred, log_levels, z).reshape(len(theta), -1)
        return theta

    @property
    def ndim(self) -> int:
        return len(self.names)

    def split(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(mu (rows, cause, class), tau (rows, cause), x (rows, cause, unit): the log level where it is
        centred, else z; log extras (rows, extra))."""
        theta = np.atleast_2d(theta)
        c, k, j = len(CAUSES), len(self.classes), len(self.units)
        mu = theta[:, :c * k].reshape(-1, c, k)
        tau = np.exp(theta[:, c * k:c * k + c])
        z = theta[:, c * k + c:c * k + c + c * j].reshape(-1, c, j)
        return mu, tau, z, theta[:, c * k + c + c * j:c * k + c + c * j + len(self.extra_paths)]

    def nuisance_values(self, theta: np.ndarray) -> np.ndarray:
        """The sampled inputs on their natural scale, (rows, input), in the order of ``nuisance.paths``."""
        theta = np.atleast_2d(theta)
        return self.nuisance.values(theta[:, theta.shape[1] - len(self.nuisance):])

    def log_levels(self, theta: np.ndarray) -> np.ndarray:
        """Each unit's log level per cause, (rows, cause, unit)."""
        mu, tau, x, _ = self.split(theta)
        return np.where(self.centred, x, mu[:, :, self.class_index] + tau[:, :, None] * x)

    def log_prior(self, theta: np.ndarray) -> np.ndarray:
        mu, tau, x, extras = self.split(theta)
        lp = stats.norm.logpdf(mu, *MU_PRIOR).sum(axis=(1, 2))
        lp += (stats.halfnorm.logpdf(tau, scale=TAU_SCALE) + np.log(tau)).sum(axis=1)  # + log-Jacobian of log tau
        centre = np.where(self.centred, mu[:, :, self.class_index], 0.0)
        lp += stats.norm.logpdf(x, centre, np.where(self.centred, tau[:, :, None], 1.0)).sum(axis=(1, 2))
        for i, (j, path) in enumerate(self.extra_paths):
            value = np.exp(extras[:, i])
            lp += self.units[j].extras[path][1](value) + extras[:, i]
        if len(self.nuisance):
            lp += self.nuisance.log_prior(np.atleast_2d(theta)[:, self.ndim - len(self.nuisance):])
        return lp

    def __call__(self, theta: np.ndarray) -> np.ndarray:
        """The log posterior of each row of ``theta`` (-inf where it is not finite)."""
        theta = np.atleast_2d(theta)
        total = self.log_prior(theta) + sum((self._block(theta, b) for b in self.blocks), np.zeros(len(theta)))
        return np.where(np.isfinite(total), total, -np.inf)

    def _block(self, theta: np.ndarray, block: Block) -> np.ndarray:
        """One block's log-likelihood at each row of ``theta``."""
        with np.errstate(over="ignore", invalid="ignore"):
            levels = np.exp(np.minimum(self.log_levels(theta), 5.0))  # a level above e^5 per day is already certain death
        _, _, _, extras = self.split(theta)
        mine = {path: np.exp(extras[:, i]) for i, (j, path) in enumerate(self.extra_paths) if j in block.units}
        if block.reads:
            values = self.nuisance_values(theta)
            mine |= {path: values[:, self.nuisance.paths.index(path)] for path in block.reads}
        return block.log_likelihood({c: levels[:, i][:, block.units] for i, c in enumerate(CAUSES)}, mine)

    def depends(self, block: Block) -> np.ndarray:
        """The coordinates ``block``'s log-likelihood can depend on: the pooled levels of its units' classes,
        every tau, its units' own level coordinates, their extras and the sampled inputs it reads."""
        c, k, j = len(CAUSES), len(self.classes), len(self.units)
        mask = np.zeros(self.ndim, dtype=bool)
        mu = np.zeros((c, k), dtype=bool)
        mu[:, np.unique(self.class_index[block.units])] = True
        mask[:c * k] = mu.ravel()
        mask[c * k:c * k + c] = True
        own = np.zeros((c, j), dtype=bool)
        own[:, block.units] = True
        mask[c * k + c:c * k + c + c * j] = own.ravel()
        tail = c * k + c + c * j
        mask[tail:tail + len(self.extra_paths)] = [u in block.units for u, _ in self.extra_paths]
        mask[tail + len(self.extra_paths):] = [p in block.reads for p in self.nuisance.paths]
        return mask

    def value_and_gradient(self, x: np.ndarray, step: float) -> tuple[float, np.ndarray]:
        """The log posterior at ``x`` and its central-difference gradient.  Each block is evaluated only at
        the points that move a coordinate it depends on (:meth:`depends`); at the others its value is the
        one at ``x``, so the result equals differencing the whole log posterior, at a fraction of the cost."""
        d = len(x)
        points = np.vstack([x, x + np.eye(d) * step, x - np.eye(d) * step])
        total = self.log_prior(points)
        for block in self.blocks:
            moved = np.flatnonzero(self.depends(block))
            rows = np.concatenate([[0], 1 + moved, 1 + d + moved])
            part = np.empty(len(points))
            values = self._block(points[rows], block)
            part[:] = values[0]
            part[rows] = values
            total = total + part
        if not np.isfinite(total[0]):
            return -np.inf, np.zeros(d)
        gradient = (total[1:d + 1] - total[d + 1:]) / (2 * step)
        return float(total[0]), np.where(np.isfinite(gradient), gradient, 0.0)

    def start(self, rng: np.random.Generator, rows: int) -> np.ndarray:
        """Starting rows near the prior's centre: small heterogeneity, every z near 0, extras and sampled inputs
        at their start (base) values."""
        c, k, j = len(CAUSES), len(self.classes), len(self.units)
        mu = MU_PRIOR[0] + rng.normal(0, 0.3, (rows, c * k))
        log_tau = np.log(0.5) + rng.normal(0, 0.1, (rows, c))
        z = rng.normal(0, 0.1, (rows, c, j))
        z = np.where(self.centred, mu.reshape(rows, c, k)[:, :, self.class_index] + 0.5 * z, z).reshape(rows, c * j)
        extras = np.log([[self.units[jj].extras[p][0] for jj, p in self.extra_paths]]) + rng.normal(0, 0.05, (rows, len(self.extra_paths)))
        inputs = self.nuisance.start()[None, :] + rng.normal(0, 0.05, (rows, len(self.nuisance)))
        return np.concatenate([mu, log_tau, z, extras, inputs], axis=1)
