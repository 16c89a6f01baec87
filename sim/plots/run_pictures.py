"""The pictures of one run, drawn from a run folder or from what a run holds in memory."""

from __future__ import annotations

from pathlib import Path

from sim.output.run_folder import RunData
from sim.plots import consort_diagram as flow
from sim.plots import cumulative_incidence as incidence
from sim.plots import resources
from sim.plots import survival_curves as survival
from sim.plots import swimmer

RUN_PICTURES = (flow, survival, incidence, swimmer, resources)


def draw_held(run: RunData) -> list[Path]:
    """Draw every picture of a run (read from its folder, or as a run holds it) into its ``figures/``."""
    return [path for module in RUN_PICTURES for path in module.draw(run, run.figures_folder)]
