"""TOML files (pyproject.toml, pytest.toml): find the pytest tables and edit their keys with tomlkit."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any

import tomlkit

from fleetshift.recipes.base import ConfigKind


def table(doc: tomlkit.TOMLDocument, section: str) -> Any | None:
    """The table at dotted `section` of a parsed document, or None."""
    node: object = doc
    for part in section.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node if isinstance(node, dict) else None


def sections(kind: ConfigKind, text: str) -> list[str]:
    """The pytest tables present in a TOML file of this kind ([] when it does not parse)."""
    try:
        doc = tomlkit.parse(text)
    except Exception:
        return []
    if kind == "pytest.toml":
        return ["pytest"] if table(doc, "pytest") is not None else []
    out = []
    pyt = table(doc, "tool.pytest")
    if isinstance(pyt, dict):
        if any(k != "ini_options" for k in pyt):
            out.append("tool.pytest")
        if "ini_options" in pyt:
            out.append("tool.pytest.ini_options")
    return out


def values(text: str, section: str) -> dict[str, object]:
    """The plain values of the table `section` (a nested `ini_options` table left out)."""
    found = {k: v for k, v in dict(table(tomlkit.parse(text), section) or {}).items() if k != "ini_options"}
    return tomlkit.item(found).unwrap() if found else {}


def set_value(text: str, section: str, key: str, value: str) -> str:
    """`key = value` set in the table `section` (unchanged when the table is missing)."""
    doc = tomlkit.parse(text)
    found = table(doc, section)
    if found is None:
        return text
    if found.get(key) == value:
        return text
    found[key] = value
    return tomlkit.dumps(doc)


def _with_key(text: str, section: str, key: str) -> tuple[tomlkit.TOMLDocument, Any] | None:
    """The parsed document and the table `section` when it has `key`, else None."""
    doc = tomlkit.parse(text)
    found = table(doc, section)
    return None if found is None or key not in found else (doc, found)


def filter_values(text: str, section: str, key: str, drop: Callable[[str], bool]) -> str:
    """The entries of a linelist key for which `drop` is true removed (the key too when none is left)."""
    if (at := _with_key(text, section, key)) is None:
        return text
    doc, found = at
    value = found[key]
    if isinstance(value, str):
        if not drop(value):
            return text
        del found[key]
    else:
        idx = [i for i, v in enumerate(value) if drop(str(v))]
        if not idx:
            return text
        if len(idx) == len(value):
            del found[key]
        else:
            for i in reversed(idx):
                del value[i]
    return tomlkit.dumps(doc)


def sub_value(text: str, section: str, key: str, fix: Callable[[str], str]) -> str:
    """An args key (a string, or a list joined shell-style) passed through `fix`."""
    if (at := _with_key(text, section, key)) is None:
        return text
    doc, found = at
    value = found[key]
    if isinstance(value, str):
        new = fix(str(value))
        if new == value:
            return text
        found[key] = new
    else:
        joined = " ".join(shlex.quote(str(v)) for v in value)
        new = fix(joined)
        if new == joined:
            return text
        arr = tomlkit.array()
        arr.extend(shlex.split(new))
        found[key] = arr
    return tomlkit.dumps(doc)
