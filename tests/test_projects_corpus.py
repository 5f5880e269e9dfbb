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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from uv import find_uv_bin

PROJECTS = Path(__file__).parent / "projects"
UV = find_uv_bin()


# --- scaffolding: interpreters, environments, installs ------------------------------------------


def run_uv(args: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    """uv from its cache alone first (fast when warm), then with the network when the cache lacks
    something. A resolution that fails offline for any other reason is the real answer."""
    offline = subprocess.run([UV, *args[:2], "--offline", *args[2:]], capture_output=True, text=True, **kwargs)
    missing = re.search(r"offline|network|not found in the cache|cache", offline.stderr, re.I)
    if offline.returncode == 0 or not missing:
        return offline
    return subprocess.run([UV, *args], capture_output=True, text=True, **kwargs)


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
        done = run_uv(list(args), cwd=self.root, env=self.environ(), timeout=timeout)
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
    done = run_uv(["sync", "--frozen", "--quiet", "--python", interpreter(env.python_version)],
                  cwd=env.root, env=sync_env, timeout=300)
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


def _tox_min(env: Env) -> list[str]:
    deps, commands = tox_testenv(env, "py310-min")
    env.pip_install("-e", ".")
    install_tox_deps(env, deps)
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


def poetry_to_pep440(name: str, spec: str | dict) -> str:
    """A [tool.poetry] dependency as a PEP 508 requirement (caret, tilde, exact and PEP 440 forms)."""
    constraint = spec["version"] if isinstance(spec, dict) else spec
    if constraint.startswith("^"):
        parts = [int(p) for p in constraint[1:].split(".")]
        bump = next((i for i, p in enumerate(parts) if p), len(parts) - 1)
        upper = [*parts[:bump], parts[bump] + 1]
        return f"{name}>={constraint[1:]},<{'.'.join(map(str, upper))}"
    if constraint.startswith("~") and not constraint.startswith("~="):
        parts = constraint[1:].split(".")
        upper = [parts[0], str(int(parts[1]) + 1)] if len(parts) > 1 else [str(int(parts[0]) + 1)]
        return f"{name}>={constraint[1:]},<{'.'.join(upper)}"
    if re.fullmatch(r"[\d.]+", constraint):
        return f"{name}=={constraint}"
    return f"{name}{'' if constraint == '*' else constraint}"


def poetry_ranges(root: Path, groups: list[str]) -> list[str]:
    poetry = toml(root / "pyproject.toml")["tool"]["poetry"]
    deps = {k: v for k, v in poetry["dependencies"].items() if k != "python"}
    for group in groups:
        deps |= poetry["group"][group]["dependencies"]
    return [poetry_to_pep440(name, spec) for name, spec in deps.items()]


def _poetry_fresh_resolve(env: Env) -> list[str]:
    """Ignore poetry.lock: install what the pyproject ranges resolve to today."""
    env.pip_install(*poetry_ranges(env.root, ["dev"]))
    env.pip_install("--no-deps", "-e", ".")
    return ["pytest", "-q"]


def _addopts_without_cache_plugin(env: Env) -> list[str]:
    _requirements_test(env)
    return ["pytest", "-q", "-p", "no:cacheprovider"]


def _hatch_without_its_env(env: Env) -> list[str]:
    env.pip_install("-e", ".", "pytest", "pytest-asyncio==0.23.8")
    return ["pytest", "tests"]


@dataclass(frozen=True)
class Case:
    name: str
    python: str  # the Python its suite runs on here (one the project declares)
    setup: Callable[[Env], list[str]]
    expect: str = "pass"  # "pass", "fail" (tests ran, some failed) or "cannot-run" (nothing ran)
    says: str = ""  # text the output must contain
    label: str = ""

    @property
    def id(self) -> str:
        return "-".join(filter(None, [self.name, f"py{self.python}", self.label]))


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
    Case("deep-requirements", "3.11", _app_examples),
    Case("poetry-dataframes-numpy1", "3.11", _poetry_fresh_resolve),
    Case("lib-min-pins", "3.10", _tox_min),
    # what each pattern is there to prove
    Case("broken-baseline", "3.11", _broken, "cannot-run", "ImportError while loading conftest"),
    Case("poetry-lock-vs-fresh", "3.11", _poetry_fresh_resolve, "fail",
         "FAILED tests/test_probe.py::test_flaky_endpoint_counts_attempts", "fresh-resolve"),
    Case("addopts-failed-first", "3.11", _addopts_without_cache_plugin, "cannot-run",
         "unrecognized arguments: --failed-first", "no-cacheprovider"),
    Case("hatch-test-env", "3.11", _hatch_without_its_env, "cannot-run",
         "ModuleNotFoundError: No module named 'respx'", "without-hatch-env"),
]


def run_case(case: Case, base: Path) -> tuple[list[str], subprocess.CompletedProcess[str]]:
    env = make_env(case.name, case.python, base / case.id)
    argv = case.setup(env)
    return argv, env.run(argv)


@pytest.fixture(scope="module")
def corpus_runs(request, tmp_path_factory):
    """Start every selected case at once on a few threads (most of the time is spent waiting on
    installs and interpreters); each test then waits for its own."""
    selected = [
        item.callspec.params["case"]
        for item in request.session.items
        if getattr(item, "callspec", None) and isinstance(item.callspec.params.get("case"), Case)
    ]
    base = tmp_path_factory.mktemp("corpus")
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {case.id: pool.submit(run_case, case, base) for case in selected}
        yield futures
        for future in futures.values():
            future.cancel()


def test_every_project_is_listed_once():
    on_disk = sorted(p.name for p in PROJECTS.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    assert on_disk == sorted({c.name for c in CASES})
    readme = (PROJECTS / "README.md").read_text()
    for name in on_disk:
        assert f"`{name}`" in readme, f"{name} is missing from tests/projects/README.md"


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_project_tests_on_the_old_pins(case: Case, corpus_runs):
    argv, done = corpus_runs[case.id].result()
    out = done.stdout + done.stderr
    shown = f"{argv} in {case.id} exited {done.returncode}:\n{out[-6000:]}"
    if case.expect == "pass":
        assert done.returncode == 0, shown
    elif case.expect == "fail":
        assert done.returncode == 1, shown
    else:
        assert done.returncode in (2, 3, 4), shown  # interrupted, internal or usage error
        assert not re.search(r"\d+ (passed|failed)", out), shown
    assert case.says in out, shown


# --- resolver facts the patterns rely on -----------------------------------------------------------


def uv_compile(requirements: list[str], python_version: str) -> subprocess.CompletedProcess[str]:
    return run_uv(["pip", "compile", "--quiet", "--no-header", "--python-version", python_version, "-"],
                  input="\n".join(requirements) + "\n", timeout=300)


@pytest.mark.slow
def test_plugin_line_caps_pytest_below_9():
    pins = (PROJECTS / "plugin-caps-pytest/requirements-test.txt").read_text().splitlines()
    plugin = next(line.split("#")[0].strip() for line in pins if line.startswith("pytest-describe"))
    assert plugin == "pytest-describe~=2.2"
    assert uv_compile([plugin, "pytest==8.3.5"], "3.10").returncode == 0
    done = uv_compile([plugin, "pytest>=9"], "3.10")
    assert done.returncode != 0
    assert "pytest-describe" in done.stderr and "pytest>=4.6,<9" in done.stderr


@pytest.mark.slow
def test_poetry_docs_group_cannot_join_the_test_group():
    root = PROJECTS / "poetry-app-py39"
    assert uv_compile(poetry_ranges(root, ["dev", "test"]), "3.9").returncode == 0
    assert uv_compile(poetry_ranges(root, ["dev", "docs"]), "3.9").returncode == 0
    done = uv_compile(poetry_ranges(root, ["dev", "test", "docs"]), "3.9")
    assert done.returncode != 0
    assert "docutils" in done.stderr


# --- manifests parse, and lock files are their tools' real formats ---------------------------------


def poetry_content_hash(pyproject: dict) -> str:
    """Poetry 2.x's content-hash of a pyproject that has only [tool.poetry] (its legacy layout)."""
    poetry = pyproject["tool"]["poetry"]
    relevant = {key: poetry.get(key) for key in ("dependencies", "source", "extras", "dev-dependencies")}
    if poetry.get("group") is not None:
        relevant["group"] = poetry["group"]
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()


def all_pyprojects() -> list[Path]:
    return sorted(PROJECTS.glob("*/pyproject.toml"))


@pytest.mark.parametrize("path", all_pyprojects(), ids=lambda p: p.parent.name)
def test_pyproject_parses(path: Path):
    data = toml(path)
    assert "tool" in data or "project" in data
    for requirement in data.get("project", {}).get("dependencies", []):
        Requirement(requirement)


@pytest.mark.parametrize("name", ["poetry-app-py39", "poetry-lock-vs-fresh"])
def test_poetry_lock_is_poetrys_and_fresh(name: str):
    root = PROJECTS / name
    text = (root / "poetry.lock").read_text()
    assert text.startswith("# This file is automatically @generated by Poetry 2.")
    lock = tomllib.loads(text)
    assert lock["metadata"]["lock-version"] == "2.1"
    assert lock["metadata"]["python-versions"] == "^3.9"
    assert lock["metadata"]["content-hash"] == poetry_content_hash(toml(root / "pyproject.toml"))
    for package in lock["package"]:
        assert package["files"], package["name"]
        for file in package["files"]:
            assert re.fullmatch(r"sha256:[0-9a-f]{64}", file["hash"])


def test_poetry_app_lock_holds_both_docutils():
    lock = toml(PROJECTS / "poetry-app-py39/poetry.lock")
    docutils = {p["version"]: p["groups"] for p in lock["package"] if p["name"] == "docutils"}
    assert docutils == {"0.17.1": ["docs"], "0.23.1": ["test"]}
    locked = {p["name"]: p["version"] for p in lock["package"]}
    assert locked["tenacity"] == "8.2.3" and locked["pytest-asyncio"].startswith("0.21.")


def test_poetry_lock_vs_fresh_pins_an_older_tenacity():
    lock = toml(PROJECTS / "poetry-lock-vs-fresh/poetry.lock")
    assert {p["name"]: p["version"] for p in lock["package"]}["tenacity"] == "8.2.3"
    assert toml(PROJECTS / "poetry-lock-vs-fresh/pyproject.toml")["tool"]["poetry"]["dependencies"]["tenacity"] == "^8.2"


def test_poetry_lib_py36_declares_36_to_38():
    root = PROJECTS / "poetry-lib-py36"
    poetry = toml(root / "pyproject.toml")["tool"]["poetry"]
    assert poetry["dependencies"]["python"] == "^3.6"
    assert [c for c in poetry["classifiers"] if c.startswith("Programming Language :: Python :: 3.")] == [
        f"Programming Language :: Python :: 3.{minor}" for minor in (6, 7, 8)
    ]
    ini = configparser.ConfigParser(interpolation=None)
    ini.read(root / "tox.ini")
    assert ini["tox"]["envlist"] == "py36,py37,py38"


def test_uv_lock_is_uvs():
    root = PROJECTS / "uv-project"
    lock = toml(root / "uv.lock")
    assert lock["version"] == 1
    assert lock["requires-python"] == toml(root / "pyproject.toml")["project"]["requires-python"]
    packages = {p["name"]: p for p in lock["package"]}
    assert packages["doorbell"]["source"] == {"editable": "."}
    assert packages["doorbell"]["dev-dependencies"]["dev"]
    assert packages["asyncio-mqtt"]["version"] == "0.16.2"
    assert all("hash" in w for p in packages.values() for w in p.get("wheels", []))
    assert (root / ".python-version").read_text().strip() == "3.11"
    assert "dev" in toml(root / "pyproject.toml")["dependency-groups"]


def test_pip_compiled_requirements():
    root = PROJECTS / "pip-compiled"
    text = (root / "requirements.txt").read_text()
    assert text.startswith("# This file was autogenerated by uv via the following command:\n#    uv pip compile ")
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", text, re.M)
    assert dict(pins)["tenacity"] == "8.2.3"
    assert "    # via -r requirements.in" in text and "    # via influxdb-client" in text
    dev = [line for line in (root / "requirements-dev.txt").read_text().splitlines() if "==" in line]
    columns = {line.index("#") for line in dev}
    assert len(dev) >= 3 and len(columns) == 1  # comments aligned in one column
    assert any(re.match(r"pytest==8\.3\.5 +# test runner$", line) for line in dev)


def test_hatch_test_deps_live_only_in_the_hatch_env():
    data = toml(PROJECTS / "hatch-test-env/pyproject.toml")
    assert "optional-dependencies" not in data["project"] and "dependency-groups" not in data
    env = data["tool"]["hatch"]["envs"]["default"]
    assert "pytest-asyncio==0.23.8" in env["dependencies"]
    assert env["scripts"]["test"] == "pytest {args:tests}"
    assert "import respx" in (PROJECTS / "hatch-test-env/tests/conftest.py").read_text()


def test_lib_wide_ranges():
    project = toml(PROJECTS / "lib-wide-ranges/pyproject.toml")["project"]
    assert project["requires-python"] == ">=3.8"
    assert project["dependencies"] == ["python-dotenv>=0.21.0"]
    assert project["optional-dependencies"]["retry"] == ["tenacity"]


def test_lib_docs_requirements():
    root = PROJECTS / "lib-docs-requirements"
    data = toml(root / "pyproject.toml")
    assert data["build-system"]["build-backend"] == "hatchling.build"
    assert "tenacity>=8.2,<9" in data["project"]["dependencies"]
    docs = [Requirement(line).name for line in (root / "docs/requirements.txt").read_text().splitlines()
            if line.strip() and not line.startswith("#")]
    assert {"sphinx", "furo"} <= set(docs)
    compile((root / "docs/conf.py").read_text(), "conf.py", "exec")


def test_py38_no_targets_uses_neither_tenacity_nor_dotenv():
    root = PROJECTS / "py38-no-targets"
    assert toml(root / "pyproject.toml")["project"]["requires-python"] == ">=3.8"
    for path in root.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert "tenacity" not in text and "dotenv" not in text, path


def test_ci_matrix_files():
    root = PROJECTS / "ci-matrix"
    workflow = yaml.safe_load((root / ".github/workflows/ci.yml").read_text())
    job = workflow["jobs"]["test"]
    assert job["strategy"]["matrix"]["python-version"] == ["3.8", "3.9", "3.10", "3.11"]
    assert {"name": "Test", "run": "pytest -q tests/unit"} in job["steps"]
    assert yaml.safe_load((root / ".gitlab-ci.yml").read_text())["image"] == "python:3.10"
    assert (root / "Dockerfile").read_text().startswith("FROM python:3.11-slim")


def test_addopts_failed_first():
    options = toml(PROJECTS / "addopts-failed-first/pyproject.toml")["tool"]["pytest"]["ini_options"]
    assert options["addopts"] == "--failed-first --exitfirst -p pytest_asyncio"


def test_behave_suite_has_no_pytest_tests():
    root = PROJECTS / "behave-suite"
    assert list(root.glob("features/*.feature")) and list(root.glob("features/steps/*.py"))
    assert not [p for p in root.rglob("*.py") if p.name.startswith("test_") or p.name == "conftest.py"]
    assert re.search(r"^test:\n\tbehave ", (root / "Makefile").read_text(), re.M)


def test_tox_only_command():
    root = PROJECTS / "tox-only-command"
    ini = configparser.ConfigParser(interpolation=None)
    ini.read(root / "tox.ini")
    assert ini["testenv"]["commands"].strip() == 'pytest tests/unit -m "not slow"'
    assert ini["testenv"]["deps"].strip() == "-rrequirements-test.txt"
    assert "@pytest.mark.slow" in (root / "tests/unit/test_export.py").read_text()


def test_needs_py312_does_not_parse_on_311():
    source = (PROJECTS / "needs-py312/src/pipekit/pipeline.py").read_text()
    done = subprocess.run([interpreter("3.11"), "-c", "import ast, sys; ast.parse(sys.stdin.read())"],
                          input=source, capture_output=True, text=True)
    assert done.returncode != 0 and "SyntaxError" in done.stderr
    assert toml(PROJECTS / "needs-py312/pyproject.toml")["project"]["requires-python"] == ">=3.12"


def test_setup_py_only_declares_its_dependencies_statically():
    import ast

    root = PROJECTS / "setup-py-only"
    assert not (root / "pyproject.toml").exists() and not (root / "requirements.txt").exists()
    tree = ast.parse((root / "setup.py").read_text())
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "setup")
    keywords = {k.arg: k.value for k in call.keywords}
    install = [Requirement(ast.literal_eval(e)).name for e in keywords["install_requires"].elts]
    assert install == ["asyncio-mqtt", "paho-mqtt", "influxdb-client", "python-dotenv"]
    assert [ast.literal_eval(k) for k in keywords["extras_require"].keys] == ["test", "dev"]


def test_tox_and_setup_cfg_files_parse():
    for path in [*PROJECTS.glob("*/tox.ini"), *PROJECTS.glob("*/setup.cfg")]:
        ini = configparser.ConfigParser(interpolation=None)
        ini.read(path)
        assert ini.sections(), path
