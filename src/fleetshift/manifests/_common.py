"""Read dependency pins from every manifest format, and edit pins without disturbing anything else.

Formats: requirements/constraints files (pip syntax), pyproject.toml (PEP 621, PEP 735, Poetry),
setup.cfg (setuptools), Pipfile. Sections of a Pin: "" for requirements lines; "dependencies",
"optional:<extra>", "group:<name>" in pyproject.toml (Poetry's dev-dependencies are "group:dev");
"dependencies", "setup_requires", "tests_require", "extra:<name>" in setup.cfg; "packages" and
"dev-packages" in a Pipfile.
"""

from __future__ import annotations

import configparser
import io
import json
import posixpath
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlparse

import tomlkit
import tomlkit.container
import tomlkit.exceptions
import tomlkit.items
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

from fleetshift.model import Finding, Manifest, ManifestKind, Pin, Severity
from fleetshift.recipes.base import PinChange

# packaging raises SyntaxError from deep inside marker parsing on some broken quoting.
_BAD_REQUIREMENT = (InvalidRequirement, InvalidSpecifier, InvalidVersion, SyntaxError)
RELOCK = "re-lock it (pip-compile --generate-hashes, or uv pip compile --generate-hashes)"


def manifest_kind(filename: str) -> ManifestKind | None:
    """The kind of manifest a (fleet-relative) file name denotes, or None for any other file."""
    p = PurePosixPath(filename.replace("\\", "/"))
    name = p.name.lower()
    if p.name == "pyproject.toml":
        return ManifestKind.PYPROJECT
    if p.name == "setup.cfg":
        return ManifestKind.SETUP_CFG
    if p.name == "Pipfile":
        return ManifestKind.PIPFILE
    if name.endswith((".txt", ".in")) and (
        "requirements" in name
        or name.startswith("constraints")
        or (p.parent.name.lower() == "requirements" and name.endswith(".txt"))
    ):
        return ManifestKind.REQUIREMENTS
    return None


def read_manifest(root: Path, rel: str) -> tuple[Manifest, list[Finding]]:
    """Read the pins (and includes) of the manifest `rel` under the fleet `root`; never raises on bad content."""
    kind = manifest_kind(rel) or ManifestKind.REQUIREMENTS
    try:
        data = (Path(root) / rel).read_bytes()
    except OSError as exc:
        msg = f"cannot read {rel}: {exc.strerror or exc}; check that the file exists and is readable"
        return Manifest(rel, kind), [_error(rel, 0, "unreadable", msg)]
    text, findings = decode(rel, data)
    pins, includes, more = _READERS[kind](rel, text, Path(root))
    pins = [replace(p, path=_inside(Path(root), p.path)) if posixpath.isabs(p.path) else p for p in pins]
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


# ---- shared helpers ---------------------------------------------------------------------------


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


def _pin_of(rel: str, line: int, text: str, section: str, hashes: tuple[str, ...] = ()) -> Pin:
    """Pin of a PEP 508 string (raises InvalidRequirement); a direct reference gets `path` and no spec."""
    req = Requirement(text)
    spec, path = ("", _url_path(rel, req.url)) if req.url else (_spec_text(_split_marker(text)[0]), "")
    extras, marker = tuple(sorted(req.extras)), str(req.marker or "")
    return Pin(
        canonicalize_name(req.name), spec, rel, line, text.strip(), section, extras, marker, hashes, path
    )


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


def _local_name(root: Path | None, fleet_path: str, written: str) -> str:
    """Canonical package name of a local path dependency: from its metadata, else its file or folder name."""
    base = PurePosixPath(written.rstrip("/")).name or PurePosixPath(fleet_path).name
    if base.endswith(".whl"):
        try:
            return str(parse_wheel_filename(base)[0])
        except InvalidWheelFilename:
            pass
    if base.endswith(_ARCHIVE_EXTS):
        try:
            return str(parse_sdist_filename(base)[0])
        except InvalidSdistFilename:
            pass
    if root is not None:
        folder = Path(root) / fleet_path if not posixpath.isabs(fleet_path) else Path(fleet_path)
        name = _metadata_name(folder)
        if name:
            return canonicalize_name(name)
        if not base or base in {".", ".."}:
            base = folder.resolve().name
    return canonicalize_name(base or "unknown")


def _metadata_name(folder: Path) -> str:
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
    for parse in (parse_wheel_filename, parse_sdist_filename):
        try:
            return str(parse(last)[0])
        except (InvalidWheelFilename, InvalidSdistFilename):
            continue
    return canonicalize_name(last.split("@")[0] or "unknown")


def _edit_head(
    rel: str, line: int, head: str, change: PinChange, hashes: bool = False
) -> tuple[str, list[Finding]]:
    """New requirement head ('name[extras]spec', no marker) for `change`, or `head` itself when nothing moves."""
    m = _HEAD_RE.match(head)
    req = Requirement(head)
    assert m is not None
    renamed = canonicalize_name(change.new_package) != canonicalize_name(m["name"])
    name = change.new_package if renamed else m["name"]
    extras = m["extras"] or ""
    spec = _spec_text(head) if change.new_spec is None else _normal_spec(change.new_spec)
    try:
        SpecifierSet(spec)
    except InvalidSpecifier:
        msg = f"{rel}:{line}: target {spec!r} for {change.new_package} is not a PEP 440 specifier; fix the target"
        return head, [_error(rel, line, "bad-target", msg)]
    if not renamed and SpecifierSet(spec) == req.specifier:
        return head, []
    findings: list[Finding] = []
    if renamed and req.extras:
        extras = ""
        findings.append(
            _error(
                rel,
                line,
                "dropped-extras",
                f"{rel}:{line}: extras [{','.join(sorted(req.extras))}] of {req.name} dropped when renaming it to "
                f"{change.new_package}; add the extras back if {change.new_package} offers them",
                Severity.HUMAN,
            )
        )
    if hashes:
        findings.append(_stale_hash(rel, line, change.new_package))
    return f"{name}{extras}{spec}", findings


def _stale_hash(rel: str, line: int, package: str) -> Finding:
    return _error(
        rel,
        line,
        "stale-hash",
        f"{rel}:{line}: the --hash options of {package} belong to the old release and are stale now; "
        f"{RELOCK}",
        Severity.HUMAN,
    )


def _unmanaged(rel: str, line: int, pin: Pin) -> Finding:
    return _error(
        rel,
        line,
        "unmanaged-pin",
        f"{rel}:{line}: {pin.package} comes from {pin.path} (a path, VCS or URL dependency) and was not "
        "changed; move that source to the target release by hand",
        Severity.HUMAN,
    )


def _cannot_edit(rel: str, line: int, package: str, why: str) -> Finding:
    return _error(
        rel,
        line,
        "cannot-edit",
        f"{rel}:{line}: {package} not changed: {why}; edit it by hand",
        Severity.HUMAN,
    )


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


# ---- requirements files -------------------------------------------------------------------------

_FULL_COMMENT_RE = re.compile(r"^\s*#")
_VIA_RE = re.compile(r"^[ \t]+#[ \t]*via\b")
_VIA_MORE_RE = re.compile(r"^[ \t]+#[ \t]{2,}\S")
_COMMENT_RE = re.compile(r"(^|\s+)#.*$")
_INCLUDE_OPTS = {"-r": "-r", "--requirement": "-r", "-c": "-c", "--constraint": "-c"}
_EDITABLE_OPTS = {"-e", "--editable"}
_VALUE_OPTS = {
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "--trusted-host",
    "--no-binary",
    "--only-binary",
    "--use-feature",
    "--hash",
    "--config-settings",
    "--global-option",
    "--install-option",
}
_FLAG_OPTS = {"--pre", "--prefer-binary", "--require-hashes", "--no-index"}


@dataclass
class _ReqEntry:
    """One logical line of a requirements file holding a requirement."""

    start: int  # 0-based index of the first physical line
    end: int  # 0-based index of the last physical line
    pin: Pin
    head: str = ""  # 'name[extras]spec' as written ("" for path/URL pins)


def _logical_lines(lines: list[str]) -> Iterator[tuple[int, int, str]]:
    """(first, last, joined text) per logical line, joining backslash continuations as pip does."""
    start, parts = None, []
    for i, raw in enumerate(lines):
        content, _ = _split_ending(raw)
        if content.endswith("\\") and not _FULL_COMMENT_RE.match(content):
            if start is None:
                start = i
            parts.append(content[:-1])
            continue
        if start is None:
            yield i, i, content
        else:
            yield start, i, "".join(parts) + (" " + content if _FULL_COMMENT_RE.match(content) else content)
            start, parts = None, []
    if start is not None:
        yield start, len(lines) - 1, "".join(parts)


def _break_args(line: str) -> tuple[str, list[str]]:
    """Requirement text and option tokens of a logical line (pip's split at the first '-' token)."""
    m = re.search(r"(?:^|\s)-", line)
    if m is None:
        return line.strip(), []
    return line[: m.start()].strip(), line[m.start() :].split()


def _option_values(tokens: list[str]) -> Iterator[tuple[str, str | None]]:
    """(option, value) pairs from option tokens: '-r x', '-rx', '--requirement=x', '--hash=...'."""
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        i += 1
        if tok.startswith("--"):
            name, eq, value = tok.partition("=")
            if eq:
                yield name, value
            elif name in _VALUE_OPTS or name in _INCLUDE_OPTS or name in _EDITABLE_OPTS:
                yield name, tokens[i] if i < len(tokens) else None
                i += 1
            else:
                yield name, None
        elif len(tok) > 2:
            yield tok[:2], tok[2:].lstrip("=")
        else:
            if tok in {"-r", "-c", "-e", "-i", "-f"}:
                yield tok, tokens[i] if i < len(tokens) else None
                i += 1
            else:
                yield tok, None


def _parse_requirements(
    rel: str, text: str, root: Path | None
) -> tuple[list[_ReqEntry], list[str], list[Finding]]:
    entries: list[_ReqEntry] = []
    includes: list[str] = []
    findings: list[Finding] = []
    for start, end, logical in _logical_lines(_lines(text)):
        line = start + 1
        stripped = _COMMENT_RE.sub("", logical).strip()
        if not stripped:
            continue
        args, tokens = _break_args(stripped)
        hashes: list[str] = []
        editable: str | None = None
        for opt, value in _option_values(tokens):
            if opt in _INCLUDE_OPTS:
                if not value:
                    findings.append(_error(rel, line, "bad-option", f"{rel}:{line}: {opt} needs a file name"))
                elif _is_url(value):
                    msg = f"{rel}:{line}: remote include {value} is not followed; vendor it as a local file"
                    findings.append(_error(rel, line, "remote-include", msg))
                else:
                    target = _fleet_path(rel, value)
                    includes.append(target)
                    if root is not None and not (Path(root) / target).is_file():
                        msg = (
                            f"{rel}:{line}: included file {value} ({target}) does not exist; "
                            "fix the path or remove the line"
                        )
                        findings.append(_error(rel, line, "missing-include", msg))
            elif opt in _EDITABLE_OPTS:
                editable = value
            elif opt == "--hash" and value:
                hashes.append(value)
            elif opt not in _VALUE_OPTS and opt not in _FLAG_OPTS:
                msg = f"{rel}:{line}: unknown option {opt} (pip rejects it); remove or fix the option"
                findings.append(_error(rel, line, "unknown-option", msg))
        if editable is not None:
            pin = _path_pin(rel, line, editable, root, editable=True, raw=f"-e {editable}")
            entries.append(_ReqEntry(start, end, pin))
            continue
        if not args:
            continue
        head, _ = _split_marker(args)
        try:
            if _NAME_AT_RE.match(args) or not (_is_url(head) or _looks_like_path(head)):
                pin = _pin_of(rel, line, args, "", tuple(hashes))
                entries.append(_ReqEntry(start, end, pin, "" if pin.path else head))
            else:
                entries.append(_ReqEntry(start, end, _path_pin(rel, line, args, root, raw=args)))
        except _BAD_REQUIREMENT as exc:
            msg = (
                f"{rel}:{line}: cannot parse requirement {args!r}: {_why(exc)}; "
                "write it as PEP 508 'name[extras] specifier ; marker'"
            )
            findings.append(_error(rel, line, "unparseable-requirement", msg))
    return entries, includes, findings


def _path_pin(
    rel: str, line: int, written: str, root: Path | None, editable: bool = False, raw: str = ""
) -> Pin:
    """Pin of a local path or URL requirement ('-e ../libs/x', './pkg.whl', 'git+https://...#egg=x')."""
    location, _, marker = written.partition(";")
    location = location.strip()
    extras: tuple[str, ...] = ()
    m = re.match(r"^(.*?)\[([^\]]*)\]$", location)
    if m and not _is_url(location):
        location, extras = m.group(1), tuple(sorted(e.strip() for e in m.group(2).split(",") if e.strip()))
    if _is_url(location) and not location.startswith("file:"):
        name, path = _url_name(location), location
    else:
        local = _path_of_url(location) if location.startswith("file:") else location
        path = _fleet_path(rel, local) or "."
        name = _url_name(location) if "#egg=" in location else _local_name(root, path, local)
    return Pin(name, "", rel, line, raw.strip(), "", extras, marker.strip(), (), path, editable)


def _read_requirements(rel: str, text: str, root: Path) -> tuple[list[Pin], list[str], list[Finding]]:
    entries, includes, findings = _parse_requirements(rel, text, root)
    return [e.pin for e in entries], includes, findings


def _via_end(lines: list[str], end: int) -> int:
    """Last line of the indented '# via ...' block that pip-compile / uv write below a requirement, if any."""
    if end + 1 < len(lines) and _VIA_RE.match(lines[end + 1]):
        end += 1
        while end + 1 < len(lines) and _VIA_MORE_RE.match(lines[end + 1]):
            end += 1
    return end


def _edit_requirements(rel: str, text: str, changes: list[PinChange]) -> tuple[str, list[Finding]]:
    entries, _, _ = _parse_requirements(rel, text, None)
    lines = _lines(text)
    by_name = _resolve_changes(changes, {e.pin.package for e in entries})
    findings: list[Finding] = []
    drop: set[int] = set()
    for e in entries:
        change = by_name.get(e.pin.package)
        if change is None:
            continue
        if e.pin.path:
            findings.append(_unmanaged(rel, e.pin.line, e.pin))
            continue
        if change.remove:
            drop.update(range(e.start, _via_end(lines, e.end) + 1))
            continue
        content, ending = _split_ending(lines[e.start])
        indent = len(content) - len(content.lstrip())
        if not content[indent:].startswith(e.head):
            findings.append(
                _cannot_edit(rel, e.pin.line, e.pin.package, "the requirement is split across lines")
            )
            continue
        new_head, more = _edit_head(rel, e.pin.line, e.head, change, hashes=bool(e.pin.hashes))
        findings += more
        lines[e.start] = content[:indent] + new_head + content[indent + len(e.head) :] + ending
    return "".join(line for i, line in enumerate(lines) if i not in drop), findings


# ---- TOML: where things stand in the text ---------------------------------------------------------

_HEADER_RE = re.compile(r"^[ \t]*\[(\[)?[ \t]*(?P<key>[^\]\r\n]+?)[ \t]*\](?(1)\])[ \t]*(#.*)?$", re.M)


def _key_parts(key: str) -> tuple[str, ...]:
    """Dotted TOML key to its parts ('tool.poetry."my group"' -> ('tool', 'poetry', 'my group'))."""
    parts = re.findall(r"\s*(\"(?:[^\"\\]|\\.)*\"|'[^']*'|[A-Za-z0-9_-]+)\s*(?:\.|$)", key)
    return tuple(p[1:-1] if p[:1] in "\"'" else p for p in parts)


class _TomlIndex:
    """Offsets of tables, keys and string values in TOML text, for line numbers tomlkit does not give."""

    def __init__(self, text: str) -> None:
        self.text = text
        # (table path, header offset, body start, body end); the root table has the path ()
        self.regions: list[tuple[tuple[str, ...], int, int, int]] = []
        spans = [(m.start(), m.end(), _key_parts(m["key"])) for m in _HEADER_RE.finditer(text)]
        spans = [s for s in spans if not self._in_multiline_string(s[0])]
        self.regions.append(((), 0, 0, spans[0][0] if spans else len(text)))
        for i, (start, end, path) in enumerate(spans):
            self.regions.append((path, start, end, spans[i + 1][0] if i + 1 < len(spans) else len(text)))

    def _in_multiline_string(self, offset: int) -> bool:
        before = self.text[:offset]
        return before.count('"""') % 2 == 1 or before.count("'''") % 2 == 1

    def line(self, offset: int) -> int:
        return self.text.count("\n", 0, offset) + 1

    def key(self, path: tuple[str, ...]) -> int | None:
        """Offset just past 'key =' (or the end of the table header) of the value at the full key `path`."""
        for tpath, _header, body, end in self.regions:
            if tpath == path:
                return body
            if path[: len(tpath)] == tpath and len(path) > len(tpath):
                rest = path[len(tpath) :]
                alts = [f"(?:{re.escape(p)}|\"{re.escape(p)}\"|'{re.escape(p)}')" for p in rest]
                m = re.compile(r"^[ \t]*" + r"[ \t]*\.[ \t]*".join(alts) + r"[ \t]*=", re.M).search(
                    self.text, body, end
                )
                if m:
                    return m.end()
        if len(path) > 1:  # inside an inline table: search the key after its parent
            parent = self.key(path[:-1])
            if parent is not None:
                alt = f"(?:{re.escape(path[-1])}|\"{re.escape(path[-1])}\"|'{re.escape(path[-1])}')"
                m = re.compile(r"(?:^|[{,\s])" + alt + r"[ \t]*=").search(self.text, parent)
                if m:
                    return m.end()
        return None

    def strings(self, offset: int | None, values: Sequence[object]) -> list[int]:
        """Line of each string of an array value starting at `offset`, found in order."""
        base = 0 if offset is None else offset
        out, pos = [], base
        for v in values:
            found = -1
            if isinstance(v, str):
                forms = ('"' + v + '"', "'" + v + "'", json.dumps(v, ensure_ascii=False))
                hits = [self.text.find(form, pos) for form in forms]
                hits = [h for h in hits if h >= 0]
                found = min(hits) if hits else -1
            if found >= 0:
                pos = found + 1
            out.append(self.line(found if found >= 0 else base))
        return out


def _parse_toml(rel: str, text: str) -> tuple[Any, list[Finding]]:
    try:
        return tomlkit.parse(text), []
    except tomlkit.exceptions.ParseError as exc:
        msg = f"{rel}:{exc.line}: invalid TOML ({exc}); fix the syntax at line {exc.line}, column {exc.col}"
        return None, [_error(rel, exc.line, "invalid-toml", msg)]
    except tomlkit.exceptions.TOMLKitError as exc:
        return None, [_error(rel, 1, "invalid-toml", f"{rel}: invalid TOML ({exc}); fix the syntax")]


def _table(node: Any, *keys: str) -> Any:
    """The (tomlkit) mapping at `keys` under `node`, or None."""
    for k in keys:
        if not hasattr(node, "get"):
            return None
        node = node.get(k)
    return node if hasattr(node, "items") else None


def _list(node: Any, key: str) -> Any:
    value = node.get(key) if hasattr(node, "get") else None
    return value if isinstance(value, list) else None


# ---- pyproject.toml ---------------------------------------------------------------------------------


@dataclass
class _Array:
    """A TOML array of PEP 508 strings: where it is and which section its pins belong to."""

    path: tuple[str, ...]
    section: str
    array: Any


@dataclass
class _TableDeps:
    """A TOML table mapping package names to constraints (Poetry, Pipfile)."""

    path: tuple[str, ...]
    section: str
    table: Any
    poetry: bool


def _pyproject_containers(doc: Any) -> tuple[list[_Array], list[_TableDeps]]:
    arrays: list[_Array] = []
    tables: list[_TableDeps] = []
    project = _table(doc, "project")
    if project is not None:
        deps = _list(project, "dependencies")
        if deps is not None:
            arrays.append(_Array(("project", "dependencies"), "dependencies", deps))
        optional = _table(project, "optional-dependencies")
        for extra, value in (optional or {}).items():
            if isinstance(value, list):
                arrays.append(_Array(("project", "optional-dependencies", extra), f"optional:{extra}", value))
    for group, value in (_table(doc, "dependency-groups") or {}).items():
        if isinstance(value, list):
            arrays.append(_Array(("dependency-groups", group), f"group:{group}", value))
    uv_dev = _list(_table(doc, "tool", "uv") or {}, "dev-dependencies")
    if uv_dev is not None:
        arrays.append(_Array(("tool", "uv", "dev-dependencies"), "group:dev", uv_dev))
    poetry = _table(doc, "tool", "poetry")
    if poetry is not None:
        main = _table(poetry, "dependencies")
        if main is not None:
            tables.append(_TableDeps(("tool", "poetry", "dependencies"), "dependencies", main, True))
        dev = _table(poetry, "dev-dependencies")
        if dev is not None:
            tables.append(_TableDeps(("tool", "poetry", "dev-dependencies"), "group:dev", dev, True))
        for group, value in (_table(poetry, "group") or {}).items():
            gdeps = _table(value, "dependencies")
            if gdeps is not None:
                path = ("tool", "poetry", "group", group, "dependencies")
                tables.append(_TableDeps(path, f"group:{group}", gdeps, True))
    return arrays, tables


def _array_pins(rel: str, index: _TomlIndex, arr: _Array) -> tuple[list[Pin], list[Finding]]:
    pins, findings = [], []
    values = [str(v) if isinstance(v, str) else v for v in arr.array]
    lines = index.strings(index.key(arr.path), values)
    for value, line in zip(values, lines, strict=True):
        if not isinstance(value, str):
            continue  # {include-group = "..."} and other tables
        try:
            pins.append(_pin_of(rel, line, value, arr.section))
        except _BAD_REQUIREMENT as exc:
            msg = f"{rel}:{line}: cannot parse requirement {value!r} in {arr.section}: {_why(exc)}; write it as PEP 508"
            findings.append(_error(rel, line, "unparseable-requirement", msg))
    return pins, findings


def _read_pyproject(rel: str, text: str, root: Path) -> tuple[list[Pin], list[str], list[Finding]]:
    doc, findings = _parse_toml(rel, text)
    if doc is None:
        return [], [], findings
    index = _TomlIndex(text)
    arrays, tables = _pyproject_containers(doc)
    pins: list[Pin] = []
    for arr in arrays:
        more_pins, more = _array_pins(rel, index, arr)
        pins += more_pins
        findings += more
    for tbl in tables:
        more_pins, more = _table_pins(rel, index, tbl, root)
        pins += more_pins
        findings += more
    return sorted(pins, key=lambda p: p.line), [], findings


def _edit_array(rel: str, index: _TomlIndex, arr: _Array, by_name: dict[str, PinChange]) -> list[Finding]:
    findings: list[Finding] = []
    values = list(arr.array)
    lines = index.strings(index.key(arr.path), [str(v) if isinstance(v, str) else v for v in values])
    doomed: list[int] = []
    for i, (item, line) in enumerate(zip(values, lines, strict=True)):
        if not isinstance(item, str):
            continue
        value = str(item)
        try:
            pin = _pin_of(rel, line, value, arr.section)
        except _BAD_REQUIREMENT:
            continue
        change = by_name.get(pin.package)
        if change is None:
            continue
        if pin.path:
            findings.append(_unmanaged(rel, line, pin))
            continue
        if change.remove:
            doomed.append(i)
            continue
        lead = value[: len(value) - len(value.lstrip())]
        head, tail = _split_marker(value.strip())
        new_head, more = _edit_head(rel, line, head, change)
        findings += more
        if new_head != head:
            arr.array[i] = _like(item, lead + new_head + tail)
    for i in reversed(doomed):
        del arr.array[i]
    return findings


def _like(item: Any, value: str) -> Any:
    """A tomlkit string holding `value`, quoted the way `item` was where possible."""
    kind = getattr(item, "type", None)
    if kind in (tomlkit.items.StringType.SLL, tomlkit.items.StringType.MLL) and "'" not in value:
        return tomlkit.string(value, literal=True, multiline=kind == tomlkit.items.StringType.MLL)
    return tomlkit.string(value, multiline=kind == tomlkit.items.StringType.MLB)


def _edit_pyproject(rel: str, text: str, changes: list[PinChange]) -> tuple[str, list[Finding]]:
    doc, findings = _parse_toml(rel, text)
    if doc is None:
        return text, findings
    index = _TomlIndex(text)
    arrays, tables = _pyproject_containers(doc)
    for arr in arrays:
        present = {p for p in _names_in_array(arr)}
        findings += _edit_array(rel, index, arr, _resolve_changes(changes, present))
    for tbl in tables:
        findings += _edit_table(rel, index, tbl, changes)
    return tomlkit.dumps(doc), findings


def _names_in_array(arr: _Array) -> Iterator[str]:
    for v in arr.array:
        if isinstance(v, str):
            try:
                yield canonicalize_name(Requirement(str(v)).name)
            except _BAD_REQUIREMENT:
                continue


# ---- Poetry and Pipfile tables ----------------------------------------------------------------------


def poetry_to_pep440(constraint: str) -> str:
    """A Poetry version constraint ('^1.2', '~1.2', '1.2.*', '*', '>=1 <2') as PEP 440 specifier text.

    Raises InvalidSpecifier for what PEP 440 cannot say (an '||' union).
    """
    constraint = constraint.strip()
    if "||" in constraint or "|" in constraint:
        raise InvalidSpecifier(f"{constraint!r} is a union, which PEP 440 cannot express")
    parts = [p for p in re.split(r"\s*,\s*|\s+(?=[<>=!~^])", constraint) if p]
    out: list[str] = []
    for part in parts:
        part = re.sub(r"^([<>=!~^]+)\s+", r"\1", part)
        if part in {"*", ""}:
            continue
        if part.startswith("^"):
            out += _caret(part[1:])
        elif part.startswith("~") and not part.startswith("~="):
            out += _tilde(part[1:])
        elif re.match(r"^[0-9]", part):
            out.append(f"=={part}")
        else:
            out.append(part)
    spec = ",".join(out)
    SpecifierSet(spec)
    return spec


def _release(text: str) -> list[int]:
    v = Version(text)
    return list(v.release)


def _caret(version: str) -> list[str]:
    rel = _release(version)
    n = len(rel)
    first = next((i for i, x in enumerate(rel) if x != 0), n - 1)
    upper = [*rel[:first], rel[first] + 1] + [0] * (n - first - 1)
    return [f">={version}", f"<{'.'.join(map(str, upper))}"]


def _tilde(version: str) -> list[str]:
    rel = _release(version)
    n = len(rel)
    upper = [rel[0] + 1] + [0] * (n - 1) if n == 1 else [rel[0], rel[1] + 1] + [0] * (n - 2)
    return [f">={version}", f"<{'.'.join(map(str, upper))}"]


def _python_marker(spec: str) -> str:
    return " and ".join(f'python_version {s.operator} "{s.version}"' for s in SpecifierSet(spec))


_SOURCE_KEYS = ("path", "file", "git", "url", "hg", "svn")


def _table_entry(rel: str, line: int, key: str, value: Any, tbl: _TableDeps, root: Path | None) -> Pin:
    """Pin of one Poetry or Pipfile entry (raises InvalidSpecifier)."""
    raw = f"{key} = {value.as_string().strip() if hasattr(value, 'as_string') else value}"
    name = canonicalize_name(key)
    translate = poetry_to_pep440 if tbl.poetry else _pipfile_spec
    if isinstance(value, str):
        return Pin(name, translate(str(value)), rel, line, raw, tbl.section)
    if not hasattr(value, "get"):
        raise InvalidSpecifier(f"unsupported value {raw!r}")
    extras = tuple(sorted(str(e) for e in (value.get("extras") or [])))
    markers = [str(value["markers"])] if value.get("markers") else []
    python = poetry_to_pep440(str(value["python"])) if tbl.poetry and value.get("python") else ""
    if python:
        markers.append(_python_marker(python))
    if tbl.poetry and value.get("platform"):
        markers.append(f'sys_platform == "{value["platform"]}"')
    for marker_key in ("sys_platform", "platform_machine", "os_name", "platform_system", "python_version"):
        if not tbl.poetry and value.get(marker_key):
            markers.append(f"{marker_key} {value[marker_key]}")
    marker = " and ".join(f"({m})" if " or " in m and len(markers) > 1 else m for m in markers)
    for src in _SOURCE_KEYS:
        if value.get(src):
            where = str(value[src])
            local = src in ("path", "file") and not _is_url(where)
            path = (_fleet_path(rel, where) or ".") if local else where
            editable = bool(value.get("develop") or value.get("editable"))
            return Pin(name, "", rel, line, raw, tbl.section, extras, marker, (), path, editable)
    version = value.get("version")
    spec = translate(str(version)) if version is not None else ""
    return Pin(name, spec, rel, line, raw, tbl.section, extras, marker)


def _pipfile_spec(text: str) -> str:
    text = text.strip()
    if text in {"*", ""}:
        return ""
    spec = _normal_spec(text)
    SpecifierSet(spec)
    return spec


def _table_pins(
    rel: str, index: _TomlIndex, tbl: _TableDeps, root: Path | None
) -> tuple[list[Pin], list[Finding]]:
    pins: list[Pin] = []
    findings: list[Finding] = []
    for key, value in tbl.table.items():
        if tbl.poetry and key == "python":
            continue
        offset = index.key((*tbl.path, key))
        line = index.line(offset if offset is not None else index.key(tbl.path) or 0)
        entries = list(value) if isinstance(value, list) else [value]
        for entry in entries:
            try:
                pins.append(_table_entry(rel, line, key, entry, tbl, root))
            except (InvalidSpecifier, InvalidVersion) as exc:
                msg = (
                    f"{rel}:{line}: cannot read the constraint of {key} in {tbl.section}: {_why(exc)}; "
                    "write it as a PEP 440 specifier"
                )
                findings.append(_error(rel, line, "bad-constraint", msg))
    return pins, findings


def _edit_table(rel: str, index: _TomlIndex, tbl: _TableDeps, changes: list[PinChange]) -> list[Finding]:
    findings: list[Finding] = []
    keys = {canonicalize_name(k): k for k in tbl.table.keys() if not (tbl.poetry and k == "python")}
    by_name = _resolve_changes(changes, set(keys))
    for canon, key in list(keys.items()):
        change = by_name.get(canon)
        if change is None:
            continue
        value = tbl.table[key]
        offset = index.key((*tbl.path, key))
        line = index.line(offset if offset is not None else 0)
        if hasattr(value, "get") and any(value.get(s) for s in _SOURCE_KEYS):
            findings.append(_unmanaged(rel, line, _table_entry(rel, line, key, value, tbl, None)))
            continue
        if change.remove:
            del tbl.table[key]
            continue
        if isinstance(value, list) or not (isinstance(value, str) or hasattr(value, "get")):
            findings.append(_cannot_edit(rel, line, key, "it has several constraints"))
            continue
        renamed = canonicalize_name(change.new_package) != canon
        if renamed and isinstance(value, tomlkit.items.Table):
            findings.append(
                _cannot_edit(rel, line, key, f"rename it to {change.new_package} (its own [table])")
            )
            continue
        try:
            old = _table_entry(rel, line, key, value, tbl, None)
        except (InvalidSpecifier, InvalidVersion) as exc:
            findings.append(_cannot_edit(rel, line, key, f"its constraint is unreadable ({_why(exc)})"))
            continue
        spec = old.spec if change.new_spec is None else _normal_spec(change.new_spec)
        try:
            SpecifierSet(spec)
        except InvalidSpecifier:
            msg = f"{rel}:{line}: target {spec!r} for {change.new_package} is not a PEP 440 specifier; fix the target"
            findings.append(_error(rel, line, "bad-target", msg))
            continue
        if not renamed and SpecifierSet(spec) == SpecifierSet(old.spec):
            continue
        written = spec or "*"
        if isinstance(value, str):
            new_value: Any = _like(value, written)
        else:
            new_value = value
            if "version" in value or spec:
                value["version"] = _like(value.get("version"), written)
            if renamed and value.get("extras"):
                del value["extras"]
                findings.append(
                    _error(
                        rel,
                        line,
                        "dropped-extras",
                        f"{rel}:{line}: extras of {key} dropped when renaming it to {change.new_package}; "
                        f"add them back if {change.new_package} offers them",
                        Severity.HUMAN,
                    )
                )
        if renamed and not _rename_key(tbl.table, key, change.new_package, new_value):
            findings.append(_cannot_edit(rel, line, key, f"rename it to {change.new_package}"))
        elif not renamed and isinstance(value, str):
            tbl.table[key] = new_value
    return findings


def _rename_key(table: Any, old: str, new: str, value: Any) -> bool:
    """Rename a key in place, keeping its position, comment and layout (tomlkit has no public rename)."""
    for part in getattr(table, "_tables", None) or [table]:  # an out-of-order table is several tables
        container = part.value if isinstance(part, (tomlkit.items.Table, tomlkit.items.InlineTable)) else part
        if isinstance(container, tomlkit.container.Container) and old in container:
            container._replace(old, new, value)
            return True
    return False


def _pipfile_containers(doc: Any) -> list[_TableDeps]:
    out = []
    for section in ("packages", "dev-packages"):
        tbl = _table(doc, section)
        if tbl is not None:
            out.append(_TableDeps((section,), section, tbl, False))
    return out


def _read_pipfile(rel: str, text: str, root: Path) -> tuple[list[Pin], list[str], list[Finding]]:
    doc, findings = _parse_toml(rel, text)
    if doc is None:
        return [], [], findings
    index = _TomlIndex(text)
    pins: list[Pin] = []
    for tbl in _pipfile_containers(doc):
        more_pins, more = _table_pins(rel, index, tbl, root)
        pins += more_pins
        findings += more
    return pins, [], findings


def _edit_pipfile(rel: str, text: str, changes: list[PinChange]) -> tuple[str, list[Finding]]:
    doc, findings = _parse_toml(rel, text)
    if doc is None:
        return text, findings
    index = _TomlIndex(text)
    for tbl in _pipfile_containers(doc):
        findings += _edit_table(rel, index, tbl, changes)
    return tomlkit.dumps(doc), findings


# ---- setup.cfg ------------------------------------------------------------------------------------

_SECTION_RE = re.compile(r"^\s*\[(?P<name>[^\]]+)\]\s*$")
_OPTION_RE = re.compile(r"^(?P<key>[^\s=:][^=:]*?)\s*[=:]\s*(?P<value>.*)$")
_CFG_KEYS = {
    "install_requires": "dependencies",
    "setup_requires": "setup_requires",
    "tests_require": "tests_require",
}


@dataclass
class _CfgValue:
    """One requirement line inside a setup.cfg value."""

    index: int  # 0-based physical line
    column: int  # where the requirement starts in that line
    head: str
    pin: Pin


def _parse_setup_cfg(
    rel: str, text: str, root: Path | None
) -> tuple[list[_CfgValue], list[str], list[Finding]]:
    lines = _lines(text)
    values: list[_CfgValue] = []
    includes: list[str] = []
    findings: list[Finding] = []
    section = ""
    current: str | None = None  # the Pin section of the option being read
    for i, raw in enumerate(lines):
        content, _ = _split_ending(raw)
        if not content.strip() or content.strip()[0] in "#;":
            continue
        head = _SECTION_RE.match(content)
        if head and not content[:1].isspace():
            section, current = head["name"].strip(), None
            continue
        if content[:1].isspace():
            if current is None:
                continue
            column = len(content) - len(content.lstrip())
            text_part = content.strip()
        else:
            m = _OPTION_RE.match(content)
            current = None
            if not m:
                continue
            key = m["key"].strip().lower().replace("-", "_")
            if section == "options" and key in _CFG_KEYS:
                current = _CFG_KEYS[key]
            elif section == "options.extras_require":
                current = f"extra:{m['key'].strip()}"
            if current is None:
                continue
            column = m.start("value")
            text_part = m["value"].strip()
        req_text = text_part.partition(" #")[0].strip()
        if not req_text or req_text.startswith("#"):
            continue
        line = i + 1
        if req_text.startswith("file:"):
            for name in req_text[5:].split(","):
                target = _fleet_path(rel, name.strip())
                includes.append(target)
                if root is not None and not (Path(root) / target).is_file():
                    msg = f"{rel}:{line}: included file {name.strip()} does not exist; fix the path"
                    findings.append(_error(rel, line, "missing-include", msg))
            continue
        try:
            pin = _pin_of(rel, line, req_text, current)
        except _BAD_REQUIREMENT as exc:
            msg = f"{rel}:{line}: cannot parse requirement {req_text!r}: {_why(exc)}; write it as PEP 508"
            findings.append(_error(rel, line, "unparseable-requirement", msg))
            continue
        values.append(_CfgValue(i, column, _split_marker(req_text)[0], pin))
    return values, includes, findings


def _read_setup_cfg(rel: str, text: str, root: Path) -> tuple[list[Pin], list[str], list[Finding]]:
    values, includes, findings = _parse_setup_cfg(rel, text, root)
    return [v.pin for v in values], includes, findings


def _edit_setup_cfg(rel: str, text: str, changes: list[PinChange]) -> tuple[str, list[Finding]]:
    values, _, _ = _parse_setup_cfg(rel, text, None)
    lines = _lines(text)
    findings: list[Finding] = []
    drop: set[int] = set()
    for section in dict.fromkeys(v.pin.section for v in values):
        group = [v for v in values if v.pin.section == section]
        by_name = _resolve_changes(changes, {v.pin.package for v in group})
        for v in group:
            change = by_name.get(v.pin.package)
            if change is None:
                continue
            if v.pin.path:
                findings.append(_unmanaged(rel, v.pin.line, v.pin))
                continue
            content, ending = _split_ending(lines[v.index])
            if change.remove:
                if content[: v.column].strip():  # 'install_requires = x' on the key's own line
                    lines[v.index] = content[: v.column].rstrip() + ending
                else:
                    drop.add(v.index)
                continue
            new_head, more = _edit_head(rel, v.pin.line, v.head, change)
            findings += more
            lines[v.index] = content[: v.column] + new_head + content[v.column + len(v.head) :] + ending
    return "".join(line for i, line in enumerate(lines) if i not in drop), findings


_READERS = {
    ManifestKind.REQUIREMENTS: _read_requirements,
    ManifestKind.PYPROJECT: _read_pyproject,
    ManifestKind.SETUP_CFG: _read_setup_cfg,
    ManifestKind.PIPFILE: _read_pipfile,
}
_EDITORS = {
    ManifestKind.REQUIREMENTS: _edit_requirements,
    ManifestKind.PYPROJECT: _edit_pyproject,
    ManifestKind.SETUP_CFG: _edit_setup_cfg,
    ManifestKind.PIPFILE: _edit_pipfile,
}
