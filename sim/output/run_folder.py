"""A run's saved outputs read back from its folder: the tables, the summary and its manifest.

Plots and the run report are drawn from these files only, so ``cartsim plot RESULTS_DIR`` gives the
same pictures as ``cartsim run --plots``, and an old run can be redrawn without simulating again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from sim.errors import InputError
from sim.inputs.paper import Seeds, load_seeds
from sim.output.shown_path import resolved_path
from sim.table import Table, read_csv, read_parquet

PATIENT_TEXT = ("product", "dose_level", "response", "death_cause", "final_state")
FACILITY_TEXT = ("facility",)
PARAMETER_TEXT = ("path", "value", "source", "note", "uncertainty", "scenario")
COMPARISON_TEXT = ("scenario", "outcome", "zero_event_parameters")
FIGURES = "figures"


@dataclass
class RunData:
    """The files of one run's output folder, each read when first needed."""

    folder: Path

    @cached_property
    def summary(self) -> dict[str, Any]:
        summary = _json(self.folder / "summary.json")
        if not isinstance(summary.get("manifest"), dict) or not isinstance(summary["manifest"].get("trial"), str):
            raise InputError(self.folder / "summary.json", "manifest", "missing or damaged: not written by 'cartsim run'")
        return summary

    @property
    def manifest(self) -> dict[str, Any]:
        return self.summary["manifest"]

    @cached_property
    def patients(self) -> Table:
        return self.table("patients.csv", PATIENT_TEXT)

    @cached_property
    def trials(self) -> Table:
        return self.table("trials.csv")

    @cached_property
    def facilities(self) -> Table:
        return self.table("facilities.csv", FACILITY_TEXT)

    @cached_property
    def parameters(self) -> Table | None:
        path = self.folder / "parameters.csv"
        return _csv(path, PARAMETER_TEXT) if path.is_file() else None

    @cached_property
    def seeds(self) -> Seeds | None:
        """The seeds file named in the manifest, if it is still there (for reported figures)."""
        path = resolved_path(self.manifest.get("seeds_file") or "")
        try:
            return load_seeds(path) if path.is_file() else None
        except InputError:
            return None

    @property
    def title(self) -> str:
        """The trial's name, or the scenario's with the trial's after it."""
        scenario = self.manifest.get("scenario")
        return f"{scenario['name']} ({self.manifest['trial']})" if scenario else self.manifest["trial"]

    @property
    def figures_folder(self) -> Path:
        path = self.folder / FIGURES
        if path.exists() and not path.is_dir():
            raise InputError(path, "", "exists and is not a folder: cannot draw the pictures into it")
        return path

    def table(self, name: str, text: tuple[str, ...] = ()) -> Table:
        path = self.folder / name
        if not path.is_file() and path.with_suffix(".parquet").is_file():  # written with --format parquet
            return read_parquet(path.with_suffix(".parquet"), text)
        if not path.is_file():
            raise InputError(self.folder, name, "not found: not the output folder of 'cartsim run'")
        return _csv(path, text)


def read_run(folder: str | Path) -> RunData:
    """A run's output folder; InputError if it holds no ``summary.json``."""
    folder = Path(folder)
    if not (folder / "summary.json").is_file():
        raise InputError(folder, "summary.json", "not found: not the output folder of 'cartsim run'")
    return RunData(folder)


def _json(path: Path) -> dict[str, Any]:
    """A JSON object from a file; InputError if it cannot be read or is not an object."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise InputError(path, "", f"cannot read: {err}") from None
    if not isinstance(value, dict):
        raise InputError(path, "", f"damaged: a JSON object expected, got {type(value).__name__}")
    return value


read_json = _json


def _csv(path: Path, text: tuple[str, ...] = ()) -> Table:
    """A table written by cartsim; InputError if it cannot be read or is damaged (e.g. cut short)."""
    try:
        return read_csv(path, text)
    except (OSError, ValueError, UnicodeDecodeError) as err:
        raise InputError(path, "", f"cannot read: {err}") from None


read_table = _csv


def inside(folder: Path, name: object, source: Path, key: str) -> Path:
    """``folder / name`` for a name read from a file, refused unless it names an entry directly inside
    ``folder`` (not absolute, no '..', no separator), so a file cannot send reads or writes elsewhere."""
    if not isinstance(name, str) or not name or name.strip(".") == "" or "/" in name or "\\" in name \
            or Path(name).is_absolute():
        raise InputError(source, key, f"must name a folder inside {folder}, got {name!r}")
    return folder / name
