"""setup.py (setuptools): the string literals of `setup(...)`'s `install_requires`, `tests_require`,
`setup_requires` and `extras_require`, read with `ast` (setup.py is never run) and edited in place.

A value may be a list or tuple literal of strings, a module-level name assigned one, or a `+` of those;
`extras_require` a dict literal (or a name assigned one) of such values. Each string is a Pin, in the sections
setup.cfg uses ("dependencies", "tests_require", "setup_requires", "extra:<name>"). An edit rewrites the
text inside the string's quotes and nothing else; anything computed (a call, a comprehension, a file read
at setup time) is left alone, with a Finding naming its line.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from fleetshift import astparse
from fleetshift.manifests._common import (
    _BAD_REQUIREMENT,
    _cannot_edit,
    _changes_by_section,
    _edit_head,
    _error,
    _lines,
    _pin_of,
    _split_marker,
    _why,
)
from fleetshift.model import Finding, Pin, Severity
from fleetshift.recipes.base import PinChange

_KEYWORDS = {
    "install_requires": "dependencies",
    "tests_require": "tests_require",
    "setup_requires": "setup_requires",
}
_PREFIX_RE = re.compile(r"^(?P<prefix>[uUrR]?)(?P<quote>'''|\"\"\"|'|\")")


@dataclass
class _PyValue:
    """One requirement string of setup.py: where its text (inside the quotes) lies, and its Pin."""

    start: int  # offset of the literal's first character (its prefix or quote) in the text
    end: int  # offset just past its closing quote
    inner: tuple[int, int] | None  # offsets of the text inside the quotes; None when not plain text
    container: ast.List | ast.Tuple
    node: ast.Constant
    head: str
    pin: Pin


class _Offsets:
    """Character offsets of `ast` positions (1-based lines, UTF-8 byte columns)."""

    def __init__(self, text: str) -> None:
        self.lines = _lines(text)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def at(self, lineno: int, col: int) -> int:
        line = self.lines[lineno - 1] if lineno - 1 < len(self.lines) else ""
        return self.starts[lineno - 1] + len(line.encode("utf-8")[:col].decode("utf-8", "replace"))


def _setup_calls(tree: ast.Module) -> list[ast.Call]:
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            if (isinstance(f, ast.Name) and f.id == "setup") or (isinstance(f, ast.Attribute) and f.attr == "setup"):
                out.append(node)
    return out


def _module_names(tree: ast.Module) -> dict[str, ast.expr]:
    """Module-level names assigned once with `=` (the last assignment wins)."""
    out: dict[str, ast.expr] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            out[stmt.targets[0].id] = stmt.value
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value is not None:
            out[stmt.target.id] = stmt.value
    return out


def _parse_setup_py(rel: str, text: str) -> tuple[list[_PyValue], list[Finding]]:
    try:
        return _parse_setup_tree(rel, text)
    except (RecursionError, MemoryError):  # the parser's (or a walk's) stack limits
        msg = f"{rel}: setup.py is too deeply nested to parse; its requirements were not read"
        return [], [_error(rel, 0, "unparseable", msg)]


def _parse_setup_tree(rel: str, text: str) -> tuple[list[_PyValue], list[Finding]]:
    try:
        tree = astparse.parse(text)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", 0) or 0
        msg = f"{rel}:{line}: cannot parse setup.py ({_why(exc)}); its requirements were not read"
        return [], [_error(rel, line, "unparseable", msg)]
    names = _module_names(tree)
    offsets = _Offsets(text)
    values: list[_PyValue] = []
    findings: list[Finding] = []

    def dynamic(node: ast.AST, what: str, site: ast.AST | None = None) -> None:
        line = getattr(site or node, "lineno", 0)
        where = f", assigned at line {node.lineno}" if site is not None and isinstance(node, ast.expr) else ""
        msg = (
            f"{rel}:{line}: {what} is computed ({ast.unparse(site or node)[:60]}{where}), not a literal; "
            "fleetshift reads and edits only literal requirement strings: change it by hand if it names a "
            "migrated package"
        )
        findings.append(_error(rel, line, "setup-py-dynamic", msg, Severity.ADVICE))

    def strings(node: ast.expr, section: str, what: str, depth: int = 0, site: ast.expr | None = None) -> None:
        if depth > 5:
            dynamic(node, what, site)
            return
        if isinstance(node, ast.Name) and node.id in names:
            strings(names[node.id], section, what, depth + 1, site or node)
            return
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            strings(node.left, section, what, depth + 1, site)
            strings(node.right, section, what, depth + 1, site)
            return
        if isinstance(node, (ast.List, ast.Tuple)):
            for elt in node.elts:
                if isinstance(elt, ast.Constant) and isinstance(elt.value, str):
                    value = _value(rel, offsets, text, node, elt, section)
                    if isinstance(value, Finding):
                        findings.append(value)
                    elif value is not None:
                        values.append(value)
                else:
                    dynamic(elt, f"a requirement of {what}")
            return
        dynamic(node, what, site)  # a call, a comprehension, a string of lines...

    for call in _setup_calls(tree):
        for kw in call.keywords:
            if kw.arg in _KEYWORDS:
                strings(kw.value, _KEYWORDS[kw.arg], kw.arg)
            elif kw.arg == "extras_require":
                extras = kw.value
                if isinstance(extras, ast.Name) and extras.id in names:
                    extras = names[extras.id]
                if not isinstance(extras, ast.Dict):
                    dynamic(kw.value, "extras_require")
                    continue
                for key, val in zip(extras.keys, extras.values, strict=True):
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        strings(val, f"extra:{key.value}", f"extras_require[{key.value!r}]")
                    else:
                        dynamic(val if key is None else key, "an extras_require key")
    return values, findings


def _value(
    rel: str, offsets: _Offsets, text: str, container: ast.List | ast.Tuple, node: ast.Constant, section: str
) -> _PyValue | Finding | None:
    assert node.end_lineno is not None and node.end_col_offset is not None
    start = offsets.at(node.lineno, node.col_offset)
    end = offsets.at(node.end_lineno, node.end_col_offset)
    source = text[start:end]
    req_text = str(node.value)
    line = node.lineno
    inner: tuple[int, int] | None = None
    m = _PREFIX_RE.match(source)
    if m and source.endswith(m["quote"]) and len(source) >= m.end() + len(m["quote"]):
        body = (start + m.end(), end - len(m["quote"]))
        if text[body[0] : body[1]] == req_text:
            inner = body
    stripped = req_text.strip()
    if not stripped or stripped.startswith("#"):
        return None
    try:
        pin = _pin_of(rel, line, stripped, section)
    except _BAD_REQUIREMENT as exc:
        msg = f"{rel}:{line}: cannot parse requirement {stripped!r}: {_why(exc)}; write it as PEP 508"
        return _error(rel, line, "unparseable-requirement", msg)
    return _PyValue(start, end, inner, container, node, _split_marker(stripped)[0], pin)


def _read_setup_py(rel: str, text: str, root: Path) -> tuple[list[Pin], list[str], list[Finding]]:
    values, findings = _parse_setup_py(rel, text)
    return [v.pin for v in values], [], findings


def _edit_setup_py(rel: str, text: str, changes: list[PinChange]) -> tuple[str, list[Finding]]:
    values, _ = _parse_setup_py(rel, text)
    findings: list[Finding] = []
    edits: dict[int, tuple[int, str]] = {}  # start -> (end, replacement)
    # a list shared by two sections is edited once
    for v, change in _changes_by_section(rel, values, changes, findings, once=lambda v: v.start):
        if change.remove:
            span = _removal(text, v)
            if span is None:
                findings.append(_cannot_edit(rel, v.pin.line, v.pin.package, "its list cannot drop it cleanly"))
            else:
                edits[span[0]] = (span[1], "")
            continue
        if v.inner is None:
            why = "its string has escapes or is split in parts"
            findings.append(_cannot_edit(rel, v.pin.line, v.pin.package, why))
            continue
        new_head, more = _edit_head(rel, v.pin.line, v.head, change, section=v.pin.section)
        findings += more
        if new_head == v.head:
            continue
        old = text[v.inner[0] : v.inner[1]]
        lead = len(old) - len(old.lstrip())
        edits[v.inner[0]] = (v.inner[1], old[:lead] + new_head + old[lead + len(v.head) :])
    out, pos = [], 0
    for start in sorted(edits):
        end, new = edits[start]
        if start < pos:
            continue
        out += [text[pos:start], new]
        pos = end
    out.append(text[pos:])
    return "".join(out), findings


def _removal(text: str, v: _PyValue) -> tuple[int, int] | None:
    """The span to delete to drop a requirement string from its list: its own physical line(s) when it stands
    alone there (with its comma and comment), else the string with the comma and spaces that follow it (or,
    for the last element, the comma and spaces before it). None when that would not be clean."""
    line_start = text.rfind("\n", 0, v.start) + 1
    nl = text.find("\n", v.end)
    line_end = len(text) if nl < 0 else nl + 1
    after = text[v.end : line_end]
    if not text[line_start : v.start].strip() and re.fullmatch(r"\s*,?\s*(#.*)?\r?\n?", after):
        return line_start, line_end
    elts = v.container.elts
    i = next(k for k, e in enumerate(elts) if e is v.node)
    if i + 1 < len(elts):  # `"a", "b"`: drop `"a", `
        m = re.match(r"\s*,[ \t]*", text[v.end :])
        if m and "\n" not in text[v.end : v.end + m.end()]:
            return v.start, v.end + m.end()
        return None
    if i > 0:  # the last one: drop `, "b"`
        m = re.search(r",[ \t]*$", text[line_start : v.start])
        if m:
            return line_start + m.start(), v.end
        return None
    m = re.match(r"[ \t]*,?", text[v.end :])  # the only one: `["a"]` -> `[]`
    return v.start, v.end + (m.end() if m else 0)
