"""``cartsim run``: simulate virtual trials and compare them with the reported figures."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..output import write_results
from ..params import load_params
from ..runner import run_trials
from .common import add_run_options, format_summary, output_folder

NAME = "run"
HELP = "simulate virtual trials and compare them with the reported figures"
EPILOG = """\
outputs (CSV opens in a spreadsheet; times in days from the first enrolment):
  patients.csv    one row per virtual patient: every event time, grade, response, final state
  events.csv      tidy event log: trial, patient, event, time
  trials.csv      one row per virtual trial: every reported figure, KM OS/LFS at 6 and 12 months
  facilities.csv  per trial and facility: uses, queue waits, utilisation, peak occupancy
  summary.csv     per figure: reported value, simulated mean, median and 95% interval
  summary.json    the same with a manifest (versions, params hash, seed, command, run time)

example:
  cartsim run params/cd5_tall.toml --trials 1000 --seed 1 --out results/cd5"""


def add_parser(commands) -> None:
    parser = commands.add_parser(
        NAME, help=HELP, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Simulate N virtual trials of the design in PARAMS, print each reported figure next "
        "to the simulated median and 95%% interval, and write the tables.")
    add_run_options(parser)
    parser.add_argument("--parameter-uncertainty", action="store_true",
                        help="draw each trial's parameters from their uncertainty distributions "
                        "(default: every trial at the base values, so only patient-level chance varies)")


def run(args: argparse.Namespace, argv: list[str]) -> int:
    params = load_params(args.params)
    out = output_folder(args.out, Path("results") / params.name)
    results = run_trials(params, trials=args.trials, seed=args.seed, parameter_uncertainty=args.parameter_uncertainty)
    written = write_results(results, out, command=["cartsim", *argv])
    print(f"{params.text['trial.title']}: {results.n_trials} virtual trials, seed {results.seed}"
          f"{', parameters drawn from their uncertainty' if results.parameter_uncertainty else ', base parameters'}")
    print(format_summary(results.summary()))
    print(f"wrote {len(written)} files to {out}/")
    return 0
