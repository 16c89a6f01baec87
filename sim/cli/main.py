"""The ``cartsim`` command: parses arguments and calls the library; no model logic here.

Each subcommand lives in its own module of :mod:`sim.cli`, with ``add_parser(commands)`` and
``run(args, argv)``; ``COMMANDS`` lists them in the order ``cartsim --help`` shows.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from sim.cli import bench, calibrate, compare, design, plot, run, sensitivity, validate
from sim.cli.options import Parser
from sim.errors import InputError, printable

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


INTERRUPTED = 130  # the shell's status for a command stopped by Ctrl-C (128 + SIGINT)


def main(argv: list[str] | None = None) -> int:
    """Run one command.  Exit status: 0 done, 1 a check failed (validate), 2 bad input or an output that
    cannot be written (one line, nothing written), 130 interrupted (one line, nothing half-written)."""
    argv = sys.argv[1:] if argv is None else argv
    previous = _terminate_as_interrupt()
    try:
        args = build_parser().parse_args(argv)
        command = next(c for c in COMMANDS if c.NAME == args.command)
        return command.run(args, argv)
    except InputError as err:
        return _error(str(err))
    except BrokenPipeError:  # output piped into a command that stopped reading, e.g. head
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as err:  # a file that could not be read or written, not caught nearer its cause
        where = f"{err.filename}: " if err.filename else ""
        return _error(f"{where}{err.strerror or err}")
    except MemoryError:
        return _error("not enough memory for this run: ask for fewer trials, draws or patients")
    except KeyboardInterrupt:
        print("\ncartsim: interrupted; nothing was written", file=sys.stderr)
        return INTERRUPTED
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _error(message: str) -> int:
    print(f"cartsim: error: {printable(message)}", file=sys.stderr)
    return 2


def _terminate_as_interrupt():
    """SIGTERM (e.g. ``kill``, a batch system's time limit) stops a command as Ctrl-C does, tidily;
    returns the handler it replaced (None if it left it alone)."""
    def stop(signum, frame):
        raise KeyboardInterrupt
    try:
        return signal.signal(signal.SIGTERM, stop) if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL else None
    except ValueError:  # not the main thread
        return None
