"""The ``cartsim`` command: parses arguments and calls the library; no model logic here.

Each subcommand lives in its own module of :mod:`sim.cli`, with ``add_parser(commands)`` and
``run(args, argv)``; ``COMMANDS`` lists them in the order ``cartsim --help`` shows.
"""

from __future__ import annotations

import argparse
import os
import sys

from sim.cli import bench, calibrate, compare, design, plot, run, sensitivity, validate
from sim.cli.options import Parser
from sim.errors import InputError

COMMANDS = [run, compare, plot, bench, validate, calibrate, sensitivity, design]

DESCRIPTION = """\
Simulate early-phase trials of donor-derived CAR-T cell therapy, one virtual patient at a time:
enrolment, donor search, manufacturing, withdrawal before infusion, lymphodepletion, infusion,
CRS and neurotoxicity, response, consolidative transplant, relapse and late deaths, to a data
cut-off.  A trial is described entirely by a params file (see params/).  Run
'cartsim COMMAND --help' for a command's options."""


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="cartsim", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    command = next(c for c in COMMANDS if c.NAME == args.command)
    try:
        return command.run(args, argv)
    except InputError as err:
        print(f"cartsim: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into a command that stopped reading, e.g. head
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
