"""The forest plot's rows: every series figure, and per class each shipped trial with late outcomes, then the
pooled and predictive one-year risks."""

from __future__ import annotations

from sim.analyses.synthesis.evidence import plot_rows
from sim.inputs.params import load_params
from sim.inputs.trial_catalog import shipped_trials


def test_each_class_shows_its_shipped_trials_with_data_then_pooled_then_predictive(synthesis, tmp_path):
    from sim.plots.evidence_forest import draw_evidence

    reference = load_params(shipped_trials()["cd5_tall"])
    rows, summary = plot_rows(synthesis, reference)
    for panel in ("nrm", "relapse"):
        shown = [(s["kind"], s["label"]) for s in summary if s["panel"] == panel]
        depleting = [kind for kind, label in shown if "cd5_tall" in label or label.startswith("lineage_depleting")]
        assert depleting == ["trial", "pooled", "predictive"]  # CD5 reports late outcomes of its own
        assert not any("cll1_aml" in label for _, label in shown)  # CLL-1 reports none: it informs nothing
    assert all(s["low"] <= s["estimate"] <= s["high"] for s in summary)
    keys = {s.key for s in synthesis.series}
    assert rows and all(r["label"].split(" (")[0] in keys for r in rows)  # the figure rows are the series'
    assert [p.name for p in draw_evidence(rows, summary, tmp_path)] == ["evidence.png", "evidence.svg"]
