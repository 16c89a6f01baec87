"""Which of the paper's reported figures a run may show beside its simulated ones.

The rule: the paper's values are shown only beside a run of the trial as the paper ran it.

- A run that enrols another number of patients than the paper (a new trial, ``--enrolled``, a
  scenario changing ``accrual.enrolled``) drops the paper's figures: a count of 30 patients is never
  set beside a count of 14.
- A run of a scenario (any changed entry) keeps its simulated counts but not the paper's values:
  the paper describes the trial as run, not the what-if.
- The enrolled count itself is a design fact, not an outcome, and is never listed.

The decision uses only what the run wrote (its summary table and the manifest's scenario), so the
command line, the report and the pictures apply the same rule to a results folder.
"""

from __future__ import annotations

import math

import numpy as np

from sim.table import Table

ENROLLED = "enrolled"


def paper_view(summary: Table, scenario: dict | None) -> tuple[Table, str]:
    """The summary rows to show, with the paper's values removed where the rule says so, and why ('' if kept)."""
    reported = np.asarray(summary["reported"], dtype=float)
    keep = np.asarray(summary["figure"]) != ENROLLED
    note = ""
    enrolled = paper_enrolled(summary)
    if enrolled is not None and enrolled[0] != enrolled[1]:
        keep &= np.isnan(reported)
        note = (f"The paper's figures are not shown: this run enrols {enrolled[1]:g} patients per trial, "
                f"the paper {enrolled[0]:g}.")
    elif scenario and scenario.get("changed") and not np.all(np.isnan(reported)):
        reported = np.full(len(reported), np.nan)
        note = (f"The paper's values are not shown beside scenario '{scenario.get('name', '')}', which changes "
                f"{len(scenario['changed'])} entries: the paper reports the trial as run, not the scenario.")
    columns = {name: np.asarray(summary[name])[keep] for name in summary.names}
    columns["reported"] = reported[keep]
    return Table(columns), note


def paper_enrolled(summary: Table) -> tuple[float, float] | None:
    """(the paper's enrolled count, the run's), or None when the summary has no enrolled figure."""
    for row in summary.rows():
        if row["figure"] == ENROLLED and not math.isnan(float(row["reported"])):
            return float(row["reported"]), float(row["sim_median"])
    return None


def with_rate(count: float, of: float) -> str:
    """A reported count as 'k/n (p%)', or the bare value when it has no denominator."""
    if math.isnan(count):
        return "-"
    text = f"{count:g}"
    if of is None or math.isnan(of) or of <= 0:
        return text
    return f"{text}/{of:g} ({100 * count / of:.0f}%)"


def shows_paper(summary_records: list[dict], scenario: dict | None) -> bool:
    """Whether a run, from its ``summary.json`` figures and scenario, may show the paper's figures at all."""
    if not any(r.get("reported") is not None and not math.isnan(r["reported"]) for r in summary_records):
        return False  # a planned trial: no paper
    columns = ("figure", "reported", "sim_median")
    table = Table({c: [(r.get(c) if r.get(c) is not None else math.nan) for r in summary_records] for c in columns})
    return paper_view(table, scenario)[1] == ""
