"""INI files (pytest.ini, tox.ini, setup.cfg): read a section's keys and edit them line by line, so comments
and layout stay as they were."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

HEADER = re.compile(r"^\[([^\]]*)\]")
_KEYLINE = re.compile(r"^([^\s=:#;\[][^=:]*?)\s*[=:]\s?(.*?)\s*$")


def newline(text: str) -> str:
    """The newline style of `text`."""
    return "\r\n" if "\r\n" in text else "\n"


@dataclass
class Block:
    """One key of an INI section: its line span [start, end) and its value lines."""

    key: str
    start: int
    end: int
    first: str  # value text on the key line
    more: list[tuple[int, str]]  # (line index, stripped text) of continuation lines

    @property
    def value(self) -> str:
        parts = [self.first] if self.first else []
        parts += [t for _, t in self.more if t and t[0] not in "#;"]
        return "\n".join(parts)


def span(lines: list[str], section: str) -> tuple[int, int] | None:
    """Line index of `[section]` and the index where the section ends."""
    start = None
    for i, line in enumerate(lines):
        m = HEADER.match(line)
        if not m:
            continue
        if start is not None:
            return start, i
        if m.group(1).strip() == section:
            start = i
    return (start, len(lines)) if start is not None else None


def blocks(lines: list[str], start: int, end: int) -> list[Block]:
    """The keys of the section spanning lines [start, end), with their continuation lines."""
    found: list[Block] = []
    for i in range(start + 1, end):
        raw = lines[i].rstrip("\r\n")
        stripped = raw.strip()
        if raw and not raw[0].isspace() and stripped and stripped[0] not in "#;":
            m = _KEYLINE.match(raw)
            if m:
                found.append(Block(m.group(1).strip(), i, i + 1, m.group(2), []))
            continue
        if found and raw[:1].isspace() and stripped:
            b = found[-1]
            if b.end == i or all(
                not lines[j].strip() or lines[j].strip()[0] in "#;" for j in range(b.end, i)
            ):
                b.more.append((i, stripped))
                b.end = i + 1
    return found


def values(text: str, section: str) -> dict[str, str] | None:
    """Every key of `[section]` with its value, or None when the section is missing."""
    lines = text.splitlines(keepends=True)
    where = span(lines, section)
    if where is None:
        return None
    return {b.key: b.value for b in blocks(lines, *where)}


def _block(lines: list[str], section: str, key: str) -> Block | None:
    """The first block of `key` in `[section]`, or None."""
    where = span(lines, section)
    if where is None:
        return None
    return next((b for b in blocks(lines, *where) if b.key == key), None)


def set_value(text: str, section: str, key: str, value: str) -> str:
    """`key = value` set in `[section]`: replaced, added at the section's end, or in a new section."""
    nl = newline(text)
    lines = text.splitlines(keepends=True)
    where = span(lines, section)
    if where is None:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += nl
        if lines and lines[-1].strip():
            lines.append(nl)
        lines += [f"[{section}]{nl}", f"{key} = {value}{nl}"]
        return "".join(lines)
    found = blocks(lines, *where)
    for b in found:
        if b.key == key:
            if b.value.strip() == value:
                return text
            lines[b.start : b.end] = [f"{key} = {value}{nl}"]
            return "".join(lines)
    at = found[-1].end if found else where[0] + 1
    if at > 0 and not lines[at - 1].endswith("\n"):
        lines[at - 1] += nl
    lines.insert(at, f"{key} = {value}{nl}")
    return "".join(lines)


def filter_values(text: str, section: str, key: str, drop: Callable[[str], bool]) -> str:
    """The entries of a linelist key for which `drop` is true removed (the key too when none is left)."""
    lines = text.splitlines(keepends=True)
    b = _block(lines, section, key)
    if b is None:
        return text
    kill = [i for i, t in b.more if t[0] not in "#;" and drop(t)]
    first_dropped = bool(b.first) and drop(b.first)
    if not kill and not first_dropped:
        return text
    remaining = (0 if first_dropped or not b.first else 1) + sum(
        1 for i, t in b.more if t[0] not in "#;" and i not in kill
    )
    if remaining == 0:
        del lines[b.start : b.end]
        return "".join(lines)
    for i in reversed(kill):
        del lines[i]
    if first_dropped:
        lines[b.start] = f"{key} ={newline(text)}"
    return "".join(lines)


def sub_value(text: str, section: str, key: str, fix: Callable[[str], str]) -> str:
    """Each value line of `key` passed through `fix`; a line left empty is removed."""
    lines = text.splitlines(keepends=True)
    b = _block(lines, section, key)
    if b is None:
        return text
    changed = False
    for i in [b.start] + [i for i, _ in b.more]:
        raw = lines[i]
        body = raw.rstrip("\r\n")
        ending = raw[len(body) :]
        if i == b.start:
            head, _, val = body.partition("=") if "=" in body else body.partition(":")
            new = fix(val.strip())
            if new != val.strip():
                lines[i] = f"{head.rstrip()} = {new}".rstrip() + ending
                changed = True
        else:
            indent = body[: len(body) - len(body.lstrip())]
            new = fix(body.strip())
            if new != body.strip():
                lines[i] = f"{indent}{new}{ending}" if new else ""
                changed = True
    return "".join(lines) if changed else text


def ini_lines(text: str) -> Iterator[tuple[int, str, str]]:
    """(1-based line, section, stripped line) for every line of an INI file."""
    section = ""
    for n, raw in enumerate(text.splitlines(), 1):
        m = HEADER.match(raw)
        if m:
            section = m.group(1).strip()
        yield n, section, raw.strip()
