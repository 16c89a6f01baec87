"""Writing a run's tables: CSV for spreadsheets, JSON for the summary and its manifest.

Every file is first written in full to a temporary file in the output folder and then moved into
place, so a reader never sees half a file and a failed run leaves the earlier files as they were.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import tempfile
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from sim.inputs.posterior_draws import joint_paths
from sim.inputs.provenance import parameter_table
from sim.output.shown_path import shown_command, shown_path
from sim.output.shown_values import json_records, json_value
from sim.output.report import render_report, report_parts, report_path
from sim.output.report_html import render_html
from sim.model.records import event_log
from sim.output.run_folder import PATIENT_TEXT, RunData, read_run
from sim.table import Table, read_csv, read_parquet

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
        "package": "cartsim", "version": package_version("cartsim"),
        "params_file": shown_path(params.path), "params_sha256": params.sha256,
        "seeds_file": shown_path(params.seeds.path),
        "seeds_sha256": _sha256(params.seeds.path) if params.seeds.path is not None else "",
        "trial": params.name, "seed": results.seed, "trials": results.n_trials,
        "parameter_uncertainty": results.parameter_uncertainty,
        "command": shown_command(command if command is not None else sys.argv),
        "run_seconds": round(results.run_seconds, 3),
        "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "libraries": {name: package_version(name) for name in ("simpy", "numpy", "scipy", "matplotlib", "polars")},
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
    grow with the number of trials and a reader never sees half a file.  CSV batches are appended
    to the temporary; Parquet batches are written as parts beside it and joined by polars' streaming
    engine when the run closes.

    Parameters
    ----------
    folder : path
        The run's output folder.
    fmt : {"csv", "parquet"}
        The files' format.
    """

    def __init__(self, folder: Path, fmt: str = "csv") -> None:
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
        self.folder, self.fmt = Path(folder), fmt
        self.files = {name: AtomicFile(self.path(name), binary=True) for name in STREAMED}
        self.parts: dict[str, list[Path]] = {name: [] for name in STREAMED}
        self.started = False

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.{self.fmt}"

    def add(self, patients: Table) -> None:
        """Append one batch of trials' patients, and their events."""
        for name, table in (("patients", patients), ("events", Table(event_log(patients.columns)))):
            if self.fmt == "parquet":
                part = Path(f"{self.files[name].temporary}.{len(self.parts[name])}")
                self.parts[name].append(part)
                table.to_parquet(part)
            else:
                table.write_csv(self.files[name].stream, header=not self.started)
        self.started = True

    def close(self) -> list[Path]:
        """Move the complete files into place; returns them."""
        if self.fmt == "parquet":
            self._join_parts()
        for file in self.files.values():
            file.commit()
        return [file.path for file in self.files.values()]

    def _join_parts(self) -> None:
        """Each Parquet file's parts joined into its temporary, streamed (never all in memory)."""
        import polars as pl

        try:
            for name, file in self.files.items():
                file.stream.close()
                if self.parts[name]:
                    pl.scan_parquet(self.parts[name]).sink_parquet(file.temporary)
        finally:
            self._remove_parts()

    def abort(self) -> None:
        """Remove the temporaries: nothing is written."""
        self._remove_parts()
        for file in self.files.values():
            file.abort()

    def _remove_parts(self) -> None:
        for part in (part for parts in self.parts.values() for part in parts):
            part.unlink(missing_ok=True)

    def read_back(self, name: str) -> Table:
        """A streamed table read back from its file."""
        return read_table(self.path(name), PATIENT_TEXT if name == "patients" else EVENT_TEXT)


def read_table(path: Path, text: tuple[str, ...] = ()) -> Table:
    """A table written by this module, CSV or Parquet by its suffix."""
    return read_parquet(path, text) if Path(path).suffix == ".parquet" else read_csv(path, text)


def write_table(path: Path, table: Table) -> None:
    """Write one table whole, atomically, as CSV or Parquet by the path's suffix."""
    with AtomicFile(path, binary=True) as stream:
        table.to_parquet(stream) if path.suffix == ".parquet" else table.write_csv(stream)


def write_results(results: Results, out: Path, command: list[str] | None = None, fmt: str = "csv",
                  pictures: Callable[[RunData], list[Path]] | None = None) -> list[Path]:
    """Write every table, the JSON summary and the reports into ``out``; returns the files written.

    Everything is computed from what ``results`` holds; nothing written is read back.  ``fmt`` is the
    format of the two large tables (patients and events); a run streamed into ``out`` has written them
    already.  ``pictures``, if given, draws the pictures from the run as held (before the reports,
    which embed them), and returns the files it wrote.
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
    summary, key = results.summary(), results.key_outcomes()
    document = {"manifest": manifest(results, command), "citation": results.params.seeds.cite(),
                "figures": json_records(summary), "key_outcomes": json_records(key),
                "facilities": json_records(results.facility_summary())}
    if "base_agreement" in results.extra:
        document["base_agreement"] = json_value(results.extra["base_agreement"])
    if pictures is not None:
        document["manifest"]["picture_trials"] = len(np.unique(results.picture_patients["trial"]))
    parameters = parameter_table(results.params)
    files = {
        "trials.csv": results.trials.to_csv_text(),
        "facilities.csv": results.facilities.to_csv_text(),
        "summary.csv": summary_file(summary, key).to_csv_text(),
        "summary.json": json.dumps(document, indent=2) + "\n",
        "parameters.csv": parameters.to_csv_text(),
    }
    for name, text in files.items():
        write_atomic(out / name, text)
        written.append(out / name)
    held = {"parameters": parameters, "trials": results.trials, "facilities": results.facilities,
            "seeds": results.params.seeds if results.params.seeds.path else None}
    if pictures is not None:
        shown = document | {"manifest": document["manifest"] | {"trials": document["manifest"]["picture_trials"]}}
        written += pictures(RunData.held(out, summary=shown, **held, patients=results.picture_patients))
    return written + write_reports(RunData.held(out, summary=document, **held))


def summary_file(figures: Table, key: Table) -> Table:
    """``summary.csv``: the reported figures (kind 'figure'), then the key outcomes (kind 'key_outcome'),
    each with its median, 95% interval and mean over the virtual trials and over how many it is defined."""
    n = len(figures)
    trials = np.asarray(figures["trials_defined"], dtype=float)
    total = float(np.max(np.asarray(key["trials_defined"]) + np.asarray(key["trials_undefined"])))
    interval = key["interval"][0]
    first = {"kind": ["figure"] * n, "name": figures["figure"], "dose_group": ["all"] * n,
             "description": figures["says"], "unit": figures["unit"], "reported": figures["reported"],
             "of": figures["of"], "median": figures["sim_median"], "low95": figures["sim_low95"],
             "high95": figures["sim_high95"], "mean": figures["sim_mean"], "trials_defined": trials,
             "trials_undefined": total - trials, "interval": [interval] * n}
    m = len(key)
    second = {"kind": ["key_outcome"] * m, "name": key["outcome"], "dose_group": key["dose_group"],
              "description": key["label"], "unit": key["unit"], "reported": np.full(m, np.nan), "of": np.full(m, np.nan),
              "median": key["median"], "low95": key["low95"], "high95": key["high95"], "mean": key["mean"],
              "trials_defined": np.asarray(key["trials_defined"], dtype=float),
              "trials_undefined": np.asarray(key["trials_undefined"], dtype=float), "interval": key["interval"]}
    text = ("kind", "name", "dose_group", "description", "unit", "interval")
    return Table({name: np.concatenate([np.asarray(first[name], dtype=object if name in text else float),
                                        np.asarray(second[name], dtype=object if name in text else float)])
                  for name in first})


def write_reports(run: RunData) -> list[Path]:
    """Write ``report.md`` and ``report.html`` of a run, with the pictures in its ``figures/`` folder."""
    path = report_path(run.folder)
    parts = report_parts(run)  # rendered once for both
    write_atomic(path, render_report(run, parts))
    html = path.with_suffix(".html")
    write_atomic(html, render_html(run, parts))
    return [path, html]


def write_report(folder: Path) -> list[Path]:
    """Redraw ``report.md`` and ``report.html`` of a saved run folder from its files (``cartsim plot``)."""
    return write_reports(read_run(folder))


def package_version(name: str) -> str:
    """An installed package's version, for a manifest ('not installed' if it is not)."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
