"""Pipfile: the `packages` and `dev-packages` tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fleetshift.manifests._toml import _edit_table, _parse_toml, _table, _table_pins, _TableDeps, _TomlIndex
from fleetshift.model import Finding, Pin
from fleetshift.recipes.base import PinChange


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
    pins, more = _table_pins(rel, _TomlIndex(text), _pipfile_containers(doc), root)
    return pins, [], findings + more


def _edit_pipfile(rel: str, text: str, changes: list[PinChange]) -> tuple[str, list[Finding]]:
    import tomlkit

    doc, findings = _parse_toml(rel, text)
    if doc is None:
        return text, findings
    index = _TomlIndex(text)
    for tbl in _pipfile_containers(doc):
        findings += _edit_table(rel, index, tbl, changes)
    return tomlkit.dumps(doc), findings
