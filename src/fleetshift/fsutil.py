"""File-system helpers of the journal: atomic writes, folder fsyncs, what is at a path now, temp-file naming,
folders a write creates and removes, and a content-addressed blob store."""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path, PurePosixPath

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
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()  # a read-only leftover of a crashed attempt
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
    step()
    os.replace(tmp, path)
    step()
    if sync_dir:
        fsync_dir(path.parent)


def replace_file(path: Path, data: bytes | str) -> None:
    """Write fleetshift's own bookkeeping files (records, caches, reports) atomically: readers never see half."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    atomic_write(
        path, data, CREATE_MODE, path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    )


def current_state(path: Path) -> tuple[str, bytes | None, int | None]:
    """(hash or ABSENT or NOT_A_FILE, bytes, mode bits) of what is at `path` now, not following links."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return ABSENT, None, None
    if not stat.S_ISREG(st.st_mode):
        return NOT_A_FILE, None, None
    data = path.read_bytes()
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

    def load(self, digest: str) -> bytes | None:
        """The bytes stored under `digest`, or None when missing or damaged."""
        try:
            data = (self.folder / digest).read_bytes()
        except OSError:
            return None
        return data if sha(data) == digest else None
