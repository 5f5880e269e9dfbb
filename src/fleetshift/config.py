"""The campaign's configuration: `fleetshift.toml` at the fleet root, or `[tool.fleetshift]` in its pyproject.toml.

Every key is checked; an unknown key or a bad value is a `ConfigError` naming the file, the key and the fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import InvalidName, canonicalize_name

CONFIG_NAME = "fleetshift.toml"
PHASES = ("A", "B", "C", "D")
HOOK_POINTS = (
    "before_run",
    "after_run",
    "before_phase",
    "after_phase",
    "before_service",
    "after_service",
    "before_recipe",
    "after_recipe",
    "build",
    "before_verify",
    "after_verify",
    "on_failure",
    "on_rollback",
)


class ConfigError(Exception):
    """A configuration problem, phrased as file, key, what is wrong and how to fix it."""

    def __init__(self, file: str, key: str, problem: str, fix: str) -> None:
        self.file, self.key, self.problem, self.fix = file, key, problem, fix
        where = f"{file}: {key}: " if key else f"{file}: "
        super().__init__(f"{where}{problem}. Fix: {fix}")


@dataclass(frozen=True)
class Target:
    """A campaign target: the package to end on, its requirement specifier and what it replaces."""

    package: str
    spec: str
    replaces: str | None = None


@dataclass(frozen=True)
class HealthCheck:
    """How to prove a service starts: a start command, a URL or command to poll, a timeout."""

    start: str = ""
    url: str = ""
    command: str = ""
    timeout: float = 30.0
    stop: str = ""


PYTHON_FLOOR_POLICIES = ("raise", "keep")


@dataclass(frozen=True)
class ServiceOptions:
    """Per-service settings, from `[services.<name or path>]`. Empty values mean "as discovered"."""

    critical: bool = False
    phase: str | None = None
    skip: bool = False
    health: HealthCheck | None = None
    test_command: str = ""  # replaces the discovered test command (tox, hatch, CI step, Makefile, pytest)
    python: str = ""  # the interpreter version for both environments, e.g. "3.12"
    python_floor: str = ""  # "raise" or "keep"; "" = the fleet's default (raise for apps, keep for libraries)
    groups: tuple[str, ...] | None = None  # Poetry / PEP 735 groups to install; None = main + test-like groups
    extras: tuple[str, ...] | None = None  # extras to install; None = extras named test/tests/testing/dev
    keep_unverified: bool | None = None  # keep a change whose baseline could not run; None = the fleet's
    timeout: float | None = None  # seconds per step for this service; None = fleet.step_timeout
    env: Mapping[str, str] = field(default_factory=dict)  # extra environment variables for its commands


@dataclass(frozen=True)
class GitConfig:
    """`[git]`: runs over a git work tree commit each kept service on its own branch."""

    enabled: bool = False  # a fleet that is a git work tree runs as with --git
    branch_per: str = "service"  # "service" or "phase"
    pr_command: str = ""  # run per branch after --push, e.g. gh pr create --head {branch} --title {title} --body-file {body}


@dataclass(frozen=True)
class FleetConfig:
    """Everything the stages need to know about a campaign."""

    root: Path
    source: str = ""  # the file the config came from, "" for defaults
    service_globs: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    critical: tuple[str, ...] = ()
    phase_overrides: Mapping[str, str] = field(default_factory=dict)
    batch_size: int = 5
    jobs: int = 0  # 0 = number of cores
    failure_threshold: float = 0.20
    step_timeout: float = 300.0
    targets: Mapping[str, Target] = field(default_factory=dict)
    services: Mapping[str, ServiceOptions] = field(default_factory=dict)
    hooks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    python_floor: str = ""  # "raise" / "keep" for every service; "" = raise for apps, keep for libraries
    keep_unverified: bool = False  # keep changes of services whose baseline could not run
    git: GitConfig = GitConfig()
    repos: tuple[str, ...] = ()  # a multi-repo fleet: the repositories (paths or URLs) cloned into the workspace
    executor: str = ""  # [run] executor: "local" / "ray"; "" = local
    ray_address: str = ""  # [run] ray_address: "auto", "ray://host:10001"; "" = start a local cluster
    shared_filesystem: bool = False  # [run] shared_filesystem: Ray nodes see the fleet at the same path

    def options(self, name: str, path: str | None = None) -> ServiceOptions:
        """The settings of a service, addressed in the config by its name or by its folder ("." for the
        fleet root, "services/api" or "./services/api"); defaults when the config says nothing."""
        for key in (name, *((_norm_path(path),) if path is not None else ())):
            if key in self.services:
                return self.services[key]
        if path is not None:
            for key, opts in self.services.items():
                if _norm_path(key) == _norm_path(path):
                    return opts
        return ServiceOptions()

    def is_critical(self, service: str, path: str | None = None) -> bool:
        return service in self.critical or self.options(service, path).critical

    def keeps_unverified(self, name: str, path: str | None = None) -> bool:
        opts = self.options(name, path)
        return self.keep_unverified if opts.keep_unverified is None else opts.keep_unverified

    def target_specs(self) -> dict[str, str]:
        """Canonical package -> target specifier, for the rewrite stage."""
        return {name: t.spec for name, t in self.targets.items()}


def _norm_path(path: str) -> str:
    """A folder as the config may write it ("./a/b/", "a/b", ".", "") in one form ("a/b", ".")."""
    parts = [p for p in path.replace("\\", "/").split("/") if p and p != "."]
    return "/".join(parts) or "."


_FLEET_KEYS = {
    "services": "a list of folder globs relative to the fleet root, e.g. [\"services/*\"]",
    "exclude": "a list of folder globs to leave out",
    "critical": "a list of service names that run last, one at a time (phase D)",
    "phases": "a table of service name = phase letter (A-D)",
    "batch_size": "a whole number >= 1",
    "jobs": "a whole number >= 0 (0 = one per core)",
    "failure_threshold": "a fraction between 0 and 1, or a percentage string like \"20%\"",
    "step_timeout": "seconds per migration step, a number > 0",
    "python_floor": "\"raise\" (move the declared Python floor to what the targets need) or \"keep\" (pick target releases that still support it)",
    "keep_unverified": "true or false: keep the change of a service whose baseline could not run",
    "repos": "a list of repositories (paths or git URLs) making a multi-repo fleet",
    "repos_file": "a file beside the config listing repositories, one per line",
}
_GIT_KEYS = {
    "enabled": "true or false: a fleet that is a git work tree runs as with --git",
    "branch_per": "\"service\" (a branch per service) or \"phase\" (a branch per phase)",
    "pr_command": "a command run per branch after --push, with {branch}, {title}, {body} and {repo}",
}
_SERVICE_KEYS = {
    "critical", "phase", "skip", "health", "test_command", "python", "python_floor", "groups", "extras",
    "keep_unverified", "timeout", "env",
}
_HEALTH_KEYS = {"start", "url", "command", "timeout", "stop"}
_TOP_KEYS = {"fleet", "targets", "services", "hooks", "git", "run"}
_RUN_KEYS = {
    "executor": '"local" (this machine, the default) or "ray" (a Ray cluster; pip install \'fleetshift[ray]\')',
    "ray_address": '"auto" (the running cluster), "ray://host:10001" (a remote one), or "" for a local cluster',
    "shared_filesystem": "true when every Ray node sees the fleet at the same path: services go as paths, not bytes",
}


def _known(file: str, key: str, got: Mapping[str, Any], known: Any) -> None:
    for k in got:
        if k not in known:
            names = ", ".join(sorted(known))
            raise ConfigError(file, f"{key}{k}", "unknown key", f"use one of: {names} (or remove it)")


def _table(file: str, key: str, raw: Any, hint: str, known: Any = None, what: str = "a table") -> dict[str, Any]:
    """`raw` when it is a table (holding only `known` keys, when given); else a ConfigError at `key` with `hint`."""
    if not isinstance(raw, dict):
        raise ConfigError(file, key, f"expected {what}", hint)
    if known is not None:
        _known(file, f"{key}.", raw, known)
    return raw


def _str_list(file: str, key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(file, key, f"expected a list of strings, got {value!r}", f'write it as {key.split(".")[-1]} = ["..."]')
    return tuple(value)


def _number(file: str, key: str, value: Any, *, minimum: float, integer: bool = False) -> float:
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok or value < minimum:
        kind = "a whole number" if integer else "a number"
        raise ConfigError(file, key, f"expected {kind} >= {minimum}, got {value!r}", f"set {key} = <{kind} >= {minimum}>")
    return value


def _threshold(file: str, value: Any) -> float:
    key = "fleet.failure_threshold"
    if isinstance(value, str) and value.strip().endswith("%"):
        try:
            value = float(value.strip()[:-1]) / 100
        except ValueError:
            raise ConfigError(file, key, f"cannot read {value!r} as a percentage", 'write e.g. "20%" or 0.2') from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ConfigError(file, key, f"expected a fraction between 0 and 1, got {value!r}", 'write e.g. 0.2 or "20%"')
    return float(value)


def _phase(file: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or value.upper() not in PHASES:
        raise ConfigError(file, key, f"expected a phase letter A, B, C or D, got {value!r}", f'set {key} = "C" (for example)')
    return value.upper()


def _package(file: str, key: str, name: str) -> str:
    try:
        return canonicalize_name(name, validate=True)
    except InvalidName:
        raise ConfigError(file, key, f"{name!r} is not a valid package name", "use the name as published on PyPI") from None


def _spec(file: str, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(file, key, f"expected a requirement specifier string, got {value!r}", f'write e.g. {key} = ">=9.1.2,<10"')
    try:
        SpecifierSet(value)
    except InvalidSpecifier:
        raise ConfigError(file, key, f"{value!r} is not a valid version specifier", 'write PEP 440 specifiers like ">=2.4.0,<3"') from None
    return value


def _targets(file: str, raw: Any) -> dict[str, Target]:
    out: dict[str, Target] = {}
    for name, value in _table(file, "targets", raw, 'write [targets] with lines like tenacity = ">=9.1.2,<10"').items():
        key = f"targets.{name}"
        package = _package(file, key, name)
        replaces = None
        if isinstance(value, dict):
            _known(file, f"{key}.", value, {"spec", "replaces"})
            if "spec" not in value:
                raise ConfigError(file, key, "missing key 'spec'", f'write {name} = {{ spec = ">=1,<2" }}')
            spec = _spec(file, f"{key}.spec", value["spec"])
            if "replaces" in value:
                if not isinstance(value["replaces"], str):
                    raise ConfigError(file, f"{key}.replaces", "expected a package name", 'write replaces = "asyncio-mqtt"')
                replaces = _package(file, f"{key}.replaces", value["replaces"])
        else:
            spec = _spec(file, key, value)
        out[package] = Target(package, spec, replaces)
    return out


def _health(file: str, key: str, raw: Any) -> HealthCheck:
    hint = f'write {key} = {{ start = "...", url = "http://127.0.0.1:{{port}}/health" }}'
    raw = _table(file, key, raw, hint, _HEALTH_KEYS)
    for k in ("start", "url", "command", "stop"):
        if k in raw and not isinstance(raw[k], str):
            raise ConfigError(file, f"{key}.{k}", "expected a string", f'write {k} = "..."')
    if not raw.get("url") and not raw.get("command"):
        raise ConfigError(file, key, "needs a url or a command to poll", 'add url = "http://127.0.0.1:{port}/health"')
    timeout = _number(file, f"{key}.timeout", raw.get("timeout", 30.0), minimum=0.1)
    return HealthCheck(raw.get("start", ""), raw.get("url", ""), raw.get("command", ""), float(timeout), raw.get("stop", ""))


def _services(file: str, raw: Any) -> dict[str, ServiceOptions]:
    raw = _table(file, "services", raw, "write [services.<name>] tables", what="a table of per-service tables")
    out: dict[str, ServiceOptions] = {}
    for name, opts in raw.items():
        key = f"services.{name}"
        _table(file, key, opts, f"write [{key}] with critical/phase/skip/health/test_command", _SERVICE_KEYS)
        for flag in ("critical", "skip", "keep_unverified"):
            if flag in opts and not isinstance(opts[flag], bool):
                raise ConfigError(file, f"{key}.{flag}", f"expected true or false, got {opts[flag]!r}", f"set {flag} = true")
        test_command = opts.get("test_command", "")
        if not isinstance(test_command, str):
            raise ConfigError(file, f"{key}.test_command", "expected a string", 'write test_command = "pytest -x tests"')
        env = opts.get("env", {})
        if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
            raise ConfigError(file, f"{key}.env", "expected a table of strings", 'write env = { DATABASE_URL = "sqlite://" }')
        out[name] = ServiceOptions(
            critical=opts.get("critical", False),
            phase=_phase(file, f"{key}.phase", opts["phase"]) if "phase" in opts else None,
            skip=opts.get("skip", False),
            health=_health(file, f"{key}.health", opts["health"]) if "health" in opts else None,
            test_command=test_command,
            python=_python(file, f"{key}.python", opts["python"]) if "python" in opts else "",
            python_floor=_floor_policy(file, f"{key}.python_floor", opts["python_floor"]) if "python_floor" in opts else "",
            groups=_str_list(file, f"{key}.groups", opts["groups"]) if "groups" in opts else None,
            extras=_str_list(file, f"{key}.extras", opts["extras"]) if "extras" in opts else None,
            keep_unverified=opts.get("keep_unverified"),
            timeout=float(_number(file, f"{key}.timeout", opts["timeout"], minimum=1)) if "timeout" in opts else None,
            env=dict(env),
        )
    return out


def _python(file: str, key: str, value: Any) -> str:
    text = str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not text.replace(".", "").isdigit() or text.count(".") not in (1, 2):
        raise ConfigError(file, key, f"expected a Python version like \"3.12\", got {value!r}", 'write python = "3.12"')
    return text


def _floor_policy(file: str, key: str, value: Any) -> str:
    if value not in PYTHON_FLOOR_POLICIES:
        raise ConfigError(file, key, f"expected \"raise\" or \"keep\", got {value!r}",
                          'write python_floor = "raise" (move the floor) or "keep" (stay on releases that support it)')
    return str(value)


def _hooks(file: str, raw: Any) -> dict[str, tuple[str, ...]]:
    raw = _table(file, "hooks", raw, 'write [hooks] with e.g. build = "docker compose build $FLEETSHIFT_SERVICE"', HOOK_POINTS)
    return {point: _str_list(file, f"hooks.{point}", cmds) for point, cmds in raw.items()}


def parse_config(root: Path, data: Mapping[str, Any], file: str, *, targets: bool = True) -> FleetConfig:
    """Validate a parsed config table; raises ConfigError on the first problem. `targets=False`: without the
    targets (none, not even the defaults, and not checked), which need the recipes loaded (see `load_config`)."""
    _known(file, "", data, _TOP_KEYS)
    fleet = _table(file, "fleet", data.get("fleet", {}), "write a [fleet] table", _FLEET_KEYS)
    phases = _table(file, "fleet.phases", fleet.get("phases", {}), 'write [fleet.phases] with lines like data-api = "D"')
    if not targets:
        wanted: dict[str, Target] = {}
    else:
        wanted = _with_targets(file, data)
    return FleetConfig(
        root=root,
        source=file,
        service_globs=_str_list(file, "fleet.services", fleet.get("services", [])),
        exclude=_str_list(file, "fleet.exclude", fleet.get("exclude", [])),
        critical=_str_list(file, "fleet.critical", fleet.get("critical", [])),
        phase_overrides={k: _phase(file, f"fleet.phases.{k}", v) for k, v in phases.items()},
        batch_size=int(_number(file, "fleet.batch_size", fleet.get("batch_size", 5), minimum=1, integer=True)),
        jobs=int(_number(file, "fleet.jobs", fleet.get("jobs", 0), minimum=0, integer=True)),
        failure_threshold=_threshold(file, fleet.get("failure_threshold", 0.2)),
        step_timeout=float(_number(file, "fleet.step_timeout", fleet.get("step_timeout", 300.0), minimum=1)),
        targets=wanted,
        services=_services(file, data.get("services", {})),
        hooks=_hooks(file, data.get("hooks", {})),
        python_floor=_floor_policy(file, "fleet.python_floor", fleet["python_floor"]) if "python_floor" in fleet else "",
        keep_unverified=_flag(file, "fleet.keep_unverified", fleet.get("keep_unverified", False)),
        git=_git(file, data.get("git", {})),
        repos=_repos(root, file, fleet),
        **_run(file, data.get("run", {})),
    )


def _with_targets(file: str, data: Mapping[str, Any]) -> dict[str, Target]:
    """The config's targets (the recipes' own when it names none)."""
    from fleetshift.recipes import all_recipes

    targets = default_targets() if "targets" not in data else _targets(file, data["targets"])
    if "targets" in data:
        known = {r.package: r for r in all_recipes()}
        for name, target in list(targets.items()):
            recipe = known.get(name)
            if recipe and recipe.replaces and target.replaces is None:
                targets[name] = Target(name, target.spec, recipe.replaces)
    return targets


def _git(file: str, raw: Any) -> GitConfig:
    if not isinstance(raw, dict):
        raise ConfigError(file, "git", "expected a table", "write a [git] table with enabled = true")
    _known(file, "git.", raw, _GIT_KEYS)
    branch_per = raw.get("branch_per", "service")
    if branch_per not in ("service", "phase"):
        raise ConfigError(file, "git.branch_per", f"expected \"service\" or \"phase\", got {branch_per!r}",
                          'write branch_per = "service"')
    command = raw.get("pr_command", "")
    if not isinstance(command, str):
        raise ConfigError(file, "git.pr_command", "expected a string",
                          'write pr_command = "gh pr create --head {branch} --title {title} --body-file {body}"')
    return GitConfig(_flag(file, "git.enabled", raw.get("enabled", False)), branch_per, command)


def _repos(root: Path, file: str, fleet: Mapping[str, Any]) -> tuple[str, ...]:
    """The repositories of a multi-repo fleet, from [fleet] repos and/or the file [fleet] repos_file names."""
    repos = list(_str_list(file, "fleet.repos", fleet["repos"])) if "repos" in fleet else []
    if "repos_file" in fleet:
        name = fleet["repos_file"]
        if not isinstance(name, str):
            raise ConfigError(file, "fleet.repos_file", "expected a file name", 'write repos_file = "repos.txt"')
        path = root / name
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(file, "fleet.repos_file", f"cannot read {path} ({exc.strerror or exc})",
                              "create it with one repository (path or git URL) per line") from None
        repos += [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return tuple(dict.fromkeys(r for r in repos if r.strip()))


def _run(file: str, raw: Any) -> dict[str, Any]:
    """The [run] table: where verification steps run."""
    if not isinstance(raw, dict):
        raise ConfigError(file, "run", "expected a table", 'write [run] with e.g. executor = "ray"')
    _known(file, "run.", raw, _RUN_KEYS)
    executor = raw.get("executor", "")
    if executor not in ("", "local", "ray"):
        raise ConfigError(file, "run.executor", f"expected \"local\" or \"ray\", got {executor!r}", 'set executor = "ray"')
    address = raw.get("ray_address", "")
    if not isinstance(address, str):
        raise ConfigError(file, "run.ray_address", f"expected a string, got {address!r}",
                          'set ray_address = "auto" or "ray://host:10001"')
    return {"executor": executor, "ray_address": address,
            "shared_filesystem": _flag(file, "run.shared_filesystem", raw.get("shared_filesystem", False))}


def _flag(file: str, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(file, key, f"expected true or false, got {value!r}", f"set {key.split('.')[-1]} = true")
    return value


def default_targets() -> dict[str, Target]:
    """Each registered recipe's own default target, used when the config names none."""
    from fleetshift.recipes import all_recipes

    return {r.package: Target(r.package, r.migrates_to, r.replaces) for r in all_recipes()}


def load_config(root: Path, *, targets: bool = True) -> FleetConfig:
    """Read the fleet's config; defaults when there is none. Raises ConfigError for bad files. `targets=False`:
    the config without its targets (empty), for what needs the rest before the recipes are loaded (discovery
    needs no target); the targets' problems are then not reported."""
    path = root / CONFIG_NAME
    if path.is_file():
        import tomllib  # (it imports datetime: a fleet without TOML files never needs it)

        try:
            data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(str(path), "", f"not valid TOML ({exc})", "correct the TOML syntax at that line") from None
        except UnicodeDecodeError:
            raise ConfigError(str(path), "", "not UTF-8 text", "save the file as UTF-8") from None
        except RecursionError:
            raise ConfigError(str(path), "", "too deeply nested to parse", "flatten the nested arrays and tables") from None
        return parse_config(root, data, str(path), targets=targets)
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        import tomllib

        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8-sig"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError):
            data = {}
        section = data.get("tool", {}).get("fleetshift")
        if isinstance(section, dict):
            return parse_config(root, section, f"{pyproject} [tool.fleetshift]", targets=targets)
    return FleetConfig(root=root, targets=default_targets() if targets else {})
