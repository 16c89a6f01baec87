"""Fault injection: whatever stops a run, its output folder holds the earlier result or the new one, whole.

Each fault runs ``cartsim`` in a subprocess through ``faulty.py``, which kills the process (``kill -9``),
sends it Ctrl-C, or fails a write as a full disk does, at the N-th file it opens for writing.  The
folder is compared file by file with the earlier result; then a normal run must find and tidy what
the stopped one left beside the folder.
"""

from __future__ import annotations

import builtins
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.output.atomic_folder import folder_lock

sys.path.insert(0, str(Path(__file__).parent))
import faulty  # noqa: E402
from cli_runs import in_process, one_line  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PARAMS = ROOT / "params" / "cd5_tall.toml"
SCENARIOS = [ROOT / "params" / "scenarios" / f"cll1_dose_{x}.toml" for x in "ab"]
FAULTY = Path(__file__).with_name("faulty.py")
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.fixture
def fault(monkeypatch):
    """``fault(kind, n)`` arms faulty.py's hook in this process (Ctrl-C or a full disk at the n-th write)."""
    def arm(kind: str, after: int) -> None:
        monkeypatch.setattr(builtins, "open", builtins.open)
        monkeypatch.setattr(io, "open", io.open)
        faulty.install(kind, after)
    return arm


def cartsim(*args: str, cwd: Path, fault: tuple[str, int] | None = None) -> subprocess.CompletedProcess:
    prefix = [str(FAULTY), fault[0], str(fault[1])] if fault else ["-m", "sim"]
    return subprocess.run([sys.executable, *prefix, *map(str, args)], cwd=cwd, env=ENV, capture_output=True,
                          text=True, timeout=300)


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` by relative path, with its SHA-256 (figures included)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(".cartsim-") or p.name.endswith(".tmp"))


@pytest.fixture(scope="module")
def earlier(tmp_path_factory) -> Path:
    """A finished run (seed 1, 2 trials), copied into each test that overwrites it."""
    folder = tmp_path_factory.mktemp("earlier")
    result = in_process("run", PARAMS, "--trials", "2", "--seed", "1", "--out", folder / "out", cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder / "out"


def copy_of(earlier: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    for path in earlier.iterdir():
        (out / path.name).write_bytes(path.read_bytes())
    return out


@pytest.mark.parametrize("after", [1, 6])
def test_kill_9_while_writing_leaves_the_earlier_result_whole(earlier, tmp_path, after):
    out = copy_of(earlier, tmp_path)
    before = snapshot(out)
    killed = cartsim("run", PARAMS, "--trials", "3", "--seed", "2", "--out", out, cwd=tmp_path, fault=("kill", after))
    assert killed.returncode == -signal.SIGKILL, (killed.returncode, killed.stderr)
    assert snapshot(out) == before  # not one file of the new run, not one missing
    assert not any(p.name.endswith(".tmp") for p in out.rglob("*"))
    again = in_process("run", PARAMS, "--trials", "3", "--seed", "2", "--out", out, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert json.loads((out / "summary.json").read_text())["manifest"]["seed"] == 2
    assert leftovers(tmp_path) == [] and leftovers(out) == []


@pytest.mark.parametrize("command", ["run", "compare", "validate"])
def test_ctrl_c_while_writing_is_one_line_exit_130_and_nothing_half_written(earlier, tmp_path, command, fault):
    out = copy_of(earlier, tmp_path)
    before = snapshot(out)
    args = {"run": ["run", PARAMS, "--trials", "3"], "validate": ["validate", PARAMS, "--trials", "40"],
            "compare": ["compare", *SCENARIOS, "--trials", "2"]}[command]
    fault("sigint", 2)
    stopped = in_process(*args, "--out", out, cwd=tmp_path)
    assert stopped.returncode == 130, stopped.stderr
    assert "interrupted" in one_line(stopped.stderr)
    assert snapshot(out) == before
    assert leftovers(tmp_path) == []


def test_ctrl_c_during_the_simulation(tmp_path):
    """A real SIGINT from outside while the trials run: exit 130, one line, no folder made."""
    process = subprocess.Popen([sys.executable, "-m", "sim", "run", str(PARAMS), "--trials", "100000", "--out",
                                str(tmp_path / "out")], cwd=tmp_path, env=ENV, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not leftovers(tmp_path) and time.monotonic() < deadline:  # the staging folder: the run has begun
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted" in one_line(stderr)
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


@pytest.mark.parametrize("after", [0, 3, 7])
def test_full_disk_simulated_is_one_line_and_keeps_the_earlier_result(earlier, tmp_path, fault, after):
    out = copy_of(earlier, tmp_path)
    before = snapshot(out)
    fault("enospc", after)
    full = in_process("run", PARAMS, "--trials", "3", "--out", out, cwd=tmp_path)
    assert full.returncode == 2
    assert "No space left on device" in one_line(full.stderr)
    assert snapshot(out) == before and leftovers(tmp_path) == []


@pytest.fixture
def tiny_disk(tmp_path):
    """A 1 MiB tmpfs, where this machine lets the tests mount one (as root on Linux)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root on Linux (the simulated full disk above covers the logic)")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


def test_full_disk_for_real(tiny_disk):
    out = tiny_disk / "out"
    first = in_process("run", PARAMS, "--trials", "2", "--out", out, cwd=tiny_disk)
    assert first.returncode == 0, first.stderr
    before = snapshot(out)
    full = in_process("run", PARAMS, "--trials", "300", "--out", out, cwd=tiny_disk)
    assert full.returncode == 2, full.stderr
    assert "No space left on device" in one_line(full.stderr)
    assert snapshot(out) == before and leftovers(tiny_disk) == []


def test_a_second_run_into_a_folder_a_live_run_holds_is_refused(earlier, tmp_path):
    out = copy_of(earlier, tmp_path)
    before = snapshot(out)
    with folder_lock(out):  # as a live run holds it
        second = in_process("run", PARAMS, "--trials", "2", "--out", out, cwd=tmp_path)
        assert second.returncode == 2
        assert "another cartsim run is writing this folder" in one_line(second.stderr)
        assert snapshot(out) == before
    assert leftovers(tmp_path) == []


def test_two_runs_started_together_leave_one_whole_result(tmp_path):
    out = tmp_path / "out"
    runs = [subprocess.Popen([sys.executable, "-m", "sim", "run", str(PARAMS), "--trials", "20", "--seed", str(seed),
                              "--out", str(out)], cwd=tmp_path, env=ENV, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for seed in (1, 2)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in runs]
    assert all(code in (0, 2) for code, _ in results), results
    winners = [seed for seed, (code, _) in zip((1, 2), results) if code == 0]
    assert winners, results
    for code, stderr in results:
        if code == 2:
            assert "another cartsim run is writing this folder" in one_line(stderr)
    seed = json.loads((out / "summary.json").read_text())["manifest"]["seed"]
    assert seed in winners
    reference = tmp_path / "reference"
    assert in_process("run", PARAMS, "--trials", "20", "--seed", seed, "--out", reference, cwd=tmp_path).returncode == 0
    mine, theirs = snapshot(out), snapshot(reference)
    for name in ("patients.csv", "trials.csv", "events.csv", "facilities.csv", "summary.csv"):
        assert mine[name] == theirs[name], name  # every table from the run the manifest names


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the workers through /proc (Linux)")
def test_pool_workers_exit_when_their_parent_is_killed(tmp_path):
    parent = subprocess.Popen([sys.executable, "-m", "sim", "sensitivity", "psa", str(PARAMS), "--draws", "2000",
                               "--inner", "50", "--workers", "2", "--out", str(tmp_path / "psa")], cwd=tmp_path, env=ENV,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline, workers = time.monotonic() + 60, []
    while len(workers) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
        workers = _children(parent.pid)
    assert len(workers) >= 2, "the pool did not start"
    time.sleep(0.5)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = [w for w in workers if _alive(w)]
    for w in alive:
        os.kill(w, signal.SIGKILL)
    assert not alive, "pool workers outlived their parent"
