"""Queues of a batch trial by trial: each row with its own parameters and engine.

A facility can be limited in some rows of a batch and unlimited in others (a capacity that differs
between trials, or between the points of a sensitivity analysis).  An engine returns None for a
facility without a queue; where another row of the batch has that queue, the row gets the times
without a queue (ICU at CRS onset, transplant on the planned day), as :func:`sim.model.records.build_records`
gives them, so the rows stack.
"""

from __future__ import annotations

from typing import Callable

from sim.inputs.param_batch import trial_params
from sim.model import timeline as T


def queues_by_row(params, d: dict, p: dict, queues_of_row: Callable[[int], Callable]) -> tuple:
    """(mfg_start, icu_start, transplant) with a row per trial, each row from
    ``queues_of_row(r)(row parameters, row draws, row plan)``; None where no row has that queue."""
    rows = []
    for r, (d_row, p_row) in enumerate(T.trial_rows(d, p)):
        row_params = trial_params(params, r)
        rows.append((row_params, d_row, p_row, queues_of_row(r)(row_params, d_row, p_row)))
    icu_queue = any(out[1] is not None for *_, out in rows)
    transplant_queue = any(out[2] is not None for *_, out in rows)
    outcomes = []
    for row_params, d_row, p_row, (mfg, icu, transplant) in rows:
        if (icu is None and icu_queue) or (transplant is None and transplant_queue):
            t_inf = T.pre_infusion(d_row, p_row, mfg)["t_infusion"]
            icu = T.crs_onset(d_row, t_inf) if icu is None and icu_queue else icu
            transplant = (T.unlimited_transplant(row_params, p_row, t_inf)
                          if transplant is None and transplant_queue else transplant)
        outcomes.append((mfg, icu, transplant))
    return T.stack_rows(outcomes)
