"""Pictures of a run and of a scenario comparison (matplotlib, no pyplot state): one module per picture.

:mod:`sim.plots.draw` draws every picture of a run folder; each module draws one, from tables read
back from the run's files (:mod:`sim.output.run_folder`), and saves it as PNG and SVG.
"""
