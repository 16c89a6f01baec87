"""A new trial's late course from the evidence synthesis: its band-1 levels before transplant drawn from
the robust predictive distribution of its target class, not copied from the template's posterior.

Each of the three levels (infection death, other non-relapse death, relapse) is written with
``source = "predicted"``: its value the median of the robust draws, its uncertainty a lognormal with
that median and the draws' SD on the log scale, its note saying how many trials and series it rests on
and the heterogeneity tau.  The draws themselves are written beside the params file as its joint
posterior draws (``NAME.posterior.csv`` and ``.json``, :mod:`sim.inputs.posterior_draws`), so a run
with parameter uncertainty takes the three levels together from one row per virtual trial.

Its four levels after transplant are not pooled across trials (each trial's rests on its own transplanted
patients and a prior from published outcomes after transplant), so a new trial takes that prior itself, the
predictive for one trial's level: ``Gamma(events, rate = days)`` from the template's
``late.<cause>_prior_events_after_transplant`` and ``_prior_days_after_transplant``, also marked PREDICTED.
The template's own posterior after transplant (from a handful of its patients) is not carried over.

When the synthesis sampled the shared inputs (band shapes, patient factors), ``predictive.csv`` carries them in
the same rows as the levels: each one the template states is written ``predicted`` too (its posterior, keeping
the template's stated prior as ``prior``) and its column goes into the draws file, so a run takes a new trial's
inputs and levels together, as the fit paired them, not independently.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.analyses.calibration.late import transplant_prior, transplant_prior_counts
from sim.analyses.synthesis.files import Predictive, load_predictive
from sim.analyses.synthesis.hierarchy import CAUSES
from sim.analyses.synthesis.shipped import PRIOR_NOTE, lognormal_entry, stated_prior
from sim.inputs.params import Params
from sim.inputs.params_text import inline_entry, number, replace_entry
from sim.inputs.posterior_draws import draws_csv_text, draws_paths, provenance_text
from sim.inputs.schema import LATE_HAZARD_NAMES
from sim.inputs.uncertainty import JEFFREYS
from sim.model.late_bands import LATE_CAUSES, level_path

PREDICTED = "predicted"


def predicted_entries(predictive: Predictive) -> dict[str, dict]:
    """Each level's params path: its entry's fields (value, uncertainty, note), the draws' median and lognormal."""
    return {level_path(c, False): lognormal_entry(predictive.draws[c]) | {"note": predictive.note()} for c in CAUSES}


def input_entries(predictive: Predictive, template: Params) -> dict[str, dict]:
    """Each shared input the synthesis sampled (band shapes, patient factors) that the template states, by params
    path: its entry's fields (value, uncertainty, note, prior), its posterior from the rows of the predicted levels;
    the prior the template stated before any fit is kept as ``prior``."""
    out = {}
    for path, draws in predictive.inputs.items():
        if path not in template.entries:
            continue
        prior, stated = stated_prior(template, path)
        note = (f"posterior of this shared input in the evidence synthesis (cartsim evidence --sample-inputs), drawn "
                f"in the same rows as the predicted late levels of class {predictive.target_class} (the draws beside "
                f"this file keep their correlation); posterior median, lognormal by the draws' median and SD of the "
                f"log; {PRIOR_NOTE}{stated}")
        out[path] = lognormal_entry(draws) | {"note": note, "prior": prior}
    return out


def after_transplant_entries(template: Params) -> dict[str, dict]:
    """Each level after transplant's params path: its entry's fields (value, uncertainty, note), from the prior the
    template states for it (a level whose prior has too few pseudo-events to write as counts keeps the template's
    entry)."""
    out = {}
    for c in LATE_CAUSES:
        name = LATE_HAZARD_NAMES[c]
        events, days = transplant_prior_counts(template, c)
        if events <= JEFFREYS:
            continue
        median = float(transplant_prior(template, c).median())
        note = (f"the prior for one trial's level after transplant, as {template.name} states it "
                f"(late.{name}_prior_events_after_transplant and _prior_days_after_transplant): Gamma(shape {number(events)}, "
                f"rate {number(days)} days), written gamma = [{number(events - JEFFREYS)}, {number(days)}] (the counts "
                f"form adds 1/2), at its median; {template.name}'s own posterior after transplant is not carried over")
        gamma = [float(number(events - JEFFREYS)), float(days)]
        out[level_path(c, True)] = {"value": median, "uncertainty": {"gamma": gamma}, "note": note}
    return out


def predicted_text(text: str, predictive: Predictive, source: Path | str, template: Params | None = None) -> str:
    """A params file's text with the three levels replaced by predicted entries, each marked PREDICTED (and, given
    the ``template`` params, its levels after transplant by the priors the template states for them)."""
    entries = predicted_entries(predictive)
    origin = {path: f"the evidence synthesis for class {predictive.target_class}" for path in entries}
    if template is not None:
        after = after_transplant_entries(template)
        entries |= after
        origin |= {path: f"the prior after transplant {template.name} states" for path in after}
        inputs = input_entries(predictive, template)
        entries |= inputs
        origin |= {path: "the evidence synthesis' posterior, jointly with the levels" for path in inputs}
    for path, fields in entries.items():
        text = replace_entry(text, path, inline_entry(source=PREDICTED, **fields), source)
        key = path.split(".")[-1]
        lines = text.splitlines()
        at = next(i for i, line in enumerate(lines) if line.startswith(f"{key} = "))
        if at > 0 and lines[at - 1].startswith("# ") and path in lines[at - 1]:
            lines[at - 1] = f"# PREDICTED {path}: from {origin[path]}; check it"
        text = "\n".join(lines) + "\n"
    return text


def predicted_draws_texts(params_file: Path, predictive: Predictive, written) -> dict[Path, str]:
    """The predictive draws to write beside ``params_file`` (as ``written``, its checked params, gives the
    levels and the predicted inputs), as its joint posterior draws with provenance: each file's path and text."""
    inputs = [path for path in predictive.inputs
              if path in written.entries and written.entries[path].source == PREDICTED]
    names = tuple(level_path(c, False) for c in CAUSES) + tuple(inputs)
    values = np.column_stack([predictive.draws[c] for c in CAUSES] + [predictive.inputs[p] for p in inputs])
    text = draws_csv_text(names, values)
    csv_path, json_path = draws_paths(params_file)
    fitted = {name: float(written[name]) for name in names}
    diagnostics = dict(predictive.provenance.get("diagnostics", {}))
    record = provenance_text(text, csv_path.name, fitted, diagnostics,
                             {"params_file": Path(params_file).name, "command": "cartsim new --class",
                              "predictive": "robust MAP of the evidence synthesis", "target_class": predictive.target_class})
    return {csv_path: text, json_path: record}


__all__ = ["PREDICTED", "after_transplant_entries", "load_predictive", "predicted_entries", "predicted_text",
           "predicted_draws_texts", "number"]
