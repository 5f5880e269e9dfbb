"""A real mosquitto broker on 127.0.0.1 for tests: generated config, free port, started and stopped per use.

Use `with mosquitto(tmp_path) as broker:` (or wrap it in a fixture); `broker.port` is the listening port.
The test is skipped only when the mosquitto binary is not installed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

SKIP_REASON = "mosquitto is not installed (apt-get install mosquitto)"
_CANDIDATES = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/opt/homebrew/sbin/mosquitto")


@dataclass(frozen=True)
class Broker:
    """A running broker: where it listens and its process."""

    host: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path


def mosquitto_binary() -> str | None:
    """The mosquitto executable, or None when it is not installed."""
    found = shutil.which("mosquitto")
    if found:
        return found
    return next((c for c in _CANDIDATES if os.access(c, os.X_OK)), None)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _wait_until_listening(
    host: str, port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"mosquitto exited with {proc.returncode}: {log.read_text(errors='replace')}")
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"mosquitto did not listen on {host}:{port} within {timeout}s") from None
            time.sleep(0.02)


@contextmanager
def mosquitto(
    workdir: Path | None = None, host: str = "127.0.0.1", timeout: float = 10.0
) -> Iterator[Broker]:
    """Start mosquitto on `host` and a free port, yield it once it accepts connections, then stop it."""
    binary = mosquitto_binary()
    if binary is None:
        pytest.skip(SKIP_REASON)
    with tempfile.TemporaryDirectory(prefix="fleetshift-mosquitto-", dir=workdir) as tmp:
        conf, log = Path(tmp) / "mosquitto.conf", Path(tmp) / "mosquitto.log"
        for _attempt in range(3):  # the port may be taken between choosing it and binding it
            port = free_port(host)
            conf.write_text(
                f"listener {port} {host}\nallow_anonymous true\npersistence false\n"
                "log_dest stderr\nlog_type error\nlog_type warning\n",
                encoding="utf-8",
            )
            with log.open("wb") as out:
                proc = subprocess.Popen([binary, "-c", str(conf)], stdout=out, stderr=subprocess.STDOUT)
            try:
                _wait_until_listening(host, port, proc, log, timeout)
                break
            except RuntimeError:
                continue
        else:
            raise RuntimeError(f"mosquitto could not start: {log.read_text(errors='replace')}")
        try:
            yield Broker(host, port, proc, log)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
