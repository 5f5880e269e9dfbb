"""Running a command with a timeout: its output appended to a log, its whole process group killed on timeout.

The one place fleetshift starts other programs: verification (installs, tests, health checks), hooks, the
resolver, relocking and interpreter probes, so a command that starts children never leaves them running after
its step has timed out.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO


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
    try:
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            shell=isinstance(cmd, str),
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
    return subprocess.Popen(cmd, shell=True, cwd=cwd, env=dict(env), stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
