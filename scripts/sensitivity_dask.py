"""Worked example: a sensitivity analysis on a Dask cluster, resumable.  Copy and adapt.

The same seed gives the same results on a laptop, a process pool or a cluster.  By default this
starts a local Dask cluster; give --scheduler to use a running one, for instance one started on a
SLURM or PBS cluster with dask-jobqueue (workers need cartsim installed):

    from dask_jobqueue import SLURMCluster
    cluster = SLURMCluster(cores=8, memory="16GB", walltime="02:00:00")
    cluster.scale(jobs=10)
    print(cluster.scheduler_address)      # pass this as --scheduler

    python scripts/sensitivity_dask.py                                    # LocalCluster, PSA of 2000 draws
    python scripts/sensitivity_dask.py --scheduler tcp://10.0.0.5:8786    # a running cluster
    python scripts/sensitivity_dask.py --resume                           # after a lost job or Ctrl-C

Needs Dask: pip install 'cartsim[dask]'.
"""

from __future__ import annotations

import argparse

import sim
from sim.sensitivity import DaskBackend, run_psa


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", default="params/cd5_tall.toml")
    parser.add_argument("--scheduler", default="local", help="'local' or tcp://HOST:PORT")
    parser.add_argument("--workers", type=int, default=None, help="workers of a local cluster")
    parser.add_argument("--threads", action="store_true", help="a local cluster's workers as threads of this process")
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--inner", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default="results/cd5_tall/sensitivity/psa-dask-example")
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)

    params = sim.load_params(args.params)
    workers = args.workers if args.scheduler == "local" else None  # a running cluster has its own
    backend = DaskBackend(args.scheduler, workers=workers, processes=not args.threads)
    result = run_psa(params, draws=args.draws, inner=args.inner, seed=args.seed, outcomes=["os_12m", "cr_rate"],
                     backend=backend, out=args.out, resume=args.resume,
                     progress=lambda done, total: print(f"\r{done}/{total} draws", end="", flush=True))
    print()
    result.write(args.out)
    print(f"{result.info.backend}: {args.draws} draws in {result.info.seconds:.1f} s "
          f"({result.info.resumed} taken from an earlier run)")
    for row in result.summary_table().rows():
        print(f"  {row['outcome']:8} median {row['median']:.3f}  95% [{row['low95']:.3f}, {row['high95']:.3f}]")


if __name__ == "__main__":
    main()
