"""The shipped trials' late levels as the synthesis gives them: partially pooled posteriors, written back
into their params files with joint draws beside them.

A trial with its own late outcomes (``calibration``): its three levels before transplant and its four
after transplant, all sampled together in the hierarchy, become entries with ``source = "calibration"``
(value: the posterior median; uncertainty: a lognormal with that median and the draws' SD of the log; the note says
they are partially pooled, and with how many trials).  A trial without late outcomes: its three levels
before transplant become ``source = "predicted"`` (the class's predictive given every other trial).
With ``--sample-inputs`` the band shapes and patient factors the trial's likelihood read become calibrated
entries too (posterior median and lognormal), each keeping the prior it was sampled under as ``prior`` (which
the next fit reads instead of the posterior: :func:`~sim.analyses.synthesis.nuisance.nuisance_of`), and their
draws sit in the same rows as the levels', so a run with parameter uncertainty draws them jointly.  A fit that
held them cannot rewrite a file whose inputs an earlier joint fit calibrated (:func:`jointly_calibrated`).
The draws file beside the params keeps its other columns (e.g. the progression hazard, fitted on its own
and independent of the late levels), each row paired with a row of the hierarchy's draws.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.analyses.calibrated_params import seeds_relative_to, stage_calibration
from sim.analyses.synthesis.files import tau_intervals, tau_phrase
from sim.analyses.synthesis.fit import Synthesis, shipped_reads
from sim.analyses.synthesis.hierarchy import CAUSES
from sim.analyses.synthesis.nuisance import smooth_paths, stated_entry
from sim.inputs.params import Params, load_params
from sim.inputs.params_text import inline_entry, replace_entries
from sim.inputs.posterior_draws import draws_csv_text, draws_paths, load_draws, provenance_text
from sim.model.late_bands import level_path
from sim.output.staged_files import StagedFiles
from sim.rng.streams import stream_key

DRAWS = 1000


def pooled_draws(synthesis: Synthesis, name: str) -> dict[str, np.ndarray]:
    """The trial's late levels by params path, thinned to ``DRAWS`` rows of the hierarchy's draws."""
    hierarchy, theta = synthesis.hierarchy, _rows(synthesis)
    j = [u.name for u in hierarchy.units].index(name)
    levels = np.exp(hierarchy.log_levels(theta))
    out = {level_path(c, False): levels[:, i, j] for i, c in enumerate(CAUSES)}
    _, _, _, extras = hierarchy.split(theta)
    for i, (jj, path) in enumerate(hierarchy.extra_paths):
        if jj == j:
            out[path] = np.exp(extras[:, i])
    return out


def input_draws(synthesis: Synthesis, params: Params) -> dict[str, np.ndarray]:
    """The sampled inputs (band shapes, patient factors) the trial's likelihood read, by params path, in the
    same rows as :func:`pooled_draws` (so a row is one joint draw); {} when the fit held them."""
    hierarchy = synthesis.hierarchy
    paths = hierarchy.nuisance.paths
    read = shipped_reads(params, hierarchy.nuisance.members)
    values = hierarchy.nuisance_values(_rows(synthesis))
    return {path: values[:, paths.index(path)] for path in paths if path in read}


def _rows(synthesis: Synthesis) -> np.ndarray:
    theta = synthesis.sample.theta
    return theta[np.linspace(0, len(theta) - 1, DRAWS).astype(int)]


def write_pooled(params: Params, synthesis: Synthesis) -> Path:
    """Rewrite ``params``' late levels as the synthesis' partially pooled posteriors (and the inputs it sampled
    as their posteriors, each keeping its prior), and its draws file."""
    draws = pooled_draws(synthesis, params.name)
    inputs = input_draws(synthesis, params)
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
    if inputs:
        why += f"; sampled jointly with {len(inputs)} inputs (band shapes, patient factors) under their stated priors"
    note = f"{why}; posterior median, lognormal by the draws' median and SD of the log"
    entries = {path: inline_entry(**lognormal_entry(sample), source=source, note=note) for path, sample in draws.items()}
    entries |= {path: _input_entry(params, path, sample, len(synthesis.series), len(draws))
                for path, sample in inputs.items()}
    text = replace_entries(params.path.read_text(encoding="utf-8"), entries, params.path)
    with StagedFiles(params.path.parent, f"{params.path.name} and its posterior draws") as files:  # together, or not
        written = load_params(files.put(params.path, seeds_relative_to(text, params, files.staged(params.path))))
        joint = draws | inputs
        values = {path: float(written[path]) for path in joint}
        stage_calibration(files, params.path, text, _draws_texts(params.path, synthesis, joint, values))
    return params.path


def jointly_calibrated(params: Params) -> list[str]:
    """The inputs of ``params`` that an earlier joint fit calibrated (entries keeping a ``prior``): a fit that holds
    the inputs at their values would pair its levels with that fit's input posteriors, so it may not rewrite them."""
    return [path for path in smooth_paths() if path in params.entries and params.entries[path].prior is not None]


PRIOR_NOTE = "its prior (kept as 'prior'), as stated before any fit: "


def _input_entry(params: Params, path: str, sample: np.ndarray, series: int, levels: int) -> str:
    """An input the synthesis sampled, as a calibrated entry: its posterior as value and uncertainty, its stated
    prior kept (as ``prior``, which the next fit reads) with the note that justified it."""
    prior, stated = stated_prior(params, path)
    note = (f"posterior of the evidence synthesis (cartsim evidence --sample-inputs --write-shipped): sampled jointly "
            f"with {params.name}'s {levels} late levels, {series} published series and the other shipped trials under "
            f"its prior; posterior median, lognormal by the draws' median and SD of the log (the joint draws beside "
            f"this file keep its correlation with the levels); {PRIOR_NOTE}{stated}")
    return inline_entry(**lognormal_entry(sample), source="calibration", note=note, prior=prior)


def stated_prior(params: Params, path: str) -> tuple[dict[str, list[float]], str]:
    """The prior an input was stated with before any fit, as an entry's ``prior`` table, and the note that justified
    it (from ``prior`` and the note's kept part once a fit has rewritten the entry)."""
    entry = params.entries[path]
    prior = stated_entry(entry).uncertainty
    stated = entry.note.split(PRIOR_NOTE, 1)[1] if PRIOR_NOTE in entry.note else entry.note
    return {prior.kind: list(prior.args)}, stated


def lognormal_entry(sample: np.ndarray) -> dict:
    """A posterior sample as an entry's value (its median) and uncertainty (a lognormal by its median and the SD
    of its log)."""
    value = float(np.median(sample))
    return {"value": value, "uncertainty": {"lognormal": [value, float(np.std(np.log(sample), ddof=1))]}}


def _draws_texts(path: Path, synthesis: Synthesis, draws: dict, values: dict) -> dict[Path, str]:
    """The draws beside the params file ``path``, by file: the hierarchy's columns, and any other columns of
    the old file.  Those keep their rows in order when there are ``DRAWS`` of them: the fit never saw them, so
    that order is independent of its levels already, and writing the same fit again gives the same file.
    Otherwise ``DRAWS`` rows are drawn from them (without replacement when there are enough)."""
    old = load_draws(path)
    names, columns, fitted = list(draws), [draws[n] for n in draws], dict(values)
    if old is not None:
        rng = np.random.default_rng(np.random.SeedSequence(synthesis.sample.seed, spawn_key=(stream_key("pairing"),)))
        count = old.values.shape[0]
        rows = (np.arange(count) if count == DRAWS else rng.permutation(count)[:DRAWS] if count > DRAWS
                else rng.integers(0, count, DRAWS))
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
