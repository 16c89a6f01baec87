"""A base value is the centre of its own uncertainty, or its note says why not.

The base case (every parameter at its value) and a run with parameter uncertainty (every parameter
drawn) must tell the same story, so an entry's ``value`` is the median of its ``uncertainty``:

- stated distributions (``uniform``, ``triangular``, ``lognormal``, ``beta_ab``): the value must lie
  between the 49th and 51st percentiles of the distribution (:data:`PERCENTILE_BAND`), a tolerance
  that is scale-free and holds for a value of 0 as well as for one of 5000;
- counts (``beta = [k, n]``, ``gamma = [events, exposure]``, ``dirichlet = {counts}``): the value may
  instead be the reported proportion k/n (or rate events/exposure, or the counts' shares), within
  rounding (:data:`COUNT_ROUNDING`).  That is the figure as the paper reports it, which the seeds
  check ties the value to; the Jeffreys median sits less than half an event from it (for beta,
  ``|median - k/n| < 1/(2n)``), so the two runs differ by less than one patient's worth.

Any other value needs the marker :data:`MARKER` in its note, followed by the reason (a mode reported
by a paper, a lever that is off as run, a calibrated point estimate).
"""

from __future__ import annotations

from typing import Any

from sim.inputs.uncertainty import DirichletUncertainty, Uncertainty

MARKER = "not the median:"
PERCENTILE_BAND = (0.49, 0.51)
COUNT_ROUNDING = 0.005  # relative, or 0.005 of one event in n, whichever is larger
COUNT_KINDS = ("beta", "gamma")


def is_count_figure(value: float, uncertainty: Uncertainty) -> bool:
    """True if ``value`` is the proportion k/n (or rate events/exposure) of a count distribution."""
    if uncertainty.kind not in COUNT_KINDS:
        return False
    k, n = uncertainty.args
    return abs(value * n - k) <= COUNT_ROUNDING * max(k, 1.0)


def off_centre(value: Any, uncertainty: Uncertainty | DirichletUncertainty, note: str) -> str | None:
    """Why ``value`` is not the centre of ``uncertainty`` (a problem for the error line), or None.

    None also when the note carries :data:`MARKER` with a reason after it.
    """
    if MARKER in note and note.split(MARKER, 1)[1].strip():
        return None
    if isinstance(uncertainty, DirichletUncertainty):
        return _weights_problem(value, uncertainty)
    if is_count_figure(value, uncertainty):
        return None
    share = float(uncertainty.dist.cdf(value))
    low, high = PERCENTILE_BAND
    if low <= share <= high:
        return None
    return (f"base value {value:g} is at the {100 * share:.1f}th percentile of its uncertainty {uncertainty!r} "
            f"(median {uncertainty.ppf(0.5):.4g}); make the value the median, or give the reason in the note "
            f"after '{MARKER}'")


def _weights_problem(value: dict[str, float], uncertainty: DirichletUncertainty) -> str | None:
    total, counts = sum(value.values()), uncertainty.counts
    n = sum(counts.values())
    if n <= 0:
        return None
    worst = max(abs(value[c] / total - counts[c] / n) for c in counts)
    if worst <= COUNT_ROUNDING:
        return None
    shares = ", ".join(f"{c} {counts[c] / n:.3g}" for c in counts)
    return (f"weights {value} are not the shares of the counts {counts} ({shares}); make them the shares, "
            f"or give the reason in the note after '{MARKER}'")
