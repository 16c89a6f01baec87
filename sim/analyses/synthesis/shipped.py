"""The shipped trials' late levels as the synthesis gives them: partially pooled posteriors, written back
into their params files with joint draws beside them.

A trial with its own late outcomes (``calibration``): its three levels before transplant and its four
after transplant, all sampled together in the hierarchy, become entries with ``source = "calibration"``
(value: the posterior median; uncertainty: a lognormal with that median and the draws' SD of the log; the note says
they are partially pooled, and with how many trials).  A trial without late outcomes: its three levels
before transplant become ``source = "predicted"`` (the class's predictive given every other trial).
The draws file beside the params keeps its other columns (e.g. the progression hazard, fitted on its own
and independent of the late levels), each row paired with a row of the hierarchy's draws.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.analyses.calibrated_params import seeds_relative_to, stage_calibration
from sim.analyses.synthesis.files import tau_intervals, tau_phrase
from sim.analyses.synthesis.fit import Synthesis
from sim.analyses.synthesis.hierarchy import CAUSES
from sim.inputs.params import Params, load_params
from sim.inputs.params_text import inline_entry, replace_entry
from sim.inputs.posterior_draws import draws_csv_text, draws_paths, load_draws, provenance_text
from sim.model.late_bands import level_path
from sim.output.staged_files import StagedFiles
from sim.rng.streams import stream_key

DRAWS = 1000


def pooled_draws(synthesis: Synthesis, name: str) -> dict[str, np.ndarray]:
    """The trial's late levels by params path, thinned to ``DRAWS`` rows of the hierarchy's draws."""
    hierarchy, theta = synthesis.hierarchy, synthesis.sample.theta
    rows = np.linspace(0, len(theta) - 1, DRAWS).astype(int)
    j = [u.name for u in hierarchy.units].index(name)
    levels = np.exp(hierarchy.log_levels(theta[rows]))
    out = {level_path(c, False): levels[:, i, j] for i, c in enumerate(CAUSES)}
    _, _, _, extras = hierarchy.split(theta[rows])
    for i, (jj, path) in enumerate(hierarchy.extra_paths):
        if jj == j:
            out[path] = np.exp(extras[:, i])
    return out


def write_pooled(params: Params, synthesis: Synthesis) -> Path:
    """Rewrite ``params``' late levels as the synthesis' partially pooled posteriors, and its draws file."""
    draws = pooled_draws(synthesis, params.name)
    own_data = any(p.endswith("_after_transplant") for p in draws)
    unit = next(u for u in synthesis.hierarchy.units if u.name == params.name)
    trials = [u.name for u in synthesis.hierarchy.units if u.target_class == unit.target_class]
    source = "calibration" if own_data else "predicted"
    why = ("partially pooled posterior of the evidence synthesis (cartsim evidence --write-shipped): this trial's "
           "outcomes at cut-off by transplant status, with its exact likelihood, in one hierarchical model with "
           f"{len(synthesis.series)} published series; {len(trials)} trials of class {unit.target_class} "
           f"({', '.join(trials)}), with {tau_phrase(tau_intervals(synthesis))}" if own_data else
           "PREDICTED by the evidence synthesis (cartsim evidence --write-shipped): this trial reports no late outcome, "
           f"so its level is the class's predictive distribution given {len(synthesis.series)} published series and "
           f"the shipped trials; {len(trials)} trials of class {unit.target_class} ({', '.join(trials)})")
    text = params.path.read_text(encoding="utf-8")
    for path, sample in draws.items():
        value = float(np.median(sample))
        note = f"{why}; posterior median, lognormal by the draws' median and SD of the log"
        spread = {"lognormal": [value, float(np.std(np.log(sample), ddof=1))]}
        text = replace_entry(text, path, inline_entry(value, source, spread, note), params.path)
    with StagedFiles(params.path.parent, f"{params.path.name} and its posterior draws") as files:  # together, or not
        written = load_params(files.put(params.path, seeds_relative_to(text, params, files.staged(params.path))))
        values = {path: float(written[path]) for path in draws}
        stage_calibration(files, params.path, text, _draws_texts(params.path, synthesis, draws, values))
    return params.path


def _draws_texts(path: Path, synthesis: Synthesis, draws: dict, values: dict) -> dict[Path, str]:
    """The draws beside the params file ``path``, by file: the hierarchy's columns, and any other columns of
    the old file (resampled rows; independent of the late levels)."""
    old = load_draws(path)
    names, columns, fitted = list(draws), [draws[n] for n in draws], dict(values)
    if old is not None:
        rng = np.random.default_rng(np.random.SeedSequence(synthesis.sample.seed, spawn_key=(stream_key("pairing"),)))
        rows = rng.integers(0, old.values.shape[0], DRAWS)
        for k, name in enumerate(old.names):
            if name not in draws:
                names.append(name)
                columns.append(old.values[rows, k])
                fitted[name] = old.fitted[name]
    text = draws_csv_text(tuple(names), np.column_stack(columns))
    csv_path, json_path = draws_paths(path)
    diagnostics = synthesis.sample.diagnostics()
    record = provenance_text(text, csv_path.name, fitted, diagnostics,
                             {"params_file": path.name, "command": "cartsim evidence --write-shipped"})
    return {csv_path: text, json_path: record}
