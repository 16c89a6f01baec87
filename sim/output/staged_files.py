"""Several files replaced together, or none of them: the rule for commands that write files, not folders.

``cartsim new`` writes a params file and a seeds file; ``cartsim calibrate`` rewrites a params file
and its posterior draws.  Each pair must change together: a params file whose draws were deleted, or
a seeds file beside an old params file, is a broken trial.  So every file is first written whole into
a staging folder under the files' common folder ``root`` (mirroring their places, so a staged params
file finds its staged seeds file by the same relative path), checked there, and only then moved into
place, each over its old file, with Ctrl-C held back during the moves
(:mod:`sim.output.held_interrupts`)::

    with StagedFiles(root) as files:
        staged = files.put(params_path, params_text)   # written to the stage now
        load_params(staged)                            # check it where it lies
        files.remove(stale_path)                       # removed with the swap
    # here every file is in place; an exception or Ctrl-C above left every old file as it was

The old files are moved aside into the stage before the new ones move in, and a journal in the stage
lists what the swap does.  If the swap fails (a full disk, no permission), the old files are moved
back.  If the process is killed during it (``kill -9``, a power cut), the next command that writes
the same files finds the journal and moves the old files back before it starts.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from sim.errors import OutputError
from sim.output.atomic_folder import make_parents, remove_empty_folders
from sim.output.held_interrupts import interrupts_held

JOURNAL = "journal.json"
OLD = "old"
NEW = "new"


class StagedFiles:
    """Files under ``root`` staged whole, then swapped into place together on a clean exit.

    Parameters
    ----------
    root : path
        A folder that holds every file of the set (at any depth); made, with its parents, if needed.
    what : str
        What the files are, for messages (e.g. "the params and seeds files").
    """

    def __init__(self, root: str | Path, what: str = "the files") -> None:
        self.root = Path(os.path.abspath(root))
        self.what = what
        self._texts: dict[Path, str | None] = {}
        self._stage: Path | None = None
        self._made: list[Path] = []
        self._swap_made: list[Path] = []  # folders the swap made for new files, removed again if it fails

    # -- staging ---------------------------------------------------------------------------------------------
    def __enter__(self) -> "StagedFiles":
        self._made = make_parents(self.root)
        return self

    def put(self, target: str | Path, text: str) -> Path:
        """Write ``text`` as the new ``target`` into the stage now; returns where it lies there."""
        target = self._inside(target)
        staged = self._staged(target, NEW)
        try:
            staged.parent.mkdir(parents=True, exist_ok=True)
            with open(staged, "w", encoding="utf-8", newline="") as stream:
                stream.write(text)
        except OSError as err:
            raise OutputError(target.parent, "", f"cannot write {self.what}: {err.strerror or err}"
                              f"{_where(err)}; nothing was changed") from None
        self._texts[target] = text
        return staged

    def remove(self, target: str | Path) -> None:
        """Remove ``target`` (if it exists) with the swap."""
        self._texts[self._inside(target)] = None

    def shown(self, text: str) -> str:
        """``text`` (a message) with every staged path shown as the place its file is going to."""
        return text if self._stage is None else text.replace(str(self._stage / NEW), str(self.root))

    def staged(self, target: str | Path) -> Path:
        """Where the new ``target`` lies in the stage (after :meth:`put`)."""
        return self._staged(self._inside(target), NEW)

    def __exit__(self, kind, value, traceback) -> None:
        try:
            if kind is None:
                self._commit()
        finally:
            if self._stage is not None:
                _discard(self._stage)
            if kind is not None or not self._texts:
                remove_empty_folders(self._made)

    # -- the swap --------------------------------------------------------------------------------------------
    def _commit(self) -> None:
        if not self._texts:
            return
        plan = [(target, text is not None, target.exists()) for target, text in self._texts.items()]
        done: list[tuple[Path, bool, bool]] = []
        with interrupts_held(f"{self.what} in {self.root}"):
            try:
                _write_journal(self._stage, self.root, plan)
                for step in plan:
                    done.append(step)  # before the step: one that fails half way is undone too
                    self._swap_one(*step)
                (self._stage / JOURNAL).unlink()
                _discard(self._stage)  # the old files: still while the interrupt is held, so it says all was written
                self._stage = None
            except BaseException as err:  # any failure part way: every old file back in its place
                if self._stage is None:  # the swap had finished: only the tidying failed
                    raise
                _roll_back(self._stage, self.root, done)
                (self._stage / JOURNAL).unlink(missing_ok=True)
                remove_empty_folders(self._swap_made)
                if isinstance(err, OSError):
                    raise OutputError(self.root, "", f"cannot write {self.what}: {err.strerror or err}"
                                      f"{_where(err)}; nothing was changed") from None
                raise

    def _swap_one(self, target: Path, writes: bool, existed: bool) -> None:
        if existed:
            backup = self._staged(target, OLD)
            backup.parent.mkdir(parents=True, exist_ok=True)
            os.replace(target, backup)
        if writes:
            self._swap_made += make_parents(target.parent, raw=True)
            os.chmod(self._staged(target, NEW), 0o666 & ~_umask())
            os.replace(self._staged(target, NEW), target)

    # -- places ----------------------------------------------------------------------------------------------
    def _inside(self, target: str | Path) -> Path:
        target = Path(os.path.abspath(target))
        if self.root not in target.parents:
            raise ValueError(f"{target} is not under {self.root}")
        if self._stage is None:
            self._stage = _open_stage(self.root)
        return target

    def _staged(self, target: Path, kind: str) -> Path:
        return self._stage / kind / target.relative_to(self.root)


def stage_path(root: Path) -> Path:
    """The staging folder of file sets under ``root`` (one at a time; see :func:`recover_files`)."""
    return Path(root) / ".cartsim-files.stage"


def _open_stage(root: Path) -> Path:
    """The stage, after undoing what a killed swap left (see :func:`recover_files`)."""
    recover_files(root)
    stage = stage_path(root)
    try:
        stage.mkdir()
    except FileExistsError:
        raise OutputError(root, "", "another cartsim command is writing files here now: wait for it to finish") from None
    except OSError as err:
        raise OutputError(root, "", f"cannot write here: {err.strerror or err}; nothing was changed") from None
    try:
        with open(stage / "pid", "w", encoding="utf-8") as stream:
            stream.write(str(os.getpid()))
    except BaseException as err:
        _discard(stage)
        if isinstance(err, OSError):
            raise OutputError(root, "", f"cannot write here: {err.strerror or err}; nothing was changed") from None
        raise
    return stage


def recover_files(root: str | Path) -> None:
    """Put back the old files of a swap under ``root`` that was killed part way (its journal says which),
    and remove the stage.  A stage without a journal was never swapped: it is only removed."""
    stage = stage_path(Path(os.path.abspath(root)))
    journal = stage / JOURNAL
    if journal.is_file():
        try:
            plan = json.loads(journal.read_text(encoding="utf-8"))["plan"]
        except (OSError, ValueError, KeyError, TypeError):
            plan = []
        steps = [(Path(root) / step["file"], bool(step["writes"]), bool(step["existed"])) for step in plan]
        _roll_back(stage, Path(root), steps)
    if stage.exists() and _stale(stage):
        shutil.rmtree(stage, ignore_errors=True)


def _stale(stage: Path) -> bool:
    """Whether the stage was left by a process that is gone (its owner's pid, written first, is not alive)."""
    try:
        pid = int((stage / "pid").read_text())
    except (OSError, ValueError):
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return pid == os.getpid()


def _write_journal(stage: Path, root: Path, plan: list[tuple[Path, bool, bool]]) -> None:
    record = {"plan": [{"file": str(target.relative_to(root)), "writes": writes, "existed": existed}
                       for target, writes, existed in plan]}
    with open(stage / JOURNAL, "w", encoding="utf-8") as stream:
        stream.write(json.dumps(record))
        stream.flush()
        os.fsync(stream.fileno())


def _roll_back(stage: Path, root: Path, steps: list[tuple[Path, bool, bool]]) -> None:
    """Undo swap steps: each old file back in its place, each new file where none was removed."""
    for target, writes, existed in reversed(steps):
        relative = target.relative_to(root)
        if existed and (stage / OLD / relative).exists():
            os.replace(stage / OLD / relative, target)
        elif not existed and writes and not (stage / NEW / relative).exists():  # the new file had moved in
            target.unlink(missing_ok=True)


def _discard(stage: Path) -> None:
    """Remove the stage, whole even if Ctrl-C comes while it is being removed."""
    try:
        shutil.rmtree(stage, ignore_errors=True)
    except KeyboardInterrupt:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _where(err: OSError) -> str:
    return f" ({err.filename})" if err.filename else ""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
