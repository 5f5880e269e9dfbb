"""The base of the influxdb3 rewrite planners: the parsed module, its analysis, shared lookups and the plan.

Each planner (construction, database, writes, queries, result readers) adds `plan_*` methods on top of
this state; `rewrite.Rewriter` combines them.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider, QualifiedNameProvider

from fleetshift.recipes._ast import Imports
from fleetshift.recipes.influxdb.analysis import Analysis, ApiBinding
from fleetshift.recipes.influxdb.edits import LazyMetadata, Note, Plan, code_of, string_value
from fleetshift.recipes.influxdb.strings import Template


@dataclass(frozen=True)
class ModuleFacts:
    """What the planners read about one module, gathered once: its source and both trees, its imports, the
    LibCST analysis and metadata, and the service's bucket names."""

    text: str
    module: cst.Module
    tree: ast.Module
    imports: Imports
    analysis: Analysis
    pos: LazyMetadata
    parent: LazyMetadata
    qn: LazyMetadata
    service_buckets: frozenset[str] = frozenset()
    bucket_attrs: frozenset[str] = frozenset()


def module_facts(
    text: str, service_buckets: frozenset[str] = frozenset(), bucket_attrs: frozenset[str] = frozenset()
) -> ModuleFacts:
    """Parse and analyse one module for the planners."""
    wrapper = MetadataWrapper(cst.parse_module(text))
    analysis = Analysis()
    wrapper.visit(analysis)
    tree = ast.parse(text)
    return ModuleFacts(
        text,
        wrapper.module,
        tree,
        Imports(tree),
        analysis,
        LazyMetadata(wrapper.resolve(PositionProvider)),
        LazyMetadata(wrapper.resolve(ParentNodeProvider)),
        LazyMetadata(wrapper.resolve(QualifiedNameProvider)),
        service_buckets,
        bucket_attrs,
    )


class Planner:
    """The plan being built for one module, from its facts."""

    def __init__(self, facts: ModuleFacts) -> None:
        self.facts = facts
        self.plan = Plan()
        self.template = Template("", ())  # the Flux template of the query whose consumers are planned
        self.bindings: dict[tuple, ApiBinding] = {}
        self.clients: dict[tuple, cst.Call] = {}
        self.bucket_exprs: list[tuple[cst.BaseExpression, str]] = []  # (node or parsed expr, code)
        self.write_client_opts: dict[int, list[tuple[ApiBinding | None, cst.Call]]] = {}
        self.need_timezone = False
        self.async_clients: set[tuple] = set()
        self.locked_ctor: set[int] = set()

    # ---- helpers -------------------------------------------------------------------------------

    def line(self, node: cst.CSTNode) -> int:
        try:
            return self.facts.pos[node].start.line
        except KeyError:
            return 0

    def note(self, rule: str, node: cst.CSTNode | int, message: str) -> None:
        line = node if isinstance(node, int) else self.line(node)
        self.plan.notes.append(Note(rule, line, message))

    def qnames(self, node: cst.CSTNode) -> set[str]:
        try:
            v = self.facts.qn[node]
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

    def set(self, node: cst.CSTNode, fn: Callable[[cst.CSTNode], object]) -> None:
        prev = self.plan.replace.get(id(node))
        if prev is None:
            self.plan.replace[id(node)] = fn  # type: ignore[assignment]
        else:
            self.plan.replace[id(node)] = lambda n, p=prev, f=fn: f(p(n))  # type: ignore[misc]

    def single_value(self, k: tuple) -> cst.BaseExpression | None:
        """The value of the one plain assignment to the name `k`, or None (several, none, or bare annotation)."""
        found = [v for _node, t, v in self.facts.analysis.assigns if isinstance(t, cst.Name) and self.key(t) == k]
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

    # ---- clients and api objects --------------------------------------------------------------------

    def collect(self) -> None:
        for node, target, value in self.facts.analysis.assigns:
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
                par = self.facts.parent.get(ref)
                if (
                    isinstance(par, cst.Attribute)
                    and par.value is ref
                    and isinstance(self.facts.parent.get(par), cst.Call)
                ):
                    b.uses.append(par)
                else:
                    b.other_uses += 1

    def add_binding(self, node: cst.CSTNode, key: tuple, call: cst.Call) -> None:
        kind = "write" if call.func.attr.value == "write_api" else "query"  # type: ignore[union-attr]
        if isinstance(node, cst.WithItem):
            with_node = self.facts.parent[node]
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
