"""Run ``cartsim ARGS`` with a fault injected at the N-th file opened for writing (counting from 0).

    python faulty.py FAULT N ARGS...

FAULT is ``kill`` (SIGKILL: the process dies at once, as with ``kill -9`` or a power cut), ``sigint``
(Ctrl-C), or ``enospc`` (the write fails as on a full disk).  Every file the package writes goes through
``open`` (``io.open``), whatever the writer, so the hook needs no knowledge of which files a command
writes or in what order.
"""

from __future__ import annotations

import builtins
import errno
import io
import os
import signal
import sys


def install(fault: str, after: int) -> None:
    real_open = io.open
    opened = [0]

    def faulty_open(file, mode="r", *args, **kwargs):
        if any(flag in mode for flag in "wax+"):
            if opened[0] == after:
                if fault == "kill":
                    os.kill(os.getpid(), signal.SIGKILL)
                elif fault == "sigint":
                    os.kill(os.getpid(), signal.SIGINT)
                elif fault == "enospc":
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            opened[0] += 1
        return real_open(file, mode, *args, **kwargs)

    builtins.open = io.open = faulty_open


if __name__ == "__main__":
    install(sys.argv[1], int(sys.argv[2]))
    from sim.cli.main import main

    sys.exit(main(sys.argv[3:]))
