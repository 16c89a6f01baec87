"""Writing a run's tables: CSV for spreadsheets, JSON for the summary and its manifest.

Every file is first written in full to a temporary file in the output folder and then moved into
place, so a reader never sees half a file and a failed run leaves the earlier files as they were.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import sys
import tempfile
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sim.inputs.posterior_draws import joint_paths
from sim.inputs.provenance import parameter_table
from sim.output.shown_path import shown_command, shown_path
from sim.output.report import render_report, report_path
from sim.model.records import EVENT_TIMES, event_log, event_log_rows
from sim.output.run_folder import PATIENT_TEXT, read_run
from sim.output.cell_text import Cells, float_cells, text_cells
from sim.table import Table, read_csv, read_parquet, table_cells, to_arrow, write_cells

if TYPE_CHECKING:  # the runs write their results through this module
    from sim.runs.results import Results

FORMATS = ("csv", "parquet")
STREAMED = ("patients", "events")
EVENT_TEXT = ("event",)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that it appears whole or not at all; an OSError names ``path``."""
    try:
        with AtomicFile(path) as stream:
            stream.write(text)
    except OSError as err:
        if err.filename is not None:
            raise
        raise OSError(err.errno, err.strerror or str(err), str(path)) from None


class AtomicFile:
    """A file written in pieces to a temporary beside ``path``, moved into place only when complete.

    Use as a context manager (the file appears on a clean exit, and not at all on an exception), or
    call :meth:`commit` or :meth:`abort`.  ``binary`` opens the temporary for bytes.
    """

    def __init__(self, path: Path, binary: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, self.temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        self.stream = os.fdopen(handle, "wb") if binary else os.fdopen(handle, "w", encoding="utf-8", newline="")

    def __enter__(self):
        return self.stream

    def __exit__(self, kind, value, traceback) -> None:
        self.commit() if kind is None else self.abort()

    def commit(self) -> None:
        try:
            self.stream.close()
            os.chmod(self.temporary, 0o666 & ~_umask())
            os.replace(self.temporary, self.path)
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        self.stream.close()
        Path(self.temporary).unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def manifest(results: Results, command: list[str] | None = None) -> dict:
    """Where a run came from: versions, inputs and their hashes, seed, command line, run time."""
    params = results.params
    return {
        "package": "cartsim", "version": _version("cartsim"),
        "params_file": shown_path(params.path), "params_sha256": params.sha256,
        "seeds_file": shown_path(params.seeds.path),
        "seeds_sha256": _sha256(params.seeds.path) if params.seeds.path is not None else "",
        "trial": params.name, "seed": results.seed, "trials": results.n_trials,
        "parameter_uncertainty": results.parameter_uncertainty,
        "command": shown_command(command if command is not None else sys.argv),
        "run_seconds": round(results.run_seconds, 3),
        "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "libraries": {name: _version(name) for name in ("simpy", "numpy", "scipy", "matplotlib")},
        "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                    "cpus": os.cpu_count()},
        "scenario": _scenario(params),
        "posterior_draws": _posterior(params) if results.parameter_uncertainty else None,
    } | results.extra


def _posterior(params) -> dict | None:
    """The joint posterior draws a run with parameter uncertainty took, and which parameters it took from them."""
    if params.posterior is None:
        return None
    return params.posterior.manifest() | {"taken_jointly": list(joint_paths(params, params.posterior))}


def _scenario(params) -> dict | None:
    """The scenario's provenance with its files shown as :func:`shown_path` shows them."""
    if params.scenario is None:
        return None
    scenario = params.scenario.manifest()
    return scenario | {"file": shown_path(scenario["file"]), "base_params_file": shown_path(scenario["base_params_file"])}


class PatientStream:
    """``patients`` and ``events`` of a run, written a batch of trials at a time as the run goes.

    Each file is written to a temporary and moved into place by :meth:`close`, so memory does not
    grow with the number of trials and a reader never sees half a file.

    Parameters
    ----------
    folder : path
        The run's output folder.
    fmt : {"csv", "parquet"}
        The files' format (Parquet needs the ``parquet`` extra: pyarrow).
    """

    def __init__(self, folder: Path, fmt: str = "csv") -> None:
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
        if fmt == "parquet":
            import pyarrow.parquet  # noqa: F401  (fail before the run if the extra is missing)
        self.folder, self.fmt = Path(folder), fmt
        self.files = {name: AtomicFile(self.path(name), binary=fmt == "parquet") for name in STREAMED}
        self.writers: dict[str, object] = {}

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.{self.fmt}"

    def add(self, patients: Table) -> None:
        """Append one batch of trials' patients, and their events."""
        if self.fmt == "parquet":
            self._add_parquet("patients", patients)
            self._add_parquet("events", Table(event_log(patients.columns)))
            return
        cells, log = shared_cells(patients)
        first = not self.writers
        patients.write_csv(self.files["patients"].stream, header=first, cells=cells)
        write_cells(self.files["events"].stream, log, header=first)
        self.writers = {name: True for name in STREAMED}

    def _add_parquet(self, name: str, table: Table) -> None:
        import pyarrow.parquet as pq

        arrow = to_arrow(table)
        if name not in self.writers:
            self.writers[name] = pq.ParquetWriter(self.files[name].stream, arrow.schema)
        self.writers[name].write_table(arrow.cast(self.writers[name].schema))

    def close(self) -> list[Path]:
        """Move the complete files into place; returns them."""
        for name, file in self.files.items():
            if self.fmt == "parquet" and name in self.writers:
                self.writers[name].close()
            file.commit()
        return [file.path for file in self.files.values()]

    def abort(self) -> None:
        """Remove the temporaries: nothing is written (open writers closed first, so that none complains
        later about a file that has gone)."""
        for writer in self.writers.values():
            try:
                if hasattr(writer, "close"):
                    writer.close()
            except Exception:  # noqa: BLE001 - the file is being discarded; its writer's state does not matter
                pass
        self.writers = {}
        for file in self.files.values():
            file.abort()

    def read_back(self, name: str) -> Table:
        """A streamed table read back from its file."""
        return read_table(self.path(name), PATIENT_TEXT if name == "patients" else EVENT_TEXT)


def shared_cells(patients: Table) -> tuple[dict[str, Cells], dict[str, Cells]]:
    """The patients' event times and ids as cells, and the event log's columns made of the same cells.

    Each event time is formatted once, in the event log's order; a patient's time columns gather
    those cells (an empty one where the patient has no such event).
    """
    which, rows = event_log_rows(patients.columns)
    times = float_cells(np.stack([patients[name] for name in EVENT_TIMES])[which, rows])
    cells = table_cells({name: patients[name] for name in ("trial", "patient")})
    event_of = np.full((len(EVENT_TIMES), len(patients)), len(rows))  # past the last: the empty cell
    event_of[which, rows] = np.arange(len(rows))
    with_empty = times.with_empty_row()
    cells |= {name: with_empty[event_of[k]] for k, name in enumerate(EVENT_TIMES)}
    log = {"trial": cells["trial"][rows], "patient": cells["patient"][rows],
           "event": text_cells([column[2:] for column in EVENT_TIMES])[which], "time": times}
    return cells, log


def read_table(path: Path, text: tuple[str, ...] = ()) -> Table:
    """A table written by this module, CSV or Parquet by its suffix."""
    return read_parquet(path, text) if Path(path).suffix == ".parquet" else read_csv(path, text)


def write_table(path: Path, table: Table) -> None:
    """Write one table whole, atomically, as CSV or Parquet by the path's suffix."""
    if path.suffix == ".parquet":
        with AtomicFile(path, binary=True) as stream:
            import pyarrow.parquet as pq

            pq.write_table(to_arrow(table), stream)
    else:
        with AtomicFile(path) as stream:
            table.write_csv(stream)


def write_results(results: Results, out: Path, command: list[str] | None = None, fmt: str = "csv") -> list[Path]:
    """Write every table and the JSON summary into ``out``; returns the files written.

    ``fmt`` is the format of the two large tables (patients and events); a run streamed into
    ``out`` has written them already.
    """
    out = Path(out)
    written = []
    stream = results.stream
    if stream is None or Path(stream.folder).resolve() != out.resolve():
        for name, table in (("patients", results.patients), ("events", results.events)):
            write_table(out / f"{name}.{fmt}", table)
            written.append(out / f"{name}.{fmt}")
    else:
        written += [stream.path(name) for name in STREAMED]
    summary = results.summary()
    files = {
        "trials.csv": results.trials.to_csv_text(),
        "facilities.csv": results.facilities.to_csv_text(),
        "summary.csv": summary.to_csv_text(),
        "summary.json": json.dumps({"manifest": manifest(results, command),
                                    "citation": results.params.seeds.cite(),
                                    "figures": _records(summary),
                                    "facilities": _records(results.facility_summary()),
                                    **({"base_agreement": _plain_nan(results.extra["base_agreement"])}
                                       if "base_agreement" in results.extra else {})}, indent=2) + "\n",
        "parameters.csv": parameter_table(results.params).to_csv_text(),
    }
    for name, text in files.items():
        write_atomic(out / name, text)
        written.append(out / name)
    written.append(write_report(out))
    return written


def write_report(folder: Path) -> Path:
    """Write (or redraw) ``report.md`` in a run's output folder from the files there, pictures included."""
    path = report_path(folder)
    write_atomic(path, render_report(read_run(folder)))
    return path


def _records(table: Table) -> list[dict]:
    return [{key: _plain(value) for key, value in row.items()} for row in table.rows()]


def _plain(value):
    """JSON-safe Python value: NaN and infinity become null and "inf"."""
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return None if math.isnan(value) else ("inf" if math.isinf(value) else value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    return value if isinstance(value, (int, bool, str)) or value is None else str(value)


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _plain_nan(value):
    """A JSON value: NaN becomes null, through lists and dicts."""
    if isinstance(value, dict):
        return {k: _plain_nan(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain_nan(v) for v in value]
    return None if isinstance(value, float) and value != value else value
