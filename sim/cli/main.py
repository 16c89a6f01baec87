"""The ``cartsim`` command: parses arguments and calls the library; no model logic here.

Each subcommand lives in its own module of :mod:`sim.cli`, with ``NAME``, ``HELP``,
``add_parser(commands)`` and ``run(args, argv)``; ``COMMANDS`` lists them in the order ``cartsim
--help`` shows.  The command modules import the library inside their functions, and only the
command being run builds its full parser, so ``--version``, ``--help`` and ``trials`` start
without loading numpy, scipy or matplotlib, and Ctrl-C while those load is handled as anywhere else.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import signal
import sys
import warnings
from importlib import import_module, metadata

from sim.cli import verbosity
from sim.cli.options import ERROR_PREFIX, Parser, shortened
from sim.errors import InputError, printable

COMMAND_NAMES = ("run", "compare", "plot", "trials", "new", "bench", "validate", "calibrate", "evidence", "sensitivity", "design")
COMMANDS = [import_module(f"sim.cli.{name}") for name in COMMAND_NAMES]

DESCRIPTION = """\
Simulate early-phase trials of donor-derived CAR-T cell therapy, one virtual patient at a time:
enrolment, donor search, manufacturing, withdrawal before infusion, lymphodepletion, infusion,
CRS and neurotoxicity, response, consolidative transplant, relapse and late deaths, to a data
cut-off.  A trial is described entirely by a params file; the shipped ones run by name
('cartsim trials' lists them; 'cartsim new' starts one of your own).  Run 'cartsim COMMAND --help'
for a command's options.  The Python package is imported as 'sim' ('import sim')."""


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every command; given ``argv``, only the command it names gets its options (the others
    are listed by name and help), so that a command's library is not imported to run another."""
    parser = Parser(prog="cartsim", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    parser.add_argument("--version", action="version", version=f"cartsim {package_version()}")
    chosen = None if argv is None else _chosen(argv) or ""  # "": none, e.g. --version
    for command in COMMANDS:
        if chosen is None or command.NAME == chosen:
            command.add_parser(commands)
        else:
            commands.add_parser(command.NAME, help=command.HELP)
    for sub in _parsers(parser):  # before or after COMMAND (and a command's own subcommand)
        sub.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                         help="print nothing but errors (the files are written as usual)")
        sub.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS,
                         help="also show the progress bar when not on a terminal, and the files read")
    return parser


def _chosen(argv: list[str]) -> str | None:
    """The command ``argv`` names (its first word that is not an option), or None if it names none."""
    first = next((word for word in argv if not word.startswith("-")), None)
    return first if first in COMMAND_NAMES else None


def _parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """``parser`` and every parser below it."""
    nested = [p for action in parser._actions if isinstance(action, argparse._SubParsersAction)
              for p in action.choices.values()]
    return [parser] + [p for sub in nested for p in _parsers(sub)]


def _as_list(value) -> list:
    return [] if value is None else list(value) if isinstance(value, list) else [value]


def package_version() -> str:
    """The installed distribution's version, else the package's own ``sim.__version__``."""
    try:
        return metadata.version("cartsim")
    except metadata.PackageNotFoundError:
        import sim

        return getattr(sim, "__version__", "unknown (not installed)")


INTERRUPTED = 130  # the shell's status for a command stopped by Ctrl-C (128 + SIGINT)


def main(argv: list[str] | None = None) -> int:
    """Run one command.  Exit status: 0 done, 1 a check failed (validate), 2 bad input or an output that
    cannot be written (one line, nothing written), 130 interrupted (one line, nothing half-written)."""
    from sim.cli.extras import missing_dependency

    argv = sys.argv[1:] if argv is None else argv
    previous = _terminate_as_interrupt()
    try:
        args = build_parser(argv).parse_args(argv)
        command = next(c for c in COMMANDS if c.NAME == args.command)
        verbosity.set_level(getattr(args, "quiet", False), getattr(args, "verbose", 0))
        for name in ("params", "base", "scenario", "scenarios", "template"):  # the files a name resolved to
            for path in _as_list(getattr(args, name, None)):
                verbosity.detail(f"cartsim: {name}: {path}")
        with numeric_warnings():
            if verbosity.level == verbosity.QUIET:
                with contextlib.redirect_stdout(io.StringIO()):
                    return command.run(args, argv)
            return command.run(args, argv)
    except InputError as err:
        return _error(str(err))
    except ImportError as err:  # an optional extra not installed: one line naming it
        if (err.name or "").split(".")[0] == "sim":
            raise  # a fault of the package itself, not of the installation
        return _error(missing_dependency(err))
    except BrokenPipeError:  # output piped into a command that stopped reading, e.g. head
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as err:  # a file that could not be read or written, not caught nearer its cause
        where = f"{err.filename}: " if err.filename else ""
        return _error(f"{where}{err.strerror or err}")
    except MemoryError:
        return _error("not enough memory for this run: ask for fewer trials, draws or patients")
    except KeyboardInterrupt as err:
        written = getattr(err, "written", None)  # sim.output.held_interrupts.InterruptedAfterWriting
        print(f"\ncartsim: interrupted; {f'{written} had been written whole' if written else 'nothing was written'}",
              file=sys.stderr)
        return INTERRUPTED
    finally:
        verbosity.set_level(False, 0)  # the level belongs to this call only (main may run again in one process)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def numeric_warnings():
    """numpy's RuntimeWarnings (a division by zero, a mean of nothing) from valid but extreme inputs, as one
    line of our own after the command instead of numpy's lines with their source; the figures concerned
    are undefined and printed as '-' or written as empty cells."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        done = False
        try:
            yield
            done = True
        finally:
            numeric = {str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)}
            for w in caught:
                if not issubclass(w.category, RuntimeWarning):
                    warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            if numeric and done:  # after an error, its own line is the only one
                print(f"cartsim: note: some figures are undefined for these inputs ({sorted(numeric)[0]}"
                      f"{f' and {len(numeric) - 1} more' if len(numeric) > 1 else ''}); they are shown as '-'",
                      file=sys.stderr)


def _error(message: str) -> int:
    verbose = verbosity.level >= verbosity.VERBOSE
    print(f"{ERROR_PREFIX}{shortened(printable(message), verbose)}", file=sys.stderr)
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
