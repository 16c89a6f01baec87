"""Run ``cartsim ARGS`` with a fault injected at the N-th file opened for writing (counting from 0).

    python faulty.py FAULT N ARGS...

FAULT is ``kill`` (SIGKILL: the process dies at once, as with ``kill -9`` or a power cut), ``sigint``
(Ctrl-C), or ``enospc`` (the write fails as on a full disk).  Every file the package writes goes through
``open`` (``io.open``), whatever the writer, so the hook needs no knowledge of which files a command
writes or in what order.

With ``every_step=True`` (``FAULT+`` on the command line, e.g. ``sigint+``) every change to the file
system counts as a step, not only opening a file: also ``os.replace``, ``os.rename``, ``os.unlink``,
``os.mkdir`` and ``os.rmdir`` (which ``pathlib`` calls too), so a test can stop a command between any
two of its moves.  :func:`steps` counts the steps a command takes, to try each in turn.
"""

from __future__ import annotations

import builtins
import errno
import io
import os
import signal
import sys


MOVES = ("replace", "rename", "unlink", "mkdir", "rmdir")
COUNTED = [0]  # steps taken since the hook was installed


def install(fault: str, after: int, every_step: bool = False) -> None:
    """Inject ``fault`` at step ``after`` (counting from 0); ``fault`` "none" only counts (see :data:`COUNTED`)."""
    real_open = getattr(io.open, "__wrapped__", io.open)  # installed again: wrap the real one, not the last hook
    COUNTED[0] = 0

    def step() -> None:
        COUNTED[0] += 1  # first: the fault may raise, and each step is counted once
        if COUNTED[0] - 1 == after:
            if fault == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            elif fault == "sigint":
                os.kill(os.getpid(), signal.SIGINT)
            elif fault == "enospc":
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def faulty_open(file, mode="r", *args, **kwargs):
        if any(flag in mode for flag in "wax+"):
            step()
        return real_open(file, mode, *args, **kwargs)

    faulty_open.__wrapped__ = real_open
    builtins.open = io.open = faulty_open
    if every_step:
        for name in MOVES:
            real = getattr(os, name)
            setattr(os, name, _counting(getattr(real, "__wrapped__", real), step))


def _counting(real, step):
    def move(*args, **kwargs):
        step()
        return real(*args, **kwargs)
    move.__wrapped__ = real
    return move


if __name__ == "__main__":
    install(sys.argv[1].rstrip("+"), int(sys.argv[2]), every_step=sys.argv[1].endswith("+"))
    from sim.cli.main import main

    sys.exit(main(sys.argv[3:]))
