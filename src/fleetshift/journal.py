"""The only writer of fleet files: content-addressed backups, atomic writes, a transactional run state, exact rollback.

A run lives in `<fleet>/.fleetshift/runs/<run-id>/`: `state.db` (the authority: an SQLite database in WAL mode
holding the run status, per-service statuses and steps, every file entry and every rollback; a file entry's or a
rollback's commit waits for the disk (synchronous=FULL), a status's or a step's only survives a killed process
until the next such commit syncs it too), `blobs/<sha256>` (the bytes of each file before it was written) and `journal.jsonl` (an append-only
event log for people). Every change of state is one transaction, so a step costs the same in a run of ten
services or of ten thousand, and another process (`status --watch`) reads a consistent snapshot while a run
writes. Every write goes backup -> intent (committed) -> atomic replace -> done (committed), each step durable
before the next, so a crash at any point, even inside a transaction, leaves a state that `rollback` finishes.
A run folder written by an earlier release (`state.json`) is converted to `state.db` when it is opened.
`<fleet>/.fleetshift/lock` lets one command at a time write to a fleet (see `FleetLock`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import socket
import sqlite3
import stat
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from fleetshift.fsutil import (
    ABSENT,
    CREATE_MODE,
    NOT_A_FILE,
    BlobStore,
    atomic_write,
    atomic_write_many,
    current_state,
    fsync_dir,
    missing_dirs,
    prune_dirs,
    sha,
    tmp_path,
)
from fleetshift.model import RunStatus, ServiceStatus, StepStatus

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

STATE_DIR = ".fleetshift"
RUN_STATUSES = frozenset(RunStatus) - {RunStatus.AWAITING_APPROVAL}
STEP_STATUSES = frozenset(StepStatus)
CRASH_ENV = "FLEETSHIFT_TEST_CRASH_AT"
PAUSE_ENV = "FLEETSHIFT_TEST_PAUSE_AT"
STATE_DB = "state.db"
LEGACY_STATE = "state.json"

# Entry states: "intent" (recorded, replace may or may not have happened), "done", "rolled-back",
# "abandoned" (an intent whose replace provably never happened).
_LIVE = ("intent", "done")
_FORMAT = 1

_checkpoints = 0


_paused: dict[str, int] = {}


def _checkpoint(label: str = "") -> None:
    """Count an internal step; with FLEETSHIFT_TEST_CRASH_AT=<n> the process dies at the n-th, with
    FLEETSHIFT_TEST_PAUSE_AT=<label>@<k> it says so on stderr and waits (to be killed) at the k-th step named
    `label` (tests only)."""
    global _checkpoints
    _checkpoints += 1
    at = os.environ.get(CRASH_ENV)
    if at and int(at) == _checkpoints:
        os._exit(137)
    pause = os.environ.get(PAUSE_ENV)
    if pause and label and pause.partition("@")[0] == label:
        _paused[label] = _paused.get(label, 0) + 1
        if _paused[label] == int(pause.partition("@")[2] or 1):
            os.write(2, f"paused at {pause}\n".encode())
            time.sleep(600)


def checkpoints_passed() -> int:
    """How many internal checkpoints this process has passed (lets tests enumerate crash points)."""
    return _checkpoints


def _replace_step() -> None:
    _checkpoint("replace")


class JournalError(Exception):
    """A write or rollback that cannot be done safely; the message names the file or run and the fix."""


@dataclass(frozen=True)
class RollbackReport:
    """What a rollback did: files restored, files removed, files skipped (with why), hand-edited files left alone."""

    restored: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()
    conflicts: tuple[str, ...] = ()

    @property
    def clean(self) -> bool:
        """True when everything in scope is back to its original bytes."""
        return not self.skipped and not self.conflicts


_UNSET: Any = object()

LOCK_FILE = "lock"


class FleetLocked(JournalError):
    """Another run, resume or rollback holds the fleet's lock; the message names the holder and the fix."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    except OSError:
        return False
    return True


class FleetLock:
    """One run per fleet: `<fleet>/.fleetshift/lock` holds the pid, host, run id and start time of the command
    that writes to the fleet (run, resume, rollback). The file is also held with `flock` while the command runs,
    so the kernel frees it when the process dies; a lock left by a process that is gone (same host, pid not
    alive) is taken over with a message. Reading (`status`) never takes it."""

    def __init__(self, fleet_root: Path, fd: int, command: str, message: str) -> None:
        self.fleet_root = Path(fleet_root)
        self.path = self.fleet_root / STATE_DIR / LOCK_FILE
        self.command = command
        self.message = message
        self._fd: int | None = fd
        self.started = _now()
        self.run_id = ""

    @classmethod
    def acquire(cls, fleet_root: Path, command: str, run_id: str = "") -> FleetLock:
        """Take the fleet's lock, or raise FleetLocked naming who holds it."""
        root = Path(fleet_root).resolve()
        base = root / STATE_DIR
        base.mkdir(exist_ok=True)
        path = base / LOCK_FILE
        host = socket.gethostname()
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                if fcntl is not None:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        raise FleetLocked(_held_message(path, _read_lock(fd))) from None
                # The holder before us may have removed the file after we opened it: lock the file that is there.
                try:
                    same = os.fstat(fd).st_ino == os.stat(path).st_ino
                except FileNotFoundError:
                    same = False
                if not same:
                    os.close(fd)
                    continue
                holder = _read_lock(fd)
                message = ""
                if holder:
                    pid, their_host = holder.get("pid"), holder.get("host")
                    if their_host != host:
                        raise FleetLocked(_held_message(path, holder, other_host=True))
                    if isinstance(pid, int) and pid != os.getpid() and _pid_alive(pid) and fcntl is None:
                        raise FleetLocked(_held_message(path, holder))
                    message = (f"took over the fleet lock {path} left by {holder.get('command', 'a command')} "
                               f"(pid {pid}, run {holder.get('run_id') or '-'}, since {holder.get('started', '?')}): "
                               f"that process is gone")
                lock = cls(root, fd, command, message)
                lock.set_run(run_id)
                return lock
            except BaseException:
                with contextlib.suppress(OSError):
                    os.close(fd)
                raise

    def set_run(self, run_id: str) -> None:
        """Record which run the holder is working on (known only once a new run is started)."""
        if self._fd is None:
            return
        self.run_id = run_id
        record = {"pid": os.getpid(), "host": socket.gethostname(), "run_id": run_id, "started": self.started,
                  "command": self.command}
        data = (json.dumps(record) + "\n").encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)
        os.fsync(self._fd)

    def release(self) -> None:
        """Remove the lock file and let go of it."""
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> FleetLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def fleet_lock_held(fleet_root: Path) -> bool:
    """Whether a live process holds the fleet's lock (a run, resume or rollback is working on it); reading it
    takes nothing."""
    path = Path(fleet_root).resolve() / STATE_DIR / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        if fcntl is None:
            pid = _read_lock(fd).get("pid")
            return isinstance(pid, int) and _pid_alive(pid)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _read_lock(fd: int) -> dict[str, Any]:
    try:
        data = json.loads(os.pread(fd, 65536, 0) or b"{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _held_message(path: Path, holder: dict[str, Any], other_host: bool = False) -> str:
    who = (f"{holder.get('command', 'a fleetshift command')} (pid {holder.get('pid', '?')} on {holder.get('host', '?')}, "
           f"run {holder.get('run_id') or '-'}, since {holder.get('started', '?')})")
    if other_host:
        fix = (f"wait for it to finish; if no fleetshift command is running on {holder.get('host', '?')}, "
               f"remove {path}")
    else:
        fix = "wait for it to finish (follow it with: fleetshift status --watch), or stop that process"
    return f"another fleetshift command is working on this fleet: {who}. Fix: {fix}"



def _is_link(path: str) -> bool:
    """Whether `path` is a symbolic link, as `Path.is_symlink` answers (a missing path or one that cannot be
    followed is not; any other error is raised), without building a Path."""
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError as exc:
        if exc.errno not in (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP):
            raise
        return False
    except ValueError:
        return False


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _new_run_id(runs_dir: Path) -> str:
    """A run id sortable by time (UTC, 100 µs resolution), created as a directory exclusively."""
    while True:
        now = dt.datetime.now(dt.UTC)
        run_id = f"{now:%Y%m%d-%H%M%S}-{now.microsecond // 100:04d}"
        try:
            (runs_dir / run_id).mkdir()
        except FileExistsError:
            time.sleep(0.0002)
            continue
        return run_id


_SCHEMA = """
CREATE TABLE run (id INTEGER PRIMARY KEY CHECK (id = 1), format INTEGER NOT NULL, run_id TEXT NOT NULL,
    created TEXT NOT NULL, updated TEXT NOT NULL, fleet_root TEXT NOT NULL, meta TEXT NOT NULL, status TEXT NOT NULL,
    next_seq INTEGER NOT NULL);
CREATE TABLE services (name TEXT PRIMARY KEY, status TEXT NOT NULL);
CREATE TABLE steps (service TEXT NOT NULL, step TEXT NOT NULL, status TEXT NOT NULL, detail TEXT NOT NULL,
    updated TEXT NOT NULL, PRIMARY KEY (service, step));
CREATE TABLE files (seq INTEGER PRIMARY KEY, service TEXT NOT NULL, path TEXT NOT NULL, before TEXT NOT NULL,
    after TEXT NOT NULL, before_mode INTEGER, after_mode INTEGER, recipes TEXT NOT NULL, created_dirs TEXT NOT NULL,
    state TEXT NOT NULL, time TEXT NOT NULL);
CREATE INDEX files_state ON files (state);
CREATE INDEX files_service ON files (service);
CREATE INDEX files_path ON files (path);
CREATE TABLE rollbacks (id INTEGER PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE run_meta (id INTEGER PRIMARY KEY CHECK (id = 1), meta TEXT NOT NULL);
"""
# The run's meta (its options and the plan's snapshot: about 0.9 kB per service) is kept in `run_meta`, apart from
# the `run` row that every transaction updates: SQLite rewrites a row whole, so in the row it made every step cost
# as much as the fleet is large (`run.meta` holds "{}"). A database of an earlier release keeps it in `run.meta`.
_FILE_COLUMNS = ("seq", "service", "path", "before", "after", "before_mode", "after_mode", "recipes", "created_dirs",
                 "state", "time")
_FILE_SELECT = "SELECT " + ", ".join(_FILE_COLUMNS) + " FROM files"


def _entry(row: Sequence[Any]) -> dict[str, Any]:
    """A file entry (with its service) from a row of `files`."""
    e = dict(zip(_FILE_COLUMNS, row, strict=True))
    e["recipes"] = json.loads(e["recipes"])
    e["created_dirs"] = json.loads(e["created_dirs"])
    return e


def _run_meta(db: sqlite3.Connection) -> str | None:
    """The run's meta as `run_meta` holds it, or None for a database of an earlier release (see `_SCHEMA`)."""
    try:
        row = db.execute("SELECT meta FROM run_meta").fetchone()
    except sqlite3.OperationalError:  # no such table
        return None
    return None if row is None else row[0]


def _create_db(path: Path, state: dict[str, Any]) -> None:
    """Write a new state database holding `state` (the JSON layout) at `path`, through a temp file."""
    tmp = path.with_name(f".{path.name}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    db = sqlite3.connect(tmp, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=DELETE")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("BEGIN")
        for stmt in _SCHEMA.split(";"):
            if stmt.strip():
                db.execute(stmt)
        db.execute(
            "INSERT INTO run VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)",
            (state.get("format", _FORMAT), state["run_id"], state["created"], state.get("updated", state["created"]),
             state["fleet_root"], "{}", state["status"], state["next_seq"]),
        )
        db.execute("INSERT INTO run_meta VALUES (1, ?)", (json.dumps(state.get("meta", {})),))
        for name, svc in state.get("services", {}).items():
            db.execute("INSERT INTO services VALUES (?, ?)", (name, svc["status"]))
            for step, info in svc.get("steps", {}).items():
                db.execute("INSERT INTO steps VALUES (?, ?, ?, ?, ?)",
                           (name, step, info["status"], info.get("detail", ""), info.get("updated", "")))
            for e in svc.get("files", []):
                db.execute(
                    "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (e["seq"], name, e["path"], e["before"], e["after"], e["before_mode"], e["after_mode"],
                     json.dumps(e["recipes"]), json.dumps(e["created_dirs"]), e["state"], e["time"]),
                )
        for record in state.get("rollbacks", []):
            db.execute("INSERT INTO rollbacks (record) VALUES (?)", (json.dumps(record),))
        db.execute("COMMIT")
    finally:
        db.close()
    _checkpoint()
    os.replace(tmp, path)
    _checkpoint()
    fsync_dir(path.parent)


class Journal:
    """One run's journal; every write of a fleet file goes through `write`, and `rollback` undoes them exactly."""

    def __init__(self, fleet_root: Path, run_id: str) -> None:
        self.fleet_root = Path(fleet_root).resolve()
        self.run_id = run_id
        self.path = self.fleet_root / STATE_DIR / "runs" / run_id
        self._db_file = self.path / STATE_DB
        self._blobs = BlobStore(self.path / "blobs", _checkpoint)
        self._thread_lock = threading.RLock()  # a write of this process (with the run's file lock: `_locked`)
        self._db_lock = threading.RLock()  # the state database's connection, one thread at a time
        self._depth = 0
        self._db: sqlite3.Connection | None = None

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    def close(self) -> None:
        """Close the state database (it is opened again on the next use)."""
        with self._db_lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # ---- runs ---------------------------------------------------------------------------------------

    @staticmethod
    def runs(fleet_root: Path) -> list[str]:
        """Run ids of the fleet, oldest first (runs whose state was never written are ignored)."""
        runs_dir = Path(fleet_root) / STATE_DIR / "runs"
        if not runs_dir.is_dir():
            return []
        return sorted(
            p.name for p in runs_dir.iterdir() if (p / STATE_DB).is_file() or (p / LEGACY_STATE).is_file()
        )

    @classmethod
    def start(cls, fleet_root: Path, meta: dict[str, Any] | None = None) -> Journal:
        """Create a new run in `<fleet_root>/.fleetshift/runs/` with status "running"."""
        root = Path(fleet_root).resolve()
        if not root.is_dir():
            raise JournalError(f"fleet root {root} is not a directory")
        base = root / STATE_DIR
        runs_dir = base / "runs"
        runs_dir.mkdir(parents=True, exist_ok=True)
        ignore = base / ".gitignore"
        if not ignore.exists():
            atomic_write(ignore, b"*\n", CREATE_MODE, base / ".gitignore.tmp", _checkpoint)
        meta = dict(meta or {})
        try:
            json.dumps(meta)
        except (TypeError, ValueError) as exc:
            raise JournalError(f"run meta must be JSON-serialisable: {exc}") from exc
        run_id = _new_run_id(runs_dir)
        journal = cls(root, run_id)
        journal._blobs.folder.mkdir()
        created = _now()
        state = {
            "format": _FORMAT,
            "run_id": run_id,
            "created": created,
            "updated": created,
            "fleet_root": str(root),
            "meta": meta,
            "status": RunStatus.RUNNING,
            "next_seq": 1,
        }
        with journal._locked():
            _create_db(journal._db_file, state)
        fsync_dir(runs_dir)
        journal._log({"event": "start", "meta": state["meta"]})
        return journal

    @classmethod
    def open(cls, fleet_root: Path, run_id: str | None = None) -> Journal:
        """Open run `run_id` of the fleet, or its latest run when None."""
        root = Path(fleet_root).resolve()
        runs = cls.runs(root)
        if run_id is None:
            if not runs:
                raise JournalError(
                    f"no fleetshift runs in {root / STATE_DIR / 'runs'}: nothing was written to this fleet"
                )
            run_id = runs[-1]
        elif run_id not in runs:
            known = ", ".join(runs[-5:]) or "none"
            raise JournalError(f"no run {run_id!r} in {root / STATE_DIR / 'runs'} (latest runs: {known})")
        return cls(root, run_id)

    # ---- state --------------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """The run's state as recorded on disk (one consistent snapshot, even while another process writes)."""
        db = self._conn()
        with self._db_lock:
            db.execute("BEGIN")
            try:
                run = db.execute(
                    "SELECT format, run_id, created, updated, fleet_root, meta, status, next_seq FROM run"
                ).fetchone()
                if run is None:
                    raise JournalError(f"state database {self._db_file} is damaged: it has no run record")
                services: dict[str, Any] = {
                    name: {"status": status, "steps": {}, "files": []}
                    for name, status in db.execute("SELECT name, status FROM services ORDER BY rowid")
                }
                for service, step, status, detail, updated in db.execute(
                    "SELECT service, step, status, detail, updated FROM steps ORDER BY rowid"
                ):
                    services.setdefault(service, {"status": ServiceStatus.RUNNING, "steps": {}, "files": []})
                    services[service]["steps"][step] = {"status": status, "detail": detail, "updated": updated}
                for row in db.execute(_FILE_SELECT + " ORDER BY seq"):
                    e = _entry(row)
                    services[e.pop("service")]["files"].append(e)
                rollbacks = [json.loads(r) for (r,) in db.execute("SELECT record FROM rollbacks ORDER BY id")]
                meta = _run_meta(db)
            finally:
                db.execute("COMMIT")
        keys = ("format", "run_id", "created", "updated", "fleet_root", "meta", "status", "next_seq")
        state = dict(zip(keys, run, strict=True))
        state["meta"] = json.loads(state["meta"] if meta is None else meta)
        state["services"] = services
        state["rollbacks"] = rollbacks
        return state

    def status(self) -> str:
        """The run's status."""
        db = self._conn()
        with self._db_lock:
            row = db.execute("SELECT status FROM run").fetchone()
        return str(row[0])

    def service_status(self, service: str) -> str | None:
        """One service's recorded status (None when the run has not reached it); costs the same for any fleet."""
        db = self._conn()
        with self._db_lock:
            row = db.execute("SELECT status FROM services WHERE name = ?", (service,)).fetchone()
        return None if row is None else str(row[0])

    def service_statuses(self) -> dict[str, str]:
        """Every recorded service's status, by name."""
        db = self._conn()
        with self._db_lock:
            return dict(db.execute("SELECT name, status FROM services ORDER BY rowid").fetchall())

    def set_status(self, status: str) -> None:
        """Set the run's status (running, completed, failed, rolled-back, interrupted)."""
        if status not in RUN_STATUSES:
            raise JournalError(f"unknown run status {status!r}; use one of {sorted(RUN_STATUSES)}")
        with self._tx(durable=False) as db:
            db.execute("UPDATE run SET status = ?", (str(status),))
        self._log({"event": "status", "status": status})

    def set_service_status(self, service: str, status: str) -> None:
        """Set one service's status (free-form, e.g. running, passed, failed, skipped, rolled-back)."""
        if not status:
            raise JournalError(f"empty status for service {service!r}")
        with self._tx(durable=False) as db:
            self._service(db, service)
            db.execute("UPDATE services SET status = ? WHERE name = ?", (str(status), service))
        self._log({"event": "service-status", "service": service, "status": status})

    def set_step(self, service: str, step: str, status: str, detail: str = "") -> None:
        """Record the status of one step (e.g. "rewrite", "verify") of a service, durably."""
        if status not in STEP_STATUSES:
            raise JournalError(f"unknown step status {status!r}; use one of {sorted(STEP_STATUSES)}")
        with self._tx(durable=False) as db:
            self._service(db, service)
            db.execute(
                "INSERT INTO steps VALUES (?, ?, ?, ?, ?) ON CONFLICT (service, step) DO UPDATE SET "
                "status = excluded.status, detail = excluded.detail, updated = excluded.updated",
                (service, step, str(status), detail, _now()),
            )
        self._log({"event": "step", "service": service, "step": step, "status": status, "detail": detail})

    def entries(self, service: str | None = None) -> list[dict[str, Any]]:
        """The file entries of the run (or of one service), in write order."""
        db = self._conn()
        with self._db_lock:
            if service is None:
                rows = db.execute(_FILE_SELECT + " ORDER BY seq").fetchall()
            else:
                rows = db.execute(_FILE_SELECT + " WHERE service = ? ORDER BY seq", (service,)).fetchall()
        return [_entry(r) for r in rows]

    # ---- write --------------------------------------------------------------------------------------

    def write(
        self,
        service: str,
        rel: str,
        new: bytes | None,
        recipes: Sequence[str] = (),
        *,
        expect: bytes | None = _UNSET,
    ) -> None:
        """Replace fleet file `rel` with `new` (None deletes it), backing up the old bytes first.

        With `expect`, refuse unless the file still holds exactly those bytes (None: it must not exist).
        """
        rel = self._check_rel(rel)
        if new is not None and not isinstance(new, bytes):
            raise TypeError(f"{rel}: new content must be bytes (or None to delete), not {type(new).__name__}")
        path = self.fleet_root / rel
        with self._locked():
            self._settle()
            try:
                entry = self._record_intent(service, rel, new, recipes, expect)
            except OSError as exc:
                raise JournalError(
                    f"cannot back up {rel}: {exc.strerror or exc}; nothing was written"
                ) from exc
            if entry is None:
                return
            try:
                if new is None:
                    os.unlink(path)
                    _checkpoint()
                    fsync_dir(path.parent)
                else:
                    for d in entry["created_dirs"]:
                        (self.fleet_root / d).mkdir(exist_ok=True)
                        fsync_dir((self.fleet_root / d).parent)
                    atomic_write(path, new, entry["after_mode"], self._tmp(path, entry["seq"]), _replace_step)
            except OSError as exc:
                self._settle()
                raise JournalError(f"cannot write {rel}: {exc.strerror or exc}") from exc
            with self._tx("done") as db:
                db.execute("UPDATE files SET state = 'done' WHERE seq = ?", (entry["seq"],))
        self._log({"event": "done", "service": service, "seq": entry["seq"], "path": rel})

    def write_many(
        self, service: str, changes: Sequence[tuple[str, bytes | None, Sequence[str], bytes | None]]
    ) -> None:
        """Write several files of one service: (path, new bytes or None, recipes, expected bytes or None) each,
        checked like `write`. Every backup is made and every intent recorded in ONE transaction before the
        first file is replaced, and the writes are marked done in one more, so a service's files cost two
        commits instead of two each. Nothing is written when any file fails its check."""
        folders: set[str] = set()
        rels = [self._check_rel(rel, folders) for rel, *_ in changes]
        if len(set(rels)) != len(rels):  # the same file twice: one after the other
            for (_, new, recipes, expect), rel in zip(changes, rels, strict=True):
                self.write(service, rel, new, recipes, expect=expect)
            return
        with self._locked():
            self._settle()
            planned: list[tuple[dict[str, Any], bytes | None]] = []
            backups: dict[str, bytes] = {}
            try:
                for (_, new, recipes, expect), rel in zip(changes, rels, strict=True):
                    if new is not None and not isinstance(new, bytes):
                        raise TypeError(f"{rel}: new content must be bytes (or None to delete), not {type(new).__name__}")
                    entry, old = self._check(rel, new, recipes, expect)
                    if entry is not None:
                        planned.append((entry, new))
                        if old is not None:
                            backups.setdefault(entry["before"], old)
                stored = self._blobs.store_many(list(backups.items()))
                # every backup's name durable at once, before any intent refers to it (also one an earlier,
                # failed batch left unsynced)
                if stored or any(entry["before"] != ABSENT for entry, _ in planned):
                    fsync_dir(self._blobs.folder)
            except OSError as exc:
                raise JournalError(f"cannot back up a file of {service}: {exc.strerror or exc}; nothing was written") from exc
            if not planned:
                return
            _checkpoint()
            with self._tx("intent") as db:
                self._service(db, service)
                (seq,) = db.execute("SELECT next_seq FROM run").fetchone()
                for entry, _ in planned:
                    entry["seq"] = seq
                    seq += 1
                    self._insert_entry(db, service, entry)
                db.execute("UPDATE run SET next_seq = ?", (seq,))
            self._log(*({"event": "intent", "service": service, **entry} for entry, _ in planned))
            folders: dict[Path, None] = {}
            if all(new is not None and not entry["created_dirs"] for entry, new in planned):
                # every temp file written and fsynced side by side, then each replaces its file in order
                items = [(self.fleet_root / e["path"], new, e["after_mode"], self._tmp(self.fleet_root / e["path"], e["seq"]))
                         for e, new in planned if new is not None]
                try:
                    atomic_write_many(items, _replace_step)
                except OSError as exc:
                    self._settle()
                    failed = next((e["path"] for (e, _), item in zip(planned, items, strict=True)
                                   if str(item[3]) == str(getattr(exc, "filename", ""))), planned[0][0]["path"])
                    raise JournalError(f"cannot write {failed}: {exc.strerror or exc}") from exc
                folders.update((path.parent, None) for path, *_ in items)
            else:  # a deletion or a new folder among them: one file after the other
                for entry, new in planned:
                    path = self.fleet_root / entry["path"]
                    try:
                        self._replace(path, new, entry, sync_dir=False)
                    except OSError as exc:
                        self._settle()
                        raise JournalError(f"cannot write {entry['path']}: {exc.strerror or exc}") from exc
                    folders[path.parent] = None
            for folder in folders:  # each folder's new entries durable once, before any write is marked done
                fsync_dir(folder)
            with self._tx("done") as db:
                db.executemany("UPDATE files SET state = 'done' WHERE seq = ?", [(e["seq"],) for e, _ in planned])
        self._log(*({"event": "done", "service": service, "seq": entry["seq"], "path": entry["path"]} for entry, _ in planned))

    def _replace(self, path: Path, new: bytes | None, entry: dict[str, Any], sync_dir: bool = True) -> None:
        """Put `new` at `path` (None: delete it), creating the folders the entry records. With `sync_dir` False
        the caller fsyncs `path`'s folder before it marks the write done."""
        if new is None:
            os.unlink(path)
            _checkpoint()
            if sync_dir:
                fsync_dir(path.parent)
            return
        for d in entry["created_dirs"]:
            (self.fleet_root / d).mkdir(exist_ok=True)
            fsync_dir((self.fleet_root / d).parent)
        atomic_write(path, new, entry["after_mode"], self._tmp(path, entry["seq"]), _replace_step, sync_dir)

    def _check_and_back_up(
        self, rel: str, new: bytes | None, recipes: Sequence[str], expect: bytes | None, sync_dir: bool = True
    ) -> tuple[dict[str, Any] | None, bool]:
        """Check the file against `expect` and back up its bytes; the entry to record (without its seq), or
        None if there is nothing to write, and whether a backup was written (with `sync_dir` False the caller
        fsyncs the blobs folder before it records the intent)."""
        entry, old = self._check(rel, new, recipes, expect)
        if entry is None:
            return None, False
        wrote = old is not None and self._blobs.store(entry["before"], old, sync_dir)
        return entry, wrote

    def _check(
        self, rel: str, new: bytes | None, recipes: Sequence[str], expect: bytes | None
    ) -> tuple[dict[str, Any] | None, bytes | None]:
        """Check the file against `expect`: the entry to record (without its seq) and the bytes to back up, or
        (None, None) if there is nothing to write."""
        path = self.fleet_root / rel
        before, old, old_mode = current_state(path)
        if before == NOT_A_FILE:
            raise JournalError(
                f"{rel} is not a regular file (a link or a folder); fleetshift will not replace it"
            )
        if expect is not _UNSET and (ABSENT if expect is None else sha(expect)) != before:
            now = "is gone" if before == ABSENT else "exists" if expect is None else "has different bytes"
            raise JournalError(
                f"{rel} changed since it was read ({now}); nothing was written to it. Run again to re-read it."
            )
        after = ABSENT if new is None else sha(new)
        if after == before:
            return None, None
        return {
            "seq": 0,
            "path": rel,
            "before": before,
            "after": after,
            "before_mode": old_mode,
            "after_mode": None if new is None else (old_mode if old_mode is not None else CREATE_MODE),
            "recipes": list(recipes),
            "created_dirs": [] if new is None else missing_dirs(self.fleet_root, path.parent),
            "state": "intent",
            "time": _now(),
        }, old

    @staticmethod
    def _insert_entry(db: sqlite3.Connection, service: str, e: dict[str, Any]) -> None:
        db.execute(
            "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (e["seq"], service, e["path"], e["before"], e["after"], e["before_mode"], e["after_mode"],
             json.dumps(e["recipes"]), json.dumps(e["created_dirs"]), e["state"], e["time"]),
        )

    def _record_intent(
        self,
        service: str,
        rel: str,
        new: bytes | None,
        recipes: Sequence[str],
        expect: bytes | None,
    ) -> dict[str, Any] | None:
        """Check the file against `expect`, back up its bytes and record the intent durably; None if
        there is nothing to write."""
        entry, _ = self._check_and_back_up(rel, new, recipes, expect)
        if entry is None:
            return None
        _checkpoint()
        with self._tx("intent") as db:
            self._service(db, service)
            (entry["seq"],) = db.execute("SELECT next_seq FROM run").fetchone()
            db.execute("UPDATE run SET next_seq = ?", (entry["seq"] + 1,))
            self._insert_entry(db, service, entry)
        self._log({"event": "intent", "service": service, **entry})
        return entry

    def recover(self) -> list[str]:
        """Settle intents left by a crashed process (done if the new bytes landed, else abandoned); mark the
        run interrupted if it was running. Returns the paths whose intent was left unsettled (edited since)."""
        with self._locked():
            unsettled = self._settle()
            with self._tx() as db:
                db.execute("UPDATE run SET status = ? WHERE status = ?", (RunStatus.INTERRUPTED, RunStatus.RUNNING))
        return unsettled

    # ---- rollback -----------------------------------------------------------------------------------

    def rollback(
        self, service: str | None = None, recipe: str | None = None, force: bool = False
    ) -> RollbackReport:
        """Restore the exact bytes every file had before this run (or one service / recipe) first wrote it.

        A file changed by hand since the run is left alone and listed in `conflicts`, unless `force`.
        """
        restored: list[str] = []
        removed: list[str] = []
        skipped: list[tuple[str, str]] = []
        conflicts: list[str] = []
        with self._locked():
            db = self._conn()
            with self._db_lock:
                names = [n for (n,) in db.execute("SELECT name FROM services ORDER BY rowid")]
            if service is not None and service not in names:
                known = ", ".join(sorted(names)) or "none"
                raise JournalError(f"run {self.run_id} has no service {service!r} (services: {known})")
            self._settle()
            with self._db_lock:
                if service is None:
                    rows = db.execute(_FILE_SELECT + " ORDER BY seq").fetchall()
                else:  # every write to a file this service wrote (another service may have written it too)
                    rows = db.execute(
                        _FILE_SELECT + " WHERE path IN (SELECT path FROM files WHERE service = ?) ORDER BY seq",
                        (service,),
                    ).fetchall()
            chains: dict[str, list[tuple[str, dict[str, Any]]]] = {}
            for row in rows:
                entry = _entry(row)
                if entry["state"] in _LIVE:
                    chains.setdefault(entry["path"], []).append((entry["service"], entry))
            with self._db_lock:
                created_dirs = {
                    d for (dirs,) in db.execute("SELECT created_dirs FROM files WHERE created_dirs != '[]'")
                    for d in json.loads(dirs)
                }
            rolled: list[int] = []
            # Latest writes first, so files leave a created folder before the folder itself goes.
            for rel, chain in sorted(chains.items(), key=lambda kv: -kv[1][-1][1]["seq"]):
                reason = _out_of_scope(chain, service, recipe)
                if reason is None:
                    continue
                if reason:
                    skipped.append((rel, reason))
                    continue
                outcome = self._restore(rel, [e for _, e in chain], force, created_dirs)
                if outcome == "conflict":
                    conflicts.append(rel)
                elif outcome in ("restored", "removed"):
                    (restored if outcome == "restored" else removed).append(rel)
                    rolled.extend(e["seq"] for _, e in chain)
                else:
                    skipped.append((rel, outcome))
            clean = not conflicts and not skipped
            report = RollbackReport(
                tuple(sorted(restored)),
                tuple(sorted(removed)),
                tuple(sorted(skipped)),
                tuple(sorted(conflicts)),
            )
            record = {
                "time": _now(),
                "service": service,
                "recipe": recipe,
                "force": force,
                "restored": len(restored),
                "removed": len(removed),
                "skipped": len(skipped),
                "conflicts": list(report.conflicts),
            }
            with self._tx() as db:
                db.executemany("UPDATE files SET state = 'rolled-back' WHERE seq = ?", [(s,) for s in rolled])
                if recipe is None and clean:
                    if service is not None:
                        db.execute("UPDATE services SET status = ? WHERE name = ?", (ServiceStatus.ROLLED_BACK, service))
                    else:
                        db.execute("UPDATE services SET status = ?", (ServiceStatus.ROLLED_BACK,))
                        db.execute("UPDATE run SET status = ?", (RunStatus.ROLLED_BACK,))
                db.execute("INSERT INTO rollbacks (record) VALUES (?)", (json.dumps(record),))
        self._log({"event": "rollback", **record})
        return report

    def _restore(self, rel: str, chain: list[dict[str, Any]], force: bool, created_dirs: set[str]) -> str:
        """Put `rel` back to the state before chain[0]; returns restored/removed/conflict or a skip reason."""
        path = self.fleet_root / rel
        first = chain[0]
        target = first["before"]
        known = {e["before"] for e in chain} | {e["after"] for e in chain}
        for entry in chain:
            for tmp in (self._tmp(path, entry["seq"]), self._tmp(path, f"rb{entry['seq']}")):
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
        current, _, mode = current_state(path)
        if current not in known and not force:
            return "conflict"
        if target == ABSENT:
            if current == NOT_A_FILE:
                return "a link or folder now stands there; remove it by hand"
            if current != ABSENT:
                os.unlink(path)
                _checkpoint()
                fsync_dir(path.parent)
            prune_dirs(self.fleet_root, rel, created_dirs)
            return "removed"
        data = self._blobs.load(target)
        if data is None:
            return f"backup {target[:12]} is missing or damaged; the file was left as it is"
        if current == NOT_A_FILE:
            return "a link or folder now stands there; remove it by hand"
        if current != target or mode != first["before_mode"]:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, data, first["before_mode"], self._tmp(path, f"rb{first['seq']}"), _checkpoint)
        if current_state(path)[0] != target:
            return "restored bytes do not match the recorded hash"
        return "restored"

    # ---- internals ----------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the run's lock (threads of this process and other processes alike) for a write that spans
        several transactions (backup, intent, replace, done)."""
        with self._thread_lock:
            if self._depth or fcntl is None:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            if not self.path.is_dir():
                raise JournalError(f"run directory {self.path} does not exist")
            fd = os.open(self.path / "lock", os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
            finally:
                os.close(fd)

    def _conn(self) -> sqlite3.Connection:
        """The run's state database (WAL, synchronous=FULL), opened once per handle; a run folder in the JSON
        layout of earlier releases is converted first (before the connection's lock is taken: the conversion takes
        the run's lock, and a writer holding that one may be waiting for the connection)."""
        if self._db is not None:
            return self._db
        if not self._db_file.is_file():
            self._migrate()
        with self._db_lock:
            if self._db is not None:
                return self._db
            try:
                db = sqlite3.connect(self._db_file, timeout=60, isolation_level=None, check_same_thread=False)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=FULL")
            except sqlite3.Error as exc:
                raise JournalError(f"state database {self._db_file} cannot be opened: {exc}") from exc
            self._db = db
            return db

    def _migrate(self) -> None:
        """Convert `state.json` (the layout of earlier releases) to the state database; the JSON file is kept."""
        legacy = self.path / LEGACY_STATE
        if not legacy.is_file():
            raise JournalError(f"run {self.run_id} has no state at {self._db_file}")
        with self._locked():
            if self._db_file.is_file():
                return
            try:
                _create_db(self._db_file, json.loads(legacy.read_bytes()))
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise JournalError(
                    f"state file {legacy} (the JSON layout of an earlier fleetshift) cannot be read ({exc}); "
                    f"roll it back with the fleetshift release that wrote it, or remove the folder {self.path}"
                ) from exc

    @contextlib.contextmanager
    def _tx(self, name: str = "state", durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One transaction: all of it happened after the block, or none of it; durable (on disk: synchronous=FULL)
        unless `durable` is False, for a status or a step. Such a commit survives a killed process but waits for
        no fsync: a power cut may lose the last of them, never a file's record, since the next durable commit
        (the intent before any file is replaced) syncs the write-ahead log with everything before it. A status
        lost that way costs a resumed run a redo of the service, whose files the journal rolls back first.

        The connection is this thread's for the transaction (`_db_lock`), not for the whole write around it: a
        status or a step is one transaction and takes no other lock, so a thread recording one does not wait for
        another thread's write of a service's files (its fsyncs) between two of that write's transactions. A write
        spanning several transactions holds the run's lock (`_locked`) too; only such writes settle intents."""
        db = self._conn()
        with self._db_lock:
            if not durable:
                db.execute("PRAGMA synchronous=NORMAL")
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                    db.execute("UPDATE run SET updated = ?", (_now(),))
                    _checkpoint(f"{name}:open")  # dying here leaves the transaction uncommitted: none of it happened
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):
                        db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
            finally:
                if not durable:
                    db.execute("PRAGMA synchronous=FULL")
        _checkpoint(f"{name}:committed")

    def _log(self, *events: dict[str, Any]) -> None:
        """Append events to journal.jsonl, one line each, in one write (informational; the state database is the
        authority)."""
        now = _now()
        data = "".join(json.dumps({"time": now, **event}) + "\n" for event in events).encode("utf-8")
        # the bytes an append-mode text file writes, without its buffers (which ask the file whether it is a terminal
        # and where it stands, a few more system calls on each of a run's ~6 events per service)
        with contextlib.suppress(OSError):
            fd = os.open(f"{self.path}/journal.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o666)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)

    @staticmethod
    def _service(db: sqlite3.Connection, service: str) -> None:
        if not service:
            raise JournalError("a service name is required")
        db.execute("INSERT OR IGNORE INTO services VALUES (?, ?)", (service, ServiceStatus.RUNNING))

    def _check_rel(self, rel: str, folders: set[str] | None = None) -> str:
        """`rel` as the journal records it, once checked: inside the fleet, outside `.fleetshift/`, and no folder on
        its way a link. `folders`: the folders found not to be links by the checks of the same write (the files of
        one service share most of theirs), each looked at once."""
        raw = str(rel).replace(os.sep, "/")
        p = PurePosixPath(raw)
        if not raw or p.is_absolute() or ".." in p.parts or str(p) == ".":
            raise JournalError(
                f"{rel!r} is not a path inside the fleet (give it relative to {self.fleet_root})"
            )
        if p.parts[0] == STATE_DIR:
            raise JournalError(f"{rel} is inside {STATE_DIR}/, which fleetshift keeps for itself")
        root = str(self.fleet_root)
        inside = ""
        for part in p.parts[:-1]:
            inside = f"{inside}/{part}" if inside else part
            if folders is not None and inside in folders:
                continue
            if _is_link(f"{root}/{inside}"):
                raise JournalError(f"{rel}: folder {inside} is a link; not followed")
            if folders is not None:
                folders.add(inside)
        return str(p)

    def _tmp(self, path: Path, token: object) -> Path:
        return tmp_path(path, self.run_id, token)

    def _settle(self) -> list[str]:
        """Settle intents of crashed writers (the lock is held, so no intent is in progress): done if the new
        bytes landed, abandoned if the old ones are still there. Returns the paths left unsettled."""
        unsettled: list[str] = []
        db = self._conn()
        with self._db_lock:
            rows = db.execute(_FILE_SELECT + " WHERE state = 'intent' ORDER BY seq").fetchall()
        if not rows:
            return unsettled
        changes: list[tuple[str, int]] = []
        for row in rows:
            entry = _entry(row)
            path = self.fleet_root / entry["path"]
            with contextlib.suppress(FileNotFoundError):
                self._tmp(path, entry["seq"]).unlink()
            current = current_state(path)[0]
            if current == entry["after"]:
                changes.append(("done", entry["seq"]))
            elif current == entry["before"]:
                changes.append(("abandoned", entry["seq"]))
                prune_dirs(self.fleet_root, entry["path"], set(entry["created_dirs"]))
            else:
                unsettled.append(entry["path"])
        if changes:
            with self._tx() as tx:
                tx.executemany("UPDATE files SET state = ? WHERE seq = ?", changes)
        return unsettled


def read_state(run_dir: Path) -> dict[str, Any]:
    """The state of the run whose folder is `run_dir` (`<fleet>/.fleetshift/runs/<run-id>`), read without a lock."""
    run_dir = Path(run_dir).resolve()
    legacy = run_dir / LEGACY_STATE
    if not (run_dir / STATE_DB).is_file() and legacy.is_file():  # an earlier release's layout: read as it is
        try:
            return json.loads(legacy.read_bytes())
        except ValueError as exc:
            raise JournalError(f"state file {legacy} is damaged: {exc}") from exc
    journal = Journal(run_dir.parents[2], run_dir.name)
    try:
        return journal.state()
    finally:
        journal.close()


def _out_of_scope(
    chain: list[tuple[str, dict[str, Any]]], service: str | None, recipe: str | None
) -> str | None:
    """None when the chain of live writes to one file is outside the rollback's scope, "" when it is wholly
    inside, or the reason it cannot be rolled back alone."""
    names = {name for name, _ in chain}
    if service is not None:
        if service not in names:
            return None
        if names != {service}:
            others = ", ".join(sorted(names - {service}))
            return f"also written by service {others} in this run; roll back the whole run"
    if recipe is not None:
        touched = [e for _, e in chain if recipe in e["recipes"]]
        if not touched:
            return None
        if any(e["recipes"] != [recipe] for _, e in chain):
            mixed = sorted({r for _, e in chain for r in e["recipes"]} - {recipe}) or ["no recipe"]
            return f"also changed by {', '.join(mixed)}; roll back the service to undo it"
    return ""
