"""Published CAR-T series as data: one TOML file per series in ``seeds/series/``.

Each file has a ``[citation]``, the ``[series]`` facts (target, target class, donor source, disease,
number infused, median follow-up, patients transplanted after CAR-T) and ``[figures.NAME]`` tables,
each one reported figure with a ``metric`` of :data:`METRICS`.  The loader checks every value by its
kind and names the file and key of the first bad one (:class:`~sim.errors.InputError`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from sim.errors import InputError
from sim.inputs.tomlfile import read_toml
from sim.inputs.trial_catalog import shipped_params_folder

CLASSES = ("b_lineage", "lineage_depleting")
DONORS = ("autologous", "donor_derived", "mixed")
# each metric's keys: "count" a whole number in 0..of, "of" a whole number >= 1, "share" in [0, 1],
# "day" > 0, "text" a string; a trailing "?" marks an optional key
METRICS = {
    "nrm_deaths": {"value": "count", "of": "of"},
    "nrm_cumulative_incidence": {"value": "share", "day": "day"},
    "infection_deaths": {"value": "count", "of": "of"},
    "relapse_count": {"value": "count", "of": "of", "of_kind": "of_kind"},
    "relapse_cumulative_incidence": {"value": "share", "day": "day"},
    "lfs": {"value": "share", "day": "day", "definition": "definition"},
    "complete_remission": {"value": "count", "of": "of"},
    "os": {"value": "share", "day": "day"},
}
OF_KINDS = ("responders", "infused")
DEFINITIONS = ("EFS", "RFS", "LFS")


@dataclass(frozen=True)
class SeriesFigure:
    """One reported figure of a series."""

    key: str
    metric: str
    value: float
    of: float | None = None
    day: float | None = None
    of_kind: str | None = None
    definition: str | None = None
    says: str = ""


@dataclass(frozen=True)
class Series:
    """One published series: its facts and its figures by name."""

    key: str
    path: Path
    citation: dict
    target: str
    target_class: str
    donor: str
    disease: str
    infused: int
    median_followup_months: float | None = None
    transplanted_after: int = 0
    figures: dict[str, SeriesFigure] = field(default_factory=dict)

    def figure(self, metric: str) -> SeriesFigure | None:
        """The first figure of ``metric``, or None."""
        return next((f for f in self.figures.values() if f.metric == metric), None)

    @property
    def reference(self) -> str:
        """Short citation: 'Park JH 2018, doi 10...'."""
        c = self.citation
        ident = f"doi {c['doi']}" if c.get("doi") else f"PMID {c.get('pmid')}"
        return f"{c.get('first_author', '?')} {c.get('year', '?')}, {ident}"


def series_folder() -> Path | None:
    """The shipped series: ``seeds/series`` beside the shipped params folder."""
    params = shipped_params_folder()
    folder = None if params is None else params.parent / "seeds" / "series"
    return folder if folder is not None and folder.is_dir() else None


def load_all_series(folder: Path | None = None) -> list[Series]:
    """Every ``*.toml`` of ``folder`` (default: the shipped series), sorted by file name."""
    folder = series_folder() if folder is None else Path(folder)
    if folder is None or not folder.is_dir():
        raise InputError(folder or "seeds/series", "", "no folder of published series")
    paths = sorted(folder.glob("*.toml"))
    if not paths:
        raise InputError(folder, "", "holds no series file (*.toml): the synthesis needs at least one published series")
    return [load_series(path) for path in paths]


def load_series(path: Path) -> Series:
    """One series file, checked."""
    table, _ = read_toml(path)
    check = _Checker(Path(path))
    citation = check.table(table, "citation")
    if not (citation.get("doi") or citation.get("pmid")):
        check.fail("citation", "needs a doi or a pmid")
    facts = check.table(table, "series")
    infused = check.whole(facts, "series.infused", low=1)
    figures = {name: check.figure(name, spec, infused) for name, spec in check.table(table, "figures").items()}
    return Series(key=Path(path).stem, path=Path(path), citation=citation,
                  target=check.text(facts, "series.target"),
                  target_class=check.choice(facts, "series.target_class", CLASSES),
                  donor=check.choice(facts, "series.donor", DONORS),
                  disease=check.text(facts, "series.disease"), infused=infused,
                  median_followup_months=check.positive(facts, "series.median_followup_months", optional=True),
                  transplanted_after=check.whole(facts, "series.transplanted_after", low=0, high=infused, optional=True) or 0,
                  figures=figures)


class _Checker:
    """Reads values of one file, raising an InputError naming the file and the key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, problem: str):
        raise InputError(self.path, key, problem)

    def table(self, parent: dict, key: str) -> dict:
        value = parent.get(key)
        if not isinstance(value, dict):
            self.fail(key, "a table is required")
        return value

    def _get(self, table: dict, dotted: str, optional: bool):
        name = dotted.rsplit(".", 1)[-1]
        if name not in table:
            if optional:
                return None
            self.fail(dotted, "is required")
        return table[name]

    def number(self, table: dict, dotted: str, optional: bool = False) -> float | None:
        value = self._get(table, dotted, optional)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            self.fail(dotted, f"must be a finite number, got {value!r}")
        return float(value)

    def whole(self, table: dict, dotted: str, low: int, high: float = math.inf, optional: bool = False) -> int | None:
        value = self.number(table, dotted, optional)
        if value is None:
            return None
        if not value.is_integer() or not low <= value <= high:
            self.fail(dotted, f"must be a whole number in {low}..{high:g}, got {value:g}")
        return int(value)

    def positive(self, table: dict, dotted: str, optional: bool = False) -> float | None:
        value = self.number(table, dotted, optional)
        if value is not None and value <= 0:
            self.fail(dotted, f"must be > 0, got {value:g}")
        return value

    def share(self, table: dict, dotted: str) -> float:
        value = self.number(table, dotted)
        if not 0 <= value <= 1:
            self.fail(dotted, f"a share must be in [0, 1], got {value:g}")
        return value

    def text(self, table: dict, dotted: str) -> str:
        value = self._get(table, dotted, False)
        if not isinstance(value, str) or not value.strip():
            self.fail(dotted, f"must be a non-empty string, got {value!r}")
        return value

    def choice(self, table: dict, dotted: str, options: tuple[str, ...]) -> str:
        value = self.text(table, dotted)
        if value not in options:
            self.fail(dotted, f"must be one of {', '.join(options)}, got {value!r}")
        return value

    def figure(self, name: str, spec, infused: int) -> SeriesFigure:
        where = f"figures.{name}"
        if not isinstance(spec, dict):
            self.fail(where, "a table is required")
        metric = self.choice(spec, f"{where}.metric", tuple(METRICS))
        kinds = METRICS[metric]
        unknown = sorted(set(spec) - set(kinds) - {"metric", "says"})
        if unknown:
            self.fail(f"{where}.{unknown[0]}", f"is not a key of metric '{metric}'")
        values: dict = {"key": name, "metric": metric, "says": str(spec.get("says", ""))}
        if "of" in kinds:
            values["of"] = self.whole(spec, f"{where}.of", low=1, high=infused)
        for key, kind in kinds.items():
            if kind == "count":
                values[key] = float(self.whole(spec, f"{where}.{key}", low=0, high=values["of"]))
            elif kind == "share":
                values[key] = self.share(spec, f"{where}.{key}")
            elif kind == "day":
                values[key] = self.positive(spec, f"{where}.{key}")
            elif kind == "of_kind":
                values[key] = self.choice(spec, f"{where}.{key}", OF_KINDS)
            elif kind == "definition":
                values[key] = self.choice(spec, f"{where}.{key}", DEFINITIONS)
        return SeriesFigure(**values)
