"""Where a project keeps its test dependencies (hatch envs, tox deps) and how it runs its tests.

The test command is looked up in this order, the first that names a test runner winning: the config's
`test_command`; tox's `[testenv]` `commands`; hatch's `scripts.test`; a CI step (GitHub Actions `run:`,
GitLab CI `script:`); a Makefile `test:` target; else `python -m pytest`. Tox and hatch substitutions are
resolved where they have a default (`{posargs:tests}` -> `tests`, `{args:tests}` -> `tests`,
`{toxinidir}` -> `.`) and dropped otherwise; wrappers like `poetry run` / `uv run` are dropped so the
command runs inside the environment fleetshift makes.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from fleetshift.model import TestCommand, TestDeps
from fleetshift.project._files import Reader, mapping, scalar, scalars, sequence
from fleetshift.project.pythons import tox_sources, workflow_files

DEFAULT_COMMAND = TestCommand("python -m pytest", "default", "pytest")
HATCH_TEST_ENVS = ("default", "test", "tests", "hatch-test")
_WRAPPERS = (("poetry", "run"), ("uv", "run"), ("pdm", "run"), ("pipenv", "run"), ("rye", "run"))
_TOX_ENVS = ("testenv", "testenv:test", "testenv:tests", "testenv:unit", "testenv:py")


def runner_of(command: str) -> str | None:
    """pytest / behave / unittest when the command runs that test runner, else None."""
    words = _words(command)
    for i, w in enumerate(words):
        base = w.rsplit("/", 1)[-1]
        if base in ("pytest", "py.test") or (base == "-m" and words[i + 1: i + 2] == ["pytest"]):
            return "pytest"
        if base == "behave" or (base == "-m" and words[i + 1: i + 2] == ["behave"]):
            return "behave"
        if base == "-m" and words[i + 1: i + 2] and words[i + 1].startswith("unittest"):
            return "unittest"
        if base in ("nose2", "nosetests", "trial", "green", "ward"):
            return "other"
    return None


def _words(command: str) -> list[str]:
    try:
        return shlex.split(command, comments=False)
    except ValueError:
        return command.split()


def _unwrap(segment: str) -> str:
    """A shell segment without env-runner wrappers (`poetry run pytest` -> `pytest`)."""
    words = segment.strip().split()
    changed = True
    while changed and len(words) >= 2:
        changed = False
        if tuple(words[:2]) in _WRAPPERS:
            words = words[2:]
            changed = True
            while words and words[0].startswith("-"):  # `uv run --frozen pytest`
                words = words[1:]
    return " ".join(words)


def _runner_segment(line: str) -> str | None:
    """The part of a shell line (split at && ; ||) that runs a test runner."""
    for segment in re.split(r"&&|\|\||;", line):
        segment = _unwrap(segment)
        if segment and runner_of(segment):
            return segment
    return None


def _finish(command: str, source: str) -> TestCommand | None:
    command = re.sub(r"\s+", " ", command).strip()
    runner = runner_of(command)
    if not command or not runner:
        return None
    return TestCommand(command, source, runner)


# --- tox --------------------------------------------------------------------------------------------


def _tox_subst(text: str, conf: Any) -> str:
    """Tox substitutions: `{[section]key}` from the same file, `{posargs:default}`, `{toxinidir}`; other
    `{...}` words are dropped."""
    def section_ref(m: re.Match[str]) -> str:
        sect, key = m.group(1), m.group(2)
        return conf.get(sect, key) if conf.has_option(sect, key) else ""

    for _ in range(3):
        text = re.sub(r"\{\[([^\]]+)\]([^}]+)\}", section_ref, text)
    text = re.sub(r"\{posargs:([^}]*)\}", lambda m: m.group(1), text)
    text = re.sub(r"\{(posargs|tty:[^}]*)\}", "", text)
    text = re.sub(r"\{toxinidir\}/?", "./", text)
    text = re.sub(r"\{envpython\}", "python", text)
    text = re.sub(r"\{env(bin|_bin_)dir\}/", "", text)
    text = re.sub(r"\{env:[^:}]+:([^}]*)\}", lambda m: m.group(1), text)
    words = [w for w in text.split(" ") if "{" not in w]
    return " ".join(words).replace(" ./ ", " . ").replace("././", "./")


def _ini_lines(value: str) -> list[str]:
    """The logical lines of a multi-line INI value (backslash continuations joined, comments dropped)."""
    out: list[str] = []
    current = ""
    for raw in value.splitlines():
        raw = raw.strip()
        if not raw or raw.startswith("#"):
            continue
        if raw.endswith("\\"):
            current += raw[:-1] + " "
            continue
        out.append((current + raw).strip())
        current = ""
    if current.strip():
        out.append(current.strip())
    return out


def _conditional(line: str) -> bool:
    """A tox factor-conditional line (`py38: pytest<8`, `!py36,django: x`)."""
    return bool(re.match(r"^!?[\w.{},!-]+\s*:\s", line)) and not line.startswith(("-", "http", "git+"))


def _tox_toml_commands(value: Any) -> list[str]:
    out = []
    for cmd in value if isinstance(value, list) else []:
        if isinstance(cmd, list):
            out.append(" ".join(str(w) if isinstance(w, str) else "" for w in cmd))
        elif isinstance(cmd, str):
            out.append(cmd)
    return out


def _tox_toml_env(conf: dict[str, Any]) -> dict[str, Any]:
    base = conf.get("env_run_base")
    return base if isinstance(base, dict) else {}


def _dep_line(dep: str, conf: Any) -> str:
    dep = _tox_subst(dep, conf).strip()
    m = re.match(r"^-r\s*(.+)$", dep)
    if m:
        path = m.group(1).strip().removeprefix("./")
        return f"-r {path}"
    m = re.match(r"^-c\s*(.+)$", dep)
    if m:
        return f"-c {m.group(1).strip().removeprefix('./')}"
    return dep


def tox_test_deps(r: Reader, sources: list[tuple[str, Any, str]]) -> list[TestDeps]:
    out: list[TestDeps] = []
    for name, conf, style in sources[:1]:  # tox reads the first config it finds
        deps: list[str] = []
        if style == "ini":
            for section in _TOX_ENVS:
                if conf.has_option(section, "deps"):
                    deps = [_dep_line(d, conf) for d in _ini_lines(conf.get(section, "deps")) if not _conditional(d)]
                    if conf.has_option(section, "extras"):
                        extras = [e.strip() for e in re.split(r"[,\s]+", conf.get(section, "extras")) if e.strip()]
                        if extras:
                            deps.append(f".[{','.join(extras)}]")
                    break
        else:
            env = _tox_toml_env(conf)
            deps = [d for d in env.get("deps", []) if isinstance(d, str)]
            extras = [e for e in env.get("extras", []) if isinstance(e, str)]
            if extras:
                deps.append(f".[{','.join(extras)}]")
        deps = [d for d in deps if d]
        if deps:
            out.append(TestDeps("tox testenv", r.rel(name), tuple(deps)))
    return out


def tox_command(r: Reader, sources: list[tuple[str, Any, str]]) -> TestCommand | None:
    for name, conf, style in sources[:1]:
        if style == "ini":
            for section in _TOX_ENVS:
                if conf.has_option(section, "commands"):
                    for line in _ini_lines(conf.get(section, "commands")):
                        if _conditional(line):
                            continue
                        line = line.lstrip("-").strip()
                        seg = _runner_segment(_tox_subst(line, conf))
                        if seg:
                            return _finish(seg, f"{name} [{section}]")
        else:
            for line in _tox_toml_commands(_tox_toml_env(conf).get("commands")):
                seg = _runner_segment(_tox_subst(line, _NoConf()))
                if seg:
                    return _finish(seg, f"{name} env_run_base")
    return None


class _NoConf:
    def has_option(self, *_: str) -> bool:
        return False

    def get(self, *_: str) -> str:
        return ""


# --- hatch ----------------------------------------------------------------------------------------


def _hatch_envs(r: Reader, pyproject: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    envs = (((pyproject or {}).get("tool") or {}).get("hatch") or {}).get("envs")
    if isinstance(envs, dict) and envs:
        return "pyproject.toml", envs
    hatch = r.toml("hatch.toml") if r.exists("hatch.toml") else None
    if hatch and isinstance(hatch.get("envs"), dict):
        return "hatch.toml", hatch["envs"]
    return "", {}


def hatch_test_deps(r: Reader, pyproject: dict[str, Any] | None) -> list[TestDeps]:
    name, envs = _hatch_envs(r, pyproject)
    out: list[TestDeps] = []
    for env in HATCH_TEST_ENVS:
        conf = envs.get(env)
        if not isinstance(conf, dict):
            continue
        reqs = [d for key in ("dependencies", "extra-dependencies") for d in conf.get(key, []) if isinstance(d, str)]
        features = [f for f in conf.get("features", []) if isinstance(f, str)]
        if features:
            reqs.append(f".[{','.join(features)}]")
        if reqs:
            out.append(TestDeps(f"hatch env {env}", r.rel(name), tuple(reqs)))
    return out


def _hatch_subst(text: str) -> str:
    text = re.sub(r"\{args:([^}]*)\}", lambda m: m.group(1), text)
    text = re.sub(r"\{env:[^:}]+:([^}]*)\}", lambda m: m.group(1), text)
    text = re.sub(r"\{root\}/?", "./", text)
    return " ".join(w for w in text.replace("{args}", "").split() if "{" not in w)


def hatch_command(r: Reader, pyproject: dict[str, Any] | None) -> TestCommand | None:
    _, envs = _hatch_envs(r, pyproject)
    for env in HATCH_TEST_ENVS:
        scripts = (envs.get(env) or {}).get("scripts") if isinstance(envs.get(env), dict) else None
        if not isinstance(scripts, dict):
            continue
        for key in ("test", "tests", "run"):
            script = scripts.get(key)
            lines = [script] if isinstance(script, str) else [s for s in script or [] if isinstance(s, str)]
            for _ in range(3):  # a script may name other scripts of the same env
                lines = [x for line in lines for x in
                         ((scripts[line] if isinstance(scripts[line], list) else [scripts[line]]) if line in scripts else [line])]
            for line in lines:
                seg = _runner_segment(_hatch_subst(line))
                if seg:
                    return _finish(seg, f"hatch scripts.{key}" if env == "default" else f"hatch {env} scripts.{key}")
    return None


# --- CI and Makefile ------------------------------------------------------------------------------


def _ci_line(text: str) -> str:
    """A CI shell line without its `${{ expressions }}` (the words holding one are dropped)."""
    return " ".join(re.sub(r"\S*\$\{\{.*?\}\}\S*", " ", text).split())


def ci_command(r: Reader) -> TestCommand | None:
    for name in workflow_files(r):
        for job in mapping(mapping(r.yaml_nodes(name)).get("jobs")).values():
            for step in sequence(mapping(job).get("steps")):
                run = scalar(mapping(step).get("run"))
                for line in (run or "").replace("\\\n", " ").splitlines():
                    seg = _runner_segment(_ci_line(line))
                    if seg:
                        return _finish(seg, name)
    doc = r.yaml_nodes(".gitlab-ci.yml")
    for key, job in mapping(doc).items():
        if key.startswith("."):
            continue
        for s in scalars(mapping(job).get("script")):
            for line in str(s.value).splitlines():
                seg = _runner_segment(_ci_line(line))
                if seg:
                    return _finish(seg, ".gitlab-ci.yml")
    return None


def make_command(r: Reader) -> TestCommand | None:
    name = next((n for n in ("Makefile", "makefile", "GNUmakefile") if r.exists(n)), "")
    if not name:
        return None
    variables: dict[str, str] = {}
    recipe: list[str] = []
    in_test = False
    logical = _ini_lines_keep_tabs(r.lines(name))
    for raw in logical:
        if raw.startswith("\t"):
            if in_test:
                recipe.append(raw.strip().lstrip("@-+").strip())
            continue
        in_test = False
        m = re.match(r"^([A-Za-z_][\w.]*)\s*[:?+]?=\s*(.*)$", raw)
        if m and not raw.startswith(("test:", "tests:")):
            variables.setdefault(m.group(1), m.group(2).strip())
            continue
        m = re.match(r"^([^:=#]+):(?!=)", raw)
        if m and {"test", "tests"} & set(m.group(1).split()):
            in_test = True

    def expand(text: str) -> str:
        for _ in range(3):
            text = re.sub(r"\$[({]([\w.]+)[)}]", lambda m: variables.get(m.group(1), "\0"), text)
        return " ".join(w for w in text.split() if "\0" not in w and "$" not in w)

    runs = [seg for line in recipe if (seg := _runner_segment(expand(line)))]
    if runs:
        return _finish(" && ".join(runs), f"{name} test")
    return None


def _ini_lines_keep_tabs(lines: list[str]) -> list[str]:
    out: list[str] = []
    current = ""
    for raw in lines:
        if raw.rstrip().endswith("\\"):
            current += raw.rstrip()[:-1] + " "
            continue
        out.append(current + raw if current else raw)
        current = ""
    if current:
        out.append(current)
    return out


def read_test_command(r: Reader, pyproject: dict[str, Any] | None, setup_cfg: Any, configured: str = "") -> TestCommand:
    if configured:
        return TestCommand(configured, "config", runner_of(configured) or "other")
    sources = tox_sources(r, pyproject, setup_cfg)
    for found in (tox_command(r, sources), hatch_command(r, pyproject), ci_command(r), make_command(r)):
        if found is not None:
            return found
    return DEFAULT_COMMAND


def read_test_deps(r: Reader, pyproject: dict[str, Any] | None, setup_cfg: Any) -> tuple[TestDeps, ...]:
    return tuple(hatch_test_deps(r, pyproject) + tox_test_deps(r, tox_sources(r, pyproject, setup_cfg)))
