"""pyproject.toml: PEP 621 dependencies and extras, PEP 735 dependency groups, uv dev-dependencies (arrays of
PEP 508 strings) and Poetry's dependency tables."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from fleetshift.manifests._common import (
    _BAD_REQUIREMENT,
    _edit_head,
    _error,
    _parsed,
    _pin_of,
    _resolve_changes,
    _split_marker,
    _unmanaged,
    _why,
)
from fleetshift.manifests._toml import (
    _edit_table,
    _like,
    _list,
    _parse_toml,
    _table,
    _table_pins,
    _TableDeps,
    _TomlIndex,
)
from fleetshift.model import Finding, Pin
from fleetshift.recipes.base import PinChange


@dataclass
class _Array:
    """A TOML array of PEP 508 strings: where it is and which section its pins belong to."""

    path: tuple[str, ...]
    section: str
    array: Any


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


def _array_lines(index: _TomlIndex, arr: _Array) -> list[int]:
    """Line of each item of the array."""
    return index.strings(index.key(arr.path), [str(v) if isinstance(v, str) else v for v in arr.array])


def _array_pins(rel: str, index: _TomlIndex, arr: _Array) -> tuple[list[Pin], list[Finding]]:
    pins, findings = [], []
    for item, line in zip(arr.array, _array_lines(index, arr), strict=True):
        if not isinstance(item, str):
            continue  # {include-group = "..."} and other tables
        value = str(item)
        try:
            pins.append(_pin_of(rel, line, value, arr.section))
        except _BAD_REQUIREMENT as exc:
            msg = f"{rel}:{line}: cannot parse requirement {value!r} in {arr.section}: {_why(exc)}; write it as PEP 508"
            findings.append(_error(rel, line, "unparseable-requirement", msg))
    return pins, findings


def _read_pyproject(rel: str, text: str, root: Path) -> tuple[list[Pin], list[str], list[Finding]]:
    doc, findings = _plain(text), []
    if doc is None or _table(doc, "tool", "poetry") is not None:  # Poetry's tables give each entry's raw text
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
    more_pins, more = _table_pins(rel, index, tables, root)
    pins += more_pins
    findings += more
    return sorted(pins, key=lambda p: p.line), [], findings


def _plain(text: str) -> dict[str, Any] | None:
    """The document read with tomllib (a tenth of tomlkit's cost), or None when tomllib refuses it: the arrays of
    requirement strings read from it are those tomlkit's items hold. A text tomllib refuses, or one with Poetry
    tables, is read by tomlkit as before (its errors and leniency, and each table entry's own text)."""
    import tomllib

    try:
        return tomllib.loads(text)
    except Exception:
        return None


def _edit_array(rel: str, index: _TomlIndex, arr: _Array, by_name: dict[str, PinChange],
                additions: Sequence[PinChange] = ()) -> list[Finding]:
    findings: list[Finding] = []
    values = list(arr.array)
    lines = _array_lines(index, arr)
    doomed: list[int] = []
    after: dict[int, list[PinChange]] = {}
    for i, (item, line) in enumerate(zip(values, lines, strict=True)):
        if not isinstance(item, str):
            continue
        value = str(item)
        try:
            pin = _pin_of(rel, line, value, arr.section)
        except _BAD_REQUIREMENT:
            continue
        for c in additions:
            if c.add_after == pin.package and not pin.path:
                after.setdefault(i, []).append(c)
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
        new_head, more = _edit_head(rel, line, head, change, section=arr.section)
        findings += more
        if new_head != head:
            arr.array[i] = _like(item, lead + new_head + tail)
    for i in sorted({*doomed, *after}, reverse=True):
        for c in reversed(after.get(i, [])):
            arr.array.insert(i + 1, _like(values[i], f"{c.new_package}{c.new_spec or ''}"))
        if i in doomed:
            del arr.array[i]
    return findings


def _edit_pyproject(rel: str, text: str, changes: list[PinChange]) -> tuple[str, list[Finding]]:
    import tomlkit

    doc, findings = _parse_toml(rel, text)
    if doc is None:
        return text, findings
    index = _TomlIndex(text)
    arrays, tables = _pyproject_containers(doc)
    everywhere = {p for arr in arrays for p in _names_in_array(arr)}
    everywhere |= {canonicalize_name(str(k)) for tbl in tables for k in tbl.table.keys()}
    additions = [c for c in changes if c.add_after and c.package not in everywhere]
    changes = [c for c in changes if not c.add_after]
    for arr in arrays:
        present = {p for p in _names_in_array(arr)}
        findings += _edit_array(rel, index, arr, _resolve_changes(changes, present), additions)
    for tbl in tables:
        findings += _edit_table(rel, index, tbl, changes + additions)
    return tomlkit.dumps(doc), findings


def _names_in_array(arr: _Array) -> Iterator[str]:
    for v in arr.array:
        if isinstance(v, str):
            try:
                yield _parsed(str(v))[0]  # (the canonical name; each line parsed once per process)
            except _BAD_REQUIREMENT:
                continue
