"""Calibration: its model of the counts agrees with the engine, it recovers known values from counts
simulated with them, and ``cartsim calibrate`` rewrites only the fitted lines of a params file.

Recovery checks simulate one large virtual trial with known values (seed 101), take its counts as
the reported figures, and fit them on windows simulated with another seed (202).  Tolerances come
from the fit's own uncertainty: a single value must lie in its 95% interval; the six late hazards,
tested together, each within 2.64 posterior standard deviations (Bonferroni: a family-wise 95%,
the posterior being close to normal at this size).  Each check also demands a tight enough fit
that an estimate off by half the true value would fail.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import tomllib

import numpy as np
import pytest
from scipy import stats

import sim
from sim.analyses import calibration as C
from sim.analyses.calibration import late_windows
from sim.analyses.calibration.cutoff import trial_cutoffs
from sim.stats.trial_figures import late_state
from sim.inputs.params_text import inline_entry, replace_entry
from sim.inputs.paper import Figure

Z_SE = 4.0  # engine agreement: 4 binomial standard errors (false alarm about 1 in 16,000 per check)
Z_FAMILY = stats.norm.ppf(1 - 0.05 / (2 * 7))  # 2.69: seven levels, family-wise 95%
KNOWN = {"late.relapse_hazard": 0.0015, "late.infection_death_hazard": 0.0020, "late.tma_death_hazard": 0.0008,
         "late.relapse_hazard_after_transplant": 0.0006, "late.infection_death_hazard_after_transplant": 0.0015,
         "late.tma_death_hazard_after_transplant": 0.0010, "late.transplant_death_hazard_after_transplant": 0.0010}
PINNED_INPUTS = {f"late.{cause}_shape_{k}": s for cause, shape in (
    ("relapse", (1.0, 1.36, 0.2, 0.1)), ("infection_death", (0.5, 0.3, 0.15, 0.15)), ("tma_death", (0.5, 0.3, 0.15, 0.15)),
    ("transplant_death", (1.0, 0.3, 0.1, 0.05))) for k, s in zip(range(2, 6), shape)} | {
    "late.relapse_hazard_ratio_mrd_pos": 2.0, "late.infection_hr_cytopenia_g34": 1.73, "late.infection_hr_early_infection": 2.0}
# a proper but vague prior after transplant (mean 1 per day): recovery is the likelihood's
VAGUE = {f"late.{name}_prior_{kind}_after_transplant": 1.0
         for name in ("relapse", "infection_death", "tma_death", "transplant_death") for kind in ("events", "days")}


def cartsim(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def with_figures(params: sim.Params, figures: dict[str, Figure]) -> sim.Params:
    """``params`` whose seeds report ``figures`` instead of the paper's."""
    return dataclasses.replace(params, seeds=dataclasses.replace(params.seeds, figures=figures))


def hazards(params: sim.Params) -> tuple[dict, dict]:
    return tuple({c: params[C.hazard_path(c, regime)] for c in C.CAUSE_STATES if C.applies(c, regime)}
                 for regime in (False, True))


# -- the likelihood's model agrees with the engine ----------------------------------------------

@pytest.fixture(scope="module")
def known_cd5(cd5):
    return cd5.with_values(KNOWN | {"accrual.cutoff_after_last_enrolment_days": 300})


def test_late_outcome_chances_match_the_engine(known_cd5):
    """The exact chances over the simulated windows (piecewise hazards with the params' band shapes)
    against the engine's frequencies on the same virtual patients (same seed): only the late
    events' chance differs."""
    patients = sim.run_trials(known_cd5, trials=400, seed=5).patients
    model = C.LateModel(C.LateWindows.simulate(known_cd5, 400, 5).at_cutoff(300), known_cd5)
    state = late_state(patients.columns)
    transplanted = ~np.isnan(patients["t_transplant"])
    for group in (True, False):
        members = (state != "") & (transplanted == group)
        states = [s for c, s in C.CAUSE_STATES.items() if C.applies(c, group)]
        every = C.LateGroup(group, 1.0, {s: 0.0 for s in ("in_remission", *states)}, {})
        for name, chance in model.conditional(every, *hazards(known_cd5)).items():
            chance = float(chance)
            n = int(members.sum())
            observed = np.mean(state[members] == name)
            assert abs(observed - chance) < Z_SE * np.sqrt(chance * (1 - chance) / n), (group, name, observed, chance)


@pytest.mark.parametrize("metric", ["withdrawn", "not_infused"])
def test_pre_infusion_chances_match_the_engine(cd5, metric):
    params = cd5.with_values({C.PROGRESSION: 0.01})
    patients = sim.run_trials(params, trials=400, seed=6).patients
    chance = C.PreInfusionWindows.simulate(params, 400, 6).chance(metric, 0.01)
    counted = patients["final_state"] == "withdrawn" if metric == "withdrawn" else np.isnan(patients["t_infusion"])
    assert abs(np.mean(counted) - chance) < Z_SE * np.sqrt(chance * (1 - chance) / len(counted))


# -- recovery of known values ----------------------------------------------------------------

def big(params: sim.Params, enrolled: int) -> sim.Params:
    return params.with_values({"accrual.enrolled": enrolled})


def late_figures(params: sim.Params, patients) -> dict[str, Figure]:
    """The trial's outcomes at cut-off by transplant status, as seeds figures."""
    state = late_state(patients.columns)
    transplanted = ~np.isnan(patients["t_transplant"])
    figures = {}
    for group in (True, False):
        members = (state != "") & (transplanted == group)
        for name in ("in_remission", *(s for c, s in C.CAUSE_STATES.items() if C.applies(c, group))):
            figures[f"{group}_{name}"] = Figure(f"{group}_{name}", "late_outcome", float(np.sum(state[members] == name)),
                                                "simulated", of=int(members.sum()),
                                                qualifiers={"state": name, "transplanted": group})
    return figures


def test_calibration_recovers_known_late_hazards(known_cd5):
    """Levels of piecewise hazards (the params' band shapes) recovered from simulated counts."""
    # the band shapes and patient factors are pinned (at their priors' medians; transplant death's shape flatter),
    # so the precision this test asks for does not move with the shipped values, which the evidence synthesis now
    # calibrates (a steeper fall of one cause, or more of a competing one, leaves fewer events to fit a level from)
    truth = big(known_cd5.with_values(VAGUE | PINNED_INPUTS), 1500)
    figures = late_figures(truth, sim.run_trials(truth, trials=1, seed=101).patients)
    target = with_figures(truth, figures)
    windows = C.LateWindows.simulate(truth, 2, 202).at_cutoff(300)
    fits = C.fit_late(windows, C.late_groups(target), target, 200, np.random.default_rng(1))
    assert {f.path for f in fits} == set(KNOWN)
    for fit in fits:
        spread = np.std(fit.draws, ddof=1)
        assert abs(fit.value - KNOWN[fit.path]) < Z_FAMILY * spread, (fit.path, fit.value, spread)
        assert Z_FAMILY * spread < 0.5 * KNOWN[fit.path], (fit.path, spread)  # a fit off by half would fail


def test_calibration_recovers_a_known_progression_hazard(cll1):
    truth = big(cll1.with_values({C.PROGRESSION: 0.01}), 2000)
    patients = sim.run_trials(truth, trials=1, seed=101).patients
    withdrawn = float(np.sum(patients["final_state"] == "withdrawn"))
    figure = Figure("withdrawn", "withdrawn", withdrawn, "simulated", of=2000)
    fit = C.fit_progression(C.PreInfusionWindows.simulate(truth, 1, 202), figure, 1000, np.random.default_rng(2))
    low, high = fit.interval
    assert low <= 0.01 <= high, fit.interval
    assert high - low < 0.5 * 0.01, fit.interval


def test_calibration_recovers_a_known_cutoff(cd5):
    truth = big(cd5.with_values({C.CUTOFF: 250}), 400)
    months = sim.run_trials(truth, trials=1, seed=101).trials["median_followup"][0]
    figure = Figure("median_followup", "median_followup_months", float(months), "simulated", unit="months")
    fit = C.fit_cutoff(C.LateWindows.simulate(truth, 200, 202), figure)
    low, high = fit.interval
    assert low <= 250 <= high, fit.interval
    assert high - low < 0.5 * 250, fit.interval


def test_each_virtual_trial_is_cut_where_it_reports_the_median_follow_up(cd5):
    """Per-trial cut-offs: every virtual trial reports the target (to the bisection's precision), and a day
    earlier it reports less, so the cut-off found is the first that reports it."""
    windows = C.LateWindows.simulate(cd5, 20, 7)
    cutoffs = trial_cutoffs(windows, 12.0)  # one per patient, that of their trial
    assert np.allclose(windows.median_followup_months(cutoffs), 12.0, atol=1e-3)
    assert np.all(windows.median_followup_months(cutoffs - 1.0) < 12.0)
    assert np.ptp(cutoffs) > 30  # accrual differs between trials, so one cut-off would not fit them all


def test_late_windows_end_at_their_own_trial_cut_off(cd5):
    """The windows the late levels are fitted on end at each trial's own cut-off; patients assessed for response
    after it are left out.  Without a follow-up figure, every trial is cut at the params file's cut-off."""
    windows = C.LateWindows.simulate(cd5, 20, 7)
    figure = C.followup_figure(cd5)
    cut = late_windows(windows, cd5, ())
    per_patient = trial_cutoffs(windows, figure.value)
    kept = windows.response <= windows.cutoff(per_patient)
    expected = per_patient[kept]
    assert np.array_equal(cut.cutoff_after_last, expected)
    assert np.all(cut.window >= 0) and np.allclose(cut.window, cut.last_enrolment + expected - cut.response)
    assert cut.trial.size == np.sum(kept)
    held = late_windows(windows, cd5, (figure.key,))
    assert held.cutoff_after_last == cd5[C.CUTOFF]


def test_only_what_the_seeds_inform_is_fitted(cll1):
    result = C.calibrate(cll1, trials=50, seed=0, draws=20)
    assert [f.path for f in result.fits] == [C.PROGRESSION]
    assert C.CUTOFF in result.skipped and "late.relapse_hazard" in result.skipped


# -- uncertainty as written in the params file -------------------------------------------------

def test_gamma_by_moments_recovers_events_and_exposure():
    sample = stats.gamma(3 + 0.5, scale=1 / 1000).rvs(20000, random_state=np.random.default_rng(3))
    events, exposure = C.gamma_by_moments(sample)["gamma"]
    # the shape's sampling error at n = 20000 is about 1% of 3.5: 5% is over 4 standard errors
    assert events + 0.5 == pytest.approx(3.5, rel=0.05) and exposure == pytest.approx(1000, rel=0.05)


def test_triangular_by_quantiles_recovers_a_triangular():
    sample = stats.triang(0.8, loc=100, scale=300).rvs(20000, random_state=np.random.default_rng(4))
    low, mode, high = C.triangular_by_quantiles(sample)
    assert (low, mode, high) == pytest.approx((100, 340, 400), abs=10)


# -- editing the params file's text ------------------------------------------------------------

def test_replace_entry_changes_one_line_only(cd5):
    text = cd5.path.read_text()
    entry = inline_entry(0.0012, "calibration", {"gamma": [2.5, 2000]}, 'fitted to "x"')
    new = replace_entry(text, "late.relapse_hazard", entry, cd5.path)
    changed = [(a, b) for a, b in zip(text.splitlines(), new.splitlines()) if a != b]
    assert len(changed) == 1 and changed[0][1].startswith("relapse_hazard = { value = 0.0012,")
    assert tomllib.loads(new)["late"]["relapse_hazard"]["note"] == 'fitted to "x"'


def test_replace_entry_names_the_entry_it_cannot_find(cd5):
    with pytest.raises(sim.InputError, match="late.no_such_hazard"):
        replace_entry(cd5.path.read_text(), "late.no_such_hazard", "{ value = 1 }", cd5.path)


# -- the command --------------------------------------------------------------------------------

@pytest.mark.slow  # two full calibrations of CD5, joint posterior included: minutes
def test_calibrate_rewrites_only_the_fitted_lines_and_is_idempotent(cd5_copy, tmp_path):
    before = cd5_copy.text
    args = ("calibrate", str(cd5_copy.path), "--trials", "100", "--draws", "50")
    done = cartsim(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    after = cd5_copy.text
    changed = [b.split(" = ")[0] for a, b in zip(before.splitlines(), after.splitlines()) if a != b]
    assert len(before.splitlines()) == len(after.splitlines())
    assert sorted(changed) == sorted(["cutoff_after_last_enrolment_days", "progression_hazard", *(
        p.split(".")[-1] for p in KNOWN)])
    assert all(params_value > 0 for params_value in (sim.load_params(cd5_copy.path)[p] for p in KNOWN))
    params = sim.load_params(cd5_copy.path)
    for path in [C.PROGRESSION, C.CUTOFF, *KNOWN]:
        entry = params.entries[path]
        assert entry.source == "calibration" and entry.uncertainty is not None and "cartsim calibrate" in entry.note
    assert "untransplanted_died_tma = 2/12" in params.entries["late.tma_death_hazard"].note
    for key in ("not_infused", "median_followup", "untransplanted_relapsed", "95% interval"):
        assert key in done.stdout
    assert cartsim(*args, cwd=tmp_path).returncode == 0
    assert cd5_copy.text == after  # the fit does not depend on the values it replaces


def test_calibrate_out_elsewhere_keeps_the_seeds_reachable(cll1_copy, tmp_path):
    out = tmp_path / "elsewhere" / "deeper" / "calibrated.toml"
    done = cartsim("calibrate", str(cll1_copy.path), "--trials", "50", "--draws", "20", "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sim.load_params(out).entries[C.PROGRESSION].source == "calibration"
    assert "not calibrated" in done.stdout and "no median follow-up" in done.stdout


def test_calibrate_out_in_a_new_folder_names_the_seeds_copy_it_writes(cll1_copy, tmp_path):
    """--out into a folder without the seeds file copies it beside, and the new params file names that copy
    (its seeds path as the template states it), not the template's seeds file."""
    out = tmp_path / "mine" / "params" / "calibrated.toml"
    done = cartsim("calibrate", str(cll1_copy.path), "--trials", "40", "--draws", "20", "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    copy = tmp_path / "mine" / "seeds" / cll1_copy.seeds.name
    assert copy.read_bytes() == cll1_copy.seeds.read_bytes()
    assert tomllib.loads(out.read_text())["trial"]["seeds"] == f"../seeds/{cll1_copy.seeds.name}"
    assert sim.load_params(out).seeds.path.resolve() == copy.resolve()


@pytest.mark.parametrize("args, fragments", [
    (["--out", "."], ["--out", "not a file"]),
    (["--out", "x.txt"], ["--out", ".toml"]),
    (["--trials", "0"], ["--trials", "must be >= 10"]),
])
def test_calibrate_refuses_bad_arguments_and_writes_nothing(cll1_copy, tmp_path, args, fragments):
    before = cll1_copy.text
    done = cartsim("calibrate", str(cll1_copy.path), *args, cwd=tmp_path)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert all(f in done.stderr for f in fragments), done.stderr
    assert cll1_copy.text == before and not (tmp_path / "x.txt").exists()


def test_calibrate_refuses_a_bad_params_file_naming_file_and_key(cll1_copy, tmp_path):
    cll1_copy.replace("progression_hazard = { value = 0.", "progression_hazard = { value = -0.")
    before = cll1_copy.text
    done = cartsim("calibrate", str(cll1_copy.path), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "cll1_aml.toml" in done.stderr and "withdrawal.progression_hazard.value" in done.stderr
    assert cll1_copy.text == before


def test_calibrate_leaves_out_excluded_figures(cd5):
    """``exclude`` drops a figure from the fit: without the median follow-up the cut-off is not
    fitted, and an unknown key is refused."""
    result = C.calibrate(cd5, trials=20, seed=0, draws=20, exclude=["median_followup", "not_infused", "infused"])
    assert C.CUTOFF in result.skipped and C.PROGRESSION in result.skipped
    assert all(f.path.startswith("late.") for f in result.fits)
    with pytest.raises(ValueError, match="no_such_figure"):
        C.calibrate(cd5, trials=20, seed=0, draws=20, exclude=["no_such_figure"])


def test_no_level_is_zero_when_no_event_was_seen(cd5):
    """The transplanted group reports no relapse, TMA or transplant death: their levels come from
    the prior times the likelihood, and stay positive."""
    result = C.calibrate(cd5, trials=50, seed=0, draws=50)
    after = {f.path: f for f in result.fits if f.path.endswith("_after_transplant")}
    assert len(after) == 4 and all(f.value > 0 and np.all(f.draws > 0) for f in after.values())
