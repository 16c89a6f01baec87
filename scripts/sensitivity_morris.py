"""Worked example: screen every input with Morris, then quantify the few that matter with Sobol'.  Copy and adapt.

Morris elementary effects rank all ~50 uncertain inputs of the CD5 CAR-T trial cheaply; the top ones
then get Sobol' indices, which cost samples x (inputs + 3) evaluations and so are kept for a few.
Needs SALib: pip install 'cartsim[sensitivity]'.

    python scripts/sensitivity_morris.py                                        # 20 trajectories, top 8
    python scripts/sensitivity_morris.py --trajectories 3 --top 3 --samples 8 --inner 2   # a quick look

OUT/morris and OUT/sobol get each method's tables and figures.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

import sim
from sim.sensitivity import PoolBackend, SerialBackend, run_morris, run_sobol

OUTCOME = "os_12m"


def backend(workers: int):
    """A process pool, or this process for one worker (a backend serves one run)."""
    return PoolBackend(workers) if workers > 1 else SerialBackend()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", default="params/cd5_tall.toml")
    parser.add_argument("--trajectories", type=int, default=20)
    parser.add_argument("--top", type=int, default=8, help="inputs passed on to Sobol'")
    parser.add_argument("--samples", type=int, default=512, help="Sobol' samples, a power of 2")
    parser.add_argument("--inner", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--out", default="results/cd5_tall/sensitivity/screening-example")
    args = parser.parse_args(argv)

    params = sim.load_params(args.params)
    screen = run_morris(params, trajectories=args.trajectories, inner=args.inner, seed=args.seed, outcomes=[OUTCOME],
                        backend=backend(args.workers), out=Path(args.out) / "morris")
    screen.write(Path(args.out) / "morris")
    effects = screen.summary_table()
    order = np.argsort(-np.asarray(effects["mu_star"], dtype=float), kind="stable")[:args.top]
    top = [str(effects["input"][j]) for j in order]
    print(f"Morris, {screen.info.config['points']} evaluations: top {args.top} of {len(effects)} inputs by mu*:")
    for j in order:
        print(f"  {effects['input'][j]:48} mu* {effects['mu_star'][j]:.3f}  sigma {effects['sigma'][j]:.3f}")

    # Dirichlet components are named path.category; Sobol' varies whole parameters, so keep their paths.
    paths = list(dict.fromkeys(name if name in params.entries else name.rsplit(".", 1)[0] for name in top))
    indices = run_sobol(params, samples=args.samples, inner=args.inner, seed=args.seed, outcomes=[OUTCOME],
                        inputs=paths, backend=backend(args.workers), out=Path(args.out) / "sobol")
    indices.write(Path(args.out) / "sobol")
    print(f"Sobol', {indices.info.config['points']} evaluations:")
    for row in indices.summary_table().rows():
        print(f"  {row['input']:48} S1 {row['S1']:6.3f}  ST {row['ST']:6.3f}"
              f"{'  above the noise floor' if row['ST_above_floor'] else ''}")
    print(f"wrote {args.out}/")


if __name__ == "__main__":
    main()
