"""Requirements written on `pip install` command lines of a Dockerfile (`RUN pip install --no-cache-dir
"influxdb-client==1.39.0" tenacity`): found, and edited in place like a requirements file's lines. What
cannot be edited safely (a build argument in the version, a pin split over a shell variable) is a Finding
at its line."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from fleetshift.manifests._common import (
    _BAD_REQUIREMENT,
    _cannot_edit,
    _edit_head,
    _is_url,
    _looks_like_path,
    _pin_of,
    _resolve_changes,
    _split_marker,
)
from fleetshift.model import Finding, Pin
from fleetshift.recipes.base import PinChange

# `pip install`, `pip3 install`, `python -m pip install`, `uv pip install`, `pipx inject`-free: only pip
_INSTALL_RE = re.compile(r"(?<![\w.-])(?:pip3?(?:\.\d+)?|-m\s+pip|uv\s+pip)\s+install(?=\s)")
# one shell word: quoted, or up to whitespace or a shell operator; a backslash-newline is blank
_WORD_RE = re.compile(r"\"[^\"\n]*\"|'[^'\n]*'|(?:[^\s;&|\\\"']|\\(?!\r?\n))+")
_GAP_RE = re.compile(r"(?:[ \t]|\\\r?\n)*")
_VALUE_OPTIONS = {"-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
                  "--extra-index-url", "-f", "--find-links", "--trusted-host", "-t", "--target", "--prefix",
                  "--root", "--src", "--platform", "--python-version", "--implementation", "--abi",
                  "--no-binary", "--only-binary", "--progress-bar", "--cache-dir", "--python", "-p"}
MAX_DEPTH = 3  # Dockerfiles this deep under a service (docker/, deploy/docker/, build/images/api/)


@dataclass(frozen=True)
class _Word:
    start: int  # offset of the requirement text (inside the quotes, if any)
    end: int
    quote: str  # '"', "'" or ""
    text: str  # the requirement as written, without quotes
    line: int


def is_dockerfile(name: str) -> bool:
    low = name.lower()
    return low in ("dockerfile", "containerfile") or low.startswith(("dockerfile.", "containerfile.")) or low.endswith(
        (".dockerfile", ".containerfile"))


def dockerfiles(root: Path, service_path: str) -> list[str]:
    """Fleet-relative Dockerfiles of a service, at most MAX_DEPTH folders down, skipping the folders
    discovery skips (virtualenvs, node_modules, caches, hidden folders). The folders are read as `os.walk`
    reads them (top-down, folders by name, no symbolic link to a folder followed), on plain strings: this runs
    for every service a run rewrites."""
    from fleetshift.discover import _skip

    top = Path(root) / service_path if service_path else Path(root)
    base = top.relative_to(root).as_posix()
    out: list[str] = []
    _find(os.fspath(top), "" if base == "." else base, 0, _skip, out)
    return out


def _find(folder: str, rel: str, depth: int, skip: Callable[[str], bool], out: list[str]) -> None:
    try:
        with os.scandir(folder) as entries:
            found = list(entries)
    except OSError:  # as `os.walk`: a folder it cannot read holds nothing
        return
    dirs: list[str] = []
    files: list[str] = []
    for entry in found:
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        if is_dir:
            dirs.append(entry.name)
        elif is_dockerfile(entry.name):
            files.append(entry.name)
    out.extend(f"{rel}/{name}" if rel else name for name in sorted(files))
    if depth >= MAX_DEPTH:
        return
    for name in sorted(d for d in dirs if not skip(d)):
        path = os.path.join(folder, name)
        if not os.path.islink(path):
            _find(path, f"{rel}/{name}" if rel else name, depth + 1, skip, out)


def _words(text: str) -> Iterator[_Word]:
    """The requirement words of every `pip install` in the text (options and their values, paths, URLs and
    `-r` files left out)."""
    for m in _INSTALL_RE.finditer(text):
        pos = m.end()
        skip_value = False
        while True:
            gap = _GAP_RE.match(text, pos)
            pos = gap.end() if gap else pos
            if pos >= len(text) or text[pos] in "&|;\r\n":
                break
            w = _WORD_RE.match(text, pos)
            if w is None:
                break
            pos = w.end()
            raw = w.group(0)
            quote = raw[0] if raw[:1] in "\"'" and len(raw) > 1 and raw[-1] == raw[0] else ""
            inner = raw[1:-1] if quote else raw
            if skip_value:
                skip_value = False
                continue
            if inner.startswith("-"):
                skip_value = "=" not in inner and (inner in _VALUE_OPTIONS or (inner[:2] in _VALUE_OPTIONS
                                                                              and len(inner) == 2))
                continue
            start = w.start() + (1 if quote else 0)
            yield _Word(start, start + len(inner), quote, inner, text.count("\n", 0, start) + 1)


def _pin(rel: str, word: _Word) -> Pin | None:
    text = word.text
    if _is_url(text) or _looks_like_path(text) or "$" in text:
        return None
    try:
        return _pin_of(rel, word.line, text, "dockerfile")
    except _BAD_REQUIREMENT:
        return None


def read_dockerfile(rel: str, text: str) -> list[Pin]:
    """The requirements a Dockerfile installs by name on its `pip install` lines."""
    return [p for w in _words(text) if (p := _pin(rel, w)) is not None]


def edit_dockerfile(rel: str, text: str, changes: Sequence[PinChange]) -> tuple[str, list[Finding]]:
    """Apply `changes` to the requirements of the Dockerfile's `pip install` lines; every other byte stays."""
    findings: list[Finding] = []
    words = list(_words(text))
    present: set[str] = set()
    for w in words:
        p = _pin(rel, w)
        if p is not None:
            present.add(p.package)
    by_name = _resolve_changes(changes, present)
    edits: list[tuple[int, int, str]] = []
    for w in words:
        name = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", w.text)
        change = by_name.get(canonicalize_name(name.group(0))) if name else None
        if change is None:
            continue
        pin = _pin(rel, w)
        if pin is None or pin.path:
            why = "its version comes from a build argument" if "$" in w.text else "it is not a plain requirement"
            findings.append(_cannot_edit(rel, w.line, change.package, f"{why} (`{w.text}` on a pip install line)"))
            continue
        if change.remove:
            findings.append(_cannot_edit(rel, w.line, change.package,
                                         f"remove `{w.text}` from the pip install line, it is replaced by "
                                         f"{change.new_package} installed beside it"))
            continue
        head, marker = _split_marker(w.text)
        new_head, more = _edit_head(rel, w.line, head, change)
        findings += more
        if new_head == head:
            continue
        new = new_head + marker
        if not w.quote and re.search(r"[<>;\s*!]", new):
            new = f'"{new}"'  # `>=` unquoted would be a shell redirection
        edits.append((w.start, w.end, new))
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text, findings
