"""Output folders replaced whole or not at all.

A command writes its outputs into a staging folder beside the output folder and, once every file is
written, swaps the two in one step (``renameat2(RENAME_EXCHANGE)`` on Linux; elsewhere two renames,
which the next run repairs if it is interrupted between them).  So the output folder always holds the
earlier result or the new one, never a mix, whatever stops the run: Ctrl-C, ``kill -9``, a full
disk.  A lock file beside the folder (:mod:`filelock`) refuses a second run into a folder a live run holds,
and the next run into a folder removes what an interrupted one left behind::

    with staged_folder(out) as folder:   # checks the place and takes the lock first
        ...simulate...                    # Ctrl-C here leaves out as it was
        write_tables(folder)              # files may be streamed into folder as they are made
    # here out holds the new files, all of them

The hidden names beside ``out`` are ``.cartsim-<hash of its name>.{lock,stage,old}``: short, so that
an output name as long as the file system allows still has room for them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import hashlib
import os
import shutil
import sys
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Iterable, Iterator

from sim.errors import OutputError
from sim.output.held_interrupts import interrupts_held

LINKED_SUFFIXES = (".csv", ".jsonl")  # files cartsim only ever replaces whole, so a hard link is a safe copy
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def hidden_path(out: Path, what: str) -> Path:
    """The hidden sibling of ``out`` for ``what`` ('lock', 'stage' or 'old')."""
    digest = hashlib.sha256(os.fsencode(out.name)).hexdigest()[:12]
    return out.parent / f".cartsim-{digest}.{what}"


def check_output_place(out: str | Path, option: str = "--out") -> Path:
    """Refuse, before anything runs, an output folder that cannot be made: under a file, not writable, a
    name too long for the file system, or a file where the folder should be.  Returns ``out`` absolute."""
    out = Path(os.path.abspath(out))
    if _exists(out) and not out.is_dir():
        raise OutputError(out, option, "exists and is not a folder")
    existing = out
    while not _exists(existing):
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(out, option, f"cannot be made: {existing} is a file, not a folder")
    name_max = _name_max(existing)
    for part in out.relative_to(existing).parts or (out.name,):
        if len(os.fsencode(part)) > name_max:
            raise OutputError(out, option, f"the name '{part[:40]}...' is longer than the file system allows "
                              f"({len(os.fsencode(part))} bytes, at most {name_max})")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(out, option, f"cannot write in {existing}: permission denied or a read-only file system")
    return out


def _exists(path: Path) -> bool:
    """Whether ``path`` exists, False for a name the system refuses (too long) rather than an error."""
    try:
        os.stat(path)
    except (OSError, ValueError):
        return False
    return True


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


@contextmanager
def folder_lock(out: str | Path, option: str = "--out") -> Iterator[None]:
    """Hold the lock of output folder ``out``; OutputError at once if a live run holds it."""
    out = check_output_place(out, option)
    made = make_parents(out.parent, option)
    path = hidden_path(out, "lock")
    try:
        lock = _locked(path, out, option)
    except BaseException:
        remove_empty_folders(made)
        raise
    try:
        yield
    finally:
        with suppress(OSError):  # removed while still held, so a run that locks next makes a new file
            path.unlink(missing_ok=True)
        lock.release()
        path.unlink(missing_ok=True)  # where an open file cannot be removed (Windows): after the release
        remove_empty_folders(made)  # the parents made for a folder that never came to be


class _Replaced(Exception):
    """The lock file locked is no longer the one at its path (the run that held it removed it)."""


def _locked(path: Path, out: Path, option: str):
    """The held :class:`filelock.FileLock` at ``path`` (flock on Unix, a Windows lock elsewhere)."""
    from filelock import FileLock, Timeout

    def same_file(handle: int) -> None:
        try:
            if os.stat(path).st_ino != os.fstat(handle).st_ino:
                raise _Replaced
        except FileNotFoundError:
            raise _Replaced from None

    while True:
        lock = FileLock(path, timeout=0, on_acquired=same_file)
        try:
            lock.acquire()
            return lock
        except Timeout:
            raise OutputError(out, option, "another cartsim run is writing this folder now: wait for it to "
                              "finish, or choose another output folder") from None
        except _Replaced:
            continue
        except OSError as err:
            raise OutputError(out, option, f"cannot write beside it: {err.strerror}") from None


def recover(out: Path) -> None:
    """Tidy what an interrupted run left beside ``out``: its staging folder, and the earlier result if the
    run stopped between the two renames of a swap (put back when ``out`` is missing)."""
    old, stage = hidden_path(out, "old"), hidden_path(out, "stage")
    if old.exists():
        if not out.exists():
            os.rename(old, out)
        else:
            shutil.rmtree(old, ignore_errors=True)
    if stage.exists():
        shutil.rmtree(stage, ignore_errors=True)


@contextmanager
def staged_folder(out: str | Path, replace: Iterable[str] | None = None, lock: bool = True,
                  option: str = "--out") -> Iterator[Path]:
    """A staging folder to write ``out``'s files into, swapped in whole when the block ends without error.

    Parameters
    ----------
    out : path
        The output folder (made, with its parents, if needed).
    replace : collection of names, optional
        The entries of ``out`` this command owns: the staging folder starts as a copy of ``out`` without
        them (tables hard-linked, not copied), so other entries, such as another command's files or
        subfolders, are kept, and the owned ones are exactly those written now.  Default (None): start
        empty, so that the new folder holds only the files written now.
    lock : bool
        Take ``out``'s lock (False when the caller already holds it, see :func:`folder_lock`).
    option : str
        The option that named ``out``, for messages.

    Raises
    ------
    OutputError
        The place cannot be written (checked before the block runs), a live run holds it, or writing
        failed (a full disk): then ``out`` is left as it was.
    """
    out = check_output_place(out, option)
    with folder_lock(out, option) if lock else _nothing():
        made = make_parents(out.parent, option)
        try:
            recover(out)
            stage = hidden_path(out, "stage")
            _start_stage(out, stage, replace, option)
        except BaseException:
            remove_empty_folders(made)
            raise
        try:
            yield stage
            _swap(stage, out)
        except OSError as err:
            _discard(stage, made)
            raise OutputError(out, "", f"cannot write the output folder: {err.strerror or err}; "
                              "the earlier result, if any, is left as it was") from None
        except BaseException:
            _discard(stage, made)
            raise


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _start_stage(out: Path, stage: Path, replace: Iterable[str] | None, option: str) -> None:
    try:
        if replace is not None and out.is_dir():
            owned = set(replace)
            shutil.copytree(out, stage, copy_function=_link_or_copy, symlinks=True,
                            ignore=lambda folder, names: {n for n in names if n.startswith(".cartsim-")}
                            | (owned & set(names) if Path(folder) == out else set()))
        else:
            stage.mkdir()
    except OSError as err:
        shutil.rmtree(stage, ignore_errors=True)
        raise OutputError(out, option, f"cannot write: {err.strerror or err}") from None
    except BaseException:  # an interrupt while the stage is being copied: no half-made stage is left behind
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _link_or_copy(source: str, target: str) -> None:
    if source.endswith(LINKED_SUFFIXES):
        try:
            os.link(source, target)
            return
        except OSError:
            pass
    shutil.copy2(source, target)


def make_parents(folder: Path, option: str = "", raw: bool = False) -> list[Path]:
    """Make ``folder`` and its missing parents; returns those made, deepest first.  A failure removes
    those made and raises OutputError naming ``option`` (the OSError itself when ``raw``)."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    try:
        for path in reversed(missing):
            path.mkdir(exist_ok=True)
    except OSError as err:
        remove_empty_folders(missing)
        if raw:
            raise
        raise OutputError(missing[0], option, f"cannot be made: {err.strerror or err}") from None
    return missing


def remove_empty_folders(folders: list[Path]) -> None:
    """Remove ``folders`` (deepest first) while they are empty; the first that is not stops it."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def _discard(stage: Path, made: list[Path]) -> None:
    shutil.rmtree(stage, ignore_errors=True)
    remove_empty_folders(made)


def _swap(stage: Path, out: Path) -> None:
    """Put ``stage`` in the place of ``out`` in one step where the system allows; Ctrl-C waits for it."""
    _sync_folder(stage)
    with interrupts_held(f"the output folder {out}"):
        if not out.exists():
            os.rename(stage, out)
        elif _exchange(stage, out):
            shutil.rmtree(stage, ignore_errors=True)  # now the earlier result
        else:
            old = hidden_path(out, "old")
            os.rename(out, old)
            os.rename(stage, out)
            shutil.rmtree(old, ignore_errors=True)
        _sync_folder(out.parent)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically with Linux's renameat2; False where that is not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _sync_folder(folder: Path) -> None:
    """Flush a folder's entries to disk (where the system supports it)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)
