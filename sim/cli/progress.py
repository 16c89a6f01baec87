"""A progress bar on stderr for long runs: shown only on a terminal, and only after a short delay."""

from __future__ import annotations

import sys
import time
from typing import Callable, TextIO

from sim.cli import verbosity

DELAY_SECONDS = 2.0
REDRAW_SECONDS = 0.2  # at most five redraws a second
WIDTH = 30


class ProgressBar:
    """A callable ``(done, total)`` that redraws one line, e.g. ``[######....]  40%  400/1000 trials``.

    Nothing is drawn until ``delay`` seconds have passed (short runs stay quiet), and nothing at all
    when ``stream`` is not a terminal (unless ``-v``) or with ``--quiet``.  Use as a context manager so that the line is ended.
    """

    def __init__(self, stream: TextIO | None = None, delay: float = DELAY_SECONDS, label: str = "trials",
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = sys.stderr if stream is None else stream
        terminal = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = verbosity.level >= verbosity.VERBOSE or (terminal and verbosity.level > verbosity.QUIET)
        self.delay, self.label, self.clock = delay, label, clock
        self.started = clock()
        self.drawn = False
        self.last_drawn = -float("inf")

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        if not self.enabled or now - self.started < self.delay:
            return
        if now - self.last_drawn < REDRAW_SECONDS and done < total:
            return
        self.stream.write("\r" + self.line(done, total))
        self.stream.flush()
        self.drawn, self.last_drawn = True, now

    def line(self, done: int, total: int) -> str:
        """The bar's text for ``done`` of ``total``, with the time left at the rate so far."""
        share = done / total if total else 1.0
        elapsed = self.clock() - self.started
        left = elapsed * (1 - share) / share if share > 0 else float("nan")
        bar = "#" * int(round(WIDTH * share))
        eta = f", {left:.0f} s left" if share < 1 and left == left else ""
        return f"[{bar:<{WIDTH}}] {share:4.0%}  {done}/{total} {self.label}{eta}   "

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
