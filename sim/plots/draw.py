"""Every picture of a run folder, or of a comparison folder, drawn into its ``figures/`` folder."""

from __future__ import annotations

from pathlib import Path

from sim.errors import InputError
from sim.output.run_folder import COMPARISON_TEXT, FIGURES, inside, read_json, read_run
from sim.output.run_folder import read_table as read_csv
from sim.plots import differences as comparison
from sim.plots import consort_diagram as flow
from sim.plots import cumulative_incidence as incidence
from sim.plots import resources
from sim.plots import survival_curves as survival
from sim.plots import swimmer

RUN_PICTURES = (flow, survival, incidence, swimmer, resources)


def draw_run(folder: str | Path) -> list[Path]:
    """Draw every picture of the run saved in ``folder`` (PNG and SVG); returns the files written."""
    run = read_run(folder)
    return [path for module in RUN_PICTURES for path in module.draw(run, run.figures_folder)]


def draw_comparison(folder: str | Path) -> list[Path]:
    """Draw the comparison chart of the comparison saved in ``folder`` (``comparison.csv`` and ``.json``)."""
    folder = Path(folder)
    for name in ("comparison.csv", "comparison.json"):
        if not (folder / name).is_file():
            raise InputError(folder, name, "not found: not the output folder of 'cartsim compare'")
    meta = comparison_meta(folder)
    table = read_csv(folder / "comparison.csv", COMPARISON_TEXT)
    return comparison.draw(table, folder / FIGURES, meta)


def comparison_meta(folder: Path) -> dict:
    """``comparison.json``, checked: its arms name folders inside ``folder`` (never elsewhere)."""
    path = folder / "comparison.json"
    meta = read_json(path)
    arms = [meta.get("base"), *(meta.get("scenarios") or [None])] if isinstance(meta.get("scenarios"), list) else [None]
    if not all(isinstance(arm, dict) for arm in arms) or not isinstance(meta.get("trials"), int):
        raise InputError(path, "", "damaged: not written by 'cartsim compare' (base, scenarios and trials expected)")
    for i, arm in enumerate(arms):
        inside(folder, arm.get("folder"), path, "base.folder" if i == 0 else f"scenarios[{i - 1}].folder")
        if not isinstance(arm.get("label"), str):
            raise InputError(path, "base.label" if i == 0 else f"scenarios[{i - 1}].label", "missing or not a text")
    return meta


def is_comparison(folder: str | Path) -> bool:
    """True if ``folder`` holds a comparison rather than a single run."""
    return (Path(folder) / "comparison.json").is_file()


def draw_folder(folder: str | Path) -> list[Path]:
    """Every picture of a run or a comparison folder, then its report(s) redrawn with them embedded."""
    from sim.analyses.comparison_files import write_comparison_report
    from sim.output.run_files import write_report

    folder = Path(folder)
    if not is_comparison(folder):
        return [*draw_run(folder), write_report(folder)]
    meta = comparison_meta(folder)
    written = []
    for arm in (meta["base"], *meta["scenarios"]):
        written += [*draw_run(folder / arm["folder"]), write_report(folder / arm["folder"])]
    written += draw_comparison(folder)
    table = read_csv(folder / "comparison.csv", COMPARISON_TEXT)
    return [*written, write_comparison_report(folder, meta, table)]
