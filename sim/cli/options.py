"""Argument types and options shared by several subcommands."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import TYPE_CHECKING

from sim.errors import printable
from sim.inputs.trial_catalog import trial_path
from sim.output.atomic_folder import check_output_place

if TYPE_CHECKING:  # for annotations only; imported where used
    from sim.table import Table


class Parser(argparse.ArgumentParser):
    """Argument errors as one line and exit status 2, without the usage block."""

    def error(self, message: str) -> None:  # noqa: D102
        self.exit(2, f"{ERROR_PREFIX}{shortened(printable(message))}\n")


ERROR_PREFIX = "cartsim: error: "  # every error of every command begins so
MAX_ERROR = 200  # characters of an error line; the whole message with -v


def shortened(message: str, verbose: bool = False) -> str:
    """An error message of at most about :data:`MAX_ERROR` characters after the file it names, unless
    ``verbose``: a long one (a list of every valid choice) is cut, saying how to see all of it."""
    limit = MAX_ERROR + len(message.split(": ", 1)[0])  # the file's path, however long, plus the problem
    if verbose or len(message) <= limit:
        return message
    return message[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " ... (cut short: run again with -v for all of it)"


MAX_COUNT = 1 << 32  # trials, draws, samples: a trial's index must fit the random streams' counters
# The sizes a command holds in memory, each refused above its limit before anything runs (docs/reliability.md
# gives each command's memory ceiling): a virtual trial's row of figures is about 1 KB, a parameter draw's
# results about the same; calibration keeps every simulated patient's waits and windows.
MAX_TRIALS = 1_000_000
MAX_DRAWS = 1_000_000
MAX_CALIBRATION_TRIALS = 100_000
MAX_POSTERIOR_DRAWS = 100_000
IN_MEMORY = "the most this command holds in memory"


def whole(minimum: int, maximum: int | None = MAX_COUNT, why: str = ""):
    """An argparse type: a whole number >= ``minimum`` and <= ``maximum`` (None: no upper limit); ``why``
    says, in the message, what the upper limit protects."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, got {printable(text)!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"must be <= {maximum}{f' ({why})' if why else ''}, got {value}")
        return value
    return parse


def seconds(text: str) -> float:
    """An argparse type: a finite number of seconds > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number of seconds, got {printable(text)!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds > 0, got {printable(text)!r}")
    return value


def acceptance(text: str) -> float:
    """An argparse type: a target acceptance rate, a number strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number between 0 and 1, got {printable(text)!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must lie strictly between 0 and 1, got {printable(text)!r}")
    return value


def names(text: str) -> list[str]:
    """An argparse type: a comma-separated list of at least one name."""
    listed = [name.strip() for name in text.split(",") if name.strip()]
    if not listed:
        raise argparse.ArgumentTypeError(f"must name at least one, comma-separated, got {printable(text)!r}")
    return listed


def add_run_options(parser: argparse.ArgumentParser, trials: int = 1000, least: int = 1) -> None:
    """PARAMS, --trials (at least ``least``), --seed and --out, as every simulating subcommand takes them."""
    parser.add_argument("params", metavar="PARAMS", type=trial_path,
                        help="a trial's params file, or a shipped trial by name (see 'cartsim trials'), e.g. cd5_tall")
    parser.add_argument("--trials", type=whole(least, MAX_TRIALS, IN_MEMORY), default=trials, metavar="N",
                        help="number of virtual trials" + (f", at least {least}" if least > 1 else "")
                        + " (default: %(default)s)")
    parser.add_argument("--seed", type=whole(0, None), default=0, metavar="S",
                        help="random seed; the same seed gives the same tables (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="folder for the output files (default: results/<trial name>)")


def output_folder(out: Path | None, default: Path) -> Path:
    """The folder to write into: ``out`` or ``default``, refusing, before anything runs, a place that
    cannot be written (a file there or above it, no permission, a name too long)."""
    folder = out if out is not None else default
    check_output_place(folder)
    return folder


def format_summary(summary: Table, scenario: dict | None = None) -> str:
    """A plain-text table: figure, reported count with its rate, simulated median and 95% interval.

    The paper's figures are shown or dropped by the rule of :mod:`sim.output.paper_view`.
    """
    from sim.output.paper_view import paper_view, with_rate
    from sim.output.shown_values import number



    shown, note = paper_view(summary, scenario)
    lines = [f"{'figure':34} {'reported':>14} {'simulated':>10}  {'95% interval':<17} description",
             f"{'-' * 34} {'-' * 14} {'-' * 10}  {'-' * 17} {'-' * 11}"]
    for row in shown.rows():
        reported = with_rate(float(row["reported"]), float(row["of"]))
        interval = f"[{number(row['sim_low95'])}, {number(row['sim_high95'])}]"
        lines.append(f"{row['figure']:34} {reported:>14} {number(row['sim_median']):>10}  {interval:<17} {row['says']}")
    lines.append("simulated: median and central 95% interval over the virtual trials; counts are patients per trial, "
                 "a count k/n over the trials with n in its denominator" + (f".  {note}" if note else ""))
    return "\n".join(lines)
