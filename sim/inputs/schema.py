"""The closed set of sections and keys a params file may hold, and what each value must be.

A key that is not listed here is an error at load time, never a silently ignored value.
The schema is generic: a trial is described entirely by its params file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

REMISSION_CATEGORIES = ("mrd_neg_cr", "mrd_pos_cr")  # complete remission, MRD-negative or positive
NO_REMISSION = "no_cr"
RESPONSE_CATEGORIES = (*REMISSION_CATEGORIES, NO_REMISSION)
LATE_BANDS = 5  # bands of time since infusion: band 1 from day 0, band k from late.band_k_start_days
LATE_HAZARD_NAMES = {"relapse": "relapse", "infection": "infection_death", "tma": "tma_death",
                     "transplant": "transplant_death"}  # cause -> the name of its entries in [late]


@dataclass(frozen=True)
class Scalar:
    """A number with provenance; ``kind`` says what values it may take."""

    kind: str


@dataclass(frozen=True)
class TimeDist:
    """A duration in days: a table with ``family`` and the family's arguments as scalars."""


@dataclass(frozen=True)
class Weights:
    """Weights over named categories (normalised at use); ``over`` names where categories come from."""

    over: tuple[str, ...] | str


@dataclass(frozen=True)
class Levels:
    """A table of named dose levels, each a scalar in 10^6 CAR-T cells per kg."""


@dataclass(frozen=True)
class Text:
    """A string; ``level`` means it must name a dose level."""

    optional: bool = False
    level: bool = False


@dataclass(frozen=True)
class Choice(Text):
    """A string that must be one of ``options``."""

    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class Setting(Scalar):
    """A scalar entry of an optional section that may be left out (a default then applies)."""

    optional: bool = True


PROB, DURATION, RATE = Scalar("prob"), Scalar("duration"), Scalar("rate")
REAL, POSITIVE, COUNT, CAPACITY = Scalar("real"), Scalar("positive"), Scalar("count"), Scalar("capacity")


def _late() -> dict:
    """The late course: per cause a level (the band-1 hazard) before and after transplant, a
    relative level for each later band, and a gamma prior on the level after transplant."""
    keys: dict = {f"band_{k}_start_days": DURATION for k in range(2, LATE_BANDS + 1)}
    for cause, name in LATE_HAZARD_NAMES.items():
        if cause != "transplant":
            keys[f"{name}_hazard"] = RATE
        keys[f"{name}_hazard_after_transplant"] = RATE
        keys |= {f"{name}_shape_{k}": POSITIVE for k in range(2, LATE_BANDS + 1)}
        keys |= {f"{name}_prior_events_after_transplant": POSITIVE,
                 f"{name}_prior_days_after_transplant": POSITIVE}
    return keys | {"relapse_hazard_ratio_mrd_pos": POSITIVE, "disease_death_hazard": RATE,
                   "infection_hr_cytopenia_g34": POSITIVE, "infection_hr_early_infection": POSITIVE}


def _graded(**extra) -> dict:
    return {"incidence": PROB, "p_grade_at_least_2": PROB, "p_grade_at_least_3": PROB,
            "p_grade_at_least_4": PROB, "onset_day": TimeDist(), **extra}


SCHEMA: dict[str, dict[str, object]] = {
    "trial": {"name": Text(), "title": Text(), "seeds": Text(optional=True),
              # the target's class in the evidence synthesis (sim.inputs.series.CLASSES)
              "target_class": Choice(optional=True, options=("b_lineage", "lineage_depleting"))},
    "accrual": {"enrolled": COUNT, "mean_period_days": DURATION,
                "cutoff_after_last_enrolment_days": DURATION},
    "donor": {"p_new_donor": PROB, "search_days": TimeDist()},
    "manufacturing": {"collection_days": TimeDist(), "manufacturing_days": TimeDist(),
                      "p_failure": PROB, "p_insufficient_yield": PROB},
    "withdrawal": {"progression_hazard": RATE},
    "lymphodepletion": {"days": DURATION, "start_before_infusion_days": DURATION},
    "dose": {"levels": Levels(), "allocation": Weights("dose.levels"),
             "low_yield_level": Text(optional=True, level=True)},
    "expansion": {"peak_day": TimeDist()},
    "crs": _graded(reference_dose=POSITIVE, dose_log_odds=REAL, severity_log_odds_shift=REAL,
                   duration_days_mild=TimeDist(), duration_days_severe=TimeDist(),
                   p_death_given_grade_3_plus=PROB, death_fraction_of_duration=PROB,
                   death_log_odds_per_icu_wait_day=REAL),
    "icans": _graded(p_death_given_grade_4=PROB, death_days_after_onset=DURATION),
    "early": {"p_cytopenia_g34": PROB, "p_infection": PROB},
    "response": {"assessment_day": DURATION, "categories": Weights(RESPONSE_CATEGORIES),
                 "reference_dose": POSITIVE, "dose_log_odds": REAL},
    "transplant": {"p_if_cr_same_donor": PROB, "p_if_cr_new_donor": PROB,
                   "delay_days": TimeDist(), "bed_days": DURATION},
    "late": _late(),
    "resources": {"manufacturing_slots": CAPACITY, "icu_beds": CAPACITY, "transplant_beds": CAPACITY},
    # dose-finding design (sim/inputs/design_settings.py reads and checks it; absent: the fixed allocation)
    "design": {"name": Choice(optional=True, options=("fixed", "3+3", "boin", "tite_boin")),
               "levels": Text(optional=True), "start_level": Text(optional=True, level=True),
               "cohort_size": Setting("count"), "max_sample_size": Setting("count"),
               "target_dlt_rate": Setting("prob"), "elimination_cutoff": Setting("prob"),
               "early_stop_patients": Setting("count"),
               "dlt_window_days": Setting("duration"), "dlt_parts": Text(optional=True),
               "dlt_crs_min_grade": Setting("count"), "dlt_icans_min_grade": Setting("count"),
               "while_window_open": Choice(optional=True, options=("wait", "dose")),
               "replace_non_evaluable": Choice(optional=True, options=("yes", "no")),
               "expand_mtd_to_six": Choice(optional=True, options=("yes", "no")),
               "max_pending_fraction": Setting("prob"),
               "tite_estimator": Choice(optional=True, options=("imputation", "ess"))},
}
OPTIONAL_SECTIONS = ("design",)

SCALAR_ENTRY_KEYS = {"value", "source", "note", "uncertainty", "prior"}  # prior: what a calibrated entry was fitted under


def value_problem(kind: str, value: object) -> str | None:
    """Why ``value`` cannot be a scalar of ``kind``, or None if it can."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"must be a number, got {type(value).__name__} {value!r}"
    if math.isnan(value):
        return "must be a number, got nan"
    if kind == "capacity":
        ok = value == math.inf or (float(value).is_integer() and value >= 1)
        return None if ok else f"must be a whole number >= 1 or inf, got {value}"
    if math.isinf(value):
        return f"must be finite, got {value}"
    checks = {
        "prob": (0 <= value <= 1, "a probability must be in [0, 1]"),
        "duration": (value >= 0, "a duration must not be negative"),
        "rate": (value >= 0, "a hazard must not be negative"),
        "positive": (value > 0, "must be positive"),
        "count": (float(value).is_integer() and value >= 1, "must be a whole number >= 1"),
        "real": (True, ""),
    }
    ok, message = checks[kind]
    return None if ok else f"{message}, got {value}"
