"""Writing operating characteristics: ``oc.csv``, ``oc_overall.csv`` and ``oc.json`` (with a manifest).

Each file is written whole to a temporary file and moved into place (:func:`sim.output.write_atomic`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from sim.output.run_files import manifest, write_atomic
from sim.output.shown_values import json_records
from sim.design.boin import boundaries
from sim.design.oc import INTERVAL, DesignOC, overall_table, per_dose_table

DEFINITIONS = {
    "p_select": "share of virtual trials selecting the dose as the MTD (level 'none': no dose selected)",
    "p_select_se": "Monte Carlo standard error of p_select, sqrt(p (1 - p) / trials)",
    "dlt_chance": "chance of a DLT at the dose: the model's, averaged over the simulated candidate patients, "
                  "or the true rate given with --dlt-probabilities",
    "duration": "days from the first enrolment to the final decision (every DLT window closed); the 95% interval "
                "is the 2.5th-97.5th percentile over virtual trials (what one real trial might see)",
    "withdrawn": "patients enrolled who withdrew before infusion (latent progression before infusion)",
    "withdrawn_waiting": "of those, patients whose product was ready: they withdrew waiting for a slot or a decision",
    "turned_away": "patients still waiting when the trial ended",
}


@dataclass
class DesignRun:
    """What :func:`sim.output.manifest` needs to know about a ``cartsim design`` run."""

    params: object
    seed: int
    n_trials: int
    run_seconds: float
    extra: dict
    parameter_uncertainty: bool = False


def design_document(run: DesignRun, ocs: list[DesignOC], command: list[str] | None) -> dict:
    """The JSON document: manifest, designs (with BOIN's boundaries), definitions and both tables."""
    designs = []
    for oc in ocs:
        entry = asdict(oc.settings) | {"stopping_reasons": oc.reasons}
        if oc.settings.name in ("boin", "tite_boin"):
            lam_e, lam_d = boundaries(oc.settings.target)
            entry["boundaries"] = {"lambda_e": lam_e, "lambda_d": lam_d}
        designs.append(entry)
    return {"manifest": manifest(run, command), "designs": designs, "definitions": DEFINITIONS,
            "interval_percentiles": list(INTERVAL), "per_dose": json_records(per_dose_table(ocs, run.params)),
            "overall": json_records(overall_table(ocs))}


def write_design(run: DesignRun, ocs: list[DesignOC], out: Path, command: list[str] | None = None) -> list[Path]:
    """Write ``oc.csv``, ``oc_overall.csv`` and ``oc.json`` into ``out``; returns the files written."""
    files = {"oc.csv": per_dose_table(ocs, run.params).to_csv_text(),
             "oc_overall.csv": overall_table(ocs).to_csv_text(),
             "oc.json": json.dumps(design_document(run, ocs, command), indent=2) + "\n"}
    for name, text in files.items():
        write_atomic(out / name, text)
    return [out / name for name in files]


