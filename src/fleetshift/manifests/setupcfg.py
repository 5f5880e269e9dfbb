"""setup.cfg (setuptools): requirements in `[options]` and `[options.extras_require]`, edited line by line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from fleetshift.manifests._common import (
    _BAD_REQUIREMENT,
    _changes_by_section,
    _edit_head,
    _error,
    _fleet_path,
    _lines,
    _pin_of,
    _split_ending,
    _split_marker,
    _why,
    outside_fleet,
    outside_message,
)
from fleetshift.model import Finding, Pin
from fleetshift.recipes.base import PinChange

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
                if outside_fleet(root, target):
                    findings.append(outside_message(rel, line, "file: include", name.strip()))
                    continue
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
    for v, change in _changes_by_section(rel, values, changes, findings):
        content, ending = _split_ending(lines[v.index])
        if change.remove:
            if content[: v.column].strip():  # 'install_requires = x' on the key's own line
                lines[v.index] = content[: v.column].rstrip() + ending
            else:
                drop.add(v.index)
            continue
        new_head, more = _edit_head(rel, v.pin.line, v.head, change, section=v.pin.section)
        findings += more
        lines[v.index] = content[: v.column] + new_head + content[v.column + len(v.head) :] + ending
    return "".join(line for i, line in enumerate(lines) if i not in drop), findings
