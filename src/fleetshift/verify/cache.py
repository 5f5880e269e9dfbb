"""The baseline: a service's tests on its old pins, cached by the content of everything it is built from."""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path

from fleetshift.config import ServiceOptions
from fleetshift.discover import SKIP_DIRS
from fleetshift.fsutil import replace_file
from fleetshift.model import (
    RunState,
    Service,
    TestOutcome,
    TestRun,
    TestStatus,
    to_jsonable,
)
from fleetshift.verify.apicheck import api_from_json, check_packages, files_using, library_names, run_check
from fleetshift.verify.coverage import smoke_modules
from fleetshift.verify.envs import (
    BASELINE_CACHE_DIR,
    CACHE_VERSION,
    ENVS_DIR,
    _service_slug,
    log_dir,
    make_env,
    remove_env,
)
from fleetshift.verify.install import _is_url, lock_for, select
from fleetshift.verify.pythons import PythonUnavailable, ResolvedPython, python_for, resolve
from fleetshift.verify.request import VerifyRequest
from fleetshift.verify.runs import as_baseline, import_smoke, run_tests


def _walk(folder: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in SKIP_DIRS and not d.endswith(".egg-info") and not d.startswith(".")
        )
        for name in sorted(filenames):
            if not name.endswith((".pyc", ".pyo")):
                yield Path(dirpath) / name


def _sources(root: Path, service: Service) -> tuple[set[str], set[str]]:
    """Fleet-relative folders (the service, its local path dependencies) and extra files (manifests included
    from elsewhere) that a service's environment is built from."""
    folders = {service.path}
    for pin in service.pins:
        if (
            pin.path
            and not _is_url(pin.path)
            and not posixpath.isabs(pin.path)
            and not pin.path.startswith("..")
        ):
            folders.add(pin.path if (Path(root) / pin.path).is_dir() else posixpath.dirname(pin.path))
    files = {m.file for m in service.manifests} | {i for m in service.manifests for i in m.includes}
    files |= {lk.file for lk in service.project.locks} | {
        lk.source for lk in service.project.locks if lk.source
    }
    return folders, files


def baseline_key(
    root: Path, service: Service, *, python: str = "", test_command: str = "",
    pin_overrides: Mapping[str, str] | None = None, options: ServiceOptions | None = None,
    python_version: str = "",
) -> str:  # fmt: skip
    """Hash of everything a baseline depends on: the service's files (its lock among them), the manifests it
    includes, the local packages it installs (by fleet-relative path and content), the interpreter and its
    version, the test command, the groups and extras installed and the options."""
    root = Path(root).resolve()
    h = hashlib.sha256()
    interpreter = python or sys.executable
    version = python_version or (sys.version if not python else "")
    h.update(f"{CACHE_VERSION}\0{interpreter}\0{version}\0{test_command}\0".encode())
    h.update(json.dumps(sorted((pin_overrides or {}).items())).encode())
    sel = select(root, service, options)
    lock = lock_for(root, service)
    h.update(
        json.dumps([sel.groups, sel.extras, lock.file if lock else "", lock.kind if lock else ""]).encode()
    )
    project = service.project
    h.update(json.dumps([[td.source, td.requirements] for td in project.test_deps]).encode())
    folders, extra = _sources(root, service)
    files = {root / f for f in extra}
    for folder in folders:
        files |= set(_walk(root / folder)) if (root / folder).is_dir() else {root / folder}
    for pin in service.pins:  # local packages outside the fleet
        if pin.path and not _is_url(pin.path) and (posixpath.isabs(pin.path) or pin.path.startswith("..")):
            local = Path(pin.path) if posixpath.isabs(pin.path) else root / pin.path
            files |= set(_walk(local)) if local.is_dir() else {local}
    for path in sorted(files):
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            digest = "missing"
        try:
            name = path.relative_to(root).as_posix()
        except ValueError:
            name = path.as_posix()
        h.update(f"{name}\0{digest}\n".encode())
    return h.hexdigest()[:20]


def shadow_tree(root: Path, service: Service, old_files: Mapping[str, bytes | None] | None, dest: Path) -> Path:
    """Copy what a service's environment is built from (its folder, its local path dependencies, included
    manifests) to `dest` at the same fleet-relative places, with `old_files` (fleet-relative path -> bytes,
    None for a file that did not exist) put back: the service as it was before this run rewrote it."""
    root = Path(root).resolve()
    folders, files = _sources(root, service)

    def ignore(_dir: str, names: list[str]) -> set[str]:
        return {n for n in names if n in SKIP_DIRS or n.endswith(".egg-info") or n.startswith(".")}

    for folder in sorted(folders, key=len):
        if (root / folder).is_dir():
            shutil.copytree(root / folder, dest / folder, ignore=ignore, symlinks=True, dirs_exist_ok=True)
    for rel in files:
        if (root / rel).is_file() and not rel.startswith(".."):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / rel, dest / rel)
    for rel, data in (old_files or {}).items():
        if rel.startswith("..") or posixpath.isabs(rel):
            continue
        target = dest / rel
        if data is None:
            target.unlink(missing_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    return dest


def run_from_json(data: Mapping[str, object]) -> TestRun:
    """A TestRun back from its `to_jsonable` form."""
    d = dict(data)
    outcomes = tuple(
        TestOutcome(
            str(o["id"]), TestStatus(o["status"]), str(o.get("message", "")), float(o.get("duration", 0.0))
        )
        for o in d.pop("outcomes", [])  # type: ignore[union-attr]
    )
    d["requirements"] = tuple(d.get("requirements", ()))  # type: ignore[arg-type]
    d["sources"] = tuple(d.get("sources", ()))  # type: ignore[arg-type]
    d["state"] = RunState(d.get("state", RunState.RAN.value))
    d["api"] = api_from_json(d.get("api"))  # type: ignore[arg-type]
    d["imports"] = tuple(
        TestOutcome(str(o["id"]), TestStatus(o["status"]), str(o.get("message", "")), float(o.get("duration", 0.0)))
        for o in d.get("imports", []) or []  # type: ignore[union-attr]
    )
    d["migrated"] = tuple(d.get("migrated", ()) or ())  # type: ignore[arg-type]
    d["exercises"] = tuple((str(k), tuple(v)) for k, v in d.get("exercises", []) or [])  # type: ignore[union-attr]
    return TestRun(outcomes=outcomes, **d)  # type: ignore[arg-type]


def baseline_cache_path(root: Path, service: Service, key: str) -> Path:
    return Path(root) / BASELINE_CACHE_DIR / f"{_service_slug(service)}-{key}.json"


def _cache_entry(request: VerifyRequest, source: Path) -> tuple[Path, ResolvedPython | None]:
    """Where the baseline of a request is cached (its key) and the interpreter it resolves to."""
    r = request
    extra_env = dict(r.options.env) if r.options else {}
    try:
        interp: ResolvedPython | None = resolve(r.python) or python_for(r.service, r.options, config_file=r.config_file)
    except PythonUnavailable:
        interp = None  # make_env records the error as an install failure
    key = baseline_key(
        source, r.service, python=str(interp.path) if interp else r.python, pin_overrides=r.pin_overrides,
        test_command=r.test_command + "".join(f"\0{k}={v}" for k, v in sorted(extra_env.items()))
        + "".join(f"\0api:{p}" for p in check_packages(r.moved)),
        options=r.options, python_version=interp.version if interp else "",
    )  # fmt: skip
    return baseline_cache_path(Path(r.root).resolve(), r.service, key), interp


def _read_cached(cache: Path) -> TestRun | None:
    try:
        return replace(run_from_json(json.loads(cache.read_text("utf-8"))), cached=True)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def cached_baseline(request: VerifyRequest) -> tuple[Path, TestRun | None]:
    """The cache file of a request's baseline and the run stored there (None: not cached yet), without running
    anything: an executor that runs the baseline elsewhere looks here first and stores with `store_baseline`."""
    root = Path(request.root).resolve()
    with tempfile.TemporaryDirectory(prefix="fleetshift-baseline-") as scratch:
        source = shadow_tree(root, request.service, request.old_files, Path(scratch)) if request.old_files else root
        cache, _ = _cache_entry(request, source)
    return cache, _read_cached(cache)


def store_baseline(cache: Path, run: TestRun) -> None:
    """Keep a baseline that ran for the next run; an install failure or a hang may be passing trouble
    (network): it is tried again next time."""
    if run.ran:
        cache.parent.mkdir(parents=True, exist_ok=True)
        replace_file(cache, json.dumps(to_jsonable(run), indent=1))


def baseline(request: VerifyRequest) -> TestRun:
    """The service's tests on its old pins, as it is before rewriting; cached, so a second call on unchanged
    files returns the stored run (`cached` True) without installing anything.

    `request.old_files` (fleet-relative path -> bytes before this run, None if it did not exist) puts back files
    this run already rewrote — e.g. a shared library migrated in an earlier phase — in a scratch copy of the
    service and its local dependencies; the fleet itself is not touched.

    `request.moved` (the distributions the campaign moves) turns on the API check in the same environment, on
    the files that import them: every diagnostic is kept, for the run on the new pins to be compared with.
    """
    r = request
    root = Path(r.root).resolve()
    service, run_dir, timeout = r.service, r.run_dir, r.timeout
    env_root = Path(r.env_root or root / ENVS_DIR)
    extra_env = dict(r.options.env) if r.options else {}
    packages = check_packages(r.moved)
    with tempfile.TemporaryDirectory(prefix="fleetshift-baseline-") as scratch:
        source = shadow_tree(root, service, r.old_files, Path(scratch)) if r.old_files else root
        cache, interp = _cache_entry(r, source)
        hit = _read_cached(cache)
        if hit is not None:
            return hit
        env = make_env(
            source, service, run_dir, "old", python=r.python, timeout=timeout, pin_overrides=r.pin_overrides,
            env_root=env_root, options=r.options, resolved=interp, config_file=r.config_file,
        )  # fmt: skip
        run = run_tests(
            source, service, env, run_dir, timeout=timeout, test_command=r.test_command, extra_env=extra_env
        )
        run = as_baseline(replace(run, sources=run.sources or env.sources, python=run.python or env.python_version))
        if env.ok and packages:
            logs = log_dir(run_dir, service)
            modules, names = library_names(env.python, packages, logs)
            modules |= {p.replace("-", "_") for p in packages}
            files = files_using(source, service, modules)
            api = run_check(source, service, env.python, files, packages, logs, label="old",
                            python_version=env.python_version, keep_all=True, library=(modules, names))  # fmt: skip
            smoke = smoke_modules(source, service, files)  # the production modules using them: do they import?
            imports = import_smoke(source, service, env, run_dir, list(smoke), timeout=min(timeout, 120.0),
                                   extra_env=extra_env)  # fmt: skip
            run = replace(run, api=api, imports=imports)
        if not r.keep_env:
            remove_env(root, service, "old", env_root)
    store_baseline(cache, run)
    return run
