"""Reported figures to overlay on the pictures, found in the trial's seeds file by what they count."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.inputs.paper import Seeds

ALIVE_STATES = ("in_remission",)
DEAD_STATES = ("died_infection", "died_tma", "died_transplant", "died_toxicity")


def reported_label(scenario: bool) -> str:
    """What reported figures are called in a picture: the trial as run, when the picture is of a scenario."""
    return "reported (trial as run)" if scenario else "reported"


def reported_count(seeds: Seeds | None, metric: str, **qualifiers: Any) -> float | None:
    """The value of the seeds figure that counts ``metric`` with exactly these qualifiers, if any."""
    if seeds is None:
        return None
    for figure in seeds.figures.values():
        if figure.metric == metric and figure.qualifiers == qualifiers:
            return figure.value
    return None


@dataclass(frozen=True)
class CrudeSurvival:
    """Crude proportions of the infused at last follow-up (not Kaplan-Meier), plotted at the median follow-up."""

    months: float
    alive_low: float
    alive_high: float
    leukaemia_free: float
    patients: float


def crude_survival(seeds: Seeds | None) -> CrudeSurvival | None:
    """Alive and leukaemia-free proportions at last follow-up from the 'late_outcome' figures.

    Patients whose state at last follow-up leaves their vital status open (relapsed, no remission)
    widen the alive proportion into a range.  None if the paper reports no outcomes at follow-up.
    """
    if seeds is None:
        return None
    late = [f for f in seeds.figures.values() if f.metric == "late_outcome" and f.modelled]
    followup = [f.value for f in seeds.figures.values() if f.metric == "median_followup_months"]
    if not late or not followup:
        return None
    total = sum(f.value for f in late)
    in_state = lambda states: sum(f.value for f in late if f.qualifiers.get("state") in states)  # noqa: E731
    free = in_state(ALIVE_STATES)
    return CrudeSurvival(followup[0], free / total, 1 - in_state(DEAD_STATES) / total, free / total, total)
