"""requirements/constraints files (pip syntax): read pins and includes, edit pins line by line."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fleetshift.manifests._common import (
    _BAD_REQUIREMENT,
    _NAME_AT_RE,
    _cannot_edit,
    _edit_head,
    _error,
    _fleet_path,
    _is_url,
    _lines,
    _local_name,
    _looks_like_path,
    _path_of_url,
    _pin_of,
    _resolve_changes,
    _split_ending,
    _split_marker,
    _unmanaged,
    _url_name,
    _why,
    outside_fleet,
    outside_message,
)
from fleetshift.model import Finding, Pin
from fleetshift.recipes.base import PinChange

_FULL_COMMENT_RE = re.compile(r"^\s*#")
_VIA_RE = re.compile(r"^[ \t]+#[ \t]*via\b")
_VIA_MORE_RE = re.compile(r"^[ \t]+#[ \t]{2,}\S")
_COMMENT_RE = re.compile(r"(^|\s)#.*$")  # one space, not \s+: a long blank run made it quadratic
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


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name too long for the file system, a path through a file
        return False


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
                elif outside_fleet(root, target := _fleet_path(rel, value)):
                    findings.append(outside_message(rel, line, f"{opt} include", value))
                else:
                    includes.append(target)
                    if root is not None and not _is_file(Path(root) / target):
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
    present = {e.pin.package for e in entries}
    additions = [c for c in changes if c.add_after and c.package not in present]
    changes = [c for c in changes if not c.add_after]
    by_name = _resolve_changes(changes, present)
    findings: list[Finding] = []
    drop: set[int] = set()
    columns = [_comment_column(_split_ending(line)[0]) for line in lines]
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
        rest = content[indent + len(e.head) :]
        col = _comment_column(content)
        if col is not None and columns.count(col) > 1:
            rest = _aligned(rest, len(new_head) - len(e.head))
        lines[e.start] = content[:indent] + new_head + rest + ending
    added: dict[int, list[str]] = {}
    for c in additions:
        beside = next((e for e in entries if e.pin.package == c.add_after and not e.pin.path), None)
        if beside is None:
            continue
        end = _via_end(lines, beside.end)
        ending = _split_ending(lines[end])[1] or ("\r\n" if "\r\n" in text else "\n")
        if not _split_ending(lines[end])[1]:
            lines[end] += ending
        note = f"  # {c.reason}" if c.reason else ""
        added.setdefault(end, []).append(f"{c.new_package}{c.new_spec or ''}{note}{ending}")
    out = []
    for i, line in enumerate(lines):
        if i not in drop:
            out.append(line)
        out += added.get(i, [])
    return "".join(out), findings


def _comment_column(content: str) -> int | None:
    """Column of a trailing comment set off by two or more spaces ('pytest==8.3.5     # runner'), else None."""
    m = re.search(r"\S(\s{2,})#", content)
    return m.end() - 1 if m else None


def _aligned(rest: str, grown: int) -> str:
    """What follows a requirement head, with the spaces before a column-aligned trailing comment adjusted so
    the comment stays in its column when the head grew or shrank by `grown` characters."""
    m = re.match(r"^([ \t]+)(?=\S)", rest)
    if not m or grown == 0 or "\t" in m.group(1):
        return rest
    gap = len(m.group(1))
    if gap < 2 or not rest[gap:].startswith("#"):
        return rest
    new_gap = max(gap - grown, 2)
    return " " * new_gap + rest[gap:]
