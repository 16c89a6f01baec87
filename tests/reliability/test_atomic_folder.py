"""The staged output folder: replaced whole or not at all, locked, its place checked first."""

from __future__ import annotations

import errno
import os
import pickle
import subprocess
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from sim.errors import InputError, OutputError, printable
from sim.output.atomic_folder import check_output_place, folder_lock, hidden_path, recover, staged_folder


def make(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


def contents(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def hidden(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def test_the_new_files_replace_the_old_folder_whole(tmp_path):
    out = tmp_path / "out"
    make(out, {"a.csv": "old a", "b.csv": "old b", "figures/x.png": "old x"})
    with staged_folder(out) as folder:
        assert folder != out and folder.parent == out.parent
        assert contents(out) == {"a.csv": "old a", "b.csv": "old b", "figures/x.png": "old x"}  # not yet
        make(folder, {"a.csv": "new a"})
    assert contents(out) == {"a.csv": "new a"}
    assert hidden(tmp_path) == []


def test_a_failure_inside_leaves_the_old_folder_as_it_was(tmp_path):
    out = tmp_path / "out"
    make(out, {"a.csv": "old a"})
    with pytest.raises(RuntimeError):
        with staged_folder(out) as folder:
            make(folder, {"a.csv": "new a", "b.csv": "new b"})
            raise RuntimeError("stopped between files")
    assert contents(out) == {"a.csv": "old a"}
    assert hidden(tmp_path) == []


def test_a_full_disk_is_an_output_error_and_the_old_folder_stays(tmp_path):
    out = tmp_path / "out"
    make(out, {"a.csv": "old a"})
    with pytest.raises(OutputError, match="No space left on device") as info:
        with staged_folder(out) as folder:
            make(folder, {"a.csv": "new a"})
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert "\n" not in str(info.value)
    assert contents(out) == {"a.csv": "old a"}
    assert hidden(tmp_path) == []


def test_a_new_folder_and_its_parents_are_not_left_behind_on_failure(tmp_path):
    out = tmp_path / "a" / "b" / "out"
    with pytest.raises(KeyboardInterrupt):
        with staged_folder(out):
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_replace_keeps_what_the_command_does_not_own(tmp_path):
    out = tmp_path / "out"
    make(out, {"summary.json": "old", "figures/x.png": "old x", "validation.csv": "theirs",
               "scenario/summary.json": "a subfolder"})
    with staged_folder(out, replace=("summary.json", "figures")) as folder:
        make(folder, {"summary.json": "new"})
    assert contents(out) == {"summary.json": "new", "validation.csv": "theirs", "scenario/summary.json": "a subfolder"}


def test_replace_links_tables_without_sharing_their_changes(tmp_path):
    out = tmp_path / "out"
    make(out, {"patients.csv": "old"})
    with pytest.raises(RuntimeError):
        with staged_folder(out, replace=()) as folder:
            (folder / "patients.csv").unlink()  # as every cartsim writer does: a new file, never one changed in place
            make(folder, {"patients.csv": "new"})
            raise RuntimeError
    assert contents(out) == {"patients.csv": "old"}


def test_leftovers_of_an_interrupted_run_are_tidied_by_the_next(tmp_path):
    out = tmp_path / "out"
    make(hidden_path(out, "stage"), {"a.csv": "half-written"})
    make(hidden_path(out, "old"), {"a.csv": "the earlier result"})  # stopped between the two renames of a swap
    recover(out)
    assert contents(out) == {"a.csv": "the earlier result"}
    assert hidden(tmp_path) == []
    make(hidden_path(out, "old"), {"a.csv": "older"})
    with staged_folder(out) as folder:
        make(folder, {"a.csv": "new"})
    assert contents(out) == {"a.csv": "new"} and hidden(tmp_path) == []


def test_a_folder_a_live_run_holds_is_refused(tmp_path):
    out = tmp_path / "out"
    make(out, {"a.csv": "old"})
    with folder_lock(out):
        with pytest.raises(OutputError, match="another cartsim run is writing this folder"):
            with staged_folder(out):
                pytest.fail("entered a locked folder")
    assert contents(out) == {"a.csv": "old"}
    with staged_folder(out) as folder:  # free again once the lock is let go
        make(folder, {"a.csv": "new"})
    assert contents(out) == {"a.csv": "new"}


@pytest.mark.parametrize("where, problem", [
    ("file/out", "is a file, not a folder"),
    ("file", "exists and is not a folder"),
    ("x" * 300, "longer than the file system allows"),
    ("deeper/" + "y" * 300 + "/out", "longer than the file system allows"),
])
def test_output_places_that_cannot_be_written_are_refused_first(tmp_path, where, problem):
    (tmp_path / "file").write_text("a file")
    with pytest.raises(OutputError, match=problem) as info:
        check_output_place(tmp_path / where)
    assert info.value.key == "--out"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_a_read_only_place_is_refused(tmp_path):
    mount = tmp_path / "ro"
    mount.mkdir()
    if os.geteuid() != 0:
        mount.chmod(0o555)
    elif subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(mount)],
                        capture_output=True).returncode != 0:
        pytest.skip("as root, a read-only place needs a read-only mount, and mounting is not allowed here")
    try:
        with pytest.raises(OutputError, match="read-only|permission denied"):
            check_output_place(mount / "out")
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", str(mount)], check=False)


def test_input_errors_cross_process_boundaries_intact():
    err = InputError("params/x.toml", "crs.incidence.value", "a probability must be in [0, 1], got 1.5")
    copy = pickle.loads(pickle.dumps(err))
    assert (str(copy), copy.source, copy.key, copy.problem) == (str(err), err.source, err.key, err.problem)
    with ProcessPoolExecutor(1) as pool:
        with pytest.raises(InputError) as info:
            pool.submit(_raise, err).result()
    assert str(info.value) == str(err)


def _raise(err: Exception) -> None:
    raise err


def test_messages_never_carry_control_characters():
    err = InputError("a\nb.toml", "crs.\x1b[31mred", "got '\x07'")
    assert printable(str(err)) == str(err)
    assert "\n" not in str(err) and "\x1b" not in str(err) and "\x07" not in str(err)
    assert "\\x1b[31mred" in str(err)
