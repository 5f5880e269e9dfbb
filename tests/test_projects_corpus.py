"""The project corpus under tests/projects is what it claims to be.

Each project is a small stand-alone repository on the old pins. The fast tests read its manifests
the way their own tools would (tomllib, configparser, yaml) and check that lock files are in their
tool's real format. The slow ones copy each project to a temporary folder, build a fresh uv
environment on the project's own Python, install it the way the project does (its lock, its groups,
its hatch env, its tox deps, its CI step) and run its tests the way it runs them: they must pass,
except in broken-baseline, which must not even start.
"""

from __future__ import annotations

import configparser
import glob
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from uv import find_uv_bin

PROJECTS = Path(__file__).parent / "projects"
UV = find_uv_bin()


# --- scaffolding: interpreters, environments, installs ------------------------------------------


def interpreter(version: str) -> str:
    """The CPython `version` (e.g. "3.9") from pyenv or PATH; skips the test when it is missing."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    found = sorted(glob.glob(str(root / "versions" / f"{version}.*" / "bin" / f"python{version}")))
    if found:
        return found[-1]
    on_path = shutil.which(f"python{version}")
    if on_path:
        return on_path
    pytest.skip(f"no Python {version} on this machine")


@dataclass
class Env:
    """A project copied to a temporary folder with a fresh uv venv beside it."""

    root: Path
    venv: Path
    python_version: str

    @property
    def python(self) -> str:
        return str(self.venv / "bin" / "python")

    def environ(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "VIRTUAL_ENV", "UV_"))}
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env["VIRTUAL_ENV"] = str(self.venv)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        return env

    def uv(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([UV, *args], cwd=self.root, env=self.environ(), capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, f"uv {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done

    def pip_install(self, *args: str) -> None:
        self.uv("pip", "install", "--quiet", "--python", self.python, *args)

    def run(self, argv: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, cwd=self.root, env=self.environ(), capture_output=True, text=True, timeout=timeout)


def make_env(name: str, python_version: str, tmp_path: Path) -> Env:
    root = tmp_path / name
    shutil.copytree(PROJECTS / name, root, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", ".venv"))
    venv = tmp_path / f"{name}-venv"
    env = Env(root, venv, python_version)
    env.uv("venv", "--quiet", "--python", interpreter(python_version), str(venv))
    return env


def toml(path: Path) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def poetry_locked(lock: dict, groups: set[str]) -> list[str]:
    """`name==version ; marker` for every package of poetry.lock (2.x format) in one of `groups`."""
    wanted = []
    for package in lock["package"]:
        in_groups = set(package.get("groups", ["main"])) & groups
        if not in_groups:
            continue
        markers = package.get("markers")
        if isinstance(markers, dict):
            per_group = [markers.get(group) for group in sorted(in_groups)]
            markers = None if None in per_group else " or ".join(f"({m})" for m in per_group)
        wanted.append(f"{package['name']}=={package['version']}" + (f" ; {markers}" if markers else ""))
    return wanted


def install_poetry_lock(env: Env, groups: set[str]) -> None:
    """Install exactly what poetry.lock says for `groups`, then the project itself without deps."""
    requirements = poetry_locked(toml(env.root / "poetry.lock"), groups)
    (env.root.parent / "locked.txt").write_text("\n".join(requirements) + "\n")
    env.pip_install("--no-deps", "-r", str(env.root.parent / "locked.txt"))
    if toml(env.root / "pyproject.toml")["tool"]["poetry"].get("package-mode", True):
        env.pip_install("--no-deps", "-e", ".")


def tox_testenv(env: Env, envname: str) -> tuple[list[str], list[list[str]]]:
    """(deps, commands) of tox.ini's [testenv] for `envname` (factor lines like `py36: dep` kept only
    when they match it), with `{posargs:default}` replaced by its default."""
    ini = configparser.ConfigParser(interpolation=None)
    ini.read(env.root / "tox.ini")
    section = ini["testenv"]
    factors = set(envname.split("-"))

    def lines(key: str) -> list[str]:
        kept = []
        for line in section.get(key, "").splitlines():
            line = line.strip()
            factor, sep, rest = line.partition(": ")
            if sep and re.fullmatch(r"[\w,!-]+", factor):
                if not factors & set(factor.split(",")):
                    continue
                line = rest.strip()
            if line:
                kept.append(line)
        return kept

    commands = [shlex.split(re.sub(r"\{posargs(?::([^}]*))?\}", lambda m: m.group(1) or "", line)) for line in lines("commands")]
    return lines("deps"), commands


def install_tox_deps(env: Env, deps: list[str]) -> None:
    args: list[str] = []
    for dep in deps:
        args += ["-r", dep[2:].strip()] if dep.startswith("-r") else [dep]
    env.pip_install(*args)


# --- how each project installs and runs its tests ------------------------------------------------


def _lib_docs(env: Env) -> list[str]:
    env.pip_install("-e", ".[test]")
    return ["pytest", "-q"]


def _app_examples(env: Env) -> list[str]:
    env.pip_install("-r", "requirements-dev.txt")
    return ["pytest", "-q"]


def _poetry_app(env: Env) -> list[str]:
    install_poetry_lock(env, {"main", "dev", "test"})
    return ["pytest", "-q"]


def _poetry_lib(env: Env) -> list[str]:
    deps, commands = tox_testenv(env, "py" + env.python_version.replace(".", ""))
    env.pip_install(".")
    install_tox_deps(env, deps)
    return commands[0]


def _hatch(env: Env) -> list[str]:
    hatch = toml(env.root / "pyproject.toml")["tool"]["hatch"]["envs"]["default"]
    env.pip_install("-e", ".", *hatch["dependencies"])
    script = re.sub(r"\{args:([^}]*)\}", r"\1", hatch["scripts"]["test"])
    return shlex.split(script)


def _pip_compiled(env: Env) -> list[str]:
    env.pip_install("-r", "requirements.txt", "-r", "requirements-dev.txt")
    return ["pytest", "-q"]


def _uv_project(env: Env) -> list[str]:
    sync_env = env.environ() | {"UV_PROJECT_ENVIRONMENT": str(env.venv)}
    done = subprocess.run(
        [UV, "sync", "--frozen", "--quiet", "--python", interpreter(env.python_version)],
        cwd=env.root, env=sync_env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return ["pytest", "-q"]


def _requirements_test(env: Env) -> list[str]:
    env.pip_install("-r", "requirements.txt", "-r", "requirements-test.txt")
    return ["pytest", "-q"]


def _lib_wide(env: Env) -> list[str]:
    env.pip_install("-e", ".[retry,test]")
    return ["pytest", "-q"]


def _py38_no_targets(env: Env) -> list[str]:
    env.pip_install("-e", ".[dev]")
    return ["pytest", "-q"]


def _ci_matrix(env: Env) -> list[str]:
    workflow = yaml.safe_load((env.root / ".github/workflows/ci.yml").read_text())
    steps = workflow["jobs"]["test"]["steps"]
    install = next(s["run"] for s in steps if s.get("name") == "Install dependencies")
    for line in install.splitlines():
        argv = shlex.split(line)
        if argv[:3] == ["python", "-m", "pip"] and argv[3] == "install" and "--upgrade" not in argv:
            env.pip_install(*argv[4:])
    test = next(s["run"] for s in steps if s.get("name") == "Test")
    return shlex.split(test)


def _behave(env: Env) -> list[str]:
    env.pip_install("-r", "requirements.txt")
    return ["make", "test"]


def _tox_only(env: Env) -> list[str]:
    deps, commands = tox_testenv(env, "py311")
    install_tox_deps(env, deps)
    env.pip_install("-e", ".")
    return commands[0]


def _test_extra(env: Env) -> list[str]:
    env.pip_install("-e", ".[test]")
    return ["pytest", "-q"]


def _broken(env: Env) -> list[str]:
    env.pip_install("-r", "requirements.txt")
    return ["pytest", "-q"]


def _poetry_lock_vs_fresh(env: Env) -> list[str]:
    install_poetry_lock(env, {"main", "dev"})
    return ["pytest", "-q"]


@dataclass(frozen=True)
class Case:
    name: str
    python: str  # the Python its suite runs on here: the lowest it declares that this machine has
    setup: Callable[[Env], list[str]]


CASES = [
    Case("lib-docs-requirements", "3.8", _lib_docs),
    Case("app-with-examples", "3.11", _app_examples),
    Case("poetry-app-py39", "3.9", _poetry_app),
    Case("poetry-lib-py36", "3.6", _poetry_lib),
    Case("poetry-lib-py36", "3.8", _poetry_lib),
    Case("hatch-test-env", "3.11", _hatch),
    Case("pip-compiled", "3.11", _pip_compiled),
    Case("uv-project", "3.11", _uv_project),
    Case("plugin-caps-pytest", "3.10", _requirements_test),
    Case("lib-wide-ranges", "3.8", _lib_wide),
    Case("py38-no-targets", "3.8", _py38_no_targets),
    Case("ci-matrix", "3.8", _ci_matrix),
    Case("ci-matrix", "3.11", _ci_matrix),
    Case("addopts-failed-first", "3.11", _requirements_test),
    Case("behave-suite", "3.11", _behave),
    Case("tox-only-command", "3.11", _tox_only),
    Case("needs-py312", "3.12", _test_extra),
    Case("poetry-lock-vs-fresh", "3.11", _poetry_lock_vs_fresh),
    Case("setup-py-only", "3.10", _test_extra),
]
BROKEN = Case("broken-baseline", "3.11", _broken)


def test_every_project_is_listed_once():
    on_disk = sorted(p.name for p in PROJECTS.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    assert on_disk == sorted({c.name for c in CASES} | {BROKEN.name})
    readme = (PROJECTS / "README.md").read_text()
    for name in on_disk:
        assert f"`{name}`" in readme, f"{name} is missing from tests/projects/README.md"


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.name}-py{c.python}")
def test_project_passes_on_its_old_pins(case: Case, tmp_path: Path):
    env = make_env(case.name, case.python, tmp_path)
    argv = case.setup(env)
    done = env.run(argv)
    assert done.returncode == 0, f"{argv} in {case.name}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"


@pytest.mark.slow
def test_broken_baseline_cannot_run(tmp_path: Path):
    env = make_env(BROKEN.name, BROKEN.python, tmp_path)
    done = env.run(BROKEN.setup(env) + ["--junitxml", str(tmp_path / "junit.xml")])
    out = done.stdout + done.stderr
    assert done.returncode == 4, out  # pytest's usage error: conftest could not be imported
    assert "ImportError while loading conftest" in out
    assert not (tmp_path / "junit.xml").exists()  # not a single test was collected or reported
