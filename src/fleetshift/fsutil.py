"""File-system helpers of the journal: atomic writes, folder fsyncs, what is at a path now, temp-file naming,
folders a write creates and removes, a content-addressed blob store, and scratch folders a killed process leaves
to the next one to remove."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath

from fleetshift.textio import read_file

ABSENT = "absent"  # the "hash" of a missing file
NOT_A_FILE = "not-a-file"  # the "hash" of a link, folder or other non-regular file


def _nothing() -> None:
    pass


def sha(data: bytes) -> str:
    """The SHA-256 hex digest of `data`."""
    return hashlib.sha256(data).hexdigest()


def _umask() -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


CREATE_MODE = 0o666 & ~_umask()  # mode bits of a newly created file, as open() would give it


def fsync_dir(path: Path) -> None:
    """Make the entries of folder `path` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, mode: int, tmp: Path, step: Callable[[], None] = _nothing,
                 sync_dir: bool = True) -> None:
    """Write `data` to `path` through `tmp` in the same directory: write, chmod, fsync, rename, fsync dir.

    The owner of a file being replaced is kept where permissions allow. `step` is called once the temp file
    is durable and again once it has replaced `path`. With `sync_dir` False the caller fsyncs the folder itself
    (once for several files) before it relies on the rename."""
    _durable_tmp(path, data, mode, tmp)
    step()
    os.replace(tmp, path)
    step()
    if sync_dir:
        fsync_dir(path.parent)


def _durable_tmp(path: Path, data: bytes, mode: int, tmp: Path) -> None:
    """The first half of `atomic_write`: `data` in `tmp` with the mode (and owner) `path` will have, fsynced."""
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # a (read-only) leftover of a crashed attempt
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fchmod(fd, mode)
        with contextlib.suppress(OSError):
            st = os.lstat(path)
            if (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
                os.fchown(fd, st.st_uid, st.st_gid)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    os.close(fd)


def atomic_write_many(items: list[tuple[Path, bytes, int, Path]], step: Callable[[], None] = _nothing) -> None:
    """`atomic_write` of several files (path, data, mode, temp file) without the folder fsyncs (the caller makes
    them): every temp file is written and fsynced first, side by side (the disk takes the fsyncs together, not
    one after the other), then each replaces its path in order, with `step` called around each replace as
    `atomic_write` calls it. When any temp file cannot be made, none replaces its path, the temp files are
    removed and the error is raised."""
    if len(items) < 2:
        for path, data, mode, tmp in items:
            atomic_write(path, data, mode, tmp, step, sync_dir=False)
        return
    errors: list[BaseException | None] = [None] * len(items)

    def prepare(i: int) -> None:
        path, data, mode, tmp = items[i]
        try:
            _durable_tmp(path, data, mode, tmp)
        except BaseException as exc:  # raised in the caller's thread
            errors[i] = exc

    threads = [threading.Thread(target=prepare, args=(i,), name="fleetshift-fsync") for i in range(1, len(items))]
    for t in threads:
        t.start()
    prepare(0)
    for t in threads:
        t.join()
    failed = next((e for e in errors if e is not None), None)
    if failed is not None:
        for (_, _, _, tmp), error in zip(items, errors, strict=True):
            if error is None:
                with contextlib.suppress(OSError):
                    tmp.unlink()
        raise failed
    for path, _, _, tmp in items:
        step()
        os.replace(tmp, path)
        step()


def replace_file(path: Path, data: bytes | str) -> None:
    """Write fleetshift's own bookkeeping files (records, caches, reports) atomically: readers never see half."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    atomic_write(
        path, data, CREATE_MODE, path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    )


def replace_files(folder: Path, files: dict[str, bytes | str]) -> list[Path]:
    """`replace_file` of several files of one folder (name -> data): their temp files written and fsynced side by
    side, each then replaces its file, and the folder is fsynced once; the paths, in the order given."""
    items = []
    for name, data in files.items():
        path = folder / name
        raw = data.encode("utf-8") if isinstance(data, str) else data
        items.append((path, raw, CREATE_MODE, path.with_name(f".{name}.{os.getpid()}.{threading.get_ident()}.tmp")))
    atomic_write_many(items)
    fsync_dir(folder)
    return [path for path, *_ in items]


def current_state(path: Path) -> tuple[str, bytes | None, int | None]:
    """(hash or ABSENT or NOT_A_FILE, bytes, mode bits) of what is at `path` now, not following links."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return ABSENT, None, None
    if not stat.S_ISREG(st.st_mode):
        return NOT_A_FILE, None, None
    data = read_file(os.fspath(path))[1]
    return sha(data), data, stat.S_IMODE(st.st_mode)


def tmp_path(path: Path, run_id: str, token: object) -> Path:
    """The temp file beside `path` that run `run_id` writes through (`token` tells its writes apart)."""
    return path.parent / f".{path.name}.fleetshift-{run_id}-{token}.tmp"


def missing_dirs(root: Path, folder: Path) -> list[str]:
    """The folders from below `root` down to `folder` that do not exist yet, outermost first (relative)."""
    missing: list[str] = []
    while not folder.exists() and folder != root:
        missing.append(folder.relative_to(root).as_posix())
        folder = folder.parent
    return list(reversed(missing))


def prune_dirs(root: Path, rel: str, created_dirs: set[str]) -> None:
    """Remove the now-empty folders above `rel` (relative to `root`) that are in `created_dirs`."""
    folder = PurePosixPath(rel).parent
    while str(folder) in created_dirs:
        try:
            (root / folder).rmdir()
        except FileNotFoundError:
            pass
        except OSError:
            return
        fsync_dir((root / folder).parent)
        folder = folder.parent


OWNER = ".owner"  # a scratch folder's lock file: locked (flock) for as long as its owner uses the folder
_swept: set[str] = set()  # the prefixes whose leftovers this process removed already


@contextlib.contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A new folder in the system's temp folder, removed with everything in it when the block ends, as
    `tempfile.TemporaryDirectory` does. A process killed inside the block (SIGKILL) cannot remove it: its lock file
    (`OWNER`, held with `flock` while the folder is in use, released by the system when its process ends however it
    ends) tells the next process asking for a folder of the same prefix that nobody uses it, and that process removes
    it (`sweep_scratch`), so leftovers never pile up."""
    if prefix not in _swept:
        _swept.add(prefix)
        sweep_scratch(prefix)
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    fd = os.open(folder / f"{OWNER}.new", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        # named only once locked: a sweeper never finds the lock file free while its owner has yet to take it
        os.rename(folder / f"{OWNER}.new", folder / OWNER)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.close(fd)


def sweep_scratch(prefix: str, base: Path | None = None, young: float = 86400.0) -> list[Path]:
    """Remove the `scratch_dir` folders of `prefix` in `base` (the temp folder) whose owner is gone: their lock file
    is not held, or they have none and were last changed more than `young` seconds ago (a folder is made a moment
    before its lock file; the folders of earlier versions have none, and one may still be in use by such a version:
    no step lasts a day). The folders removed."""
    base = Path(base or tempfile.gettempdir())
    removed: list[Path] = []
    try:
        entries = [e for e in os.scandir(base) if e.name.startswith(prefix) and e.is_dir(follow_symlinks=False)]
    except OSError:
        return removed
    for entry in entries:
        folder = Path(entry.path)
        try:
            fd = os.open(folder / OWNER, os.O_RDONLY)
        except FileNotFoundError:
            with contextlib.suppress(OSError):
                if time.time() - entry.stat(follow_symlinks=False).st_mtime > young:
                    shutil.rmtree(folder, ignore_errors=True)
                    removed.append(folder)
            continue
        except OSError:  # another user's, or being removed
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # its owner still works in it
            os.close(fd)
            continue
        try:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        finally:
            os.close(fd)
    return removed


class BlobStore:
    """Read-only copies of file contents in one folder, named by their SHA-256 and checked on every read."""

    def __init__(self, folder: Path, step: Callable[[], None] = _nothing) -> None:
        self.folder = folder
        self.step = step

    def store(self, digest: str, data: bytes, sync_dir: bool = True) -> bool:
        """Keep `data` (whose hash is `digest`) unless an intact copy is already there; whether it wrote one (with
        `sync_dir` False the caller must fsync the folder before it relies on the copy)."""
        blob = self.folder / digest
        if blob.is_file() and sha(blob.read_bytes()) == digest:
            return False
        atomic_write(blob, data, 0o444, self.folder / f".{digest}.tmp", self.step, sync_dir)
        return True

    def store_many(self, blobs: list[tuple[str, bytes]]) -> bool:
        """`store` of several (digest, data) without the folder's fsync (the caller makes it), their temp files
        fsynced side by side; whether any was written."""
        todo = []
        for digest, data in blobs:
            blob = self.folder / digest
            if not (blob.is_file() and sha(blob.read_bytes()) == digest):
                todo.append((blob, data, 0o444, self.folder / f".{digest}.tmp"))
        atomic_write_many(todo, self.step)
        return bool(todo)

    def load(self, digest: str) -> bytes | None:
        """The bytes stored under `digest`, or None when missing or damaged."""
        try:
            data = (self.folder / digest).read_bytes()
        except OSError:
            return None
        return data if sha(data) == digest else None
