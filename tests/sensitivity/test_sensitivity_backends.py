"""Backends agree exactly: serial, process pools of different sizes, and a real Dask LocalCluster.

An evaluation depends only on its point and the model, so the results must be identical to the
last bit, whatever the backend, the number of workers or the order in which chunks finish.
"""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest

from sim.errors import InputError
from sim.sensitivity import DaskBackend, PoolBackend, SerialBackend, make_backend, run_psa, run_sobol

pytest.importorskip("distributed")

OUTCOMES = ("os_12m", "cr_rate", "n_withdrawn", "nrm_12m")
DRAWS, INNER, SEED = 24, 3, 9


def psa(params, backend):
    return run_psa(params, draws=DRAWS, inner=INNER, seed=SEED, outcomes=OUTCOMES, backend=backend)


def sobol(params, backend):
    return run_sobol(params, inputs=["late.relapse_hazard", "late.infection_death_hazard", "response"], samples=8,
                     inner=2, seed=SEED, outcomes=OUTCOMES, resamples=100, backend=backend)


def assert_identical(a, b) -> None:
    for name in ("mean", "var", "n", "inputs", "done"):
        np.testing.assert_array_equal(getattr(a.collected, name), getattr(b.collected, name), err_msg=name)
    for name, table in a.tables().items():
        assert table.to_csv_text() == b.tables()[name].to_csv_text(), name


@pytest.fixture(scope="module")
def serial(cd5):
    return {"psa": psa(cd5, SerialBackend()), "sobol": sobol(cd5, SerialBackend())}


@pytest.mark.parametrize("workers", [2, 3])
def test_a_process_pool_gives_the_serial_results(cd5, serial, workers):
    assert_identical(psa(cd5, PoolBackend(workers)), serial["psa"])
    assert_identical(sobol(cd5, PoolBackend(workers)), serial["sobol"])


def test_a_dask_local_cluster_gives_the_serial_results(cd5, serial):
    backend = DaskBackend("local", workers=2, processes=False, connect_timeout=20)
    result = psa(cd5, backend)
    assert result.info.backend.startswith("Dask on a LocalCluster (2 workers)")
    assert_identical(result, serial["psa"])
    assert_identical(sobol(cd5, DaskBackend("local", workers=3, processes=False, connect_timeout=20)), serial["sobol"])


@pytest.mark.slow
def test_a_dask_cluster_of_worker_processes_gives_the_serial_results(cd5, serial):
    assert_identical(psa(cd5, DaskBackend("local", workers=2, processes=True, connect_timeout=30)), serial["psa"])


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_scheduler_is_one_clear_error_within_the_timeout(cd5):
    address = f"tcp://127.0.0.1:{closed_port()}"
    started = time.perf_counter()
    with pytest.raises(InputError) as error:
        psa(cd5, DaskBackend(address, connect_timeout=1))
    message = str(error.value)
    assert address in message and "cannot reach the Dask scheduler" in message and "\n" not in message
    assert time.perf_counter() - started < 15


def test_workers_do_not_apply_to_a_running_scheduler():
    with pytest.raises(InputError, match="--workers"):
        make_backend(workers=2, dask="tcp://127.0.0.1:8786")


def test_the_default_backend_uses_every_core_and_one_worker_is_serial(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 6)
    assert isinstance(make_backend(), PoolBackend) and make_backend().workers == 6
    assert isinstance(make_backend(workers=1), SerialBackend)
