"""What every method's result shares: its tables, its JSON summary with the run's manifest, and writing them.

Each method's result names its tables (CSV) and draws its own pictures; :meth:`Result.write` writes
the tables, ``<method>.json`` (the run's settings, the package and library versions, the citation of
the trial, and the summary rows) and the pictures (PNG and SVG), every file whole or not at all.
"""

from __future__ import annotations

import json
import platform
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sim.output.run_files import package_version, write_atomic
from sim.output.shown_values import json_records
from sim.inputs.params import Params
from sim.table import Table
from sim.sensitivity.execute import RunInfo, finish

LIBRARIES = ("numpy", "scipy", "matplotlib", "SALib", "dask", "distributed")


def study_label(params: Params | None) -> str:
    """The trial's name, and the scenario's when one is analysed."""
    if params is None:
        return "model function"
    return f"{params.name}: {params.scenario.name}" if params.scenario is not None else params.name


def citation(params: Params | None) -> str:
    """The trial's source, as its seeds file cites it ('' without parameters)."""
    return params.seeds.cite() if params is not None else ""


class Result:
    """What a method's result does with its tables, summary rows and pictures (a mixin).

    A result has ``method`` (its name), ``label`` (the study: trial and scenario), ``citation``
    (the trial's source, or '') and ``info`` (a :class:`~sim.sensitivity.execute.RunInfo`).
    """

    method: str
    label: str
    citation: str
    info: RunInfo

    def tables(self) -> dict[str, Table]:  # pragma: no cover - every method defines it
        raise NotImplementedError

    def summary_table(self) -> Table:  # pragma: no cover - every method defines it
        raise NotImplementedError

    def draw(self, folder: Path) -> list[Path]:  # pragma: no cover - every method defines it
        raise NotImplementedError

    def write(self, folder: str | Path, plots: bool = True) -> list[Path]:
        """Write every table, the JSON summary and (unless ``plots`` is false) the pictures into ``folder``."""
        folder = Path(folder)
        written = []
        for name, table in self.tables().items():
            write_atomic(folder / name, table.to_csv_text())
            written.append(folder / name)
        summary = {"manifest": self.manifest(), "results": json_records(self.summary_table())}
        write_atomic(folder / f"{self.method}.json", json.dumps(summary, indent=2) + "\n")
        written.append(folder / f"{self.method}.json")
        if plots:
            written.extend(self.draw(folder))
        if self.info.out is not None and Path(self.info.out).resolve() == folder.resolve():
            finish(self.info)
        return written

    def manifest(self) -> dict[str, Any]:
        return {"package": "cartsim", "version": package_version("cartsim"), "study": self.label, "citation": self.citation,
                **self.info.manifest(),
                "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "python": platform.python_version(), "libraries": {name: package_version(name) for name in LIBRARIES}}


