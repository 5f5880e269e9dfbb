"""The records that flow between stages: plain frozen dataclasses, JSON-serialisable and pickleable.

Paths inside records are POSIX strings relative to the fleet root, so records move between
machines, processes and reports unchanged.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
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
    SETUP_PY = "setup.py"
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


class ProjectKind(enum.StrEnum):
    """A published library keeps its dependency ranges wide; an application pins what it runs."""

    LIBRARY = "library"
    APPLICATION = "application"


class LockKind(enum.StrEnum):
    """A generated file that fixes exact versions, and so the tool that regenerates it."""

    UV = "uv.lock"
    POETRY = "poetry.lock"
    PDM = "pdm.lock"
    PIPENV = "Pipfile.lock"
    PIP_COMPILE = "pip-compile"  # a requirements file written by pip-compile or `uv pip compile`
    EXPORT = "export"  # a requirements file exported from another lock (`uv export`, `pdm export`)


@dataclass(frozen=True)
class PythonDecl:
    """One place where a project states which Pythons it supports.

    `kind`: "requires-python", "poetry", "python_requires", "classifier", ".python-version", "tox-envlist",
    "github-actions", "gitlab-ci", "dockerfile"; `value` as written there ("^3.9", "py38", "3.12-slim").
    """

    file: str
    line: int
    kind: str
    value: str


@dataclass(frozen=True)
class PythonModel:
    """The Pythons a service supports: the declared floor/range and the minor versions it names.

    `spec` is a PEP 440 specifier of the supported Pythons ("" when nothing says); `versions` the minor
    versions ("3.8", "3.12") named anywhere (tox envs, CI matrices, classifiers, images, .python-version),
    oldest first; `pinned` the one version a `.python-version` or a config `python` key fixes, else "".
    """

    spec: str = ""
    versions: tuple[str, ...] = ()
    pinned: str = ""
    declarations: tuple[PythonDecl, ...] = ()

    @property
    def floor(self) -> str:
        """The oldest minor version the service still supports, or "" when unknown: the floor of `spec`
        when it has one (what installers enforce), else the oldest of `versions`."""
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        try:
            spec = SpecifierSet(self.spec) if self.spec else None
        except InvalidSpecifier:
            spec = None
        if spec is not None:
            for major, minor in [(2, 7), *((3, m) for m in range(0, 20))]:
                if spec.contains(f"{major}.{minor}.99", prereleases=True) or spec.contains(f"{major}.{minor}.0", prereleases=True):
                    return f"{major}.{minor}"
        return self.versions[0] if self.versions else ""


@dataclass(frozen=True)
class LockFile:
    """A lock file of a service: which kind, what it locks (`source`, the manifest it is generated from),
    the command that regenerates it (run in the service folder) and its header options (pip-compile)."""

    file: str
    kind: LockKind
    source: str = ""
    command: str = ""
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class TestDeps:
    """Test dependencies where a project keeps them: `source` says where ("poetry group test", "hatch env
    default", "tox testenv", "extra test", "dependency-group dev", "requirements-test.txt")."""

    __test__ = False

    source: str
    file: str
    requirements: tuple[str, ...] = ()  # PEP 508 strings, or "-r path" relative to the service folder


@dataclass(frozen=True)
class TestCommand:
    """How the project runs its tests, and where that was read (`source`: "config", "tox.ini [testenv]",
    "hatch scripts.test", ".github/workflows/ci.yml", "Makefile test", "default")."""

    __test__ = False

    command: str
    source: str = "default"
    runner: str = "pytest"  # pytest / behave / unittest / other


@dataclass(frozen=True)
class Project:
    """What a careful engineer reads before touching a service: library or application, its Pythons, its
    locks, its test dependencies and its test command. Read statically by discovery, never by running code."""

    kind: ProjectKind = ProjectKind.APPLICATION
    name: str = ""  # distribution name when it has one
    build_backend: str = ""
    pythons: PythonModel = PythonModel()
    locks: tuple[LockFile, ...] = ()
    test_deps: tuple[TestDeps, ...] = ()
    test_command: TestCommand = TestCommand("python -m pytest")

    @property
    def is_library(self) -> bool:
        return self.kind is ProjectKind.LIBRARY

    @property
    def generated_files(self) -> tuple[str, ...]:
        """Fleet-relative files written by a lock tool (lock files and pip-compile / export outputs): they
        are regenerated with `LockFile.command`, never edited by hand."""
        return tuple(lock.file for lock in self.locks)

    def lock_for(self, file: str) -> LockFile | None:
        """The lock record of a (fleet-relative) file, when that file is generated."""
        return next((lock for lock in self.locks if lock.file == file), None)


@dataclass(frozen=True)
class RecipeDetection:
    """What one recipe's service-level detection found in a service's Python files as the scan read them: the
    files it parsed (`sources`), the lines of every site in each (before `# fleetshift: ignore` comments are
    honoured: the run acts on those lines all the same), and, for a recipe that detects file by file
    (`Recipe.file_level`), the other files each file's detection read (`reads`); None when a file's sites may
    depend on any file of the service."""

    sources: frozenset[str]
    sites: Mapping[str, tuple[int, ...]]
    reads: Mapping[str, frozenset[str]] | None = None
    # for a recipe that keeps its sites (`Recipe.keeps_sites`), per file holding one: each site's line, rule and
    # detail (`UsageSite.detail`), in the order its detection reported them
    found: Mapping[str, tuple[tuple[int, str, str], ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Detection:
    """The scan's detection of one service, handed to the run so that its rewrite does not detect again what the
    scan already did (`recipes.base.Known`): the content digest of every Python file as the scan read it, and
    each service-level recipe's result (a service-level recipe absent found no file holding its tokens)."""

    digests: Mapping[str, bytes]
    recipes: Mapping[str, RecipeDetection | None]  # None: the recipe failed on the service (the run detects again)
    # per module holding a site of a recipe that rewrites sparse views, what the views need of its tree, with the
    # digest of the bytes it was read off (`recipes.sparse.Outline`): the run parses no whole module for a view
    outlines: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Service:
    """A folder of the fleet that is deployed and tested on its own."""

    name: str
    path: str  # fleet-relative folder, "" for a fleet that is one service
    manifests: tuple[Manifest, ...] = ()
    python_files: tuple[str, ...] = ()  # fleet-relative
    config_files: tuple[str, ...] = ()  # pytest.ini, tox.ini, setup.cfg, pyproject.toml, pytest.toml; *.flux queries
    test_files: tuple[str, ...] = ()
    import_names: tuple[str, ...] = ()  # top-level packages this service provides
    critical: bool = False
    project: Project = Project()
    detection: Detection | None = field(default=None, compare=False, repr=False, metadata={"json": False})

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
    skipped: tuple[tuple[str, str], ...] = ()  # (folder, why) holding a manifest but not made a service

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
    project: Project = Project()  # the service as a project (kind, Pythons, locks, tests), from discovery


@dataclass(frozen=True)
class Inventory:
    """The scan's result: per service, its pins, the recipes that apply and every usage site."""

    root: str
    services: tuple[ServiceInventory, ...] = ()
    findings: tuple[Finding, ...] = ()
    advisories: tuple[Finding, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()  # (folder, why) discovery did not make a service
    detection: Mapping[str, Detection] = field(default_factory=dict, compare=False, repr=False, metadata={"json": False})

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
    project: Project = Project()  # the service as a project (kind, Pythons, locks, tests), from discovery


@dataclass(frozen=True)
class Plan:
    root: str
    services: tuple[ServicePlan, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()  # (folder, why) discovery did not make a service

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
class Selection:
    """The part of a plan a command acts on: phases, services and recipes (empty: all). `run`, `run --dry-run`,
    `resume`, `check` and the Python preflight all choose through this one record."""

    phases: tuple[Phase, ...] = tuple(Phase)
    services: tuple[str, ...] = ()
    recipes: tuple[str, ...] = ()

    def wants(self, service: str) -> bool:
        return not self.services or service in self.services

    def wants_recipe(self, recipe: str) -> bool:
        return not self.recipes or recipe in self.recipes

    def chain(self, sp: ServicePlan) -> tuple[str, ...]:
        """The service's recipes this selection runs, in the plan's order."""
        return tuple(r for r in sp.recipes if self.wants_recipe(r))

    def services_of(self, plan: Plan) -> list[ServicePlan]:
        """The chosen services, in plan order."""
        return [s for s in sorted(plan.services, key=lambda s: s.order) if s.phase in self.phases and self.wants(s.service)]

    def by_phase(self, plan: Plan) -> dict[Phase, list[ServicePlan]]:
        """The chosen services by phase, phases with none left out."""
        out: dict[Phase, list[ServicePlan]] = {}
        for sp in self.services_of(plan):
            out.setdefault(sp.phase, []).append(sp)
        return {p: out[p] for p in Phase if p in out}


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


class RunState(enum.StrEnum):
    """How a test run ended. Only RAN is evidence; every other state makes a baseline unusable."""

    __test__ = False

    RAN = "ran"  # the runner ran to its end and executed at least one test
    USAGE_ERROR = "usage-error"  # pytest exit 4: unknown option, bad ini, bad arguments
    INTERNAL_ERROR = "internal-error"  # pytest exit 3
    COLLECTION_ERROR = "collection-error"  # errors while collecting (exit 2 with collection errors)
    NO_TESTS = "no-tests"  # pytest exit 5, or nothing executed
    IMPORT_ERROR = "import-error"  # conftest or plugin failed to import
    INSTALL_FAILED = "install-failed"  # the environment could not be made
    TIMEOUT = "timeout"  # killed at the step timeout
    NO_PASSING = "no-passing"  # tests ran on the old pins and not one passed: no evidence either
    LOST = "lost"  # the worker (or node) running it died, and so did its retry: nothing is known


class VerdictState(enum.StrEnum):
    """A service's result in every report: kept and proven, kept unproven, or not kept."""

    PASSED = "passed"
    UNVERIFIABLE = "unverifiable"  # the baseline could not run: nothing proves the change
    NOT_VERIFIED = "not-verified"  # applied with --no-verify
    FAILED = "failed"
    SKIPPED = "skipped"
    NO_OP = "no-op"


class RunStatus(enum.StrEnum):
    """A run's status in its journal."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    ROLLED_BACK = "rolled-back"
    INTERRUPTED = "interrupted"
    AWAITING_APPROVAL = "awaiting-approval"  # a run outcome only: stopped before a phase-D service


class StepStatus(enum.StrEnum):
    """One step (baseline, rewrite, verify, health, rollback ...) of a service in the journal."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"


class ServiceStatus(enum.StrEnum):
    """A service's status in the journal. Finished ones are proven (passed, no-op), kept without proof
    (kept-unverified: the baseline could not run and the config or --keep-unverified keeps it; not-verified:
    --no-verify), not kept (unverifiable: nothing applied; failed; rolled-back: its phase went over the
    threshold), or skipped."""

    PENDING = "pending"
    RUNNING = "running"
    PASSED = "passed"
    NO_OP = "no-op"
    KEPT_UNVERIFIED = "kept-unverified"
    NOT_VERIFIED = "not-verified"
    UNVERIFIABLE = "unverifiable"
    FAILED = "failed"
    ROLLED_BACK = "rolled-back"
    SKIPPED = "skipped"

    @property
    def done(self) -> bool:
        """Finished in this run: never redone by `resume`."""
        return self not in (ServiceStatus.PENDING, ServiceStatus.RUNNING)

    @property
    def kept(self) -> bool:
        """Its changes stay in the fleet."""
        return self in (ServiceStatus.PASSED, ServiceStatus.KEPT_UNVERIFIED, ServiceStatus.NOT_VERIFIED)

    @property
    def proven(self) -> bool:
        return self in (ServiceStatus.PASSED, ServiceStatus.NO_OP)

    @property
    def migrated(self) -> bool:
        """False when its dependents must wait (nothing of it was kept in this run)."""
        return self not in (ServiceStatus.FAILED, ServiceStatus.ROLLED_BACK, ServiceStatus.SKIPPED, ServiceStatus.UNVERIFIABLE)

    @property
    def broke(self) -> bool:
        """Failed, or undone with its phase."""
        return self in (ServiceStatus.FAILED, ServiceStatus.ROLLED_BACK)

    @property
    def unproven(self) -> bool:
        return self in (ServiceStatus.UNVERIFIABLE, ServiceStatus.KEPT_UNVERIFIED, ServiceStatus.NOT_VERIFIED)

    @classmethod
    def of(cls, value: object) -> ServiceStatus:
        """The status a journal entry records (`pending` when it has none or one this version does not know)."""
        try:
            return cls(str(value)) if value else cls.PENDING
        except ValueError:
            return cls.PENDING


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
class ApiDiagnostic:
    """One diagnostic of the API check: a use of a library's name the installed release does not support
    (`file` fleet-relative, `code` the checker's error code: attr-defined, operator, call-arg, unused-coroutine)."""

    file: str
    line: int
    column: int
    code: str
    message: str
    hint: str = ""

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def key(self) -> tuple[str, str, str]:
        """What matches it on the other side of a migration: lines move, the file, code and message do not."""
        return (self.file, self.code, self.message)

    def describe(self) -> str:
        hint = f" ({self.hint})" if self.hint else ""
        return f"{self.where}: {self.message} [{self.code}]{hint}"


@dataclass(frozen=True)
class ApiCheck:
    """The API check of one environment: a type checker run on the service's files that use the migrated
    libraries, with those libraries installed. On the baseline `diagnostics` holds every diagnostic of the
    checked files; after the migration only those that involve the migrated libraries' names."""

    checker: str
    files: tuple[str, ...] = ()  # fleet-relative
    packages: tuple[str, ...] = ()  # the migrated distributions the check is about
    diagnostics: tuple[ApiDiagnostic, ...] = ()
    error: str = ""  # why the check could not run ("" when it ran)
    log: str = ""
    duration: float = 0.0

    @property
    def ran(self) -> bool:
        return not self.error


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
    state: RunState = RunState.RAN
    sources: tuple[str, ...] = ()  # where the install list came from: "poetry.lock", "hatch env default" ...
    python: str = ""  # the interpreter version the environment ran on
    command: str = ""  # the test command as run
    api: ApiCheck | None = None  # the API check in the same environment (None: not run)
    imports: tuple[TestOutcome, ...] = ()  # the migrated production modules imported (`import:<module>`)
    migrated: tuple[str, ...] = ()  # the Python files the migration changed (fleet-relative), after it
    exercises: tuple[tuple[str, tuple[str, ...]], ...] = ()  # test module -> migrated files it imports (static)
    node: str = ""  # where it ran when not in the conductor's process: host, worker pid and Ray node

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
    applied: tuple[str, ...] = ()  # the recipes that rewrote it (a recipe the Python floor blocked is not)
    files: tuple[str, ...] = ()
    state: VerdictState | None = None  # None: derived from passed/skipped for records written before states
    renamed: tuple[tuple[str, str], ...] = ()  # (id on the baseline, id after): only the parametrize id changed
    api_regressions: tuple[ApiDiagnostic, ...] = ()  # API check diagnostics after that the baseline did not have
    not_covered: tuple[str, ...] = ()  # migrated files no test that ran imports: "passed, not covered"
    unreached: tuple[tuple[str, tuple[str, ...]], ...] = ()  # tests that could not run -> migrated files they import

    @property
    def outcome(self) -> VerdictState:
        """The verdict's state for every report ("unverifiable" is never shown as "passed")."""
        if self.state is not None:
            return self.state
        if self.skipped:
            return VerdictState.SKIPPED
        return VerdictState.PASSED if self.passed else VerdictState.FAILED


_PLAIN = (str, int, float, bool, type(None))
_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}  # None: not a record


def to_jsonable(obj: Any) -> Any:
    """Turn records (and containers of them) into JSON-ready values."""
    cls = type(obj)
    if cls in _PLAIN:  # exactly these types (an enum is a str or int subclass): the common case, first
        return obj
    names = _FIELD_NAMES.get(cls, ())
    if names == ():  # not seen yet (an enum's class answers is_dataclass slowly: ask once per type)
        names = _FIELD_NAMES[cls] = (tuple(f.name for f in dataclasses.fields(cls) if f.metadata.get("json", True))
                                     if dataclasses.is_dataclass(cls) else None)
    if names is not None:
        return {name: to_jsonable(getattr(obj, name)) for name in names}
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, bytes):
        return obj.decode("utf-8", "replace")
    return obj


def to_json(obj: Any) -> str:
    """`json.dumps(to_jsonable(obj))`, the same text, written by the json module's encoder that meets the records
    itself (a record becomes the mapping of its fields, an enum its value, bytes their text): no copy of the whole
    tree in plain containers first (half the time of a scan's JSON output). A mapping whose keys the encoder
    refuses (to_jsonable writes any key as its str) is written by way of to_jsonable."""
    import json

    try:
        return json.dumps(obj, default=_jsonable_one)
    except TypeError:
        return json.dumps(to_jsonable(obj))


_WHOLE: dict[type, bool] = {}  # a frozen record whose every field is written: its __dict__ is its JSON mapping


def _jsonable_one(obj: Any) -> Any:
    """What `to_jsonable` makes of one value the json encoder does not know (its parts are the encoder's again).
    A frozen record whose fields are all written and whose __dict__ holds nothing else (its __init__ sets every
    field, in order, and nothing may set another) is its own __dict__."""
    cls = type(obj)
    names = _FIELD_NAMES.get(cls, ())
    if names == ():
        names = _FIELD_NAMES[cls] = (tuple(f.name for f in dataclasses.fields(cls) if f.metadata.get("json", True))
                                     if dataclasses.is_dataclass(cls) else None)
    if names is not None:
        whole = _WHOLE.get(cls)
        if whole is None:
            whole = _WHOLE[cls] = (cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
                                   and len(names) == len(dataclasses.fields(cls)))
        if whole:
            d = getattr(obj, "__dict__", None)
            if d is not None and len(d) == len(names):
                return d
        return {name: getattr(obj, name) for name in names}
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, bytes):
        return obj.decode("utf-8", "replace")
    raise TypeError(f"Object of type {cls.__name__} is not JSON serializable")


__all__ = [
    "Action",
    "ApiCheck",
    "ApiDiagnostic",
    "ChangeSet",
    "FileChange",
    "Finding",
    "Fleet",
    "HealthResult",
    "Inventory",
    "LockFile",
    "LockKind",
    "Manifest",
    "ManifestKind",
    "Phase",
    "Pin",
    "Plan",
    "Project",
    "ProjectKind",
    "PythonDecl",
    "PythonModel",
    "RecipeUse",
    "RunState",
    "Service",
    "ServiceInventory",
    "ServicePlan",
    "Severity",
    "TestCommand",
    "TestDeps",
    "TestOutcome",
    "TestRun",
    "TestStatus",
    "UsageSite",
    "Verdict",
    "VerdictState",
    "field",
]
