"""How much the command says: ``--quiet`` (errors only), the default, or ``-v`` (also progress and details).

Set once by :func:`sim.cli.main.main` from the global options; read by the progress bar and by
:func:`detail` for lines only ``-v`` shows.
"""

from __future__ import annotations

import sys

QUIET, NORMAL, VERBOSE = 0, 1, 2
level = NORMAL


def set_level(quiet: bool, verbose: int) -> None:
    """``--quiet`` wins over ``-v``."""
    global level
    level = QUIET if quiet else (VERBOSE if verbose else NORMAL)


def detail(text: str) -> None:
    """A line on stderr, shown only with ``-v``."""
    if level >= VERBOSE:
        print(text, file=sys.stderr)
