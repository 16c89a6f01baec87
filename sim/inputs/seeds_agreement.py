"""Whether a params entry sourced ``seeds:KEY`` agrees with the figure or design fact it cites.

A count, duration, dose or other number must be the cited number itself (``enrolled = 30`` citing a
seeds file that says 14 is an error).  A probability may be the proportion ``k/n``, its complement
``1 - k/n``, or a reading of the count the note explains (0 failures among the 12 infused of 14
enrolled), so probabilities are not compared; nor are texts and category weights.  Values are
compared to a relative ``TOLERANCE`` of 0.5%, the rounding of a number written to three significant
digits.
"""

from __future__ import annotations

import math
from typing import Any

TOLERANCE = 5e-3


UNCOMPARED_KINDS = ("prob", "weights")


def disagreement(kind: str, entry_value: Any, cited: Any, of: Any = None) -> str | None:
    """A sentence naming both numbers when ``entry_value`` does not agree with the cited one, else None."""
    if kind in UNCOMPARED_KINDS or isinstance(cited, bool) or not isinstance(cited, (int, float)):
        return None
    if isinstance(entry_value, (dict, bool)) or math.isclose(float(entry_value), cited, rel_tol=TOLERANCE):
        return None
    stated = f"{cited:g} of {of}" if of else f"{cited:g}"
    return f"value {float(entry_value):g} disagrees with the seeds file, which gives {stated}"
