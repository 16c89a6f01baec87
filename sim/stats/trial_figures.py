"""Figures computed on one virtual trial, named so that a seeds file can ask for them.

A seeds figure names a ``metric`` and its qualifiers; :func:`compute` evaluates it on a trial's
patient table.  Two filters apply to every metric: ``first_infused = n`` (the first n patients
infused, as in an interim report) and ``transplanted = true|false``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from sim.inputs.schema import RESPONSE_CATEGORIES
from sim.stats.kaplan_meier import DAYS_PER_MONTH, km_survival_at, reverse_km_median_followup

NOT_MODELLED = "not_modelled"
FILTERS = ("first_infused", "transplanted")
LATE_STATES = ("in_remission", "relapsed", "no_remission", "died_infection", "died_tma", "died_transplant")
Table = dict[str, np.ndarray]


@dataclass(frozen=True)
class Metric:
    compute: Callable[[Table, dict[str, Any]], float]
    qualifiers: tuple[str, ...] = ()
    describe: str = ""


def _infused(t: Table) -> np.ndarray:
    return ~np.isnan(t["t_infusion"])


def _count(mask: np.ndarray) -> float:
    return float(np.count_nonzero(mask))


def _grade_between(column: str) -> Callable[[Table, dict], float]:
    def count(t: Table, q: dict) -> float:
        grade = t[column]
        return _count(_infused(t) & (grade >= q.get("low", 1)) & (grade <= q.get("high", 4)))
    return count


def late_state(t: Table) -> np.ndarray:
    """Each infused patient's outcome at cut-off in the papers' terms ('' if not infused)."""
    state = np.full(len(t["patient"]), "", dtype=object)
    infused = _infused(t)
    state[infused & np.isin(t["response"], ["mrd_neg_cr", "mrd_pos_cr"])] = "in_remission"
    state[infused & (t["death_cause"] == "infection")] = "died_infection"
    state[infused & (t["death_cause"] == "tma")] = "died_tma"
    state[infused & (t["death_cause"] == "transplant")] = "died_transplant"
    state[infused & t["relapsed"]] = "relapsed"
    state[infused & (t["response"] == "no_cr")] = "no_remission"
    return state


def _late_states(t: Table) -> np.ndarray:
    return t["late_state"] if "late_state" in t else late_state(t)


def _peak_day(t: Table, q: dict) -> float:
    days = (t["t_peak"] - t["t_infusion"])[_infused(t) & ~np.isnan(t["t_peak"])]
    if days.size == 0:
        return np.nan
    return float({"median": np.median, "min": np.min, "max": np.max}[q["stat"]](days))


def overall_survival(t: Table) -> tuple[np.ndarray, np.ndarray]:
    """Days from infusion to death or cut-off, and whether it was death, for infused patients."""
    infused = _infused(t)
    return (t["t_end"] - t["t_infusion"])[infused], ~np.isnan(t["t_death"][infused])


def leukaemia_free_survival(t: Table) -> tuple[np.ndarray, np.ndarray]:
    """Days from infusion to relapse, no remission at assessment, death, or cut-off."""
    infused = _infused(t)
    failure = np.where(t["response"] == "no_cr", t["t_response"], np.nan)
    first = np.fmin(np.fmin(t["t_relapse"], t["t_death"]), failure)
    end = np.where(np.isnan(first), t["t_end"], first)
    return (end - t["t_infusion"])[infused], ~np.isnan(first[infused])


def _median_followup_months(t: Table, q: dict) -> float:
    time, died = overall_survival(t)
    return reverse_km_median_followup(time, died) / DAYS_PER_MONTH


METRICS: dict[str, Metric] = {
    "enrolled": Metric(lambda t, q: float(len(t["patient"])), (), "patients enrolled"),
    "withdrawn": Metric(lambda t, q: _count(t["final_state"] == "withdrawn"), (), "withdrew before infusion"),
    "not_infused": Metric(lambda t, q: _count(~_infused(t)), (), "enrolled but not infused"),
    "infused": Metric(lambda t, q: _count(_infused(t)), FILTERS, "infused"),
    "infused_at_level": Metric(lambda t, q: _count(_infused(t) & (t["dose_level"] == q["level"])),
                               ("level",) + FILTERS, "infused at a dose level"),
    "crs_grade": Metric(_grade_between("crs_grade"), ("low", "high") + FILTERS, "CRS of grade low..high"),
    "icans_grade": Metric(_grade_between("icans_grade"), ("low", "high") + FILTERS, "CRES/ICANS of grade low..high"),
    "cytopenia_g34": Metric(lambda t, q: _count(_infused(t) & t["cytopenia_g34"]), FILTERS, "grade 3-4 cytopenia"),
    "early_infection": Metric(lambda t, q: _count(_infused(t) & t["early_infection"]), FILTERS, "infection by day 30"),
    "response": Metric(lambda t, q: _count(t["response"] == q["category"]), ("category",) + FILTERS, "response category"),
    "complete_remission": Metric(lambda t, q: _count(np.isin(t["response"], ["mrd_neg_cr", "mrd_pos_cr"])),
                                 FILTERS, "CR, MRD-negative or positive"),
    "transplanted": Metric(lambda t, q: _count(~np.isnan(t["t_transplant"])), FILTERS, "transplanted after CAR-T"),
    "late_outcome": Metric(lambda t, q: _count(_late_states(t) == q["state"]), ("state",) + FILTERS,
                           "outcome at cut-off"),
    "peak_day": Metric(_peak_day, ("stat",) + FILTERS, "day of peak expansion"),
    "median_followup_months": Metric(_median_followup_months, (), "median follow-up, reverse Kaplan-Meier"),
    NOT_MODELLED: Metric(lambda t, q: np.nan, (), "a figure the model does not produce"),
}

QUALIFIER_VALUES: dict[str, Callable[[Any], bool]] = {
    "level": lambda v: isinstance(v, str) and v != "",
    "low": lambda v: v in (1, 2, 3, 4) and not isinstance(v, bool),
    "high": lambda v: v in (1, 2, 3, 4) and not isinstance(v, bool),
    "category": lambda v: v in RESPONSE_CATEGORIES,
    "state": lambda v: v in LATE_STATES,
    "stat": lambda v: v in ("median", "min", "max"),
    "first_infused": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
    "transplanted": lambda v: isinstance(v, bool),
}
REQUIRED_QUALIFIERS = {"infused_at_level": ("level",), "response": ("category",),
                       "late_outcome": ("state",), "peak_day": ("stat",)}


def qualifier_problem(metric: str, qualifiers: dict[str, Any]) -> str | None:
    """Why these qualifiers do not fit ``metric``, or None."""
    for name in REQUIRED_QUALIFIERS.get(metric, ()):
        if name not in qualifiers:
            return f"metric {metric!r} needs '{name}'"
    for name, value in qualifiers.items():
        if not QUALIFIER_VALUES[name](value):
            return f"{name} = {value!r} is not a valid value"
    return None


def _subset(t: Table, q: dict[str, Any]) -> Table:
    if not any(name in q for name in FILTERS):
        return t
    keep = np.ones(len(t["patient"]), dtype=bool)
    if "transplanted" in q:
        keep &= _infused(t) & (~np.isnan(t["t_transplant"]) == q["transplanted"])
    if "first_infused" in q:
        order = np.argsort(np.where(_infused(t), t["t_infusion"], np.inf), kind="stable")
        first = np.zeros_like(keep)
        first[order[: q["first_infused"]]] = True
        keep &= first & _infused(t)
    return {name: column[keep] for name, column in t.items()}


def compute(metric: str, qualifiers: dict[str, Any], table: Table) -> float:
    """Evaluate one metric with its qualifiers on a trial's patient table."""
    return METRICS[metric].compute(_subset(table, qualifiers), qualifiers)


SURVIVAL_ENDPOINTS = {"os": overall_survival, "lfs": leukaemia_free_survival}
SURVIVAL_MONTHS = (6, 12)
SURVIVAL_OUTCOMES = tuple(f"{e}_{m}m" for e in SURVIVAL_ENDPOINTS for m in SURVIVAL_MONTHS)


def survival_outcomes(table: Table, median_followup: float | None = None) -> dict[str, float]:
    """Kaplan-Meier OS and LFS at 6 and 12 months, and median follow-up (months)."""
    out = {}
    for name, endpoint in SURVIVAL_ENDPOINTS.items():
        at = np.array(SURVIVAL_MONTHS) * DAYS_PER_MONTH
        for months, value in zip(SURVIVAL_MONTHS, km_survival_at(*endpoint(table), at)):
            out[f"{name}_{months}m"] = float(value)
    out["median_followup_months"] = (_median_followup_months(table, {}) if median_followup is None
                                     else median_followup)
    return out
