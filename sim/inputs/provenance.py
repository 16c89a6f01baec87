"""The provenance of every parameter of a run, as a table: written as ``parameters.csv`` beside the outputs."""

from __future__ import annotations

from typing import Any

from sim.inputs.params import Params
from sim.table import Table


def format_value(value: Any) -> str:
    """A parameter value as text: a number as the shortest text that reads back to it (whole numbers without
    a decimal point), category weights as ``a=1, b=2``."""
    if isinstance(value, dict):
        return ", ".join(f"{key}={format_value(weight)}" for key, weight in value.items())
    if isinstance(value, float) and value.is_integer() and abs(value) < 2 ** 53:
        return str(int(value))
    return str(value)


def parameter_table(params: Params) -> Table:
    """One row per parameter in params-file order: path, value, source, note, uncertainty, and the
    scenario that set it (empty if the base params file did).  Texts and distribution families too."""
    rows = [_row(params, path, value, "", "") for path, value in params.text.items() if value is not None]
    for path, entry in params.entries.items():
        family = next((f for f in params.families if path.startswith(f"{f}.")), None)
        if family is not None and not any(row["path"] == family for row in rows):
            rows.append(_row(params, family, params.families[family], "", "family of the time distribution"))
        rows.append(_row(params, path, format_value(entry.value), entry.source, entry.note,
                         repr(entry.uncertainty) if entry.uncertainty is not None else ""))
    return Table({key: [row[key] for row in rows] for key in COLUMNS})


COLUMNS = ("path", "value", "source", "note", "uncertainty", "scenario")


def _row(params: Params, path: str, value: str, source: str, note: str, uncertainty: str = "") -> dict[str, str]:
    return {"path": path, "value": value, "source": source, "note": note, "uncertainty": uncertainty,
            "scenario": set_by_scenario(params, path)}


def set_by_scenario(params: Params, path: str) -> str:
    """The name of the scenario that set ``path`` (itself or a whole distribution above it), or ''."""
    if params.scenario is None:
        return ""
    changed = params.scenario.changed
    return params.scenario.name if any(path == c or path.startswith(f"{c}.") for c in changed) else ""
