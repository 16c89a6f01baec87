"""A sensitivity run that fails in an evaluation leaves no output folder behind, on every backend."""

from __future__ import annotations

import pytest

from sim.errors import InputError
from sim.sensitivity import DaskBackend, FunctionModel, PoolBackend, SerialBackend, run_psa

PATH = "crs.incidence"
LIMIT = 0.5


def refuse_high_incidence(values, rng):
    """A model whose domain ends at an incidence of LIMIT, so that about half of the draws fall outside it."""
    if values[PATH] > LIMIT:
        raise InputError("model.toml", PATH, f"must be at most {LIMIT}, got {values[PATH]:.3f}")
    return {"y": values[PATH]}


BACKENDS = {
    "serial": lambda: SerialBackend(),
    "pool": lambda: PoolBackend(2),
    "dask": lambda: DaskBackend("local", workers=2, processes=False, connect_timeout=30),
}


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_a_failed_evaluation_leaves_no_folder(cd5, tmp_path, backend):
    if backend == "dask":
        pytest.importorskip("distributed")
    model = FunctionModel(refuse_high_incidence, ("y",), params=cd5, seed=3, draw_paths=(PATH,))
    out = tmp_path / "psa"
    with pytest.raises(InputError, match=f"must be at most {LIMIT}"):
        run_psa(cd5, draws=64, model=model, backend=BACKENDS[backend](), out=out)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow  # a LocalCluster of worker processes starts in about 6 s
def test_a_failed_evaluation_on_a_local_dask_cluster_logs_no_traceback(cd5, tmp_path, capfd):
    """The error reaches the caller as it was raised; the cluster's workers do not log it again with a traceback."""
    pytest.importorskip("distributed")
    model = FunctionModel(refuse_high_incidence, ("y",), params=cd5, seed=3, draw_paths=(PATH,))
    cluster = DaskBackend("local", workers=1, processes=True, connect_timeout=60)  # as the command line starts it
    with pytest.raises(InputError, match=f"must be at most {LIMIT}"):
        run_psa(cd5, draws=64, model=model, backend=cluster, out=tmp_path / "psa")
    logged = capfd.readouterr().err
    assert "Traceback" not in logged and "Compute Failed" not in logged, logged
