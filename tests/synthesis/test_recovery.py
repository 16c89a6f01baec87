"""Recovery: series simulated from known mu and tau, with the model's own chances, give back posterior
intervals that cover the truth at their nominal rate (slow: one NUTS fit per replicate)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.analyses.synthesis.hierarchy import CAUSES, Block, Hierarchy, Unit
from sim.analyses.synthesis.sampler import sample_hierarchy
from sim.analyses.synthesis.series_likelihood import SeriesLikelihood
from sim.inputs.series import Series, SeriesFigure

MU = {"infection": np.log(2e-4), "tma": np.log(1e-4), "relapse": np.log(2e-3)}
TAU = {"infection": 0.8, "tma": 0.8, "relapse": 0.5}
REPLICATES, SERIES, NOMINAL = 8, 10, 0.90
DRAWS = 500  # NUTS draws per chain (and as many tuning draws): 1000 draws give 90% interval ends to about 0.1 SD


def one_series(j: int, n: int, counts=(0, 0, 0)) -> Series:
    figures = {"nrm": SeriesFigure("nrm", "nrm_deaths", float(counts[0] + counts[1]), n),
               "inf": SeriesFigure("inf", "infection_deaths", float(counts[0]), n),
               "rel": SeriesFigure("rel", "relapse_count", float(counts[2]), n, of_kind="responders")}
    return Series(f"s{j}", Path(f"s{j}.toml"), {"doi": "x"}, "X", "b_lineage", "autologous", "ALL", n, 12.0, 0, figures)


def simulate(params, rng) -> tuple[list[Series], np.ndarray]:
    """Series whose counts are drawn from the model's chances at levels drawn from the hierarchy."""
    out, truth = [], []
    for j in range(SERIES):
        n = int(rng.integers(15, 60))
        levels = {c: np.exp(MU[c] + TAU[c] * rng.normal()) for c in CAUSES}
        (infection, other), (relapse,) = SeriesLikelihood([one_series(j, n)], params).chances(
            {c: np.array([[v]]) for c, v in levels.items()})
        deaths = rng.multinomial(n, [infection[0], other[0], 1 - infection[0] - other[0]])
        out.append(one_series(j, n, (deaths[0], deaths[1], rng.binomial(n, relapse[0]))))
        truth.append([np.log(levels[c]) for c in CAUSES])
    return out, np.array(truth).T  # (cause, series)


@pytest.mark.slow
def test_intervals_cover_the_truth_at_the_nominal_rate(cd5):
    rng = np.random.default_rng(20240601)
    covered_levels, covered_mu = [], []
    for replicate in range(REPLICATES):
        series, truth = simulate(cd5, rng)
        likelihood = SeriesLikelihood(series, cd5)
        hierarchy = Hierarchy([Unit(s.key, s.target_class, s.infused) for s in series],
                              [Block(list(range(SERIES)), lambda levels, extras: likelihood(levels))])
        sample = sample_hierarchy(hierarchy, draws=DRAWS, tune=DRAWS, chains=2, seed=replicate)
        print(f"replicate {replicate}: max R-hat {max(sample.rhat.values()):.3f}, min ESS {min(sample.ess.values()):.0f}, "
              f"{sample.divergences} divergent transitions")
        fitted = sample.hierarchy  # in the forms the sampler chose: its coordinates are read with it
        log_levels = fitted.log_levels(sample.theta)  # (draws, cause, series)
        low, high = np.quantile(log_levels, [(1 - NOMINAL) / 2, (1 + NOMINAL) / 2], axis=0)
        covered_levels += list(((low <= truth) & (truth <= high)).ravel())
        mu, _, _, _ = fitted.split(sample.theta)
        low, high = np.quantile(mu[:, :, 0], [(1 - NOMINAL) / 2, (1 + NOMINAL) / 2], axis=0)
        covered_mu += [low[i] <= MU[c] <= high[i] for i, c in enumerate(CAUSES)]
    rate, count = np.mean(covered_levels), len(covered_levels)
    se = np.sqrt(NOMINAL * (1 - NOMINAL) / count)
    print(f"series levels: {rate:.3f} of {count} inside their {NOMINAL:.0%} intervals (binomial SE {se:.3f}); "
          f"pooled means: {np.mean(covered_mu):.3f} of {len(covered_mu)}")
    # levels of one replicate share its mu and tau draws, so their coverage errors are correlated: allow 4
    # binomial SEs (0.077 for 240 intervals) rather than 2-3
    assert abs(rate - NOMINAL) <= 4 * se
    # 24 pooled means at 90%: 21.6 expected, binomial SD 1.5; fewer than 17 covered is below 3 SD
    assert sum(covered_mu) >= 17
