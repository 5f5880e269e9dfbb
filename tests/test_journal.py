"""The journal: exact bytes and modes, rollback scopes, conflicts, and crash safety proven by killing processes.

Run as a script (`python test_journal.py write|rollback|write-many <fleet>`) this module is the worker
process that the crash tests kill.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

import pytest

import fleetshift.journal as journal_module
from fleetshift.journal import CRASH_ENV, Journal, JournalError, RollbackReport, checkpoints_passed

BINARY = bytes(range(256)) * 3 + b"\x00\r\n\x1a"
CRLF = b"import tenacity\r\n\r\n@tenacity.retry\r\ndef f():\r\n    pass\r\n"
BOM = b"\xef\xbb\xbf# caf\xc3\xa9\nimport asyncio_mqtt\n"
NO_EOL = b"[pytest]\nasyncio_mode = auto"


def make_fleet(root: Path) -> Path:
    """A small fleet of two services with awkward files; returns `root`."""
    files = {
        "svc-a/data.bin": (BINARY, 0o644),
        "svc-a/app.py": (CRLF, 0o644),
        "svc-a/bom.py": (BOM, 0o644),
        "svc-a/pytest.ini": (NO_EOL, 0o644),
        "svc-a/run.sh": (b"#!/bin/sh\nexec python -m app\n", 0o755),
        "svc-a/locked.txt": (b"read only\n", 0o444),
        "svc-a/old.cfg": (b"[old]\nx = 1\n", 0o640),
        "svc-b/requirements.txt": (b"tenacity==8.2.3\r\n", 0o644),
        "svc-b/src/b/__init__.py": (b"", 0o644),
        "svc-b/src/b/main.py": (b"import asyncio_mqtt\n", 0o600),
    }
    for rel, (data, mode) in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(mode)
    return root


def snapshot(root: Path) -> dict[str, tuple[str, bytes | None, int]]:
    """Every file and folder under `root` except `.fleetshift/`: kind, bytes, mode bits."""
    out: dict[str, tuple[str, bytes | None, int]] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel.split("/")[0] == ".fleetshift":
            continue
        st = path.lstat()
        if stat.S_ISDIR(st.st_mode):
            out[rel] = ("dir", None, stat.S_IMODE(st.st_mode))
        else:
            out[rel] = ("file", path.read_bytes(), stat.S_IMODE(st.st_mode))
    return out


# The plan the crash worker carries out: (service, path, new bytes or None to delete, recipes).
PLAN: list[tuple[str, str, bytes | None, tuple[str, ...]]] = [
    ("svc-a", "svc-a/app.py", CRLF.replace(b"tenacity", b"tenacity  # 9"), ("tenacity",)),
    ("svc-a", "svc-a/data.bin", BINARY[::-1], ("tenacity",)),
    ("svc-a", "svc-a/conftest.py", b"import pytest\n", ("pytest-asyncio",)),
    (
        "svc-a",
        "svc-a/pytest.ini",
        b"[pytest]\nasyncio_default_fixture_loop_scope = function",
        ("pytest-asyncio",),
    ),
    ("svc-a", "svc-a/old.cfg", None, ("pytest-asyncio",)),
    ("svc-a", "svc-a/run.sh", b"#!/bin/sh\nexec python -m app --new\n", ("tenacity",)),
    ("svc-a", "svc-a/app.py", CRLF.replace(b"tenacity", b"tenacity  # 9 (2)"), ("pytest-asyncio",)),
    ("svc-a", "svc-a/locked.txt", b"still read only\n", ("tenacity",)),
    ("svc-b", "svc-b/requirements.txt", b"tenacity==9.0.0\r\n", ("tenacity",)),
    ("svc-b", "svc-b/src/b/new/deep/mod.py", b"x = 1\n", ("aiomqtt",)),
    ("svc-b", "svc-b/src/b/main.py", b"import aiomqtt\n", ("aiomqtt",)),
]


def run_plan(fleet: Path) -> None:
    """Carry out PLAN through a new journal, with the steps a real run records."""
    journal = Journal.start(fleet, {"command": "upgrade", "options": {"jobs": 1}})
    for service in ("svc-a", "svc-b"):
        journal.set_step(service, "rewrite", "running")
    for service, rel, new, recipes in PLAN:
        path = fleet / rel
        journal.write(service, rel, new, recipes, expect=path.read_bytes() if path.exists() else None)
    for service in ("svc-a", "svc-b"):
        journal.set_step(service, "rewrite", "done", "files written")
    journal.set_status("completed")


def many_files(fleet: Path, count: int = 30) -> None:
    for i in range(count):
        path = fleet / f"svc-{i % 5}" / f"f{i}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"line {i}\r\n".encode() * (i % 7))


def run_many(fleet: Path, count: int = 30) -> None:
    journal = Journal.start(fleet)
    print("go", flush=True)
    for i in range(count):
        rel = f"svc-{i % 5}/f{i}.txt"
        new = None if i % 11 == 0 else f"new {i}\n".encode() * (i % 5)
        journal.write(f"svc-{i % 5}", rel, new, ("r",))
        journal.write(f"svc-{i % 5}", f"svc-{i % 5}/created/c{i}.txt", b"created\n", ("r",), expect=None)
        journal.set_step(f"svc-{i % 5}", f"file-{i}", "done")
        print("wrote", i, flush=True)
    journal.set_status("completed")


# A killed process loses nothing the kernel already holds, so fsync plays no part in surviving SIGKILL
# (it guards against power loss, which no test here can stage). The crash tests switch it off so that
# hundreds of crash points stay fast on a busy disk; `test_write_fsyncs_in_order` checks the fsyncs.
NO_FSYNC = "--no-fsync"


def _no_fsync(fd: int) -> None:
    return None


@pytest.fixture
def no_fsync(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "fsync", _no_fsync)


def worker(fleet: Path, crash_at: int | None = None, what: str = "write") -> subprocess.CompletedProcess[str]:
    """Carry out `what` on `fleet` in a new Python process (dying at checkpoint `crash_at` if given)."""
    env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
    if crash_at is not None:
        env[CRASH_ENV] = str(crash_at)
    return subprocess.run(
        [sys.executable, __file__, what, str(fleet), NO_FSYNC],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def fleet_copy(tmp: Path, name: str, original: Path) -> Path:
    dest = tmp / name
    shutil.copytree(original, dest, symlinks=True)
    return dest


def rollback_latest(fleet: Path) -> RollbackReport | None:
    """Roll back the latest run in this (fresh) process; None when the crash came before any run existed."""
    if not Journal.runs(fleet):
        return None
    return Journal.open(fleet).rollback()


# ---- bytes, modes, created and deleted files ---------------------------------------------------------


def test_write_and_rollback_keep_bytes_exact(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path)
    original = snapshot(fleet)
    journal = Journal.start(fleet)
    new = {
        "svc-a/data.bin": BINARY[::-1] + b"\r\n\x00",
        "svc-a/app.py": CRLF.replace(b"\r\n", b"\r\n# x\r\n"),
        "svc-a/bom.py": BOM.replace(b"asyncio_mqtt", b"aiomqtt"),
        "svc-a/pytest.ini": NO_EOL + b"\nasyncio_default_fixture_loop_scope = function",
    }
    for rel, data in new.items():
        journal.write("svc-a", rel, data, ("r",), expect=(fleet / rel).read_bytes())
    for rel, data in new.items():
        assert (fleet / rel).read_bytes() == data
    assert not [p for p in (fleet / "svc-a").iterdir() if "fleetshift" in p.name]  # no temp files left

    report = Journal.open(fleet).rollback()
    assert report.restored == tuple(sorted(new)) and report.clean
    assert snapshot(fleet) == original


def test_mode_bits_kept_and_created_files_get_the_default_mode(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path)
    journal = Journal.start(fleet)
    journal.write("svc-a", "svc-a/run.sh", b"#!/bin/sh\necho new\n")
    journal.write("svc-a", "svc-a/locked.txt", b"new\n")
    journal.write("svc-b", "svc-b/src/b/main.py", b"import aiomqtt\n")
    journal.write("svc-a", "svc-a/tests/conftest.py", b"import pytest\n", expect=None)
    mode = lambda rel: stat.S_IMODE((fleet / rel).stat().st_mode)  # noqa: E731
    assert mode("svc-a/run.sh") == 0o755
    assert mode("svc-a/locked.txt") == 0o444
    assert mode("svc-b/src/b/main.py") == 0o600
    umask = os.umask(0o022)
    os.umask(umask)
    assert mode("svc-a/tests/conftest.py") == 0o666 & ~umask


def test_created_files_and_folders_removed_deleted_files_restored(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path)
    original = snapshot(fleet)
    journal = Journal.start(fleet)
    journal.write("svc-a", "svc-a/new/deeper/conftest.py", b"x\n", expect=None)
    journal.write("svc-a", "svc-a/new/sibling.py", b"y\n", expect=None)
    journal.write("svc-a", "svc-a/old.cfg", None, expect=b"[old]\nx = 1\n")
    assert not (fleet / "svc-a/old.cfg").exists()

    report = journal.rollback()
    assert report.removed == ("svc-a/new/deeper/conftest.py", "svc-a/new/sibling.py")
    assert report.restored == ("svc-a/old.cfg",)
    assert snapshot(fleet) == original  # folders the run made are gone, the deleted file is back with 0o640


def test_file_written_several_times_is_restored_to_before_the_first_write(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path)
    original = snapshot(fleet)
    journal = Journal.start(fleet)
    journal.write("svc-a", "svc-a/app.py", b"one\n", ("a",))
    journal.write("svc-a", "svc-a/app.py", b"two\n", ("b",))
    journal.write("svc-a", "svc-a/app.py", None, ("c",))
    journal.write("svc-a", "svc-a/app.py", b"four\n", ("d",))
    assert journal.rollback().restored == ("svc-a/app.py",)
    assert snapshot(fleet) == original


def test_unchanged_content_records_nothing(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path)
    journal = Journal.start(fleet)
    journal.write("svc-a", "svc-a/app.py", CRLF)
    journal.write("svc-a", "svc-a/absent.py", None)
    assert journal.entries() == []


def test_write_fsyncs_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fleet = make_fleet(tmp_path)
    journal = Journal.start(fleet)
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src: str | Path, dst: str | Path) -> None:
        if Path(dst) == fleet / "svc-a" / "app.py":  # the intent is on disk before the file changes
            [entry] = Journal.open(fleet, journal.run_id).entries()  # committed: another process sees it
            assert entry["state"] == "intent" and entry["path"] == "svc-a/app.py"
        events.append(("replace", str(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    journal.write("svc-a", "svc-a/app.py", b"new\n")
    blob = journal.path / "blobs" / journal.entries()[0]["before"]
    svc = str(fleet / "svc-a")
    tmp = f"{svc}/.app.py.fleetshift-{journal.run_id}-1.tmp"
    # The state database's own fsyncs (synchronous=FULL, WAL) happen inside SQLite, at each commit.
    assert events == [
        ("fsync", f"{journal.path}/blobs/.{blob.name}.tmp"),
        ("replace", str(blob)),
        ("fsync", f"{journal.path}/blobs"),
        ("fsync", tmp),
        ("replace", f"{svc}/app.py"),
        ("fsync", svc),
    ]
    assert journal.entries()[0]["state"] == "done"
    db = sqlite3.connect(journal.path / "state.db")
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    db.close()


# ---- refusals ----------------------------------------------------------------------------------------


def test_write_refuses_a_file_changed_since_it_was_read(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path)
    original = snapshot(fleet)
    journal = Journal.start(fleet)
    cases = [
        ("svc-a/app.py", b"what the rewrite stage read\n", "svc-a/app.py changed since it was read"),
        ("svc-a/app.py", None, "svc-a/app.py changed since it was read (exists)"),
        ("svc-a/gone.py", b"x", "svc-a/gone.py changed since it was read (is gone)"),
    ]
    for rel, expect, message in cases:
        try:
            journal.write("svc-a", rel, b"new\n", expect=expect)
        except JournalError as exc:
            assert message in str(exc)
        else:
            raise AssertionError(f"{rel}: write with a stale read was accepted")
    assert snapshot(fleet) == original
    assert journal.entries() == []


def test_write_refuses_paths_outside_the_fleet_and_links(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path / "fleet")
    (tmp_path / "outside").mkdir()
    (fleet / "svc-a" / "link").symlink_to(tmp_path / "outside")
    (fleet / "svc-a" / "file-link").symlink_to(fleet / "svc-a" / "app.py")
    journal = Journal.start(fleet)
    for rel, message in [
        ("../outside/x.py", "not a path inside the fleet"),
        (str(tmp_path / "outside" / "x.py"), "not a path inside the fleet"),
        (".fleetshift/runs/x", "inside .fleetshift/"),
        ("svc-a/link/x.py", "is a link"),
        ("svc-a/file-link", "not a regular file"),
        ("svc-a", "not a regular file"),
    ]:
        try:
            journal.write("svc-a", rel, b"x")
        except JournalError as exc:
            assert message in str(exc), (rel, str(exc))
        else:
            raise AssertionError(f"{rel} was written")
    assert list((tmp_path / "outside").iterdir()) == []
    assert (fleet / "svc-a" / "app.py").read_bytes() == CRLF


def test_write_many_looks_at_each_folder_once_and_still_refuses_a_link(tmp_path: Path, record_calls) -> None:
    """The files of one write share their folders: each folder on their way is checked for a link once, and a link
    among them still stops the whole write before anything is backed up or written."""
    fleet = make_fleet(tmp_path / "fleet")
    (fleet / "svc-b" / "src" / "b" / "extra.py").write_bytes(b"x = 1\n")
    journal = Journal.start(fleet)
    looked = record_calls(journal_module, "_is_link")
    journal.write_many("svc-b", [("svc-b/src/b/main.py", b"import aiomqtt\n", ["aiomqtt"], b"import asyncio_mqtt\n"),
                                 ("svc-b/src/b/extra.py", b"x = 2\n", ["aiomqtt"], b"x = 1\n"),
                                 ("svc-b/requirements.txt", b"tenacity==9.0.0\r\n", ["tenacity"], b"tenacity==8.2.3\r\n")])
    assert sorted(looked) == [f"{fleet.resolve()}/{d}" for d in ("svc-b", "svc-b/src", "svc-b/src/b")]
    assert (fleet / "svc-b" / "src" / "b" / "extra.py").read_bytes() == b"x = 2\n"
    (tmp_path / "outside").mkdir()
    (fleet / "svc-b" / "src" / "link").symlink_to(tmp_path / "outside")
    with pytest.raises(JournalError, match="folder svc-b/src/link is a link"):
        journal.write_many("svc-b", [("svc-b/src/b/main.py", b"import aiomqtt  # again\n", ["aiomqtt"], b"import aiomqtt\n"),
                                     ("svc-b/src/link/x.py", b"x\n", ["aiomqtt"], None)])
    assert list((tmp_path / "outside").iterdir()) == []
    assert (fleet / "svc-b" / "src" / "b" / "main.py").read_bytes() == b"import aiomqtt\n"


# ---- conflicts ---------------------------------------------------------------------------------------


def test_hand_edited_files_are_conflicts_left_untouched_unless_forced(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path)
    original = snapshot(fleet)
    journal = Journal.start(fleet)
    journal.write("svc-a", "svc-a/app.py", b"migrated\n")
    journal.write("svc-a", "svc-a/bom.py", b"migrated too\n")
    journal.write("svc-a", "svc-a/created.py", b"created\n", expect=None)
    journal.write("svc-a", "svc-a/old.cfg", None)
    journal.set_status("completed")
    (fleet / "svc-a/app.py").write_bytes(b"migrated, then edited by hand\n")
    (fleet / "svc-a/created.py").write_bytes(b"created, then edited by hand\n")
    (fleet / "svc-a/old.cfg").write_bytes(b"recreated by hand\n")

    report = Journal.open(fleet).rollback()
    assert report.conflicts == ("svc-a/app.py", "svc-a/created.py", "svc-a/old.cfg")
    assert report.restored == ("svc-a/bom.py",) and not report.clean
    assert (fleet / "svc-a/app.py").read_bytes() == b"migrated, then edited by hand\n"
    assert (fleet / "svc-a/created.py").read_bytes() == b"created, then edited by hand\n"
    assert (fleet / "svc-a/old.cfg").read_bytes() == b"recreated by hand\n"
    assert journal.state()["status"] == "completed"  # not wholly rolled back

    again = journal.rollback()  # the conflicts are still there; what was restored stays restored
    assert again.conflicts == report.conflicts and again.restored == ()

    forced = journal.rollback(force=True)
    assert forced.restored == ("svc-a/app.py", "svc-a/old.cfg") and forced.removed == ("svc-a/created.py",)
    assert snapshot(fleet) == original
    assert journal.state()["status"] == "rolled-back"


def test_missing_backup_is_skipped_with_a_reason(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path)
    journal = Journal.start(fleet)
    journal.write("svc-a", "svc-a/app.py", b"new\n")
    for blob in (journal.path / "blobs").iterdir():
        blob.chmod(0o644)
        blob.write_bytes(b"damaged")
    report = journal.rollback()
    assert report.skipped and report.skipped[0][0] == "svc-a/app.py"
    assert "missing or damaged" in report.skipped[0][1]
    assert (fleet / "svc-a/app.py").read_bytes() == b"new\n"
    assert journal.state()["services"]["svc-a"]["files"][0]["state"] == "done"


# ---- rollback scopes -------------------------------------------------------------------------------


def test_rollback_one_service(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path)
    original = snapshot(fleet)
    journal = Journal.start(fleet)
    journal.write("svc-a", "svc-a/app.py", b"a\n")
    journal.write("svc-a", "svc-a/new.py", b"a\n", expect=None)
    journal.write("svc-b", "svc-b/requirements.txt", b"tenacity==9.0.0\r\n")

    report = journal.rollback(service="svc-a")
    assert report.restored == ("svc-a/app.py",) and report.removed == ("svc-a/new.py",)
    after = snapshot(fleet)
    assert {k: v for k, v in after.items() if k.startswith("svc-a")} == {
        k: v for k, v in original.items() if k.startswith("svc-a")
    }
    assert (fleet / "svc-b/requirements.txt").read_bytes() == b"tenacity==9.0.0\r\n"
    state = journal.state()
    assert state["services"]["svc-a"]["status"] == "rolled-back"
    assert state["services"]["svc-b"]["status"] == "running"
    assert state["status"] == "running"
    try:
        journal.rollback(service="svc-z")
    except JournalError as exc:
        assert "no service 'svc-z'" in str(exc) and "svc-a, svc-b" in str(exc)
    else:
        raise AssertionError("unknown service accepted")


def test_a_file_written_by_two_services_is_not_rolled_back_for_one(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path)
    journal = Journal.start(fleet)
    journal.write("svc-a", "shared.txt", b"a\n", expect=None)
    journal.write("svc-b", "shared.txt", b"b\n")
    report = journal.rollback(service="svc-a")
    assert report.skipped == (
        ("shared.txt", "also written by service svc-b in this run; roll back the whole run"),
    )
    assert (fleet / "shared.txt").read_bytes() == b"b\n"
    assert journal.rollback().removed == ("shared.txt",)


def test_rollback_one_recipe(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path)
    original = snapshot(fleet)
    journal = Journal.start(fleet)
    journal.write("svc-a", "svc-a/app.py", b"tenacity only\n", ("tenacity",))
    journal.write("svc-a", "svc-a/pytest.ini", b"pytest-asyncio only\n", ("pytest-asyncio",))
    journal.write("svc-a", "svc-a/bom.py", b"both\n", ("tenacity", "pytest-asyncio"))
    journal.write("svc-a", "svc-a/run.sh", b"first tenacity\n", ("tenacity",))
    journal.write("svc-a", "svc-a/run.sh", b"then aiomqtt\n", ("aiomqtt",))
    journal.write("svc-b", "svc-b/requirements.txt", b"tenacity==9.0.0\r\n", ("tenacity",))

    report = journal.rollback(service="svc-a", recipe="tenacity")
    assert report.restored == ("svc-a/app.py",)
    assert dict(report.skipped) == {
        "svc-a/bom.py": "also changed by pytest-asyncio; roll back the service to undo it",
        "svc-a/run.sh": "also changed by aiomqtt; roll back the service to undo it",
    }
    assert (fleet / "svc-a/app.py").read_bytes() == CRLF
    assert (fleet / "svc-a/pytest.ini").read_bytes() == b"pytest-asyncio only\n"
    assert (fleet / "svc-b/requirements.txt").read_bytes() == b"tenacity==9.0.0\r\n"
    assert journal.state()["services"]["svc-a"]["status"] == "running"

    assert journal.rollback(recipe="tenacity").restored == ("svc-b/requirements.txt",)
    assert journal.rollback(recipe="pytest-asyncio").restored == ("svc-a/pytest.ini",)
    assert journal.rollback(service="svc-a").restored == ("svc-a/bom.py", "svc-a/run.sh")
    assert snapshot(fleet) == original


def test_second_rollback_is_a_no_op(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path)
    original = snapshot(fleet)
    journal = Journal.start(fleet)
    for service, rel, new, recipes in PLAN:
        journal.write(service, rel, new, recipes)
    first = journal.rollback()
    assert first.clean and len(first.restored) + len(first.removed) == len({rel for _, rel, _, _ in PLAN})
    assert snapshot(fleet) == original
    mtimes = {p: p.stat().st_mtime_ns for p in fleet.rglob("*") if ".fleetshift" not in p.parts}
    second = Journal.open(fleet).rollback()
    assert second == RollbackReport()
    assert {p: p.stat().st_mtime_ns for p in fleet.rglob("*") if ".fleetshift" not in p.parts} == mtimes
    state = journal.state()
    assert state["status"] == "rolled-back"
    assert {e["state"] for e in journal.entries()} == {"rolled-back"}
    assert {s["status"] for s in state["services"].values()} == {"rolled-back"}


# ---- runs and state ----------------------------------------------------------------------------------


def test_runs_open_latest_and_clear_errors(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path)
    try:
        Journal.open(fleet)
    except JournalError as exc:
        assert "no fleetshift runs" in str(exc) and str(fleet) in str(exc)
    else:
        raise AssertionError("open without runs succeeded")
    ids = [Journal.start(fleet, {"n": n}).run_id for n in range(3)]
    assert Journal.runs(fleet) == ids == sorted(ids) and len(set(ids)) == 3
    latest = Journal.open(fleet)
    assert latest.run_id == ids[-1] and latest.state()["meta"] == {"n": 2}
    assert Journal.open(fleet, ids[0]).state()["meta"] == {"n": 0}
    try:
        Journal.open(fleet, "19990101-000000-0000")
    except JournalError as exc:
        assert "no run '19990101-000000-0000'" in str(exc)
    else:
        raise AssertionError("unknown run opened")
    assert (fleet / ".fleetshift" / ".gitignore").read_bytes() == b"*\n"


def test_state_records_steps_statuses_and_entries(tmp_path: Path) -> None:
    fleet = make_fleet(tmp_path)
    journal = Journal.start(fleet, {"command": "upgrade", "options": {"jobs": 4}})
    journal.set_step("svc-a", "baseline", "done", "12 passed")
    journal.set_step("svc-a", "rewrite", "running")
    journal.write("svc-a", "svc-a/app.py", b"new\n", ("tenacity",))
    journal.set_step("svc-a", "rewrite", "done")
    journal.set_step("svc-a", "verify", "failed", "2 regressions")
    journal.set_service_status("svc-a", "failed")
    journal.set_status("failed")

    state = Journal.open(fleet, journal.run_id).state()  # a fresh handle reads what is on disk
    assert state == journal.state()
    assert state["run_id"] == journal.run_id and state["fleet_root"] == str(fleet.resolve())
    assert state["meta"] == {"command": "upgrade", "options": {"jobs": 4}} and state["status"] == "failed"
    svc = state["services"]["svc-a"]
    assert svc["status"] == "failed"
    assert [(k, v["status"], v["detail"]) for k, v in svc["steps"].items()] == [
        ("baseline", "done", "12 passed"),
        ("rewrite", "done", ""),
        ("verify", "failed", "2 regressions"),
    ]
    [entry] = svc["files"]
    assert entry["path"] == "svc-a/app.py" and entry["state"] == "done" and entry["recipes"] == ["tenacity"]
    assert (journal.path / "blobs" / entry["before"]).read_bytes() == CRLF
    events = [json.loads(line)["event"] for line in (journal.path / "journal.jsonl").read_text().splitlines()]
    assert events[:3] == ["start", "step", "step"] and "intent" in events and "done" in events
    for bad in (lambda: journal.set_status("finished"), lambda: journal.set_step("svc-a", "x", "ok")):
        try:
            bad()
        except JournalError as exc:
            assert "unknown" in str(exc)
        else:
            raise AssertionError("bad status accepted")


def test_concurrent_writers_share_one_run(tmp_path: Path, no_fsync: None) -> None:
    fleet = make_fleet(tmp_path)
    many_files(fleet, 40)
    original = snapshot(fleet)
    run_id = Journal.start(fleet).run_id

    def work(k: int) -> None:
        journal = Journal.open(fleet, run_id)  # each worker its own handle, as separate processes would
        for i in range(k, 40, 4):
            journal.write(f"svc-{i % 5}", f"svc-{i % 5}/f{i}.txt", f"w{i}".encode())
            journal.set_step(f"svc-{i % 5}", f"s{i}", "done")

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    journal = Journal.open(fleet, run_id)
    assert sorted(e["seq"] for e in journal.entries()) == list(range(1, 41))
    assert sum(len(s["steps"]) for s in journal.state()["services"].values()) == 40
    assert journal.rollback().clean and snapshot(fleet) == original


# ---- crash safety, by killing real processes ---------------------------------------------------------


def crash_children(jobs: list[tuple[Path, str, int]], parallel: int = 6) -> list[int]:
    """Fork one child per (fleet, "write" | "rollback", n) that dies at its n-th journal checkpoint (0: runs
    to the end); returns their exit codes. Forking (not exec) keeps hundreds of crash points fast."""
    codes: dict[int, int] = {}
    running: dict[int, int] = {}
    sys.stdout.flush()
    sys.stderr.flush()
    for index, (fleet, what, crash_at) in enumerate(jobs):
        while len(running) >= parallel:
            pid, status = os.wait()
            if pid in running:  # (a child this process had before is not one of these)
                codes[running.pop(pid)] = os.waitstatus_to_exitcode(status)
        pid = os.fork()
        if pid == 0:  # the child: never returns into pytest
            try:
                if crash_at:
                    os.environ[CRASH_ENV] = str(crash_at)
                else:
                    os.environ.pop(CRASH_ENV, None)
                journal_module._checkpoints = 0
                os.fsync = _no_fsync
                if what == "write":
                    run_plan(fleet)
                elif Journal.runs(fleet):
                    report = Journal.open(fleet).rollback()
                    os._exit(0 if report.clean else 2)
                os._exit(0)
            except BaseException:
                traceback.print_exc()
                os._exit(1)
        running[pid] = index
    while running:
        pid, status = os.wait()
        if pid in running:
            codes[running.pop(pid)] = os.waitstatus_to_exitcode(status)
    return [codes[i] for i in range(len(jobs))]


def count_checkpoints(fleet: Path, what: str) -> int:
    """Carry out `what` in a real process without crashing; returns how many checkpoints it passed."""
    done = worker(fleet, what=what)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1])


def test_kill_at_every_checkpoint_then_rollback_restores_everything(tmp_path: Path, no_fsync: None) -> None:
    original_fleet = make_fleet(tmp_path / "original")
    original = snapshot(original_fleet)
    probe = fleet_copy(tmp_path, "probe", original_fleet)
    total = count_checkpoints(probe, "write")
    assert total > 5 * len(PLAN)  # backup, intent, replace and done of every write are checkpoints
    assert snapshot(probe) != original
    fleets = [fleet_copy(tmp_path, f"crash-{n}", original_fleet) for n in range(1, total + 1)]
    codes = crash_children([(fleet, "write", n) for n, fleet in enumerate(fleets, 1)])
    assert codes == [137] * total
    exec_fleet = fleet_copy(tmp_path, "exec", original_fleet)  # and once through a real exec, by env var
    assert worker(exec_fleet, crash_at=total // 2).returncode == 137
    assert snapshot(exec_fleet) != original
    assert Journal.open(exec_fleet).rollback().clean and snapshot(exec_fleet) == original
    changed = sum(snapshot(fleet) != original for fleet in fleets)
    assert changed > total // 2  # most crashes left a half-migrated tree behind
    # Roll back each in a fresh process (not the one that crashed), then compare byte for byte.
    assert crash_children([(fleet, "rollback", 0) for fleet in fleets]) == [0] * total
    for n, fleet in enumerate(fleets, 1):
        assert snapshot(fleet) == original, f"crash at checkpoint {n}: tree differs after rollback"
        if Journal.runs(fleet):
            journal = Journal.open(fleet)
            assert journal.state()["status"] == "rolled-back"
            assert {e["state"] for e in journal.entries()} <= {"rolled-back", "abandoned"}
            if n % 9 == 0:
                assert journal.rollback() == RollbackReport()


def test_kill_rollback_at_every_checkpoint_then_rerun(tmp_path: Path, no_fsync: None) -> None:
    original_fleet = make_fleet(tmp_path / "original")
    original = snapshot(original_fleet)
    for label, crash_at in [("complete", 0), ("interrupted", 40)]:
        written = fleet_copy(tmp_path, f"written-{label}", original_fleet)
        if crash_at:
            assert crash_children([(written, "write", crash_at)]) == [137]
        else:
            run_plan(written)
        probe = fleet_copy(tmp_path, f"probe-{label}", written)
        total = count_checkpoints(probe, "rollback")
        assert snapshot(probe) == original
        assert total > (len(PLAN) if not crash_at else 2)
        fleets = [fleet_copy(tmp_path, f"{label}-{m}", written) for m in range(1, total + 1)]
        assert crash_children([(fleet, "rollback", m) for m, fleet in enumerate(fleets, 1)]) == [137] * total
        for m, fleet in enumerate(fleets, 1):
            report = Journal.open(fleet).rollback()
            assert report.clean, (m, report)
            assert snapshot(fleet) == original, (
                f"rollback killed at checkpoint {m}: tree differs after re-run"
            )


def start_many(fleet: Path) -> subprocess.Popen[bytes]:
    """Start the `write-many` worker and return once it has begun writing."""
    proc = subprocess.Popen(
        [sys.executable, __file__, "write-many", str(fleet), NO_FSYNC],
        stdout=subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if k != CRASH_ENV},
    )
    assert proc.stdout is not None and proc.stdout.readline() == b"go\n"
    return proc


def test_sigkill_at_random_moments_then_rollback(tmp_path: Path, no_fsync: None) -> None:
    original_fleet = tmp_path / "original"
    original_fleet.mkdir()
    many_files(original_fleet)
    original = snapshot(original_fleet)
    rng = random.Random(20261122)
    half_done = 0
    for i in range(6):
        fleet = fleet_copy(tmp_path, f"kill-{i}", original_fleet)
        proc = start_many(fleet)
        assert proc.stdout is not None
        for _ in range(rng.randrange(1, 20)):  # let it get some files in, then kill it wherever it is
            assert proc.stdout.readline().startswith(b"wrote ")
        time.sleep(rng.uniform(0, 0.003))
        os.kill(proc.pid, signal.SIGKILL)
        rc = proc.wait()
        proc.stdout.close()
        status = Journal.open(fleet).state()["status"]
        half_done += rc == -signal.SIGKILL and status == "running" and snapshot(fleet) != original
        report = Journal.open(fleet).rollback()
        assert report.clean, report
        assert snapshot(fleet) == original, f"kill {i}: tree differs after rollback"
    assert half_done >= 4  # the kills landed in the middle of the run


def test_recover_settles_intents_of_a_crashed_writer(tmp_path: Path, no_fsync: None) -> None:
    fleet = make_fleet(tmp_path / "original")
    total = count_checkpoints(fleet_copy(tmp_path, "probe", fleet), "write")
    settled = set()
    for n in range(1, total + 1):
        crashed = fleet_copy(tmp_path, f"c{n}", fleet)
        assert crash_children([(crashed, "write", n)]) == [137]
        if not Journal.runs(crashed):
            continue
        journal = Journal.open(crashed)
        assert journal.recover() == []
        assert "intent" not in {e["state"] for e in journal.entries()}
        assert not [p for p in crashed.rglob("*.tmp") if ".fleetshift" not in p.parts]
        assert journal.state()["status"] in ("interrupted", "completed")
        settled |= {e["state"] for e in journal.entries()}
        if settled >= {"abandoned", "done"}:
            break
    assert settled >= {"abandoned", "done"}


if __name__ == "__main__":
    command, fleet_arg = sys.argv[1], Path(sys.argv[2])
    if NO_FSYNC in sys.argv:
        os.fsync = _no_fsync
    if command == "write":
        run_plan(fleet_arg)
    elif command == "write-many":
        run_many(fleet_arg)
    elif command == "rollback":
        result = Journal.open(fleet_arg).rollback()
        assert result.clean, result
    print("checkpoints", checkpoints_passed())
