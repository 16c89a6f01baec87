"""Bad input is refused with one line naming the file, the key and the problem.

Each case edits a copy of a shipped params file (or its seeds file) and checks both layers:

* the library: ``sim.load_params`` raises ``sim.InputError`` whose key and problem are the expected ones
  and whose source is the edited file;
* the command line, in a subprocess: exit status 2, exactly one line on stderr
  (``cartsim: error: FILE: KEY: PROBLEM``), no traceback, nothing on stdout and no output folder.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from sim import InputError, load_params
from sim.cli.main import main
from sim.errors import printable

CONTROL = re.compile(r"[\x00-\x1f\x7f]")

ROOT = Path(__file__).resolve().parents[2]
TRIAL_FILES = {"cd5": "cd5_tall.toml", "cll1": "cll1_aml.toml"}


@dataclass(frozen=True)
class Case:
    """One bad edit: in ``file`` ('params' or 'seeds') of ``trial``, ``old`` becomes ``new``.

    ``old`` is a literal string, or a compiled pattern (multi-line) for edits such as deleting a line.
    ``key`` and ``problem`` are what the error must name ("" key: the file as a whole).
    """

    id: str
    trial: str
    old: str | re.Pattern
    new: str
    key: str
    problem: str
    file: str = "params"
    bug: str | None = None  # a known bug: the case is expected to fail (strict xfail)


def line(pattern: str) -> re.Pattern:
    """A whole line (with its newline) matching ``pattern`` at its start."""
    return re.compile(rf"^{pattern}.*\n", re.MULTILINE)


BIG = "1" * 401  # a whole number no float can hold

MEAN_PERIOD_NOTE = ', note = "spread of donor search times; not reported"'  # donor.search_days.sigma

CASES = [
    # --- unknown keys ---------------------------------------------------------------------------------
    Case("unknown-key-in-section", "cd5", "[crs]\n",
         '[crs]\nincidence_typo = { value = 0.5, source = "scenario", note = "x" }\n',
         "crs.incidence_typo", "unknown key"),
    Case("unknown-key-in-entry", "cd5", "incidence = { value = 0.8,", 'incidence = { value = 0.8, colour = "red",',
         "crs.incidence.colour", "unknown key"),
    Case("unknown-section", "cd5", "[withdrawal]\n", "[bogus]\nx = 1\n\n[withdrawal]\n", "bogus", "unknown key"),
    Case("unknown-timedist-argument", "cd5", '[donor.search_days]\nfamily = "lognormal"\n',
         '[donor.search_days]\nfamily = "lognormal"\nmean = { value = 30, source = "scenario", note = "x" }\n',
         "donor.search_days.mean", "unknown key"),
    # --- wrong types and non-finite numbers -------------------------------------------------------
    Case("value-is-string", "cd5", "enrolled = { value = 19,", 'enrolled = { value = "19",',
         "accrual.enrolled.value", "must be a number, got str '19'"),
    Case("value-is-bool", "cd5", "p_failure = { value = 0.04,", "p_failure = { value = true,",
         "manufacturing.p_failure.value", "must be a number, got bool True"),
    Case("value-is-nan", "cd5", "p_infection = { value = 0.0625,", "p_infection = { value = nan,",
         "early.p_infection.value", "must be a number, got nan"),
    Case("value-is-infinite", "cd5", "mean_period_days = { value = 365,", "mean_period_days = { value = inf,",
         "accrual.mean_period_days.value", "must be finite, got inf"),
    Case("entry-not-a-table", "cd5", line("p_new_donor = "), "p_new_donor = 0.5\n",
         "donor.p_new_donor", "must be a table, got float"),
    Case("text-not-a-string", "cd5", 'name = "cd5_tall"', "name = 5",
         "trial.name", "must be a non-empty string, got 5"),
    Case("count-not-whole", "cd5", "enrolled = { value = 19,", "enrolled = { value = 18.5,",
         "accrual.enrolled.value", "must be a whole number >= 1, got 18.5"),
    Case("capacity-zero", "cd5", "icu_beds = { value = inf,", "icu_beds = { value = 0,",
         "resources.icu_beds.value", "must be a whole number >= 1 or inf, got 0"),
    Case("sigma-zero", "cd5", "sigma = { value = 0.5,", "sigma = { value = 0,",
         "donor.search_days.sigma.value", "must be positive, got 0"),
    # --- probabilities outside [0, 1] --------------------------------------------------------------
    Case("probability-above-1", "cd5", "incidence = { value = 0.8,", "incidence = { value = 1.5,",
         "crs.incidence.value", "a probability must be in [0, 1], got 1.5"),
    Case("probability-below-0", "cd5", "p_infection = { value = 0.0625,", "p_infection = { value = -0.1,",
         "early.p_infection.value", "a probability must be in [0, 1], got -0.1"),
    Case("probability-above-1-cll1", "cll1", "incidence = { value = 1.0,", "incidence = { value = 1.01,",
         "crs.incidence.value", "a probability must be in [0, 1], got 1.01"),
    # --- category weights ------------------------------------------------------------------------------
    Case("weight-negative", "cd5", "mrd_pos_cr = 0.25,", "mrd_pos_cr = -0.25,",
         "response.categories.value.mrd_pos_cr", "a weight must be a finite number >= 0, got -0.25"),
    Case("weight-not-a-number", "cll1", "{ A = 1, B = 1, C = 1 }", '{ A = "1", B = 1, C = 1 }',
         "dose.allocation.value.A", "a weight must be a finite number >= 0, got '1'"),
    Case("weights-all-zero", "cd5", "{ target = 1 }", "{ target = 0 }",
         "dose.allocation.value", "weights are all zero"),
    Case("weights-all-zero-cll1", "cll1", "{ A = 1, B = 1, C = 1 }", "{ A = 0, B = 0, C = 0 }",
         "dose.allocation.value", "weights are all zero"),
    Case("weights-empty", "cd5", "{ target = 1 }", "{ }", "dose.allocation.value", "must be a non-empty table"),
    Case("weights-not-a-table", "cd5", "allocation = { value = { target = 1 },", "allocation = { value = 1,",
         "dose.allocation.value", "must be a non-empty table"),
    Case("weights-unknown-category", "cd5", "mrd_pos_cr = 0.25, no_cr = 0 }", "mrd_pos_cr = 0.25, partial = 0 }",
         "response.categories.value.partial", "category 'partial' does not exist"),
    Case("weight-infinite", "cd5", "mrd_pos_cr = 0.25,", "mrd_pos_cr = inf,",
         "response.categories.value.mrd_pos_cr", "must be"),
    # --- negative durations and time distributions ----------------------------------------------------
    Case("duration-negative", "cd5", 'days = { value = 3, source = "seeds:lymphodepletion_days" }',
         'days = { value = -3, source = "seeds:lymphodepletion_days" }',
         "lymphodepletion.days.value", "a duration must not be negative, got -3"),
    Case("bed-days-negative", "cd5", "bed_days = { value = 30,", "bed_days = { value = -30,",
         "transplant.bed_days.value", "a duration must not be negative, got -30"),
    Case("timedist-argument-negative", "cd5", "loc = { value = 29.3,", "loc = { value = -1,",
         "transplant.delay_days.loc.value", "a duration must not be negative, got -1"),
    Case("hazard-negative", "cd5", re.compile(r"^relapse_hazard = \{ value = [0-9.e-]+,", re.MULTILINE),
         "relapse_hazard = { value = -0.00133,", "late.relapse_hazard.value", "a hazard must not be negative, got -0.00133"),
    Case("timedist-unknown-family", "cd5", 'family = "lognormal"', 'family = "gamma"',
         "donor.search_days.family", "must be one of ['exponential', 'fixed', 'lognormal', 'uniform'], got 'gamma'"),
    Case("timedist-family-is-a-list", "cd5", 'family = "lognormal"', 'family = ["lognormal"]',
         "donor.search_days.family", "must be one of"),
    Case("lymphodepletion-after-infusion", "cd5",
         'start_before_infusion_days = { value = 5, source = "seeds:lymphodepletion_start_before_infusion" }',
         'start_before_infusion_days = { value = 2, source = "scenario", note = "a test of the timing check" }',
         "lymphodepletion.start_before_infusion_days", "lymphodepletion must end before infusion"),
    Case("seeds-value-disagrees", "cd5", 'enrolled = { value = 19, source = "seeds:enrolled" }',
         'enrolled = { value = 30, source = "seeds:enrolled" }',
         "accrual.enrolled.value", "value 30 disagrees with the seeds file, which gives 19 at ../seeds/cd5_tall.toml: figures.enrolled"),
    # --- missing sections and keys ---------------------------------------------------------------------
    Case("missing-section", "cd5", re.compile(r"^\[withdrawal\]\n.*\n", re.MULTILINE), "",
         "withdrawal", "missing section"),
    Case("missing-section-dotted", "cd5", re.compile(r"^\[expansion\.peak_day\]\n(.*\n){3}", re.MULTILINE), "",
         "expansion", "missing section"),
    Case("missing-key", "cd5", line(r"incidence = \{ value = 0\.8,"), "", "crs.incidence", "missing"),
    Case("missing-value", "cd5", "enrolled = { value = 19, source", "enrolled = { source",
         "accrual.enrolled.value", "missing"),
    Case("missing-source", "cd5", 'enrolled = { value = 19, source = "seeds:enrolled" }', "enrolled = { value = 19 }",
         "accrual.enrolled.source", "missing"),
    Case("missing-timedist-argument", "cd5", line(r"sigma = \{ value = 0\.5,"), "",
         "donor.search_days.sigma", "missing"),
    Case("missing-dose-levels", "cll1", re.compile(r"^\[dose\.levels\]\n(.*\n){3}", re.MULTILINE), "",
         "dose.levels", "missing"),
    # --- dose groups that do not exist -------------------------------------------------------------------
    Case("low-yield-level-unknown", "cd5", 'low_yield_level = "low"', 'low_yield_level = "medium"',
         "dose.low_yield_level", "dose level 'medium' does not exist"),
    Case("allocation-unknown-group", "cll1", "{ A = 1, B = 1, C = 1 }", "{ A = 1, B = 1, D = 1 }",
         "dose.allocation.value.D", "dose level 'D' does not exist"),
    Case("allocation-to-removed-group", "cll1", line(r"C = \{ value = 1\.5,"), "",
         "dose.allocation.value.C", "dose level 'C' does not exist"),
    Case("seeds-figure-unknown-dose-level", "cd5", 'level = "target"', 'level = "medium"',
         "figures.infused_target_dose.level", "dose level 'medium' does not exist", file="seeds"),
    # --- not valid TOML ----------------------------------------------------------------------------------
    Case("toml-syntax-error", "cd5", "[crs]\n", "[crs\n", "", "not valid TOML"),
    Case("toml-duplicate-key", "cd5", "[withdrawal]\n", "[withdrawal]\nprogression_hazard = 1\n", "", "not valid TOML"),
    Case("seeds-toml-syntax-error", "cd5", "[figures.enrolled]\n", "[figures.enrolled\n",
         "", "not valid TOML", file="seeds"),
    # --- uncertainty distributions -----------------------------------------------------------------------
    Case("uncertainty-unknown-distribution", "cd5", "uniform = [0.25, 0.75]", "normal = [0.25, 0.75]",
         "donor.search_days.sigma.uncertainty", "unknown distribution 'normal'"),
    Case("uncertainty-wrong-arity", "cd5", "uniform = [0.25, 0.75]", "uniform = [0.25]",
         "donor.search_days.sigma.uncertainty.uniform", "must be a list of 2 finite numbers"),
    Case("uncertainty-argument-not-number", "cd5", "uniform = [0.25, 0.75]", 'uniform = [0.25, "0.75"]',
         "donor.search_days.sigma.uncertainty.uniform", "must be a list of 2 finite numbers"),
    Case("uncertainty-invalid-arguments", "cd5", "uniform = [0.25, 0.75]", "uniform = [0.75, 0.25]",
         "donor.search_days.sigma.uncertainty.uniform", "needs low < high"),
    Case("uncertainty-beta-k-above-n", "cd5", "beta = [4, 5]", "beta = [6, 5]",
         "crs.incidence.uncertainty.beta", "needs 0 <= k <= n"),
    Case("uncertainty-excludes-base-value", "cd5", "uniform = [0.25, 0.75]", "uniform = [0.6, 0.75]",
         "donor.search_days.sigma.uncertainty", "base value 0.5 lies outside uniform[0.6, 0.75]"),
    Case("uncertainty-not-a-table", "cd5", "uncertainty = { uniform = [0.25, 0.75] }", "uncertainty = 0.5",
         "donor.search_days.sigma.uncertainty", "must be a table with one of"),
    Case("uncertainty-two-distributions", "cd5", "uniform = [0.25, 0.75]", "uniform = [0.25, 0.75], beta = [1, 2]",
         "donor.search_days.sigma.uncertainty", "must be a table with one of"),
    Case("uncertainty-infinite-bound", "cd5", "uniform = [0.25, 0.75]", "uniform = [0.25, inf]",
         "donor.search_days.sigma.uncertainty.uniform", "finite"),
    Case("dirichlet-wrong-categories", "cd5", "dirichlet = { mrd_neg_cr = 12, mrd_pos_cr = 4, no_cr = 0 }",
         "dirichlet = { mrd_neg_cr = 12, mrd_pos_cr = 4 }",
         "response.categories.uncertainty.dirichlet", "categories must be ['mrd_neg_cr', 'mrd_pos_cr', 'no_cr']"),
    Case("dirichlet-negative-count", "cd5", "mrd_pos_cr = 4,", "mrd_pos_cr = -4,",
         "response.categories.uncertainty.dirichlet.mrd_pos_cr", "count must be a finite number >= 0, got -4"),
    Case("dirichlet-nan-count", "cd5", "mrd_pos_cr = 4,", "mrd_pos_cr = nan,",
         "response.categories.uncertainty.dirichlet.mrd_pos_cr", "must be"),
    Case("dirichlet-on-a-number", "cd5", "uncertainty = { beta = [4, 5] }", "uncertainty = { dirichlet = { a = 1 } }",
         "crs.incidence.uncertainty", "unknown distribution 'dirichlet'"),
    Case("scalar-distribution-on-weights", "cll1", "uncertainty = { dirichlet = { A = 4, B = 4, C = 4 } }",
         "uncertainty = { beta = [4, 12] }", "dose.allocation.uncertainty", "must be { dirichlet"),
    # --- source ------------------------------------------------------------------------------------------
    Case("source-unknown-seeds-key", "cd5", 'source = "seeds:enrolled"', 'source = "seeds:enroled"',
         "accrual.enrolled.source", "'seeds:enroled' names no figure or design fact in cd5_tall.toml"),
    Case("source-unknown-seeds-key-cll1", "cll1", 'source = "seeds:dose_group_a"', 'source = "seeds:dose_group_d"',
         "dose.levels.A.source", "'seeds:dose_group_d' names no figure or design fact in cll1_aml.toml"),
    Case("split-cited-in-part", "cll1", 'source = "seeds:mrd_negative_cr+seeds:mrd_positive_cr+seeds:no_cr"',
         'source = "seeds:mrd_negative_cr"', "response.categories.source",
         "cite all of it (seeds:mrd_negative_cr+seeds:mrd_positive_cr+seeds:no_cr)"),
    Case("source-unknown-kind", "cd5", 'mean_period_days = { value = 365, source = "assumption"',
         'mean_period_days = { value = 365, source = "guess"',
         "accrual.mean_period_days.source",
         "must be 'seeds:KEY' (or 'seeds:KEY+seeds:KEY' for several), 'calibration', 'predicted', 'assumption' or 'scenario', got 'guess'"),
    Case("source-not-a-string", "cd5", 'source = "seeds:enrolled"', "source = 1",
         "accrual.enrolled.source", "source and note must be strings"),
    # --- assumptions need a note and a range ----------------------------------------------------------------
    Case("assumption-without-note", "cd5", MEAN_PERIOD_NOTE, "",
         "donor.search_days.sigma.note", "a value whose source is 'assumption' must say why in a note"),
    Case("assumption-blank-note", "cd5", MEAN_PERIOD_NOTE, ', note = "   "',
         "donor.search_days.sigma.note", "a value whose source is 'assumption' must say why in a note"),
    Case("calibration-without-note", "cd5",
         re.compile(r'(?<=^cutoff_after_last_enrolment_days = )(.*), note = "[^"]*"', re.MULTILINE), r"\1",
         "accrual.cutoff_after_last_enrolment_days.note",
         "a value whose source is 'calibration' must say why in a note"),
    Case("scenario-without-note", "cd5", re.compile(r', note = "a lever[^"]*"'), "",
         "crs.severity_log_odds_shift.note", "a value whose source is 'scenario' must say why in a note"),
    Case("assumption-without-range", "cd5", "uncertainty = { uniform = [0.25, 0.75] }, ", "",
         "donor.search_days.sigma.uncertainty", "an assumption must state its plausible range"),
    # --- a prior is kept only by a calibrated entry, and must hold its value ---------------------------------------
    Case("prior-on-an-assumption", "cd5", "uncertainty = { uniform = [0.25, 0.75] }, ",
         "uncertainty = { uniform = [0.25, 0.75] }, prior = { uniform = [0.25, 0.75] }, ",
         "donor.search_days.sigma.prior", "only a calibrated or predicted entry keeps the prior it was fitted under"),
    Case("prior-excludes-its-value", "cd5", "prior = { lognormal = [1.36, 0.4] }", "prior = { uniform = [2, 3] }",
         "late.relapse_shape_3.prior", "lies outside the prior uniform[2.0, 3.0]"),
    Case("prior-on-weights", "cll1", "uncertainty = { dirichlet = { A = 4, B = 4, C = 4 } }",
         "uncertainty = { dirichlet = { A = 4, B = 4, C = 4 } }, prior = { beta = [1, 2] }",
         "dose.allocation.prior", "unknown key"),
    Case("assumption-weights-without-range", "cll1", ", uncertainty = { dirichlet = { A = 4, B = 4, C = 4 } }", "",
         "dose.allocation.uncertainty", "an assumption must state its plausible range"),
    # --- seeds files -------------------------------------------------------------------------------------
    Case("seeds-file-not-found", "cd5", 'seeds = "../seeds/cd5_tall.toml"', 'seeds = "../seeds/cd5.toml"',
         "trial.seeds", "seeds file '../seeds/cd5.toml' not found"),
    Case("seeds-unknown-metric", "cd5", 'metric = "enrolled"', 'metric = "enroled"',
         "figures.enrolled.metric", "unknown metric 'enroled'", file="seeds"),
    Case("seeds-metric-is-a-list", "cd5", 'metric = "enrolled"', 'metric = ["enrolled"]',
         "figures.enrolled.metric", "unknown metric", file="seeds"),
    Case("seeds-missing-says", "cd5", 'says = "patients enrolled"\n', "",
         "figures.enrolled.says", "missing", file="seeds"),
    Case("seeds-design-missing-says", "cd5", 'says = "target dose 1 x 10^6 cells/kg"\n', "",
         "design.target_dose.says", "missing", file="seeds"),
    Case("seeds-says-not-a-string", "cd5", 'says = "patients enrolled"', "says = 5",
         "figures.enrolled.says", "must be", file="seeds"),
    Case("seeds-missing-value", "cd5", 'value = 19\nsays = "patients enrolled"', 'says = "patients enrolled"',
         "figures.enrolled.value", "missing", file="seeds"),
    Case("seeds-value-not-a-number", "cd5", 'value = 19\nsays = "patients enrolled"',
         'value = "19"\nsays = "patients enrolled"',
         "figures.enrolled.value", "must be a finite number, got '19'", file="seeds"),
    Case("seeds-of-not-a-number", "cd5", 'of = 19\nsays = "infused', 'of = "nineteen"\nsays = "infused',
         "figures.infused.of", "must be", file="seeds"),
    Case("seeds-unknown-key", "cd5", 'says = "patients enrolled"', 'says = "patients enrolled"\ncolour = "red"',
         "figures.enrolled.colour", "unknown key", file="seeds"),
    Case("seeds-unknown-section", "cd5", "[citation]\n", "[citations]\n", "citations", "unknown key", file="seeds"),
    Case("seeds-citation-missing-doi", "cd5", line("doi = "), "", "citation.doi", "missing", file="seeds"),
    Case("seeds-bad-qualifier", "cd5", "low = 3\n", "low = 7\n",
         "figures.early_report_crs_grade_3_plus", "low = 7 is not a valid value", file="seeds"),
    Case("seeds-missing-qualifier", "cd5", 'level = "target"\n', "",
         "figures.infused_target_dose", "metric 'infused_at_level' needs 'level'", file="seeds"),
    Case("seeds-not-modelled-without-why", "cd5", line('why = "cell kinetics'), "",
         "figures.car_t_persistence.why", "a figure the model does not produce must say why", file="seeds"),
    # --- numbers a float cannot hold, sums that overflow, limits ----------------------------------------------
    Case("huge-integer-value", "cd5", "enrolled = { value = 19,", f"enrolled = {{ value = {BIG},",
         "accrual.enrolled.value", "number too large (401 digits"),
    Case("huge-integer-capacity", "cd5", "manufacturing_slots = { value = inf,", f"manufacturing_slots = {{ value = {BIG},",
         "resources.manufacturing_slots.value", "number too large (401 digits"),
    Case("huge-integer-distribution-argument", "cd5", "uncertainty = { uniform = [0.2, 0.6] }",
         f"uncertainty = {{ uniform = [0.2, {BIG}] }}", "manufacturing.collection_days.sigma.uncertainty.uniform[1]",
         "number too large"),
    Case("huge-integer-weight", "cd5", "{ mrd_neg_cr = 0.75,", f"{{ mrd_neg_cr = {BIG},",
         "response.categories.value.mrd_neg_cr", "number too large"),
    Case("huge-integer-dirichlet-count", "cd5", "dirichlet = { mrd_neg_cr = 12,", f"dirichlet = {{ mrd_neg_cr = {BIG},",
         "response.categories.uncertainty.dirichlet.mrd_neg_cr", "number too large"),
    Case("integer-of-5000-digits", "cd5", "enrolled = { value = 19,", f"enrolled = {{ value = {'9' * 5000},",
         "", "not valid TOML here: Exceeds the limit"),
    Case("weights-overflow-their-sum", "cd5", "{ mrd_neg_cr = 0.75, mrd_pos_cr = 0.25,",
         "{ mrd_neg_cr = 1e308, mrd_pos_cr = 1e308,", "response.categories.value", "their sum is not a finite number"),
    Case("dirichlet-counts-overflow-their-sum", "cd5", "dirichlet = { mrd_neg_cr = 12, mrd_pos_cr = 4,",
         "dirichlet = { mrd_neg_cr = 1e308, mrd_pos_cr = 1e308,", "response.categories.uncertainty.dirichlet",
         "their sum is not a finite number"),
    Case("uniform-too-wide", "cd5", "uncertainty = { uniform = [0.2, 0.6] }", "uncertainty = { uniform = [-1.5e308, 1.7e308] }",
         "manufacturing.collection_days.sigma.uncertainty.uniform", "gives no finite 95% interval"),
    Case("enrolled-past-the-streams-limit", "cd5", "enrolled = { value = 19,", "enrolled = { value = 1e12,",
         "accrual.enrolled", "at most 4294967296 patients per trial"),
    Case("seeds-huge-value", "cd5", 'value = 19\nsays = "patients enrolled"', f'value = {BIG}\nsays = "patients enrolled"',
         "figures.enrolled.value", "number too large", file="seeds"),
    Case("seeds-huge-of", "cd5", 'of = 19\nsays = "infused', f'of = {BIG}\nsays = "infused',
         "figures.infused.of", "number too large", file="seeds"),
    # --- pathological TOML ------------------------------------------------------------------------------------
    Case("arrays-nested-50000-deep", "cd5", line("enrolled = "), "enrolled = " + "[" * 50000 + "]" * 50000 + "\n",
         "", "nested too deep"),
    Case("key-with-newline-and-escape", "cd5", "[crs]\n", '[crs]\n"bad\\nkey\\u001b[31m" = 1\n',
         "crs.bad\nkey\x1b[31m", "unknown key"),
    # --- names that would leave their folder ----------------------------------------------------------------
    Case("trial-name-dot-dot", "cd5", 'name = "cd5_tall"', 'name = ".."', "trial.name", "not only dots"),
    Case("trial-name-dot", "cd5", 'name = "cd5_tall"', 'name = "."', "trial.name", "not only dots"),
]

CASE_PARAMS = [pytest.param(case, id=case.id,
                            marks=[pytest.mark.xfail(reason=case.bug, strict=True)] if case.bug else [])
               for case in CASES]


def edit(request, case: Case):
    """A copy of the case's trial files with the case's edit applied; returns (copy, edited file)."""
    copy = request.getfixturevalue(f"{case.trial}_copy")
    target = copy.path if case.file == "params" else copy.seeds
    text = target.read_text()
    if isinstance(case.old, re.Pattern):
        text, n = case.old.subn(case.new, text, count=1)
        assert n == 1, f"{case.old.pattern!r} did not match {target.name}"
    else:
        assert case.old in text, f"{case.old!r} not in {target.name}"
        text = text.replace(case.old, case.new, 1)
    target.write_text(text)
    return copy, target


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``cartsim ARGS`` in this process (fast), from folder ``cwd``; an uncaught exception fails the test."""
    out, err, here = io.StringIO(), io.StringIO(), os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as stop:
                code = stop.code
    finally:
        os.chdir(here)
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def run_cli_subprocess(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``python -m sim ARGS`` in a fresh interpreter, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str,
                          prefix: str = "cartsim: error: ") -> str:
    """Exit status 2, one line on stderr starting with ``prefix`` and holding every fragment; nothing else."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{result.stderr}"
    assert lines[0].startswith(prefix), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    assert result.stdout == "", result.stdout
    return lines[0]


# --- controls: the unedited copies are good, so each failure below is caused by its edit ------------------


@pytest.mark.parametrize("trial", sorted(TRIAL_FILES))
def test_unedited_copy_loads(request, trial):
    copy = request.getfixturevalue(f"{trial}_copy")
    assert load_params(copy.path).path == copy.path


def test_unedited_copy_runs_and_writes_output(cd5_copy, tmp_path):
    out = tmp_path / "out"
    result = run_cli_subprocess("run", str(cd5_copy.path), "--trials", "2", "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (out / "summary.json").is_file()


# --- the library -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_load_params_raises_input_error(request, case):
    copy, target = edit(request, case)
    expected = (re.escape(f"{printable(case.key)}: ") if case.key else "") + ".*" + re.escape(case.problem)
    with pytest.raises(InputError, match=expected) as info:
        load_params(copy.path)
    err = info.value
    assert err.key == case.key
    assert case.problem in err.problem
    assert err.source.endswith(f"{case.file}/{TRIAL_FILES[case.trial]}"), err.source
    assert Path(err.source).resolve() == target.resolve()
    assert "\n" not in str(err)


def test_toml_error_says_where(cd5_copy):
    cd5_copy.replace("[crs]\n", "[crs\n")
    with pytest.raises(InputError, match=r"not valid TOML: .*line \d+") as info:
        load_params(cd5_copy.path)
    assert info.value.source == str(cd5_copy.path)


def test_load_params_missing_file(tmp_path):
    missing = tmp_path / "nope.toml"
    with pytest.raises(InputError, match="no such file, nor a shipped trial") as info:
        load_params(missing)
    assert info.value.source == str(missing)


def test_load_params_directory(tmp_path):
    with pytest.raises(InputError, match="cannot read file"):
        load_params(tmp_path)


# --- the command line: bad files -----------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASE_PARAMS)
def test_cli_refuses_bad_file(request, tmp_path, case):
    copy, target = edit(request, case)
    out = tmp_path / "out"
    result = run_cli("run", str(copy.path), "--trials", "2", "--out", str(out), cwd=tmp_path)
    message = assert_one_line_error(result, f"{case.file}/{TRIAL_FILES[case.trial]}", case.problem)
    if case.key:
        assert f": {printable(case.key)}: " in message
    assert not CONTROL.search(message), message
    assert not out.exists()


def test_cli_bad_file_creates_no_default_output_folder(cd5_copy, tmp_path):
    """In a fresh interpreter, as a user runs it: no traceback, one line, exit 2, nothing written."""
    cd5_copy.replace("incidence = { value = 0.8,", "incidence = { value = 1.5,")
    result = run_cli_subprocess("run", str(cd5_copy.path), "--trials", "2", cwd=tmp_path)
    assert_one_line_error(result, "cd5_tall.toml", "crs.incidence.value", "a probability must be in [0, 1]")
    assert not (tmp_path / "results").exists()


# --- the command line: bad arguments ------------------------------------------------------------------------

GOOD = str(ROOT / "params" / "cd5_tall.toml")

ARGUMENT_CASES = [
    pytest.param(["run", GOOD, "--trials", "0"], ["--trials", "must be >= 1, got 0"], id="trials-zero"),
    pytest.param(["run", GOOD, "--trials", "-3"], ["--trials", "must be >= 1, got -3"], id="trials-negative"),
    pytest.param(["run", GOOD, "--trials", "abc"], ["--trials", "must be a whole number, got 'abc'"], id="trials-abc"),
    pytest.param(["run", GOOD, "--trials", "2.5"], ["--trials", "must be a whole number, got '2.5'"],
                 id="trials-fraction"),
    pytest.param(["run", GOOD, "--seed", "-1"], ["--seed", "must be >= 0, got -1"], id="seed-negative"),
    pytest.param(["run", GOOD, "--seed", "x"], ["--seed", "must be a whole number, got 'x'"], id="seed-not-a-number"),
    pytest.param(["run", "nope.toml"], ["nope.toml", "no such file"], id="params-not-found"),
    pytest.param(["run", "."], ["cannot read file"], id="params-is-a-folder"),
    pytest.param(["run"], ["PARAMS", "required"], id="params-missing"),
    pytest.param(["run", GOOD, "--bogus"], ["unrecognized arguments: --bogus"], id="unknown-option"),
    pytest.param([], ["COMMAND", "required"], id="command-missing"),
    pytest.param(["frobnicate"], ["invalid choice: 'frobnicate'"], id="command-unknown"),
]


@pytest.mark.parametrize("argv, fragments", ARGUMENT_CASES)
def test_cli_refuses_bad_arguments(tmp_path, argv, fragments):
    out = tmp_path / "out"
    extra = ["--out", str(out)] if argv[:1] == ["run"] and len(argv) > 1 else []
    result = run_cli(*argv, *extra, cwd=tmp_path)
    assert_one_line_error(result, *fragments, prefix="cartsim")
    assert "error: " in result.stderr
    assert not out.exists()
    assert not (tmp_path / "results").exists()


def test_cli_out_is_a_file(tmp_path):
    out = tmp_path / "out"
    out.write_text("not a folder")
    result = run_cli("run", GOOD, "--trials", "2", "--out", str(out), cwd=tmp_path)
    assert_one_line_error(result, str(out), "--out", "exists and is not a folder")
    assert out.read_text() == "not a folder"


# --- Params.with_values ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("changes, key, problem", [
    pytest.param({"crs.incidence": 1.5}, "crs.incidence", "a probability must be in [0, 1], got 1.5", id="probability"),
    pytest.param({"crs.incidence": -0.5}, "crs.incidence", "a probability must be in [0, 1], got -0.5",
                 id="negative-probability"),
    pytest.param({"crs.incidence": "high"}, "crs.incidence", "must be a number, got str 'high'", id="string"),
    pytest.param({"crs.incidence": True}, "crs.incidence", "must be a number, got bool True", id="bool"),
    pytest.param({"crs.incidence": math.nan}, "crs.incidence", "must be a number, got nan", id="nan"),
    pytest.param({"transplant.bed_days": -1}, "transplant.bed_days", "a duration must not be negative",
                 id="negative-duration"),
    pytest.param({"donor.search_days.sigma": 0}, "donor.search_days.sigma", "must be positive, got 0", id="zero-sigma"),
    pytest.param({"response.categories": {"mrd_neg_cr": 1, "mrd_pos_cr": 1}}, "response.categories",
                 "weights must be given for exactly ['mrd_neg_cr', 'mrd_pos_cr', 'no_cr']",
                 id="weights-missing-category"),
    pytest.param({"response.categories": {"mrd_neg_cr": 0, "mrd_pos_cr": 0, "no_cr": 0}}, "response.categories",
                 "weights must be finite numbers >= 0, not all zero", id="weights-all-zero"),
    pytest.param({"response.categories": {"mrd_neg_cr": -1, "mrd_pos_cr": 2, "no_cr": 0}}, "response.categories",
                 "weights must be finite numbers >= 0, not all zero", id="weights-negative"),
    pytest.param({"lymphodepletion.days": 10}, "lymphodepletion.start_before_infusion_days",
                 "lymphodepletion must end before infusion", id="inconsistent"),
    pytest.param({"crs.incidenc": 0.5}, "crs.incidenc", "no such parameter", id="unknown-path"),
    pytest.param({"crs": 0.5}, "crs", "no such parameter", id="section-path"),
])
def test_with_values_refuses(cd5, changes, key, problem):
    before = dict(cd5.entries)
    with pytest.raises(InputError, match=re.escape(f"{key}: ") + ".*" + re.escape(problem)) as info:
        cd5.with_values(changes)
    assert info.value.key == key
    assert info.value.source.endswith("cd5_tall.toml")
    assert cd5.entries == before  # the original is untouched


def test_with_values_accepts_good_values(cd5):
    changed = cd5.with_values({"crs.incidence": 0.5})
    assert changed["crs.incidence"] == 0.5
    assert cd5["crs.incidence"] == 0.8
