"""The key outcomes of a run as a reader sees them: one row per outcome, a column per dose group.

The terminal, ``report.md`` and ``report.html`` all lay the summary of
:mod:`sim.stats.outcome_summary` out this way, so they show the same cells.  A cell is the median
over the virtual trials with its central 95% interval; where the outcome is undefined in some trials
(a rate among the infused in a trial that infused nobody, survival in a trial followed too briefly)
the cell says over how many trials it is defined.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

HIDDEN = ("n_enrolled",)  # fixed by the design: shown in the run's header, not as an outcome
ALL = "all"


@dataclass(frozen=True)
class OutcomeRow:
    """One outcome's cells: its label and unit, then a cell per group ('' where the group has no such outcome)."""

    name: str
    label: str
    unit: str
    cells: tuple[str, ...]


def value(x: Any, unit: str) -> str:
    """A value in its unit: proportions as whole percentages, counts bare, others to one decimal."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    x = float(x)
    if unit == "proportion":
        return f"{100 * x:.0f}%"
    return f"{x:.0f}" if x.is_integer() else f"{x:.1f}"


def cell(record: Mapping[str, Any]) -> str:
    """'median [low, high]', with '(k/N)' when the outcome is defined in only k of the N trials."""
    unit = record["unit"]
    defined, undefined = int(record["trials_defined"]), int(record["trials_undefined"])
    if defined == 0:
        return f"undefined in all {undefined} trials"
    text = f"{value(record['median'], unit)} [{value(record['low95'], unit)}, {value(record['high95'], unit)}]"
    return text + (f" ({defined}/{defined + undefined})" if undefined else "")


def groups(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """The dose groups of a summary, 'all' first."""
    return list(dict.fromkeys([ALL, *(r["dose_group"] for r in records)]))


def outcome_rows(records: list[Mapping[str, Any]]) -> list[OutcomeRow]:
    """The summary's records laid out a row per outcome, a cell per group."""
    columns = groups(records)
    by_key = {(r["outcome"], r["dose_group"]): r for r in records}
    names = [n for n in dict.fromkeys(r["outcome"] for r in records) if n not in HIDDEN]
    rows = []
    for name in names:
        first = by_key[(name, ALL)]
        cells = tuple(cell(by_key[(name, g)]) if (name, g) in by_key else "" for g in columns)
        rows.append(OutcomeRow(name, first["label"], first["unit"], cells))
    return rows


def header(records: list[Mapping[str, Any]]) -> list[str]:
    """Column titles: the outcome, then 'all patients' and each dose group."""
    return ["key outcome"] + ["all patients" if g == ALL else f"dose group {g}" for g in groups(records)]


def interval_note(records: list[Mapping[str, Any]]) -> str:
    """What the intervals are, and how undefined trials are shown."""
    kind = records[0]["interval"] if records else ""
    return (f"Median [2.5th, 97.5th percentile] over the virtual trials; the interval is {kind} (not a confidence "
            "interval for the mean).  Rates are of the infused patients (CR: of those assessed); a dose group's "
            "figures are of the patients infused at that level.  Where an outcome is undefined in some trials "
            "(nobody infused, or no follow-up that long), the cell ends with (k/N): defined in k of the N trials, "
            "the median and interval being over those k.")


def text_table(records: list[Mapping[str, Any]]) -> str:
    """The key outcomes as a plain-text table for the terminal."""
    rows = outcome_rows(records)
    titles = header(records)
    labels = [f"{r.label} ({r.unit})" for r in rows]
    widths = [max(len(t), *(len(x) for x in column)) for t, column in
              zip(titles, [labels, *zip(*(r.cells for r in rows))])]
    line = lambda parts: "  ".join(p.ljust(w) for p, w in zip(parts, widths)).rstrip()  # noqa: E731
    out = [line(titles), line(["-" * w for w in widths])]
    out += [line([label, *r.cells]) for label, r in zip(labels, rows)]
    return "\n".join(out)
