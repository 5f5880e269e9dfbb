"""Reading the files a project is described by, statically and forgivingly: every problem is a Finding
naming the file and the fix, never an exception."""

from __future__ import annotations

import configparser
import functools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fleetshift.model import Finding, Severity

if TYPE_CHECKING:
    import yaml


def finding(file: str, line: int, slug: str, message: str, severity: Severity = Severity.ERROR) -> Finding:
    return Finding(file, line, f"project/{slug}", message, severity)


@dataclass
class Reader:
    """One service folder: reads its files once, relative paths in and fleet-relative paths out, and
    collects what could not be read."""

    root: Path  # the fleet root
    folder: str  # the service folder, fleet-relative ("" for the root)
    findings: list[Finding] = field(default_factory=list)
    _text: dict[str, str | None] = field(default_factory=dict)
    _toml: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    _ini: dict[str, configparser.RawConfigParser | None] = field(default_factory=dict)

    _entries: dict[str, frozenset[str]] = field(default_factory=dict)
    _files: dict[str, bool] = field(default_factory=dict)

    def rel(self, name: str) -> str:
        """A service-relative name as a fleet-relative path."""
        return f"{self.folder}/{name}" if self.folder else name

    def path(self, name: str) -> Path:
        return self.root / self.rel(name)

    def _os_path(self, name: str) -> str:
        return os.path.join(str(self.root), self.folder, name) if name else os.path.join(str(self.root), self.folder)

    def entries(self, sub: str = "") -> frozenset[str]:
        """The names in a (service-relative) folder; empty when it is not one. Listed once."""
        if sub not in self._entries:
            parent, _, leaf = sub.rpartition("/")
            if sub and leaf not in self.entries(parent):
                self._entries[sub] = frozenset()
            else:
                try:
                    self._entries[sub] = frozenset(os.listdir(self._os_path(sub)))
                except OSError:
                    self._entries[sub] = frozenset()
        return self._entries[sub]

    def is_dir(self, name: str) -> bool:
        parent, _, leaf = name.rpartition("/")
        return leaf in self.entries(parent) and os.path.isdir(self._os_path(name))

    def exists(self, name: str) -> bool:
        """Is there a file at this service-relative path? (One listing per folder, a stat only for names
        that are there.)"""
        if name not in self._files:
            parent, _, leaf = name.rpartition("/")
            self._files[name] = leaf in self.entries(parent) and os.path.isfile(self._os_path(name))
        return self._files[name]

    def text(self, name: str, *, limit: int = 2_000_000) -> str | None:
        """The file's text (UTF-8, BOM dropped, undecodable bytes replaced), or None when absent."""
        if name not in self._text:
            try:
                data = self.path(name).read_bytes()[:limit] if self.exists(name) else None
            except OSError as exc:
                self.findings.append(finding(self.rel(name), 0, "unreadable",
                                             f"cannot read {self.rel(name)}: {exc.strerror or exc}; make it readable"))
                data = None
            self._text[name] = None if data is None else data.decode("utf-8", "replace").removeprefix("\ufeff")
        return self._text[name]

    def lines(self, name: str) -> list[str]:
        text = self.text(name)
        return text.splitlines() if text is not None else []

    def toml(self, name: str, *, report: bool = True) -> dict[str, Any] | None:
        """The parsed TOML file; None when absent or invalid (a Finding unless `report` is off, for
        files whose manifest reader already reports their syntax)."""
        if name not in self._toml:
            text = self.text(name)
            data: dict[str, Any] | None = None
            if text is not None:
                import tomllib  # (it imports datetime: only a service with TOML files needs it)

                try:
                    data = tomllib.loads(text)
                except tomllib.TOMLDecodeError as exc:
                    if report:
                        line = _line_from(str(exc))
                        self.findings.append(finding(self.rel(name), line, "invalid-toml",
                                                     f"{self.rel(name)}: invalid TOML ({exc}); fix the syntax"
                                                     + (f" at line {line}" if line else "")))
                except RecursionError:
                    if report:
                        self.findings.append(finding(self.rel(name), 0, "invalid-toml",
                                                     f"{self.rel(name)}: too deeply nested to parse; flatten the "
                                                     "nested arrays and tables"))
            self._toml[name] = data
        return self._toml[name]

    def ini(self, name: str, text: str | None = None, *, label: str = "") -> configparser.RawConfigParser | None:
        """The parsed INI file (or `text` standing for it); None when absent or invalid (a Finding)."""
        key = label or name
        if key not in self._ini:
            text = self.text(name) if text is None else text
            parser: configparser.RawConfigParser | None = None
            if text is not None:
                parser = configparser.RawConfigParser(strict=False, delimiters=("=", ":"),
                                                      comment_prefixes=("#", ";"), inline_comment_prefixes=None)
                parser.optionxform = str  # type: ignore[assignment,method-assign]
                try:
                    parser.read_string(text, source=self.rel(name))
                except configparser.Error as exc:
                    line = getattr(exc, "lineno", 0) or 0
                    where = f"{self.rel(name)}{' ' + label if label else ''}"
                    self.findings.append(finding(self.rel(name), line, "invalid-ini",
                                                 f"{where}: cannot read it as INI ({_first_line(exc)}); fix the section "
                                                 "headers and key = value lines"))
                    parser = None
            self._ini[key] = parser
        return self._ini[key]

    def yaml_nodes(self, name: str) -> yaml.Node | None:
        """The YAML file as composed nodes (they keep line numbers and the text of every scalar, so "3.10"
        stays "3.10"); None when absent or invalid (a Finding)."""
        text = self.text(name)
        if text is None:
            return None
        import yaml  # a service without YAML files never needs it

        try:
            return yaml.compose(text, Loader=_loader())
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 0
            self.findings.append(finding(self.rel(name), line, "invalid-yaml",
                                         f"{self.rel(name)}: invalid YAML ({_first_line(exc)}); fix the syntax"
                                         + (f" at line {line}" if line else "")))
            return None

    def listdir(self, name: str = "") -> list[str]:
        return sorted(self.entries(name))


@functools.cache
def _loader() -> type[yaml.SafeLoader]:
    import yaml

    class _Loader(yaml.SafeLoader):
        """A safe loader for composing nodes; GitHub's `on:` stays a plain key whatever YAML 1.1 says."""

    return _Loader


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _line_from(message: str) -> int:
    m = re.search(r"line (\d+)", message)
    return int(m.group(1)) if m else 0


# --- YAML nodes -----------------------------------------------------------------------------------


def mapping(node: yaml.Node | None) -> dict[str, yaml.Node]:
    """A mapping node's items by scalar key (later keys win, as YAML loaders do)."""
    if node is None:  # (a node is composed by yaml_nodes, which imported yaml)
        return {}
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return {}
    return {k.value: v for k, v in node.value if isinstance(k, yaml.ScalarNode)}


def sequence(node: yaml.Node | None) -> list[yaml.Node]:
    if node is None:
        return []
    import yaml

    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def scalar(node: yaml.Node | None) -> str | None:
    if node is None:
        return None
    import yaml

    return str(node.value) if isinstance(node, yaml.ScalarNode) else None


def line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def scalars(node: yaml.Node | None) -> Iterator[yaml.ScalarNode]:
    """The scalars of a scalar or a list of scalars."""
    if node is None:
        return
    import yaml

    if isinstance(node, yaml.ScalarNode):
        yield node
    for item in sequence(node):
        if isinstance(item, yaml.ScalarNode):
            yield item


# --- text positions ---------------------------------------------------------------------------------


_TABLE_RE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


def toml_line(text: str | None, table: str, key: str) -> int:
    """The line (1-based) of `key = ...` inside `[table]` of a TOML text (0 when not found). Dotted keys
    written inline (`tool.poetry.dependencies.python`) are found by their last part under the nearest table."""
    if not text:
        return 0
    current = ""
    key_re = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    fallback = 0
    for i, raw in enumerate(text.splitlines(), 1):
        m = _TABLE_RE.match(raw)
        if m:
            current = m.group(1).replace('"', "").replace("'", "").replace(" ", "")
            continue
        if key_re.match(raw):
            if current == table:
                return i
            fallback = fallback or i
    return fallback


def find_line(text: str | None, needle: str, start: int = 0) -> int:
    """The first line (1-based) containing `needle`, from line `start`; 0 when absent."""
    if not text or not needle:
        return 0
    for i, raw in enumerate(text.splitlines(), 1):
        if i >= start and needle in raw:
            return i
    return 0


def ini_line(text: str | None, section: str, key: str) -> int:
    """The line of `key =` inside `[section]` of an INI text; 0 when absent."""
    if not text:
        return 0
    current = ""
    for i, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if stripped.startswith("[") and stripped.endswith("]") and not raw[:1].isspace():
            current = stripped[1:-1].strip()
            continue
        if current == section and re.match(rf"^{re.escape(key)}\s*[=:]", raw):
            return i
    return 0


def dig(data: Any, *keys: str) -> Any:
    """`data[k1][k2]...` through nested tables, or None where a level is missing or not a table."""
    for k in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(k)
    return data
