"""Families of time distributions, sampled through their inverse CDF from uniforms.

Every duration in the model is drawn as ``ppf(u)`` from a uniform ``u`` that belongs to one patient,
so a change of parameter moves each patient's time smoothly (common random numbers).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri

# family -> (required arguments, optional arguments with defaults).  A lognormal is given by its
# median, its log-scale sigma and an optional shift ``loc``: days = loc + (median - loc) * exp(sigma * z).
FAMILIES: dict[str, tuple[tuple[str, ...], dict[str, float]]] = {
    "fixed": (("days",), {}),
    "exponential": (("mean",), {}),
    "uniform": (("low", "high"), {}),
    "lognormal": (("median", "sigma"), {"loc": 0.0}),
}


def ppf(family: str, args: dict[str, float], u: np.ndarray) -> np.ndarray:
    """Inverse CDF of ``family`` with ``args`` at the uniforms ``u`` (days); an argument may be an
    array that broadcasts against ``u`` (a value per trial row)."""
    u = np.asarray(u, dtype=float)
    if family == "fixed":
        return np.broadcast_to(np.asarray(args["days"], dtype=float), u.shape).copy()
    if family == "exponential":
        return -args["mean"] * np.log1p(-u)
    if family == "uniform":
        return args["low"] + (args["high"] - args["low"]) * u
    if family == "lognormal":
        loc = args.get("loc", 0.0)
        return loc + (args["median"] - loc) * np.exp(args["sigma"] * ndtri(u))
    raise ValueError(f"unknown time distribution family {family!r}")


def argument_problem(family: str, args: dict[str, float]) -> str | None:
    """Why ``args`` do not make a distribution of durations, or None if they do."""
    if family == "uniform" and not args["low"] < args["high"]:
        return "low must be below high"
    if family == "lognormal" and not (args["median"] > args.get("loc", 0.0) and args["sigma"] > 0):
        return "needs median > loc (default 0) and sigma > 0"
    if family == "exponential" and args["mean"] <= 0:
        return "mean must be positive"
    return None


def arguments_valid(family: str, args: dict) -> np.ndarray:
    """Elementwise over argument arrays: True where :func:`argument_problem` finds no problem."""
    if family == "uniform":
        return np.asarray(args["low"] < args["high"])
    if family == "lognormal":
        return np.asarray((args["median"] > args.get("loc", 0.0)) & (args["sigma"] > 0))
    if family == "exponential":
        return np.asarray(args["mean"] > 0)
    return np.asarray(True)
