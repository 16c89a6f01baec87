"""Streaming a sensitivity run to disk as it goes, so that an interrupted run can be resumed.

A run folder holds ``run.json`` (the run's settings and whether it finished, written atomically) and
``evaluations.jsonl``: one JSON line per completed evaluation, appended and flushed to disk as each
batch of evaluations finishes, in the order they finish.  A run killed part-way (Ctrl-C, ``kill``,
a lost node) leaves at worst a last line cut short; resuming drops that line, keeps every complete
one, and evaluates only the points not yet in the file, so no completed evaluation is lost and none
is repeated.  Results are then assembled by point index, so they do not depend on the order in which
evaluations finished, nor on how many times the run was interrupted.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from sim.errors import InputError
from sim.output.run_files import write_atomic
from sim.sensitivity.model import Evaluation

STATE = "run.json"
LOG = "evaluations.jsonl"
PATIENTS = "patients"
RUNNING, COMPLETE = "running", "complete"


class MemoryStore:
    """No folder: nothing is written, nothing can be resumed."""

    folder = None
    resumed = 0

    def completed(self) -> list[Evaluation]:
        return []

    def append(self, evaluations: Iterable[Evaluation]) -> None:
        if any(e.patients is not None for e in evaluations):
            raise ValueError("patient tables are written to a run folder: give one (out=...)")

    def close(self) -> None:
        return None


class RunStore:
    """A run folder: its settings, the evaluations completed so far, and a log to append to.

    Use :func:`open_store`; close it (or use it as a context manager) when the run stops.
    """

    def __init__(self, folder: Path, config: dict[str, Any], done: list[Evaluation]) -> None:
        self.folder = folder
        self.config = config
        self._done = done
        self.resumed = len(done)
        self._log = open(folder / LOG, "a", encoding="utf-8")  # noqa: SIM115 - open for the run, closed by close()

    def completed(self) -> list[Evaluation]:
        """The evaluations found in the folder when it was opened."""
        return list(self._done)

    def append(self, evaluations: Iterable[Evaluation]) -> None:
        """Record finished evaluations: patient tables first, then one log line each, flushed to disk."""
        evaluations = list(evaluations)
        for evaluation in evaluations:
            if evaluation.patients is not None:
                write_atomic(patients_path(self.folder, evaluation.index), evaluation.patients.to_csv_text())
        self._log.write("".join(json.dumps(e.to_json()) + "\n" for e in evaluations))
        self._log.flush()
        os.fsync(self._log.fileno())

    def close(self) -> None:
        self._log.close()

    def __enter__(self) -> "RunStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def patients_path(folder: Path, index: int) -> Path:
    """Where the patient table of one evaluation is written when asked for."""
    return folder / PATIENTS / f"evaluation-{index:07d}.csv"


def open_store(folder: str | Path, config: dict[str, Any], resume: bool) -> RunStore:
    """Open a run folder for a run with these settings.

    Parameters
    ----------
    folder : path
        The run's output folder (created if needed).
    config : dict
        Everything that decides the run's results (method, parameters, seed, sizes, outcomes, inputs);
        a resumed run must have the same.
    resume : bool
        Continue the run in ``folder``; with no run there, start one.  Without it, a folder holding an
        unfinished run is refused (so that a long run is not lost by mistake), and a finished one is
        started over.

    Raises
    ------
    InputError
        The folder is a file, holds an unfinished run and ``resume`` is false, holds a run with other
        settings, or its log is damaged other than in its last line.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError(folder, "--out", "exists and is not a folder")
    for name in (STATE, LOG):
        if (folder / name).exists() and not (folder / name).is_file():
            raise InputError(folder / name, "", "is not a file: the run folder is damaged; remove it, or choose "
                             "another output folder")
    if (folder / PATIENTS).exists() and not (folder / PATIENTS).is_dir():
        raise InputError(folder / PATIENTS, "", "is not a folder: the run folder is damaged")
    config = json.loads(json.dumps(config))
    state = _read_state(folder)
    if resume and state is not None:
        _check_same(folder, state["config"], config)
        return RunStore(folder, config, read_log(folder / LOG, config))
    if state is not None and state.get("status") == RUNNING and _has_lines(folder / LOG):
        raise InputError(folder, "", "holds an unfinished run: continue it with --resume, start it again with "
                         "--fresh, or choose another --out")
    return _start(folder, config)


def discard_unfinished(folder: str | Path) -> bool:
    """Forget an unfinished run in ``folder`` (its state and finished evaluations), so the next run starts
    afresh; returns whether there was one.  A finished run's files are left for the new run to replace."""
    folder = Path(folder)
    state = _read_state(folder) if folder.is_dir() else None
    if state is None or state.get("status") != RUNNING:
        return False
    for old in (folder / PATIENTS).glob("evaluation-*.csv"):
        old.unlink()
    (folder / LOG).unlink(missing_ok=True)
    (folder / STATE).unlink(missing_ok=True)
    return True


def _start(folder: Path, config: dict[str, Any]) -> RunStore:
    folder.mkdir(parents=True, exist_ok=True)
    for old in (folder / PATIENTS).glob("evaluation-*.csv"):
        old.unlink()
    write_atomic(folder / LOG, "")
    _write_state(folder, config, RUNNING, {})
    return RunStore(folder, config, [])


def mark_complete(folder: Path, config: dict[str, Any], summary: dict[str, Any]) -> None:
    """Mark the run in ``folder`` complete (a later run there without resuming starts over)."""
    _write_state(Path(folder), json.loads(json.dumps(config)), COMPLETE, summary)


def _write_state(folder: Path, config: dict[str, Any], status: str, summary: dict[str, Any]) -> None:
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    state = {"status": status, "config": config, "updated_utc": now}
    write_atomic(folder / STATE, json.dumps(state | summary, indent=2) + "\n")


def _read_state(folder: Path) -> dict[str, Any] | None:
    path = folder / STATE
    if not path.is_file():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise InputError(path, "", f"not a readable run state: {err}") from None
    if not isinstance(state, dict) or not isinstance(state.get("config"), dict):
        raise InputError(path, "config", "missing or not a table: not a run state written by cartsim sensitivity")
    return state


def _check_same(folder: Path, old: dict[str, Any], new: dict[str, Any]) -> None:
    differ = sorted(key for key in old.keys() | new.keys() if old.get(key) != new.get(key))
    if differ:
        shown = "; ".join(f"{key} was {old.get(key)!r}, now {new.get(key)!r}" for key in differ[:3])
        raise InputError(folder, "--resume", f"the run there has other settings ({shown}): resume it with the "
                         "same options, or choose another output folder")


def _has_lines(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 0


def read_log(path: Path, config: dict[str, Any] | None = None) -> list[Evaluation]:
    """The complete evaluations in a log; a last line cut short by an interruption is dropped from the file.

    With the run's ``config``, each record is also checked against it: its index a whole number within
    the design, its outcomes exactly the run's.

    Raises
    ------
    InputError
        A complete line that is not an evaluation record (the file was damaged, not interrupted).
    """
    if not path.is_file():
        return []
    data = path.read_bytes()
    evaluations, end = [], 0
    while True:
        newline = data.find(b"\n", end)
        if newline < 0:
            break
        evaluations.append(_parse(path, data[end:newline], len(evaluations) + 1, config or {}))
        end = newline + 1
    if end < len(data):
        with open(path, "r+b") as stream:
            stream.truncate(end)
    return _unique(evaluations)


def _parse(path: Path, line: bytes, number: int, config: dict[str, Any]) -> Evaluation:
    try:
        record = json.loads(line)
        problem = _record_problem(record, config)
        if problem is None:
            return Evaluation.from_json(record)
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        problem = str(err)
    raise InputError(path, f"line {number}", f"not an evaluation record of this run ({problem}): the file is "
                     "damaged; remove the folder to start over, or choose another output folder")


def _record_problem(record: Any, config: dict[str, Any]) -> str | None:
    """Why a log record is not an evaluation of the run with ``config``, or None."""
    if not isinstance(record, dict):
        return "not a JSON object"
    index, points = record.get("index"), config.get("points")
    if isinstance(index, bool) or not isinstance(index, int) or index < 0 or (isinstance(points, int) and index >= points):
        return f"index must be a whole number from 0 to the design's size - 1, got {index!r}"
    outcomes = record.get("outcomes")
    if not isinstance(outcomes, dict) or not outcomes:
        return "no outcomes"
    if "outcomes" in config and sorted(outcomes) != sorted(config["outcomes"]):
        return f"outcomes {sorted(outcomes)} are not the run's {sorted(config['outcomes'])}"
    for name, moments in outcomes.items():
        if not (isinstance(moments, list) and len(moments) == 3 and all(_number(v) for v in moments[:2])
                and isinstance(moments[2], int) and not isinstance(moments[2], bool) and moments[2] >= 0):
            return f"outcome {name!r} must be [mean, variance, count]"
    inputs = record.get("inputs")
    if not isinstance(inputs, dict) or not all(_number(v) for v in inputs.values()):
        return "inputs must be a table of numbers"
    return None


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _unique(evaluations: list[Evaluation]) -> list[Evaluation]:
    seen: dict[int, Evaluation] = {}
    for evaluation in evaluations:
        seen.setdefault(evaluation.index, evaluation)
    return list(seen.values())
