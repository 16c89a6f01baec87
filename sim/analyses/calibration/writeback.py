"""Writing a calibration back into its params file: only the fitted entries' lines change."""

from __future__ import annotations

import os
from pathlib import Path

from sim.analyses.calibration.fits import Calibration, Fit
from sim.inputs.params_text import inline_entry, number as toml_number, replace_entry, replace_text_value


def updated_text(result: Calibration, out: Path) -> str:
    """The params file's text with every fitted entry rewritten (and the seeds path made relative
    to ``out`` if the file moves)."""
    params = result.params
    text = params.path.read_text(encoding="utf-8")
    for fit in result.fits:
        text = replace_entry(text, fit.path, inline_entry(fit.value, "calibration", fit.uncertainty,
                                                          note(fit, result)), params.path)
    if Path(out).resolve().parent != params.path.resolve().parent:
        seeds = os.path.relpath(params.seeds.path.resolve(), Path(out).resolve().parent)
        text = replace_text_value(text, "trial.seeds", Path(seeds).as_posix(), params.path)
    return text


def note(fit: Fit, result: Calibration) -> str:
    """The params file's note of a fitted entry: what it was fitted to, how, and its interval."""
    targets = ", ".join(f"{t.key} = {t.reported:g}" + (f"/{t.of:g}" if t.of is not None else f" {t.unit}".rstrip())
                        for t in fit.targets if not t.key.startswith("("))
    low, high = fit.interval
    return (f"calibrated by `cartsim calibrate` ({result.trials} simulated trials, seed {result.seed}) to {targets}: "
            f"{fit.method}; 95% interval {toml_number(low, 3)} to {toml_number(high, 3)}")
