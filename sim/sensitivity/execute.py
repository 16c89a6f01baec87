"""Running a design: its points through a backend, each finished chunk streamed to the run folder.

A :class:`Design` makes its points on demand by index, so a large design is never held in memory as
points.  :func:`execute` first takes the evaluations a resumed run folder already holds, then sends
only the missing points to the backend in chunks, appends each finished chunk to the folder, and
collects every outcome's moments into arrays indexed by point (:class:`Collected`): the results are
the same whatever order the chunks finish in, and whether or not the run was interrupted.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from sim.inputs.params import Params
from sim.runs.runner import choose_engine
from sim.sensitivity.backends import SerialBackend
from sim.sensitivity.model import Evaluation, Point
from sim.sensitivity.store import MemoryStore, mark_complete, open_store

CHUNKS_PER_WORKER = 8
MAX_CHUNK = 32
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Design:
    """The points of one analysis: how many, and the point at each index."""

    method: str
    size: int
    point: Callable[[int], Point]


class Collected:
    """Each point's outcome moments (and, if asked, its input values), filled in as evaluations arrive.

    ``mean``, ``var`` and ``n`` have a row per point and a column per outcome; ``inputs`` a row per
    point and a column per name in ``input_names``.
    """

    def __init__(self, size: int, outcomes: Sequence[str], input_names: Sequence[str] = ()) -> None:
        self.outcomes = tuple(outcomes)
        self.input_names = tuple(input_names)
        self.mean = np.full((size, len(self.outcomes)), np.nan)
        self.var = np.full((size, len(self.outcomes)), np.nan)
        self.n = np.zeros((size, len(self.outcomes)), dtype=int)
        self.inputs = np.full((size, len(self.input_names)), np.nan)
        self.done = np.zeros(size, dtype=bool)

    @property
    def count(self) -> int:
        return int(self.done.sum())

    def add(self, evaluation: Evaluation) -> None:
        i = evaluation.index
        for j, name in enumerate(self.outcomes):
            m = evaluation.outcomes[name]
            self.mean[i, j], self.var[i, j], self.n[i, j] = m.mean, m.var, m.n
        for j, name in enumerate(self.input_names):
            self.inputs[i, j] = evaluation.inputs.get(name, np.nan)
        self.done[i] = True

    def column(self, outcome: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(mean, variance, count) of one outcome at every point."""
        j = self.outcomes.index(outcome)
        return self.mean[:, j], self.var[:, j], self.n[:, j]


def chunk_size(pending: int, workers: int) -> int:
    """Enough chunks to keep every worker busy, small enough that an interruption loses little."""
    return max(1, min(MAX_CHUNK, math.ceil(pending / (CHUNKS_PER_WORKER * max(workers, 1)))))


def _chunks(design: Design, pending: list[int], size: int) -> Iterator[list[Point]]:
    for start in range(0, len(pending), size):
        yield [design.point(i) for i in pending[start:start + size]]


def execute(design: Design, model: Callable[[Point], Evaluation], backend, store,
            progress: Progress | None = None, input_names: Sequence[str] = ()) -> Collected:
    """Evaluate every point of ``design`` not already in ``store``; return all of them, collected.

    Parameters
    ----------
    design : Design
    model : callable
        A :class:`~sim.sensitivity.model.TrialModel` or :class:`~sim.sensitivity.model.FunctionModel`.
    backend : SerialBackend, PoolBackend or DaskBackend
        Already entered (``with backend:``).
    store : RunStore or MemoryStore
    progress : callable, optional
        Called as ``progress(done, total)`` after each chunk.
    input_names : sequence of str
        Input values to keep per point (others are in the store's log only).
    """
    collected = Collected(design.size, model.outcomes, input_names)
    for evaluation in store.completed():
        if evaluation.index < design.size:
            collected.add(evaluation)
    pending = np.flatnonzero(~collected.done).tolist()
    size = chunk_size(len(pending), backend.workers)
    for evaluations in backend.map(model, _chunks(design, pending, size)):
        store.append(evaluations)
        for evaluation in evaluations:
            collected.add(evaluation)
        if progress is not None:
            progress(collected.count, design.size)
    return collected


def params_fingerprint(params: Params | None) -> str | None:
    """A hash of every parameter value, distribution and text: a resumed run must have the same."""
    if params is None:
        return None
    content = {"entries": {path: [repr(e.value), repr(e.uncertainty)] for path, e in params.entries.items()},
               "families": params.families, "text": params.text}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode("utf-8")).hexdigest()


def model_config(model: Any) -> dict[str, Any]:
    """What decides a model's evaluations, for the run's settings."""
    if hasattr(model, "function"):
        function = model.function
        return {"model": f"function {getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', '?')}",
                "seed": model.seed, "outcomes": list(model.outcomes)}
    return {"model": "virtual trials", "seed": model.seed, "outcomes": list(model.outcomes), "inner": model.inner,
            "patients_per_trial": int(model.params["accrual.enrolled"]), "engine": model.engine,
            "engine_used": choose_engine(model.params, model.engine),
            "keep_patients": model.keep_patients}


@dataclass
class RunInfo:
    """How a design was run: its settings (what decides the results), where it ran, and how long it took."""

    config: dict[str, Any]
    out: Path | None
    backend: str = ""
    resumed: int = 0
    seconds: float = 0.0

    def manifest(self) -> dict[str, Any]:
        """The settings and the run's circumstances, for the results' JSON."""
        return self.config | {"backend": self.backend, "resumed_evaluations": self.resumed,
                              "run_seconds": round(self.seconds, 3)}


def run_design(design: Design, model: Callable[[Point], Evaluation], config: dict[str, Any], *,
               params: Params | None = None, backend=None, out: str | Path | None = None, resume: bool = False,
               progress: Progress | None = None, input_names: Sequence[str] = ()) -> tuple[Collected, RunInfo]:
    """Evaluate a design, streaming to ``out`` if given; returns the collected results and how it ran.

    Parameters
    ----------
    design, model
        As for :func:`execute`.
    config : dict
        The method's own settings (sizes, inputs); the model's and the parameters' are added.
    params : Params, optional
        The parameters analysed, fingerprinted in the settings.
    backend : optional
        A backend, not yet entered; default serial.
    out : path, optional
        Run folder for streaming and resuming; default: nothing written.
    resume : bool
        Continue the run in ``out``.
    """
    started = time.perf_counter()
    info = RunInfo({"method": design.method, "points": design.size, **config, **model_config(model),
                    "params_file": str(params.path) if params is not None else None,
                    "params_fingerprint": params_fingerprint(params)}, Path(out) if out is not None else None)
    with backend if backend is not None else SerialBackend() as running:  # connect first: fail before writing
        info.backend = running.describe()
        store = open_store(out, info.config, resume) if out is not None else MemoryStore()
        try:
            collected = execute(design, model, running, store, progress, input_names)
        finally:
            store.close()
    info.resumed, info.seconds = store.resumed, time.perf_counter() - started
    return collected, info


def finish(info: RunInfo) -> None:
    """Mark the run folder's run complete, once its final tables are written."""
    if info.out is not None:
        mark_complete(info.out, info.config, {"backend": info.backend, "resumed_evaluations": info.resumed})
