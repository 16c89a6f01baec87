"""Ctrl-C held back while files are swapped into place, and told truthfully afterwards.

A swap (an output folder exchanged with its stage, a set of files moved in) must not stop half way,
so SIGINT and SIGTERM are held back during it.  One that arrives meanwhile is taken when the swap ends:
if the swap completed, :class:`InterruptedAfterWriting` says what was written whole; if it failed
(and was rolled back), a plain KeyboardInterrupt, since then nothing was written.
"""

from __future__ import annotations

import signal
from contextlib import contextmanager
from typing import Iterator

HELD = {signal.SIGINT, signal.SIGTERM}


class InterruptedAfterWriting(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) that came while ``written`` was being swapped into place; it is there, whole."""

    def __init__(self, written: str) -> None:
        super().__init__(written)
        self.written = written


@contextmanager
def interrupts_held(written: str) -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM back during the block; raise the interrupt that came meanwhile after it.

    The signals are caught by a handler that only records them (a signal mask would not do: a process
    with other threads, such as numpy's BLAS threads, takes a signal on any thread that does not block it).
    """
    came: list[int] = []
    try:
        previous = {signum: signal.signal(signum, lambda signum, frame: came.append(signum)) for signum in HELD}
    except ValueError:  # not the main thread: signals are not delivered here anyway
        yield
        return
    completed = False
    try:
        yield
        completed = True
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if came and completed:
            raise InterruptedAfterWriting(written)
        if came:
            raise KeyboardInterrupt
