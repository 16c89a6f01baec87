"""Reading a seeds file: one paper's citation and the figures it reports, as validation targets.

A planned trial's seeds file may hold only its design facts (no citation, no figures yet), and a
params file may name no seeds file at all: :data:`NO_SEEDS` then stands for it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.errors import InputError
from sim.stats.trial_figures import (  # upward: a seeds file may name only the figures that stats defines
    METRICS, NOT_MODELLED, qualifier_problem)
from sim.inputs.tomlfile import read_toml

CITATION_KEYS = {"title", "topic", "first_author", "last_author", "journal", "year", "volume", "doi", "registry"}
DESIGN_KEYS = {"value", "unit", "says"}
FIGURE_KEYS = {"metric", "value", "of", "unit", "says", "why"}


@dataclass(frozen=True)
class Figure:
    """One reported number: what it counts (``metric`` and its qualifiers) and its value."""

    key: str
    metric: str
    value: float
    says: str
    of: int | None = None
    unit: str = ""
    why: str = ""
    qualifiers: dict[str, Any] = field(default_factory=dict)

    @property
    def modelled(self) -> bool:
        return self.metric != NOT_MODELLED


@dataclass(frozen=True)
class Seeds:
    """A paper's citation, its design facts and its reported figures."""

    path: Path | None
    citation: dict[str, Any]
    design: dict[str, dict[str, Any]]
    figures: dict[str, Figure]

    def has(self, key: str) -> bool:
        return key in self.figures or key in self.design

    @property
    def planned(self) -> bool:
        """A trial with no reported figures yet: nothing to validate against."""
        return not self.figures

    def cite(self) -> str:
        c = self.citation
        if not c:
            return "not yet published (a planned trial)"
        return (f"{c['first_author']}, ..., {c['last_author']}. {c.get('title', c['topic'])}. {c['journal']} {c['year']}"
                f"{'; ' + c['volume'] if c.get('volume') else ''}. doi:{c['doi']}"
                f"{' (' + c['registry'] + ')' if c.get('registry') else ''}")


def load_seeds(path: str | Path) -> Seeds:
    """Read and check a seeds file; raise InputError naming the key on any problem."""
    path = Path(path)
    table, _ = read_toml(path)
    _closed(path, "", table, {"citation", "design", "figures"}, required=set())
    citation = _citation(path, table["citation"]) if "citation" in table else {}
    design = {key: _design(path, key, entry) for key, entry in _table(path, "design", table.get("design", {})).items()}
    figures = {key: _figure(path, key, entry) for key, entry in _table(path, "figures", table.get("figures", {})).items()}
    return Seeds(path, citation, design, figures)


def _citation(path: Path, entry: Any) -> dict[str, Any]:
    entry = _table(path, "citation", entry)
    _closed(path, "citation", entry, CITATION_KEYS, required={"topic", "first_author", "last_author", "journal", "year", "doi"})
    _text(path, "citation", entry, tuple(sorted(CITATION_KEYS - {"year"})))
    return dict(entry)


def _design(path: Path, key: str, entry: Any) -> dict[str, Any]:
    entry = _table(path, f"design.{key}", entry)
    _closed(path, f"design.{key}", entry, DESIGN_KEYS, required={"value", "says"})
    _text(path, f"design.{key}", entry, ("says", "unit"))
    return dict(entry)


def _text(path: Path, where: str, entry: dict, keys: tuple[str, ...]) -> None:
    """Keys that, when present, must be non-empty strings."""
    for key in keys:
        if key in entry and (not isinstance(entry[key], str) or not entry[key].strip()):
            raise InputError(path, f"{where}.{key}", f"must be a non-empty string, got {entry[key]!r}")


def _figure(path: Path, key: str, entry: Any) -> Figure:
    where = f"figures.{key}"
    entry = dict(_table(path, where, entry))
    metric = entry.get("metric")
    if not isinstance(metric, str) or metric not in METRICS:
        raise InputError(path, f"{where}.metric", f"unknown metric {metric!r} (expected one of {sorted(METRICS)})")
    qualifier_names = set(METRICS[metric].qualifiers)
    _closed(path, where, entry, FIGURE_KEYS | qualifier_names, required={"metric", "value", "says"})
    if metric == NOT_MODELLED and not entry.get("why"):
        raise InputError(path, f"{where}.why", "a figure the model does not produce must say why")
    qualifiers = {name: entry[name] for name in qualifier_names if name in entry}
    problem = qualifier_problem(metric, qualifiers)
    if problem:
        raise InputError(path, where, problem)
    value = entry["value"]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputError(path, f"{where}.value", f"must be a finite number, got {value!r}")
    of = entry.get("of")
    if of is not None and (isinstance(of, bool) or not isinstance(of, int) or of < 1):
        raise InputError(path, f"{where}.of", f"a denominator must be a whole number >= 1, got {of!r}")
    _check_kind(path, where, METRICS[metric].kind, value, of)
    _text(path, where, entry, ("says", "why", "unit"))
    return Figure(key, metric, float(value), entry["says"], entry.get("of"), entry.get("unit", ""),
                  entry.get("why", ""), qualifiers)


def figure_unit(figure: Figure) -> str:
    """What a figure's value counts or measures: its stated unit, else by its metric's kind (a count is of
    patients, a share a proportion, a duration in days, as the seeds files' convention says)."""
    if figure.unit:
        return figure.unit
    return {"count": "patients", "share": "proportion", "duration": "days"}.get(METRICS[figure.metric].kind, "")


def _check_kind(path: Path, where: str, kind: str, value: float, of: int | None) -> None:
    """A reported value as its metric's kind allows: a count is a whole number from 0 to its denominator,
    a share lies in [0, 1] and has no denominator, a duration is positive and has no denominator."""
    if kind == "count" and (value < 0 or not float(value).is_integer()):
        raise InputError(path, f"{where}.value", f"a count of patients must be a whole number >= 0, got {value!r}")
    if kind == "count" and of is not None and value > of:
        raise InputError(path, f"{where}.value", f"a count cannot exceed its denominator: {value:g} of {of}")
    if kind == "share" and not 0 <= value <= 1:
        raise InputError(path, f"{where}.value", f"a share is a proportion from 0 to 1 (not a percentage), got {value!r}")
    if kind == "duration" and value <= 0:
        raise InputError(path, f"{where}.value", f"a duration must be > 0, got {value!r}")
    if kind in ("share", "duration") and of is not None:
        raise InputError(path, f"{where}.of", f"a {kind} has no denominator (its value is not a count), got of = {of!r}")


def _table(path: Path, key: str, value: Any) -> dict:
    if not isinstance(value, dict):
        raise InputError(path, key, f"must be a table, got {type(value).__name__}")
    return value


def _closed(path: Path, where: str, entry: dict, allowed: set[str], required: set[str]) -> None:
    prefix = f"{where}." if where else ""
    for key in entry:
        if key not in allowed:
            raise InputError(path, prefix + key, f"unknown key (expected one of {sorted(allowed)})")
    for key in sorted(required - set(entry)):
        raise InputError(path, prefix + key, "missing")


NO_SEEDS = Seeds(None, {}, {}, {})
