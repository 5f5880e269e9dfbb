"""The records the rules' `plan` functions share when rewriting one module: the module's facts (source, both
trees, the LibCST analysis and metadata, the service's buckets), the client and `write_api`/`query_api`
objects found in it, and the edit plan they add to (see `edits.Plan`).

All of them are frozen except the edit plan; the lookups every rule needs are methods of `Planning`.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import libcst as cst

from fleetshift.recipes import fixes
from fleetshift.recipes._ast import Imports, parse_tree
from fleetshift.recipes._cst import Imports as CodeImports
from fleetshift.recipes._positions import StatementPositions
from fleetshift.recipes.influxdb.analysis import Analysis
from fleetshift.recipes.influxdb.edits import LazyMetadata, Note, Plan, Printer, code_of, string_value
from fleetshift.recipes.influxdb.facts import query_guards
from fleetshift.recipes.influxdb.names import V3_NAMES
from fleetshift.recipes.influxdb.receivers import LaterReceivers, Receivers


@dataclass(frozen=True)
class ModuleFacts:
    """What the rules read about one module, gathered once: its source and both trees, its imports, the
    LibCST analysis and metadata, what each `ApiException` guards, and the service's bucket names."""

    text: str
    module: cst.Module
    tree: ast.Module
    imports: Imports
    analysis: Analysis
    pos: LazyMetadata
    parent: LazyMetadata
    code_imports: CodeImports  # the same imports, resolving LibCST nodes
    guards: Mapping[int, str]
    receivers: Receivers | LaterReceivers  # worked out when a rule first asks (most modules' rules never do)
    service_buckets: frozenset[str] = frozenset()
    bucket_attrs: frozenset[str] = frozenset()


def module_facts(
    text: str, service_buckets: frozenset[str] = frozenset(), bucket_attrs: frozenset[str] = frozenset(),
    tree: ast.Module | None = None, imports: Imports | None = None,
) -> ModuleFacts:
    """Parse and analyse one module for the rules (`tree` and `imports`: its `ast` records, when already made)."""
    module = fixes.parse(text)
    analysis = Analysis()
    fixes.read(module, analysis)  # it reads no metadata; its walk records the parents; positions are resolved when a
    # rule first asks
    tree = parse_tree(text) if tree is None else tree
    imports = Imports(tree) if imports is None else imports
    return ModuleFacts(
        text,
        module,
        tree,
        imports,
        analysis,
        LazyMetadata(StatementPositions(module, tree, analysis.parent)),
        LazyMetadata(analysis.parent),
        CodeImports(imports.names),
        query_guards(tree, imports) if "ApiException" in text else {},
        LaterReceivers(functools.cache(functools.partial(Receivers, tree, imports))),
        service_buckets,
        bucket_attrs,
    )


@dataclass(frozen=True)
class ApiBinding:
    """A write_api/query_api object kept in a variable or attribute, and how the module uses it."""

    kind: str  # "write" | "query"
    key: tuple
    call: cst.Call  # the X.write_api(...) call
    client: cst.BaseExpression
    stmt: cst.SimpleStatementLine | None  # `W = X.write_api(...)` statement, None for `with ... as W`
    with_node: cst.With | None = None
    uses: tuple[cst.Attribute, ...] = ()  # `W.method` attribute nodes that are called
    other_uses: int = 0


@dataclass(frozen=True)
class Planning:
    """One module being planned: its facts, its clients and api objects, and the edit plan."""

    facts: ModuleFacts
    apis: Mapping[tuple, ApiBinding] = field(default_factory=dict)
    clients: Mapping[tuple, cst.Call] = field(default_factory=dict)
    async_clients: frozenset[tuple] = frozenset()
    plan: Plan = field(default_factory=Plan)
    # the text the plan's walk wrote -> the LibCST module it wrote it from (a `finish` reads that module, not a parse
    # of the text: the same code, and the same statements, imports and names)
    written: dict[str, cst.Module] = field(default_factory=dict)
    printer: Printer = field(default_factory=Printer)  # prints the plan's module and what `finish` makes of it

    # ---- the plan ------------------------------------------------------------------------------------

    def note(self, rule: str, node: cst.CSTNode | int, message: str) -> None:
        line = node if isinstance(node, int) else self.line(node)
        self.plan.notes.append(Note(rule, line, message))

    def set(self, node: cst.CSTNode, fn: Callable[[cst.CSTNode], object]) -> None:
        prev = self.plan.replace.get(id(node))
        if prev is None:
            self.plan.replace[id(node)] = fn  # type: ignore[assignment]
        else:
            self.plan.replace[id(node)] = lambda n, p=prev, f=fn: f(p(n))  # type: ignore[misc]

    def note_leftover_apis(self, slug: str, api: str) -> None:
        """A Finding of rule `slug` at each `X.<api>()` call no rule consumed."""
        for call in self.leftover_apis(api):
            self.note(
                slug,
                call,
                f"`{api}()` objects do not exist in influxdb3-python: pass the InfluxDBClient3 "
                "and call its write()/query() instead",
            )

    def leftover_apis(self, api: str) -> Iterator[cst.Call]:
        """`X.<api>()` calls (write_api/query_api) that no rule consumed: not bound to a name the write or query
        rule planned, not called on directly, not a `with` item, not on an async client."""
        handled = {id(b.call) for b in self.apis.values()}
        for call in self.facts.analysis.calls:
            f = call.func
            if isinstance(f, cst.Attribute) and isinstance(f.value, cst.Call):
                inner = f.value.func
                if isinstance(inner, cst.Attribute) and inner.attr.value in ("write_api", "query_api"):
                    handled.add(id(f.value))
            if isinstance(self.facts.parent.get(call), cst.WithItem):
                handled.add(id(call))
        for call in self.facts.analysis.calls:
            f = call.func
            if (
                isinstance(f, cst.Attribute)
                and f.attr.value == api
                and id(call) not in handled
                and not self.is_async(f.value)
            ):
                yield call

    def kept(self, kind: str) -> Iterator[ApiBinding]:
        """The `write_api`/`query_api` objects (`kind` "write" or "query") kept in a name or attribute."""
        return (b for b in self.apis.values() if b.kind == kind)

    def inline_calls(self) -> Iterator[tuple[cst.Call, cst.Call | None]]:
        """Every method call not made on an api object kept in a name, with the `X.query_api()`-like call it is
        made on when that is not one kept in a name either (else None)."""
        bound_calls = {id(b.call) for b in self.apis.values()}
        bound_uses = {id(self.facts.parent[u]) for b in self.apis.values() for u in b.uses}
        for call in self.facts.analysis.calls:
            f = call.func
            if not isinstance(f, cst.Attribute) or id(call) in bound_uses:
                continue
            inner = f.value
            if (
                isinstance(inner, cst.Call)
                and isinstance(inner.func, cst.Attribute)
                and id(inner) not in bound_calls
            ):
                yield call, inner
            else:
                yield call, None

    # ---- lookups ---------------------------------------------------------------------------------

    def line(self, node: cst.CSTNode) -> int:
        positions = self.facts.pos.data
        try:
            if isinstance(positions, StatementPositions):
                return positions.line(node)
            return self.facts.pos[node].start.line
        except KeyError:
            return 0

    def qualname(self, node: cst.CSTNode) -> str:
        """The dotted name a Name/Attribute chain stands for through the module's imports ("" when none)."""
        return self.facts.code_imports.qualname(node) or ""

    def is_v2(self, node: cst.CSTNode, *names: str) -> bool:
        q = self.qualname(node)
        return q.startswith("influxdb_client.") and q.rsplit(".", 1)[1] in names

    def key(self, expr: cst.CSTNode) -> tuple | None:
        if isinstance(expr, cst.Name):
            fn = self.facts.analysis.scope_of.get(id(expr))
            if fn is not None and expr.value in self.facts.analysis.locals.get(id(fn), set()):
                return ("local", id(fn), expr.value)
            return ("module", 0, expr.value)
        if (
            isinstance(expr, cst.Attribute)
            and isinstance(expr.value, cst.Name)
            and expr.value.value in ("self", "cls")
        ):
            cls = self.facts.analysis.class_of.get(id(expr))
            return ("attr", id(cls), expr.attr.value)
        return None

    def refs(self, key: tuple) -> list[cst.CSTNode]:
        if key[0] == "attr":
            return [n for n in self.facts.analysis.self_attrs if self.key(n) == key]
        out = []
        for n in self.facts.analysis.names:
            par = self.facts.parent.get(n)
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
        a, b = self.facts.pos[node], self.facts.pos[container]
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
            cur = self.facts.parent[cur]
        return cur

    def single_value(self, k: tuple) -> cst.BaseExpression | None:
        """The value of the one plain assignment to the name `k`, or None (several, none, or bare annotation)."""
        found = [
            v for _node, t, v in self.facts.analysis.assigns if isinstance(t, cst.Name) and self.key(t) == k
        ]
        return found[0] if len(found) == 1 else None

    def resolve_literal(self, value: cst.BaseExpression) -> str | None:
        """The string a module-level name is assigned (through `os.getenv(NAME, default)`: the default)."""
        k = self.key(value)
        v = self.single_value(k) if k is not None and k[0] == "module" else None
        if v is None:
            return None
        if (
            isinstance(v, cst.Call)
            and len(v.args) == 2
            and code_of(v.func) in ("os.getenv", "os.environ.get")
        ):
            v = v.args[1].value
        return string_value(v)

    def client_usable_at(self, client: cst.BaseExpression, use: cst.CSTNode) -> bool:
        """Whether the client expression means the same object at `use` as where the api was made."""
        k = self.key(client)
        if k is None:
            return False
        if k[0] == "module":
            return True
        if k[0] == "attr":
            return self.facts.analysis.class_of.get(id(use)) is self.facts.analysis.class_of.get(id(client))
        return self.facts.analysis.scope_of.get(id(use)) is self.facts.analysis.scope_of.get(id(client))

    def ctor_for(self, client: cst.BaseExpression) -> cst.Call | None:
        if isinstance(client, cst.Call) and self.is_v2(client.func, "InfluxDBClient"):
            return client
        k = self.key(client)
        found = self.clients.get(k) if k else None
        return found if found is not None and self.is_v2(found.func, "InfluxDBClient") else None

    def is_async(self, client: cst.BaseExpression) -> bool:
        k = self.key(client)
        return k is not None and k in self.async_clients


def planning(facts: ModuleFacts) -> Planning:
    """The module's clients and write_api/query_api objects (with their uses), and an empty plan."""
    p = Planning(facts)
    clients: dict[tuple, cst.Call] = {}
    async_clients: set[tuple] = set()
    found: dict[tuple, ApiBinding] = {}
    for node, target, value in facts.analysis.assigns:
        if isinstance(value, cst.Call):
            k = p.key(target)
            if k is None:
                continue
            if p.is_v2(value.func, "InfluxDBClient"):
                clients[k] = value
            elif isinstance(value.func, cst.Attribute) and value.func.attr.value == "from_env_properties":
                clients[k] = value
            elif p.is_v2(value.func, "InfluxDBClientAsync"):
                async_clients.add(k)
            elif isinstance(value.func, cst.Attribute) and value.func.attr.value in (
                "write_api",
                "query_api",
            ):
                b = api_binding(p, node, k, value)
                if b is not None:
                    found[k] = b
    apis = {}
    for bkey, b in found.items():
        uses: list[cst.Attribute] = []
        other = 0
        for ref in p.refs(bkey):
            if b.stmt is not None and p.within(ref, b.stmt):
                continue
            if b.with_node is not None and ref is b.with_node.items[0].asname.name:  # type: ignore[union-attr]
                continue
            par = facts.parent.get(ref)
            if (
                isinstance(par, cst.Attribute)
                and par.value is ref
                and isinstance(facts.parent.get(par), cst.Call)
            ):
                uses.append(par)
            else:
                other += 1
        apis[bkey] = ApiBinding(b.kind, b.key, b.call, b.client, b.stmt, b.with_node, tuple(uses), other)
    return Planning(facts, apis, clients, frozenset(async_clients))


def api_binding(p: Planning, node: cst.CSTNode, key: tuple, call: cst.Call) -> ApiBinding | None:
    kind = "write" if call.func.attr.value == "write_api" else "query"  # type: ignore[union-attr]
    if isinstance(node, cst.WithItem):
        with_node = p.facts.parent[node]
        return ApiBinding(kind, key, call, call.func.value, None, with_node)  # type: ignore[union-attr,arg-type]
    stmt = p.stmt_of(node)
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return None
    return ApiBinding(kind, key, call, call.func.value, stmt)  # type: ignore[union-attr,arg-type]


def v2_references(p: Planning) -> Iterator[tuple[cst.Name | cst.Attribute, str]]:
    """References to v2 names with a v3 counterpart (`InfluxDBClient`, `influxdb_client.rest.ApiException`),
    each with the name; imports and `InfluxDBClient.from_config_file` are left out."""
    for n in p.facts.analysis.names:
        par = p.facts.parent.get(n)
        if isinstance(par, (cst.ImportAlias, cst.AsName)) or (
            isinstance(par, cst.Attribute) and par.attr is n
        ):
            continue
        if isinstance(par, cst.Attribute) and par.attr.value in ("from_config_file",):
            continue
        if n.value in V3_NAMES and p.is_v2(n, n.value):
            yield n, n.value
    for node in p.facts.analysis.attrs:
        last = node.attr.value
        if (
            p.qualname(node).startswith("influxdb_client.")
            and last in V3_NAMES
            and not isinstance(p.facts.parent.get(node), cst.Attribute | cst.ImportFrom)
        ):
            yield node, last
