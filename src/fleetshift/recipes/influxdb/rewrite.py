"""LibCST rewriting of influxdb-client 1.x code to influxdb3-python.

`rewrite_module` runs three steps on one file: an analysis pass that finds clients, `write_api` /
`query_api` objects and how their results are read; a planning step that decides per site whether the
rewrite is certainly safe (otherwise a Finding); and a transformer that applies the plan. Imports are
fixed afterwards from what the new text still references.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import libcst as cst
from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider, QualifiedNameProvider

from fleetshift.recipes._ast import Imports
from fleetshift.recipes.influxdb import flux
from fleetshift.recipes.influxdb.errors import query_guards
from fleetshift.recipes.influxdb.hosts import normalise_host, url_shape
from fleetshift.recipes.influxdb.names import (
    CLIENT_NO_EQUIVALENT,
    QUERY_NO_EQUIVALENT,
    V3,
    V3_EXPORTS,
    V3_NAMES,
    is_v2_module,
)
from fleetshift.recipes.influxdb.receivers import Receivers
from fleetshift.recipes.influxdb.strings import Template, python_literal, template_of

WRITE_OPTION_KWARGS = ("write_options", "success_callback", "error_callback", "retry_callback")
RECORD_METHODS = {"get_value", "get_time", "get_field", "get_measurement"}


@dataclass
class Note:
    """A Finding to emit: rule slug, line, message."""

    rule: str
    line: int
    message: str


@dataclass
class ApiBinding:
    """A write_api/query_api object kept in a variable or attribute."""

    kind: str  # "write" | "query"
    key: tuple
    call: cst.Call  # the X.write_api(...) call
    client: cst.BaseExpression
    stmt: cst.SimpleStatementLine | None  # `W = X.write_api(...)` statement, None for `with ... as W`
    with_node: cst.With | None = None
    uses: list[cst.Attribute] = field(default_factory=list)  # `W.method` attribute nodes
    other_uses: int = 0
    collapse: bool = True
    keep_stmt: bool = False


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def _kw(name: str, value: cst.BaseExpression, like: cst.Arg | None = None) -> cst.Arg:
    eq = cst.AssignEqual(
        whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
    )
    if like is not None and like.keyword is not None and isinstance(like.equal, cst.AssignEqual):
        eq = like.equal
    arg = cst.Arg(value=value, keyword=cst.Name(name), equal=eq)
    if like is not None:
        arg = arg.with_changes(comma=like.comma, whitespace_after_arg=like.whitespace_after_arg)
    return arg


def _relayout(
    original: list[cst.Arg] | tuple[cst.Arg, ...], new: list[tuple[str | None, cst.BaseExpression]]
) -> list[cst.Arg]:
    """New arguments that borrow commas and line breaks from the original ones, slot by slot."""
    out: list[cst.Arg] = []
    for i, (name, value) in enumerate(new):
        if original:
            like = original[min(i, len(original) - 1)]
            if i == len(new) - 1:
                like = like.with_changes(comma=original[-1].comma)
            elif i >= len(original) - 1 and len(original) > 1:
                like = like.with_changes(comma=original[-2].comma)
            elif i >= len(original) - 1:
                like = like.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        else:
            like = None
        if name is None:
            arg = cst.Arg(value=value)
            if like is not None:
                arg = arg.with_changes(comma=like.comma, whitespace_after_arg=like.whitespace_after_arg)
            out.append(arg)
        else:
            out.append(_kw(name, value, like))
    if out and not original:
        out = [
            a.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) for a in out[:-1]
        ] + [out[-1]]
    return out


def _expr(code: str) -> cst.BaseExpression:
    return cst.parse_expression(code)


def _string_value(node: cst.BaseExpression | None) -> str | None:
    if isinstance(node, cst.SimpleString):
        v = node.evaluated_value
        return v if isinstance(v, str) else None
    return None


class _Analysis(cst.CSTVisitor):
    """Collects scopes, clients, write/query api objects and name references of one module."""

    METADATA_DEPENDENCIES = (PositionProvider, ParentNodeProvider, QualifiedNameProvider)

    def __init__(self) -> None:
        self.funcs: list[cst.FunctionDef | None] = [None]
        self.classes: list[cst.ClassDef | None] = [None]
        self.scope_of: dict[int, cst.FunctionDef | None] = {}
        self.class_of: dict[int, cst.ClassDef | None] = {}
        self.locals: dict[int, set[str]] = {0: set()}
        self.params: dict[int, set[str]] = {}
        self.names: list[cst.Name] = []
        self.self_attrs: list[cst.Attribute] = []
        self.attrs: list[cst.Attribute] = []
        self.param_nodes: list[cst.Param] = []
        self.calls: list[cst.Call] = []
        self.assigns: list[tuple[cst.CSTNode, cst.BaseExpression, cst.BaseExpression | None]] = []
        self.v2_import = False
        self.module_bindings: set[str] = set()

    def _fid(self) -> int:
        f = self.funcs[-1]
        return id(f) if f is not None else 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.funcs.append(node)
        self.locals[id(node)] = set()
        params = {
            p.name.value
            for p in (*node.params.params, *node.params.posonly_params, *node.params.kwonly_params)
        }
        self.params[id(node)] = params
        self.locals[id(node)] |= params

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.funcs.pop()

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes.append(node)

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes.pop()

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.scope_of[id(node)] = self.funcs[-1]
        self.class_of[id(node)] = self.classes[-1]
        return super().on_visit(node)

    def _bind(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self.locals[self._fid()].add(target.value)
            if self.funcs[-1] is None:
                self.module_bindings.add(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                self._bind(el.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            self._bind(t.target)
            self.assigns.append((node, t.target, node.value))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind(node.target)
        self.assigns.append((node, node.target, node.value))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind(node.asname.name)
            self.assigns.append((node, node.asname.name, node.item))

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind(node.target)

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            name = _code(alias.name)
            if name == "influxdb_client" or name.startswith("influxdb_client."):
                self.v2_import = True
            bound = alias.asname.name.value if alias.asname else name.split(".")[0]  # type: ignore[union-attr]
            self._bind(cst.Name(bound))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        mod = _code(node.module) if node.module else ""
        if mod == "influxdb_client" or mod.startswith("influxdb_client."):
            self.v2_import = True
        if not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                bound = alias.asname.name.value if alias.asname else _code(alias.name)  # type: ignore[union-attr]
                self._bind(cst.Name(bound))

    def visit_Name(self, node: cst.Name) -> None:
        self.names.append(node)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.attrs.append(node)
        if isinstance(node.value, cst.Name) and node.value.value in ("self", "cls"):
            self.self_attrs.append(node)

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(node)

    def visit_Param(self, node: cst.Param) -> None:
        self.param_nodes.append(node)


@dataclass
class Plan:
    """Node replacements keyed by id() of the original node, plus statements to drop."""

    replace: dict[int, Callable[[cst.CSTNode], cst.CSTNode | cst.RemovalSentinel | cst.FlattenSentinel]] = (
        field(default_factory=dict)
    )
    notes: list[Note] = field(default_factory=list)


class _Eager:
    """A metadata mapping whose values may be computed lazily."""

    def __init__(self, data: Mapping[cst.CSTNode, object]) -> None:
        self.data = data

    def __getitem__(self, node: cst.CSTNode):
        v = self.data[node]
        return v() if callable(v) else v

    def get(self, node: cst.CSTNode, default: object = None):
        try:
            return self[node]
        except KeyError:
            return default


class Rewriter:
    """Plans and applies the influxdb-client -> influxdb3-python rewrite of one module."""

    def __init__(
        self,
        text: str,
        service_buckets: frozenset[str] = frozenset(),
        bucket_attrs: frozenset[str] = frozenset(),
    ) -> None:
        self.text = text
        self.wrapper = MetadataWrapper(cst.parse_module(text))
        self.tree = ast.parse(text)
        self.imports = Imports(self.tree)
        self.module = self.wrapper.module
        self.a = _Analysis()
        self.wrapper.visit(self.a)
        self.pos = _Eager(self.wrapper.resolve(PositionProvider))
        self.parent = _Eager(self.wrapper.resolve(ParentNodeProvider))
        self.qn = _Eager(self.wrapper.resolve(QualifiedNameProvider))
        self.plan = Plan()
        self.service_buckets = service_buckets
        self.bucket_attrs = bucket_attrs
        self.template = Template("", ())  # the Flux template of the query whose consumers are planned
        self.bindings: dict[tuple, ApiBinding] = {}
        self.clients: dict[tuple, cst.Call] = {}
        self.bucket_exprs: list[tuple[cst.BaseExpression, str]] = []  # (node or parsed expr, code)
        self.write_client_opts: dict[int, list[tuple[ApiBinding | None, cst.Call]]] = {}
        self.need_timezone = False
        self.async_clients: set[tuple] = set()
        self.locked_ctor: set[int] = set()

    # ---- helpers -------------------------------------------------------------------------------

    def key_literal(self, text: str) -> str:
        """Source for a column name: a literal, or the f-string placeholder's expression (`record[field]`)."""
        return self.template.expression(text) if flux.HOLE_OPEN in text else python_literal(text)

    def line(self, node: cst.CSTNode) -> int:
        try:
            return self.pos[node].start.line
        except KeyError:
            return 0

    def note(self, rule: str, node: cst.CSTNode | int, message: str) -> None:
        line = node if isinstance(node, int) else self.line(node)
        self.plan.notes.append(Note(rule, line, message))

    def qnames(self, node: cst.CSTNode) -> set[str]:
        try:
            v = self.qn[node]
        except KeyError:
            return set()
        return {q.name for q in v}

    def is_v2(self, node: cst.CSTNode, *names: str) -> bool:
        for q in self.qnames(node):
            if q.startswith("influxdb_client.") and q.rsplit(".", 1)[1] in names:
                return True
        return False

    def key(self, expr: cst.CSTNode) -> tuple | None:
        if isinstance(expr, cst.Name):
            fn = self.a.scope_of.get(id(expr))
            if fn is not None and expr.value in self.a.locals.get(id(fn), set()):
                return ("local", id(fn), expr.value)
            return ("module", 0, expr.value)
        if (
            isinstance(expr, cst.Attribute)
            and isinstance(expr.value, cst.Name)
            and expr.value.value in ("self", "cls")
        ):
            cls = self.a.class_of.get(id(expr))
            return ("attr", id(cls), expr.attr.value)
        return None

    def refs(self, key: tuple) -> list[cst.CSTNode]:
        if key[0] == "attr":
            return [n for n in self.a.self_attrs if self.key(n) == key]
        out = []
        for n in self.a.names:
            par = self.parent.get(n)
            if isinstance(par, cst.Attribute) and par.attr is n:
                continue
            if isinstance(par, (cst.Arg,)) and par.keyword is n:
                continue
            if isinstance(par, (cst.ImportAlias, cst.AsName, cst.FunctionDef, cst.ClassDef, cst.Param)):
                continue
            if self.key(n) == key:
                out.append(n)
        return out

    def within(self, node: cst.CSTNode, container: cst.CSTNode) -> bool:
        a, b = self.pos[node], self.pos[container]
        return (a.start.line, a.start.column) >= (b.start.line, b.start.column) and (
            a.end.line,
            a.end.column,
        ) <= (
            b.end.line,
            b.end.column,
        )

    def stmt_of(self, node: cst.CSTNode) -> cst.CSTNode:
        cur = node
        while not isinstance(cur, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            cur = self.parent[cur]
        return cur

    def set(self, node: cst.CSTNode, fn: Callable[[cst.CSTNode], object]) -> None:
        prev = self.plan.replace.get(id(node))
        if prev is None:
            self.plan.replace[id(node)] = fn  # type: ignore[assignment]
        else:
            self.plan.replace[id(node)] = lambda n, p=prev, f=fn: f(p(n))  # type: ignore[misc]

    # ---- analysis of clients and api objects ------------------------------------------------------

    def collect(self) -> None:
        for node, target, value in self.a.assigns:
            if isinstance(value, cst.Call):
                k = self.key(target)
                if k is None:
                    continue
                if self.is_v2(value.func, "InfluxDBClient"):
                    self.clients[k] = value
                elif isinstance(value.func, cst.Attribute) and value.func.attr.value == "from_env_properties":
                    self.clients[k] = value
                elif self.is_v2(value.func, "InfluxDBClientAsync"):
                    self.async_clients.add(k)
                elif isinstance(value.func, cst.Attribute) and value.func.attr.value in (
                    "write_api",
                    "query_api",
                ):
                    self.add_binding(node, k, value)
        for bkey, b in self.bindings.items():
            for ref in self.refs(bkey):
                if b.stmt is not None and self.within(ref, b.stmt):
                    continue
                if b.with_node is not None and ref is b.with_node.items[0].asname.name:  # type: ignore[union-attr]
                    continue
                par = self.parent.get(ref)
                if (
                    isinstance(par, cst.Attribute)
                    and par.value is ref
                    and isinstance(self.parent.get(par), cst.Call)
                ):
                    b.uses.append(par)
                else:
                    b.other_uses += 1

    def add_binding(self, node: cst.CSTNode, key: tuple, call: cst.Call) -> None:
        kind = "write" if call.func.attr.value == "write_api" else "query"  # type: ignore[union-attr]
        if isinstance(node, cst.WithItem):
            with_node = self.parent[node]
            self.bindings[key] = ApiBinding(kind, key, call, call.func.value, None, with_node)  # type: ignore[union-attr,arg-type]
            return
        stmt = self.stmt_of(node)
        if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
            return
        self.bindings[key] = ApiBinding(kind, key, call, call.func.value, stmt)  # type: ignore[union-attr]

    def client_usable_at(self, client: cst.BaseExpression, use: cst.CSTNode) -> bool:
        """Whether the client expression means the same object at `use` as where the api was made."""
        k = self.key(client)
        if k is None:
            return False
        if k[0] == "module":
            return True
        if k[0] == "attr":
            return self.a.class_of.get(id(use)) is self.a.class_of.get(id(client))
        return self.a.scope_of.get(id(use)) is self.a.scope_of.get(id(client))

    def ctor_for(self, client: cst.BaseExpression) -> cst.Call | None:
        if isinstance(client, cst.Call) and self.is_v2(client.func, "InfluxDBClient"):
            return client
        k = self.key(client)
        found = self.clients.get(k) if k else None
        return found if found is not None and self.is_v2(found.func, "InfluxDBClient") else None

    # ---- planning ----------------------------------------------------------------------------------

    def run(self) -> tuple[str, list[Note]]:
        if not self.a.v2_import:
            return self.text, []
        self.collect()
        self.plan_no_equivalent()
        self.plan_bindings()
        self.plan_inline_calls()
        self.plan_ctors()
        self.plan_names()
        new = self.module.visit(_Apply(self.plan))
        code = new.code
        if code != self.text:
            code = fix_imports(code, self.need_timezone)
        return code, self.plan.notes

    def plan_no_equivalent(self) -> None:
        receivers = Receivers(self.tree, self.imports)
        by_site: dict[tuple[int, str], list[ast.Call]] = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                by_site.setdefault((node.lineno, node.func.attr), []).append(node)
        for call in self.a.calls:
            f = call.func
            same = by_site.get((self.line(call), f.attr.value), []) if isinstance(f, cst.Attribute) else []
            name = next((n for n in map(receivers.no_equivalent, same) if n in CLIENT_NO_EQUIVALENT), None)
            if name is not None:
                self.note("no-equivalent", call, f"`{name}()`: {CLIENT_NO_EQUIVALENT[name]}")
            if isinstance(f, cst.Attribute) and f.attr.value == "version" and not call.args:
                if any(not c.args and receivers.kind(c.func.value) == "client" for c in same):  # type: ignore[attr-defined]
                    self.set(f.attr, lambda n: n.with_changes(value="get_server_version"))
            if self.is_v2(f, "from_config_file"):
                self.note(
                    "from-config-file",
                    call,
                    "`InfluxDBClient.from_config_file()` has no influxdb3-python equivalent: read the file with "
                    "configparser and call `InfluxDBClient3(host=cfg['url'], token=cfg['token'], org=cfg.get('org'), "
                    "database=<bucket>)`; the config has no database, add one",
                )
                self.locked_ctor.add(id(call))
            if self.is_v2(f, "InfluxDBClientAsync"):
                self.note(
                    "async-client",
                    call,
                    "influxdb3-python has no async client: use `with InfluxDBClient3(...)` and "
                    "`await client.query_async(sql, mode=...)` for queries, `await asyncio.to_thread(client.write, "
                    "record=..., database=...)` for writes",
                )

    def plan_bindings(self) -> None:
        for b in self.bindings.values():
            if b.kind == "write":
                self.plan_write_binding(b)
            else:
                self.plan_query_binding(b)

    def is_async(self, client: cst.BaseExpression) -> bool:
        k = self.key(client)
        return k is not None and k in self.async_clients

    def plan_write_binding(self, b: ApiBinding) -> None:
        if self.is_async(b.client):
            return
        if not self.write_options_ok(b.call, b):
            return
        usable = all(self.client_usable_at(b.client, u) for u in b.uses)
        if b.other_uses or not usable:
            b.collapse = False
        client = b.client
        for use in b.uses:
            method = use.attr.value
            call = self.parent[use]
            receiver_code = _code(client) if b.collapse else None
            if method == "write":
                self.plan_write_call(call, receiver_code)  # type: ignore[arg-type]
            elif method in ("flush", "close"):

                def fix(n: cst.CSTNode, code: str | None = receiver_code) -> cst.CSTNode:
                    func = n.func  # type: ignore[attr-defined]
                    value = _expr(code) if code else func.value
                    return n.with_changes(func=func.with_changes(value=value, attr=cst.Name("flush")))  # type: ignore[attr-defined]

                self.set(call, fix)
            else:
                self.note(
                    "write-manual",
                    use,
                    f"`{_code(use)}()` has no influxdb3-python equivalent; call the client instead",
                )
                b.collapse = False
        if b.with_node is not None:
            self.plan_with(b)
        elif b.collapse:
            self.set(b.stmt, lambda n: cst.RemoveFromParent())  # type: ignore[arg-type]
        else:
            self.set(b.call, lambda n, c=_code(client): _expr(c))

    def plan_with(self, b: ApiBinding) -> None:
        w = b.with_node
        assert w is not None
        if len(w.items) != 1 or not b.collapse:
            self.set(b.call, lambda n, c=_code(b.client): _expr(c))
            return

        def lift(n: cst.CSTNode) -> cst.CSTNode | cst.FlattenSentinel:
            body = n.body  # type: ignore[attr-defined]
            if not isinstance(body, cst.IndentedBlock):
                return n
            stmts = list(body.body)
            if stmts:
                stmts[0] = stmts[0].with_changes(leading_lines=[*n.leading_lines, *stmts[0].leading_lines])  # type: ignore[attr-defined]
            return cst.FlattenSentinel(stmts)

        self.set(w, lift)

    def write_options_ok(self, call: cst.Call, b: ApiBinding | None) -> bool:
        """Plan moving write_api(...) options to the client; False (with a Finding) when not possible."""
        kwargs = {a.keyword.value: a for a in call.args if a.keyword is not None}
        if any(a.keyword is None for a in call.args) or set(kwargs) - {
            *WRITE_OPTION_KWARGS,
            "point_settings",
        }:
            self.note(
                "write-options-manual",
                call,
                "write_api() with positional or unknown arguments: move them to "
                "`InfluxDBClient3(write_client_options=write_client_options(...))` by hand",
            )
            return False
        if "point_settings" in kwargs:
            self.note(
                "default-tags",
                call,
                "write_api(point_settings=...): influxdb3-python 0.21 takes `InfluxDBClient3(point_settings="
                "PointSettings(...))`, 0.17-0.20 take `write_client_options(point_settings=...)` (0.21 raises "
                "TypeError on that); pin >=0.21,<0.22 and move it, or add the tags to each record",
            )
            return False
        wo = kwargs.get("write_options")
        if wo is None:
            self.note(
                "write-api-batching",
                call,
                "bare write_api() batched writes in the background on influxdb-client (WriteOptions() default); "
                "influxdb3-python writes synchronously by default, so each write() now blocks and raises on error. "
                "For batching add `write_client_options=write_client_options(write_options=WriteOptions())` to "
                "InfluxDBClient3",
            )
            if set(kwargs) - {"write_options"}:
                return self.move_options(call, b, kwargs)
            return True
        if self.is_v2(wo.value, "SYNCHRONOUS") and len(kwargs) == 1:
            return True
        if self.is_v2(wo.value, "ASYNCHRONOUS"):
            self.note(
                "write-async",
                call,
                "ASYNCHRONOUS writes are deprecated in influxdb3-python (write() returns an ApplyResult and warns); "
                "prefer synchronous writes, in coroutines via `await asyncio.to_thread(client.write, ...)`",
            )
        return self.move_options(call, b, kwargs)

    def move_options(self, call: cst.Call, b: ApiBinding | None, kwargs: dict[str, cst.Arg]) -> bool:
        client = call.func.value  # type: ignore[attr-defined]
        ctor = self.ctor_for(client)
        if ctor is None:
            self.note(
                "write-options-manual",
                call,
                "write_api(...) options must move to the client constructor: "
                "`InfluxDBClient3(..., write_client_options=write_client_options(write_options=..., "
                "success_callback=..., error_callback=..., retry_callback=...))` -- the constructor is not "
                "in this file",
            )
            return False
        entries = self.write_client_opts.setdefault(id(ctor), [])
        if entries and _code(entries[0][1]) != _code(call):
            self.note(
                "write-options-manual",
                call,
                "several write_api()s with different options on one client: use one "
                "InfluxDBClient3 per write configuration",
            )
            return False
        entries.append((b, call))
        return True

    def plan_write_call(self, call: cst.Call, receiver: str | None) -> bool:
        """Rewrite `X.write(bucket, org, record, ...)` to `client.write(record=, database=, ...)`."""
        positional = ["bucket", "org", "record", "write_precision"]
        named: dict[str, cst.BaseExpression] = {}
        extra: list[cst.Arg] = []
        for i, a in enumerate(call.args):
            if a.star:
                self.note(
                    "write-manual",
                    call,
                    "write() with *args/**kwargs: rewrite to `client.write(record=..., database=...)` by hand",
                )
                return False
            if a.keyword is None:
                if i >= len(positional):
                    return False
                named[positional[i]] = a.value
            elif a.keyword.value in positional:
                named[a.keyword.value] = a.value
            else:
                extra.append(a)
        if "record" not in named or "bucket" not in named:
            self.note(
                "write-manual",
                call,
                "write() without bucket or record: rewrite to `client.write(record=..., database=...)` by hand",
            )
            return False
        self.bucket_exprs.append((named["bucket"], _code(named["bucket"])))
        original = list(call.args)

        def fix(n: cst.CSTNode) -> cst.CSTNode:
            got: dict[str, cst.BaseExpression] = {}
            rest: list[tuple[str | None, cst.BaseExpression]] = []
            for i, a in enumerate(n.args):  # type: ignore[attr-defined]
                if a.keyword is None:
                    got[positional[i]] = a.value
                elif a.keyword.value in positional:
                    got[a.keyword.value] = a.value
                else:
                    rest.append((a.keyword.value, a.value))
            new: list[tuple[str | None, cst.BaseExpression]] = [
                ("record", got["record"]),
                ("database", got["bucket"]),
            ]
            if "write_precision" in got:
                new.append(("write_precision", got["write_precision"]))
            func = n.func  # type: ignore[attr-defined]
            if receiver is not None:
                func = func.with_changes(value=_expr(receiver))
            return n.with_changes(func=func, args=_relayout(original, [*new, *rest]))  # type: ignore[attr-defined]

        self.set(call, fix)
        return True

    def plan_inline_calls(self) -> None:
        """`X.write_api(...).write(...)`, `X.query_api().query(...)` and `.write(bucket=, record=)` on other receivers."""
        bound_calls = {id(b.call) for b in self.bindings.values()}
        bound_uses = {id(self.parent[u]) for b in self.bindings.values() for u in b.uses}
        for call in self.a.calls:
            f = call.func
            if not isinstance(f, cst.Attribute) or id(call) in bound_uses:
                continue
            inner = f.value
            if (
                isinstance(inner, cst.Call)
                and isinstance(inner.func, cst.Attribute)
                and id(inner) not in bound_calls
            ):
                api = inner.func.attr.value
                client = inner.func.value
                if self.is_async(client):
                    continue
                if api == "write_api" and f.attr.value == "write":
                    if self.write_options_ok(inner, None) and self.plan_write_call(call, _code(client)):
                        continue
                elif api == "write_api" and f.attr.value in ("flush", "close"):
                    continue
                elif api == "query_api":
                    self.plan_query_call(call, client, inline=True)
                    continue
            if f.attr.value == "write" and {a.keyword.value for a in call.args if a.keyword} >= {
                "bucket",
                "record",
            }:
                self.plan_write_call(call, None)
        self.flag_leftover_apis()

    def flag_leftover_apis(self) -> None:
        """A write_api()/query_api() object that none of the rules consumed: a human must replace it."""
        handled = {id(b.call) for b in self.bindings.values()}
        for call in self.a.calls:
            f = call.func
            if isinstance(f, cst.Attribute) and isinstance(f.value, cst.Call):
                inner = f.value.func
                if isinstance(inner, cst.Attribute) and inner.attr.value in ("write_api", "query_api"):
                    handled.add(id(f.value))
            if isinstance(self.parent.get(call), cst.WithItem):
                handled.add(id(call))
        for call in self.a.calls:
            f = call.func
            if not isinstance(f, cst.Attribute) or f.attr.value not in ("write_api", "query_api"):
                continue
            if id(call) in handled or self.is_async(f.value):
                continue
            rule = "write-manual" if f.attr.value == "write_api" else "query-manual"
            self.note(
                rule,
                call,
                f"`{f.attr.value}()` objects do not exist in influxdb3-python: pass the InfluxDBClient3 "
                "and call its write()/query() instead",
            )

    # ---- queries ---------------------------------------------------------------------------------

    def plan_query_binding(self, b: ApiBinding) -> None:
        if self.is_async(b.client):
            return
        done = True
        for use in b.uses:
            call = self.parent[use]
            usable = self.client_usable_at(b.client, use)
            if not usable:
                self.note(
                    "query-manual",
                    call,
                    "the query_api object is used where its client is not visible; call "
                    "`client.query(sql)` on the InfluxDBClient3 instance instead",
                )
                done = False
                continue
            if not self.plan_query_call(call, b.client, inline=False):  # type: ignore[arg-type]
                done = False
        if b.other_uses:
            self.note(
                "query-manual",
                b.call,
                "the query_api object is passed around; influxdb3-python has no query_api(): "
                "call `client.query(sql)` where it is used",
            )
            done = False
        if done and b.stmt is not None:
            self.set(b.stmt, lambda n: cst.RemoveFromParent())

    def flux_source(self, arg: cst.BaseExpression) -> tuple[Template, cst.BaseExpression] | None:
        """The Flux template of a query argument and the node holding the literal (arg or its assignment)."""
        t = template_of(arg)
        if t is not None:
            return t, arg
        if isinstance(arg, cst.BinaryOperation) and isinstance(arg.operator, cst.Add):
            joined = self.concat_template(arg)
            return (joined, arg) if joined is not None else None
        k = self.key(arg)
        if k is None or k[0] == "attr":
            return None
        values = [
            v for node, target, v in self.a.assigns if self.key(target) == k and isinstance(target, cst.Name)
        ]
        if len(values) != 1 or values[0] is None:
            return None
        uses = [r for r in self.refs(k) if not isinstance(self.parent.get(r), cst.AssignTarget)]
        if len(uses) != 1:
            return None
        t = template_of(values[0])
        return (t, values[0]) if t is not None else None

    def concat_template(self, node: cst.BaseExpression) -> Template | None:
        """`CONST + "..." + f"..."`: module-level string constants and literals joined."""
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
            left, right = self.concat_template(node.left), self.concat_template(node.right)
            if left is None or right is None:
                return None
            shift = len(left.holes)
            text = flux.HOLE_RE.sub(lambda m: flux.hole(int(m.group(1)) + shift), right.text)
            return Template(left.text + text, left.holes + right.holes)
        t = template_of(node)
        if t is not None:
            return t
        value = self.resolve_literal(node)
        return Template(value, ()) if value is not None and flux.HOLE_OPEN not in value else None

    def plan_query_call(self, call: cst.Call, client: cst.BaseExpression, inline: bool) -> bool:
        method = call.func.attr.value  # type: ignore[attr-defined]
        if method in QUERY_NO_EQUIVALENT:
            self.note("no-equivalent", call, f"`{method}()`: {QUERY_NO_EQUIVALENT[method]}")
            return False
        if method not in ("query", "query_data_frame", "query_stream"):
            return False
        names = {
            "query": ["query", "org", "params"],
            "query_stream": ["query", "org", "params"],
            "query_data_frame": ["query", "org", "data_frame_index", "params", "use_extension_dtypes"],
        }[method]
        args: dict[str, cst.BaseExpression] = {}
        for i, a in enumerate(call.args):
            if a.star or (a.keyword is None and i >= len(names)):
                self.note("query-manual", call, "query call with *args/**kwargs: rewrite by hand")
                return False
            name = a.keyword.value if a.keyword else names[i]
            if name not in names:
                self.note("query-manual", call, f"query argument {name}= has no influxdb3-python equivalent")
                return False
            args[name] = a.value
        src = self.flux_source(args["query"]) if "query" in args else None
        if src is None:
            self.note(
                "flux",
                call,
                "Flux query text not visible here (not a literal or a single local assignment): "
                "translate it to SQL and call `client.query(sql, database=...)`",
            )
            return False
        template, holder = src
        param_names: list[str] = []
        if isinstance(args.get("params"), cst.Dict):
            for el in args["params"].elements:  # type: ignore[attr-defined]
                key = _string_value(getattr(el, "key", None))
                if key is not None:
                    param_names.append(key)
        tr, why = flux.try_translate(template.text, param_names)
        if tr is None or not tr.exact:
            proposed = tr.proposed if tr is not None else None
            msg = f"Flux is not supported by InfluxDB 3 and this query is not translated automatically ({why or tr.reason})."  # type: ignore[union-attr]
            if proposed:
                msg += f" Proposed SQL: {template.render(proposed)}"
            self.note("flux", call, msg)
            return False
        self.template = template
        consumer = self.plan_consumers(call, method, tr, template)
        if consumer is None:
            return False
        self.bucket_exprs.append((call, template.expression(tr.database or "")))
        sql_code = template.render(tr.sql)
        db_code = template.expression(tr.database or "")
        mode = {"query": None, "query_stream": None, "query_data_frame": "pandas"}[method]
        new: list[tuple[str | None, cst.BaseExpression]] = []
        if holder is args["query"]:
            new.append((None, _expr(sql_code)))
        else:
            new.append((None, args["query"]))
            self.set(holder, lambda n, c=sql_code: _expr(c))
        new.append(("database", _expr(db_code)))
        if mode:
            new.append(("mode", _expr(f'"{mode}"')))
        if "params" in args:
            new.append(("query_parameters", args["params"]))
        elif tr.params:
            self.note("query-manual", call, "the Flux uses params.* but the call passes no params=")
        index = args.get("data_frame_index")
        client_code = _code(client)
        suffix = consumer

        def fix(n: cst.CSTNode) -> cst.CSTNode:
            original_args = list(n.args)  # type: ignore[attr-defined]
            new_call = cst.Call(
                func=cst.Attribute(value=_expr(client_code), attr=cst.Name("query")),
                args=_relayout(original_args, new),
                whitespace_before_args=n.whitespace_before_args,
            )  # type: ignore[attr-defined]
            out: cst.BaseExpression = new_call
            if index is not None:
                mapped = _map_index(index, tr, template)
                out = cst.Call(
                    func=cst.Attribute(value=out, attr=cst.Name("set_index")), args=[cst.Arg(mapped)]
                )
            if suffix:
                out = cst.Call(func=cst.Attribute(value=out, attr=cst.Name(suffix)), args=[])
            return out  # type: ignore[return-value]

        self.set(call, fix)
        if method == "query_data_frame":
            self.note(
                "query-frame-shape",
                call,
                "the DataFrame now has the InfluxDB 3 shape: `time` (tz-naive UTC), tag columns and one column per "
                "field; no result/table/_start/_stop/_measurement columns",
            )
        return True

    def plan_consumers(
        self, call: cst.Call, method: str, tr: flux.Translation, template: Template
    ) -> str | None:
        """Plan the rewrite of the code that reads the result; returns a method to chain ("" for none) or None."""
        par = self.parent.get(call)
        if method == "query_data_frame":
            if isinstance(par, cst.Assign) and len(par.targets) == 1:
                k = self.key(par.targets[0].target)
                if k is None:
                    return ""
                return "" if self.plan_frame_uses(k, call, tr) else None
            return ""
        if method == "query_stream":
            loop = par if isinstance(par, cst.For) and par.iter is call else None
            if loop is None and isinstance(par, cst.Assign) and len(par.targets) == 1:
                k = self.key(par.targets[0].target)
                refs = [r for r in self.refs(k) if not self.within(r, par)] if k and k[0] == "local" else []
                loops = [self.parent.get(r) for r in refs]
                if refs and all(
                    isinstance(lp, cst.For | cst.CompFor) and lp.iter is r
                    for lp, r in zip(loops, refs, strict=True)
                ):
                    areas = [lp if isinstance(lp, cst.For) else self.parent[lp] for lp in loops]
                    pairs = zip(loops, areas, strict=True)
                    if all(self.plan_record_loop(lp.target, a, tr) for lp, a in pairs):  # type: ignore[union-attr]
                        return "to_pylist"
                    return None
            if loop is None:
                self.note(
                    "query-results-manual",
                    call,
                    "query_stream() result used outside a for loop: iterate "
                    "`client.query(sql).to_pylist()` (rows are dicts: time, tags, fields)",
                )
                return None
            return "to_pylist" if self.plan_record_loop(loop.target, loop, tr) else None
        # query(): a TableList
        if isinstance(par, cst.For) and par.iter is call:
            return "" if self.plan_table_loop(par, None, tr) else None
        if isinstance(par, cst.CompFor) and par.iter is call:
            return "" if self.plan_table_comp(par, tr) else None
        if isinstance(par, cst.Assign) and len(par.targets) == 1:
            k = self.key(par.targets[0].target)
            if k is not None and k[0] == "local":
                refs = [r for r in self.refs(k) if not self.within(r, par)]
                ok = bool(refs)
                for r in refs:
                    rp = self.parent.get(r)
                    if isinstance(rp, cst.For) and rp.iter is r and self.plan_table_loop(rp, r, tr):
                        continue
                    if isinstance(rp, cst.CompFor) and rp.iter is r and self.plan_table_comp(rp, tr):
                        continue
                    ok = False
                if ok:
                    return ""
        self.note(
            "query-results-manual",
            call,
            "the result becomes one pyarrow.Table (rows via `.to_pylist()`: time, tags, "
            "one column per field) instead of FluxTables; the code reading it could not be rewritten -- "
            f"proposed SQL: {template.render(tr.sql)}",
        )
        return None

    def plan_table_loop(self, outer: cst.For, ref: cst.Name | None, tr: flux.Translation) -> bool:
        body = outer.body
        if (
            not isinstance(outer.target, cst.Name)
            or outer.orelse is not None
            or not isinstance(body, cst.IndentedBlock)
        ):
            return False
        if len(body.body) != 1 or not isinstance(body.body[0], cst.For):
            return False
        inner = body.body[0]
        it = inner.iter
        if not (
            isinstance(it, cst.Attribute)
            and it.attr.value == "records"
            and isinstance(it.value, cst.Name)
            and it.value.value == outer.target.value
            and inner.orelse is None
        ):
            return False
        tkey = self.key(outer.target)
        if tkey is None or [
            r
            for r in self.refs(tkey)
            if self.within(r, outer) and r is not outer.target and r is not it.value
        ]:
            return False
        if not self.plan_record_loop(inner.target, inner, tr):
            return False

        def flatten(n: cst.CSTNode) -> cst.CSTNode:
            inner_new = n.body.body[0]  # type: ignore[attr-defined]
            it_new = cst.Call(func=cst.Attribute(value=n.iter, attr=cst.Name("to_pylist")), args=[])  # type: ignore[attr-defined]
            body = inner_new.body
            if inner_new.leading_lines and body.body:
                first = body.body[0]
                body = body.with_changes(
                    body=[
                        first.with_changes(leading_lines=[*inner_new.leading_lines, *first.leading_lines]),
                        *body.body[1:],
                    ]
                )
            return n.with_changes(target=inner_new.target, iter=it_new, body=body)  # type: ignore[attr-defined]

        self.set(outer, flatten)
        return True

    def plan_table_comp(self, outer: cst.CompFor, tr: flux.Translation) -> bool:
        """`... for table in tables for record in table.records` -> `... for record in tables.to_pylist()`."""
        inner = outer.inner_for_in
        if not isinstance(outer.target, cst.Name) or outer.ifs or inner is None or outer.asynchronous:
            return False
        it = inner.iter
        if not (
            isinstance(it, cst.Attribute)
            and it.attr.value == "records"
            and isinstance(it.value, cst.Name)
            and it.value.value == outer.target.value
        ):
            return False
        comp = self.parent[outer]
        tkey = self.key(outer.target)
        if tkey is None or [
            r for r in self.refs(tkey) if self.within(r, comp) and r is not outer.target and r is not it.value
        ]:
            return False
        if not self.plan_record_loop(inner.target, comp, tr):  # type: ignore[arg-type]
            return False

        def flatten(n: cst.CSTNode) -> cst.CSTNode:
            inner_new = n.inner_for_in  # type: ignore[attr-defined]
            it_new = cst.Call(func=cst.Attribute(value=n.iter, attr=cst.Name("to_pylist")), args=[])  # type: ignore[attr-defined]
            return n.with_changes(
                target=inner_new.target,
                iter=it_new,
                ifs=inner_new.ifs,  # type: ignore[attr-defined]
                inner_for_in=inner_new.inner_for_in,
            )

        self.set(outer, flatten)
        return True

    def plan_record_loop(self, target: cst.BaseExpression, loop: cst.CSTNode, tr: flux.Translation) -> bool:
        if not isinstance(target, cst.Name):
            return False
        k = self.key(target)
        if k is None:
            return False
        area = loop.body if isinstance(loop, cst.For) else loop
        edits: list[tuple[cst.CSTNode, Callable[[cst.CSTNode], cst.CSTNode]]] = []
        for r in self.refs(k):
            if r is target or not self.within(r, area):
                continue
            edit = self.record_access(r, tr)
            if edit is None:
                self.note(
                    "query-results-manual",
                    r,
                    f"`{_code(self.parent[r])}` has no equivalent on the InfluxDB 3 row dict "
                    "(time, tags, one key per field)",
                )
                return False
            edits.append(edit)
        for node, fn in edits:
            self.set(node, fn)
        return True

    def row_key(self, key: str, tr: flux.Translation) -> str | None:
        if key in tr.constants or key in ("_start", "_stop", "result", "table"):
            return None
        if key.startswith("_"):
            return tr.columns.get(key)
        return key

    def record_access(self, r: cst.Name, tr: flux.Translation):
        """(node to replace, replacement fn) for one use of a FluxRecord variable, or None."""
        par = self.parent.get(r)
        name = r.value
        if isinstance(par, cst.Attribute) and par.value is r:
            call = self.parent.get(par)
            attr = par.attr.value
            if attr in RECORD_METHODS and isinstance(call, cst.Call) and call.func is par and not call.args:
                flux_col = {
                    "get_value": "_value",
                    "get_time": "_time",
                    "get_field": "_field",
                    "get_measurement": "_measurement",
                }[attr]
                code = self.column_code(name, flux_col, tr)
                return None if code is None else (call, lambda n, c=code: _expr(c))
            if attr == "values":
                outer = self.parent.get(par)
                if isinstance(outer, cst.Subscript) and outer.value is par:
                    return self.subscript_access(outer, name, tr)
                if isinstance(outer, cst.Attribute) and outer.attr.value == "get":
                    gcall = self.parent.get(outer)
                    if (
                        isinstance(gcall, cst.Call)
                        and gcall.args
                        and _string_value(gcall.args[0].value) is not None
                    ):
                        col = _string_value(gcall.args[0].value)
                        mapped = self.row_key(col, tr)  # type: ignore[arg-type]
                        if mapped is None or col == "_time":
                            return None
                        return (
                            gcall,
                            lambda n, m=mapped: n.with_changes(
                                func=cst.Attribute(value=cst.Name(name), attr=cst.Name("get")),
                                args=[n.args[0].with_changes(value=_expr(self.key_literal(m))), *n.args[1:]],
                            ),
                        )
            return None
        if isinstance(par, cst.Subscript) and par.value is r:
            return self.subscript_access(par, name, tr)
        return None

    def subscript_access(self, sub: cst.Subscript, name: str, tr: flux.Translation):
        if len(sub.slice) != 1 or not isinstance(sub.slice[0].slice, cst.Index):
            return None
        col = _string_value(sub.slice[0].slice.value)
        if col is None or isinstance(self.parent.get(sub), (cst.AssignTarget, cst.Del)):
            return None
        code = self.column_code(name, col, tr)
        return None if code is None else (sub, lambda n, c=code: _expr(c))

    def column_code(self, var: str, col: str, tr: flux.Translation) -> str | None:
        if col in tr.constants:
            return self.key_literal(tr.constants[col])
        if col == "_time":
            if not tr.has_time:
                return None
            self.need_timezone = True
            return f'{var}["time"].replace(tzinfo=timezone.utc)'
        mapped = self.row_key(col, tr)
        return None if mapped is None else f"{var}[{self.key_literal(mapped)}]"

    def plan_frame_uses(self, k: tuple, call: cst.Call, tr: flux.Translation) -> bool:
        stmt = self.stmt_of(call)
        for r in self.refs(k):
            if self.within(r, stmt):
                continue
            par = self.parent.get(r)
            if isinstance(par, cst.Subscript) and par.value is r and len(par.slice) == 1:
                idx = par.slice[0].slice
                col = _string_value(idx.value) if isinstance(idx, cst.Index) else None
                if col is not None and col.startswith("_"):
                    mapped = tr.columns.get(col)
                    if mapped is None:
                        self.note(
                            "query-results-manual",
                            par,
                            f"DataFrame column {col!r} does not exist on InfluxDB 3 results",
                        )
                        return False
                    self.set(idx.value, lambda n, m=self.key_literal(mapped): _expr(m))
        return True

    # ---- constructors --------------------------------------------------------------------------------

    def plan_ctors(self) -> None:
        for call in self.a.calls:
            if id(call) in self.locked_ctor:
                continue
            if self.is_v2(call.func, "InfluxDBClient"):
                self.plan_ctor(call)
            elif (
                isinstance(call.func, cst.Attribute)
                and call.func.attr.value == "from_env_properties"
                and self.is_v2(call.func.value, "InfluxDBClient")
            ):
                self.set(call.func.attr, lambda n: n.with_changes(value="from_env"))
                self.set(call.func.value, _rename_client)
                self.note(
                    "env-vars",
                    call,
                    "from_env() reads other variables: rename INFLUXDB_V2_URL -> INFLUX_HOST (scheme://host:port), "
                    "INFLUXDB_V2_TOKEN -> INFLUX_TOKEN, INFLUXDB_V2_ORG -> INFLUX_ORG, INFLUXDB_V2_TIMEOUT -> "
                    "INFLUX_WRITE_TIMEOUT and INFLUX_QUERY_TIMEOUT, and add INFLUX_DATABASE (the bucket) in every "
                    "deployment file (.env, compose, k8s); INFLUX_HOST, INFLUX_TOKEN and INFLUX_DATABASE are required "
                    "(no defaults); TLS/pool/tag variables have no equivalent: pass them as from_env(**kwargs)",
                )

    def plan_ctor(self, call: cst.Call) -> None:
        positional = ["url", "token", "debug", "timeout", "enable_gzip", "org", "default_tags"]
        items: list[tuple[str | None, cst.BaseExpression]] = []
        for i, a in enumerate(call.args):
            if a.star:
                items.append(("**" if a.star == "**" else "*", a.value))
                continue
            if a.keyword is None:
                if i >= len(positional):
                    return
                items.append((positional[i], a.value))
            else:
                items.append((a.keyword.value, a.value))
        names = [n for n, _ in items]
        new: list[tuple[str | None, cst.BaseExpression]] = []
        for name, value in items:
            if name == "url":
                new.append(("host", self.host_value(value, call)))
            elif name == "timeout":
                new.append(("write_timeout", value))
                new.append(("query_timeout", value))
            elif name in ("*", "**"):
                new.append((name, value))
            else:
                if name in ("profilers", "auth_basic", "username", "password"):
                    self.note(
                        "unsupported-args",
                        call,
                        f"InfluxDBClient3 has no {name}= (profilers are Flux-only; "
                        "basic auth was removed in 0.20): remove it and use a token",
                    )
                if name == "default_tags":
                    self.note(
                        "default-tags",
                        call,
                        "default_tags= works on influxdb3-python 0.17-0.20 but is silently "
                        "ignored by 0.21; pin >=0.21,<0.22 and pass point_settings=PointSettings(**tags), or add "
                        "the tags to each record",
                    )
                if name == "gzip_threshold":
                    self.note(
                        "gzip-threshold",
                        call,
                        "gzip_threshold= crashes every write on influxdb3-python <0.21",
                    )
                new.append((name, value))
        if "database" not in names:
            db = self.database_for(call)
            at = names.index("token") + 1 if "token" in names else (1 if "url" in names else 0)
            at = sum(2 if n == "timeout" else 1 for n in names[:at])
            if db is not None:
                new.insert(at, ("database", db))
        opts = self.write_client_opts.get(id(call))
        if opts:
            wcall = opts[0][1]
            wargs = [(a.keyword.value, a.value) for a in wcall.args if a.keyword is not None]
            new.append(
                (
                    "write_client_options",
                    cst.Call(func=cst.Name("write_client_options"), args=_relayout([], wargs)),
                )
            )
        original = list(call.args)

        def fix(n: cst.CSTNode) -> cst.CSTNode:
            args = []
            for name, value in new:
                if name in ("*", "**"):
                    args.append((None, value))
                else:
                    args.append((name, value))
            built = _relayout(original, args)
            for i, (name, _value) in enumerate(new):
                if name in ("*", "**"):
                    built[i] = built[i].with_changes(star=name)
            return n.with_changes(func=_rename_client(n.func), args=built)  # type: ignore[attr-defined]

        self.set(call, fix)

    def host_value(self, value: cst.BaseExpression, call: cst.Call) -> cst.BaseExpression:
        literal = _string_value(value)
        if literal is None:
            template = template_of(value)
            shape, warn = url_shape(template.text) if template is not None else ("unknown", "")
            if warn:
                self.note("host-port", call, warn)
            if shape == "ok":  # f"http://127.0.0.1:{port}": scheme and port are in the text
                return value
            resolved = self.resolve_literal(value)
            if resolved is None or urlsplit(resolved).port is None:
                self.note(
                    "host-port",
                    call,
                    f"host={_code(value)} must be `scheme://host:port`: influxdb3-python uses "
                    "port 443 when the port is missing (even for http://) and drops any path; check the "
                    "configured value (InfluxDB 3 Core listens on 8181 by default)",
                )
            return value
        host, warn = normalise_host(literal)
        if warn or host is None:
            self.note("host-port", call, warn or "unusable URL")
        if host is None or host == literal:
            return value
        quote = value.value[len(value.value) - len(value.value.lstrip("rRuUbB")) :][0]  # type: ignore[attr-defined]
        return cst.SimpleString(quote + host + quote)

    def resolve_literal(self, value: cst.BaseExpression) -> str | None:
        k = self.key(value)
        if k is None or k[0] != "module":
            return None
        found = [v for _node, t, v in self.a.assigns if isinstance(t, cst.Name) and self.key(t) == k]
        if len(found) != 1 or found[0] is None:
            return None
        v = found[0]
        if isinstance(v, cst.Call) and len(v.args) == 2 and _code(v.func) in ("os.getenv", "os.environ.get"):
            v = v.args[1].value
        return _string_value(v)

    def database_for(self, call: cst.Call) -> cst.BaseExpression | None:
        by_value: dict[str, str] = {}
        for _node, code in self.bucket_exprs:
            expr = _expr(code)
            value = _string_value(expr) or self.resolve_literal(expr)
            by_value.setdefault(
                value if value is not None else code, python_literal(value) if value is not None else code
            )
        codes = list(by_value.values())
        if not codes:
            same_holder = self.holder_database(call)
            if same_holder is not None:
                return same_holder
        if not codes and len(self.service_buckets) == 1:
            return _expr(python_literal(next(iter(self.service_buckets))))
        if len(codes) == 1:
            expr = _expr(codes[0])
            usable = self.database_usable(expr, codes[0], call)
            if usable is not None:
                return usable
        where = "several buckets are used" if len(codes) > 1 else "the bucket is not known here"
        self.note(
            "database",
            call,
            f"InfluxDBClient3 needs database= (the bucket; required at construction on 0.21): "
            f"{where}; add database=<bucket> -- per-call database= arguments were kept",
        )
        return None

    def holder_database(self, call: cst.Call) -> cst.BaseExpression | None:
        """`InfluxDBClient(url=cfg.url, token=cfg.token)` where the service writes/queries `bucket=<...>.cfg.bucket`:
        the bucket comes from the same settings object as the URL, so `database=cfg.bucket`."""
        by_name = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
        if call.args and call.args[0].keyword is None and not call.args[0].star:
            by_name.setdefault("url", call.args[0].value)
        url, token = by_name.get("url"), by_name.get("token")
        if not isinstance(url, cst.Attribute):
            return None
        holder = url.value
        holder_code = _code(holder)
        if token is not None and not (isinstance(token, cst.Attribute) and _code(token.value) == holder_code):
            return None
        last = (
            holder.value
            if isinstance(holder, cst.Name)
            else getattr(getattr(holder, "attr", None), "value", None)
        )
        found = set()
        for code in self.bucket_attrs:
            parts = code.split(".")
            if len(parts) >= 2 and parts[-2] == last:
                found.add(f"{holder_code}.{parts[-1]}")
        return _expr(found.pop()) if len(found) == 1 else None

    def database_usable(
        self, expr: cst.BaseExpression, code: str, ctor: cst.Call
    ) -> cst.BaseExpression | None:
        if _string_value(expr) is not None or isinstance(expr, cst.ConcatenatedString | cst.FormattedString):
            return expr if not isinstance(expr, cst.FormattedString) else None
        root = expr
        while isinstance(root, cst.Attribute):
            root = root.value
        if not isinstance(root, cst.Name):
            return None
        fn = self.a.scope_of.get(id(ctor))
        if (
            root.value in ("self", "cls")
            and isinstance(expr, cst.Attribute)
            and isinstance(expr.value, cst.Name)
        ):
            if fn is None:
                return None
            ctor_line = self.line(ctor)
            for node, target, value in self.a.assigns:
                if (
                    isinstance(target, cst.Attribute)
                    and _code(target) == code
                    and self.a.scope_of.get(id(node)) is fn
                ):
                    if self.line(node) < ctor_line:
                        return expr
                    if isinstance(value, cst.Name) and value.value in self.a.params.get(id(fn), set()):
                        return cst.Name(value.value)
            return None
        if fn is not None and root.value in self.a.locals.get(id(fn), set()):
            return expr if root.value in self.a.params.get(id(fn), set()) else None
        if root.value in self.a.module_bindings:
            return expr
        return None

    def plan_names(self) -> None:
        """Rename references to v2 names that have a v3 counterpart (InfluxDBClient, ApiException, ...).

        An `ApiException` that may guard a query stays as it is, with a Finding: `InfluxDBError` never
        matches influxdb3-python query errors.
        """
        guards = query_guards(self.tree, self.imports)
        for n in self.a.names:
            par = self.parent.get(n)
            if isinstance(par, (cst.ImportAlias, cst.AsName)) or (
                isinstance(par, cst.Attribute) and par.attr is n
            ):
                continue
            if isinstance(par, cst.Attribute) and par.attr.value in ("from_config_file",):
                continue
            for old, new in V3_NAMES.items():
                if old != new and n.value == old and self.is_v2(n, old) and not self.query_guard(n, guards):
                    self.set(n, lambda x, v=new: x.with_changes(value=v))
        for node in self.a.attrs:
            qn = [q for q in self.qnames(node) if q.startswith("influxdb_client.")]
            last = node.attr.value
            if (
                qn
                and last in V3_NAMES
                and not isinstance(self.parent.get(node), cst.Attribute | cst.ImportFrom)
                and not self.query_guard(node, guards)
            ):
                self.set(
                    node, lambda x, v=V3_NAMES[last]: cst.Attribute(value=cst.Name(V3), attr=cst.Name(v))
                )

    def query_guard(self, node: cst.Name | cst.Attribute, guards: dict[int, str]) -> bool:
        """An `ApiException` reference that may guard a query: noted once per line, left unchanged."""
        name = node.value if isinstance(node, cst.Name) else node.attr.value
        line = self.line(node)
        if name != "ApiException" or line not in guards:
            return False
        if not any(n.line == line and n.rule == "query-exceptions" for n in self.plan.notes):
            self.note(
                "query-exceptions",
                line,
                f"`ApiException` left as it is ({guards[line]}): influxdb3-python raises "
                "`InfluxDB3ClientQueryError` for queries (not an InfluxDBError, no .status) and `InfluxDBError` "
                "for writes; catch `InfluxDB3ClientQueryError` from influxdb_client_3.exceptions (or "
                "`InfluxDB3ClientError` for both), check what the handler reads, then drop the influxdb_client "
                "import",
            )
        return True


def _rename_client(node: cst.CSTNode) -> cst.CSTNode:
    if isinstance(node, cst.Name) and node.value == "InfluxDBClient":
        return node.with_changes(value="InfluxDBClient3")
    if isinstance(node, cst.Attribute) and node.attr.value == "InfluxDBClient":
        return cst.Attribute(value=cst.Name(V3), attr=cst.Name("InfluxDBClient3"))
    return node


def _map_index(index: cst.BaseExpression, tr: flux.Translation, template: Template) -> cst.BaseExpression:
    def m(node: cst.BaseExpression) -> cst.BaseExpression:
        v = _string_value(node)
        if v is not None and v in tr.columns:
            col = tr.columns[v]
            return _expr(template.expression(col) if flux.HOLE_OPEN in col else python_literal(col))
        return node

    if isinstance(index, cst.List):
        return index.with_changes(elements=[e.with_changes(value=m(e.value)) for e in index.elements])
    return m(index)


class _Apply(cst.CSTTransformer):
    """Applies a Plan: replacement functions keyed by id() of original nodes."""

    def __init__(self, plan: Plan) -> None:
        super().__init__()
        self.plan = plan

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode):
        updated = super().on_leave(original_node, updated_node)
        fn = self.plan.replace.get(id(original_node))
        if fn is not None and isinstance(updated, cst.CSTNode):
            return fn(updated)
        return updated

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        if not updated_node.body:
            return updated_node.with_changes(body=[cst.SimpleStatementLine([cst.Pass()])])
        return updated_node


# ---- imports -------------------------------------------------------------------------------------------


class _Refs(cst.CSTVisitor):
    def __init__(self) -> None:
        self.used: set[str] = set()
        self.bound: set[str] = set()
        self.v2_bound: set[str] = set()

    def visit_Import(self, node: cst.Import) -> bool:
        for a in node.names:
            name = a.asname.name.value if a.asname else _code(a.name).split(".")[0]  # type: ignore[union-attr]
            self.bound.add(name)
            if is_v2_module(_code(a.name)):
                self.v2_bound.add(name)
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        if not isinstance(node.names, cst.ImportStar):
            v2 = is_v2_module(_code(node.module)) if node.module else False
            for a in node.names:
                name = a.asname.name.value if a.asname else _code(a.name)  # type: ignore[union-attr]
                self.bound.add(name)
                if v2:
                    self.v2_bound.add(name)
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.used.add(node.value)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.bound.add(node.name.value)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.bound.add(node.name.value)


def fix_imports(code: str, need_timezone: bool) -> str:
    """Drop v2 imports nothing references any more, import v3 names the rewritten code uses.

    The new import statements take the place of the first influxdb_client import.
    """
    module = cst.parse_module(code)
    refs = _Refs()
    module.visit(refs)
    used = refs.used
    state: dict[str, object] = {"first": None}
    aliased_v3: list[tuple[str, str]] = []
    kept_bound: set[str] = set()
    imported_v3: set[str] = set()

    class Fix(cst.CSTTransformer):
        def leave_ImportFrom(self, original: cst.ImportFrom, updated: cst.ImportFrom):
            mod = _code(updated.module) if updated.module else ""
            if mod == V3 and not isinstance(updated.names, cst.ImportStar):
                imported_v3.update(a.asname.name.value if a.asname else _code(a.name) for a in updated.names)  # type: ignore[union-attr]
            if not is_v2_module(mod) or isinstance(updated.names, cst.ImportStar):
                return updated
            state["first"] = state["first"] or original
            keep = []
            for a in updated.names:
                local = a.asname.name.value if a.asname else _code(a.name)  # type: ignore[union-attr]
                old = _code(a.name)
                if local in used and (old not in V3_NAMES or (a.asname is None and V3_NAMES[old] != old)):
                    keep.append(a)
                    kept_bound.add(local)
                elif local in used and a.asname is not None:
                    aliased_v3.append((V3_NAMES[_code(a.name)], local))
            if not keep:
                return cst.RemoveFromParent()
            keep[-1] = keep[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            return updated.with_changes(names=keep)

        def leave_Import(self, original: cst.Import, updated: cst.Import):
            v2 = [a for a in updated.names if is_v2_module(_code(a.name))]
            if v2:
                state["first"] = state["first"] or original
            keep = [
                a
                for a in updated.names
                if not (
                    is_v2_module(_code(a.name))
                    and a.asname is None
                    and _code(a.name).split(".")[0] not in used
                )
            ]
            if not keep:
                return cst.RemoveFromParent()
            if len(keep) != len(updated.names):
                keep[-1] = keep[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                return updated.with_changes(names=keep)
            return updated

    # first pass only to learn the aliases and what stays; the second inserts the new imports
    module.visit(Fix())
    first = state["first"]
    bound = refs.bound - refs.v2_bound | kept_bound
    wanted = sorted(n for n in V3_EXPORTS if n in used and n not in bound and n not in imported_v3)
    wanted = sorted(set(wanted) - {local for _n, local in aliased_v3})
    names = [*wanted, *(f"{n} as {local}" if n != local else n for n, local in aliased_v3)]
    lines: list[str] = []
    if need_timezone and "timezone" not in bound:
        lines.append("from datetime import timezone")
    if names:
        lines.append(f"from {V3} import {', '.join(dict.fromkeys(names))}")
    if "influxdb_client_3" in used and "influxdb_client_3" not in bound:
        lines.append(f"import {V3}")
    new_stmts = [cst.parse_statement(line + "\n") for line in lines]

    class Insert(Fix):
        def leave_SimpleStatementLine(
            self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine
        ):
            if not any(s is first for s in original.body) or not new_stmts:
                return updated
            stmts = [
                s.with_changes(leading_lines=original.leading_lines) if i == 0 else s
                for i, s in enumerate(new_stmts)
            ]
            if updated.body:
                return cst.FlattenSentinel([*stmts, updated.with_changes(leading_lines=[])])
            return cst.FlattenSentinel(stmts)

    aliased_v3.clear()
    kept_bound.clear()
    if first is None and new_stmts:
        body = list(module.body)
        at = _import_anchor(body)
        body[at:at] = new_stmts
        module = module.with_changes(body=body)
    return module.visit(Insert()).code


def _import_anchor(body: list[cst.CSTNode]) -> int:
    """Index after the top-of-file imports (and module docstring)."""
    at = 0
    for i, stmt in enumerate(body):
        if isinstance(stmt, cst.SimpleStatementLine) and all(
            isinstance(s, (cst.Import, cst.ImportFrom))
            or (isinstance(s, cst.Expr) and isinstance(s.value, cst.SimpleString))
            for s in stmt.body
        ):
            at = i + 1
            continue
        break
    return at


def rewrite_module(
    text: str, service_buckets: frozenset[str] = frozenset(), bucket_attrs: frozenset[str] = frozenset()
) -> tuple[str, list[Note]]:
    """Rewrite one module's influxdb-client use; returns the new text and what a human must do.

    `service_buckets` are the service's literal bucket names, `bucket_attrs` its attribute buckets
    (`self.settings.influx_bucket`), both gathered over all its files.
    """
    return Rewriter(text, service_buckets, bucket_attrs).run()


def attribute_buckets(tree: ast.AST) -> set[str]:
    """Attribute-chain buckets of one module (`bucket=self.cfg.bucket`, Flux `from(bucket: "{cfg.bucket}")`)."""
    out: set[str] = set()

    def add(value: ast.AST) -> None:
        if isinstance(value, ast.Attribute):
            chain = value
            while isinstance(chain, ast.Attribute):
                chain = chain.value
            if isinstance(chain, ast.Name):
                out.add(ast.unparse(value))

    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "bucket":
            add(node.value)
        elif isinstance(node, ast.JoinedStr):
            for before, part in zip(node.values, node.values[1:], strict=False):
                if (
                    isinstance(before, ast.Constant)
                    and isinstance(before.value, str)
                    and isinstance(part, ast.FormattedValue)
                    and re.search(r'from\(\s*bucket\s*:\s*"?$', before.value)
                ):
                    add(part.value)
    return out


def literal_buckets(tree: ast.AST) -> set[str]:
    """String-literal buckets of one module: `bucket="..."` keywords and Flux `from(bucket: "...")`."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "bucket" and isinstance(node.value, ast.Constant):
            if isinstance(node.value.value, str):
                out.add(node.value.value)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "from(" in node.value:
            out.update(re.findall(r'from\(\s*bucket\s*:\s*"([^"{}]+)"', node.value))
    return out
