"""Where evaluations run: in this process, on a local process pool, or on a Dask cluster.

Every backend takes the model and an iterator of chunks of points, and yields each chunk's
evaluations as soon as it finishes (in whatever order).  An evaluation depends only on its point and
the model, never on the worker, the chunk or the order, so every backend and worker count gives the
same results for the same seed; ``tests/test_sensitivity_backends.py`` checks it, on a real Dask
LocalCluster.  At most a few chunks per worker are in flight at once, so a design of any size is
never held in memory as points.

Backends are context managers: a Dask backend connects on entering (so an unreachable scheduler is
reported before anything is written) and closes the client, and any cluster it started, on leaving.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor
from concurrent.futures import wait as wait_futures
from typing import Any, Callable, Iterable, Iterator

from sim.errors import InputError
from sim.sensitivity.model import Evaluation, Point

Chunk = list[Point]
IN_FLIGHT_PER_WORKER = 2
DASK_CONNECT_SECONDS = 10.0


def evaluate_chunk(model: Callable[[Point], Evaluation], chunk: Chunk) -> list[Evaluation]:
    """Evaluate a chunk of points in order (what each worker runs); together where the model can."""
    many = getattr(model, "evaluate_many", None)
    return many(chunk) if many is not None else [model(point) for point in chunk]


def windowed(submit: Callable[[Chunk], Any], chunks: Iterable[Chunk], window: int,
             wait_first: Callable[[set], tuple[set, set]],
             cancel: Callable[[set], None] | None = None) -> Iterator[list[Evaluation]]:
    """Keep at most ``window`` chunks in flight; yield each one's evaluations when it finishes.

    Parameters
    ----------
    submit : callable
        Starts a chunk and returns its future (``result()`` gives the evaluations).
    chunks : iterable of lists of Point
    window : int
    wait_first : callable
        Waits until at least one of a set of futures is done: returns (done, not done).
    cancel : callable, optional
        Called with the futures still in flight if the caller stops early or an evaluation fails.
    """
    chunks = iter(chunks)
    running: set = set()
    try:
        while True:
            for chunk in chunks:
                running.add(submit(chunk))
                if len(running) >= window:
                    break
            if not running:
                return
            done, running = wait_first(running)
            for future in done:
                yield future.result()
    finally:
        if cancel is not None and running:
            cancel(running)


class SerialBackend:
    """Every evaluation in this process, one after another."""

    workers = 1

    def __enter__(self) -> "SerialBackend":
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def describe(self) -> str:
        return "serial (this process)"

    def map(self, model: Callable[[Point], Evaluation], chunks: Iterable[Chunk]) -> Iterator[list[Evaluation]]:
        for chunk in chunks:
            yield evaluate_chunk(model, chunk)


_installed_model: Callable[[Point], Evaluation] | None = None


ORPHAN_POLL_SECONDS = 1.0


def _install(model: Callable[[Point], Evaluation]) -> None:
    """Pool worker start-up: keep the model, leave Ctrl-C to the parent (which stops the pool), and exit
    if the parent dies (``kill -9`` gives it no chance to stop the pool)."""
    global _installed_model
    _installed_model = model
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_with_parent()


def exit_with_parent(poll: float = ORPHAN_POLL_SECONDS) -> threading.Thread:
    """Start a daemon thread that ends this process once its parent has died (it is then re-parented,
    so ``os.getppid()`` changes); checked every ``poll`` seconds."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll)
        os._exit(1)

    watchdog = threading.Thread(target=watch, name="cartsim-exit-with-parent", daemon=True)
    watchdog.start()
    return watchdog


def _evaluate_installed(chunk: Chunk) -> list[Evaluation]:
    return evaluate_chunk(_installed_model, chunk)


def _pool_context() -> multiprocessing.context.BaseContext:
    """How to start the workers: 'fork' on Linux when this process runs no other thread (fast: the
    workers inherit the loaded modules), else 'forkserver' or 'spawn' (safe beside threads, such as
    those of a Dask client; their scripts need an ``if __name__ == "__main__":`` guard)."""
    methods = multiprocessing.get_all_start_methods()
    if sys.platform.startswith("linux") and threading.active_count() == 1 and "fork" in methods:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


class PoolBackend:
    """A pool of ``workers`` local processes; the model is sent to each worker once."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1

    def __enter__(self) -> "PoolBackend":
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def describe(self) -> str:
        return f"process pool of {self.workers} workers"

    def map(self, model: Callable[[Point], Evaluation], chunks: Iterable[Chunk]) -> Iterator[list[Evaluation]]:
        pool = ProcessPoolExecutor(self.workers, mp_context=_pool_context(), initializer=_install, initargs=(model,))
        try:
            yield from windowed(lambda chunk: pool.submit(_evaluate_installed, chunk), chunks,
                                IN_FLIGHT_PER_WORKER * self.workers,
                                lambda fs: _as_sets(wait_futures(fs, return_when=FIRST_COMPLETED)))
        finally:
            pool.shutdown(wait=False, cancel_futures=True)


def _as_sets(waited: Any) -> tuple[set, set]:
    return set(waited[0]), set(waited[1])


class DaskBackend:
    """A Dask cluster: ``"local"`` starts a LocalCluster, ``tcp://HOST:PORT`` joins a running scheduler.

    Parameters
    ----------
    address : str
        ``"local"`` or a scheduler address (e.g. of a dask-jobqueue cluster on SLURM or PBS).
    workers : int or None
        Workers of a LocalCluster (default: one per core); not used with an address.
    connect_timeout : float
        Seconds to wait for the scheduler before giving up.
    processes : bool
        A LocalCluster's workers are processes (default) or threads of this process.
    """

    def __init__(self, address: str, workers: int | None = None, connect_timeout: float = DASK_CONNECT_SECONDS,
                 processes: bool = True) -> None:
        self.address = address
        self.workers = workers
        self.connect_timeout = connect_timeout
        self.processes = processes
        self.client = None
        self.cluster = None

    def describe(self) -> str:
        where = "a LocalCluster" if self.address == "local" else f"the scheduler at {self.address}"
        return f"Dask on {where} ({self.workers} workers)"

    def __enter__(self) -> "DaskBackend":
        distributed = _import_distributed()
        try:
            if self.address == "local":
                self.cluster = distributed.LocalCluster(
                    n_workers=self.workers or os.cpu_count() or 1, threads_per_worker=1, processes=self.processes,
                    dashboard_address=None, silence_logs=logging.CRITICAL)
                self.client = distributed.Client(self.cluster, timeout=self.connect_timeout)
            else:
                self.client = distributed.Client(self.address, timeout=self.connect_timeout)
        except (OSError, ValueError, TypeError) as err:
            self.__exit__()
            reason = (str(err).strip().splitlines() or [type(err).__name__])[0]
            problem = (f"cannot reach the Dask scheduler within {self.connect_timeout:g} s "
                       f"(is it running, and is the address right?): {reason}")
            raise InputError("--dask", self.address, problem) from None
        self.workers = max(1, sum(self.client.nthreads().values()))
        return self

    def __exit__(self, *exc: object) -> None:
        for thing in (self.client, self.cluster):
            if thing is not None:
                thing.close()
        self.client = self.cluster = None

    def map(self, model: Callable[[Point], Evaluation], chunks: Iterable[Chunk]) -> Iterator[list[Evaluation]]:
        from distributed import wait

        remote_model = self.client.scatter(model, broadcast=True, hash=False)
        yield from windowed(lambda chunk: self.client.submit(evaluate_chunk, remote_model, chunk, pure=False),
                            chunks, IN_FLIGHT_PER_WORKER * self.workers,
                            lambda fs: _as_sets(wait(list(fs), return_when="FIRST_COMPLETED")),
                            lambda fs: self.client.cancel(list(fs)))


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise InputError("--dask", "", "needs Dask: pip install 'cartsim[dask]'") from None
    return distributed


def make_backend(workers: int | None = None, dask: str | None = None, connect_timeout: float = DASK_CONNECT_SECONDS):
    """The backend for the command-line options: ``--dask`` if given, else ``--workers`` (1: serial; default: all
    cores).

    Raises
    ------
    InputError
        ``--workers`` given with a scheduler address (the cluster decides its own workers).
    """
    if dask is not None:
        if dask != "local" and workers is not None:
            raise InputError("--workers", str(workers), "does not apply to a running Dask scheduler "
                             "(its workers are the cluster's); leave it out, or use --dask local")
        return DaskBackend(dask, workers, connect_timeout)
    workers = workers or os.cpu_count() or 1
    return SerialBackend() if workers == 1 else PoolBackend(workers)
