"""A worked walk-through of cartsim, executed in the test suite: from reproducing a trial to planning one.

Run it from anywhere (the shipped trials are found by name, installed or not); it uses only the public
API, ``import sim`` (and ``sim.sensitivity`` for the tornado plot), and the ``cartsim`` command::

    python docs/tutorial.py                                  # the sizes below: several minutes
    python docs/tutorial.py --trials 50 --draws 10 --inner 5 # a quick look

Every step prints what it found and the command-line equivalent.  The files go under ``--out``
(default ``tutorial-results``).  The package is imported as ``sim`` (the distribution is ``cartsim``).

Step 1 - reproduce CD5.  Run the donor-derived CD5 CAR-T trial (Pan et al., Nat Med 2025) as it was
run, and set each reported figure beside the simulated median and 95% interval over virtual trials
of the same size.  A reported count inside the interval is one a trial like this could show.

Step 2 - a what-if, with its headline interval.  Give every CD5 patient in remission a consolidative
transplant (scenario ``cd5_transplant_all_responders``) and compare it with the trial as run on the
same virtual patients (common random numbers).  The headline is the effect on 12-month overall
survival over parameter uncertainty: the 2.5th-97.5th percentile, over draws of the uncertain
parameters, of the expected paired difference.  That interval is the one a decision rests on: the
hazards after transplant rest on 4 transplanted patients and a prior from published transplant
outcomes.  The Monte Carlo interval of the mean difference follows it; it says only how precisely
the simulation pinned down the model's answer at the base values, and shrinks with more virtual
trials.

Step 3 - which input matters: a tornado plot.  Move each uncertain input of the CLL-1 trial to the
2.5th and 97.5th percentile of its range, the others at base, and rank the inputs by how far they
swing severe CRS.  The grey band on the plot is what chance alone could do.

Step 4 - plan a new trial.  ``cartsim new`` writes a params file and a seeds file from a shipped
trial, each entry marked for what to supply.  Here we plan a 30-patient CLL-1-like trial: change the
enrolled count in both files (they must agree), run it, and read the simulated outcomes.  There is
no paper to compare with yet, so none is shown.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import sim
from sim.sensitivity import SerialBackend, run_oneway

NEW_TRIAL = "planned_cll1_30"
NEW_ENROLLED = 30


def reproduce(trials: int, out: Path) -> None:
    """Step 1: the CD5 trial as run, reported figures beside simulated ones."""
    params = sim.load_params("cd5_tall")
    results = sim.run_trials(params, trials=trials, seed=0)
    results.write(out / "cd5_tall")
    print(f"Step 1 (cartsim run cd5_tall --trials {trials}): {params.text['trial.title']}")
    inside = 0
    rows = [r for r in results.summary().rows() if r["reported"] == r["reported"] and r["figure"] != "enrolled"]
    for row in rows:
        ok = row["sim_low95"] <= row["reported"] <= row["sim_high95"]
        inside += ok
        print(f"  {row['figure']:32} reported {row['reported']:5g}  simulated {row['sim_median']:6.3g} "
              f"[{row['sim_low95']:.3g}, {row['sim_high95']:.3g}]{'' if ok else '  <- outside'}")
    print(f"  {inside} of {len(rows)} reported figures lie inside the simulated 95% interval.")


def what_if(trials: int, draws: int, inner: int) -> dict[str, float]:
    """Step 2: transplant for every responder against CD5 as run; returns the OS-at-12-months row."""
    scenario = sim.load_params("cd5_transplant_all_responders")
    comparison = sim.compare(sim.load_params("cd5_tall"), [scenario], trials=trials, seed=0, draws=draws, inner=inner)
    row = next(r for r in comparison.table.rows() if r["outcome"] == "os_12m")
    print(f"Step 2 (cartsim compare cd5_tall cd5_transplant_all_responders --trials {trials} --draws {draws} "
          f"--inner {inner}): {scenario.scenario.title}")
    print(f"  effect on OS at 12 months over parameter uncertainty: {row['effect_median']:+.3f} "
          f"[{row['effect_low95']:+.3f}, {row['effect_high95']:+.3f}] (median and 2.5th-97.5th percentile over "
          f"{draws} parameter draws)")
    print(f"  at the base values: {row['base_mean']:.3f} as run, {row['scenario_mean']:.3f} with the scenario; mean "
          f"difference {row['diff_mean']:+.3f}, Monte Carlo 95% interval [{row['diff_low95']:+.3f}, "
          f"{row['diff_high95']:+.3f}] (the simulation's precision, not the world's uncertainty)")
    return row


def tornado(inner: int, out: Path) -> list[str]:
    """Step 3: one-way sensitivity of severe CRS in CLL-1, drawn as a tornado plot; returns the top inputs."""
    params = sim.load_params("cll1_aml")
    folder = out / "cll1_tornado"
    result = run_oneway(params, inner=inner, seed=1, outcomes=["crs_g3_rate"], inputs=["crs", "dose"],
                        backend=SerialBackend(), out=folder)
    result.write(folder)
    rows = [r for r in result.summary_table().rows()][:3]
    print(f"Step 3 (cartsim sensitivity oneway cll1_aml --inputs crs,dose --outcomes crs_g3_rate --inner {inner}):")
    for row in rows:
        print(f"  {row['input']:32} moves CRS >= 3 from {row['outcome_at_low']:.3f} to {row['outcome_at_high']:.3f}")
    print(f"  picture: {folder.name}/figures/tornado_crs_g3_rate.png")
    return [row["input"] for row in rows]


def plan(trials: int, out: Path) -> Path:
    """Step 4: a new 30-patient trial from CLL-1, with the marked enrolled count supplied, run as written."""
    folder = out / "new_trial"
    subprocess.run([sys.executable, "-m", "sim", "-q", "new", NEW_TRIAL, "--from", "cll1_aml", "--dir", str(folder),
                    "--force"], check=True)
    params_file, seeds_file = folder / "params" / f"{NEW_TRIAL}.toml", folder / "seeds" / f"{NEW_TRIAL}.toml"
    # the two marked places that state the enrolled count: the params entry and the seeds design fact
    params_file.write_text(re.sub(r"^enrolled = \{ value = \d+,", f"enrolled = {{ value = {NEW_ENROLLED},",
                                  params_file.read_text(), flags=re.M))
    seeds_file.write_text(re.sub(r"(\[design\.enrolled\]\nvalue = )\d+", rf"\g<1>{NEW_ENROLLED}",
                                 seeds_file.read_text()))
    params = sim.load_params(params_file)
    results = sim.run_trials(params, trials=trials, seed=0)
    results.write(out / NEW_TRIAL)
    print(f"Step 4 (cartsim new {NEW_TRIAL} --from cll1_aml; cartsim run params/{NEW_TRIAL}.toml): "
          f"{int(params['accrual.enrolled'])} patients per trial, no paper to compare with yet")
    key = results.key_outcomes()
    print(f"  key outcomes, all patients: median [{key['interval'][0]}]")
    for row in key.rows():
        if row["dose_group"] == "all" and row["unit"] in ("patients", "proportion") and row["outcome"] != "n_enrolled":
            undefined = f", undefined in {row['trials_undefined']} trials" if row["trials_undefined"] else ""
            print(f"  {row['label']:64} {row['median']:6.3g} [{row['low95']:.3g}, {row['high95']:.3g}]{undefined}")
    return params_file


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=1000, help="virtual trials per run (default: 1000)")
    parser.add_argument("--draws", type=int, default=100, help="parameter draws of the what-if's effect (default: 100)")
    parser.add_argument("--inner", type=int, default=20,
                        help="virtual trials per parameter draw and per tornado run (default: 20)")
    parser.add_argument("--out", type=Path, default=Path("tutorial-results"))
    args = parser.parse_args(argv)
    reproduce(args.trials, args.out)
    what_if(args.trials, args.draws, args.inner)
    tornado(args.inner, args.out)
    plan(args.trials, args.out)
    print(f"wrote {args.out}/")


if __name__ == "__main__":
    main()
