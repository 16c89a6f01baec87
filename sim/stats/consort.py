"""Patient flow per virtual trial, CONSORT style: every box's count, in boxes that add up.

Per trial: enrolled = withdrawn + product failed + awaiting infusion + infused;
infused = not yet assessed + CR MRD-negative + CR MRD-positive + no CR;
assessed = transplanted + not transplanted; and each of those two splits into its outcomes at the
cut-off (the papers' terms: in remission, relapsed, no remission, died of infection, died of TMA).
"""

from __future__ import annotations

import numpy as np

from sim.stats.trial_figures import late_state
from sim.stats.key_outcomes import trial_slices
from sim.output.table import Table

OUTCOME_STATES = ("in_remission", "relapsed", "no_remission", "died_infection", "died_tma", "died_transplant")
RESPONSES = ("mrd_neg_cr", "mrd_pos_cr", "no_cr")
Patients = dict[str, np.ndarray]


def trial_flow(t: Patients) -> dict[str, float]:
    """Every box count of one trial's flow."""
    infused = ~np.isnan(t["t_infusion"])
    assessed = infused & (t["response"] != "")
    transplanted = assessed & ~np.isnan(t["t_transplant"])
    state = late_state(t)
    count = lambda mask: float(np.count_nonzero(mask))  # noqa: E731
    flow = {"enrolled": float(len(t["t_enrol"])),
            "withdrawn": count(t["final_state"] == "withdrawn"),
            "product_failed": count(t["final_state"] == "not_infused"),
            "awaiting_infusion": count(t["final_state"] == "pending_at_cutoff"),
            "infused": count(infused), "not_yet_assessed": count(infused & ~assessed)}
    flow |= {response: count(assessed & (t["response"] == response)) for response in RESPONSES}
    flow |= {"transplanted": count(transplanted), "not_transplanted": count(assessed & ~transplanted)}
    for branch, mask in (("transplanted", transplanted), ("not_transplanted", assessed & ~transplanted)):
        flow |= {f"{branch}.{s}": count(mask & (state == s)) for s in OUTCOME_STATES}
    return flow


def flow_counts(patients: Table) -> Table:
    """One row per virtual trial: ``trial`` and every box count of :func:`trial_flow`."""
    rows = [{"trial": float(k)} | trial_flow(t) for k, t in trial_slices(patients)]
    return Table({name: [row[name] for row in rows] for name in rows[0]})


def flow_identities(flow: Table) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each box that must equal the sum of the boxes below it: (the box, the sum), per trial."""
    def total(*names: str) -> np.ndarray:
        return np.sum([flow[name] for name in names], axis=0)
    return {
        "enrolled": (flow["enrolled"], total("withdrawn", "product_failed", "awaiting_infusion", "infused")),
        "infused": (flow["infused"], total("not_yet_assessed", *RESPONSES)),
        "assessed": (total(*RESPONSES), total("transplanted", "not_transplanted")),
        "transplanted": (flow["transplanted"], total(*(f"transplanted.{s}" for s in OUTCOME_STATES))),
        "not_transplanted": (flow["not_transplanted"], total(*(f"not_transplanted.{s}" for s in OUTCOME_STATES))),
    }
