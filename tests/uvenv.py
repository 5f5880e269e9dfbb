"""Real isolated environments for behavioural proofs, made with uv and cached between test runs.

Each environment is keyed by its requirement list; the first test that needs it pays for the install
(uv's shared cache makes later ones cheap).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from uv import find_uv_bin

ENV_ROOT = Path(os.environ.get("FLEETSHIFT_TEST_ENVS", "/tmp/fleetshift-test-envs"))


def uv_env(requirements: list[str]) -> Path:
    """Path to the python of a venv holding exactly these requirements (created once, then reused)."""
    key = hashlib.sha256("\n".join(sorted(requirements)).encode()).hexdigest()[:16]
    env = ENV_ROOT / key
    python = env / "bin" / "python"
    done = env / ".fleetshift-ready"
    if done.exists():
        return python
    uv = find_uv_bin()
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(env)], check=True)
    subprocess.run([uv, "pip", "install", "--quiet", "--python", str(python), *requirements], check=True)
    done.write_text("\n".join(requirements))
    return python


def run(python: Path, *args: str, cwd: Path, timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python args...` in `cwd`, capturing output."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    full_env.update(env or {})
    return subprocess.run([str(python), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=full_env)


def run_pytest(python: Path, cwd: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run that environment's pytest in `cwd` (no plugins from this process leak in)."""
    return run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, cwd=cwd, timeout=timeout)
