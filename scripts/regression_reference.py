"""The stored reference run that ``tests/test_regression.py`` compares every change with.

    python scripts/regression_reference.py     # rewrites tests/data/reference/

The reference is two small runs at a fixed seed: CD5 over parameter uncertainty (the joint posterior
draws, the parameter draws, both engines' queues, every late cause) and CLL-1 at its base values (three
dose groups, CRS and ICANS deaths).  Each keeps its per-trial table and the patients of its first
trials.  The params and seeds files are a frozen copy of the shipped ones, taken when the reference is
written, so a refit of the shipped params does not move the reference: only a change of the code does.

Regenerate it only for a change meant to move the numbers, and say so in the commit.  This is a
regression check of the code against itself, not a validation against the papers.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "data" / "reference"
CASES = {"cd5_uncertainty": ("cd5_tall", True), "cll1_base": ("cll1_aml", False)}  # name: (trial, parameter uncertainty)
TRIALS, SEED, PATIENT_TRIALS = 40, 5, 4


def run(case: str, folder: Path = REFERENCE):
    """The case's per-trial table and the patients of its first PATIENT_TRIALS trials, from the frozen params."""
    import numpy as np

    from sim.inputs.params import load_params
    from sim.runs.runner import run_trials
    from sim.table import Table

    trial, uncertain = CASES[case]
    results = run_trials(load_params(folder / "params" / f"{trial}.toml"), trials=TRIALS, seed=SEED,
                         parameter_uncertainty=uncertain)
    patients = results.patients
    first = patients["trial"] < PATIENT_TRIALS
    return results.trials, Table({name: np.asarray(column)[first] for name, column in patients.columns.items()})


def freeze(folder: Path = REFERENCE) -> None:
    """Copy the shipped params files (with any posterior draws beside them) and their seeds files."""
    for sub in ("params", "seeds"):
        shutil.rmtree(folder / sub, ignore_errors=True)
        (folder / sub).mkdir(parents=True)
    for trial, _ in CASES.values():
        for path in (ROOT / "params").glob(f"{trial}.*"):
            shutil.copy(path, folder / "params" / path.name)
        shutil.copy(ROOT / "seeds" / f"{trial}.toml", folder / "seeds" / f"{trial}.toml")


def main() -> int:
    sys.path.insert(0, str(ROOT))
    freeze()
    for case in CASES:
        trials, patients = run(case)
        (REFERENCE / f"{case}.trials.csv").write_text(trials.to_csv_text())
        (REFERENCE / f"{case}.patients.csv").write_text(patients.to_csv_text())
        print(f"wrote {case}: {len(trials)} trials, {len(patients)} patients of the first {PATIENT_TRIALS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
