"""``cartsim evidence``: the published series and the shipped trials in one hierarchical model of the late course."""

from __future__ import annotations

import argparse
import functools
from pathlib import Path

from sim.cli.options import acceptance, whole
from sim.errors import InputError
from sim.inputs.trial_catalog import shipped_trials
from sim.output.atomic_folder import check_output_place, staged_folder

NAME = "evidence"
OUTPUTS = ("evidence.csv", "evidence.png", "evidence.svg", "predictive.csv", "predictive.json")
HELP = "pool the published series and the shipped trials: evidence table, forest plot, predictive draws"
EPILOG = """\
model: for each late cause (infection death, other non-relapse death, relapse) a trial's band-1
hazard level is exp(mu[cause, class] + eta), eta ~ Normal(0, tau[cause]^2); each series enters
through the likelihood of what it reports under the model's own band shapes and competing risks,
each shipped trial with its exact per-patient likelihood (docs/evidence-synthesis.md).  Sampled by
NUTS (nutpie, the 'synthesis' extra); every reported quantity must reach split R-hat <= 1.01 and
effective sample size >= 400 (divergent transitions are counted and reported as a warning): check
them after every fit, as convergence at a given length depends on the run.  The shipped fit (--draws
2000 --tune 1500 --sample-inputs --low-rank --target-accept 0.95) took about 50 minutes of one core
(35 at the default target acceptance, with five times the divergent transitions), and a leave-one-out
refit (--draws 1500 --tune 1500) 25 to 40.

the output folder is checked and locked before the fit starts and its files are swapped in whole
when everything is written, so a failure or Ctrl-C leaves an earlier result as it was; the params
files (--write-shipped) are rewritten only after that, each whole or not at all.

outputs (in --out, default: evidence):
  evidence.csv      one row per series figure (reported, the model's estimate and 95% interval),
                    then per cause and class the pooled and predictive levels, and tau; each
                    interval says what it is; the 'sampler' column says whether the chains converged
  evidence.png/svg  forest plot of each series' NRM and relapse, pooled and predictive 1-year risks
  predictive.csv    robust predictive draws of a new trial's levels, with
  predictive.json   its provenance (diagnostics, and whether the chains converged): what
                    cartsim new --class reads (shipped: params/evidence)

example (the shipped fit):
  cartsim evidence --out params/evidence --draws 2000 --tune 1500 --trials 50 --sample-inputs \\
      --low-rank --target-accept 0.95 --leave-one-out --write-shipped"""


def add_parser(commands) -> None:
    parser = commands.add_parser(NAME, help=HELP, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
                                 description="Fit the hierarchical model of the late course to the published series "
                                 "and the shipped trials, and write the evidence table and plot.")
    parser.add_argument("--out", type=Path, default=Path("evidence"), metavar="DIR", help="output folder (default: %(default)s)")
    parser.add_argument("--series", type=Path, default=None, metavar="DIR",
                        help="folder of series files (default: the shipped seeds/series)")
    parser.add_argument("--draws", type=whole(10), default=1000, metavar="N",
                        help="draws kept per chain (default: %(default)s)")
    parser.add_argument("--tune", type=whole(10), default=1000, metavar="N",
                        help="tuning draws per chain before them, discarded (default: %(default)s)")
    parser.add_argument("--chains", type=whole(2), default=4, metavar="N",
                        help="independent chains, run one after another (default: %(default)s)")
    parser.add_argument("--trials", type=whole(10), default=50, metavar="N",
                        help="virtual trials simulated for each shipped trial's windows (default: %(default)s)")
    parser.add_argument("--seed", type=whole(0, None), default=0, metavar="S", help="seed (default: %(default)s)")
    parser.add_argument("--keep-sample", type=Path, default=None, metavar="FILE",
                        help="also save the sampler's draws after tuning (numpy .npz) to FILE")
    parser.add_argument("--from-sample", type=Path, default=None, metavar="FILE",
                        help="diagnose and report draws saved by --keep-sample (same series, --trials, --seed) "
                        "instead of sampling again")
    parser.add_argument("--sample-inputs", action="store_true",
                        help="sample the band shapes and patient factors with the levels, under their stated priors "
                        "(otherwise held at their base values; pass it with --from-sample too when the draws have them); "
                        "their draws go into predictive.csv beside the levels, for cartsim new")
    parser.add_argument("--low-rank", action="store_true",
                        help="adapt a diagonal plus low-rank mass matrix (for strongly correlated coordinates, as "
                        "with --sample-inputs) instead of a diagonal one (with --from-sample: the draws were, if "
                        "their file does not say)")
    parser.add_argument("--target-accept", type=acceptance, default=None, metavar="P",
                        help="NUTS's target acceptance rate while tuning, between 0 and 1: a higher one takes smaller "
                        "steps, for fewer divergent transitions at more cost (default: the sampler's, which the output "
                        "names; with --from-sample: the draws' own, if their file says)")
    parser.add_argument("--write-shipped", action="store_true",
                        help="write the partially pooled late levels of each shipped trial with late outcomes of "
                        "its own into its params file, with joint draws beside it (only when converged)")
    parser.add_argument("--leave-one-out", action="store_true",
                        help="print each series' reported figures (NRM first) against their leave-one-out 95%% "
                        "predictive intervals: by importance sampling, or by a fit without the series where the "
                        "weights' effective sample size is below 10%% of the draws or their Pareto k-hat above 0.7 (as long as "
                        "the fit; kept beside --keep-sample as FILE.loo-SERIES.npz, and read from beside --from-sample)")


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from sim.analyses.calibration import late_groups
    from sim.analyses.synthesis.evidence import leave_one_out, plot_rows
    from sim.analyses.synthesis.files import evidence_csv_text, write_predictive
    from sim.analyses.synthesis.fit import fit_synthesis
    from sim.analyses.synthesis.shipped import write_pooled
    from sim.inputs.params import load_params
    from sim.inputs.series import load_all_series
    from sim.output.run_files import write_atomic
    from sim.plots.evidence_forest import draw_evidence

    from sim.analyses.synthesis.sampler import TARGET_ACCEPT

    args.target_accept = args.target_accept or TARGET_ACCEPT
    if args.keep_sample is not None:
        check_output_file(args.keep_sample, "--keep-sample")
    saved = load_sample(args.from_sample) if args.from_sample is not None else None
    series = load_all_series(args.series)
    shipped = [load_params(path) for path in shipped_trials().values()]
    if args.write_shipped and not args.sample_inputs:
        refuse_held_rewrite(shipped)
    reference = shipped[0]
    with staged_folder(args.out, replace=OUTPUTS) as folder:  # checked and locked before the fit runs
        if saved is not None:
            synthesis = from_saved(saved, series, shipped, reference, args)
        else:
            synthesis = fit_synthesis(series, shipped, reference, draws=args.draws, tune=args.tune,
                                      chains=args.chains, trials=args.trials, seed=args.seed,
                                      sample_inputs=args.sample_inputs, low_rank=args.low_rank,
                                      target_accept=args.target_accept)
        sample = synthesis.sample
        print(f"{len(series)} published series and {len(shipped)} shipped trials; {sample.describe()}: max R-hat "
              f"{max(sample.rhat.values()):.3f}, min ESS {min(sample.ess.values()):.0f}, "
              f"{sample.divergences} divergent transitions")
        if args.keep_sample is not None:
            keep_sample(args.keep_sample, synthesis)
        write_predictive(synthesis, folder)
        write_atomic(folder / "evidence.csv", evidence_csv_text(synthesis, shipped))
        draw_evidence(*plot_rows(synthesis, reference), folder)
    print(f"wrote {args.out / 'predictive.csv'} (robust predictive draws, read by cartsim new --class"
          + (")" if sample.converged else "; marked NOT CONVERGED in predictive.json, and cartsim new says so)"))
    print(f"wrote {args.out / 'evidence.csv'} and {args.out / 'evidence.png'}")
    if args.write_shipped and sample.converged:
        # Only a trial whose own late outcomes are in the fit is rewritten.  A trial without them would get its
        # class's predictive levels, which rest on trials of other diseases (cll1_aml: AML, against T-ALL
        # evidence in its class); its own entries say what is assumed instead.
        for params in shipped:
            if late_groups(params):
                print(f"wrote {write_pooled(params, synthesis)} (partially pooled late levels and their joint draws)")
            else:
                print(f"kept {params.path.name}'s own late levels: it reports no late outcome of its own")
    for warning in sample.warnings:
        print(f"WARNING: {warning}: the region the chains could not follow may be under-represented (a higher "
              "--target-accept, e.g. 0.95, takes smaller steps)")
    if not sample.converged:
        print(f"WARNING: NOT CONVERGED ({len(sample.problems)} diagnostics fail; shipped params not rewritten); rerun "
              "with more --draws and --tune:\n  " + "\n  ".join(sample.problems[:10]))
    if args.leave_one_out:
        refit = functools.partial(refit_without, args, series, shipped, reference)
        print(format_leave_one_out(leave_one_out(synthesis, reference, refit)))
    return 0 if sample.converged else 1


def refit_without(args: argparse.Namespace, series: list, shipped: list, reference, key: str):
    """The synthesis without series ``key``, for its exact leave-one-out: the draws saved beside --from-sample
    (FILE.loo-KEY.npz) when there are any, else a new fit with this run's options (saved beside --keep-sample)."""
    from sim.analyses.synthesis.fit import fit_synthesis

    kept = [s for s in series if s.key != key]
    saved = loo_sample_path(args.from_sample, key) if args.from_sample is not None else None
    if saved is not None and saved.is_file():
        return from_saved(load_sample(saved), kept, shipped, reference, args)
    print(f"refitting without {key}: its importance weights are too few or too heavy-tailed to trust (about as long "
          "as the fit)")
    without = fit_synthesis(kept, shipped, reference, draws=args.draws, tune=args.tune, chains=args.chains,
                            trials=args.trials, seed=args.seed, sample_inputs=args.sample_inputs, low_rank=args.low_rank,
                            target_accept=args.target_accept)
    if args.keep_sample is not None:
        keep_sample(loo_sample_path(args.keep_sample, key), without)
    return without


def from_saved(arrays: dict, series: list, shipped: list, reference, args: argparse.Namespace):
    """The synthesis of draws saved by --keep-sample (:func:`load_sample`), diagnosed again with this run's options."""
    from sim.analyses.synthesis.fit import synthesis_from_sample

    return synthesis_from_sample(series, shipped, reference, arrays["theta"], int(arrays["tune"]),
                                 int(arrays["divergences"]), arrays["centred"], args.trials, args.seed,
                                 args.sample_inputs, bool(arrays.get("low_rank", args.low_rank)),
                                 float(arrays.get("target_accept", args.target_accept)))


def loo_sample_path(sample: Path, key: str) -> Path:
    """Where the draws of the fit without series ``key`` are kept, beside the sample ``sample``."""
    return Path(sample).with_name(f"{Path(sample).stem}.loo-{key}.npz")


def keep_sample(path: Path, synthesis) -> None:
    """The sampler's draws, whole or not at all, in the form --from-sample reads."""
    import numpy as np

    from sim.output.run_files import AtomicFile

    with AtomicFile(path, binary=True) as stream:
        np.savez_compressed(stream, theta=synthesis.sample.by_chain(), names=np.array(synthesis.hierarchy.names),
                            tune=synthesis.sample.tune, divergences=synthesis.sample.divergences,
                            centred=synthesis.hierarchy.centred, low_rank=synthesis.sample.low_rank,
                            target_accept=synthesis.sample.target_accept)


def refuse_held_rewrite(shipped: list) -> None:
    """--write-shipped with the inputs held, refused before the fit when a shipped params file has inputs that
    an earlier --sample-inputs fit calibrated (the new levels would be paired with that fit's input draws)."""
    from sim.analyses.synthesis.shipped import jointly_calibrated

    for params in shipped:
        calibrated = jointly_calibrated(params)
        if calibrated:
            raise InputError(params.path, calibrated[0], "was calibrated with the late levels by cartsim evidence "
                             "--sample-inputs; rewrite the shipped files with --sample-inputs too")


SAMPLE_KEYS = ("theta", "tune", "divergences", "centred")


def check_output_file(path: Path, option: str) -> None:
    """Refuse, before the fit runs, a file that could not be written: a folder in its place, or a folder
    for it that cannot be made or written."""
    from sim.errors import OutputError

    if Path(path).is_dir():
        raise OutputError(path, option, "is a folder, not a file")
    check_output_place(Path(path).absolute().parent, option)


def load_sample(path: Path) -> dict:
    """The arrays ``--keep-sample`` saved, or one line naming the file and what is missing."""
    import numpy as np

    try:
        with np.load(path) as saved:
            arrays = {k: saved[k] for k in (*SAMPLE_KEYS, "low_rank", "target_accept") if k in saved.files}
    except OSError as err:
        raise InputError(path, "", f"cannot be read: {err.strerror or err}") from None
    except ValueError:
        raise InputError(path, "", "is not a numpy .npz archive: not a sample saved by cartsim evidence "
                         "--keep-sample") from None
    missing = [k for k in SAMPLE_KEYS if k not in arrays]
    if missing:
        raise InputError(path, missing[0], "is missing: not a sample saved by cartsim evidence --keep-sample")
    return arrays


def format_leave_one_out(rows: list[dict]) -> str:
    """The leave-one-out table as text, with the share of series inside their interval."""
    from sim.analyses.synthesis.evidence import MAX_LOO_PARETO_K

    lines = [f"{'series':36} {'class':18} {'figure':28} {'day':>5} {'n':>5} {'count':>5} {'95% LOO interval':>17} "
             f"{'inside':>7}  method"]
    for r in rows:
        lines.append(f"{r['series']:36} {r['target_class']:18} {r['metric']:28} {r['day']:>5} {r['size']:>5} {r['reported']:>5} "
                     f"{'[' + str(r['low']) + ', ' + str(r['high']) + ']':>17} {_inside(r):>7}  {r['method']}")
    nrm = [r for r in rows if r["metric"] == "nrm_deaths"]
    lines.append(f"non-relapse mortality: {_share(nrm)} series inside their 95% leave-one-out predictive interval; "
                 f"every figure: {_share(rows)} (parameter uncertainty, heterogeneity and one trial's chance; a share is "
                 "read as share x n)")
    untrusted = sorted({r["series"] for r in rows if not r["trusted"]})
    if untrusted:
        lines.append(f"not counted ('?'): {', '.join(untrusted)}: importance weights too few or too heavy-tailed "
                     f"(Pareto k-hat above {MAX_LOO_PARETO_K}), or a refit whose chains did not converge, so its "
                     "interval is not reliable; refit it (longer)")
    return "\n".join(lines)


def _inside(row: dict) -> str:
    return ("yes" if row["inside"] else "NO") + ("" if row["trusted"] else "?")


def _share(rows: list[dict]) -> str:
    """'k of n' over the rows whose interval can be trusted."""
    counted = [r for r in rows if r["trusted"]]
    return f"{sum(r['inside'] for r in counted)} of {len(counted)}"
