"""The numbers stay what they were: two small runs at a fixed seed against the stored reference, bit for bit.

``scripts/regression_reference.py`` wrote ``tests/data/reference/`` (a frozen copy of the shipped params and
seeds, and the tables of the runs).  A change that moves any simulated number fails here; a change meant to
move them regenerates the reference with that script and says so.  This checks the code against itself, not
against the papers.
"""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest

from conftest import ROOT
from sim.output.run_folder import PATIENT_TEXT
from sim.table import Table, read_csv


def _script():
    spec = importlib.util.spec_from_file_location("regression_reference", ROOT / "scripts" / "regression_reference.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


REF = _script()


def differences(got: Table, want: Table) -> list[str]:
    """Each column whose values are not the stored ones (floats bit for bit, NaN for NaN), with its first row."""
    if got.names != want.names or len(got) != len(want):
        return [f"columns or rows differ: {got!r} against {want!r}"]
    out = []
    for name in want.names:
        a, b = got[name], want[name]
        if b.dtype.kind == "f":
            a = np.asarray(a, dtype=float)
            same = (a.view(np.uint64) == b.view(np.uint64)) | (np.isnan(a) & np.isnan(b))
        else:
            same = np.array([str(x) == str(y) for x, y in zip(a.tolist(), b.tolist())], dtype=bool)
        if not same.all():
            row = int(np.flatnonzero(~same)[0])
            out.append(f"{name}: row {row} is {a[row]!r}, was {b[row]!r}")
    return out


@pytest.mark.parametrize("case", sorted(REF.CASES))
def test_a_run_gives_the_stored_numbers(case):
    trials, patients = REF.run(case)
    stored_trials = read_csv(REF.REFERENCE / f"{case}.trials.csv")
    stored_patients = read_csv(REF.REFERENCE / f"{case}.patients.csv", PATIENT_TEXT)
    found = differences(trials, stored_trials) + differences(patients, stored_patients)
    assert found == [], f"{case} moved (regenerate with scripts/regression_reference.py only if meant): {found[:5]}"


def test_a_moved_number_is_caught():
    table = read_csv(REF.REFERENCE / "cll1_base.trials.csv")
    moved = Table(dict(table.columns))
    column = next(name for name in table.names if table[name].dtype.kind == "f")
    moved.columns[column] = np.nextafter(table[column], np.inf)  # one unit in the last place
    assert differences(moved, table) and not differences(table, table)
