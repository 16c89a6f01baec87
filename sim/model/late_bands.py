"""The late course's hazards as the params file states them: a level per cause and regime, a
relative level per band of time since infusion, and each patient's own multipliers.

Band 1 starts at infusion and has relative level 1, so a cause's level is its hazard per day in
band 1; band k starts at ``late.band_k_start_days`` with relative level ``late.<cause>_shape_k``.
The shape is the same before and after transplant; the level differs.
"""

from __future__ import annotations

import numpy as np

from sim.inputs.params import Params
from sim.inputs.schema import LATE_BANDS, LATE_HAZARD_NAMES

LATE_CAUSES = tuple(LATE_HAZARD_NAMES)  # relapse, infection, tma, transplant (death from transplant)


def level_path(cause: str, transplanted: bool) -> str:
    """The params path of a cause's level before or after transplant."""
    return f"late.{LATE_HAZARD_NAMES[cause]}_hazard" + ("_after_transplant" if transplanted else "")


def level(params: Params, cause: str, transplanted: bool) -> float:
    """A cause's band-1 hazard per day (0 for death from transplant before any transplant)."""
    if cause == "transplant" and not transplanted:
        return 0.0
    return params[level_path(cause, transplanted)]


def band_starts(params: Params) -> np.ndarray:
    """Days since infusion at which bands 2..K start, along the last axis (after a trial axis for a batch)."""
    return _along_last([params[f"late.band_{k}_start_days"] for k in range(2, LATE_BANDS + 1)])


def shape(params: Params, cause: str) -> np.ndarray:
    """A cause's relative level in each band (1 in band 1)."""
    name = LATE_HAZARD_NAMES[cause]
    return _along_last([1.0] + [params[f"late.{name}_shape_{k}"] for k in range(2, LATE_BANDS + 1)])


def patient_factors(params: Params, response_mrd_pos, cytopenia, early_infection) -> dict[str, np.ndarray]:
    """Each patient's multiplier of each cause's hazard: the MRD-positive relapse ratio, and the
    infection hazard ratios after grade 3-4 cytopenia and after an early infection."""
    one = np.ones(np.shape(response_mrd_pos))
    relapse = np.where(response_mrd_pos, params["late.relapse_hazard_ratio_mrd_pos"], 1.0)
    infection = (np.where(cytopenia, params["late.infection_hr_cytopenia_g34"], 1.0)
                 * np.where(early_infection, params["late.infection_hr_early_infection"], 1.0))
    return {"relapse": relapse * one, "infection": infection * one, "tma": one, "transplant": one}


def rates(params: Params, factors: dict[str, np.ndarray], transplanted: bool,
          levels: dict[str, float] | None = None) -> np.ndarray:
    """Per-band rates, shape (cause, *patients, band): level x shape x the patient's factor.
    ``levels`` overrides the params' levels by cause (the calibration's candidates)."""
    out = []
    for cause in LATE_CAUSES:
        base = level(params, cause, transplanted) if levels is None or cause not in levels else levels[cause]
        out.append(np.asarray(base)[..., None] * factors[cause][..., None] * shape(params, cause))
    return np.stack(out)


def _along_last(values) -> np.ndarray:
    """Floats, or arrays of one per trial row, stacked along a new last axis."""
    return np.stack(np.broadcast_arrays(*[np.asarray(v, dtype=float) for v in values]), axis=-1)
