"""The uncertain inputs of a sensitivity analysis, each with its own distribution.

A scalar parameter with an uncertainty distribution is one input, with that distribution (Beta,
Gamma, uniform, triangular, lognormal).  Category weights with a Dirichlet(alpha) distribution are
one input per category: independent Gamma(alpha_i, 1) variables, which normalised are
Dirichlet(alpha) (the standard construction), so a variance-based method can sample each on its own.
Every design samples uniforms in the unit hypercube and takes each input through its inverse CDF.

A dummy input that the model ignores can be added; its sensitivity indices show how far from zero
an index of an input without effect falls with this design, patient-level noise and sample size.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from scipy import stats

from sim.errors import InputError
from sim.inputs.params import Params
from sim.inputs.uncertainty import DirichletUncertainty

DUMMY = "dummy (ignored by the model)"
EDGE = 1e-12  # uniforms are kept this far inside (0, 1), where every inverse CDF is finite


@dataclass(frozen=True)
class Input:
    """One input: its name, its distribution (anything with a ``ppf``), and the parameter it sets.

    ``path`` is the parameter's dotted path (None for a dummy the model ignores); ``category`` is
    set for one component of category weights, whose input is a Gamma variable.
    """

    name: str
    distribution: Any
    path: str | None
    category: str | None = None


@dataclass(frozen=True)
class InputSpace:
    """Inputs in a fixed order: the columns of a design matrix."""

    inputs: tuple[Input, ...]

    @property
    def names(self) -> list[str]:
        return [i.name for i in self.inputs]

    def __len__(self) -> int:
        return len(self.inputs)

    def with_dummy(self) -> "InputSpace":
        """The same inputs and a last one that the model ignores, uniform on (0, 1)."""
        return InputSpace((*self.inputs, Input(DUMMY, stats.uniform(0, 1), None)))

    def transform(self, u: np.ndarray) -> np.ndarray:
        """Input values from uniforms, column by column through each input's inverse CDF.

        Parameters
        ----------
        u : ndarray, shape (points, inputs)
            Points of the unit hypercube.
        """
        u = np.clip(np.asarray(u, dtype=float), EDGE, 1 - EDGE)
        return np.column_stack([i.distribution.ppf(u[:, j]) for j, i in enumerate(self.inputs)])

    def values(self, x: np.ndarray) -> dict[str, Any]:
        """The parameter values one row of input values sets: numbers, and weights normalised by category."""
        values: dict[str, Any] = {}
        for i, value in zip(self.inputs, x, strict=True):
            if i.path is None:
                continue
            if i.category is None:
                values[i.path] = float(value)
            else:
                values.setdefault(i.path, {})[i.category] = float(value)
        return {path: _normalised(v) if isinstance(v, dict) else v for path, v in values.items()}


def _normalised(weights: dict[str, float]) -> dict[str, float]:
    total = sum(weights.values())
    return {category: w / total for category, w in weights.items()}


def parameter_inputs(params: Params, path: str) -> list[Input]:
    """The inputs of one uncertain parameter: itself, or one Gamma input per category of its weights."""
    uncertainty = params.entries[path].uncertainty
    if isinstance(uncertainty, DirichletUncertainty):
        return [Input(f"{path}.{category}", stats.gamma(alpha), path, category)
                for category, alpha in zip(uncertainty.counts, uncertainty.alpha, strict=True)]
    return [Input(path, uncertainty.dist, path)]


def parameter_space(params: Params, paths: Sequence[str]) -> InputSpace:
    """The input space of some uncertain parameters, in the given order."""
    return InputSpace(tuple(i for path in paths for i in parameter_inputs(params, path)))


def select_paths(params: Params, requested: Sequence[str] | None, source: str = "--inputs") -> list[str]:
    """The uncertain parameters to vary: all of them, or those named (a path, or a section such as ``crs``).

    Parameters
    ----------
    params : Params
    requested : sequence of str or None
        Dotted paths, or prefixes of whole path components (``crs`` selects every uncertain
        ``crs.*``; ``crs.onset_day`` both its arguments).  None selects every uncertain parameter.
    source : str
        What to name in an error.

    Returns
    -------
    list of str
        Uncertain paths in params-file order, each once.
    """
    uncertain = params.uncertain()
    if requested is None:
        return uncertain
    chosen: set[str] = set()
    for item in requested:
        matched = [p for p in uncertain if p == item or p.startswith(f"{item}.")]
        if not matched:
            raise InputError(source, item, _not_uncertain(params, item, uncertain))
        chosen.update(matched)
    return [p for p in uncertain if p in chosen]


def _not_uncertain(params: Params, item: str, uncertain: list[str]) -> str:
    if item in params.entries:
        problem = f"has no uncertainty distribution in {params.path.name}"
    else:
        close = difflib.get_close_matches(item, uncertain, n=1)
        problem = f"no such parameter in {params.path.name}" + (f" (did you mean '{close[0]}'?)" if close else "")
    return f"{problem}; uncertain parameters: {', '.join(uncertain)}"


def flat_inputs(values: dict[str, Any]) -> dict[str, float]:
    """Parameter values as one number per name: weights become ``path.category``."""
    flat: dict[str, float] = {}
    for path, value in values.items():
        if isinstance(value, dict):
            flat.update({f"{path}.{category}": float(w) for category, w in value.items()})
        else:
            flat[path] = float(value)
    return flat


def flat_names(params: Params, paths: Sequence[str]) -> list[str]:
    """The names :func:`flat_inputs` gives the values of these parameters."""
    return [name for path in paths for name in flat_inputs({path: params[path]})]
