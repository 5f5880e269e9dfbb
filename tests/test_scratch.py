"""Scratch folders (`fsutil.scratch_dir`): removed when their block ends, and, when their process is killed inside
it, by the next process that asks for one of the same prefix; never while their owner still works in them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from fleetshift import fsutil

HOLD = """
import sys, time
from fleetshift.fsutil import scratch_dir
with scratch_dir(sys.argv[1]) as folder:
    (folder / "work").mkdir()
    print(folder, flush=True)
    time.sleep(60)
"""


def _holder(prefix: str, base: Path) -> tuple[subprocess.Popen[str], Path]:
    src = str(Path(fsutil.__file__).parents[1])  # this fleetshift, not another installed one
    env = {**os.environ, "TMPDIR": str(base), "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-c", HOLD, prefix], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    folder = Path(proc.stdout.readline().strip())
    assert folder.parent == base and (folder / "work").is_dir()
    return proc, folder


def test_scratch_folder_is_removed_when_the_block_ends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with fsutil.scratch_dir("fleetshift-t1-") as folder:
        (folder / "a").write_text("x")
        assert folder.parent == tmp_path
    assert not folder.exists()


def test_a_killed_owner_s_folder_is_removed_by_the_next_process_a_live_one_s_is_kept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    prefix = f"fleetshift-t2-{os.getpid()}-"
    killed, left = _holder(prefix, tmp_path)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert left.is_dir()  # SIGKILL: nothing of the process ran
    alive, working = _holder(prefix, tmp_path)  # the next process of the prefix removes it
    try:
        assert not left.exists()
        old = tmp_path / f"{prefix}old"  # a folder without a lock file (an earlier version's leftover)
        old.mkdir()
        os.utime(old, (time.time() - 90000, time.time() - 90000))
        young = tmp_path / f"{prefix}young"  # ... or one whose lock file is being made, or in use by such a version
        young.mkdir()
        other = tmp_path / "fleetshift-other-x"
        other.mkdir()
        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
        monkeypatch.setattr(fsutil, "_swept", set())
        with fsutil.scratch_dir(prefix) as mine:  # the first of this prefix in this process sweeps
            assert not old.exists()
            assert working.is_dir() and young.is_dir() and other.is_dir()
        assert not mine.exists()
    finally:
        alive.send_signal(signal.SIGKILL)
        alive.wait()
    assert fsutil.sweep_scratch(prefix, tmp_path) == [working]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([young.name, other.name])
