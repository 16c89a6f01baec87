"""Operating characteristics: many virtual trials of one or more designs on the same patients.

Virtual trial k meets the same candidate patients, with the same luck, under every design and
every scenario of the same params file (common random numbers): patient i of trial k takes the
uniforms at counter (k, i) of each named stream (:mod:`sim.streams`).  The candidates arrive at
the model's accrual rate (``accrual.mean_period_days`` over ``accrual.enrolled`` patients) for as
long as the trial needs them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from sim.stats.intervals import median, median_interval
from sim.model.draws import FAILED, arrival_times, dose_level_names, draw_patients, draw_uniforms
from sim.rng.streams import check_seed
from sim.table import Table
from sim.model.timeline import plan
from sim.design.dlt import Toxicity, fixed_toxicity, model_toxicity
from sim.inputs.design_settings import DesignSettings
from sim.design.trial_flow import Patients, TrialResult, fixed_trial, run_trial

BATCH = 256
CANDIDATES_PER_BATCH = 1 << 17  # candidate patients drawn at once: fewer trials per batch when each needs many
INTERVAL = (2.5, 97.5)


def spread(values, count: bool = False) -> tuple[float, float, float]:
    """(2.5th percentile, median, 97.5th percentile) over trials: the table, the terminal and the picture
    share the project's one percentile definition (:mod:`sim.stats.intervals`), by which each is a value
    some trial had, so a count is never a value between two counts.  ``count`` is kept for callers that
    say what they pass; every value follows the same rule."""
    mid, low, high = median_interval(values)
    return low, mid, high
NONE = -1  # no dose selected
NOT_APPLICABLE = -2  # a fixed allocation selects nothing by design


@dataclass
class DesignOC:
    """Every trial's result under one design, and the DLT chance of each dose."""

    settings: DesignSettings
    dlt_chance: np.ndarray
    selected: np.ndarray
    treated: np.ndarray
    dlts: np.ndarray
    duration: np.ndarray
    counts: dict[str, np.ndarray]
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def trials(self) -> int:
        return len(self.selected)


def pool_size(params, s: DesignSettings) -> int:
    """Candidate patients per trial: enough for the design's largest trial with replacements."""
    if s.name == "fixed":
        return int(params["accrual.enrolled"])
    most = 2 * 3 * len(s.levels) if s.name == "3+3" else s.max_sample_size
    return 10 * most + 20


def candidates(params, s: DesignSettings, seed: int, trials: np.ndarray, pool: int,
               rates: np.ndarray | None = None) -> tuple[list[Patients], Toxicity]:
    """The candidate patients of each trial in ``trials`` (a row each), from the model's draws."""
    u = draw_uniforms(seed, trials, pool)
    d = draw_patients(params, u)
    p = plan(params, d)
    gap = params["accrual.mean_period_days"] / max(int(params["accrual.enrolled"]) - 1, 1)
    arrival = arrival_times(gap * (pool - 1), u["accrual"])
    collected = arrival + d["search_days"] + d["collection_days"]
    doses = np.array([params.dose_levels()[name] for name in s.levels])
    tox = model_toxicity(params, d, p, u, doses, s.dlt) if rates is None else fixed_toxicity(d, u, rates, s.dlt)
    level_of = np.array([s.levels.index(n) if n in s.levels else -1 for n in dose_level_names(params)])
    failed_at = np.where(d["product"] == FAILED, collected + d["manufacturing_days"], np.inf)
    lead = params["lymphodepletion.start_before_infusion_days"]
    rows = [Patients(arrival[r], collected[r] + p["infusion_offset"][r], lead, arrival[r] + d["progression_days"][r],
                     failed_at[r], tox.dlt[r], tox.onset[r], level_of[d["dose_index"][r]]) for r in range(len(trials))]
    return rows, tox


def run_design(params, s: DesignSettings, trials: int, seed: int, rates=None, progress=None) -> DesignOC:
    """Simulate ``trials`` virtual trials of design ``s`` on the patient flow of ``params``.

    Parameters
    ----------
    params : sim.params.Params
    s : DesignSettings
    trials, seed : int
    rates : array_like, optional
        Fixed true DLT rates per dose level (escalation order) instead of the model's.
    progress : callable, optional
        Called with (done, total) after each batch.
    """
    seed = check_seed(seed)
    pool = pool_size(params, s)
    results: list[TrialResult] = []
    hits = np.zeros(len(s.levels))
    step = max(1, min(BATCH, CANDIDATES_PER_BATCH // pool))  # memory bounded whatever max_sample_size is
    for first in range(0, trials, step):
        batch = np.arange(first, min(first + step, trials))
        rows, tox = candidates(params, s, seed, batch, pool, rates)
        hits += tox.dlt.reshape(-1, len(s.levels)).mean(axis=0) * len(batch)
        for pts in rows:
            results.append(fixed_trial(s, pts, int(params["accrual.enrolled"])) if s.name == "fixed"
                           else run_trial(s, pts))
        if progress:
            progress(len(results), trials)
    chance = np.asarray(rates, float) if rates is not None else hits / trials
    return _collect(s, chance, results)


def _collect(s: DesignSettings, chance: np.ndarray, results: list[TrialResult]) -> DesignOC:
    pick = [NOT_APPLICABLE if s.name == "fixed" else (NONE if r.selected is None else r.selected) for r in results]
    keys = ("enrolled", "withdrawn", "withdrawn_waiting", "not_infused", "turned_away")
    reasons: dict[str, int] = {}
    for r in results:
        reasons[r.reason] = reasons.get(r.reason, 0) + 1
    return DesignOC(s, chance, np.array(pick), np.stack([r.treated for r in results]),
                    np.stack([r.dlts for r in results]), np.array([r.duration for r in results]),
                    {k: np.array([getattr(r, k) for r in results]) for k in keys}, reasons)


def run_designs(params, designs: list[DesignSettings], trials: int, seed: int, rates=None, progress=None):
    """Every design on the same seed, so on the same patients (common random numbers)."""
    started = time.perf_counter()
    done = [0]

    def step(k: int, total: int) -> None:
        if progress:
            progress(done[0] + k, trials * len(designs))

    out = []
    for s in designs:
        out.append(run_design(params, s, trials, seed, rates, step))
        done[0] += trials
    return out, time.perf_counter() - started


def per_dose_table(ocs: list[DesignOC], params) -> Table:
    """A row per design and dose level (and one for no dose selected): selection, patients, DLTs."""
    rows = []
    for oc in ocs:
        s = oc.settings
        for j, name in enumerate(s.levels):
            rows.append({"design": s.name, "level": name, "dose": params.dose_levels()[name],
                         "dlt_chance": oc.dlt_chance[j], **_selection(oc, j),
                         "mean_treated": oc.treated[:, j].mean(), "mean_dlts": oc.dlts[:, j].mean()})
        rows.append({"design": s.name, "level": "none", "dose": np.nan, "dlt_chance": np.nan,
                     **_selection(oc, NONE), "mean_treated": np.nan, "mean_dlts": np.nan})
    return Table({key: [row[key] for row in rows] for key in rows[0]})


def _selection(oc: DesignOC, j: int) -> dict[str, float]:
    if oc.settings.name == "fixed":
        return {"p_select": np.nan, "p_select_se": np.nan}
    share = float(np.mean(oc.selected == j))
    return {"p_select": share, "p_select_se": float(np.sqrt(share * (1 - share) / oc.trials))}


def overall_table(ocs: list[DesignOC]) -> Table:
    """A row per design: duration, withdrawals and patients, with medians and 95% intervals over trials."""
    rows = []
    for oc in ocs:
        low, _, high = spread(oc.duration)
        w = oc.counts["withdrawn"]
        w_low, w_median, w_high = spread(w, count=True)
        rows.append({"design": oc.settings.name, "trials": oc.trials,
                     "p_select_none": np.nan if oc.settings.name == "fixed" else float(np.mean(oc.selected == NONE)),
                     "duration_median_days": median(oc.duration), "duration_low95_days": low,
                     "duration_high95_days": high, "duration_mean_days": float(oc.duration.mean()),
                     "withdrawn_mean": float(w.mean()), "withdrawn_median": w_median,
                     "withdrawn_low95": w_low, "withdrawn_high95": w_high,
                     "withdrawn_waiting_mean": float(oc.counts["withdrawn_waiting"].mean()),
                     "enrolled_mean": float(oc.counts["enrolled"].mean()),
                     "treated_mean": float(oc.treated.sum(axis=1).mean()),
                     "dlts_mean": float(oc.dlts.sum(axis=1).mean()),
                     "not_infused_mean": float(oc.counts["not_infused"].mean()),
                     "turned_away_mean": float(oc.counts["turned_away"].mean())})
    return Table({key: [row[key] for row in rows] for key in rows[0]})
