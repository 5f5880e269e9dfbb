"""Find the services of a fleet: their folders, manifests, Python, config, test files and project record.

Without `[fleet] services` patterns, a service is a folder holding a manifest (requirements*.txt,
pyproject.toml, setup.cfg, setup.py, Pipfile) that is not inside another service. A project at the fleet
root (a pyproject.toml with [project] or [tool.poetry], setup.py, setup.cfg, requirements.txt or Pipfile)
makes the root a service, so a single repository is a fleet of one; folders below it are services only
when they are projects of their own. Documentation, examples, benchmarks and test fixtures (docs/, doc/,
examples/, example/, benchmarks/, tests/**/fixtures, folders whose requirements are only documentation
tools) are not services by default: the Fleet lists them in `skipped` with the reason, and naming them
in `[fleet] services` brings them back. Nothing is imported or run.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fleetshift import forked
from fleetshift.config import CONFIG_NAME, ConfigError, FleetConfig
from fleetshift.manifests import manifest_kind, read_manifest
from fleetshift.model import Finding, Fleet, Manifest, ManifestKind, Service, Severity
from fleetshift.project import DOC_TOOLS, is_doc_tool, is_real_project, read_project
from fleetshift.quickscan import SKIP_DIRS
from fleetshift.recipes.base import config_kind, file_kind

if TYPE_CHECKING:
    from fleetshift.scancache import ScanCache

COMPOSE_NAMES = ("docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml")

# folders that hold a manifest but are not services unless the config names them
_NOT_SERVICES = {
    "docs": "documentation", "doc": "documentation", "documentation": "documentation",
    "examples": "examples", "example": "examples",
    "benchmarks": "benchmarks", "benchmark": "benchmarks",
}
_TEST_DIRS = {"tests", "test", "testing"}
# folders of other projects' code copied into a service: their requirements are not the service's
_VENDORED = {"vendor", "vendored", "third_party", "third-party", "thirdparty", "_vendor", "external"}
# folders of a project's image builds and deployments: their requirements belong to the project
_BUILD_DIRS = {"docker", "deploy", "deployment", "deployments", "provisioning", "ops", "infra", "k8s", "helm"}
_FIXTURE_DIRS = {"fixtures", "fixture"}
_GLOB_CHARS = set("*?[")
_DOC_WORDS = tuple(sorted({w.encode() for w in (*DOC_TOOLS, "sphinx", "mkdocs")}))
_PATTERN_FIX = 'write folder patterns relative to the fleet root, e.g. ["services/*", "libs/*"], or ["."] for the root itself'


class DiscoveryError(Exception):
    """The fleet path cannot be used at all (missing, not a folder)."""


def _skip(name: str) -> bool:
    return name in SKIP_DIRS or name.endswith(".egg-info") or (name.startswith(".") and name not in {".", ".."})


_MANIFEST_ENDINGS = (".txt", ".in", ".toml", ".cfg")


def _is_manifest(name: str) -> bool:
    """A manifest's file name (or setup.py); the cheap suffix test first, the walk calls this for every file."""
    if name in ("setup.py", "Pipfile"):
        return True
    return name.endswith(_MANIFEST_ENDINGS) and manifest_kind(name) is not None


def _has_manifest(folder: Path) -> bool:
    try:
        names = os.listdir(folder)
    except OSError:
        return False
    return any(_is_manifest(n) for n in names)


def _rel(root: Path, path: Path) -> str:
    rel = path.relative_to(root).as_posix()
    return "" if rel == "." else rel


def _category(rel: str) -> tuple[str, str] | None:
    """(the folder word, why) when a fleet-relative folder is documentation, examples, benchmarks or test
    fixtures by its path."""
    parts = rel.lower().split("/")
    for i, part in enumerate(parts):
        if part in _NOT_SERVICES:
            return part, f"{_NOT_SERVICES[part]} folder, not a service"
        if part in _TEST_DIRS:
            fixture = next((p for p in parts[i + 1:] if p in _FIXTURE_DIRS), None)
            if fixture:
                return fixture, "test fixtures, not a service"
    return None


def _doc_tools_only(root: Path, folder: Path) -> str | None:
    """Why a folder is a documentation build, when every requirement its own manifests name is a
    documentation tool (sphinx, mkdocs, furo, ...); the project itself (`-e .`, `..`) does not count."""
    packages: set[str] = set()
    try:
        names = sorted(n for n in os.listdir(folder) if n != "setup.py" and _is_manifest(n))
    except OSError:
        return None
    texts = []
    for name in names:
        try:
            texts.append((folder / name).read_bytes().lower())
        except OSError:
            return None
    if not any(word in text for text in texts for word in _DOC_WORDS):
        return None  # the cheap test: no documentation tool is even named
    for name in names:
        manifest, _ = read_manifest(root, _rel(root, folder / name))
        packages |= {p.package for p in manifest.pins if not p.path}
    if packages and all(is_doc_tool(p) for p in packages):
        shown = ", ".join(sorted(packages)[:3]) + (", ..." if len(packages) > 3 else "")
        return f"only documentation tools ({shown}), not a service"
    return None


@dataclass
class _Selection:
    """The service folders chosen, and the folders holding a manifest that were passed over (with why)."""

    dirs: list[Path] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    prune: set[str] = field(default_factory=set)  # fleet-relative folders no service's walk enters


def normal_pattern(file: str, key: str, pattern: str) -> str:
    """A config folder pattern relative to the fleet root in one form ("." / "./" / "" -> "", "./a/" -> "a").
    Absolute patterns, patterns that climb out of the root and malformed `**` are a ConfigError."""
    text = pattern.strip().replace("\\", "/")
    if text.startswith(("/", "~")) or re.match(r"^[A-Za-z]:", text):
        raise ConfigError(file, key, f"{pattern!r} is an absolute path", _PATTERN_FIX)
    parts = [p for p in text.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ConfigError(file, key, f"{pattern!r} leads outside the fleet root", _PATTERN_FIX)
    if any("**" in p and p != "**" for p in parts):
        raise ConfigError(file, key, f"{pattern!r}: '**' must be a whole path part", 'write e.g. "services/**" or "services/*/api"')
    if any(p.count("[") != p.count("]") for p in parts):
        raise ConfigError(file, key, f"{pattern!r} has an unclosed '['", 'close the bracket, e.g. "svc-[ab]"')
    return "/".join(parts)


def _excluded(rel: str, patterns: tuple[str, ...]) -> str | None:
    """The exclude pattern matching a folder or one of its parents ("" matches the root)."""
    parts = rel.split("/") if rel else []
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))] or [""]
    for pat in patterns:
        if any(fnmatch.fnmatchcase(c, pat) for c in candidates):
            return pat
    return None


def _inside(root: Path, path: Path) -> bool:
    try:
        path.resolve().relative_to(root)
    except (ValueError, OSError):
        return False
    return True


def _not_a_service(root: Path, folder: Path, rel: str, *, root_project: bool) -> str | None:
    """Why a folder holding a manifest is not a service by default (None: it is one)."""
    category = _category(rel)
    if category:
        return category[1]
    if root_project and rel.split("/")[0].lower() in _TEST_DIRS:
        return "part of the project at the fleet root (its tests)"
    if root_project and rel.split("/")[0].lower() in _BUILD_DIRS:
        return "part of the project at the fleet root (its image build or deployment)"
    doc = _doc_tools_only(root, folder)
    if doc:
        return doc
    if root_project and not is_real_project(root, rel):
        return "part of the project at the fleet root (no pyproject [project], setup.py, setup.cfg, requirements.txt or Pipfile of its own)"
    return None


def _auto_service_dirs(root: Path, exclude: tuple[str, ...]) -> _Selection:
    """Every folder holding a manifest that is not inside another, nor documentation, examples, benchmarks
    or test fixtures. A project at the fleet root makes the root a service; nested folders are then
    services only when they are projects themselves."""
    sel = _Selection()
    root_project = is_real_project(root, "") and _excluded("", exclude) is None
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not _skip(d))
        if here == root or not any(_is_manifest(n) for n in (*filenames, *dirnames)):
            continue
        rel = _rel(root, here)
        pattern = _excluded(rel, exclude)
        why = f"excluded by fleet.exclude {pattern!r}" if pattern is not None else None
        why = why or _not_a_service(root, here, rel, root_project=root_project)
        if why is None:
            sel.dirs.append(here)
        else:
            sel.skipped.append((rel, why))
            if why.startswith("part of the project"):
                continue  # its files stay the root project's; look further down (tests/fixtures/...)
        sel.prune.add(rel)
        dirnames[:] = []  # nothing nested inside a service (or a skipped folder) is another service
    if root_project or (not sel.dirs and _has_manifest(root) and _excluded("", exclude) is None):
        sel.dirs.insert(0, root)
    return sel


def _glob_service_dirs(root: Path, config: FleetConfig, exclude: tuple[str, ...]) -> _Selection:
    """The folders the config's `[fleet] services` patterns match. A folder named without wildcards is a
    service as named. A wildcard match must hold a manifest, and is passed over (as without patterns) when
    it is documentation, examples, benchmarks or fixtures that the pattern does not name in so many words."""
    file = config.source or CONFIG_NAME
    sel = _Selection()
    seen: set[Path] = set()
    for raw in config.service_globs:
        pattern = normal_pattern(file, "fleet.services", raw)
        literal = not set(pattern) & _GLOB_CHARS
        try:
            matches = [root] if not pattern else sorted(root.glob(pattern))
        except (ValueError, NotImplementedError) as exc:
            raise ConfigError(file, "fleet.services", f"{raw!r} is not a usable folder pattern ({exc})",
                              'write glob patterns like "services/*" or "libs/**"') from None
        named = {p.lower() for p in pattern.split("/") if not set(p) & _GLOB_CHARS}
        for match in matches:
            rel = _rel(root, match)
            if match in seen or not match.is_dir() or any(_skip(p) for p in rel.split("/") if p):
                continue
            seen.add(match)
            if not _inside(root, match):
                raise ConfigError(file, "fleet.services",
                                  f"{raw!r} matches {rel}, a link that leads outside the fleet root to {match.resolve()}",
                                  "name folders inside the fleet root (move the service in, or exclude the link with "
                                  "[fleet] exclude)")
            pat = _excluded(rel, exclude)
            if pat is not None:
                sel.skipped.append((rel, f"excluded by fleet.exclude {pat!r}"))
                sel.prune.add(rel)
                continue
            if not literal and not _has_manifest(match):
                continue
            category = _category(rel)
            named_here = category is not None and category[0] in named
            why = None if literal or named_here else _not_a_service(root, match, rel, root_project=False)
            if why:
                sel.skipped.append((rel, why))
                sel.prune.add(rel)
                continue
            sel.dirs.append(match)
            sel.prune.add(rel)
    return sel


def _walk_service(root: Path, folder: Path, prune: set[str] | frozenset[str] = frozenset(),
                  exclude: tuple[str, ...] = (), links: list[str] | None = None,
                  ) -> tuple[list[str], list[str], list[str], list[tuple[str, str]]]:
    """Python files, config files and manifest files of one service (fleet-relative), and the folders inside
    it that were passed over. Not entered: the folders in `prune` (other services, skipped folders), those
    `exclude` matches, and documentation, examples, benchmarks or fixtures with a manifest of their own.
    Linked folders are not entered; linked Python files and manifests are left out (and added to `links`):
    fleetshift neither reads nor writes through a link. One `os.scandir` per folder: the entry types come
    with the listing, so no file is stat-ed."""
    python: list[str] = []
    configs: list[str] = []
    manifests: list[str] = []
    skipped: list[tuple[str, str]] = []
    top = str(folder)
    start = _rel(root, folder)
    stack: list[tuple[str, str, str, int]] = [(top, start, "", 0)]  # os path, fleet-relative, inside the service, depth
    while stack:
        dirpath, base, sub, depth = stack.pop()
        try:
            with os.scandir(dirpath) as it:
                entries = list(it)
        except OSError:
            continue
        files: list[tuple[str, bool]] = []
        dirs: list[str] = []
        for e in entries:
            try:
                if e.is_dir(follow_symlinks=False):
                    dirs.append(e.name)
                else:  # files, links (a linked folder is never entered) and the rest
                    files.append((e.name, e.is_symlink()))
            except OSError:
                continue
        if depth and any(_is_manifest(n) for n, _ in files):
            why = _nested_not_part(root, Path(dirpath), sub)
            if why:
                skipped.append((base, why))
                continue
        for name, linked in sorted(files):
            rel = f"{base}/{name}" if base else name
            if linked and (name.endswith((".py", ".flux", *_MANIFEST_ENDINGS)) or name == "Pipfile"
                           or (depth == 0 and config_kind(name) is not None)):
                if links is not None and (name.endswith((".py", ".flux")) or _is_manifest(name)
                                          or (depth == 0 and config_kind(name) is not None)):
                    links.append(rel)
                continue
            if name.endswith(".py"):
                python.append(rel)
                if depth == 0 and name == "setup.py":  # its literal requirements (read with ast, never run)
                    manifests.append(rel)
                continue
            if (depth == 0 and config_kind(name) is not None) or name.endswith(".flux"):
                configs.append(rel)
            # pyproject.toml, setup.cfg, Pipfile at the service's root; requirements and constraints files at
            # any depth (requirements/ folders, deploy/.../requirements/base.txt, docker/requirements.txt)
            kind = manifest_kind(rel) if name.endswith(_MANIFEST_ENDINGS) or name == "Pipfile" else None
            if kind is not None and (depth == 0 or kind is ManifestKind.REQUIREMENTS):
                manifests.append(rel)
        kept = sorted(
            d for d in dirs
            if not _skip(d) and (sub_rel := f"{base}/{d}" if base else d) not in prune and _excluded(sub_rel, exclude) is None
        )
        for d in reversed(kept):  # depth first, in name order: the order os.walk gave
            stack.append((os.path.join(dirpath, d), f"{base}/{d}" if base else d, f"{sub}/{d}" if sub else d, depth + 1))
    return python, configs, manifests, skipped


def _link_finding(root: Path, rel: str) -> Finding:
    try:
        target = os.path.realpath(root / rel)
        where = "inside" if _inside(root, Path(target)) else "outside"
    except OSError:
        target, where = "?", "outside"
    return Finding(rel, 0, "discover/symlink",
                   f"{rel} is a link (to {target}, {where} the fleet root); left untouched, not read or changed. "
                   "Fix: replace the link with the file itself, or migrate the file where it really lives",
                   Severity.HUMAN)


def _nested_not_part(root: Path, folder: Path, inner: str) -> str | None:
    """Why a folder inside a service, holding a manifest of its own, is not part of the service: it is
    documentation, examples, benchmarks or fixtures (by its path inside the service), or a documentation
    build. `requirements/` folders are the service's own."""
    category = _category(inner)
    if category:
        return category[1]
    if any(part.lower() in _VENDORED for part in inner.split("/")):
        return "vendored third-party code, not part of the service"
    if inner in ("requirements", "reqs"):
        return None
    return _doc_tools_only(root, folder)


def _import_names(root: Path, folder: Path, python: list[str]) -> tuple[str, ...]:
    """The packages (folders holding __init__.py) at the service's root and in its src/."""
    names: set[str] = set()
    for base in (str(folder), os.path.join(folder, "src")):
        try:
            with os.scandir(base) as it:
                dirs = [e.name for e in it if e.name not in ("tests", "test") and e.is_dir()]
        except OSError:
            continue
        names.update(d for d in dirs if os.path.isfile(os.path.join(base, d, "__init__.py")))
    return tuple(sorted(names))


def _read_manifest(root: Path, rel: str, cache: ScanCache | None) -> tuple[Manifest, list[Finding]]:
    """read_manifest, through the scan cache by path and content. Only a manifest whose reading depended on
    nothing but its bytes is kept: one with an include, a path dependency or a Finding is read afresh every
    time (where such a path leads, and whether it is there, depends on the file system)."""
    if cache is None or not cache.enabled:
        return read_manifest(root, rel)
    try:
        with open(os.path.join(root, rel), "rb") as fh:
            data = fh.read()
    except OSError:
        return read_manifest(root, rel)
    key = hashlib.blake2b(rel.encode() + b"\0" + data, digest_size=20).digest()
    hit = cache.manifest(key)
    if hit is not None:
        return hit[0], list(hit[1])
    manifest, problems = read_manifest(root, rel, data)  # the bytes the key was made of
    if not (problems or manifest.includes or any(p.path for p in manifest.pins)):
        cache.put_manifest(key, (manifest, tuple(problems)))
    return manifest, problems


def _read_manifests(root: Path, rels: list[str], findings: list[Finding],
                    cache: ScanCache | None = None) -> tuple[Manifest, ...]:
    out: list[Manifest] = []
    seen: set[str] = set()
    queue = list(rels)
    while queue:
        rel = queue.pop(0)
        if rel in seen:
            continue
        seen.add(rel)
        manifest, problems = _read_manifest(root, rel, cache)
        findings.extend(problems)
        out.append(manifest)
        for inc in manifest.includes:
            if inc not in seen and _inside(root, root / inc) and not (root / inc).is_symlink() and (root / inc).is_file():
                queue.append(inc)
    return tuple(out)


def _compose_edges(root: Path, services: list[Service], findings: list[Finding]) -> tuple[tuple[str, str], ...]:
    by_name = {s.name: s.name for s in services}
    by_path = {s.path: s.name for s in services}
    edges: list[tuple[str, str]] = []
    for fname in COMPOSE_NAMES:
        path = root / fname
        if not path.is_file():
            continue
        import yaml  # only a fleet with a compose file needs it

        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            findings.append(Finding(fname, 0, "discover/compose-unreadable", f"cannot read {fname}: {exc}; fix its YAML", Severity.ERROR))
            continue
        compose = data.get("services", {}) if isinstance(data, dict) else {}
        if not isinstance(compose, dict):
            continue

        def to_service(name: str, spec: object) -> str | None:
            if name in by_name:
                return name
            build = spec.get("build") if isinstance(spec, dict) else None
            context = build.get("context") if isinstance(build, dict) else build
            if isinstance(context, str):
                rel = os.path.normpath(context).replace(os.sep, "/").lstrip("./")
                return by_path.get(rel)
            return None

        for name, spec in compose.items():
            me = to_service(name, spec)
            if me is None or not isinstance(spec, dict):
                continue
            deps = spec.get("depends_on", [])
            dep_names = list(deps) if isinstance(deps, (list, dict)) else []
            for dep in dep_names:
                other = to_service(str(dep), compose.get(dep))
                if other and other != me:
                    edges.append((me, other))
    return tuple(sorted(set(edges)))


_Job = tuple[Path, str, str, str, str]  # a service's folder, fleet-relative path, name, test command and python
_Read = tuple[Service, list[Finding], list[tuple[str, str]]]  # the Service, its Findings, the folders it passed over
FORK_MIN_SERVICES = 64  # services from which a second process pays for its fork


class _Each:
    """The discovery of one service: its files (one walk), manifests, project record and import names."""

    def __init__(self, root: Path, config: FleetConfig, prune: set[str], exclude: tuple[str, ...],
                 cache: ScanCache | None) -> None:
        self.root, self.config, self.prune, self.exclude, self.cache = root, config, prune, exclude, cache
        self.critical = {_norm_folder(c) for c in config.critical}

    def __call__(self, job: _Job) -> _Read:
        folder, rel, name, test_command, python_decl = job
        root, config = self.root, self.config
        findings: list[Finding] = []
        links: list[str] = []
        # the folder's own rel in prune is never met: the walk only asks about the folders inside it (a copy of
        # prune without it per service was a copy of every service's folder per service)
        python, configs, manifest_files, inner = _walk_service(root, folder, self.prune, self.exclude, links)
        findings += [_link_finding(root, link) for link in links]
        manifests = _read_manifests(root, manifest_files, findings, self.cache)
        project, problems = read_project(root, rel, test_command=test_command, python=python_decl)
        findings.extend(problems)
        tests = [p for p in python if file_kind(p) != "source"]
        service = Service(
            name=name,
            path=rel,
            manifests=manifests,
            python_files=tuple(python),
            config_files=tuple(configs),
            test_files=tuple(p for p in tests if p.rsplit("/", 1)[-1] != "conftest.py"),
            import_names=_import_names(root, folder, python),
            critical=config.is_critical(name, rel) or _norm_folder(rel) in self.critical,
            project=project,
        )
        return service, findings, inner


def _forks(config: FleetConfig, jobs: list[_Job]) -> bool:
    """Whether a second process pays: enough services, two cores allowed (`[fleet] jobs`), and a process that
    may fork (no other thread, which could hold a lock the child would inherit)."""
    return len(jobs) >= FORK_MIN_SERVICES and (config.jobs or os.cpu_count() or 1) >= 2 and forked.may_fork()


def _each_forked(read: _Each, jobs: list[_Job], meanwhile: Callable[[], None] | None) -> list[_Read]:
    """Every service read by this process and a forked child, each taking the next service not yet taken (as the
    scan's two processes do, `scan._Turns`), this one once it has run `meanwhile`, if given: the child reads the
    services while this process does what discovery does not need (`scan --json` loads the recipes), and neither
    waits for the other. The results, and the manifests the cache learned, in the order of the services, as one
    process reads them; a child that fails leaves its services to this process."""
    from itertools import islice

    from fleetshift.scan import _Turns

    cache = read.cache
    mark = len(cache.new_manifests) if cache is not None else 0
    turns = _Turns()
    os.set_blocking(turns.r, False)
    parent = os.getpid()

    def each(alive: Callable[[], bool]) -> dict[int, tuple[_Read, list[bytes]]]:
        done: dict[int, tuple[_Read, list[bytes]]] = {}
        for i in turns.taken(range(len(jobs)), alive):
            at = len(cache.new_manifests) if cache is not None else 0
            got = read(jobs[i])
            done[i] = (got, list(islice(cache.new_manifests, at, None)) if cache is not None else [])
        return done

    def child() -> dict[int, tuple[_Read, list[tuple[bytes, Any]]]]:
        done = each(lambda: os.getppid() == parent)
        learned = cache.new_manifests if cache is not None else {}
        return {i: (got, [(k, learned[k]) for k in keys]) for i, (got, keys) in done.items()}

    def here(alive: Callable[[], bool]) -> dict[int, tuple[_Read, list[bytes]]]:
        if meanwhile is not None:
            meanwhile()
        return each(alive)

    try:
        mine, theirs = forked.share(child, here)
    finally:
        turns.close()
    theirs = theirs or {}
    for i in range(len(jobs)):  # a failed child's services (and any it left untaken)
        if i not in mine and i not in theirs:
            at = len(cache.new_manifests) if cache is not None else 0
            got = read(jobs[i])
            mine[i] = (got, list(islice(cache.new_manifests, at, None)) if cache is not None else [])
    if cache is not None:
        known = cache.new_manifests
        ordered = dict(islice(known.items(), mark))
        for i in range(len(jobs)):
            if i in mine:
                ordered.update((k, known[k]) for k in mine[i][1])
            else:
                ordered.update(theirs[i][1])
        cache.new_manifests = ordered
    return [mine[i][0] if i in mine else theirs[i][0] for i in range(len(jobs))]


def discover(root: Path, config: FleetConfig, cache: ScanCache | None = None,
             meanwhile: Callable[[], None] | None = None) -> Fleet:
    """Walk the fleet and describe every service; unreadable files become Findings, never crashes. With a
    scan `cache`, manifests already parsed (same path, same bytes) are taken from it. `meanwhile`: run once
    by this process during the discovery, while a forked child reads the services, when one does (else before
    they are read); not run when the discovery raises before reading any.

    Raises DiscoveryError for a fleet path that is not a folder, and ConfigError for a folder pattern of
    the config that is absolute, leads outside the fleet or is not a usable glob."""
    root = root.resolve()
    if not root.exists():
        raise DiscoveryError(f"{root}: no such folder. Fix: pass the path of the fleet (the folder holding the services)")
    if not root.is_dir():
        raise DiscoveryError(f"{root}: not a folder. Fix: pass the folder holding the services, not a file")
    file = config.source or CONFIG_NAME
    exclude = tuple(normal_pattern(file, "fleet.exclude", p) for p in config.exclude)
    sel = _glob_service_dirs(root, config, exclude) if config.service_globs else _auto_service_dirs(root, exclude)
    findings: list[Finding] = []
    services: list[Service] = []
    names: set[str] = set()
    skipped = list(sel.skipped)
    jobs: list[_Job] = []
    for folder in sel.dirs:
        rel = _rel(root, folder)
        name = folder.name if rel else root.name
        if name in names:
            name = rel
        names.add(name)
        opts = config.options(name, rel)
        if not opts.skip:
            jobs.append((folder, rel, name, opts.test_command, opts.python))
    read = _Each(root, config, sel.prune, exclude, cache)
    if not _forks(config, jobs):
        if meanwhile is not None:
            meanwhile()
        each = list(map(read, jobs))
    else:
        each = _each_forked(read, jobs, meanwhile)
    for service, found, inner in each:
        findings += found
        skipped += [item for item in inner if item not in skipped]
        services.append(service)
    findings += _unknown_services(root, config, sel, names, skipped)
    edges = _compose_edges(root, services, findings)
    return Fleet(str(root), tuple(services), tuple(findings), edges, tuple(sorted(skipped)))


def _norm_folder(path: str) -> str:
    parts = [p for p in path.replace("\\", "/").split("/") if p and p != "."]
    return "/".join(parts) or "."


def _unknown_services(root: Path, config: FleetConfig, sel: _Selection, names: set[str],
                      passed_over: list[tuple[str, str]]) -> list[Finding]:
    """A Finding for every service the config names (by name or by folder) that discovery did not find."""
    known = names | {_norm_folder(_rel(root, d)) for d in sel.dirs}
    skipped = {_norm_folder(rel): why for rel, why in passed_over}
    out: list[Finding] = []
    for name in sorted({*config.critical, *config.services, *config.phase_overrides}):
        if name in known or _norm_folder(name) in known:
            continue
        why = skipped.get(_norm_folder(name))
        if why:
            message = (f"the config names service {name!r}, a folder discovery passed over ({why}); "
                       f"to make it a service, add {_norm_folder(name)!r} to [fleet] services")
        else:
            message = (f"the config names service {name!r}, which discovery did not find; fix the name (a service "
                       'name, or its folder: "." for the fleet root) or the [fleet] services patterns')
        out.append(Finding(config.source or CONFIG_NAME, 0, "config/unknown-service", message, Severity.ERROR))
    return out
