"""Argument types and options shared by several subcommands."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from sim.errors import InputError
from sim.inputs.trial_catalog import trial_path
from sim.output.paper_view import paper_view, with_rate
from sim.output.table import Table


class Parser(argparse.ArgumentParser):
    """Argument errors as one line and exit status 2, without the usage block."""

    def error(self, message: str) -> None:  # noqa: D102
        self.exit(2, f"{self.prog}: error: {message}\n")


def whole(minimum: int):
    """An argparse type: a whole number >= ``minimum``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value
    return parse


def add_run_options(parser: argparse.ArgumentParser, trials: int = 1000) -> None:
    """PARAMS, --trials, --seed and --out, as every simulating subcommand takes them."""
    parser.add_argument("params", metavar="PARAMS", type=trial_path,
                        help="a trial's params file, or a shipped trial by name (see 'cartsim trials'), e.g. cd5_tall")
    parser.add_argument("--trials", type=whole(1), default=trials, metavar="N",
                        help="number of virtual trials (default: %(default)s)")
    parser.add_argument("--seed", type=whole(0), default=0, metavar="S",
                        help="random seed; the same seed gives the same tables (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="folder for the output files (default: results/<trial name>)")


def output_folder(out: Path | None, default: Path) -> Path:
    """The folder to write into: ``out`` or ``default``, refusing a path that is a file."""
    folder = out if out is not None else default
    if folder.exists() and not folder.is_dir():
        raise InputError(folder, "--out", "exists and is not a folder")
    return folder


def number(value: float) -> str:
    """A figure for a plain-text table: whole numbers without decimals, '-' for missing."""
    if value is None or math.isnan(value):
        return "-"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"


def format_summary(summary: Table, scenario: dict | None = None) -> str:
    """A plain-text table: figure, reported count with its rate, simulated median and 95% interval.

    The paper's figures are shown or dropped by the rule of :mod:`sim.output.paper_view`.
    """
    shown, note = paper_view(summary, scenario)
    lines = [f"{'figure':34} {'reported':>14} {'simulated':>10}  {'95% interval':<17} description",
             f"{'-' * 34} {'-' * 14} {'-' * 10}  {'-' * 17} {'-' * 11}"]
    for row in shown.rows():
        reported = with_rate(float(row["reported"]), float(row["of"]))
        interval = f"[{number(row['sim_low95'])}, {number(row['sim_high95'])}]"
        lines.append(f"{row['figure']:34} {reported:>14} {number(row['sim_median']):>10}  {interval:<17} {row['says']}")
    lines.append("simulated: median and central 95% interval over the virtual trials; counts are patients per trial"
                 + (f".  {note}" if note else ""))
    return "\n".join(lines)
