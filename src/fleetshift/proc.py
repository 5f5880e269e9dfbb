"""Running a command with a timeout: its output appended to a log, its whole process group killed on timeout.

The one place fleetshift starts other programs: verification (installs, tests, health checks), hooks, the
resolver, relocking and interpreter probes, so a command that starts children never leaves them running after
its step has timed out.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import sysconfig
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

# Set in a process that may be killed outright while its commands run (a Ray task's worker, which Ray kills when a
# cancelled task has not ended within the conductor's grace): the commands `run_logged` and `start_logged` start
# then run under a guard that ends their whole process group when the thread that started it dies (Linux's
# PR_SET_PDEATHSIG), rather than being left running on the node.
DIE_WITH_PARENT = False

# uv's `find_uv_bin`, which every module that starts uv calls (from threads: resolutions asked ahead, installs side by
# side), reads `sysconfig`, whose first reading fills a shared table that other threads see half-filled on Python
# 3.11 (`EXE` None: a TypeError inside uv's lookup that failed a service). Filled here, once, by the thread that
# imports this module, before any of those threads can exist.
sysconfig.get_config_vars()

# The guard, run as `python -I -c GUARD shell|exec CMD...` in the command's own session: it asks to be sent SIGTERM
# when its parent thread dies (and checks the parent did not die before it asked), runs the command in its own
# process group, and on SIGTERM from a dead parent kills that whole group (a SIGTERM sent to the group by
# `kill_group` reaches the command itself, and the guard waits for it); otherwise it exits as the command did. A
# watcher it forks does the same when the guard itself ends, however it ends: a Ray worker killed outright has its
# direct children SIGKILLed by Ray, the guard among them, and the command would be left running.
GUARD = """
import ctypes, os, signal, subprocess, sys
parent = os.getppid()
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
except (OSError, AttributeError):
    pass
def stop(*_):
    if os.getppid() != parent:  # the parent died: end the command and all it started
        os.killpg(0, signal.SIGKILL)
    # else a TERM sent to the whole group (`kill_group`): the command has it too; wait for it as before
signal.signal(signal.SIGTERM, stop)
stop()
if os.fork() == 0:  # a watcher: Ray SIGKILLs the direct children of a worker it kills, this guard among them
    parent = os.getppid()  # the guard
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass
    stop()
    while True:
        signal.pause()
shell = sys.argv[1] == "shell"
proc = subprocess.Popen(sys.argv[2] if shell else sys.argv[2:], shell=shell)
while True:
    try:
        code = proc.wait()
        break
    except InterruptedError:
        continue
if code < 0:
    signal.signal(-code, signal.SIG_DFL)
    os.kill(os.getpid(), -code)
sys.exit(code)
"""


def guarded(cmd: Sequence[str] | str) -> tuple[Sequence[str] | str, bool]:
    """`cmd` (and whether it needs a shell) as it is started: under the guard when `DIE_WITH_PARENT` (Linux)."""
    shell = isinstance(cmd, str)
    if not DIE_WITH_PARENT or not sys.platform.startswith("linux"):
        return cmd, shell
    if shell:
        return [sys.executable, "-I", "-c", GUARD, "shell", str(cmd)], False
    return [sys.executable, "-I", "-c", GUARD, "exec", *[str(c) for c in cmd]], False


def kill_group(proc: subprocess.Popen[bytes], grace: float = 3.0) -> None:
    """Stop a process and everything it started (its process group): TERM, then KILL."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            if hasattr(os, "killpg"):
                os.killpg(proc.pid, sig)
            else:  # pragma: no cover - no process groups on this platform
                proc.kill()
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=wait)
            if sig == signal.SIGTERM:
                try:  # children may outlive the leader
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError, AttributeError):
                    pass
            return
        except subprocess.TimeoutExpired:
            continue


def run_logged(
    cmd: Sequence[str] | str, cwd: Path, env: Mapping[str, str], log: IO[str], timeout: float
) -> tuple[int | None, bool]:
    """Run a command with its output appended to `log`; (exit code, timed out). The group is killed on timeout."""
    shown = cmd if isinstance(cmd, str) else " ".join(str(c) for c in cmd)
    log.write(f"$ {shown}\n  (cwd {cwd})\n")
    log.flush()
    started, shell = guarded(cmd)
    try:
        proc = subprocess.Popen(
            started,
            cwd=cwd,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            shell=shell,
            start_new_session=True,
        )
    except OSError as exc:
        log.write(f"cannot start: {exc}\n")
        return 127, False
    try:
        code = proc.wait(timeout=max(timeout, 0.1))
    except subprocess.TimeoutExpired:
        kill_group(proc)
        log.write(f"\n[fleetshift] killed after {timeout:.0f} s (step timeout)\n")
        log.flush()
        return None, True
    log.write(f"[exit code {code}]\n")
    log.flush()
    return code, False


@dataclass(frozen=True)
class Captured:
    """What a captured command printed and how it ended (`code` None when it could not start or timed out)."""

    code: int | None
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False
    error: str = ""  # why it could not start

    @property
    def ok(self) -> bool:
        return self.code == 0


def run_captured(
    cmd: Sequence[str],
    timeout: float,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
) -> Captured:
    """Run a command with its output captured as text (`input` on its standard input); on timeout its whole
    process group is killed."""
    try:
        proc = subprocess.Popen(
            list(cmd),
            cwd=cwd,
            env=None if env is None else dict(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL if input is None else subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
    except OSError as exc:
        return Captured(None, error=f"cannot run {cmd[0]}: {exc}")
    try:
        out, err = proc.communicate(input, timeout=max(timeout, 0.1))
    except subprocess.TimeoutExpired:
        kill_group(proc)  # type: ignore[arg-type]
        out, err = proc.communicate()
        return Captured(None, out or "", err or "", timed_out=True, error=f"{cmd[0]} timed out after {timeout:g}s")
    return Captured(proc.returncode, out or "", err or "")


def start_logged(cmd: str, cwd: Path | str, env: Mapping[str, str], log: IO[str]) -> subprocess.Popen[bytes]:
    """Start a long-running shell command in its own process group, its output appended to `log`; stop it with
    `kill_group`. Raises OSError when it cannot start."""
    log.write(f"$ {cmd}\n")
    log.flush()
    started, shell = guarded(cmd)
    return subprocess.Popen(started, shell=shell, cwd=cwd, env=dict(env), stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
