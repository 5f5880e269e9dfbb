"""pytest configuration for the pytest recipes: find the active config file, read and edit its keys.

pytest reads one config file and never merges (pytest 9 `customize.rst`): `pytest.toml` > `.pytest.toml` >
`pytest.ini` > `.pytest.ini` > `pyproject.toml` (`[tool.pytest]` or `[tool.pytest.ini_options]`) > `tox.ini`
`[pytest]` > `setup.cfg` `[tool:pytest]`. INI files are edited line by line (comments and layout kept),
TOML files with tomlkit. The module also holds the small LibCST and `ast` helpers both pytest recipes share.
"""

from __future__ import annotations

import ast
import re
import shlex
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TypeGuard

import libcst as cst
import tomlkit
from libcst.helpers import get_full_name_for_node

from fleetshift.recipes._ast import Imports, decorator_calls
from fleetshift.recipes.base import ConfigKind, config_kind

SCOPES = ("function", "class", "module", "package", "session")  # fixture scopes, narrowest first
WIDE = frozenset(SCOPES[1:])

# file name -> rank; lower wins
_PRECEDENCE = {
    "pytest.toml": 0,
    ".pytest.toml": 1,
    "pytest.ini": 2,
    ".pytest.ini": 3,
    "pyproject.toml": 4,
    "tox.ini": 5,
    "setup.cfg": 6,
}
_INI_SECTION = {
    "pytest.ini": "pytest",
    ".pytest.ini": "pytest",
    "tox.ini": "pytest",
    "setup.cfg": "tool:pytest",
}

_HEADER = re.compile(r"^\[([^\]]*)\]")
_KEYLINE = re.compile(r"^([^\s=:#;\[][^=:]*?)\s*[=:]\s?(.*?)\s*$")


def _name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _dir(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


# ---- INI ------------------------------------------------------------------------------------------


@dataclass
class _Block:
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


def _ini_span(lines: list[str], section: str) -> tuple[int, int] | None:
    """Line index of `[section]` and the index where the section ends."""
    start = None
    for i, line in enumerate(lines):
        m = _HEADER.match(line)
        if not m:
            continue
        if start is not None:
            return start, i
        if m.group(1).strip() == section:
            start = i
    return (start, len(lines)) if start is not None else None


def _ini_blocks(lines: list[str], start: int, end: int) -> list[_Block]:
    blocks: list[_Block] = []
    for i in range(start + 1, end):
        raw = lines[i].rstrip("\r\n")
        stripped = raw.strip()
        if raw and not raw[0].isspace() and stripped and stripped[0] not in "#;":
            m = _KEYLINE.match(raw)
            if m:
                blocks.append(_Block(m.group(1).strip(), i, i + 1, m.group(2), []))
            continue
        if blocks and raw[:1].isspace() and stripped:
            b = blocks[-1]
            if b.end == i or all(
                not lines[j].strip() or lines[j].strip()[0] in "#;" for j in range(b.end, i)
            ):
                b.more.append((i, stripped))
                b.end = i + 1
    return blocks


def _ini_values(text: str, section: str) -> dict[str, str] | None:
    lines = text.splitlines(keepends=True)
    span = _ini_span(lines, section)
    if span is None:
        return None
    return {b.key: b.value for b in _ini_blocks(lines, *span)}


# ---- TOML -----------------------------------------------------------------------------------------


def _toml_table(doc: tomlkit.TOMLDocument, section: str) -> object | None:
    node: object = doc
    for part in section.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node if isinstance(node, dict) else None


def _toml_sections(path: str, text: str) -> list[str]:
    try:
        doc = tomlkit.parse(text)
    except Exception:
        return []
    if _name(path) in ("pytest.toml", ".pytest.toml"):
        return ["pytest"] if _toml_table(doc, "pytest") is not None else []
    out = []
    pyt = _toml_table(doc, "tool.pytest")
    if isinstance(pyt, dict):
        if any(k != "ini_options" for k in pyt):
            out.append("tool.pytest")
        if "ini_options" in pyt:
            out.append("tool.pytest.ini_options")
    return out


# ---- the config record ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PytestConfig:
    """The pytest settings of one file: where they live and their raw values."""

    path: str
    kind: ConfigKind
    section: str  # "pytest", "tool:pytest", "tool.pytest", "tool.pytest.ini_options"
    values: Mapping[str, object] = field(default_factory=dict)

    @property
    def native(self) -> bool:
        """True for pytest 9's typed TOML tables (`[tool.pytest]`, `pytest.toml`)."""
        return self.kind == "pytest.toml" or self.section == "tool.pytest"

    def get(self, key: str) -> object | None:
        return self.values.get(key)

    def args(self, key: str = "addopts") -> list[str]:
        """An args-typed option (addopts) as a token list."""
        value = self.values.get(key)
        if isinstance(value, list):
            return [str(v) for v in value]
        if isinstance(value, str):
            try:
                return shlex.split(value)
            except ValueError:
                return value.split()
        return []

    def lines(self, key: str) -> list[str]:
        """A linelist option (filterwarnings, markers) as its entries."""
        value = self.values.get(key)
        if isinstance(value, list):
            return [str(v) for v in value]
        if isinstance(value, str):
            return [v.strip() for v in value.splitlines() if v.strip()]
        return []


def sections(path: str, text: str) -> list[str]:
    """The pytest sections present in one config file."""
    kind = config_kind(path)
    if kind in ("pyproject.toml", "pytest.toml"):
        return _toml_sections(path, text)
    if kind is None:
        return []
    section = _INI_SECTION[_name(path)]
    return [section] if _ini_span(text.splitlines(keepends=True), section) else []


def read(path: str, text: str) -> PytestConfig | None:
    """The pytest config in one file, or None when the file has none."""
    kind = config_kind(path)
    if kind is None:
        return None
    found = sections(path, text)
    if not found:
        if _name(path) in ("pytest.ini", ".pytest.ini"):  # active even without a [pytest] section
            return PytestConfig(path, kind, "pytest", {})
        return None
    section = found[0]
    if kind in ("pyproject.toml", "pytest.toml"):
        table = _toml_table(tomlkit.parse(text), section)
        values = {k: v for k, v in dict(table or {}).items() if k != "ini_options"}
        return PytestConfig(path, kind, section, tomlkit.item(values).unwrap() if values else {})
    return PytestConfig(path, kind, section, _ini_values(text, section) or {})


def candidates(files: Mapping[str, str], root: str) -> list[PytestConfig]:
    """Every pytest config of a service, the active one first (shallowest folder, then precedence)."""
    prefix = f"{root}/" if root else ""
    found = []
    for path, text in files.items():
        if not path.startswith(prefix) or _name(path) not in _PRECEDENCE:
            continue
        cfg = read(path, text)
        if cfg is not None:
            found.append(cfg)
    found.sort(key=lambda c: (c.path.count("/"), _PRECEDENCE[_name(c.path)]))
    return found


def active(files: Mapping[str, str], root: str) -> PytestConfig | None:
    """The config file pytest uses for a service rooted at `root`, or None when there is none."""
    found = candidates(files, root)
    return found[0] if found else None


def asyncio_mode(cfg: PytestConfig | None) -> str:
    """The effective pytest-asyncio mode: `--asyncio-mode` in addopts, else the key, else strict."""
    if cfg is None:
        return "strict"
    args = cfg.args()
    mode = None
    for i, tok in enumerate(args):
        if tok.startswith("--asyncio-mode="):
            mode = tok.split("=", 1)[1]
        elif tok == "--asyncio-mode" and i + 1 < len(args):
            mode = args[i + 1]
    if mode is None:
        value = cfg.get("asyncio_mode")
        mode = str(value).strip() if value is not None else "strict"
    return mode or "strict"


# ---- editing --------------------------------------------------------------------------------------


def _toml_value_table(doc: tomlkit.TOMLDocument, cfg: PytestConfig):
    return _toml_table(doc, cfg.section)


def set_key(cfg: PytestConfig, text: str, key: str, value: str) -> str:
    """`text` of cfg's file with `key = value` set in its pytest section (replaced, or added at its end)."""
    if cfg.kind in ("pyproject.toml", "pytest.toml"):
        doc = tomlkit.parse(text)
        table = _toml_value_table(doc, cfg)
        if table is None:
            return text
        if table.get(key) == value:
            return text
        table[key] = value
        return tomlkit.dumps(doc)
    nl = _newline(text)
    lines = text.splitlines(keepends=True)
    span = _ini_span(lines, cfg.section)
    if span is None:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += nl
        if lines and lines[-1].strip():
            lines.append(nl)
        lines += [f"[{cfg.section}]{nl}", f"{key} = {value}{nl}"]
        return "".join(lines)
    blocks = _ini_blocks(lines, *span)
    for b in blocks:
        if b.key == key:
            if b.value.strip() == value:
                return text
            lines[b.start : b.end] = [f"{key} = {value}{nl}"]
            return "".join(lines)
    at = blocks[-1].end if blocks else span[0] + 1
    if at > 0 and not lines[at - 1].endswith("\n"):
        lines[at - 1] += nl
    lines.insert(at, f"{key} = {value}{nl}")
    return "".join(lines)


def new_config(root: str, files: Mapping[str, str]) -> tuple[str, str, PytestConfig]:
    """Where to put pytest settings for a service that has none: pyproject.toml's
    `[tool.pytest.ini_options]` when it has a pyproject.toml, else a new pytest.ini. Returns path, text, cfg."""
    prefix = f"{root}/" if root else ""
    pyproject = f"{prefix}pyproject.toml"
    if pyproject in files:
        text = files[pyproject]
        nl = _newline(text)
        sep = "" if not text or text.endswith(nl + nl) else (nl if text.endswith(nl) else nl + nl)
        text = f"{text}{sep}[tool.pytest.ini_options]{nl}"
        return pyproject, text, PytestConfig(pyproject, "pyproject.toml", "tool.pytest.ini_options", {})
    path = f"{prefix}pytest.ini"
    return path, "[pytest]\n", PytestConfig(path, "pytest.ini", "pytest", {})


def filter_lines(cfg: PytestConfig, text: str, key: str, drop: Callable[[str], bool]) -> str:
    """Remove the entries of a linelist option (filterwarnings) for which `drop` is true."""
    if cfg.kind in ("pyproject.toml", "pytest.toml"):
        doc = tomlkit.parse(text)
        table = _toml_value_table(doc, cfg)
        if table is None or key not in table:
            return text
        value = table[key]
        if isinstance(value, str):
            if not drop(value):
                return text
            del table[key]
        else:
            idx = [i for i, v in enumerate(value) if drop(str(v))]
            if not idx:
                return text
            if len(idx) == len(value):
                del table[key]
            else:
                for i in reversed(idx):
                    del value[i]
        return tomlkit.dumps(doc)
    lines = text.splitlines(keepends=True)
    span = _ini_span(lines, cfg.section)
    if span is None:
        return text
    for b in _ini_blocks(lines, *span):
        if b.key != key:
            continue
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
            nl = _newline(text)
            lines[b.start] = f"{key} ={nl}"
        return "".join(lines)
    return text


def sub_args(cfg: PytestConfig, text: str, key: str, pattern: re.Pattern[str], repl: str) -> str:
    """Apply a regex substitution to an args option (addopts), keeping the rest of its text."""

    def fix(s: str) -> str:
        return re.sub(r"[ \t]{2,}", " ", pattern.sub(repl, s)).strip() if pattern.search(s) else s

    if cfg.kind in ("pyproject.toml", "pytest.toml"):
        doc = tomlkit.parse(text)
        table = _toml_value_table(doc, cfg)
        if table is None or key not in table:
            return text
        value = table[key]
        if isinstance(value, str):
            new = fix(str(value))
            if new == value:
                return text
            table[key] = new
        else:
            joined = " ".join(shlex.quote(str(v)) for v in value)
            new = fix(joined)
            if new == joined:
                return text
            arr = tomlkit.array()
            arr.extend(shlex.split(new))
            table[key] = arr
        return tomlkit.dumps(doc)
    lines = text.splitlines(keepends=True)
    span = _ini_span(lines, cfg.section)
    if span is None:
        return text
    for b in _ini_blocks(lines, *span):
        if b.key != key:
            continue
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
    return text


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing `needle`, or 0."""
    for n, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return n
    return 0


def ini_lines(text: str) -> Iterator[tuple[int, str, str]]:
    """(1-based line, section, stripped line) for every line of an INI file."""
    section = ""
    for n, raw in enumerate(text.splitlines(), 1):
        m = _HEADER.match(raw)
        if m:
            section = m.group(1).strip()
        yield n, section, raw.strip()


# ---- shared LibCST helpers ------------------------------------------------------------------------


class ImportMap:
    """Local names bound by a module's top-level imports, to resolve `mark.asyncio` to `pytest.mark.asyncio`."""

    def __init__(self, module: cst.Module) -> None:
        self.names: dict[str, str] = {}
        for stmt in module.body:
            if not isinstance(stmt, cst.SimpleStatementLine):
                continue
            for small in stmt.body:
                if isinstance(small, cst.Import):
                    for alias in small.names:
                        full = get_full_name_for_node(alias.name) or ""
                        if alias.asname and isinstance(alias.asname.name, cst.Name):
                            self.names[alias.asname.name.value] = full
                        else:
                            top = full.split(".")[0]
                            self.names.setdefault(top, top)
                elif isinstance(small, cst.ImportFrom) and not small.relative and small.module is not None:
                    mod = get_full_name_for_node(small.module) or ""
                    if isinstance(small.names, cst.ImportStar):
                        continue
                    for alias in small.names:
                        name = get_full_name_for_node(alias.name) or ""
                        local = (
                            alias.asname.name.value
                            if alias.asname and isinstance(alias.asname.name, cst.Name)
                            else name
                        )
                        self.names[local] = f"{mod}.{name}"

    def qualname(self, node: cst.CSTNode) -> str | None:
        """The dotted name a Name/Attribute chain refers to through the imports, or None."""
        full = get_full_name_for_node(node)
        if not full:
            return None
        head, _, rest = full.partition(".")
        if head not in self.names:
            return None
        base = self.names[head]
        return f"{base}.{rest}" if rest else base


def callee(dec: cst.Decorator | cst.BaseExpression) -> tuple[cst.BaseExpression, cst.Call | None]:
    """A decorator's (or expression's) callee and the Call when it is called."""
    expr = dec.decorator if isinstance(dec, cst.Decorator) else dec
    if isinstance(expr, cst.Call):
        return expr.func, expr
    return expr, None


FIXTURE_NAMES = {"pytest.fixture", "pytest_asyncio.fixture", "pytest.yield_fixture"}


def ast_fixture_call(fn: ast.FunctionDef | ast.AsyncFunctionDef, imports: Imports) -> ast.Call | bool | None:
    """The `ast` fixture decorator's Call, True for a bare fixture decorator, None when `fn` is not a fixture."""
    for func, call in decorator_calls(fn):
        if imports.qualname(func) in FIXTURE_NAMES:
            return call if call is not None else True
    return None


def fixture_decorator(fn: cst.FunctionDef, imports: ImportMap) -> tuple[int, str, cst.Call | None] | None:
    """(index, qualified name, call) of a function's fixture decorator, or None."""
    for i, dec in enumerate(fn.decorators):
        func, call = callee(dec)
        q = imports.qualname(func)
        if q in FIXTURE_NAMES:
            return i, q, call
    return None


def kwarg(call: cst.Call | None, name: str) -> cst.Arg | None:
    if call is None:
        return None
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def kwarg_string(call: cst.Call | None, name: str) -> str | None:
    """The string literal given as keyword `name`, or None when absent or not a plain literal."""
    arg = kwarg(call, name)
    return string_value(arg.value) if arg is not None else None


def string_value(expr: cst.BaseExpression | None) -> str | None:
    """The value of a plain string literal, or None."""
    if isinstance(expr, cst.SimpleString):
        try:
            value = expr.evaluated_value
        except Exception:
            return None
        return value if isinstance(value, str) else None
    return None


def is_pytestmark(node: cst.CSTNode) -> TypeGuard[cst.Assign]:
    """`pytestmark = ...` with a single target."""
    return (
        isinstance(node, cst.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0].target, cst.Name)
        and node.targets[0].target.value == "pytestmark"
    )


def without_decorator(fn: cst.FunctionDef, imports: ImportMap, qualname: str) -> cst.FunctionDef:
    """`fn` without the decorators that resolve to `qualname` (the same node when there are none)."""
    kept = [d for d in fn.decorators if imports.qualname(callee(d)[0]) != qualname]
    return fn.with_changes(decorators=kept) if len(kept) != len(fn.decorators) else fn


def drop_param(fn: cst.FunctionDef, name: str) -> cst.FunctionDef:
    """`fn` without its parameter `name`; a removed last parameter hands its comma style to the new last."""
    params = fn.params
    for attr in ("params", "posonly_params", "kwonly_params"):
        seq = list(getattr(params, attr))
        for i, p in enumerate(seq):
            if p.name.value == name:
                del seq[i]
                if i == len(seq) and seq:
                    seq[-1] = seq[-1].with_changes(comma=p.comma)
                return fn.with_changes(params=params.with_changes(**{attr: seq}))
    return fn


def is_test_module(path: str) -> bool:
    """pytest's default `python_files`: test_*.py and *_test.py."""
    name = _name(path)
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


__all__ = [
    "FIXTURE_NAMES",
    "SCOPES",
    "WIDE",
    "ImportMap",
    "PytestConfig",
    "active",
    "ast_fixture_call",
    "asyncio_mode",
    "callee",
    "candidates",
    "drop_param",
    "filter_lines",
    "fixture_decorator",
    "ini_lines",
    "is_pytestmark",
    "is_test_module",
    "kwarg",
    "kwarg_string",
    "line_of",
    "new_config",
    "read",
    "sections",
    "set_key",
    "string_value",
    "sub_args",
    "without_decorator",
]


def with_kwarg(call: cst.Call, name: str, value: cst.BaseExpression) -> cst.Call:
    """`call` with the keyword argument `name=value` appended (or its value replaced), keeping layout."""
    args = list(call.args)
    for i, arg in enumerate(args):
        if arg.keyword is not None and arg.keyword.value == name:
            args[i] = arg.with_changes(value=value)
            return call.with_changes(args=args)
    new = cst.Arg(
        keyword=cst.Name(name),
        value=value,
        equal=cst.AssignEqual(
            whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
        ),
    )
    if not args:
        return call.with_changes(args=[new])
    last = args[-1]
    if isinstance(last.comma, cst.Comma):
        ws = call.whitespace_before_args
        sep = cst.Comma(
            whitespace_after=ws if isinstance(ws, cst.ParenthesizedWhitespace) else cst.SimpleWhitespace(" ")
        )
        args[-1] = last.with_changes(comma=sep)
        new = new.with_changes(comma=last.comma)
    else:
        args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    return call.with_changes(args=[*args, new])


def string_like(template: cst.BaseExpression | None, value: str) -> cst.SimpleString:
    """A string literal `value` quoted like `template` (double quotes by default)."""
    quote = '"'
    if isinstance(template, cst.SimpleString) and template.quote in ("'", '"'):
        quote = template.quote
    return cst.SimpleString(f"{quote}{value}{quote}")
