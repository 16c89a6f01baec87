"""Worked example: probabilistic sensitivity analysis (PSA) of the CD5 CAR-T trial.  Copy and adapt.

How uncertain is 12-month overall survival, given everything the trial did not report, and how much
of a single trial's spread is parameter uncertainty rather than patient-level chance?

    python scripts/sensitivity_psa.py                       # 1000 draws x 20 virtual trials
    python scripts/sensitivity_psa.py --draws 40 --inner 3  # a quick look
    python scripts/sensitivity_psa.py --resume              # continue after Ctrl-C or a kill

Each draw is appended to OUT/evaluations.jsonl as it finishes; OUT gets psa_summary.csv,
psa_draws.csv, psa.json and figures/psa.png|svg.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import sim
from sim.sensitivity import PoolBackend, SerialBackend, run_psa

OUTCOMES = ["os_12m", "lfs_12m", "nrm_12m", "cr_rate"]
THRESHOLD = 0.30  # a 12-month OS a trial team might call disappointing (an example, not a target)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", default="params/cd5_tall.toml")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--inner", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--out", default="results/cd5_tall/sensitivity/psa-example")
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)

    params = sim.load_params(args.params)
    backend = PoolBackend(args.workers) if args.workers > 1 else SerialBackend()
    result = run_psa(params, draws=args.draws, inner=args.inner, seed=args.seed, outcomes=OUTCOMES,
                     backend=backend, out=args.out, resume=args.resume)
    result.write(args.out)

    print(f"{result.label}: {args.draws} parameter draws x {args.inner} virtual trials ({result.info.seconds:.1f} s)")
    for row in result.summary_table().rows():
        print(f"  {row['outcome']:10} median {row['median']:.3f}  95% [{row['low95']:.3f}, {row['high95']:.3f}]"
              f"  parameters {row['share_parameter']:.0%} of the variance of one trial's result")

    # The per-draw table answers questions the summary does not, e.g. a probability over the parameters:
    draws = result.draws_table()
    os_12m = draws["os_12m"][~np.isnan(draws["os_12m"])]
    chance = np.mean(os_12m < THRESHOLD)
    print(f"  P(expected 12-month OS < {THRESHOLD:.0%}) over the parameter uncertainty: {chance:.2f}")
    print(f"  wrote {args.out}/")


if __name__ == "__main__":
    main()
