"""A batch of virtual trials: each patient column as a 2-D array, a row per trial.

Every figure, outcome and estimator is computed over a batch (:mod:`sim.stats.trial_figures`,
:mod:`sim.stats.key_outcomes`); one trial is a batch of one row.  A batch comes from the engines'
records (:meth:`Batch.from_records`, no copy per trial) or from a patients table whose rows of a
trial are contiguous (:meth:`Batch.from_table`; trials of different sizes are padded, and
``present`` marks the real patients).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Iterator, Sequence

import numpy as np

from sim.stats.endpoints import infused
from sim.stats.facilities import facility_metrics

PADDING = {"f": np.nan, "b": False, "i": -1, "u": 0}


class Batch(Mapping):
    """Patient columns of several trials as 2-D arrays (trials, patients).

    Parameters
    ----------
    columns : mapping of str to ndarray, or None
        The 2-D columns (None: read from ``records`` when first asked for).
    trials : ndarray of int
        The trial index of each row.
    present : ndarray of bool, optional
        The real patients (False where a shorter trial was padded); default everyone.
    records : sequence of TrialRecord, optional
        The engine's records (their facility uses give the facility metrics).
    capacities : mapping, optional
        Facility capacities per facility name, one per row, with ``records``.
    facilities : Table, optional
        A run's facilities table, the other source of facility metrics.
    """

    def __init__(self, columns, trials, present=None, records=None, capacities=None, facilities=None) -> None:
        self._columns = dict(columns or {})
        self.trials = np.asarray(trials)
        self.records = list(records) if records is not None else None
        self._present = present
        self.capacities = capacities
        self.facilities = facilities
        self.cache: dict = {}  # results computed once per batch (e.g. an estimator two outcomes read)

    @classmethod
    def from_records(cls, records: Sequence, capacities: Mapping[str, np.ndarray] | None = None) -> "Batch":
        """The trials of the engines' records, in order (all of one size)."""
        return cls(None, [r.trial for r in records], records=records, capacities=capacities)

    @classmethod
    def from_table(cls, patients, facilities=None) -> "Batch":
        """The trials of a patients table (rows of a trial contiguous), with its facilities table."""
        trial = np.asarray(patients["trial"])
        starts = np.flatnonzero(np.r_[True, trial[1:] != trial[:-1]]) if len(trial) else np.empty(0, int)
        sizes = np.diff(np.r_[starts, len(trial)])
        width = int(sizes.max()) if sizes.size else 0
        if sizes.size and (sizes == width).all():
            columns = {name: np.asarray(c).reshape(len(starts), width) for name, c in _items(patients)}
            return cls(columns, trial[starts], facilities=facilities)
        present = np.arange(width)[None, :] < sizes[:, None]
        columns = {name: _padded(np.asarray(c), present) for name, c in _items(patients)}
        return cls(columns, trial[starts], present=present, facilities=facilities)

    @classmethod
    def of_one(cls, table: Mapping[str, np.ndarray], trial: int = 0) -> "Batch":
        """One trial's 1-D columns as a batch of one row."""
        return cls({name: np.asarray(c)[None, :] for name, c in table.items()}, [trial])

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._columns:
            if self.records is None:
                raise KeyError(name)
            self._columns[name] = _stack_rows(self._record_groups, name)
        return self._columns[name]

    @cached_property
    def _record_groups(self) -> list[tuple[dict, list | None]]:
        return _group_records(self.records)

    def __iter__(self) -> Iterator[str]:
        return iter(self.records[0].batch_columns if self.records is not None else self._columns)

    def __len__(self) -> int:
        return len(self.records[0].batch_columns if self.records is not None else self._columns)

    @property
    def n_trials(self) -> int:
        return len(self.trials)

    @cached_property
    def present(self) -> np.ndarray:
        if self._present is not None:
            return self._present
        return np.ones(self["t_infusion"].shape, dtype=bool)

    @cached_property
    def infused(self) -> np.ndarray:
        return infused(self)

    def with_columns(self, **columns: np.ndarray) -> "Batch":
        """The same batch with extra (derived) columns."""
        return Batch(self._columns | columns, self.trials, self._present, self.records, self.capacities,
                     self.facilities)

    def facility(self, facility: str, metric: str) -> np.ndarray:
        """One facility metric per trial, from the facilities table if the batch has one, else the records' uses."""
        if self.facilities is None:
            capacity = self.capacities[facility]
            return np.array([facility_metrics(r.uses[facility], c, r.cutoff)[metric]
                             for r, c in zip(self.records, np.broadcast_to(capacity, len(self.records)))], dtype=float)
        rows = np.asarray(self.facilities["facility"]) == facility
        trials = np.asarray(self.facilities["trial"])[rows]
        values = np.asarray(self.facilities[metric], dtype=float)[rows]
        if np.array_equal(trials, self.trials):  # the batch's own table, in its order (as a run builds it)
            return values
        by_trial = dict(zip(trials.tolist(), values.tolist()))
        return np.array([by_trial.get(k, np.nan) for k in self.trials.tolist()], dtype=float)


def _items(table):
    columns = table.columns if hasattr(table, "columns") else table
    return columns.items()


def _padded(column: np.ndarray, present: np.ndarray) -> np.ndarray:
    fill = PADDING.get(column.dtype.kind, "")
    out = np.full(present.shape, fill, dtype=column.dtype if column.dtype.kind in PADDING else object)
    out[present] = column
    return out


def _group_records(records: Sequence) -> list[tuple[dict, list | None]]:
    """The engine's batches behind the records, in order: each batch's columns and the rows the records
    take from it (None for a record that is the whole of its columns)."""
    groups, start = [], 0
    while start < len(records):
        shared = records[start].batch_columns
        end = start
        while end < len(records) and records[end].batch_columns is shared:
            end += 1
        rows = [r.row for r in records[start:end]]
        groups.append((shared, None if rows[0] is None else rows))
        start = end
    return groups


def _stack_rows(groups: list[tuple[dict, list | None]], name: str) -> np.ndarray:
    """One column of several trials as a 2-D array, read from the engine's batches without slicing each trial."""
    parts = [shared[name][None, :] if rows is None else shared[name][rows] for shared, rows in groups]
    return np.concatenate(parts) if len(parts) > 1 else parts[0]
