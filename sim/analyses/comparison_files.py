"""Writing a scenario comparison: each arm's run folder, the table of differences, its metadata and report."""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sim.analyses.comparison import CONFIDENCE, Arm, Comparison
from sim.stats.key_outcomes import KEY_OUTCOMES
from sim.output.run_files import write_atomic, write_results
from sim.output.report import markdown_table, number
from sim.output.shown_path import shown_command, shown_path
from sim.table import Table

INTERVAL = ("t interval for the mean paired difference over virtual trials: mean(d) +- t(0.975, K - 1) sd(d) / sqrt(K)")
SPREAD = ("2.5th-97.5th percentiles of the single-trial differences d_k, the same virtual patients in both arms "
          "(no pair of real trials can have that)")
TWO_TRIALS = ("2.5th-97.5th percentiles of the difference between two trials with different patients in each arm "
              "(what two real trials could show)")
ROUNDING = 1e-9  # differences smaller than this are floating-point noise in sums of the same numbers


def arm_manifest(arm: Arm) -> dict[str, Any]:
    """What identifies an arm: its label, files, trial title and, for a scenario, title and description."""
    p = arm.params
    entry = {"label": arm.label, "params_file": shown_path(p.path), "params_sha256": p.sha256, "folder": arm.label,
             "trial_title": p.text.get("trial.title")}
    if p.scenario is not None:
        entry |= {"title": p.scenario.title, "description": p.scenario.description,
                  "base_params_file": shown_path(p.scenario.base_path), "changed": list(p.scenario.changed)}
    return entry


def comparison_manifest(comparison: Comparison, command: list[str] | None) -> dict[str, Any]:
    """The comparison's metadata: arms, seeds, trials, the common-random-number scheme and the interval."""
    base = comparison.base.results
    return {
        "base": arm_manifest(comparison.base), "scenarios": [arm_manifest(a) for a in comparison.scenarios],
        "trials": base.n_trials, "seed": comparison.seed, "independent_seed": comparison.independent_seed,
        "parameter_uncertainty": base.parameter_uncertainty, "confidence": CONFIDENCE, "interval": INTERVAL,
        "spread": SPREAD, "two_trials": TWO_TRIALS,
        "width_ratio": "width of the paired interval / width with the scenario on the independent seed",
        "effect": ({"draws": comparison.settings["draws"], "inner_trials": comparison.settings["inner"],
                    "headline": "effect_median [effect_low95, effect_high95]: 2.5th-97.5th percentile over parameter "
                    "draws of the expected difference (the interval a decision rests on)",
                    "endpoint_mcse": "effect_low95_mcse, effect_high95_mcse: Monte Carlo standard error of each "
                    "endpoint, the standard deviation of that percentile over bootstrap resamples of the draws",
                    "mc": "mc_low95, mc_high95: 95% Monte Carlo interval of the mean effect (simulation precision)",
                    "two_trials": "two_trials_low95, two_trials_high95: 2.5th-97.5th percentile of the difference "
                    "between the scenario's inner trial j and the base's inner trial j + 1 of the same draw: two real "
                    "trials, other patients in each arm",
                    "same_patients": "same_patients_low95, same_patients_high95: the same with the same virtual "
                    "patients in both arms (narrower; no pair of real trials can have it)",
                    "zero_event": "zero_event_parameters: gamma [0, x] or beta [0, n] parameters the scenario changes "
                    "or whose draws the effect depends on (Spearman, 5% Bonferroni)"}
                   if comparison.settings else None),
        "rows": [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()} for row in comparison.table.rows()],
        "command": shown_command(command or []), "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "run_seconds": round(base.run_seconds + sum(a.results.run_seconds for a in comparison.scenarios), 3),
    }


def write_comparison(comparison: Comparison, out: Path, command: list[str] | None = None) -> list[Path]:
    """Each arm's outputs in ``out/<label>/``, then ``comparison.csv``, ``comparison.json`` and ``report.md``."""
    written = []
    for arm in (comparison.base, *comparison.scenarios):
        written += write_results(arm.results, out / arm.label, command=command)
    meta = comparison_manifest(comparison, command)
    files = {"comparison.csv": comparison.table.to_csv_text(),
             "comparison.json": json.dumps(_plain(meta), indent=2) + "\n"}
    for name, text in files.items():
        write_atomic(out / name, text)
        written.append(out / name)
    written.append(write_comparison_report(out, meta, comparison.table))
    return written


def write_comparison_report(out: Path, meta: dict[str, Any], table: Table) -> Path:
    """The comparison's ``report.md``: the experiment, the key differences, the chart, links to each arm."""
    path = Path(out) / "report.md"
    write_atomic(path, render_comparison_report(meta, table, (Path(out) / "figures" / "comparison.png").is_file()))
    return path


def render_comparison_report(meta: dict[str, Any], table: Table, chart: bool) -> str:
    """Markdown for a comparison: experimentation (STRESS-DES 1.3, 2.3, 4.3) and the key results."""
    base = meta["base"]
    arms = "\n".join(f"- **{s['label']}**: {s.get('title', s['params_file'])}.  {s.get('description', '')} "
                     f"([run report]({s['folder']}/report.md))" for s in meta["scenarios"])
    header = (f"# Scenario comparison against {base['label']}\n\n"
              f"{meta['trials']} virtual trials per arm, seed {meta['seed']}; "
              f"command `{' '.join(meta['command'] or [])}`.  The key outcomes come first; then what each scenario "
              "asks and how the differences are estimated.  Each arm's full report, laid out as the STRESS-DES "
              f"checklist, is in its folder ([base]({base['folder']}/report.md)).\n\n")
    key = "## Key outcomes\n\n"
    if "effect_median" in table.columns:
        key += ("Headline: the effect over parameter uncertainty, median [2.5th, 97.5th percentile] over parameter "
                "draws of the expected difference; +- after each endpoint is its Monte Carlo standard error (from the "
                "finite number of draws).  Mean [Monte Carlo 95%]: its mean and the Monte Carlo interval of "
                "that mean (simulation precision only).  "
                "Two real trials: the spread of the difference between two trials with other patients in each arm.  ! marks an effect resting on a parameter estimated "
                "from zero events (gamma [0, x] or beta [0, n]) that the scenario changes or the effect depends on.\n\n")
        key += markdown_table(_effect_rows(table), ["scenario", "outcome", "effect [95% over parameters]",
                                                    "mean [Monte Carlo 95%]", "two real trials", "zero-event parameters"])
        key += "\n\nAt the base values only (Monte Carlo precision, not uncertainty about the effect):\n\n"
    key += markdown_table(_key_rows(table), ["scenario", "outcome", "base", "scenario mean", "difference [95% CI]",
                                             "same patients", "two real trials", "width ratio"])
    same = [KEY_OUTCOMES[name].label for name in KEY_OUTCOMES
            if not any(moved(r) or not r["trials_paired"] for r in table.rows() if r["outcome"] == name)]
    if same:
        key += "\n\nIdentical to the base in every trial of every scenario: " + "; ".join(same) + "."
    if chart:
        key += "\n\n![Paired differences from the base](figures/comparison.png)"
    text = (header + key + "\n\n"
            f"## Experimentation aims (STRESS-DES 1.3 A, 2.3)\n\n{arms}\n\n"
            "## Estimation approach (STRESS-DES 4.3)\n\n"
            f"Every arm runs on seed {meta['seed']}: virtual trial k of every arm has the same patients with the same "
            "luck (common random numbers), and each outcome's difference d_k = scenario_k - base_k is paired on k.  "
            f"Interval: {meta['interval']}.  Spread: {meta['spread']}.  To show what the pairing buys, each scenario "
            f"also ran on seed {meta['independent_seed']}; 'width ratio' is the paired interval's width over the "
            "interval's width with that independent run.")
    return text + "\n"


def _key_rows(table: Table) -> list[list[str]]:
    return [[r["scenario"], KEY_OUTCOMES[r["outcome"]].label, number(r["base_mean"]), number(r["scenario_mean"]),
             f"{signed(r['diff_mean'])} [{signed(r['diff_low95'])}, {signed(r['diff_high95'])}]",
             f"[{signed(r['spread_low95'])}, {signed(r['spread_high95'])}]",
             f"[{signed(r['two_trials_low95'])}, {signed(r['two_trials_high95'])}]", number(r["width_ratio"])]
            for r in table.rows() if r["outcome"] in KEY_OUTCOMES and moved(r)]


def _effect_rows(table: Table) -> list[list[str]]:
    return [[r["scenario"], KEY_OUTCOMES[r["outcome"]].label,
             effect_text(r), f"{signed(r['effect_mean'])} [{signed(r['mc_low95'])}, {signed(r['mc_high95'])}]",
             f"[{signed(r['two_trials_low95'])}, {signed(r['two_trials_high95'])}]",
             f"! {r['zero_event_parameters']}" if r["zero_event_parameters"] else ""]
            for r in table.rows() if r["outcome"] in KEY_OUTCOMES and moved(r)]


def effect_text(row: dict[str, Any]) -> str:
    """'median [low +- se, high +- se]': the effect interval with each endpoint's Monte Carlo standard error."""
    se = lambda v: "-" if v is None or math.isnan(v) else f"{v:.2g}"  # noqa: E731
    return (f"{signed(row['effect_median'])} [{signed(row['effect_low95'])} +- {se(row['effect_low95_mcse'])}, "
            f"{signed(row['effect_high95'])} +- {se(row['effect_high95_mcse'])}]")


def moved(row: dict[str, Any]) -> bool:
    """True if a comparison row shows any difference (its mean or interval is not exactly zero)."""
    return any(not math.isnan(v) and v != 0 for v in (row["diff_mean"], row["diff_low95"], row["diff_high95"],
                                                      row["spread_low95"], row["spread_high95"]))


def signed(value: float) -> str:
    """A difference with its sign, to three significant decimals, '-' when missing."""
    if value is None or math.isnan(value):
        return "-"
    return "0" if abs(value) < ROUNDING else f"{value:+.3g}"


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None if math.isnan(value) else str(value)
    return value
