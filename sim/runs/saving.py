"""A run's output folder written whole or not at all, from Python as from the command line.

Everything that protects a folder lives here, so ``sim.run_trials(...).write(out)`` gets what
``cartsim run`` gets: a folder holding another params file's results is refused unless ``force``
(:func:`~sim.output.folder_claims.claim_run`); the folder is locked, the files are written into a
staging folder and swapped in at the end (:func:`~sim.output.atomic_folder.staged_folder`), so an
error or Ctrl-C leaves the earlier result as it was.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sim.output.atomic_folder import staged_folder
from sim.output.folder_claims import claim_run
from sim.output.run_files import write_results
from sim.output.run_folder import RunData
from sim.output.shown_path import shown_path

RUN_OUTPUTS = ("patients.csv", "events.csv", "patients.parquet", "events.parquet", "trials.csv", "facilities.csv",
               "summary.csv", "summary.json", "parameters.csv", "report.md", "report.html",
               "figures")  # replaced together; other files and subfolders of the folder are kept

@contextmanager
def run_folder(out: str | Path, params, force: bool = False) -> Iterator[Path]:
    """The staging folder of run output folder ``out`` for a run of ``params``: checked, claimed and locked
    before anything runs, swapped into place when the block ends without error."""
    claim_run(Path(out), shown_path(params.path), force, params.sha256)
    with staged_folder(out, replace=RUN_OUTPUTS) as folder:
        yield folder

def write_into(results, folder: Path, out: Path, command: list[str] | None, fmt: str, plots: bool) -> list[Path]:
    """Write ``results`` into the staging ``folder`` of ``out``; returns the files as they will be named in ``out``."""
    written = write_results(results, folder, command=command, fmt=fmt, pictures=draw_pictures if plots else None)
    return [Path(out) / Path(path).relative_to(folder) for path in written]

def save_results(results, out: str | Path, command: list[str] | None = None, fmt: str = "csv", plots: bool = False,
                 force: bool = False) -> list[Path]:
    """Write a run's tables, summary, reports and (with ``plots``) pictures into ``out``, whole or not at all."""
    with run_folder(out, results.params, force) as folder:
        return write_into(results, folder, Path(out), command, fmt, plots)

def draw_pictures(run: RunData) -> list[Path]:
    """Every picture of a run, drawn from what the run holds."""
    from sim.plots.run_pictures import draw_held  # upward: pictures sit above runs; matplotlib loads only when asked for

    return draw_held(run)
