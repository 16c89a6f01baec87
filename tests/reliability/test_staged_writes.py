"""Commands that write files, not folders (``new``, ``calibrate``): both files or neither, at every step.

Each test stops a command at every change it makes to the file system in turn (opening a file for
writing, a rename, a removal, a folder made: faulty.py's ``every_step`` hook) with Ctrl-C, a full disk
or ``kill -9``, and checks that the files are the old ones, whole, or (after an interrupt that came
while the swap was under way) the new ones, whole, as the message says.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import faulty  # noqa: E402
from cli_runs import in_process, one_line  # noqa: E402
from test_faults import ENV, FAULTY, ROOT, snapshot  # noqa: E402

from sim.errors import OutputError
from sim.output.staged_files import StagedFiles, recover_files, stage_path

MOVES = faulty.MOVES


@pytest.fixture
def every_step(monkeypatch):
    """``arm(kind, n)``: the fault at the n-th step of this process; ``arm("none", -1)`` only counts."""
    def arm(kind: str, after: int) -> None:
        import builtins

        monkeypatch.setattr(builtins, "open", builtins.open)
        monkeypatch.setattr(io, "open", io.open)
        for name in MOVES:
            monkeypatch.setattr(os, name, getattr(os, name))
        faulty.install(kind, after, every_step=True)
    yield arm
    monkeypatch.undo()


def hidden(folder: Path) -> list[str]:
    """What a stopped command could leave behind: stages, temporaries."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if p.name.startswith(".cartsim-") or p.name.endswith(".tmp") or ".toml." in p.name)


def steps(arm, command) -> int:
    """How many steps ``command()`` takes (run once, counted)."""
    arm("none", -1)
    command()
    return faulty.COUNTED[0]


def expect_old_or_new(result, before: dict, after: dict, folder: Path, fault: str) -> None:
    if result.returncode == 0:  # the fault hit the tidying of the old files, after the swap
        recover_files(folder)
        assert snapshot(folder) == after and hidden(folder) == []
        return
    line = one_line(result.stderr)
    assert result.returncode == (130 if fault == "sigint" else 2), result.stderr
    state = snapshot(folder)
    if "written whole" in line:  # the interrupt came during the swap: it finished, and says so
        assert state == after
    else:
        assert state == before, line
        assert "nothing was" in line or fault == "enospc", line
    assert hidden(folder) == []


# -- the mechanism ------------------------------------------------------------------------------------------

def make(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


OLD = {"params/a.toml": "old a", "seeds/a.toml": "old seeds", "params/a.posterior.csv": "old draws"}


def swap(root: Path) -> None:
    with StagedFiles(root, "the test files") as files:
        files.put(root / "params" / "a.toml", "new a")
        files.put(root / "seeds" / "a.toml", "new seeds")
        files.put(root / "more" / "b.toml", "new b")  # a new file in a new folder
        files.remove(root / "params" / "a.posterior.csv")


NEW = {"params/a.toml": "new a", "seeds/a.toml": "new seeds", "more/b.toml": "new b"}


def contents(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("fault", ["sigint", "enospc"])
def test_a_file_set_stopped_at_any_step_is_the_old_set_or_the_new_one(tmp_path, every_step, fault):
    make(tmp_path, OLD)
    total = steps(every_step, lambda: swap(tmp_path))
    assert contents(tmp_path) == NEW and total > 8
    for k in range(total):
        shutil.rmtree(tmp_path)
        tmp_path.mkdir()
        make(tmp_path, OLD)
        every_step(fault, k)
        try:
            swap(tmp_path)
            outcome = "done"
        except KeyboardInterrupt as err:
            outcome = "written" if getattr(err, "written", None) else "interrupted"
        except OutputError as err:
            outcome = "failed"
            assert "nothing was changed" in str(err) and str(tmp_path) in str(err)
        finally:
            every_step("none", -1)
        if outcome == "done":  # the fault hit the tidying of the old files, after the swap: the next command tidies
            recover_files(tmp_path)
        assert contents(tmp_path) == (NEW if outcome in ("written", "done") else OLD), (k, outcome)
        assert not stage_path(tmp_path).exists(), (k, outcome)
        assert not (tmp_path / "more").exists() or outcome in ("written", "done"), (k, outcome)


def test_a_swap_killed_part_way_is_undone_by_the_next_command(tmp_path):
    """kill -9 between two moves of the swap: the journal lets the next command put the old files back."""
    code = ("import sys; sys.path.insert(0, {tests!r}); import faulty; from pathlib import Path;"
            "from test_staged_writes import swap; faulty.install('kill', {k}, every_step=True); swap(Path({root!r}))")
    for k in range(4, 12):  # from the journal's writing to the last move
        shutil.rmtree(tmp_path)
        tmp_path.mkdir()
        make(tmp_path, OLD)
        killed = subprocess.run([sys.executable, "-c", code.format(tests=str(Path(__file__).parent), k=k,
                                                                   root=str(tmp_path))], env=ENV, capture_output=True)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        recover_files(tmp_path)
        assert contents(tmp_path) in (OLD, NEW), k  # OLD unless it was killed after the last move
        assert not stage_path(tmp_path).exists()


# -- cartsim new --------------------------------------------------------------------------------------------

SAMPLE = "sample"  # a few steps (the first, the middle, near the end) in the default suite; every step with -m slow


@pytest.mark.parametrize("fault,which", [("sigint", SAMPLE), ("enospc", SAMPLE),
                                         pytest.param("sigint", "all", marks=pytest.mark.slow),
                                         pytest.param("enospc", "all", marks=pytest.mark.slow)])
def test_new_force_stopped_at_any_step_keeps_the_old_pair_whole(tmp_path, every_step, fault, which):
    assert in_process("new", "mine", "--from", "cd5_tall", cwd=tmp_path).returncode == 0
    before = snapshot(tmp_path)
    reference = tmp_path.parent / f"{tmp_path.name}_reference"
    reference.mkdir()
    assert in_process("new", "mine", "--from", "cll1_aml", cwd=reference).returncode == 0
    after = snapshot(reference)
    total = steps(every_step, lambda: in_process("new", "mine", "--from", "cll1_aml", "--force", cwd=reference))
    assert total > 8
    for k in range(total) if which == "all" else (0, total // 2, total - 3):
        every_step(fault, k)
        result = in_process("new", "mine", "--from", "cll1_aml", "--force", cwd=tmp_path)
        every_step("none", -1)
        expect_old_or_new(result, before, after, tmp_path, fault)
        if snapshot(tmp_path) == after:  # put the old pair back for the next step
            shutil.rmtree(tmp_path / "params"), shutil.rmtree(tmp_path / "seeds")
            assert in_process("new", "mine", "--from", "cd5_tall", cwd=tmp_path).returncode == 0


@pytest.mark.parametrize("which", [SAMPLE, pytest.param("all", marks=pytest.mark.slow)])
def test_new_stopped_at_any_step_writes_both_files_or_nothing(tmp_path, every_step, which):
    total = steps(every_step, lambda: in_process("new", "mine", cwd=tmp_path))
    whole = sorted(snapshot(tmp_path))  # the pair, and the predicted late levels' draws written with it
    assert {"params/mine.toml", "seeds/mine.toml"} <= set(whole)
    shutil.rmtree(tmp_path / "params"), shutil.rmtree(tmp_path / "seeds")
    for k in range(total) if which == "all" else (0, total // 2, total - 6):
        every_step("enospc", k)
        result = in_process("new", "mine", cwd=tmp_path)
        every_step("none", -1)
        if result.returncode == 0:  # the fault hit the tidying after the swap: every file is there, whole
            recover_files(tmp_path)
            assert sorted(snapshot(tmp_path)) == whole, k
            shutil.rmtree(tmp_path / "params"), shutil.rmtree(tmp_path / "seeds")
            continue
        assert result.returncode == 2 and "No space left on device" in one_line(result.stderr)
        assert list(tmp_path.iterdir()) == [], k  # not a file, not an empty folder


def test_new_into_a_read_only_params_folder_changes_nothing(tmp_path):
    assert in_process("new", "mine", cwd=tmp_path).returncode == 0
    before = snapshot(tmp_path)
    (tmp_path / "params").chmod(0o555)
    try:
        if os.access(tmp_path / "params", os.W_OK):
            pytest.skip("running as a user whom permissions do not stop")
        result = in_process("new", "mine", "--from", "cll1_aml", "--force", cwd=tmp_path)
    finally:
        (tmp_path / "params").chmod(0o755)
    assert result.returncode == 2 and "nothing was changed" in one_line(result.stderr)
    assert snapshot(tmp_path) == before and hidden(tmp_path) == []


@pytest.mark.parametrize("name", [".", "..", "...", "a" * 101, "a/b", "-x", "a b", "é"])
def test_new_refuses_a_name_trial_name_refuses_before_writing(tmp_path, name):
    result = in_process("new", "--", name, cwd=tmp_path) if name.startswith("-") else in_process("new", name, cwd=tmp_path)
    if name == "-x":  # a valid name (letters, digits, '_', '.', '-'), written after '--'
        assert result.returncode == 0, result.stderr
        return
    assert result.returncode == 2
    assert "NAME" in one_line(result.stderr) and str(tmp_path) not in result.stderr
    assert list(tmp_path.iterdir()) == []


# -- cartsim calibrate --------------------------------------------------------------------------------------

@pytest.fixture
def calibrated(tmp_path) -> Path:
    """A copy of a shipped trial with its posterior draws: the old pair."""
    (tmp_path / "params").mkdir()
    (tmp_path / "seeds").mkdir()
    shutil.copy(ROOT / "seeds" / "cll1_aml.toml", tmp_path / "seeds")
    for path in (ROOT / "params").glob("cll1_aml.*"):
        shutil.copy(path, tmp_path / "params")
    return tmp_path / "params" / "cll1_aml.toml"


CALIBRATE = ("--trials", "10", "--draws", "10")


def test_ctrl_c_during_joint_sampling_writes_nothing(calibrated, monkeypatch):
    import sim.analyses.calibration.joint as joint

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(joint, "joint_posterior", interrupted)
    before = snapshot(calibrated.parent)
    result = in_process("calibrate", calibrated, *CALIBRATE, cwd=calibrated.parent)
    assert result.returncode == 130 and "nothing was written" in one_line(result.stderr)
    assert snapshot(calibrated.parent) == before and hidden(calibrated.parent) == []


def test_calibrate_writes_the_params_file_and_its_draws_together(calibrated, every_step):
    """The write of a finished calibration, stopped at each of its steps (the fit itself runs once)."""
    from sim.analyses.calibrated_params import write_calibration
    from sim.inputs.posterior_draws import draws_paths

    folder = calibrated.parent
    before = snapshot(folder)
    csv_path, json_path = draws_paths(calibrated)
    draws = {csv_path: "draw,late.relapse_hazard\n0,0.001\n", json_path: "{}\n"}
    total = steps(every_step, lambda: write_calibration(calibrated, "new text", draws))
    after = snapshot(folder)
    for k in range(total):
        for name, digest in before.items():  # the old pair back
            shutil.copy(ROOT / "params" / name, folder / name)
        assert snapshot(folder) == before
        every_step("enospc", k)
        try:
            write_calibration(calibrated, "new text", draws)
            written = True  # the fault hit the tidying after the swap
        except OutputError as err:
            assert "nothing was changed" in str(err)
            written = False
        every_step("none", -1)
        recover_files(folder)
        assert snapshot(folder) == (after if written else before) and hidden(folder) == [], k
    assert after != before


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["sigint", "enospc", "kill"])
def test_calibrate_stopped_at_every_step_keeps_the_old_pair_whole(calibrated, fault):
    """The whole command, in a subprocess, stopped at each step (a minute or two per fault)."""
    folder = calibrated.parent
    before = snapshot(folder)
    for k in range(40):
        result = subprocess.run([sys.executable, str(FAULTY), f"{fault}+", str(k), "calibrate", str(calibrated),
                                 *CALIBRATE], cwd=folder, env=ENV, capture_output=True, text=True, timeout=300)
        if result.returncode == 0:
            break  # past the last step: the command finished
        if fault == "kill":
            assert result.returncode == -signal.SIGKILL
            recover_files(folder)
            state = snapshot(folder)
            assert state == before or state != before and hidden(folder) == [], k
        else:
            line = one_line(result.stderr)
            assert ("written whole" in line) or snapshot(folder) == before, (k, line)
        assert hidden(folder) == [], k
        for path in (ROOT / "params").glob("cll1_aml.*"):
            shutil.copy(path, folder)
    else:
        pytest.fail("calibrate took more than 40 steps")
