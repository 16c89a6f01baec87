"""A batch of virtual trials' parameters, read by the model as one parameter set of arrays.

With parameter uncertainty each trial of a batch has its own values.  :class:`ParamBatch` holds
them as columns (one value per trial) beside the base :class:`~sim.inputs.params.Params`, and
answers ``batch[path]`` with the base value of a fixed parameter (a float) or, for a drawn one,
an array shaped ``(trials, 1)`` that broadcasts against the model's ``(trials, patients)`` arrays;
category weights come as a mapping of such arrays.  The model's functions are written
elementwise, so they run a whole batch at once, and trial ``r`` gets exactly the numbers it would
get from its own :class:`Params` (:meth:`ParamBatch.params`).

The checks that :meth:`Params.with_values` makes of each trial's values run here over the columns;
a trial they flag is then checked by :meth:`Params.with_values` itself, which raises the same error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from sim.inputs.durations import FAMILIES, arguments_valid
from sim.inputs.schema import LATE_BANDS

if TYPE_CHECKING:  # Params.draw calls this module: Params is a type name here only
    from sim.inputs.params import Params


@dataclass(frozen=True)
class ParamBatch:
    """The parameters of ``size`` trials: the base set, and each drawn path's value per trial.

    ``columns`` maps a path to an array of ``size`` floats, or (category weights) to a list of
    ``size`` mappings of category to weight.
    """

    base: Params
    columns: dict[str, Any]
    size: int
    _views: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of_rows(cls, base: Params, rows: list[Mapping[str, Any]], repeat: int = 1) -> "ParamBatch":
        """A batch of ``repeat`` rows per entry of ``rows``, each setting its entry's values (the
        others at base), checked as :meth:`Params.with_values` checks them."""
        paths = list(dict.fromkeys(path for values in rows for path in values))
        for values in rows:
            if any(path not in base.entries for path in values):
                base.with_values(values)  # raises: no such parameter
        columns = {}
        for path in paths:
            if base.entries[path].kind == "weights":
                columns[path] = [dict(values.get(path, base[path])) for values in rows for _ in range(repeat)]
            else:
                columns[path] = np.repeat(np.array([values.get(path, base[path]) for values in rows], dtype=float),
                                          repeat)
        batch = cls(base, columns, len(rows) * repeat)
        batch.check()
        return batch

    def __getitem__(self, path: str) -> Any:
        view = self._views.get(path)
        if view is None:
            column = self.columns.get(path)
            if column is None:
                return self.base[path]
            view = self._views[path] = _column_view(column)
        return view

    def __getattr__(self, name: str) -> Any:  # path, sha256, seeds, text, entries, families, name
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.base, name)

    def timedist(self, path: str) -> tuple[str, dict[str, Any]]:
        """A time distribution's family and argument values (columns where drawn)."""
        family = self.base.families[path]
        required, optional = FAMILIES[family]
        args = dict(optional)
        args.update({arg: self[f"{path}.{arg}"] for arg in (*required, *optional)
                     if f"{path}.{arg}" in self.base.entries})
        return family, args

    def dose_levels(self) -> dict[str, Any]:
        return {name: self[f"dose.levels.{name}"] for name in self.base.dose_levels()}

    def values(self, row: int) -> dict[str, Any]:
        """Trial ``row``'s drawn values by path."""
        return {path: (float(column[row]) if isinstance(column, np.ndarray) else column[row])
                for path, column in self.columns.items()}

    def params(self, row: int) -> Params:
        """Trial ``row``'s parameters as a checked :class:`Params` (built on request: it costs a check)."""
        return self.base.with_values(self.values(row))

    def row(self, row: int) -> "TrialParams":
        """Trial ``row``'s parameters as the engines read them: each value a float."""
        return TrialParams(self, row)

    def rows(self) -> list["TrialParams"]:
        return [TrialParams(self, r) for r in range(self.size)]

    def check(self) -> None:
        """Raise the :class:`~sim.errors.InputError` that :meth:`Params.with_values` would raise for
        the first trial whose values do not make a valid parameter set."""
        for row in np.flatnonzero(~self._plausible()):
            self.params(int(row))

    def _plausible(self) -> np.ndarray:
        """Per trial: False where a check might fail (the checks run over the columns)."""
        ok = np.ones(self.size, dtype=bool)
        if any(path.startswith("design.") or path == "accrual.enrolled" for path in self.columns):
            return ~ok
        for path, column in self.columns.items():
            if isinstance(column, np.ndarray):
                ok &= _kind_valid(self.base.entries[path].kind, column)
            else:
                ok &= self._weights_plausible(path, column)
        for path, family in self.base.families.items():
            if any(key.startswith(f"{path}.") for key in self.columns):
                ok &= np.broadcast_to(arguments_valid(family, self.timedist(path)[1]), (self.size, 1))[:, 0]
        before = np.asarray(self["lymphodepletion.start_before_infusion_days"] >= self["lymphodepletion.days"])
        ok &= np.broadcast_to(before, (self.size, 1))[:, 0]
        starts = [self[f"late.band_{k}_start_days"] for k in range(2, LATE_BANDS + 1)]
        for low, high in zip(starts, starts[1:]):
            ok &= np.broadcast_to(np.asarray(high > low), (self.size, 1))[:, 0]
        return ok

    def _weights_plausible(self, path: str, column: list[Mapping[str, float]]) -> np.ndarray:
        """Per trial: whether its category weights pass :func:`_weights_valid`, over the columns when every
        weight is a plain number (as drawn), else trial by trial."""
        base = self.base[path]
        if {type(w) for weights in column for w in weights.values()} - {float, int} or \
                any(weights.keys() != base.keys() for weights in column):
            return np.array([_weights_valid(base, weights) for weights in column], dtype=bool)
        view = self[path]
        values = np.stack([view[c][:, 0] for c in base], axis=1) if base else np.zeros((self.size, 0))
        total = values.sum(axis=1)
        return ((values >= 0) & (values < math.inf)).all(axis=1) & (total > 0) & (total < math.inf)


def _column_view(column) -> Any:
    """A column as the model reads it: shape (trials, 1); weights as such an array per category."""
    if isinstance(column, np.ndarray):
        return column.reshape(-1, 1)
    categories = dict.fromkeys(c for weights in column for c in weights)
    return {c: np.array([w.get(c, np.nan) for w in column], dtype=float).reshape(-1, 1) for c in categories}


def _weights_valid(base: Mapping[str, float], weights: Mapping[str, float]) -> bool:
    """Whether :meth:`Params.with_values` accepts ``weights`` for weights whose base is ``base``."""
    values = list(weights.values())
    return (set(weights) == set(base) and all(isinstance(w, (int, float)) and not isinstance(w, bool)
                                              and 0 <= w < math.inf for w in values)
            and 0 < sum(values) < math.inf)


def _kind_valid(kind: str, v: np.ndarray) -> np.ndarray:
    """Elementwise :func:`sim.inputs.schema.value_problem` is None (False also for NaN)."""
    whole = np.floor(v) == v
    if kind == "capacity":
        return (v == math.inf) | (whole & (v >= 1))
    finite = np.isfinite(v)
    checks = {"prob": (v >= 0) & (v <= 1), "duration": v >= 0, "rate": v >= 0, "positive": v > 0,
              "count": whole & (v >= 1), "real": np.ones(v.shape, dtype=bool)}
    return finite & checks[kind]


@dataclass(frozen=True)
class TrialParams:
    """One trial of a :class:`ParamBatch`: ``params[path]`` is that trial's value (a float)."""

    batch: ParamBatch
    index: int

    def __getitem__(self, path: str) -> Any:
        column = self.batch.columns.get(path)
        if column is None:
            return self.batch.base[path]
        return float(column[self.index]) if isinstance(column, np.ndarray) else column[self.index]

    def __getattr__(self, name: str) -> Any:  # path, sha256, seeds, text, entries, families, name
        if name.startswith("_") or name in ("batch", "index"):
            raise AttributeError(name)
        return getattr(self.batch.base, name)

    def timedist(self, path: str) -> tuple[str, dict[str, Any]]:
        family, args = self.batch.timedist(path)
        return family, {k: (float(np.ravel(v)[self.index]) if np.ndim(v) else v) for k, v in args.items()}

    def dose_levels(self) -> dict[str, float]:
        return {name: self[f"dose.levels.{name}"] for name in self.batch.base.dose_levels()}

    def params(self) -> Params:
        """This trial's parameters as a checked :class:`Params`."""
        return self.batch.params(self.index)


def trial_params(params, row: int):
    """Row ``row``'s parameters of a batch; a plain parameter set is every row's."""
    return params.row(row) if isinstance(params, ParamBatch) else params

