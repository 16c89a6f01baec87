"""The run report: markdown laid out as the STRESS-DES checklist, filled from the run's own files.

STRESS-DES (Monks T, Currie CSM, Onggo BS, Robinson S, Kunc M, Taylor SJE. Strengthening the
reporting of empirical simulation studies: introducing the STRESS guidelines. J Simul 2019;13:55-67)
lists what a discrete-event simulation study should report, in six sections: objectives, logic,
data, experimentation, implementation and code access.  Every run-specific statement here comes
from ``summary.json`` (its manifest), ``parameters.csv`` and the pictures in ``figures/``; the
model's logic is described once, below, as the code implements it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from sim.output import model_facts
from sim.output.key_outcome_view import header, interval_note, outcome_rows
from sim.output.paper_view import paper_view, with_rate
from sim.output.run_folder import RunData
from sim.output.shown_path import shown_command, shown_path
from sim.output.shown_values import number
from sim.table import Table, plain_value

CHECKLIST = "STRESS-DES (Monks et al., J Simul 2019;13:55-67)"
DRAWN = "parameters drawn from their uncertainty distributions"
DRAW_FLOW = "draw the flow diagram with `cartsim plot`."
PATHWAY = (
    "enrolment over an accrual period", "donor route: the previous transplant donor (cohort A) or a newly matched "
    "donor found after a search (cohort B)", "cell collection", "queue for a manufacturing slot, then manufacturing "
    "(it may fail, or yield too few cells for the target dose)", "withdrawal before infusion: a latent time to rapid "
    "progression or death competing with the wait", "lymphodepletion, ending before infusion",
    "infusion at a dose level",
    "CAR-T expansion to a peak", "cytokine release syndrome (ASTCT grade; grade 3 or more needs an ICU bed, which may "
    "have to be waited for)", "neurotoxicity (CRES/ICANS)", "grade 3-4 cytopenia and early infection",
    "response at the day 28-30 assessment: MRD-negative CR, MRD-positive CR or no CR",
    "consolidative allogeneic transplant for some responders (a transplant bed)",
    "late relapse, infection death, TMA death and death from transplant as competing risks whose hazards change "
    "with time since infusion and at transplant; death from disease after relapse or without remission",
    "data cut-off: events after it are censored")
FIGURE_CAPTIONS = {
    "flow": "Patient flow (CONSORT style): simulated counts, median [95% interval] over virtual trials, with the "
            "reported counts beside them when the run is the trial as the paper ran it.",
    "survival": "Kaplan-Meier overall and leukaemia-free survival from infusion.",
    "cumulative_incidence": "Cumulative incidence of relapse, non-relapse mortality and transplant (Aalen-Johansen).",
    "swimmer": "Swimmer plot of one virtual trial: each patient's course and events.",
    "resources": "Manufacturing slots and ICU beds in use over time, and queue waits.",
    "comparison": "Each scenario against the base: the effect over parameter uncertainty (headline), the Monte Carlo error of its mean, and the spread of the difference between two real trials (other patients in each arm).",
}


def render_report(run: RunData, parts: list[str] | None = None) -> str:
    """The whole report of one run, as markdown (from its :func:`report_parts`, if already rendered)."""
    return "\n\n".join(part.strip("\n") for part in parts or report_parts(run)) + "\n"


def report_parts(run: RunData) -> list[str]:
    """The report's parts in order: the header, the key outcomes, the results, the checklist's six
    sections, the appendix."""
    m = run.manifest
    return [_header(run), key_outcomes_section(run), _results(run), _objectives(run), _logic(run), _data(run),
            _experimentation(run), _implementation(m), _code_access(m), _appendix(run)]


def key_outcomes_section(run: RunData) -> str:
    """The key outcomes, a column per dose group, with what the intervals are and what they rest on."""
    records = run.summary.get("key_outcomes") or []
    if not records:
        return "## Key outcomes\n\nThis folder's summary holds no key outcomes: run it again to add them."
    table = markdown_table([[f"{r.label} ({r.unit})", *r.cells] for r in outcome_rows(records)], header(records))
    return f"## Key outcomes\n\n{interval_note(records)}\n\n{table}\n\n**What they rest on.** {rests_on(run)}"


def rests_on(run: RunData) -> str:
    """What the run's numbers rest on: the trials run, the parameters and where those come from."""
    m = run.manifest
    drawn = ("each trial's parameters drawn from their uncertainty distributions, so the intervals hold parameter "
             "uncertainty and one trial's chance" if m.get("parameter_uncertainty") else
             "every trial at the base parameter values, so the intervals hold one trial's chance only, not what we do "
             "not know about the rates")
    pictures = m.get("picture_trials")
    sample = (f"  The pictures are drawn from the first {pictures} of the {m['trials']} virtual trials."
              if pictures and pictures < m["trials"] else "")
    return (f"{m['trials']} virtual trials of {_parameter_value(run, 'accrual.enrolled')} patients each, seed "
            f"{m['seed']}, {drawn}.  {_source_counts(run.parameters).split('.  ')[0]}; each is listed with its source "
            f"in Appendix A.{sample}")


def markdown_table(rows: list[list[Any]], header: list[str]) -> str:
    """A markdown table; pipes and line breaks inside cells are escaped."""
    clean = lambda cell: str(cell).replace("|", "\\|").replace("\n", " ")  # noqa: E731
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(clean(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _header(run: RunData) -> str:
    m = run.manifest
    scenario = m.get("scenario")
    question = (f"**Question.** Scenario `{scenario['name']}`: {scenario['title']}" if scenario else
                "**Question.** What the trial as designed shows over many virtual repetitions, beside what it reported.")
    return (f"# Run report: {run.title}\n\n{question}\n\n"
            f"{m['trials']} virtual trials, seed {m['seed']}, "
            f"{DRAWN if m.get('parameter_uncertainty') else 'base parameters'}; "
            f"created {m.get('created_utc', '-')} by `{' '.join(shown_command(m.get('command') or []))}`.  "
            f"The results come first; then the model and the run, laid out as the {CHECKLIST} checklist (item "
            "numbers are the checklist's); every parameter is in the appendix.")


def _objectives(run: RunData) -> str:
    scenario = run.manifest.get("scenario")
    aims = ("To reproduce the trial as run and set each reported figure beside the simulated distribution over "
            "virtual trials of the same size (base case).")
    if scenario:
        aims += f"\n\n(A) Scenario **{scenario['name']}**: {scenario['title']}.  {scenario['description']}"
    return (
        "## 1. Objectives\n\n"
        "**1.1 Purpose of the model.** A discrete-event simulation of an early-phase trial of donor-derived CAR-T "
        "cell therapy, one virtual patient at a time, to reproduce the published trial and ask what-if questions "
        f"(dose, donor route, manufacturing capacity, consolidative transplant, toxicity management).  Trial: "
        f"{run.summary.get('citation', run.manifest['trial'])}.\n\n"
        "**1.2 Model outputs.** Computed on each virtual trial at its data cut-off, from the patients' records: "
        "every figure the paper reports (counts of patients, as defined in the seeds file), Kaplan-Meier overall and "
        "leukaemia-free survival from infusion at 6 and 12 months (Kaplan-Meier on censored data), median "
        "follow-up by reverse Kaplan-Meier, and per facility the uses, mean and longest queue wait, occupied days, "
        "mean occupancy, utilisation (occupied days over capacity times the trial's length) and peak occupancy.  "
        "Over the virtual trials each is summarised by its mean, median and 2.5th-97.5th percentiles: the range one "
        "trial of this size could show by chance, not a confidence interval for the mean.\n\n"
        f"**1.3 Experimentation aims.** {aims}")


def _logic(run: RunData) -> str:
    value = _lookup(run)
    steps = "\n".join(f"{i}. {step}" for i, step in enumerate(PATHWAY, 1))
    flow = _figure_link(run, "flow")
    return (
        "## 2. Logic\n\n"
        f"**2.1 Base model overview diagram.** Each virtual patient follows the pathway below; "
        f"{'the flow diagram under Results shows the counts along it.' if flow else DRAW_FLOW}\n\n"
        f"{steps}\n\n"
        "**2.2 Base model logic.** Everything about a patient that does not depend on other patients is drawn "
        "beforehand from named random streams (times through inverse CDFs, categories through cumulative weights); "
        "an engine adds what does: queues for manufacturing slots, ICU beds and transplant beds, served first "
        "come first served, a patient leaving the manufacturing queue on progression and the transplant queue on a "
        "late event.  CRS grade follows a proportional-odds model: exceedance probabilities at a reference dose, "
        f"shifted on the log-odds scale by dose and by a scenario lever.  {model_facts.early_deaths(value)}  "
        f"{model_facts.late_course(value)}  {model_facts.death_causes()}  {model_facts.lever_sentence(value)}\n\n"
        f"**2.3 Scenario logic.** {_scenario_logic(run)}\n\n"
        "**2.4 Algorithms.** Inverse-CDF sampling of every duration and category; cumulative-hazard hitting times "
        "for competing late events; Kaplan-Meier and reverse Kaplan-Meier computed over a batch of trials at once "
        "(equal, trial by trial, to `scipy.stats.ecdf`); Aalen-Johansen cumulative incidence for competing risks "
        "in the pictures and the key outcomes.\n\n"
        "**2.5 Components.**\n\n" + _components(run))


def _scenario_logic(run: RunData) -> str:
    scenario = run.manifest.get("scenario")
    if not scenario:
        return "None: this run is the base case of its params file."
    rows = [[f"`{path}`", base or "(new)", _parameter_value(run, path)]
            for path, base in zip(scenario["changed"], scenario.get("base_values", [""] * len(scenario["changed"])))]
    return (f"Scenario `{scenario['file']}` changes these entries of its base `{scenario['base_params_file']}` "
            "(each entry's source, note and uncertainty are in 3.3):\n\n"
            + markdown_table(rows, ["parameter", "base value", "scenario value"]))


def _lookup(run: RunData) -> model_facts.Lookup:
    """The run's value of a params path, as text."""
    return lambda path: _parameter_value(run, path)


def _parameter_value(run: RunData, path: str) -> str:
    table = run.parameters
    if table is None:
        return "-"
    paths = table["path"].astype(str)
    found = np.flatnonzero(paths == path)
    if found.size:
        return str(plain_value(table["value"][found[0]]))
    below = np.flatnonzero(np.char.startswith(paths, f"{path}."))
    return ", ".join(f"{paths[k][len(path) + 1:]}={plain_value(table['value'][k])}" for k in below) or "-"


def _components(run: RunData) -> str:
    value = lambda path: _parameter_value(run, path)  # noqa: E731
    return (
        f"- 2.5.1 Entities: virtual patients, {value('accrual.enrolled')} per trial (`accrual.enrolled`).\n"
        "- 2.5.2 Activities: donor search, cell collection, manufacturing, lymphodepletion, infusion, the CRS episode "
        "(an ICU stay if grade 3 or more), the response assessment, the transplant admission.\n"
        f"- 2.5.3 Resources: manufacturing slots ({value('resources.manufacturing_slots')}), ICU beds "
        f"({value('resources.icu_beds')}), transplant beds ({value('resources.transplant_beds')}); "
        "`inf` is unlimited.\n"
        "- 2.5.4 Queues: first come, first served for each resource; a patient who progresses leaves the "
        "manufacturing queue (a withdrawal), a late event ends the wait for a transplant bed.\n"
        f"- 2.5.5 Entry and exit points: enrolment over a mean period of {value('accrual.mean_period_days')} days "
        "(exponential gaps); exit by withdrawal, a failed product, death, or the data cut-off "
        f"{value('accrual.cutoff_after_last_enrolment_days')} days after the last enrolment.")


def _data(run: RunData) -> str:
    m = run.manifest
    table = run.parameters
    return (
        "## 3. Data\n\n"
        f"**3.1 Data sources.** {run.summary.get('citation', '-')}.  {_seeds_sentence(m)}The parameters are "
        f"in `{shown_path(m['params_file'])}` (SHA-256 `{m['params_sha256'][:16]}...`).\n\n"
        "**3.2 Pre-processing.** A proportion reported as k of n becomes a Beta(k + 1/2, n - k + 1/2) uncertainty "
        "distribution (Jeffreys prior), a split of n patients a Dirichlet(counts + 1/2), a rate events over "
        "exposure a Gamma(events + 1/2, 1/exposure); a median with a range becomes a distribution fitted to them, "
        "the fit written in the entry's note.  Hazards the papers give only as outcomes are calibrated.\n\n"
        f"**3.3 Input parameters.** {_source_counts(table)}  Every entry, with its value, source, note and uncertainty, "
        "is in Appendix A.\n\n"
        f"**3.4 Assumptions.** {_assumptions(table, _lookup(run))}")


def _source_counts(table: Table | None) -> str:
    if table is None:
        return "The parameters table (`parameters.csv`) is missing from this folder."
    sources = [s.split(":")[0] for s in table["source"] if s]
    counts = {s: sources.count(s) for s in dict.fromkeys(sources)}
    return (f"{len(sources)} numeric entries: " + ", ".join(f"{n} from {s}" for s, n in counts.items())
            + ".  Source `seeds:KEY` is a figure or design fact of the paper; `calibration` is fitted to reported "
            "outcomes; `predicted` is a new trial's late level, before transplant from the evidence synthesis' robust "
            "predictive distribution (its note says on how many trials and series the late course rests, and the "
            "heterogeneity tau) and after transplant the prior for one trial's level, or a band shape or hazard ratio "
            "the synthesis sampled, drawn in the same rows as those levels; "
            "`assumption` has its reason in the note and its plausible range as the uncertainty; "
            "`scenario` is a setting of the simulated scenario." + _late_course(table))


POOLED = "partially pooled posterior of the evidence synthesis"  # how write_pooled's notes begin


def _late_course(table: Table) -> str:
    """What a predicted or partially pooled late course rests on, in the words of its first such entry's note."""
    rows = list(zip(table["source"], table["note"]))
    predicted = [note for source, note in rows if source == "predicted" and str(note).startswith("PREDICTED")]
    if predicted:
        return f"  The late course: {predicted[0]}."
    pooled = [note for source, note in rows if source == "calibration" and str(note).startswith(POOLED)]
    return f"  The late course: {pooled[0]}." if pooled else ""


def _parameter_rows(table: Table | None) -> str:
    if table is None:
        return ""
    rows = [[f"`{r['path']}`", r["value"], r["source"], r["note"], r["uncertainty"],
             "yes" if r["scenario"] else ""] for r in table.rows()]
    return markdown_table(rows, ["parameter", "value", "source", "note", "uncertainty", "set by scenario"])


def _assumptions(table: Table | None, value: model_facts.Lookup) -> str:
    if table is None:
        return "-"
    n = sum(1 for s in table["source"] if s == "assumption")
    return (f"{n} entries are assumptions (source `assumption` in 3.3), each with its reason and range; the "
            "main ones are the late hazards and the timings the abstracts do not report.  Structural assumptions.  "
            + model_facts.structural_assumptions(value))


def _experimentation(run: RunData) -> str:
    m = run.manifest
    return (
        "## 4. Experimentation\n\n"
        "**4.1 Initialisation.** A terminating simulation: each virtual trial starts empty at the first "
        "enrolment, so there is no warm-up.\n\n"
        "**4.2 Run length.** Each virtual trial runs to its data cut-off, "
        f"{_parameter_value(run, 'accrual.cutoff_after_last_enrolment_days')} days after its last enrolment.\n\n"
        f"**4.3 Estimation approach.** {m['trials']} virtual trials (replications), each enrolling the trial's "
        f"number of patients, with seed {m['seed']}; "
        + ("each trial first draws its parameters from their uncertainty distributions (one stream per parameter). "
           if m.get("parameter_uncertainty") else "every trial at the base parameter values, so only patient-level "
           "chance varies. ")
        + "Common random numbers: every stochastic element of the pathway has its own stream (5.2), patient i of "
        "trial k taking the stream's number (k, i); scenario comparisons are therefore paired trial by trial.")


def _implementation(m: dict[str, Any]) -> str:
    libraries = ", ".join(f"{name} {version}" for name, version in (m.get("libraries") or {}).items())
    machine = m.get("machine") or {}
    return (
        "## 5. Implementation\n\n"
        f"**5.1 Software.** Python {m.get('python', '-')}; {m.get('package', 'cartsim')} {m.get('version', '-')}; "
        f"{libraries}.\n\n"
        f"**5.2 Random sampling.** {model_facts.random_numbers()}\n\n"
        f"**5.3 Model execution.** Engine: {m.get('engine', '-')} ('des' is the SimPy process engine; 'cohort' "
        "computes the same records over arrays where no facility is limited); one process, trials in sequence.\n\n"
        f"**5.4 System specification.** {machine.get('platform', '-')}, {machine.get('processor') or '-'}, "
        f"{machine.get('cpus', '-')} CPUs.  Run time {number(m.get('run_seconds'))} s.")


def _code_access(m: dict[str, Any]) -> str:
    return (
        "## 6. Code access\n\n"
        f"**6.1 Computer model sharing statement.** `cartsim` {m.get('version', '-')} is open source.  To reproduce "
        f"these tables exactly (same seed, same files by SHA-256): `{' '.join(m.get('command') or [])}`.")


def _results(run: RunData) -> str:
    """The summary a meeting reads first: reported beside simulated, with rates, then the key pictures."""
    records = run.summary.get("figures", [])
    columns = ("figure", "says", "reported", "of", "sim_median", "sim_low95", "sim_high95")
    summary = Table({c: [_float(r.get(c)) if c not in ("figure", "says") else r[c] for r in records] for c in columns})
    shown, note = paper_view(summary, run.manifest.get("scenario")) if records else (summary, "")
    rows = [[f"`{r['figure']}`", with_rate(r["reported"], r["of"]), number(r["sim_median"]),
             f"[{number(r['sim_low95'])}, {number(r['sim_high95'])}]", r["says"]] for r in shown.rows()]
    spread = ("what we do not know about the parameters and one trial's chance together"
              if run.manifest.get("parameter_uncertainty") else "the range one trial of this size could show by chance")
    text = ("## Results\n\nEach figure's simulated median and central 95% interval over the virtual trials (" + spread
            + "), beside the paper's count and rate where the run is the trial as the paper ran it.  Counts are "
            "patients per trial; a count reported as k of n is set against the virtual trials with n in its "
            "denominator." + (f"  {note}" if note else "") + "\n\n"
            + markdown_table(rows, ["figure", "reported", "simulated", "95% of trials", "what it counts"]))
    return text + _agreement(run) + _figures(run)


def _agreement(run: RunData) -> str:
    """Whether the run over parameter uncertainty and the one at the base values agree, and why not."""
    agreement = run.summary.get("base_agreement")
    if not agreement:
        return ""
    rows = [[r["outcome"], number(r["mean_uncertainty"]), number(r["mean_base_values"]),
             f"{number(r['difference'])} +- {number(r['mc_se'])}", "yes" if r["differs"] else "no"]
            for r in agreement["outcomes"]]
    return ("\n\n### Parameter uncertainty against the base values\n\n" + agreement["why"] + "  Means over the "
            f"virtual trials of this run and of the other, on the same seed ({agreement['other_run_trials']} trials); "
            "+- is the Monte Carlo standard error of the difference; 'differs': beyond 1.96 of them.\n\n"
            + markdown_table(rows, ["outcome", "over parameter uncertainty", "at base values", "difference",
                                    "differs"]))


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _seeds_sentence(m: dict[str, Any]) -> str:
    if not m.get("seeds_file"):
        return "A planned trial: no seeds file, no reported figures.  "
    return (f"The reported figures and design facts are restated in `{shown_path(m['seeds_file'])}` "
            f"(SHA-256 `{m['seeds_sha256'][:16]}...`).  ")


def _appendix(run: RunData) -> str:
    table = run.parameters
    if table is None:
        return "## Appendix A. Parameters\n\nThe parameters table (`parameters.csv`) is missing from this folder."
    return "## Appendix A. Parameters\n\n" + _parameter_rows(table)


def _figure_link(run: RunData, name: str) -> str | None:
    path = run.figures_folder / f"{name}.png"
    return f"{run.figures_folder.name}/{name}.png" if path.is_file() else None


def _figures(run: RunData) -> str:
    links = [(name, _figure_link(run, name)) for name in FIGURE_CAPTIONS]
    shown = [f"![{FIGURE_CAPTIONS[name]}]({link})\n\n*{FIGURE_CAPTIONS[name]}* (also as SVG)"
             for name, link in links if link]
    # the pictures a meeting needs first; the rest follow in the same order
    if not shown:
        return "\n\nNo pictures were drawn for this run: `cartsim plot FOLDER`, with this report's folder, draws them."
    return "\n\n### Pictures\n\n" + "\n\n".join(shown)


def report_path(folder: Path) -> Path:
    """Where a run folder's report goes."""
    return Path(folder) / "report.md"
