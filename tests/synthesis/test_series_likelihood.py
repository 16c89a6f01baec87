"""A series' likelihood uses the model's own late course: its chances match patients simulated by the
model's competing-risk code (sim.model.late_hazards) with the same band shapes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.analyses.synthesis.nuisance import as_stated
from sim.analyses.synthesis.series_likelihood import SeriesLikelihood, series_terms
from sim.inputs.series import Series, SeriesFigure
from sim.model import late_bands
from sim.model.late_bands import LATE_CAUSES
from sim.model.late_hazards import first_event, unit_exponential
from sim.stats.kaplan_meier import DAYS_PER_MONTH

LEVELS = {"infection": 1e-3, "tma": 5e-4, "relapse": 2e-3}


def series(figures, infused=40, followup=12.0, transplanted=0):
    return Series("s", Path("s.toml"), {"doi": "x"}, "CD19", "b_lineage", "autologous", "B-ALL", infused, followup,
                  transplanted, {f.key: f for f in figures})


def test_nrm_and_infection_counts_become_one_trinomial_term():
    s = series([SeriesFigure("nrm", "nrm_deaths", 5, 40), SeriesFigure("inf", "infection_deaths", 3, 40)])
    terms, unused = series_terms(s)
    assert len(terms) == 1 and terms[0].events == (3, 2) and unused == []


def test_chances_match_patients_simulated_by_the_model(cd5):
    s = series([SeriesFigure("nrm", "nrm_deaths", 5, 40), SeriesFigure("inf", "infection_deaths", 3, 40),
                SeriesFigure("rel", "relapse_count", 4, 40, of_kind="responders")])
    likelihood = SeriesLikelihood([s], cd5)
    (infection, other), (relapse,) = likelihood.chances({c: np.array([[v]]) for c, v in LEVELS.items()})
    n = 40000
    rng = np.random.default_rng(7)
    targets = unit_exponential(rng.random((len(LATE_CAUSES), n)))
    factors = {c: np.ones(n) for c in LATE_CAUSES}
    stated = as_stated(cd5)  # the shapes a series' likelihood holds: as stated, not an earlier fit's posteriors
    before = late_bands.rates(stated, factors, False, levels=LEVELS | {"transplant": 0.0})
    assessment = stated["response.assessment_day"]
    edges = late_bands.band_starts(stated) - assessment
    time, cause = first_event(targets, before, before, edges, np.inf)
    by_end = time <= 12.0 * DAYS_PER_MONTH - assessment
    for name, chance in (("infection", infection), ("tma", other), ("relapse", relapse)):
        seen = np.mean(by_end & (cause == LATE_CAUSES.index(name)))
        se = np.sqrt(chance[0] * (1 - chance[0]) / n)
        assert seen == pytest.approx(float(chance[0]), abs=4 * float(se)), name  # 4 binomial SEs


def test_a_transplanted_share_moves_to_the_levels_after_transplant(cd5):
    plain = SeriesLikelihood([series([SeriesFigure("nrm", "nrm_deaths", 5, 40)])], cd5)
    moved = SeriesLikelihood([series([SeriesFigure("nrm", "nrm_deaths", 5, 40)], transplanted=40)], cd5)
    high = {c: np.array([[v * 10]]) for c, v in LEVELS.items()}
    # at levels ten times those after transplant, patients transplanted early die less of non-relapse causes
    assert sum(moved.chances(high)[0])[0] < sum(plain.chances(high)[0])[0]


def test_levels_after_transplant_are_the_stated_priors_means_not_the_params_own_fit(cd5):
    """A series' transplanted patients are another trial's: their levels are the mean of the stated prior
    (pseudo-events over pseudo-days), whatever the reference file's own fitted level after transplant."""
    figures = [SeriesFigure("nrm", "nrm_deaths", 5, 40)]
    moved = SeriesLikelihood([series(figures, transplanted=40)], cd5)
    for cause, name in (("infection", "infection_death"), ("tma", "tma_death"), ("relapse", "relapse"),
                        ("transplant", "transplant_death")):
        prior_mean = (cd5[f"late.{name}_prior_events_after_transplant"]
                      / cd5[f"late.{name}_prior_days_after_transplant"])
        assert moved.after[cause] == pytest.approx(prior_mean, rel=1e-12), cause
    refitted = cd5.with_values({late_bands.level_path(c, True): 50 * late_bands.level(cd5, c, True)
                                for c in LATE_CAUSES}, source="calibration")
    again = SeriesLikelihood([series(figures, transplanted=40)], refitted)
    levels = {c: np.array([[v]]) for c, v in LEVELS.items()}
    assert again(levels) == pytest.approx(moved(levels), rel=1e-12)
