"""Patient flow per virtual trial, CONSORT style: every box's count, in boxes that add up.

Per trial: enrolled = withdrawn + product failed + awaiting infusion + infused;
infused = died of CRS/ICANS before assessment + not yet assessed + CR MRD-negative + CR MRD-positive + no CR;
assessed = transplanted + not transplanted; and each of those two splits into its outcomes at the
cut-off (the papers' terms: in remission, relapsed, no remission, died of infection, died of TMA; and died of transplant or of CRS/ICANS).
"""

from __future__ import annotations

import numpy as np

from sim.inputs.schema import RESPONSE_CATEGORIES as RESPONSES
from sim.table import Table
from sim.stats.batch import Batch
from sim.stats.endpoints import infused
from sim.stats.trial_figures import LATE_STATES as OUTCOME_STATES, late_state

Patients = dict[str, np.ndarray]


def batch_flow(b: Batch) -> dict[str, np.ndarray]:
    """Every box count of each trial's flow in a batch: one value per trial."""
    given = infused(b)
    assessed = given & (b["response"] != "")
    transplanted = assessed & ~np.isnan(b["t_transplant"])
    state = late_state(b)
    count = lambda mask: np.count_nonzero(mask, axis=-1).astype(float)  # noqa: E731
    flow = {"enrolled": count(b.present),
            "withdrawn": count(b["final_state"] == "withdrawn"),
            "product_failed": count(b["final_state"] == "not_infused"),
            "awaiting_infusion": count(b["final_state"] == "pending_at_cutoff"),
            "infused": count(given),
            "died_before_assessment": count(given & ~assessed & (b["death_cause"] == "toxicity")),
            "not_yet_assessed": count(given & ~assessed & (b["death_cause"] != "toxicity"))}
    flow |= {response: count(assessed & (b["response"] == response)) for response in RESPONSES}
    flow |= {"transplanted": count(transplanted), "not_transplanted": count(assessed & ~transplanted)}
    for branch, mask in (("transplanted", transplanted), ("not_transplanted", assessed & ~transplanted)):
        flow |= {f"{branch}.{s}": count(mask & (state == s)) for s in OUTCOME_STATES}
    return flow


def trial_flow(t: Patients) -> dict[str, float]:
    """Every box count of one trial's flow (a batch of one)."""
    return {name: float(values[0]) for name, values in batch_flow(Batch.of_one(t)).items()}


def flow_counts(patients: Table) -> Table:
    """One row per virtual trial: ``trial`` and every box count of :func:`batch_flow`."""
    batch = Batch.from_table(patients)
    return Table({"trial": batch.trials.astype(float)} | batch_flow(batch))


def flow_identities(flow: Table) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each box that must equal the sum of the boxes below it: (the box, the sum), per trial."""
    def total(*names: str) -> np.ndarray:
        return np.sum([flow[name] for name in names], axis=0)
    return {
        "enrolled": (flow["enrolled"], total("withdrawn", "product_failed", "awaiting_infusion", "infused")),
        "infused": (flow["infused"], total("died_before_assessment", "not_yet_assessed", *RESPONSES)),
        "assessed": (total(*RESPONSES), total("transplanted", "not_transplanted")),
        "transplanted": (flow["transplanted"], total(*(f"transplanted.{s}" for s in OUTCOME_STATES))),
        "not_transplanted": (flow["not_transplanted"], total(*(f"not_transplanted.{s}" for s in OUTCOME_STATES))),
    }
