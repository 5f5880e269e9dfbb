"""Helpers the manifest readers and editors share: requirement strings, local paths and URLs, pin edits,
Findings, and physical lines."""

from __future__ import annotations

import configparser
import io
import posixpath
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Protocol, TypeVar
from urllib.parse import unquote, urlparse

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from fleetshift.model import Finding, Pin, Severity
from fleetshift.recipes.base import PinChange

# packaging raises SyntaxError from deep inside marker parsing on some broken quoting.
_BAD_REQUIREMENT = (InvalidRequirement, InvalidSpecifier, InvalidVersion, SyntaxError)
RELOCK = "re-lock it (pip-compile --generate-hashes, or uv pip compile --generate-hashes)"


def _error(rel: str, line: int, slug: str, message: str, severity: Severity = Severity.ERROR) -> Finding:
    return Finding(rel, line, f"manifest/{slug}", message, severity)


def _why(exc: Exception) -> str:
    """First line of an exception's message (packaging adds a caret diagram below it)."""
    return (str(exc).splitlines() or [type(exc).__name__])[0]


_HEAD_RE = re.compile(
    r"^(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(?P<ws>\s*)(?P<extras>\[[^\]]*\])?(?P<spec>.*)$",
    re.S,
)
_NAME_AT_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?\s*(\[[^\]]*\])?\s*@")
_ARCHIVE_EXTS = (".whl", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar", ".zip")


@lru_cache(maxsize=4096)  # asked for each pin change of each service a run rewrites; the answer is immutable
def split_extras(package: str) -> tuple[str, tuple[str, ...]]:
    """A package as a recipe names it, split into name and extras ('influxdb3-python[pandas]' ->
    ('influxdb3-python', ('pandas',)))."""
    m = re.match(r"^\s*([^\[\s]+)\s*(?:\[([^\]]*)\])?\s*$", package)
    if m is None:
        return package, ()
    extras = tuple(sorted({e.strip() for e in (m.group(2) or "").split(",") if e.strip()}))
    return m.group(1), extras


def _spec_text(head: str) -> str:
    """The specifier of a requirement head ('name[x] >= 1, <2') as compact text ('>=1,<2')."""
    m = _HEAD_RE.match(head.strip())
    spec = re.sub(r"\s+", "", m["spec"]) if m else ""
    if spec.startswith("(") and spec.endswith(")"):
        spec = spec[1:-1]
    return spec


def _normal_spec(spec: str) -> str:
    """A target spec as specifier text: a bare version '2.0' means '==2.0'."""
    spec = spec.strip()
    try:
        Version(spec)
    except InvalidVersion:
        return spec
    return f"=={spec}"


def _split_marker(s: str) -> tuple[str, str]:
    """(requirement head, '; marker' tail including its separator) of a PEP 508 string."""
    head, sep, _ = s.partition(";")
    return head.rstrip(), s[len(head.rstrip()) :] if sep else ""


# What `_pin_of` reads of a requirement string, by the string: a fleet's services repeat the same lines (one
# parse each instead of one per manifest). Only strings and tuples: nothing a caller could change.
_PARSED: dict[str, tuple[str, str, str, tuple[str, ...], str]] = {}
_PARSED_MAX = 4096


def _parsed(text: str) -> tuple[str, str, str, tuple[str, ...], str]:
    """(canonical name, url, spec text, sorted extras, marker) of a PEP 508 string (raises as Requirement)."""
    got = _PARSED.get(text)
    if got is None:
        req = Requirement(text)
        spec = "" if req.url else _spec_text(_split_marker(text)[0])
        got = (canonicalize_name(req.name), req.url or "", spec, tuple(sorted(req.extras)), str(req.marker or ""))
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[text] = got
    return got


def _pin_of(rel: str, line: int, text: str, section: str, hashes: tuple[str, ...] = ()) -> Pin:
    """Pin of a PEP 508 string (raises InvalidRequirement); a direct reference gets `path` and no spec."""
    name, url, spec, extras, marker = _parsed(text)
    path = _url_path(rel, url) if url else ""
    return Pin(name, spec, rel, line, text.strip(), section, extras, marker, hashes, path)


def _url_path(rel: str, url: str) -> str:
    """Fleet-relative path of a file: URL (the URL itself for remote ones)."""
    return _fleet_path(rel, _path_of_url(url)) if url.lower().startswith("file:") else url


def _path_of_url(url: str) -> str:
    """The (unquoted) path part of a URL; the URL itself when it cannot be split."""
    try:
        return unquote(urlparse(url).path)
    except ValueError:
        return url


def _fleet_path(rel: str, path: str) -> str:
    """A path written in the manifest `rel` (relative to its folder) as a fleet-relative POSIX path."""
    path = path.replace("\\", "/")
    if posixpath.isabs(path):
        return posixpath.normpath(path)
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(rel), path))
    return "" if joined == "." else joined


def outside_fleet(root: Path | None, fleet_path: str) -> bool:
    """Whether a fleet-relative path (as `_fleet_path` gives it) leads outside the fleet root: it climbs out
    (`../x`), is absolute, or resolves outside through a link. Nothing is read."""
    if not fleet_path or fleet_path == ".":
        return False
    if posixpath.isabs(fleet_path) or fleet_path == ".." or fleet_path.startswith("../"):
        if root is None or not posixpath.isabs(fleet_path):
            return True
    if root is None:
        return False
    top = Path(root).resolve()
    try:
        (top / fleet_path).resolve().relative_to(top)
    except (ValueError, OSError, RuntimeError):
        return True
    return False


def outside_message(rel: str, line: int, what: str, written: str) -> Finding:
    """The Finding for an include or a path dependency that leads outside the fleet root (never followed)."""
    msg = (f"{rel}:{line}: {what} {written} leads outside the fleet root; not read or changed. Fix: move it "
           "inside the fleet (or add its folder to the fleet), or pin the package from an index")
    return _error(rel, line, "outside-fleet", msg)


def _local_name(root: Path | None, fleet_path: str, written: str) -> str:
    """Canonical package name of a local path dependency: from its metadata, else its file or folder name.
    A path outside the fleet root is never read."""
    base = PurePosixPath(written.rstrip("/")).name or PurePosixPath(fleet_path).name
    dist = _dist_name(base)
    if dist is not None:
        return dist
    if root is not None and outside_fleet(root, fleet_path):
        return canonicalize_name(base if base not in {"", ".", ".."} else "unknown")
    if root is not None:
        folder = Path(root) / fleet_path if not posixpath.isabs(fleet_path) else Path(fleet_path)
        name = _metadata_name(folder)
        if name:
            return canonicalize_name(name)
        if not base or base in {".", ".."}:
            base = folder.resolve().name
    return canonicalize_name(base or "unknown")


def _metadata_name(folder: Path) -> str:
    import tomlkit
    import tomlkit.exceptions

    try:
        doc = tomlkit.parse((folder / "pyproject.toml").read_text("utf-8-sig")).unwrap()
        name = doc.get("project", {}).get("name") or doc.get("tool", {}).get("poetry", {}).get("name")
        if isinstance(name, str) and name:
            return name
    except (OSError, UnicodeDecodeError, tomlkit.exceptions.TOMLKitError, AttributeError):
        pass
    try:
        cfg = configparser.ConfigParser(interpolation=None)
        cfg.read_string((folder / "setup.cfg").read_text("utf-8-sig"))
        return cfg.get("metadata", "name", fallback="")
    except (OSError, UnicodeDecodeError, configparser.Error):
        return ""


def _looks_like_path(s: str) -> bool:
    return "/" in s or "\\" in s or s.startswith(".") or s.lower().endswith(_ARCHIVE_EXTS)


def _is_url(s: str) -> bool:
    return bool(re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", s)) and (
        "://" in s or s.startswith(("file:", "git+", "hg+", "svn+", "bzr+"))
    )


def _url_name(url: str) -> str:
    egg = re.search(r"[#&]egg=([^&]+)", url)
    if egg:
        return canonicalize_name(re.split(r"[\[<>=!~;]", egg.group(1))[0])
    last = _path_of_url(url).rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
    dist = _dist_name(last)
    return dist if dist is not None else canonicalize_name(last.split("@")[0] or "unknown")


def _dist_name(filename: str) -> str | None:
    """Canonical project name of a wheel or sdist file name, or None for any other name."""
    for parse in (parse_wheel_filename, parse_sdist_filename):
        try:
            return str(parse(filename)[0])
        except (InvalidWheelFilename, InvalidSdistFilename):
            continue
    return None


# What `_edit_head` made of a head for a change, when it had nothing to report (then `rel` and `line` play no part):
# a fleet's services pin the same lines and get the same changes. Only strings in it.
_HEADS: dict[tuple[str, PinChange, bool, str], str] = {}
_HEADS_MAX = 4096


def _edit_head(
    rel: str, line: int, head: str, change: PinChange, hashes: bool = False, section: str = ""
) -> tuple[str, list[Finding]]:
    """New requirement head ('name[extras]spec', no marker) for `change`, or `head` itself when nothing moves.

    The new specifier keeps the style of the old one (see `_styled`); the spacing between name and
    specifier is kept too ('pytest == 8.3.5' stays spaced)."""
    key = (head, change, hashes, section)
    new = _HEADS.get(key)
    if new is not None:
        return new, []
    new, findings = _new_head(rel, line, head, change, hashes, section)
    if not findings:
        if len(_HEADS) >= _HEADS_MAX:
            _HEADS.clear()
        _HEADS[key] = new
    return new, findings


def _new_head(
    rel: str, line: int, head: str, change: PinChange, hashes: bool, section: str
) -> tuple[str, list[Finding]]:
    m = _HEAD_RE.match(head)
    req = Requirement(head)
    assert m is not None
    new_name, new_extras = split_extras(change.new_package)
    renamed = canonicalize_name(new_name) != canonicalize_name(m["name"])
    name = new_name if renamed else m["name"]
    extras = m["extras"] or ""
    spec, bad = _target_spec(rel, line, change, _spec_text(head), section)
    if bad is not None:
        return head, [bad]
    missing = set(new_extras) - {canonicalize_name(e) for e in req.extras}
    if not renamed and SpecifierSet(spec) == req.specifier and not missing:
        return head, []
    findings: list[Finding] = []
    dropped = sorted(e for e in req.extras if e not in new_extras) if renamed else []
    if renamed:
        extras = f"[{','.join(new_extras)}]" if new_extras else ""
    elif missing:
        extras = f"[{','.join(sorted({*req.extras, *new_extras}))}]"
    if dropped:
        findings.append(_dropped_extras(rel, line, dropped, req.name, new_name))
    if hashes:
        findings.append(_stale_hash(rel, line, change.new_package))
    return f"{name}{extras}{spec}", findings


def _target_spec(
    rel: str, line: int, change: PinChange, current: str, section: str = ""
) -> tuple[str, Finding | None]:
    """The specifier to write for `change` in the style of `current` (`current` when it keeps the spec), or a
    Finding when the target is not PEP 440."""
    spec = current if change.new_spec is None else _normal_spec(change.new_spec)
    try:
        SpecifierSet(spec)
    except InvalidSpecifier:
        msg = f"{rel}:{line}: target {spec!r} for {change.new_package} is not a PEP 440 specifier; fix the target"
        return spec, _error(rel, line, "bad-target", msg)
    if change.new_spec is not None:
        spec = _styled(current, spec, change, section)
    return spec, None


RUNTIME_SECTIONS = ("dependencies", "install_requires", "packages")
TEST_EXTRAS = ("test", "tests", "testing", "dev", "develop", "development", "lint", "docs", "doc", "ci")


def is_runtime(section: str) -> bool:
    """Whether a pin's section is what the published package itself requires (runtime or an extra users
    install), as opposed to the project's own test/dev tooling."""
    if section in RUNTIME_SECTIONS:
        return True
    for prefix in ("optional:", "extra:"):
        if section.startswith(prefix):
            return section[len(prefix) :].lower() not in TEST_EXTRAS
    return False


def _release_of(version: str, parts: int) -> str:
    """The first `parts` numbers of a release ('9.1.2', 2 -> '9.1')."""
    rel = list(Version(version).release) + [0] * parts
    return ".".join(map(str, rel[: max(parts, 1)]))


def _styled(current: str, target: str, change: PinChange, section: str) -> str:
    """The target written in the style of the pin it replaces.

    A published library's runtime/extra range stays wide: its floor stays and only an upper bound that
    excludes the target moves (`>=8.2,<9` -> `>=8.2,<10`; `>=0.21` stays). Otherwise, once the resolver has
    chosen a release, `==` stays `==` at that release and `~=` stays `~=` with as many numbers; any other
    range (or no chosen release) becomes the target.
    """
    from fleetshift.resolve import lower_bounds, lowest_of, upper_specs

    if change.library and is_runtime(section):
        if not current:
            return current
        try:
            cur = SpecifierSet(current)
        except InvalidSpecifier:
            return target
        floors = lower_bounds(current) or [f">={s.version}" for s in cur if s.operator in ("==", "===")]
        wanted = change.resolved or lowest_of(target)
        if wanted and cur.contains(wanted, prereleases=True) and not any(s.operator in ("==", "===") for s in cur):
            return current  # already wide enough
        others = [str(s) for s in cur if s.operator == "!="]
        return ",".join([*floors, *upper_specs(target), *others]) or target
    resolved = change.resolved  # without the resolver's release there is nothing honest to write in `==`
    try:
        cur = list(SpecifierSet(current))
    except InvalidSpecifier:
        return target
    if len(cur) == 1 and resolved:
        op, ver = cur[0].operator, cur[0].version
        try:
            if op in ("==", "===") and not ver.endswith(".*"):
                return f"{op}{resolved}"
            if op == "~=":
                return f"~={_release_of(resolved, len(Version(ver).release))}"
        except InvalidVersion:
            return target
    return target


def _for_human(rel: str, line: int, slug: str, what: str) -> Finding:
    """A Finding a person must act on, its message led by the place (`<file>:<line>: <what>`)."""
    return _error(rel, line, slug, f"{rel}:{line}: {what}", Severity.HUMAN)


def _stale_hash(rel: str, line: int, package: str) -> Finding:
    what = f"the --hash options of {package} belong to the old release and are stale now"
    return _for_human(rel, line, "stale-hash", f"{what}; {RELOCK}")


def _dropped_extras(rel: str, line: int, dropped: Sequence[str], name: str, new_name: str) -> Finding:
    """The extras a rename left behind (the new package may not offer them): a requirement's or a TOML entry's."""
    what = f"extras [{','.join(dropped)}] of {name} dropped when renaming it to {new_name}"
    return _for_human(rel, line, "dropped-extras", f"{what}; add the extras back if {new_name} offers them")


def _unmanaged(rel: str, line: int, pin: Pin) -> Finding:
    what = f"{pin.package} comes from {pin.path} (a path, VCS or URL dependency) and was not changed"
    return _for_human(rel, line, "unmanaged-pin", f"{what}; move that source to the target release by hand")


def _cannot_edit(rel: str, line: int, package: str, why: str) -> Finding:
    return _for_human(rel, line, "cannot-edit", f"{package} not changed: {why}; edit it by hand")


class _Pinned(Protocol):
    pin: Pin


V = TypeVar("V", bound=_Pinned)


def _changes_by_section(
    rel: str,
    values: Sequence[V],
    changes: Sequence[PinChange],
    findings: list[Finding],
    once: Callable[[V], object] | None = None,
) -> Iterator[tuple[V, PinChange]]:
    """Each value with the change of its package, judged section by section (a rename onto a package its
    section already pins is a removal); a path, VCS or URL dependency gets an unmanaged-pin Finding instead.
    Values with the same `once` key (a list two sections share) are judged once, in the first section."""
    seen: set[object] = set()
    for section in dict.fromkeys(v.pin.section for v in values):
        group = [v for v in values if v.pin.section == section]
        by_name = _resolve_changes(changes, {v.pin.package for v in group})
        for v in group:
            change = by_name.get(v.pin.package)
            if change is None or (once is not None and once(v) in seen):
                continue
            if once is not None:
                seen.add(once(v))
            if v.pin.path:
                findings.append(_unmanaged(rel, v.pin.line, v.pin))
                continue
            yield v, change


def _resolve_changes(changes: Sequence[PinChange], present: set[str]) -> dict[str, PinChange]:
    """Changes by canonical old name. A rename onto a package already pinned alongside becomes a removal."""
    out: dict[str, PinChange] = {}
    for c in changes:
        old, new = canonicalize_name(c.package), canonicalize_name(c.new_package)
        if not c.remove and old != new and new in present:
            c = replace(c, remove=True)
        out[old] = c
    for c in list(out.values()):
        old, new = canonicalize_name(c.package), canonicalize_name(c.new_package)
        if c.remove and old != new and new in present and new not in out and c.new_spec is not None:
            out[new] = PinChange(new, c.new_package, c.new_spec, reason=c.reason)
    return out


def _lines(text: str) -> list[str]:
    """Physical lines with their original endings (\\n, \\r\\n or \\r)."""
    return io.StringIO(text, newline="").readlines()


def _split_ending(line: str) -> tuple[str, str]:
    content = line.rstrip("\r\n")
    return content, line[len(content) :]
