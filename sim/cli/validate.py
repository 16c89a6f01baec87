"""``cartsim validate``: every reported figure against virtual trials with parameter uncertainty."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from sim.errors import InputError
from sim.output.run_files import manifest, write_atomic
from sim.inputs.params import load_params
from sim.plots.forest import draw_validation
from sim.engines.runner import run_trials
from sim.output.table import Table
from sim.analyses.validation import LEVEL, NOT_MODELLED, failed, validation_table
from sim.cli.options import add_run_options, number, output_folder
from sim.output.atomic_folder import staged_folder

NAME = "validate"
OUTPUTS = ("validation.csv", "validation.json", "validation.png", "validation.svg")
HELP = "check every reported figure against virtual trials with parameter uncertainty"
MIN_TRIALS = 40  # below this the 2.5th and 97.5th percentiles are the extremes of the sample
DEFINITIONS = {
    "trials": "each virtual trial draws its parameters from their uncertainty distributions",
    "interval": "central 95% interval: 2.5th and 97.5th percentiles of the simulated values (inverted empirical CDF, "
                "so each bound is a value some virtual trial produced)",
    "percentile": "mid-rank percentile of the reported value r: 100 x (P(X < r) + P(X = r) / 2) over the simulated values X",
    "pass": "the reported value lies inside the central 95% interval, bounds included",
}
EPILOG = """\
outputs (in --out, default results/<trial name>):
  validation.csv        one row per figure of the seeds file: reported value, simulated median,
                        95% interval, percentile of the reported value, pass/fail (or not modelled)
  validation.json       the same with the definitions and a manifest (versions, hashes, seed, command)
  validation.png/.svg   forest plot: each figure's simulated interval with the reported value marked

percentile: mid-rank, 100 x (P(X < r) + P(X = r)/2), so a count that ties with many virtual trials
sits in the middle of its own probability mass.  pass: inside the central 95% interval.
exit status: 0 if every modelled figure passes, 1 if any fails, 2 on bad input.

example:
  cartsim validate params/cd5_tall.toml --trials 2000 --seed 0"""


def add_parser(commands) -> None:
    parser = commands.add_parser(
        NAME, help=HELP, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Simulate N virtual trials of the design in PARAMS, each with its parameters drawn from "
        "their uncertainty distributions, and place every figure of the trial's seeds file in the simulated "
        "distribution of the same figure.")
    add_run_options(parser, trials=2000)


def run(args: argparse.Namespace, argv: list[str]) -> int:
    if args.trials < MIN_TRIALS:
        raise InputError("--trials", "", f"validation needs at least {MIN_TRIALS} virtual trials for a 95% interval, "
                         f"got {args.trials}")
    params = load_params(args.params)
    if params.seeds.planned:
        print(f"{params.text['trial.title']}: its seeds file reports no figures (a planned trial), so there is nothing "
              "to compare; add the reported figures once the trial is published.")
        return 0
    out = output_folder(args.out, Path("results") / params.name)
    with staged_folder(out, replace=OUTPUTS) as folder:  # validation files join a run's outputs in the same folder
        results = run_trials(params, trials=args.trials, seed=args.seed, parameter_uncertainty=True)
        table = validation_table(params.seeds, results.trials, LEVEL)
        title = (f"{params.text['trial.title']}\nreported figures against {results.n_trials} virtual trials "
                 f"(seed {results.seed})")
        document = {"manifest": manifest(results, ["cartsim", *argv]), "citation": params.seeds.cite(),
                    "definitions": DEFINITIONS, "failed": failed(table), "figures": _records(table)}
        write_atomic(folder / "validation.csv", table.to_csv_text())
        write_atomic(folder / "validation.json", json.dumps(document, indent=2) + "\n")
        pictures = draw_validation(table, title, folder)
    print(f"{params.text['trial.title']}: {results.n_trials} virtual trials, seed {results.seed}, "
          "parameters drawn from their uncertainty")
    print(format_validation(table))
    print(f"wrote validation.csv, validation.json and {', '.join(p.name for p in pictures)} to {out}/")
    return 1 if failed(table) else 0


def format_validation(table: Table) -> str:
    """The validation table as plain text, with a line saying how it reads."""
    lines = [f"{'figure':32} {'reported':>9} {'median':>7}  {'95% interval':<15} {'pctile':>6}  result",
             f"{'-' * 32} {'-' * 9} {'-' * 7}  {'-' * 15} {'-' * 6}  {'-' * 6}"]
    for row in table.rows():
        reported = number(row["reported"]) + (f"/{int(row['of'])}" if not math.isnan(row["of"]) else "")
        if row["status"] == NOT_MODELLED:
            lines.append(f"{row['figure']:32} {reported:>9} {'-':>7}  {'-':<15} {'-':>6}  not modelled: {row['why']}")
            continue
        interval = f"[{number(row['sim_low95'])}, {number(row['sim_high95'])}]"
        lines.append(f"{row['figure']:32} {reported:>9} {number(row['sim_median']):>7}  {interval:<15} "
                     f"{row['percentile']:>5.1f}%  {row['status']}")
    modelled = [r for r in table.rows() if r["status"] != NOT_MODELLED]
    bad = failed(table)
    lines.append(f"{len(modelled) - len(bad)} of {len(modelled)} modelled figures pass; "
                 f"{len(table) - len(modelled)} not modelled.  pctile: mid-rank percentile of the reported value, "
                 "100 x (P(X < r) + P(X = r)/2); pass: inside the simulated central 95% interval.")
    if bad:
        lines.append(f"FAILED: {', '.join(bad)}")
    return "\n".join(lines)


def _records(table: Table) -> list[dict]:
    return [{key: _plain(value) for key, value in row.items()} for row in table.rows()]


def _plain(value):
    """A JSON value: NaN becomes null, numpy scalars plain Python."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
