"""Health checks: start a service, poll a loopback URL or a command until healthy or timeout, stop it."""

from __future__ import annotations

import os
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from fleetshift.config import HealthCheck
from fleetshift.model import (
    HealthResult,
    Service,
)
from fleetshift.proc import kill_group, run_logged, start_logged
from fleetshift.verify.envs import Env, env_path, log_dir


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _probe_url(url: str, timeout: float) -> tuple[bool, str]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through a proxy
    try:
        with opener.open(url, timeout=timeout) as resp:
            return 200 <= resp.status < 400, f"HTTP {resp.status}"
    except urllib.error.HTTPError as exc:
        return False, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return False, str(getattr(exc, "reason", exc))


def check_health(env_bin_dir: Path | None, service_dir: Path, check: HealthCheck, log: Path) -> HealthResult:
    """Start the service (shell command, venv first on PATH, `{port}` a free loopback port, cwd the service),
    poll its URL (loopback only) or command until healthy or `check.timeout`, then stop it. Never raises."""
    port = str(free_port())
    start, url, probe, stop = (
        s.replace("{port}", port) for s in (check.start, check.url, check.command, check.stop)
    )
    if url and (urlparse(url).hostname or "") not in _LOOPBACK:
        return HealthResult(
            False, f"health url {url} is not on 127.0.0.1; only loopback URLs are polled", str(log)
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_CORE_"))}
    env["FLEETSHIFT_SERVICE"] = Path(service_dir).name
    env["FLEETSHIFT_PORT"] = port
    if env_bin_dir is not None:
        env["PATH"] = str(env_bin_dir) + os.pathsep + env.get("PATH", "")
        env["VIRTUAL_ENV"] = str(Path(env_bin_dir).parent)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w", encoding="utf-8") as fh:
        proc = None
        if start:
            try:
                proc = start_logged(start, service_dir, env, fh)
            except OSError as exc:
                return HealthResult(False, f"cannot start {start!r}: {exc}", str(log))
        deadline = time.monotonic() + check.timeout
        detail, ok = "not probed", False
        try:
            while True:
                remaining = deadline - time.monotonic()
                if url:
                    ok, detail = _probe_url(url, max(0.2, min(2.0, remaining)))
                else:
                    code, _ = run_logged(probe, Path(service_dir), env, fh, max(0.2, min(10.0, remaining)))
                    ok, detail = code == 0, f"probe exit code {code}"
                if ok:
                    detail = (
                        f"healthy after {check.timeout - max(remaining, 0):.1f} s ({url or probe}: {detail})"
                    )
                    break
                if proc is not None and proc.poll() is not None:
                    detail = f"{start!r} exited with code {proc.returncode} before it was healthy (last probe: {detail})"
                    break
                if time.monotonic() >= deadline:
                    detail = f"not healthy within {check.timeout:g} s ({url or probe}: {detail})"
                    break
                time.sleep(0.2)
        finally:
            if stop:
                run_logged(stop, Path(service_dir), env, fh, 15.0)
            if proc is not None:
                kill_group(proc)
            fh.write(f"[fleetshift] health: {'ok' if ok else 'FAILED'}: {detail}\n")
    return HealthResult(ok, detail, str(log))


def health(
    root: Path, service: Service, run_dir: Path, check: HealthCheck, *, env_root: Path | None = None
) -> HealthResult:
    """The health check of a service in its "new" environment (made by `after`), logged to
    `<run_dir>/logs/<service>/new-health.log`."""
    venv = env_path(root, service, "new", env_root)
    bin_dir = Env(service.name, "new", str(venv), True).bin_dir
    log = log_dir(run_dir, service) / "new-health.log"
    return check_health(bin_dir if bin_dir.is_dir() else None, Path(root) / service.path, check, log)
