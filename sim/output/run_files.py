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

import numpy as np

from sim.output.provenance import parameter_table
from sim.output.shown_path import shown_command, shown_path
from sim.output.report import render_report, report_path
from sim.output.results import Results
from sim.output.run_folder import read_run
from sim.output.table import Table


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that it appears whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


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
    } | results.extra


def _scenario(params) -> dict | None:
    """The scenario's provenance with its files shown as :func:`shown_path` shows them."""
    if params.scenario is None:
        return None
    scenario = params.scenario.manifest()
    return scenario | {"file": shown_path(scenario["file"]), "base_params_file": shown_path(scenario["base_params_file"])}


def write_results(results: Results, out: Path, command: list[str] | None = None) -> list[Path]:
    """Write every table and the JSON summary into ``out``; returns the files written."""
    summary = results.summary()
    files = {
        "patients.csv": results.patients.to_csv_text(),
        "events.csv": results.events.to_csv_text(),
        "trials.csv": results.trials.to_csv_text(),
        "facilities.csv": results.facilities.to_csv_text(),
        "summary.csv": summary.to_csv_text(),
        "summary.json": json.dumps({"manifest": manifest(results, command),
                                    "citation": results.params.seeds.cite(),
                                    "figures": _records(summary),
                                    "facilities": _records(results.facility_summary())}, indent=2) + "\n",
        "parameters.csv": parameter_table(results.params).to_csv_text(),
    }
    written = []
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
