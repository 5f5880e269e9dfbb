"""Read dependency pins from every manifest format, and edit pins without disturbing anything else.

Formats: requirements/constraints files (pip syntax), pyproject.toml (PEP 621, PEP 735, Poetry),
setup.cfg and setup.py (setuptools, setup.py read with `ast`, never run), Pipfile. Sections of a Pin: "" for requirements lines; "dependencies",
"optional:<extra>", "group:<name>" in pyproject.toml (Poetry's dev-dependencies are "group:dev");
"dependencies", "setup_requires", "tests_require", "extra:<name>" in setup.cfg and setup.py; "packages" and
"dev-packages" in a Pipfile.
"""

from __future__ import annotations

import configparser
import os
import posixpath
import re
from collections.abc import Collection, Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path, PurePosixPath

from fleetshift.manifests._common import RELOCK, _error, _is_url, outside_fleet, outside_message, split_extras
from fleetshift.manifests._toml import poetry_to_pep440
from fleetshift.manifests.pipfile import _edit_pipfile, _read_pipfile
from fleetshift.manifests.pyproject import _edit_pyproject, _read_pyproject
from fleetshift.manifests.requirements import _edit_requirements, _read_requirements
from fleetshift.manifests.setupcfg import _edit_setup_cfg, _read_setup_cfg
from fleetshift.manifests.setuppy import _edit_setup_py, _read_setup_py
from fleetshift.model import Finding, Manifest, ManifestKind
from fleetshift.recipes.base import PinChange

__all__ = [
    "RELOCK",
    "apply_pin_changes",
    "decode",
    "installed_with_tests",
    "is_minimum_pins",
    "manifest_kind",
    "poetry_to_pep440",
    "read_manifest",
    "split_extras",
    "tox_minimum_files",
]

# files of exact minimum pins (`install-min.txt`, `requirements-min.txt`, `minimum-versions.txt`, `min.txt`,
# `oldest-deps.txt`):
# a test run on the oldest releases the project supports, installed on their own
_MINIMUM_RE = re.compile(r"(?:^|[-_.])(?:min(?:imum|imal)?|oldest|lowest)(?:[-_.]|$)")
_REQUIREMENT_FOLDERS = {"requirements", "reqs", "requirement"}


def manifest_kind(filename: str) -> ManifestKind | None:
    """The kind of manifest a (fleet-relative) file name denotes, or None for any other file."""
    path = filename.replace("\\", "/")
    if "//" in path or "/." in path or path.startswith(".") or path.endswith("/"):
        p = PurePosixPath(path)  # what a path's parts are, where '.', '..' or doubled slashes make it a question
        base, folder = p.name, p.parent.name
    else:  # a plain 'a/b/name' (the walk's paths): its last two parts as written
        *above, base = path.rsplit("/", 2)
        folder = above[-1] if above else ""
    name = base.lower()
    if base == "pyproject.toml":
        return ManifestKind.PYPROJECT
    if base == "setup.cfg":
        return ManifestKind.SETUP_CFG
    if base == "Pipfile":
        return ManifestKind.PIPFILE
    if base == "setup.py":
        return ManifestKind.SETUP_PY
    if name.endswith((".txt", ".in")) and (
        "requirements" in name
        or name.startswith("constraints")
        or (folder.lower() in _REQUIREMENT_FOLDERS and name.endswith(".txt"))
        or (name.endswith(".txt") and _MINIMUM_RE.search(name[:-4]) is not None)
    ):
        return ManifestKind.REQUIREMENTS
    return None


def is_minimum_pins(filename: str, tox: Collection[str] = ()) -> bool:
    """A requirements file of exact minimum pins (`install-min.txt`, `requirements-min.txt`, `minimum.txt`, or
    one of `tox`, the files a tox environment of the oldest releases installs): its `==` pins name the oldest
    releases the project supports, and stay exact."""
    return filename in tox or _minimum_name(filename)


@lru_cache(maxsize=8192)  # by the name alone: asked for each pin of each service a run rewrites
def _minimum_name(filename: str) -> bool:
    name = PurePosixPath(filename.replace("\\", "/")).name.lower()
    stem = name.rsplit(".", 1)[0]
    return manifest_kind(filename) is ManifestKind.REQUIREMENTS and _MINIMUM_RE.search(stem) is not None


_MIN_FACTOR_RE = re.compile(r"^(?:min|minimum|minimal|oldest|lowest|mindeps|oldestdeps|lowestdeps|minversions?)$")
_TOX_INCLUDE_RE = re.compile(r"^(?:-[rc]\s*=?\s*|--(?:requirement|constraint)[=\s]+)(\S+)$")


def tox_minimum_files(root: Path, service_path: str) -> frozenset[str]:
    """The requirements files (fleet-relative) that the service's tox.ini installs in an environment of the
    oldest releases: `[testenv:min]` / `[testenv:py310-oldestdeps]` deps, or `min: -r file` factor lines."""
    path = os.path.join(root, service_path, "tox.ini") if service_path else os.path.join(root, "tox.ini")
    if not os.path.isfile(path):  # most services have none: asked of each twice per rewrite, a failed open costs
        return frozenset()
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return frozenset()  # (no parser is made for it)
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return frozenset()

    def minimal(factors: str) -> bool:
        return any(_MIN_FACTOR_RE.match(f.strip().lower()) for f in re.split(r"[-,]", factors))

    out: set[str] = set()
    for section in parser.sections():
        if section != "testenv" and not section.startswith("testenv:"):
            continue
        whole = section.startswith("testenv:") and minimal(section.split(":", 1)[1])
        for line in parser.get(section, "deps", fallback="").splitlines():
            line = line.strip()
            factor, sep, rest = line.partition(":")
            if sep and re.fullmatch(r"[\w,!.-]+", factor.strip()) and not rest.startswith("//"):
                if not minimal(factor):
                    continue
                line = rest.strip()
            elif not whole:
                continue
            m = _TOX_INCLUDE_RE.match(line)
            if m:
                out.add(posixpath.normpath(posixpath.join(service_path, m.group(1).replace("\\", "/"))))
    return frozenset(out)


def installed_with_tests(filename: str, service_path: str, minimum: Collection[str] = ()) -> bool:
    """Whether a requirements file is part of the service's test environment: one at the service's root or
    in its `requirements/` folder, and not a file of minimum pins. Deeper files (`docker/requirements.txt`,
    `deploy/provisioning/requirements/base.txt`) and minimum pins are kept up to date, not installed."""
    return filename not in minimum and _installed_with_tests(filename, service_path)


@lru_cache(maxsize=8192)  # by the names alone: asked for each pin of each service a run rewrites
def _installed_with_tests(filename: str, service_path: str) -> bool:
    rel = filename.replace("\\", "/")
    if service_path:
        rel = posixpath.relpath(rel, service_path)
    parts = PurePosixPath(rel).parts
    if is_minimum_pins(filename) or is_minimum_pins(rel) or parts[:1] == ("..",):
        return False
    return len(parts) == 1 or (len(parts) == 2 and parts[0].lower() in _REQUIREMENT_FOLDERS)


def read_manifest(root: Path, rel: str, data: bytes | None = None) -> tuple[Manifest, list[Finding]]:
    """Read the pins (and includes) of the manifest `rel` under the fleet `root` (its bytes: `data` when the caller
    has read them already); never raises on bad content."""
    kind = manifest_kind(rel) or ManifestKind.REQUIREMENTS
    if data is None:
        try:
            data = (Path(root) / rel).read_bytes()
        except OSError as exc:
            msg = f"cannot read {rel}: {exc.strerror or exc}; check that the file exists and is readable"
            return Manifest(rel, kind), [_error(rel, 0, "unreadable", msg)]
    text, findings = decode(rel, data)
    pins, includes, more = _READERS[kind](rel, text, Path(root))
    pins = [replace(p, path=_inside(Path(root), p.path)) if posixpath.isabs(p.path) else p for p in pins]
    # a path dependency outside the fleet root is reported, and never read or changed there
    more = more + [outside_message(rel, p.line, "path dependency", p.raw or p.path) for p in pins
                   if p.path and not _is_url(p.path) and outside_fleet(Path(root), p.path)]
    return Manifest(rel, kind, tuple(pins), tuple(dict.fromkeys(includes))), findings + more


def _inside(root: Path, path: str) -> str:
    """An absolute path as fleet-relative when it lies inside the fleet."""
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path


def decode(rel: str, data: bytes) -> tuple[str, list[Finding]]:
    """Text of a manifest: UTF-8 (a BOM is dropped); other bytes are decoded with replacement and a Finding."""
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        msg = (
            f"{rel}:{line}: not UTF-8 (byte {data[exc.start : exc.start + 1]!r} at offset {exc.start}); "
            "read with replacement characters — re-save the file as UTF-8"
        )
        return data.decode("utf-8", "replace").removeprefix("\ufeff"), [_error(rel, line, "encoding", msg)]


def apply_pin_changes(
    rel: str, text: str, kind: ManifestKind, changes: Sequence[PinChange]
) -> tuple[str, list[Finding]]:
    """Apply `changes` to the manifest text; only the changed requirements move, every other byte stays."""
    if not changes:
        return text, []
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    body = text[len(bom) :]
    new, findings = _EDITORS[kind](rel, body, list(changes))
    return bom + new, findings


_READERS = {
    ManifestKind.REQUIREMENTS: _read_requirements,
    ManifestKind.PYPROJECT: _read_pyproject,
    ManifestKind.SETUP_CFG: _read_setup_cfg,
    ManifestKind.SETUP_PY: _read_setup_py,
    ManifestKind.PIPFILE: _read_pipfile,
}
_EDITORS = {
    ManifestKind.REQUIREMENTS: _edit_requirements,
    ManifestKind.PYPROJECT: _edit_pyproject,
    ManifestKind.SETUP_CFG: _edit_setup_cfg,
    ManifestKind.SETUP_PY: _edit_setup_py,
    ManifestKind.PIPFILE: _edit_pipfile,
}
