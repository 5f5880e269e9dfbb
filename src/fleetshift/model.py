"""The records that flow between stages: plain frozen dataclasses, JSON-serialisable and pickleable.

Paths inside records are POSIX strings relative to the fleet root, so records move between
machines, processes and reports unchanged.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Any


class Action(enum.StrEnum):
    """What a rule does at a site: rewrite it, or leave it for a human, or only inform."""

    AUTO = "auto"
    HUMAN = "human"
    INFO = "info"


class Severity(enum.StrEnum):
    """How loud a Finding is."""

    ERROR = "error"  # fleetshift could not read or change something it needed to
    HUMAN = "human"  # a change a person must make
    ADVICE = "advice"  # worth knowing, nothing to do necessarily


class ManifestKind(enum.StrEnum):
    REQUIREMENTS = "requirements"
    PYPROJECT = "pyproject"
    SETUP_CFG = "setup.cfg"
    PIPFILE = "pipfile"


@dataclass(frozen=True)
class Pin:
    """One requirement as a manifest states it, with where it stands.

    `package` is the canonical (PEP 503 normalised) name; `spec` is the specifier text
    ("==8.2.3", ">=1,<2", "" when unpinned); `path` is set for path / editable / URL deps.
    """

    package: str
    spec: str
    file: str
    line: int
    raw: str
    section: str = ""  # "dependencies", "optional:test", "group:dev", "dev-packages", "-r requirements.txt" ...
    extras: tuple[str, ...] = ()
    marker: str = ""
    hashes: tuple[str, ...] = ()
    path: str = ""  # local path of a path/editable dependency, relative to the fleet root
    editable: bool = False


@dataclass(frozen=True)
class Manifest:
    """A file that declares a service's dependencies."""

    file: str
    kind: ManifestKind
    pins: tuple[Pin, ...] = ()
    includes: tuple[str, ...] = ()  # other manifests pulled in (-r / -c), fleet-relative


@dataclass(frozen=True)
class Service:
    """A folder of the fleet that is deployed and tested on its own."""

    name: str
    path: str  # fleet-relative folder, "" for a fleet that is one service
    manifests: tuple[Manifest, ...] = ()
    python_files: tuple[str, ...] = ()  # fleet-relative
    config_files: tuple[str, ...] = ()  # pytest.ini, tox.ini, setup.cfg, pyproject.toml, pytest.toml
    test_files: tuple[str, ...] = ()
    import_names: tuple[str, ...] = ()  # top-level packages this service provides
    critical: bool = False

    @property
    def pins(self) -> tuple[Pin, ...]:
        return tuple(p for m in self.manifests for p in m.pins)

    @property
    def has_tests(self) -> bool:
        return bool(self.test_files)


@dataclass(frozen=True)
class Fleet:
    """What discovery found: the services, and files it could not read."""

    root: str  # absolute path
    services: tuple[Service, ...] = ()
    findings: tuple[Finding, ...] = ()
    compose_depends_on: tuple[tuple[str, str], ...] = ()  # (service, dependency) from docker-compose

    def service(self, name: str) -> Service:
        for s in self.services:
            if s.name == name:
                return s
        raise KeyError(name)


@dataclass(frozen=True)
class UsageSite:
    """One place where a service uses an API that a recipe migrates."""

    recipe: str
    rule: str
    file: str
    line: int
    col: int = 0
    detail: str = ""
    action: Action = Action.AUTO


@dataclass(frozen=True)
class Finding:
    """Something a human must look at: file:line, the rule, what to do, and where to read more."""

    file: str
    line: int
    rule: str
    message: str
    severity: Severity = Severity.HUMAN
    link: str = ""
    recipe: str = ""

    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class RecipeUse:
    """A recipe that applies to a service: from which pin, to which target, and why."""

    recipe: str
    package: str
    current: str  # the pin's spec as written, or "" when unpinned
    target: str
    reason: str
    already_done: bool = False


@dataclass(frozen=True)
class ServiceInventory:
    service: str
    path: str
    pins: tuple[Pin, ...] = ()
    uses: tuple[RecipeUse, ...] = ()
    sites: tuple[UsageSite, ...] = ()
    findings: tuple[Finding, ...] = ()
    has_tests: bool = False
    critical: bool = False
    imports_siblings: tuple[str, ...] = ()  # other services whose packages this one imports


@dataclass(frozen=True)
class Inventory:
    """The scan's result: per service, its pins, the recipes that apply and every usage site."""

    root: str
    services: tuple[ServiceInventory, ...] = ()
    findings: tuple[Finding, ...] = ()
    advisories: tuple[Finding, ...] = ()

    def service(self, name: str) -> ServiceInventory:
        for s in self.services:
            if s.service == name:
                return s
        raise KeyError(name)


class Phase(enum.StrEnum):
    A = "A"
    B = "B"
    C = "C"
    D = "D"


@dataclass(frozen=True)
class ServicePlan:
    service: str
    path: str
    recipes: tuple[str, ...]  # chain, in application order
    risk_score: float
    risk: str  # low / medium / high / critical
    phase: Phase
    batch: int
    order: int
    reasons: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class Plan:
    root: str
    services: tuple[ServicePlan, ...] = ()

    def by_phase(self) -> dict[Phase, list[ServicePlan]]:
        out: dict[Phase, list[ServicePlan]] = {p: [] for p in Phase}
        for s in sorted(self.services, key=lambda s: s.order):
            out[s.phase].append(s)
        return out

    def service(self, name: str) -> ServicePlan:
        for s in self.services:
            if s.service == name:
                return s
        raise KeyError(name)


@dataclass(frozen=True)
class FileChange:
    """New contents for one file. `old` is None when the file is created; `new` None when deleted."""

    file: str
    old: bytes | None
    new: bytes | None
    recipes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChangeSet:
    """What the rewrite stage proposes for one service; nothing is written yet."""

    service: str
    changes: tuple[FileChange, ...] = ()
    findings: tuple[Finding, ...] = ()
    recipes: tuple[str, ...] = ()


class TestStatus(enum.StrEnum):
    """How one test ended, as the JUnit XML of its run says."""

    __test__ = False  # not a pytest test class

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class TestOutcome:
    """One test of a run: its stable id (`classname::name`, or `import:<package>` for a smoke test)."""

    __test__ = False

    id: str
    status: TestStatus
    message: str = ""
    duration: float = 0.0

    @property
    def failing(self) -> bool:
        return self.status in (TestStatus.FAILED, TestStatus.ERROR)


@dataclass(frozen=True)
class TestRun:
    """A service's tests run once in an isolated environment, on its old ("old") or new ("new") pins.

    `kind` is "pytest", "import-smoke" (no tests: each top-level package imported) or "compile-smoke"
    (neither tests nor packages: every Python file compiled). `installed` is False when the environment
    could not be made; `error` then says why and `log` where the full output is.
    """

    __test__ = False

    service: str
    label: str
    kind: str = "pytest"
    installed: bool = True
    exit_code: int | None = None
    duration: float = 0.0
    outcomes: tuple[TestOutcome, ...] = ()
    error: str = ""
    log: str = ""
    timed_out: bool = False
    cached: bool = False
    requirements: tuple[str, ...] = ()

    def outcome(self, test_id: str) -> TestOutcome | None:
        for o in self.outcomes:
            if o.id == test_id:
                return o
        return None

    @property
    def failing(self) -> tuple[str, ...]:
        return tuple(o.id for o in self.outcomes if o.failing)

    @property
    def passed(self) -> tuple[str, ...]:
        return tuple(o.id for o in self.outcomes if o.status == TestStatus.PASSED)

    @property
    def ran(self) -> bool:
        """The environment was made and the tests ran to their end (not killed)."""
        return self.installed and not self.timed_out

    def summary(self) -> str:
        """One line: what ran and how it ended."""
        if not self.installed:
            return f"{self.label} pins: could not install ({self.error}); log: {self.log}"
        counts: dict[str, int] = {}
        for o in self.outcomes:
            counts[o.status.value] = counts.get(o.status.value, 0) + 1
        parts = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nothing ran"
        tail = " (timed out)" if self.timed_out else ""
        cached = " [cached]" if self.cached else ""
        return f"{self.label} pins, {self.kind}: {parts}{tail}{cached}"


@dataclass(frozen=True)
class HealthResult:
    """Whether a service started and answered its health probe in time."""

    ok: bool
    detail: str
    log: str = ""


@dataclass(frozen=True)
class Verdict:
    """Does a service still work on its new pins? Only regressions against the baseline fail it.

    `regressions`: tests failing (or erroring) after that did not fail on the baseline; `pre_existing`:
    failing on both, reported, not blamed; `fixed`: failing before, passing after.
    """

    service: str
    passed: bool
    reason: str = ""
    regressions: tuple[str, ...] = ()
    pre_existing: tuple[str, ...] = ()
    fixed: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()  # passed on the baseline, absent after
    error: str = ""
    log: str = ""
    baseline: TestRun | None = None
    after: TestRun | None = None
    health: HealthResult | None = None
    skipped: bool = False
    rolled_back: bool = False
    recipes: tuple[str, ...] = ()
    files: tuple[str, ...] = ()


def to_jsonable(obj: Any) -> Any:
    """Turn records (and containers of them) into JSON-ready values."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, bytes):
        return obj.decode("utf-8", "replace")
    return obj


__all__ = [
    "Action",
    "ChangeSet",
    "FileChange",
    "Finding",
    "Fleet",
    "HealthResult",
    "Inventory",
    "Manifest",
    "ManifestKind",
    "Phase",
    "Pin",
    "Plan",
    "RecipeUse",
    "Service",
    "ServiceInventory",
    "ServicePlan",
    "Severity",
    "TestOutcome",
    "TestRun",
    "TestStatus",
    "UsageSite",
    "Verdict",
    "field",
]
