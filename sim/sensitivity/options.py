"""What every sensitivity method shares: how many trials per point, the seed, the outcomes, where it runs and writes.

:func:`~sim.sensitivity.psa.run_psa`, :func:`~sim.sensitivity.oneway.run_oneway`,
:func:`~sim.sensitivity.sobol.run_sobol` and :func:`~sim.sensitivity.morris.run_morris` take these as
keyword arguments next to their own, and check them here: an unknown keyword is a TypeError naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Sequence

from sim.inputs.params import Params
from sim.sensitivity.execute import Design, Progress, run_design
from sim.sensitivity.model import TrialModel
from sim.stats.key_outcomes import DEFAULT_OUTCOMES, check_outcomes


@dataclass(frozen=True)
class Options:
    """The settings the four sensitivity methods share.

    Parameters
    ----------
    inner : int
        Virtual trials per point, each of the trial's enrolment (the same trials for every point).
    seed : int
        Seed of the design, the patients' luck and any bootstrap.
    outcomes : sequence of str
        Outcome names (:data:`~sim.stats.key_outcomes.OUTCOMES`).
    inputs : sequence of str, optional
        The uncertain parameters to vary (paths or sections); default all.
    backend : optional
        Serial (default), :class:`~sim.sensitivity.backends.PoolBackend` or
        :class:`~sim.sensitivity.backends.DaskBackend`.
    out : path, optional
        Run folder: each evaluation is appended to it as it finishes, and the run can be resumed.
        A run that fails in an evaluation removes the folder if it made it.
    resume : bool
        Continue the run in ``out``.
    progress : callable, optional
        ``progress(done, total)`` after each chunk of points.
    keep_patients : bool
        Also write each point's patient table into ``out``/patients.
    model : optional
        A :class:`~sim.sensitivity.model.FunctionModel` in place of the virtual trials (for checks).
    """

    inner: int = 20
    seed: int = 0
    outcomes: Sequence[str] = DEFAULT_OUTCOMES
    inputs: Sequence[str] | None = None
    backend: Any = None
    out: str | Path | None = None
    resume: bool = False
    progress: Progress | None = None
    keep_patients: bool = False
    model: Any = None

    @classmethod
    def of(cls, method: str, keywords: dict[str, Any], **defaults: Any) -> "Options":
        """The options given to ``method`` as keywords, over its own ``defaults``; TypeError for an unknown one."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(keywords) - known)
        if unknown:
            raise TypeError(f"{method}() got an unexpected keyword argument {unknown[0]!r}")
        return cls(**(defaults | keywords))

    def checked_outcomes(self) -> tuple[str, ...]:
        """The outcomes, checked by name (or the function model's own)."""
        return check_outcomes(self.outcomes) if self.model is None else tuple(self.model.outcomes)

    def trial_model(self, params: Params, outcomes: Sequence[str], **extra: Any):
        """The model evaluated at each point: the given function model, else virtual trials of ``params``."""
        return self.model or TrialModel(params, tuple(outcomes), self.inner, self.seed,
                                        keep_patients=self.keep_patients, **extra)

    def run(self, design: Design, model, config: dict[str, Any], params: Params | None, **extra: Any):
        """Run ``design`` through the backend into ``out`` (:func:`~sim.sensitivity.execute.run_design`)."""
        return run_design(design, model, config, params=params, backend=self.backend, out=self.out,
                          resume=self.resume, progress=self.progress, **extra)
