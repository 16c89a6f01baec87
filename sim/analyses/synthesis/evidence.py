"""The evidence table: each series' reported figures beside the model's, the pooled and predictive
levels per cause and class, and the leave-one-out check of each series' non-relapse mortality.

Every interval is labelled with what it is:

- ``posterior (parameter uncertainty)``: the fitted model's chance of the figure, over the posterior;
- ``pooled level (parameter uncertainty)``: exp(mu), the class's mean log level;
- ``predictive level of a new trial (parameter uncertainty and between-trial heterogeneity)``;
- ``leave-one-out predictive count (parameter uncertainty, heterogeneity and one trial's chance)``.

Leave-one-out uses integrated importance sampling (Vehtari, Mononen, Tolvanen, Sivula & Winther,
J Mach Learn Res 2016;17(103):1-38): each posterior draw of (mu, tau and, with ``--sample-inputs``, the band
shapes) is weighted by 1 / p(y_j | mu, tau, shapes), the series' likelihood at the draw's shapes averaged over
its own level (``Z_DRAWS`` draws of z), which removes series j's own pull on everything the series share
without refitting; the weights' effective sample size and Pareto k-hat are reported.  Where the first falls
below ``MIN_IS_ESS_SHARE`` of the draws, or the second exceeds ``MAX_LOO_PARETO_K`` (a series that pins what
the others share so tightly that few draws represent the posterior without it), the series is refitted
without it (exact leave-one-out for that series, as the loo package's ``reloo`` does for a high Pareto k).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import stats

from sim.analyses.posterior import MAX_PARETO_K, pareto_k
from sim.analyses.synthesis.fit import Synthesis
from sim.analyses.synthesis.hierarchy import CAUSE_LABELS, CAUSES
from sim.analyses.synthesis.nuisance import FACTORS
from sim.analyses.synthesis.predictive import interval, map_log_levels
from sim.analyses.synthesis.series_likelihood import SeriesLikelihood
from sim.inputs.series import Series, SeriesFigure
from sim.model.late_bands import level_path
from sim.rng.streams import stream_key

Z_DRAWS = 200
LOO_DRAWS = 1000
MIN_IS_ESS_SHARE = 0.1  # weights whose ESS is below 10% of the draws rest on a few of them, and so do the interval's tails: refit
# Weights whose largest values follow a generalised Pareto with shape above 0.7 have so heavy a tail that importance
# sampling is unreliable however large their ESS (Vehtari, Gelman & Gabry, Stat Comput 2017;27:1413-32, doi
# 10.1007/s11222-016-9696-4; the loo package refits such a point, `reloo`): refit those too.
MAX_LOO_PARETO_K = MAX_PARETO_K
POSTERIOR = "posterior (parameter uncertainty)"
POOLED = "pooled level per day (parameter uncertainty)"
PREDICTIVE = "predictive level per day of a new trial (parameter uncertainty and between-trial heterogeneity)"
TRIAL_ONLY = "this trial's data alone (maximum likelihood; posterior 95% interval, parameter uncertainty)"
LOO = "leave-one-out predictive count for a trial of this size (parameter uncertainty, heterogeneity, one trial's chance)"
COLUMNS = ["row", "series", "target", "target_class", "cause_or_figure", "metric", "reported", "of", "day",
           "estimate", "low", "high", "interval"]


def _rng(synthesis: Synthesis, name: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(synthesis.sample.seed, spawn_key=(stream_key(name),)))


def _thinned(synthesis: Synthesis, count: int) -> np.ndarray:
    theta = synthesis.sample.theta
    return theta[np.linspace(0, len(theta) - 1, min(count, len(theta))).astype(int)]


def shape_inputs(hierarchy, theta: np.ndarray, repeat: int = 1) -> dict[str, np.ndarray] | None:
    """The band shapes a fit sampled, by params path, at the draws ``theta`` (each repeated ``repeat`` times), as a
    series' chances read them: a series' figure at a draw is computed at that draw's shapes, as the fit computed
    its likelihood; None when the fit held them (the reference params' values are used)."""
    values = hierarchy.nuisance_values(theta)
    paths = hierarchy.nuisance.paths
    out = {p: np.repeat(values[:, i], repeat) for i, p in enumerate(paths) if p not in FACTORS}
    return out or None


def series_rows(synthesis: Synthesis) -> list[dict]:
    """One row per figure of each series: reported value and the model's posterior estimate of it."""
    theta = _thinned(synthesis, LOO_DRAWS)
    levels = np.exp(synthesis.hierarchy.log_levels(theta))  # (draws, cause, unit)
    likelihood = synthesis.likelihood
    count = len(likelihood.series)
    chances = likelihood.chances({c: levels[:, i, :count] for i, c in enumerate(CAUSES)},
                                 shape_inputs(synthesis.hierarchy, theta))
    rows = []
    for (j, term), categories in zip(likelihood.terms, chances):
        s = likelihood.series[j]
        share = sum(categories)
        reported = sum(term.events)
        estimate = interval(share * term.size) if term.metric.endswith("deaths") or term.metric == "relapse_count" \
            else interval(share)
        shown = reported if term.metric.endswith("deaths") or term.metric == "relapse_count" else reported / term.size
        rows.append({"row": "series", "series": s.key, "target": s.target, "target_class": s.target_class,
                     "cause_or_figure": term.key, "metric": term.metric, "reported": shown, "of": term.size,
                     "day": round(term.day, 1), "estimate": estimate[0], "low": estimate[1], "high": estimate[2],
                     "interval": POSTERIOR})
    return rows


def pooled_rows(synthesis: Synthesis) -> list[dict]:
    """Per cause and class: the pooled level and a new trial's predictive level."""
    hierarchy, theta = synthesis.hierarchy, synthesis.sample.theta
    mu, tau, _, _ = hierarchy.split(theta)
    rng = _rng(synthesis, "predictive")
    rows = []
    informed = informed_units(hierarchy)
    for k, name in enumerate(hierarchy.classes):
        new = map_log_levels(hierarchy, theta, name, rng)
        trials = sum(1 for j, u in enumerate(hierarchy.units) if u.target_class == name and j in informed)
        for i, c in enumerate(CAUSES):
            for kind, draws in (("pooled", np.exp(mu[:, i, k])), ("predictive", np.exp(new[:, i]))):
                mid, low, high = interval(draws)
                rows.append({"row": kind, "series": f"{trials} trials with data", "target": "", "target_class": name,
                             "cause_or_figure": CAUSE_LABELS[c], "metric": "band-1 level", "reported": "", "of": "",
                             "day": "", "estimate": mid, "low": low, "high": high,
                             "interval": POOLED if kind == "pooled" else PREDICTIVE})
    for i, c in enumerate(CAUSES):
        mid, low, high = interval(tau[:, i])
        rows.append({"row": "tau", "series": f"{len(hierarchy.units)} trials", "target": "", "target_class": "all",
                     "cause_or_figure": CAUSE_LABELS[c], "metric": "tau (SD of log level between trials)",
                     "reported": "", "of": "", "day": "", "estimate": mid, "low": low, "high": high,
                     "interval": POSTERIOR})
    return rows


def leave_one_out(synthesis: Synthesis, reference, refit=None) -> list[dict]:
    """For each figure of each series: its reported count (a share x its size for a share) and the 95%
    leave-one-out predictive interval of that count in a new trial of its size (non-relapse mortality first).

    By integrated importance sampling from ``synthesis``; where the weights' effective sample size falls below
    ``MIN_IS_ESS_SHARE`` of the draws, or their Pareto k-hat exceeds ``MAX_LOO_PARETO_K``, and ``refit`` is given,
    ``refit(key)`` must return the synthesis fitted without that series, whose draws then give its interval
    exactly (the row's ``method`` says which).  A row is ``trusted`` when its weights pass both bounds, or its
    refit's chains converged (R-hat and ESS within their bounds)."""
    hierarchy, likelihood = synthesis.hierarchy, synthesis.likelihood
    theta = _thinned(synthesis, LOO_DRAWS)
    rows = []
    for s in likelihood.series:
        own = SeriesLikelihood([s], reference)
        if not own.terms:
            continue
        rng = _rng(synthesis, f"leave_one_out {s.key}")  # a stream per series: its row does not depend on the others
        weights, new_levels, shapes = _loo_weights(hierarchy, theta, own, hierarchy.classes.index(s.target_class), rng)
        k_hat = pareto_k(weights)
        method = f"importance sampling (ESS {_ess(weights):.0f}, Pareto k-hat {k_hat:.2f})"
        trusted = _ess(weights) >= MIN_IS_ESS_SHARE * len(theta) and k_hat <= MAX_LOO_PARETO_K
        if not trusted and refit is not None:
            without = refit(s.key)
            weights, new_levels, shapes = _refit_levels(without, s.target_class, rng)
            trusted = without.sample.converged
            method = (f"refit without it (max R-hat {max(without.sample.rhat.values()):.3f}, min ESS "
                      f"{min(without.sample.ess.values()):.0f}" + ("" if trusted else "; NOT CONVERGED") + ")")
        chances = own.chances({c: new_levels[:, i, None] for i, c in enumerate(CAUSES)}, shapes)
        for (_, term), chance in zip(own.terms, chances):
            rows.append(_loo_row(s, term, sum(chance), weights, rng) | {"method": method, "trusted": trusted})
    return sorted(rows, key=lambda r: (r["metric"] != "nrm_deaths", r["series"]))


def _refit_levels(without: Synthesis, target_class: str, rng) -> tuple[np.ndarray, np.ndarray, dict | None]:
    """Equal weights, a new trial's levels of ``target_class`` (draws, cause) and the band shapes of the same draws,
    from a fit without the series."""
    theta = _thinned(without, LOO_DRAWS)
    mu, tau, _, _ = without.hierarchy.split(theta)
    k = without.hierarchy.classes.index(target_class)
    levels = np.exp(mu[:, :, k] + tau * rng.standard_normal(tau.shape))
    return np.ones(len(theta)), levels, shape_inputs(without.hierarchy, theta)


def _ess(weights: np.ndarray) -> float:
    return float(np.sum(weights) ** 2 / np.sum(weights ** 2))


def _loo_row(s, term, chance: np.ndarray, weights: np.ndarray, rng) -> dict:
    size = int(round(term.size))
    counts = rng.binomial(size, np.clip(chance, 0.0, 1.0))
    order = np.argsort(counts, kind="stable")
    cumulative = np.cumsum(weights[order]) / np.sum(weights)
    low = counts[order][np.searchsorted(cumulative, 0.025)]
    high = counts[order][min(np.searchsorted(cumulative, 0.975), len(order) - 1)]
    reported = int(round(sum(term.events)))
    return {"series": s.key, "target_class": s.target_class, "metric": term.metric, "day": round(term.day),
            "size": size, "reported": reported, "low": int(low), "high": int(high),
            "inside": bool(low <= reported <= high), "weights_ess": round(_ess(weights)), "interval": LOO}


def _loo_weights(hierarchy, theta, own: SeriesLikelihood, k: int, rng):
    """Integrated importance weights of each draw for leaving the series out, a new trial's levels, and the band
    shapes of each draw (the series' likelihood is averaged over its level at the draw's shapes)."""
    mu, tau, _, _ = hierarchy.split(theta)
    z = rng.standard_normal((len(theta), Z_DRAWS, len(CAUSES)))
    log_levels = mu[:, None, :, k] + tau[:, None, :] * z
    flat = {c: np.exp(log_levels[:, :, i]).reshape(-1, 1) for i, c in enumerate(CAUSES)}
    loglik = own(flat, shape_inputs(hierarchy, theta, Z_DRAWS)).reshape(len(theta), Z_DRAWS)
    top = loglik.max(axis=1, keepdims=True)
    log_w = -(np.log(np.mean(np.exp(loglik - top), axis=1)) + top[:, 0])
    weights = np.exp(log_w - log_w.max())
    new = mu[:, :, k] + tau * rng.standard_normal(tau.shape)
    return weights, np.exp(new), shape_inputs(hierarchy, theta)


def jeffreys_interval(events: float, size: float) -> tuple[float, float]:
    """The Jeffreys 95% interval of a share (one trial's chance, as a reported share's uncertainty)."""
    low, high = stats.beta(events + 0.5, size - events + 0.5).ppf([0.025, 0.975])
    return float(0.0 if events == 0 else low), float(1.0 if events == size else high)


def reference_series(target_class: str) -> Series:
    """A series of 100 responders followed one year, none transplanted: the yardstick of a one-year risk."""
    figures = {"nrm": SeriesFigure("nrm", "nrm_deaths", 0.0, 100), "relapse":
               SeriesFigure("relapse", "relapse_count", 0.0, 100, of_kind="responders")}
    return Series("one_year", Path("one_year"), {"doi": "-"}, "-", target_class, "autologous", "-", 100,
                  12.0, 0, figures)


def one_year_risks(levels: np.ndarray, reference, shapes: dict | None = None) -> dict[str, np.ndarray]:
    """One-year non-relapse mortality and relapse among responders at level draws (draws, cause) and, when given,
    the band shapes of the same draws (:func:`shape_inputs`)."""
    model = SeriesLikelihood([reference_series("-")], reference)
    nrm, relapse = model.chances({c: levels[:, i, None] for i, c in enumerate(CAUSES)}, shapes)
    return {"nrm": sum(nrm), "relapse": sum(relapse)}


def plot_rows(synthesis: Synthesis, reference) -> tuple[list[dict], list[dict]]:
    """Rows of the forest plot: each series' NRM and relapse (or event) figures, and per class each shipped
    trial's one-year risks at its own (partially pooled) levels, then the pooled and predictive ones."""
    rows = []
    for r in series_rows(synthesis):
        shares = r["metric"] in ("nrm_deaths", "infection_deaths", "relapse_count")
        size = float(r["of"])
        reported = r["reported"] / size if shares else (1 - r["reported"] if r["metric"] == "lfs" else r["reported"])
        low, high = jeffreys_interval(reported * size, size)
        flip = (lambda v: 1 - v) if r["metric"] == "lfs" else (lambda v: v)
        estimate = [flip(v / size if shares else v) for v in (r["estimate"], r["low"], r["high"])]
        rows.append({"panel": "nrm" if r["metric"].startswith("nrm") or r["metric"] == "infection_deaths" else "relapse",
                     "label": f"{r['series']} ({r['metric']}, day {r['day']:.0f})", "reported": reported,
                     "reported_low": low, "reported_high": high, "estimate": estimate[0],
                     "low": min(estimate[1:]), "high": max(estimate[1:])})
    summary = []
    hierarchy, theta = synthesis.hierarchy, _thinned(synthesis, LOO_DRAWS)
    mu, _, _, _ = hierarchy.split(theta)
    levels = hierarchy.log_levels(theta)  # (draws, cause, unit)
    rng = _rng(synthesis, "plot")
    informed = informed_units(hierarchy)
    for k, name in enumerate(hierarchy.classes):
        trials = [(f"{u.name} (shipped trial): 1-year risk", levels[:, :, j]) for j, u in enumerate(hierarchy.units)
                  if u.name in synthesis.shipped and u.target_class == name and j in informed]
        kinds = [("trial", label, log_levels) for label, log_levels in trials]
        kinds += [("pooled", f"{name}: pooled 1-year risk", mu[:, :, k]),
                  ("predictive", f"{name}: predictive 1-year risk", map_log_levels(hierarchy, theta, name, rng))]
        for kind, label, log_levels in kinds:
            risks = one_year_risks(np.exp(log_levels), reference, shape_inputs(hierarchy, theta))
            for panel, draws in risks.items():
                mid, low, high = interval(draws)
                summary.append({"panel": panel, "kind": kind, "label": label, "estimate": mid, "low": low, "high": high})
    return rows, summary


def informed_units(hierarchy) -> set[int]:
    """The units whose data enter the likelihood (a shipped trial without late outcomes informs nothing)."""
    return {j for block in hierarchy.blocks for j in block.units}


def shipped_rows(synthesis: Synthesis, shipped: list) -> list[dict]:
    """Each shipped trial's level per cause: the params file's own (trial-only) estimate and interval
    beside the partially pooled posterior."""
    quantities = synthesis.sample.quantities()
    rows = []
    for params in shipped:
        for c in CAUSES:
            draws = quantities.get(f"level {c} {params.name}")
            if draws is None:
                continue
            path = level_path(c, False)
            unit = next(u for u in synthesis.hierarchy.units if u.name == params.name)
            own, label = _trial_only(unit, params, path)
            pooled = interval(draws.ravel())
            for kind, (mid, low, high), label in (("trial_only", own, label),
                                                  ("partially_pooled", pooled, POSTERIOR)):
                rows.append({"row": kind, "series": params.name, "target": "", "target_class": unit.target_class,
                    "cause_or_figure": CAUSE_LABELS[c], "metric": "band-1 level", "reported": "", "of": "", "day": "",
                    "estimate": mid, "low": low, "high": high, "interval": label})
    return rows


def _trial_only(unit, params, path: str) -> tuple[tuple[float, float, float], str]:
    """A shipped trial's own estimate of a level and what it is: its fit to its data alone (the estimate and the
    posterior's 95% interval) when it has late outcomes, else its params file's entry and that entry's range."""
    if path in unit.own:
        value, draws = unit.own[path]
        _, low, high = interval(draws)
        return (value, low, high), TRIAL_ONLY
    entry = params.entries[path]
    return (float(entry.value), *_own_interval(entry)), f"the params file's {entry.source} entry"


def _own_interval(entry) -> tuple[float, float]:
    """The 95% interval of an entry's own uncertainty distribution (nan when it states none)."""
    if entry.uncertainty is None:
        return float("nan"), float("nan")
    return float(entry.uncertainty.ppf(0.025)), float(entry.uncertainty.ppf(0.975))
