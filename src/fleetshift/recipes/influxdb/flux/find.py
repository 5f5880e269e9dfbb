"""Flux found by its own syntax, on the standard `ast` only: string literals and f-strings that start a Flux
pipeline anywhere in a module, paths of `.flux` files a module loads, the service's own wrapper functions
that hand a query to influxdb-client, and the record keys the code around a query reads."""

from __future__ import annotations

import ast
import posixpath
import re
from bisect import bisect_left
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from fleetshift.recipes.influxdb.facts import module_nodes
from fleetshift.recipes.influxdb.flux.lexer import hole

FLUX_START = re.compile(r"(?:^|\n)\s*(?:import\s+\"[^\"]*\"\s*)*(?:from\s*\(\s*bucket\s*:|buckets\s*\(\s*\))")
PIPE = re.compile(r"(?:^|\n)\s*\|>\s*[A-Za-z_][\w.]*\s*\(")
QUERY_METHODS = ("query", "query_stream", "query_data_frame")
TIME_HOLE = re.compile(r"isoformat\(|strftime\(|:%|rfc3339", re.IGNORECASE)
META_KEYS = ("_start", "_stop", "result", "table")


@dataclass(frozen=True)
class FluxString:
    """A Python string expression holding Flux: its span, its text with f-string holes as sentinels, the
    source of each hole, and the holes that hold RFC3339 times."""

    line: int
    col: int
    end_line: int
    end_col: int
    text: str
    holes: tuple[str, ...]
    time_holes: tuple[str, ...]
    function: str  # the enclosing function's name ("" at module level)
    keys: tuple[str, ...]  # record keys read in the enclosing function
    extended: str = ""  # how the code changes the text at run time (`query += ...`, `.format()`), if it does
    node: int = field(default=0, compare=False)  # id() of the ast node, for the per-node checks

    @property
    def fragment(self) -> bool:
        """A piece of a pipeline (`|> filter(...)`) joined to others at run time, not a whole query."""
        return FLUX_START.search(self.text) is None


@dataclass(frozen=True)
class FluxPath:
    """A string naming a `.flux` file (or a pattern of them, `f"{name}.flux"`) in a module."""

    line: int
    col: int
    end_line: int
    end_col: int
    pattern: str  # the path with each hole as `*`
    function: str
    keys: tuple[str, ...]
    node: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Wrapper:
    """A function of the service that passes its parameter to an influxdb-client query call."""

    name: str
    param: str
    method: str  # query | query_stream | query_data_frame
    line: int  # the query call's line
    function: ast.FunctionDef | ast.AsyncFunctionDef
    call: ast.Call


LINE = re.compile(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+")  # a line with its end, as `ast.get_source_segment` splits


@lru_cache(maxsize=4)
def _lines(source: str) -> list[str]:
    """A module's lines, split once per module (not once per f-string hole)."""
    return LINE.findall(source)


def source_segment(source: str, node: ast.AST) -> str:
    """`ast.get_source_segment(source, node) or ast.unparse(node)`, on lines split once per module."""
    end_line, end_col = getattr(node, "end_lineno", None), getattr(node, "end_col_offset", None)
    if end_line is None or end_col is None:
        return ast.unparse(node)
    lines = _lines(source)
    line, col = node.lineno - 1, node.col_offset  # type: ignore[attr-defined]
    if line == end_line - 1:
        return lines[line].encode()[col:end_col].decode() or ast.unparse(node)
    first = lines[line].encode()[col:].decode()
    last = lines[end_line - 1].encode()[:end_col].decode()
    return "".join([first, *lines[line + 1 : end_line - 1], last]) or ast.unparse(node)


def _template(node: ast.expr, source: str) -> tuple[str, tuple[str, ...]] | None:
    """Text with hole sentinels and the holes' source for a str constant, f-string or `+` of them."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value, ()
    if isinstance(node, ast.JoinedStr):
        parts: list[str] = []
        holes: list[str] = []
        for v in node.values:
            if isinstance(v, ast.Constant):
                parts.append(str(v.value))
            elif isinstance(v, ast.FormattedValue):
                code = source_segment(source, v.value)
                if v.conversion != -1:
                    code += "!" + chr(v.conversion)
                if v.format_spec is not None:
                    spec = _template(v.format_spec, source)
                    code += ":" + (spec[0] if spec else "")
                parts.append(hole(len(holes)))
                holes.append(code)
        return "".join(parts), tuple(holes)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _template(node.left, source), _template(node.right, source)
        if left is None or right is None:
            return None
        shift = len(left[1])
        text = re.sub("\x00(\\d+)\x01", lambda m: hole(int(m.group(1)) + shift), right[0])
        return left[0] + text, left[1] + right[1]
    return None


def might_hold_flux(source: str) -> bool:
    """The cheap test before any Flux is looked for in a module's source: a Flux string holds `|>` or the word
    `bucket` (`from(bucket:`, `buckets()`), and so does the source that spells it."""
    return "|>" in source or "bucket" in source


def is_flux(text: str) -> bool:
    """Whether text starts a Flux pipeline (`from(bucket:`, `buckets()`) or is a piece of one (`|> f(`)."""
    return FLUX_START.search(text) is not None or PIPE.search(text) is not None


class _Scopes(ast.NodeVisitor):
    def __init__(self) -> None:
        self.function_of: dict[int, ast.FunctionDef | ast.AsyncFunctionDef | None] = {}
        self.stack: list[ast.FunctionDef | ast.AsyncFunctionDef | None] = [None]

    def generic_visit(self, node: ast.AST) -> None:
        self.function_of[id(node)] = self.stack[-1]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            self.stack.append(node)
            super().generic_visit(node)
            self.stack.pop()
        else:
            super().generic_visit(node)


def record_keys(fn: ast.AST | None) -> tuple[str, ...]:
    """String keys read from loop variables (`row["room"]`, `row.get("room")`) and from `record.values[...]`
    in a function: what the code there reads of query rows."""
    if fn is None:
        return ()
    loop_vars: set[str] = set()
    for node in ast.walk(fn):
        if isinstance(node, ast.For | ast.comprehension) and isinstance(node.target, ast.Name):
            loop_vars.add(node.target.id)
    keys: list[str] = []

    def rowish(value: ast.expr) -> bool:
        if isinstance(value, ast.Name):
            return value.id in loop_vars
        return isinstance(value, ast.Attribute) and value.attr == "values"

    for node in ast.walk(fn):
        key = None
        if isinstance(node, ast.Subscript) and rowish(node.value):
            if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
                key = node.slice.value
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and rowish(node.func.value)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            key = node.args[0].value
        if key is not None and key not in keys:
            keys.append(key)
    return tuple(keys)


def _extended(node: ast.expr, parents: dict[int, ast.AST], fn: ast.AST | None) -> str:
    """How code changes a string at run time: joined to a value, formatted, or appended to after assignment."""
    if fn is not None and any(
        isinstance(n, ast.Constant) and isinstance(n.value, str) and "/api/v2/query" in n.value
        for n in ast.walk(fn)
    ):
        return "sent to InfluxDB 2's /api/v2/query over HTTP: post the SQL to /api/v3/query_sql by hand"
    par = parents.get(id(node))
    if isinstance(par, ast.BinOp) and isinstance(par.op, ast.Add | ast.Mod):
        return "the query is joined to other text at run time"
    if isinstance(par, ast.Attribute) and par.attr in ("format", "format_map", "replace"):
        return f"the query is changed with .{par.attr}() at run time"
    if isinstance(par, ast.Assign) and len(par.targets) == 1 and isinstance(par.targets[0], ast.Name):
        name = par.targets[0].id
        for n in ast.walk(fn if fn is not None else parents.get(id(par)) or par):
            if isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Name) and n.target.id == name:
                return f"the query is extended at run time (`{name} += ...`)"
    return ""


def _hot_lines(source: str) -> list[int]:
    """The numbers of the lines that spell `|>` or `bucket` (see `might_hold_flux`), in order."""
    return [n for n, line in enumerate(_lines(source), 1) if "|>" in line or "bucket" in line]


_UNSPANNED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)  # their decorators stand above their first line


def _spells(node: ast.AST, hot: list[int]) -> bool:
    """Whether a node may hold a Flux string: its lines spell `|>` or `bucket` (as the whole source must, see
    `might_hold_flux`). A statement or expression holds its children within its lines, but for the decorators of
    a def or class; any other node is looked into."""
    if not isinstance(node, ast.stmt | ast.expr) or isinstance(node, _UNSPANNED):
        return True
    end = node.end_lineno
    if end is None:
        return True
    i = bisect_left(hot, node.lineno)
    return i < len(hot) and hot[i] <= end


def flux_strings(tree: ast.Module, source: str) -> Iterator[FluxString]:
    """Every outermost string expression of the module that holds Flux (in source order, outer first)."""
    if not might_hold_flux(source):
        return
    hot = _hot_lines(source)
    keys_cache: dict[int, tuple[str, ...]] = {}
    parents: dict[int, ast.AST] = {}
    todo: list[tuple[ast.AST, ast.FunctionDef | ast.AsyncFunctionDef | None]] = [(tree, None)]
    while todo:  # one pre-order walk: the enclosing function and the parents are known on the way down
        node, fn = todo.pop()
        if isinstance(node, ast.expr) and not isinstance(node, ast.Name | ast.Attribute | ast.Call):
            t = _template(node, source)
            if t is not None:  # a string expression: Flux or not, nothing inside it is another one
                text, holes = t
                if is_flux(text):
                    if id(fn) not in keys_cache:
                        keys_cache[id(fn)] = record_keys(fn)
                    yield FluxString(
                        node.lineno,
                        node.col_offset,
                        node.end_lineno or node.lineno,
                        node.end_col_offset or 0,
                        text,
                        holes,
                        tuple(hole(i) for i, h in enumerate(holes) if TIME_HOLE.search(h)),
                        fn.name if fn is not None else "",
                        keys_cache[id(fn)],
                        _extended(node, parents, fn),
                        id(node),
                    )
                continue
        inner = node if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) else fn
        children = [child for child in ast.iter_child_nodes(node) if _spells(child, hot)]
        for child in children:
            parents[id(child)] = node
        todo.extend((child, inner) for child in reversed(children))


def flux_paths(tree: ast.Module, source: str) -> Iterator[FluxPath]:
    """String literals and f-strings naming `.flux` files."""
    if ".flux" not in source:
        return
    scopes = _Scopes()
    scopes.visit(tree)
    inner = {id(v) for n in module_nodes(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    compared = {
        id(c) for n in module_nodes(tree) if isinstance(n, ast.Compare) for c in (n.left, *n.comparators)
    }
    inner |= compared  # `"vnd.flux" in content_type` names no file
    for node in module_nodes(tree):
        if not isinstance(node, ast.Constant | ast.JoinedStr) or id(node) in inner:
            continue
        if isinstance(node, ast.Constant) and not isinstance(node.value, str):
            continue
        t = _template(node, source)
        if t is None or not t[0].endswith(".flux") or "\n" in t[0] or " " in t[0]:
            continue
        if re.match(r"(application|text)/", t[0]):  # a media type (application/vnd.flux), not a file
            continue
        fn = scopes.function_of.get(id(node))
        yield FluxPath(
            node.lineno,
            node.col_offset,
            node.end_lineno or node.lineno,
            node.end_col_offset or 0,
            re.sub("\x00\\d+\x01", "*", t[0]),
            fn.name if fn is not None else "",
            record_keys(fn),
            id(node),
        )


def flux_files(pattern: str, module_path: str, files: Mapping[str, str]) -> list[str]:
    """The service's `.flux` files a path pattern from `module_path` may name: relative to the module's folder,
    to any folder above it, or (a bare name) anywhere in the service."""
    name_re = re.compile("(?:^|/)" + ".*".join(map(re.escape, pattern.lstrip("./").split("*"))) + "$")
    found = [p for p in files if p.endswith(".flux") and name_re.search(p)]
    if "/" not in pattern.lstrip("./"):
        return sorted(found)
    here = posixpath.dirname(module_path)
    near = [p for p in found if p.startswith(here.rsplit("/", 2)[0])]
    return sorted(near or found)


def parameter_aliases(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, str]:
    """Each name in `fn` bound to one of its parameters (but `self` and `cls`), directly or through a plain
    assignment, mapped to that parameter."""
    params = [a.arg for a in (*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs)]
    alias = {p: p for p in params if p not in ("self", "cls")}
    for node in ast.walk(fn):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Name) and node.value.id in alias:
            for t in node.targets:
                if isinstance(t, ast.Name):
                    alias[t.id] = alias[node.value.id]
    return alias


def wrappers(tree: ast.Module) -> Iterator[Wrapper]:
    """Functions whose parameter (or a name assigned from it) reaches `X.query(...)`-like calls.

    Only a function holding such a call is walked: the calls are found once in the module's node list, and a
    function holds one when the call's span lies in the function's (decorators included), as a node's span lies in
    its parent's and never across a sibling's."""
    nodes = module_nodes(tree)
    calls = [
        (n.lineno, n.col_offset, n.end_lineno or n.lineno, n.end_col_offset or 0)
        for n in nodes
        if n.__class__ is ast.Call and n.func.__class__ is ast.Attribute and n.func.attr in QUERY_METHODS  # type: ignore[attr-defined]
    ]
    if not calls:
        return
    for fn in nodes:
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        start = min([(fn.lineno, fn.col_offset), *((d.lineno, d.col_offset) for d in fn.decorator_list)])
        end = (fn.end_lineno or fn.lineno, fn.end_col_offset or 0)
        if not any(start <= (c[0], c[1]) and (c[2], c[3]) <= end for c in calls):
            continue
        alias = parameter_aliases(fn)
        for node in ast.walk(fn):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in QUERY_METHODS
            ):
                continue
            arg = (
                node.args[0]
                if node.args
                else next((k.value for k in node.keywords if k.arg == "query"), None)
            )
            if isinstance(arg, ast.Name) and arg.id in alias:
                yield Wrapper(fn.name, alias[arg.id], node.func.attr, node.lineno, fn, node)
                break
