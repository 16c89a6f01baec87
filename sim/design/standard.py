"""The textbook operating-characteristics simulation: the designs' rules alone, without the patient flow.

Each cohort's outcomes are Bernoulli draws at fixed true DLT rates, every patient evaluable and
nobody waiting, as in the BOIN package's ``get.oc``.  It checks the rules against published
operating characteristics; :mod:`sim.design.oc` runs the same rules on the patient flow.
"""

from __future__ import annotations

import numpy as np

from sim.design.boin import BOIN
from sim.inputs.design_settings import DesignSettings
from sim.design.trial_flow import make_rules


def standard_trial(s: DesignSettings, rates: np.ndarray, rng: np.random.Generator) -> tuple[int | None, np.ndarray, np.ndarray]:
    """One trial of the rules of ``s`` at true DLT ``rates``: (selected, patients, DLTs) per dose."""
    rules = make_rules(s)
    k = len(rates)
    n, y = np.zeros(k, int), np.zeros(k, int)
    action = rules.first()
    while action.dose is not None and action.slots > 0:
        d = action.dose
        n[d] += action.slots
        y[d] += int(np.sum(rng.random(action.slots) < rates[d]))
        action = rules.decide(d, n, y)
    if action.dose is not None:  # no slots left: the maximum sample size
        return (rules.select(n, y) if isinstance(rules, BOIN) else None), n, y
    return action.selected, n, y


def standard_oc(s: DesignSettings, rates, trials: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``trials`` trials: selected dose per trial (-1: none), patients and DLTs per trial and dose."""
    rng = np.random.default_rng(seed)
    rates = np.asarray(rates, float)
    out = [standard_trial(s, rates, rng) for _ in range(trials)]
    selected = np.array([-1 if sel is None else sel for sel, _, _ in out])
    return selected, np.stack([n for _, n, _ in out]), np.stack([y for _, _, y in out])
