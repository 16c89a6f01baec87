"""Figures of virtual trials, named so that a seeds file can ask for them, computed over a batch of trials.

A seeds figure names a ``metric`` and its qualifiers; :func:`compute_batch` evaluates it on every
trial of a :class:`~sim.stats.batch.Batch` at once (and :func:`compute` on one trial's patient
table, a batch of one).  Three filters apply to every metric: ``first_infused = n`` (the first n
patients infused, as in an interim report), ``transplanted = true|false`` and ``responded =
true|false`` (a complete remission at the assessment); they narrow each trial's analysis set (a
mask) rather than copying its rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from sim.inputs.schema import RESPONSE_CATEGORIES
from sim.stats.batch import Batch
from sim.stats.competing_risks import cumulative_incidence
from sim.stats.endpoints import (NON_RELAPSE_DEATH, RELAPSE, in_remission, infused, leukaemia_free_survival,
                                 no_remission, overall_survival, relapse_and_nrm)
from sim.stats.kaplan_meier import DAYS_PER_MONTH, KaplanMeier, median_time, reverse_median_followup, survival_at

NOT_MODELLED = "not_modelled"
FILTERS = ("first_infused", "transplanted", "responded")
LATE_STATES = ("in_remission", "relapsed", "no_remission", "died_infection", "died_tma", "died_transplant",
               "died_toxicity")
Columns = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class Metric:
    """A figure over a batch: ``compute(batch, mask, qualifiers)`` gives one value per trial (row)."""

    compute: Callable[[Batch, np.ndarray, dict[str, Any]], np.ndarray]
    qualifiers: tuple[str, ...] = ()
    describe: str = ""
    kind: str = "count"  # what a reported value may be: see FIGURE_KINDS


def _count(mask: np.ndarray) -> np.ndarray:
    return np.count_nonzero(mask, axis=-1).astype(float)


def _counting(select: Callable[[Batch, dict], np.ndarray]) -> Callable[[Batch, np.ndarray, dict], np.ndarray]:
    return lambda b, m, q: _count(m & select(b, q))


def _grade_between(column: str) -> Callable[[Batch, dict], np.ndarray]:
    return lambda b, q: b.infused & (b[column] >= q.get("low", 1)) & (b[column] <= q.get("high", 4))


def late_state(t: Columns) -> np.ndarray:
    """Each infused patient's outcome at cut-off in the papers' terms ('' if not infused); any shape."""
    given = infused(t)
    state = np.full(given.shape, "", dtype=object)
    state[given & in_remission(t)] = "in_remission"
    state[given & (t["death_cause"] == "infection")] = "died_infection"
    state[given & (t["death_cause"] == "tma")] = "died_tma"
    state[given & (t["death_cause"] == "transplant")] = "died_transplant"
    state[given & (t["death_cause"] == "toxicity")] = "died_toxicity"
    state[given & t["relapsed"]] = "relapsed"
    state[given & no_remission(t)] = "no_remission"
    return state


def _late_states(b: Batch) -> np.ndarray:
    return b["late_state"] if "late_state" in b else late_state(b)


def _peak_day(b: Batch, m: np.ndarray, q: dict) -> np.ndarray:
    days = np.where(m & b.infused & ~np.isnan(b["t_peak"]), b["t_peak"] - b["t_infusion"], np.nan)
    out = np.full(days.shape[0], np.nan)
    defined = ~np.isnan(days).all(axis=-1)
    if defined.any():
        out[defined] = {"median": np.nanmedian, "min": np.nanmin, "max": np.nanmax}[q["stat"]](days[defined], axis=-1)
    return out


def median_followup_months(b: Batch, m: np.ndarray, q: dict | None = None) -> np.ndarray:
    """Median follow-up by reverse Kaplan-Meier on overall survival, months, per trial."""
    return reverse_median_followup(*overall_survival(b), m & b.infused) / DAYS_PER_MONTH


# event-free survival: relapse, no remission at the assessment, or death (the model's EFS is its LFS)
KM_ENDPOINTS = {"os": overall_survival, "efs": leukaemia_free_survival, "lfs": leukaemia_free_survival}


def km_median_months(b: Batch, m: np.ndarray, q: dict) -> np.ndarray:
    """Kaplan-Meier median of an endpoint ('os', 'efs' or 'lfs') from infusion, months, per trial
    (NaN where survival never falls to one half)."""
    return median_time(*KM_ENDPOINTS[q["endpoint"]](b), m & b.infused) / DAYS_PER_MONTH


def km_survival(b: Batch, m: np.ndarray, q: dict) -> np.ndarray:
    """Kaplan-Meier survival of an endpoint ('os', 'efs' or 'lfs') at ``months`` after infusion, per trial
    (NaN where a trial's follow-up ends before then with patients still event-free)."""
    return survival_at(*KM_ENDPOINTS[q["endpoint"]](b), m & b.infused, q["months"] * DAYS_PER_MONTH)


# the competing events of a cumulative incidence: relapse (or no remission at the assessment) and
# non-relapse death, as the Aalen-Johansen key outcomes count them (sim.stats.endpoints.relapse_and_nrm)
INCIDENCE_EVENTS = {"relapse": RELAPSE, "non_relapse_death": NON_RELAPSE_DEATH}


def incidence(b: Batch, m: np.ndarray, q: dict) -> np.ndarray:
    """Aalen-Johansen cumulative incidence of relapse or of non-relapse death (each competing with the
    other) at ``months`` after infusion, per trial (NaN where a trial's follow-up ends before then)."""
    fit = cumulative_incidence(*relapse_and_nrm(b), m & b.infused, len(INCIDENCE_EVENTS))
    return fit.rows_at(q["months"] * DAYS_PER_MONTH, INCIDENCE_EVENTS[q["event"]])


def non_relapse_death(b: Batch, q: dict) -> np.ndarray:
    """Infused patients who died before any relapse (or no remission), of a cause other than the
    disease, later than ``after_day`` days after infusion if given."""
    days, cause = relapse_and_nrm(b)
    return b.infused & (cause == NON_RELAPSE_DEATH) & (days > q.get("after_day", -np.inf))


def death_by_day(b: Batch, q: dict) -> np.ndarray:
    """Infused patients who died within ``day`` days of infusion, of any cause."""
    return b.infused & (b["t_death"] - b["t_infusion"] <= q["day"])


SHARE_OUTCOMES: dict[str, Callable[[Batch], np.ndarray]] = {
    "non_relapse_death": lambda b: non_relapse_death(b, {}),
    "death": lambda b: ~np.isnan(b["t_death"]),
    "relapse": lambda b: b["relapsed"],
    "in_remission": lambda b: _late_states(b) == "in_remission",
}


def share(b: Batch, m: np.ndarray, q: dict) -> np.ndarray:
    """Share of the infused patients in the analysis set (the subgroup the filters pick) with an
    outcome, per trial (NaN for an empty subgroup)."""
    group = m & b.infused
    size = _count(group)
    hits = _count(group & SHARE_OUTCOMES[q["outcome"]](b))
    return np.divide(hits, size, out=np.full(size.shape, np.nan), where=size > 0)


METRICS: dict[str, Metric] = {
    "enrolled": Metric(lambda b, m, q: _count(m), (), "patients enrolled"),
    "withdrawn": Metric(_counting(lambda b, q: b["final_state"] == "withdrawn"), (), "withdrew before infusion"),
    "not_infused": Metric(_counting(lambda b, q: ~b.infused), (), "enrolled but not infused"),
    "infused": Metric(_counting(lambda b, q: b.infused), FILTERS, "infused"),
    "expansion": Metric(_counting(lambda b, q: b.infused), FILTERS,
                        "infused patients with CAR-T expansion: every one, in the model"),
    "infused_at_level": Metric(_counting(lambda b, q: b.infused & (b["dose_level"] == q["level"])),
                               ("level",) + FILTERS, "infused at a dose level"),
    "crs_grade": Metric(_counting(_grade_between("crs_grade")), ("low", "high") + FILTERS, "CRS of grade low..high"),
    "icans_grade": Metric(_counting(_grade_between("icans_grade")), ("low", "high") + FILTERS,
                          "CRES/ICANS of grade low..high"),
    "cytopenia_g34": Metric(_counting(lambda b, q: b.infused & b["cytopenia_g34"]), FILTERS, "grade 3-4 cytopenia"),
    "early_infection": Metric(_counting(lambda b, q: b.infused & b["early_infection"]), FILTERS,
                              "infection by day 30"),
    "response": Metric(_counting(lambda b, q: b["response"] == q["category"]), ("category",) + FILTERS,
                       "response category"),
    "complete_remission": Metric(_counting(lambda b, q: in_remission(b)), FILTERS, "CR, MRD-negative or positive"),
    "transplanted": Metric(_counting(lambda b, q: ~np.isnan(b["t_transplant"])), FILTERS, "transplanted after CAR-T"),
    "late_outcome": Metric(_counting(lambda b, q: _late_states(b) == q["state"]), ("state",) + FILTERS,
                           "outcome at cut-off"),
    "peak_day": Metric(_peak_day, ("stat",) + FILTERS, "day of peak expansion", "duration"),
    "median_followup_months": Metric(median_followup_months, (), "median follow-up, reverse Kaplan-Meier", "duration"),
    "km_median_months": Metric(km_median_months, ("endpoint",) + FILTERS, "Kaplan-Meier median of OS, EFS or LFS",
                               "duration"),
    "km_survival": Metric(km_survival, ("endpoint", "months") + FILTERS,
                          "Kaplan-Meier survival (OS, EFS or LFS) at a time after infusion", "share"),
    "cumulative_incidence": Metric(incidence, ("event", "months") + FILTERS,
                                   "cumulative incidence of relapse or non-relapse death at a time (Aalen-Johansen)",
                                   "share"),
    "non_relapse_mortality": Metric(_counting(non_relapse_death), ("after_day",) + FILTERS,
                                    "non-relapse deaths (after a day, if given)"),
    "deaths_by_day": Metric(_counting(death_by_day), ("day",) + FILTERS, "deaths of any cause by a day"),
    "share": Metric(share, ("outcome",) + FILTERS, "share of a subgroup with an outcome", "share"),
    NOT_MODELLED: Metric(lambda b, m, q: np.full(b.n_trials, np.nan), (), "a figure the model does not produce", "any"),
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
    "responded": lambda v: isinstance(v, bool),
    "endpoint": lambda v: v in KM_ENDPOINTS,
    "after_day": lambda v: _number(v) and v >= 0,
    "day": lambda v: _number(v) and v > 0,
    "outcome": lambda v: v in SHARE_OUTCOMES,
    "months": lambda v: _number(v) and v > 0,
    "event": lambda v: v in INCIDENCE_EVENTS,
}
REQUIRED_QUALIFIERS = {"infused_at_level": ("level",), "response": ("category",),
                       "late_outcome": ("state",), "peak_day": ("stat",), "km_median_months": ("endpoint",),
                       "deaths_by_day": ("day",), "share": ("outcome",), "km_survival": ("endpoint", "months"),
                       "cumulative_incidence": ("event", "months")}


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)


def qualifier_problem(metric: str, qualifiers: dict[str, Any]) -> str | None:
    """Why these qualifiers do not fit ``metric``, or None."""
    for name in REQUIRED_QUALIFIERS.get(metric, ()):
        if name not in qualifiers:
            return f"metric {metric!r} needs '{name}'"
    for name, value in qualifiers.items():
        if not QUALIFIER_VALUES[name](value):
            return f"{name} = {value!r} is not a valid value"
    return None


def analysis_set(b: Batch, q: dict[str, Any]) -> np.ndarray:
    """Each trial's patients that a figure with qualifiers ``q`` counts: a (trials, patients) mask."""
    keep = b.present
    if "transplanted" in q:
        keep = keep & b.infused & (~np.isnan(b["t_transplant"]) == q["transplanted"])
    if "responded" in q:
        keep = keep & b.infused & (in_remission(b) == q["responded"])
    if "first_infused" in q:
        order = np.argsort(np.where(b.infused, b["t_infusion"], np.inf), axis=-1, kind="stable")
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(order.shape[-1])[None, :], axis=-1)
        keep = keep & b.infused & (rank < q["first_infused"])
    return keep


# counts whose denominator is the patients enrolled (in the analysis set); every other count is of the
# infused patients in the analysis set; other metrics (days, months, shares) have none
ENROLMENT_COUNTS = ("withdrawn", "not_infused", "infused")
NO_DENOMINATOR = ("enrolled", *(name for name, metric in METRICS.items() if metric.kind != "count"))


def denominator_batch(metric: str, qualifiers: dict[str, Any], batch: Batch) -> np.ndarray | None:
    """The number of patients a count figure counts among, per trial (None for a figure that is not
    a share of patients): the enrolled for an enrolment count without filters, else the infused in
    the figure's analysis set.  A reported ``of`` is compared with this number."""
    if metric in NO_DENOMINATOR:
        return None
    keep = analysis_set(batch, qualifiers)
    enrolment = metric in ENROLMENT_COUNTS and not set(qualifiers) & set(FILTERS)
    return _count(keep if enrolment else keep & batch.infused)


def denominator_column(key: str) -> str:
    """The trials-table column holding figure ``key``'s denominator in each trial."""
    return f"{key}{DENOMINATOR_SUFFIX}"


DENOMINATOR_SUFFIX = "_denominator"


def at_denominator(values, denominators, of: int | None) -> np.ndarray:
    """The values of the virtual trials whose denominator is ``of``: the predictive of a count given the
    reported n.  Every value when ``of`` or ``denominators`` is None (a figure that is not k of n)."""
    values = np.asarray(values, dtype=float)
    if of is None or denominators is None:
        return values
    return values[np.asarray(denominators, dtype=float) == of]


def figure_at_denominator(trials, key: str, of: int | None) -> np.ndarray:
    """Figure ``key`` over the trials of a trials table (any mapping of columns, or a Table with
    ``names``) whose denominator equals ``of``."""
    names = trials.names if hasattr(trials, "names") else list(trials)
    column = denominator_column(key)
    return at_denominator(trials[key], trials[column] if column in names else None, of)


def compute_batch(metric: str, qualifiers: dict[str, Any], batch: Batch) -> np.ndarray:
    """Evaluate one metric with its qualifiers on every trial of a batch: one value per trial."""
    return METRICS[metric].compute(batch, analysis_set(batch, qualifiers), qualifiers)


def compute(metric: str, qualifiers: dict[str, Any], table: Columns) -> float:
    """Evaluate one metric with its qualifiers on one trial's patient table (a batch of one)."""
    return float(compute_batch(metric, qualifiers, Batch.of_one(table))[0])


SURVIVAL_ENDPOINTS = {"os": overall_survival, "lfs": leukaemia_free_survival}
SURVIVAL_MONTHS = (6, 12)
SURVIVAL_OUTCOMES = tuple(f"{e}_{m}m" for e in SURVIVAL_ENDPOINTS for m in SURVIVAL_MONTHS)
SURVIVAL_LABELS = {"os_6m": "overall survival at 6 months (Kaplan-Meier)",
                   "os_12m": "overall survival at 12 months (Kaplan-Meier)",
                   "lfs_6m": "leukaemia-free survival at 6 months (Kaplan-Meier)",
                   "lfs_12m": "leukaemia-free survival at 12 months (Kaplan-Meier)",
                   "median_followup_months": "median follow-up, months (reverse Kaplan-Meier)"}
SURVIVAL_UNITS = {"os_6m": "proportion", "os_12m": "proportion", "lfs_6m": "proportion", "lfs_12m": "proportion",
                  "median_followup_months": "months"}


def survival_at_months(b: Batch, endpoint: str, months) -> np.ndarray:
    """Kaplan-Meier survival of an endpoint ('os' or 'lfs') at ``months`` after infusion, per trial (fitted once
    per batch: the trials table and the key outcomes read the same fit)."""
    key = ("kaplan_meier", endpoint)
    if key not in b.cache:
        b.cache[key] = KaplanMeier.fit(*SURVIVAL_ENDPOINTS[endpoint](b), b.present & b.infused)
    return b.cache[key].at(np.asarray(months) * DAYS_PER_MONTH)


def survival_outcomes(b: Batch) -> dict[str, np.ndarray]:
    """Kaplan-Meier OS and LFS at 6 and 12 months, and median follow-up (months), per trial."""
    out = {}
    for name in SURVIVAL_ENDPOINTS:
        values = survival_at_months(b, name, list(SURVIVAL_MONTHS))
        out |= {f"{name}_{months}m": values[:, i] for i, months in enumerate(SURVIVAL_MONTHS)}
    return out | {"median_followup_months": median_followup_months(b, b.present)}


def trial_figures(figures: Mapping, b: Batch) -> dict[str, np.ndarray]:
    """Every modelled seeds figure (``figures``: key to seeds figure), the denominator of each that reports
    one (``<key>_denominator``, :func:`denominator_batch`), and the survival outcomes, per trial."""
    marked = b.with_columns(late_state=late_state(b))
    values = {key: compute_batch(f.metric, f.qualifiers, marked) for key, f in figures.items() if f.modelled}
    of = {denominator_column(key): denominator_batch(f.metric, f.qualifiers, marked)
          for key, f in figures.items() if f.modelled and f.of is not None}
    return values | {name: n for name, n in of.items() if n is not None} | survival_outcomes(b)
