"""``cartsim validate``: every reported figure against virtual trials with parameter uncertainty."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from sim.analyses.validation import NOT_MODELLED, failed
from sim.errors import InputError
from sim.inputs.params import load_params
from sim.output.table import Table
from sim.output.validation_files import run_validation
from sim.cli.options import add_run_options, number, output_folder
from sim.output.atomic_folder import staged_folder

NAME = "validate"
OUTPUTS = ("validation.csv", "validation.json", "validation.png", "validation.svg")
HELP = "check every reported figure against virtual trials with parameter uncertainty"
MIN_TRIALS = 40  # below this the 2.5th and 97.5th percentiles are the extremes of the sample
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
    out = output_folder(args.out, Path("results") / params.name)
    with staged_folder(out, replace=OUTPUTS) as folder:  # validation files join a run's outputs in the same folder
        validation = run_validation(params, trials=args.trials, seed=args.seed)
        written = validation.write(folder, ["cartsim", *argv])
    results = validation.results
    print(f"{params.text['trial.title']}: {results.n_trials} virtual trials, seed {results.seed}, "
          "parameters drawn from their uncertainty")
    print(format_validation(validation.table))
    print(f"wrote {', '.join(p.name for p in written)} to {out}/")
    return 1 if validation.failed else 0


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
