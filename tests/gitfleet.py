"""Real git repositories on disk for the git-output and multi-repo tests: fleets built from the demo's services."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

DEMO = Path(__file__).resolve().parents[1] / "examples" / "homeiq"
IGNORE = shutil.ignore_patterns(".fleetshift", "__pycache__", ".pytest_cache", ".venv")
TARGETS = """
[targets]
pytest = ">=9.0.2,<10"
pytest-asyncio = ">=1.3.0,<2"
tenacity = ">=9.1.2,<10"
aiomqtt = { spec = ">=2.4.0,<3", replaces = "asyncio-mqtt" }
influxdb3-python = { spec = ">=0.17.0,<1", replaces = "influxdb-client" }
python-dotenv = ">=1.2.1,<2"
"""
USER = ("-c", "user.name=Fleet Owner", "-c", "user.email=owner@example.invalid")


def isolated_env(home: Path) -> dict[str, str]:
    """An environment whose git reads no global or system config (no identity set)."""
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return {**env, "HOME": str(home), "GIT_CONFIG_GLOBAL": str(home / "gitconfig"), "GIT_CONFIG_NOSYSTEM": "1",
            "XDG_CONFIG_HOME": str(home / "xdg")}


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    res = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert res.returncode == 0, f"git {' '.join(args)} in {cwd}: {res.stderr}"
    return res.stdout.strip()


def commit_all(repo: Path, message: str, env: dict[str, str] | None = None) -> str:
    git(repo, "add", "-A", env=env)
    git(repo, *USER, "commit", "-q", "-m", message, env=env)
    return git(repo, "rev-parse", "HEAD", env=env)


def init_repo(repo: Path, env: dict[str, str] | None = None) -> Path:
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q", "-b", "main", env=env)
    return repo


def copy_service(rel: str, dest: Path) -> Path:
    """A demo service or library (`services/x`, `libs/y`) copied to `dest`."""
    shutil.copytree(DEMO / rel, dest, ignore=IGNORE)
    return dest


def fleetshift(*args: object, env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m fleetshift ARGS` in a new process (the package from this source tree)."""
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**env, "PYTHONPATH": src + os.pathsep + env.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "fleetshift", *map(str, args)], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=600, check=False)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file of a work tree (not .git, not .fleetshift) with its bytes and mode."""
    out: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if {".git", ".fleetshift"} & set(rel.split("/")) or not path.is_file():
            continue
        out[rel] = oct(path.stat().st_mode).encode() + b":" + path.read_bytes()
    return out


def run_dir(root: Path, run_id: str) -> Path:
    return root / ".fleetshift" / "runs" / run_id


def results(root: Path, run_id: str) -> dict[str, Any]:
    return json.loads((run_dir(root, run_id) / "results.json").read_text("utf-8"))


def run_id_of(output: str) -> str:
    for line in output.splitlines():
        if line.startswith("Run "):
            return line.split()[1]
    raise AssertionError(f"no run id in:\n{output}")


def branches(repo: Path, prefix: str = "fleetshift", env: dict[str, str] | None = None) -> dict[str, str]:
    """Branch -> commit of every branch under refs/heads/<prefix>/."""
    out = git(repo, "for-each-ref", "--format=%(refname:short) %(objectname)", f"refs/heads/{prefix}", env=env)
    return dict(line.split() for line in out.splitlines() if line)
