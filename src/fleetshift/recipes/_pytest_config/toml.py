"""TOML files (pyproject.toml, pytest.toml): find the pytest tables and edit their keys with tomlkit."""

from __future__ import annotations

import copy
import functools
import shlex
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fleetshift.recipes.base import ConfigKind

if TYPE_CHECKING:
    import tomlkit


def table(doc: tomlkit.TOMLDocument, section: str) -> Any | None:
    """The table at dotted `section` of a parsed document, or None."""
    node: object = doc
    for part in section.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node if isinstance(node, dict) else None


@functools.lru_cache(maxsize=64)
def _parsed(text: str) -> Any | None:
    """The parsed document of a text, once per text in a process, or None when it does not parse: only read, never
    changed nor written (an edit parses its own copy with tomlkit, see `_with_key`). Read with tomllib, whose plain
    values are those tomlkit's items stand for (the same keys, strings, numbers, lists and tables) at a tenth of the
    cost; a text tomllib refuses is given to tomlkit, so what tomlkit alone accepts is read as before."""
    import tomllib

    try:
        return tomllib.loads(text)
    except Exception:
        pass
    import tomlkit

    try:
        return tomlkit.parse(text)
    except Exception:
        return None


def sections(kind: ConfigKind, text: str) -> list[str]:
    """The pytest tables present in a TOML file of this kind ([] when it does not parse)."""
    doc = _parsed(text)
    if doc is None:
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
    """The plain values of the table `section` (a nested `ini_options` table left out), read from the shared parsed
    document (`_parsed`: the callers have just asked `sections` of the same text) when each value is a plain item;
    else from a copy of its own, as the values of a table made of them."""
    import tomlkit
    from tomlkit.items import Item

    seen = _parsed(text)
    if seen is not None:
        known = {k: v for k, v in dict(table(seen, section) or {}).items() if k != "ini_options"}
        if not isinstance(seen, tomlkit.TOMLDocument):  # tomllib's plain values, copied: the document is shared
            if not any(_zoned(v) for v in known.values()):
                return copy.deepcopy(known)
        elif all(isinstance(v, Item) for v in known.values()):
            return {k: v.unwrap() for k, v in known.items()}
    found = {k: v for k, v in dict(table(tomlkit.parse(text), section) or {}).items() if k != "ini_options"}
    return tomlkit.item(found).unwrap() if found else {}


def _zoned(value: object) -> bool:
    """Whether a plain TOML value holds a date-time with an offset, whose tzinfo tomlkit names ('+01:00') and
    tomllib does not: such a table's values are read with tomlkit, as before."""
    import datetime

    if isinstance(value, dict):
        return any(_zoned(v) for v in value.values())
    if isinstance(value, list):
        return any(_zoned(v) for v in value)
    return isinstance(value, datetime.datetime | datetime.time) and value.tzinfo is not None


def set_value(text: str, section: str, key: str, value: str) -> str:
    """`key = value` set in the table `section` (unchanged when the table is missing)."""
    import tomlkit

    seen = _parsed(text)
    if seen is not None and ((known := table(seen, section)) is None or known.get(key) == value):
        return text  # what the edit below finds too, without a copy to edit
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
    import tomlkit

    seen = _parsed(text)
    if seen is not None and ((known := table(seen, section)) is None or key not in known):
        return None  # what the look-up below finds too, without a copy to edit
    doc = tomlkit.parse(text)
    found = table(doc, section)
    return None if found is None or key not in found else (doc, found)


def filter_values(text: str, section: str, key: str, drop: Callable[[str], bool]) -> str:
    """The entries of a linelist key for which `drop` is true removed (the key too when none is left)."""
    import tomlkit

    if not _drops(text, section, key, drop):
        return text
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
    import tomlkit

    if not _fixes(text, section, key, fix):
        return text
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


def _may_change(text: str, section: str, key: str, changes: Callable[[Any], bool]) -> bool:
    """Whether an edit of `key` in the table `section` may change the text: `changes` judges its value (a string or
    a list) on the shared parsed document (read, not changed); a text that does not parse may always change (the
    edit then finds out for itself), a table without the key never does."""
    seen = _parsed(text)
    if seen is None:
        return True
    known = table(seen, section)
    return known is not None and key in known and changes(known[key])


def _drops(text: str, section: str, key: str, drop: Callable[[str], bool]) -> bool:
    """Whether `filter_values` may change the text: `drop` is true of its value (a string) or of an entry (a list)."""
    return _may_change(text, section, key,
                       lambda v: drop(v) if isinstance(v, str) else any(drop(str(e)) for e in v))


def _fixes(text: str, section: str, key: str, fix: Callable[[str], str]) -> bool:
    """Whether `sub_value` may change the text: `fix` changes its value (a string, or a list joined shell-style)."""
    def changes(v: Any) -> bool:
        joined = v if isinstance(v, str) else " ".join(shlex.quote(str(e)) for e in v)
        return fix(str(joined)) != joined

    return _may_change(text, section, key, changes)
