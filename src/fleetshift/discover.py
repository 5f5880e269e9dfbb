"""Find the services of a fleet: their folders, manifests, Python, config and test files.

A service is a folder holding a manifest (requirements*.txt, pyproject.toml, setup.cfg, Pipfile) that is
not inside another service, or a folder matched by the configured globs. Nothing is imported or run.
"""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path

import yaml

from fleetshift.config import FleetConfig
from fleetshift.manifests import manifest_kind, read_manifest
from fleetshift.model import Finding, Fleet, Manifest, Service, Severity
from fleetshift.project import read_project
from fleetshift.recipes.base import config_kind, file_kind

SKIP_DIRS = {
    ".git", ".hg", ".svn", ".fleetshift", ".venv", "venv", "env", ".env", ".tox", ".nox", "node_modules",
    "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", "build", "dist", "site-packages", ".eggs",
}
COMPOSE_NAMES = ("docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml")


class DiscoveryError(Exception):
    """The fleet path cannot be used at all (missing, not a folder)."""


def _skip(name: str) -> bool:
    return name in SKIP_DIRS or name.endswith(".egg-info") or (name.startswith(".") and name not in {".", ".."})


def _has_manifest(folder: Path) -> bool:
    try:
        names = os.listdir(folder)
    except OSError:
        return False
    return any(manifest_kind(n) is not None for n in names)


def _auto_service_dirs(root: Path) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, _ in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not _skip(d))
        if here != root and _has_manifest(here):
            found.append(here)
            dirnames[:] = []  # nothing nested inside a service is another service
    if not found and _has_manifest(root):
        found.append(root)
    return found


def _glob_service_dirs(root: Path, globs: tuple[str, ...]) -> list[Path]:
    out: list[Path] = []
    for pattern in globs:
        for match in sorted(root.glob(pattern)):
            if match.is_dir() and not _skip(match.name) and match not in out:
                out.append(match)
    return out


def _rel(root: Path, path: Path) -> str:
    rel = path.relative_to(root).as_posix()
    return "" if rel == "." else rel


def _walk_service(root: Path, folder: Path) -> tuple[list[str], list[str], list[str]]:
    """Python files, config files and manifest files of one service (fleet-relative)."""
    python: list[str] = []
    configs: list[str] = []
    manifests: list[str] = []
    top = str(folder)
    cut = len(str(root)) + 1
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if not _skip(d))
        sub = dirpath[len(top) + 1:]
        depth = sub.count(os.sep) + 1 if sub else 0
        base = dirpath[cut:].replace(os.sep, "/") if len(dirpath) >= cut else ""
        for name in sorted(filenames):
            rel = f"{base}/{name}" if base else name
            if name.endswith(".py"):
                python.append(rel)
                continue
            if depth == 0 and config_kind(name) is not None:
                configs.append(rel)
            in_req_dir = depth == 1 and os.path.basename(dirpath) in {"requirements", "reqs"} and name.endswith(".txt")
            if (depth == 0 and manifest_kind(name) is not None) or in_req_dir:
                manifests.append(rel)
    return python, configs, manifests


def _import_names(root: Path, folder: Path, python: list[str]) -> tuple[str, ...]:
    names: set[str] = set()
    for base in (folder, folder / "src"):
        if not base.is_dir():
            continue
        for entry in os.listdir(base):
            if (base / entry / "__init__.py").is_file() and entry not in {"tests", "test"}:
                names.add(entry)
    return tuple(sorted(names))


def _read_manifests(root: Path, rels: list[str], findings: list[Finding]) -> tuple[Manifest, ...]:
    out: list[Manifest] = []
    seen: set[str] = set()
    queue = list(rels)
    while queue:
        rel = queue.pop(0)
        if rel in seen:
            continue
        seen.add(rel)
        manifest, problems = read_manifest(root, rel)
        findings.extend(problems)
        out.append(manifest)
        for inc in manifest.includes:
            if inc not in seen and (root / inc).is_file():
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


def discover(root: Path, config: FleetConfig) -> Fleet:
    """Walk the fleet and describe every service; unreadable files become Findings, never crashes."""
    root = root.resolve()
    if not root.exists():
        raise DiscoveryError(f"{root}: no such folder. Fix: pass the path of the fleet (the folder holding the services)")
    if not root.is_dir():
        raise DiscoveryError(f"{root}: not a folder. Fix: pass the folder holding the services, not a file")
    dirs = _glob_service_dirs(root, config.service_globs) if config.service_globs else _auto_service_dirs(root)
    dirs = [d for d in dirs if not any(fnmatch.fnmatch(_rel(root, d), pat) for pat in config.exclude)]
    findings: list[Finding] = []
    services: list[Service] = []
    names: set[str] = set()
    for folder in dirs:
        rel = _rel(root, folder)
        name = folder.name if rel else root.name
        if name in names:
            name = rel
        names.add(name)
        opts = config.services.get(name)
        if opts and opts.skip:
            continue
        python, configs, manifest_files = _walk_service(root, folder)
        manifests = _read_manifests(root, manifest_files, findings)
        project, problems = read_project(root, rel, test_command=opts.test_command if opts else "",
                                         python=opts.python if opts else "")
        findings.extend(problems)
        tests = [p for p in python if file_kind(p) != "source"]
        services.append(
            Service(
                name=name,
                path=rel,
                manifests=manifests,
                python_files=tuple(python),
                config_files=tuple(configs),
                test_files=tuple(p for p in tests if p.rsplit("/", 1)[-1] != "conftest.py"),
                import_names=_import_names(root, folder, python),
                critical=config.is_critical(name),
                project=project,
            )
        )
    unknown = [n for n in (*config.critical, *config.services, *config.phase_overrides) if n not in names]
    for name in sorted(set(unknown)):
        findings.append(
            Finding(config.source or "fleetshift.toml", 0, "config/unknown-service",
                    f"the config names service {name!r}, which discovery did not find; fix the name or the [fleet] services globs",
                    Severity.ERROR)
        )
    edges = _compose_edges(root, services, findings)
    return Fleet(str(root), tuple(services), tuple(findings), edges)
