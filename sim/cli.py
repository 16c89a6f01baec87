"""The ``cartsim`` command: parses arguments and calls the library; no model logic here."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from .errors import InputError
from .output import write_results
from .params import load_params
from .runner import run_trials
from .table import Table

DESCRIPTION = """\
Simulate early-phase trials of donor-derived CAR-T cell therapy, one virtual patient at a time:
enrolment, donor search, manufacturing, withdrawal before infusion, lymphodepletion, infusion,
CRS and neurotoxicity, response, consolidative transplant, relapse and late deaths, to a data
cut-off.  A trial is described entirely by a params file (see params/)."""

RUN_EPILOG = """\
outputs (CSV opens in a spreadsheet; times in days from the first enrolment):
  patients.csv    one row per virtual patient: every event time, grade, response, final state
  events.csv      tidy event log: trial, patient, event, time
  trials.csv      one row per virtual trial: every reported figure, KM OS/LFS at 6 and 12 months
  facilities.csv  per trial and facility: uses, queue waits, utilisation, peak occupancy
  summary.csv     per figure: reported value, simulated mean, median and 95% interval
  summary.json    the same with a manifest (versions, params hash, seed, command, run time)

example:
  cartsim run params/cd5_tall.toml --trials 1000 --seed 1 --out results/cd5"""


class _Parser(argparse.ArgumentParser):
    """Argument errors as one line and exit status 2, without the usage block."""

    def error(self, message: str) -> None:  # noqa: D102
        self.exit(2, f"{self.prog}: error: {message}\n")


def _whole(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value
    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="cartsim", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    run = commands.add_parser("run", help="simulate virtual trials and compare them with the reported figures",
                              description="Simulate N virtual trials of the design in PARAMS, print each reported "
                              "figure next to the simulated median and 95%% interval, and write the tables.",
                              epilog=RUN_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("params", metavar="PARAMS", type=Path, help="a trial's params file, e.g. params/cd5_tall.toml")
    run.add_argument("--trials", type=_whole(1), default=1000, metavar="N",
                     help="number of virtual trials (default: %(default)s)")
    run.add_argument("--seed", type=_whole(0), default=0, metavar="S",
                     help="random seed; the same seed gives the same tables (default: %(default)s)")
    run.add_argument("--out", type=Path, default=None, metavar="DIR",
                     help="folder for the output files (default: results/<trial name>)")
    run.add_argument("--parameter-uncertainty", action="store_true",
                     help="draw each trial's parameters from their uncertainty distributions "
                     "(default: every trial at the base values, so only patient-level chance varies)")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    try:
        return _run(args, argv)
    except InputError as err:
        print(f"cartsim: error: {err}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, argv: list[str]) -> int:
    params = load_params(args.params)
    out = args.out if args.out is not None else Path("results") / params.name
    if out.exists() and not out.is_dir():
        raise InputError(out, "--out", "exists and is not a folder")
    results = run_trials(params, trials=args.trials, seed=args.seed, parameter_uncertainty=args.parameter_uncertainty)
    print(f"{params.text['trial.title']}: {results.n_trials} virtual trials, seed {results.seed}"
          f"{', parameters drawn from their uncertainty' if results.parameter_uncertainty else ', base parameters'}")
    print(format_summary(results.summary()))
    written = write_results(results, out, command=["cartsim", *argv])
    print(f"wrote {len(written)} files to {out}/")
    return 0


def format_summary(summary: Table) -> str:
    """A plain-text table: figure, reported value, simulated median and 95% interval."""
    lines = [f"{'figure':34} {'reported':>10} {'simulated':>10}  {'95% interval':<17} description",
             f"{'-' * 34} {'-' * 10} {'-' * 10}  {'-' * 17} {'-' * 11}"]
    for row in summary.rows():
        reported = _number(row["reported"]) + (f"/{int(row['of'])}" if not math.isnan(row["of"]) else "")
        interval = f"[{_number(row['sim_low95'])}, {_number(row['sim_high95'])}]"
        lines.append(f"{row['figure']:34} {reported:>10} {_number(row['sim_median']):>10}  {interval:<17} {row['says']}")
    return "\n".join(lines)


def _number(value: float) -> str:
    if value is None or math.isnan(value):
        return "-"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"
