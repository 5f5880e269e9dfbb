"""TOML manifests: where tables, keys and strings stand in the text, and the `name = constraint` dependency
tables that Poetry (pyproject.toml) and Pipfile share."""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from fleetshift.manifests._common import (
    _cannot_edit,
    _dropped_extras,
    _error,
    _fleet_path,
    _is_url,
    _normal_spec,
    _resolve_changes,
    _target_spec,
    _unmanaged,
    _why,
    split_extras,
)
from fleetshift.model import Finding, Pin
from fleetshift.recipes.base import PinChange

_HEADER_RE = re.compile(r"^[ \t]*\[(\[)?[ \t]*(?P<key>[^\]\r\n]+?)[ \t]*\](?(1)\])[ \t]*(#.*)?$", re.M)
_PART = r"(?:[A-Za-z0-9_-]+|\"[^\"\r\n]*\"|'[^'\r\n]*')"
_KEY_LINE_RE = re.compile(r"^[ \t]*(?P<key>" + _PART + r"(?:[ \t]*\.[ \t]*" + _PART + r")*)[ \t]*=", re.M)


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
        self._keys: dict[tuple[int, tuple[str, ...]], int] = {}  # (body start, key parts) -> offset past its '='
        for body, end in {(r[2], r[3]) for r in self.regions}:
            for m in _KEY_LINE_RE.finditer(text, body, end):
                self._keys.setdefault((body, _key_parts(m["key"])), m.end())

    def _in_multiline_string(self, offset: int) -> bool:
        """Whether `offset` is inside a multi-line string (an odd number of triple quotes before it)."""
        if not hasattr(self, "_quote_ends"):  # where each triple quote ends, found left to right as str.count does
            self._quote_ends = {q: [m.end() for m in re.finditer(re.escape(q), self.text)] for q in ('"""', "'''")}
        return any(bisect.bisect_right(ends, offset) % 2 == 1 for ends in self._quote_ends.values())

    def line(self, offset: int) -> int:
        if not hasattr(self, "_newlines"):  # one pass, then each line number is a bisection
            self._newlines = [m.start() for m in re.finditer("\n", self.text)]
        return bisect.bisect_left(self._newlines, offset) + 1

    def key(self, path: tuple[str, ...]) -> int | None:
        """Offset just past 'key =' (or the end of the table header) of the value at the full key `path`."""
        for tpath, _header, body, end in self.regions:
            if tpath == path:
                return body
            if path[: len(tpath)] == tpath and len(path) > len(tpath):
                rest = path[len(tpath) :]
                if (body, rest) in self._keys:  # the first 'key =' line of the table, indexed in one pass
                    return self._keys[(body, rest)]
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
    import tomlkit
    import tomlkit.exceptions

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


def _like(item: Any, value: str) -> Any:
    """A tomlkit string holding `value`, quoted the way `item` was where possible."""
    import tomlkit
    import tomlkit.items

    kind = getattr(item, "type", None)
    if kind in (tomlkit.items.StringType.SLL, tomlkit.items.StringType.MLL) and "'" not in value:
        return tomlkit.string(value, literal=True, multiline=kind == tomlkit.items.StringType.MLL)
    return tomlkit.string(value, multiline=kind == tomlkit.items.StringType.MLB)


# ---- `name = constraint` tables (Poetry, Pipfile) ---------------------------------------------------


@dataclass
class _TableDeps:
    """A TOML table mapping package names to constraints (Poetry, Pipfile)."""

    path: tuple[str, ...]
    section: str
    table: Any
    poetry: bool


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
    rel: str, index: _TomlIndex, tables: Sequence[_TableDeps], root: Path | None
) -> tuple[list[Pin], list[Finding]]:
    """Pins of every entry of the dependency `tables`, with a Finding per unreadable constraint."""
    pins: list[Pin] = []
    findings: list[Finding] = []
    for tbl in tables:
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
    import tomlkit
    import tomlkit.items

    findings: list[Finding] = []
    keys = {canonicalize_name(k): k for k in tbl.table.keys() if not (tbl.poetry and k == "python")}
    additions = [c for c in changes if c.add_after and canonicalize_name(c.package) not in keys]
    by_name = _resolve_changes([c for c in changes if not c.add_after], set(keys))
    placed = {canon: key for canon, key in keys.items()}  # where each entry stands after the edits
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
        new_name, new_extras = split_extras(change.new_package)
        renamed = canonicalize_name(new_name) != canon
        if renamed and isinstance(value, tomlkit.items.Table):
            findings.append(_cannot_edit(rel, line, key, f"rename it to {new_name} (its own [table])"))
            continue
        try:
            old = _table_entry(rel, line, key, value, tbl, None)
        except (InvalidSpecifier, InvalidVersion) as exc:
            findings.append(_cannot_edit(rel, line, key, f"its constraint is unreadable ({_why(exc)})"))
            continue
        spec, bad = _target_spec(rel, line, change, old.spec, tbl.section)
        if bad is not None:
            findings.append(bad)
            continue
        missing = set(new_extras) - {canonicalize_name(e) for e in old.extras}
        if not renamed and SpecifierSet(spec) == SpecifierSet(old.spec) and not missing:
            continue
        written = spec or "*"
        raw = value if isinstance(value, str) else value.get("version")
        if tbl.poetry and isinstance(raw, str) and change.new_spec is not None:
            written = _poetry_styled(str(raw), written, change, tbl.section)
        if isinstance(value, str) and not new_extras:
            new_value: Any = _like(value, written)
        elif isinstance(value, str):
            # extras go in the table form: a key "name[extra]" is a package of that literal name to Poetry
            new_value = tomlkit.inline_table()
            new_value["version"] = _like(value, written)
            new_value["extras"] = list(new_extras)
        else:
            new_value = value
            if "version" in value or spec:
                value["version"] = _like(value.get("version"), written)
            kept = [str(e) for e in (value.get("extras") or []) if not renamed]
            dropped = [str(e) for e in (value.get("extras") or []) if renamed and str(e) not in new_extras]
            if new_extras or (renamed and value.get("extras")):
                extras = sorted({*kept, *new_extras})
                if extras:
                    value["extras"] = extras
                elif "extras" in value:
                    del value["extras"]
            if dropped:
                findings.append(_dropped_extras(rel, line, dropped, key, new_name))
        if renamed and not _rename_key(tbl.table, key, new_name, new_value):
            findings.append(_cannot_edit(rel, line, key, f"rename it to {new_name}"))
        elif renamed:
            placed[canon] = new_name
        elif not renamed and isinstance(value, str):
            tbl.table[key] = new_value
    for c in additions:
        beside = placed.get(c.add_after)
        if beside is not None and not (hasattr(tbl.table[beside], "get") and any(
                tbl.table[beside].get(src) for src in _SOURCE_KEYS)):
            _insert_after(tbl.table, beside, c.new_package, tomlkit.item(c.new_spec or "*"), c.reason)
    return findings


def _insert_after(table: Any, beside: str, key: str, value: Any, note: str) -> None:
    """Add `key = value` right below the entry `beside` (tomlkit appends at the end otherwise)."""
    import tomlkit
    import tomlkit.container
    import tomlkit.items

    if note:
        value.comment(note)
        value.trivia.comment_ws = "  "
    for part in getattr(table, "_tables", None) or [table]:
        container = part.value if isinstance(part, (tomlkit.items.Table, tomlkit.items.InlineTable)) else part
        if isinstance(container, tomlkit.container.Container) and beside in container:
            at = next((i for k, i in container._map.items() if k == beside and isinstance(i, int)), None)
            if at is not None and at + 1 < len(container.body):  # tomlkit cannot insert after the last item
                container._insert_at(at + 1, key, value)
                return
    table[key] = value


def _poetry_styled(raw: str, spec: str, change: PinChange, section: str) -> str:
    """A Poetry constraint in the style it was written: `^8.2` -> `^9.1`, `~8.2` -> `~9.1`, `8.2.3` -> the
    resolved release; anything else (and a library's wide runtime range) as the PEP 440 `spec`."""
    from fleetshift.manifests._common import _release_of, is_runtime

    raw = raw.strip()
    resolved = change.resolved
    if not resolved or (change.library and is_runtime(section)):
        return spec
    try:
        if raw[:1] in ("^", "~") and raw[1:2] != "=" and re.fullmatch(r"[0-9][0-9.]*", raw[1:].strip()):
            return raw[0] + _release_of(resolved, len(Version(raw[1:].strip()).release))
        if re.fullmatch(r"[0-9][0-9.]*", raw):
            return resolved
    except InvalidVersion:
        return spec
    return spec


def _rename_key(table: Any, old: str, new: str, value: Any) -> bool:
    """Rename a key in place, keeping its position, comment and layout (tomlkit has no public rename)."""
    import tomlkit
    import tomlkit.container
    import tomlkit.items

    for part in getattr(table, "_tables", None) or [table]:  # an out-of-order table is several tables
        container = part.value if isinstance(part, (tomlkit.items.Table, tomlkit.items.InlineTable)) else part
        if isinstance(container, tomlkit.container.Container) and old in container:
            container._replace(old, new, value)
            return True
    return False
