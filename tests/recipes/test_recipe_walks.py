"""The influxdb and aiomqtt recipes' own walks give what the plain walks they stand for give: the query wrappers
found only in functions holding a query call, the receivers' walk passing over nodes that bind nothing, the LibCST
analysis calling only its own visits, and the parents and scopes of a module read in one pass."""

from __future__ import annotations

import ast
import textwrap

import libcst as cst

from fleetshift.recipes import fixes
from fleetshift.recipes._ast import Imports
from fleetshift.recipes.aiomqtt.facts import _parents_and_scopes
from fleetshift.recipes.influxdb.analysis import Analysis
from fleetshift.recipes.influxdb.flux.find import QUERY_METHODS, parameter_aliases, wrappers
from fleetshift.recipes.influxdb.receivers import Receivers

MODULE = textwrap.dedent('''
    import functools
    from influxdb_client import InfluxDBClient

    def cached(q):
        return functools.lru_cache(api.query(q))

    @register(lambda flux: api.query(flux))
    def decorated(x):
        return x

    def outer(flux, other):
        alias = flux
        def inner(q, *, query=None):
            return api.query_stream(q)
        return api.query_data_frame(alias)

    class Repo:
        client: InfluxDBClient

        def __init__(self, client: InfluxDBClient) -> None:
            self.client = client
            self.q = client.query_api()

        async def run(self, text):
            rows = [r async for r in self.q.query(query=text)]
            return (lambda t=text: self.q.query(t))()

        def plain(self):
            return self.q.query("from(bucket: \\"b\\")")

    def make() -> InfluxDBClient:
        return InfluxDBClient(url="u")

    c = make()
    w = c.write_api()
    if (n := c.query_api()) is not None:
        pass
''')


def _plain_wrappers(tree: ast.Module) -> list[tuple[str, str, str, int]]:
    """The wrappers as found by walking every function (what `wrappers` did before it looked for the calls first)."""
    out = []
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        alias = parameter_aliases(fn)
        for node in ast.walk(fn):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in QUERY_METHODS:
                arg = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "query"), None)
                if isinstance(arg, ast.Name) and arg.id in alias:
                    out.append((fn.name, alias[arg.id], node.func.attr, node.lineno))
                    break
    return out


def test_wrappers_are_those_of_walking_every_function() -> None:
    tree = ast.parse(MODULE)
    found = [(w.name, w.param, w.method, w.line) for w in wrappers(tree)]
    assert found == _plain_wrappers(tree)
    assert {name for name, *_ in found} == {"cached", "outer", "inner", "run"}
    assert list(wrappers(ast.parse("def f(q):\n    return q\n"))) == []


class _PlainReceivers(Receivers):
    """Receivers walking every node with `ast.iter_child_nodes`, as the walk did before it passed over the nodes
    that bind nothing."""

    def _walk(self, node, fn, cls):  # type: ignore[no-untyped-def]
        saved = Receivers.__dict__["_walk"].__globals__["_children"]
        Receivers.__dict__["_walk"].__globals__["_children"] = lambda n: list(ast.iter_child_nodes(n))
        try:
            Receivers._walk(self, node, fn, cls)
        finally:
            Receivers.__dict__["_walk"].__globals__["_children"] = saved


def test_receivers_walk_records_what_the_plain_walk_records() -> None:
    tree = ast.parse(MODULE)
    imports = Imports(tree)
    fast, plain = Receivers(tree, imports), _PlainReceivers(tree, imports)
    assert fast.kinds == plain.kinds and fast.returns == plain.returns and fast.bound == plain.bound
    assert fast.scope_of == plain.scope_of
    assert fast.class_of == plain.class_of
    assert ("module", 0, "w") in fast.kinds and fast.returns == {"make": "client"}


class _Counted(Analysis):
    """An analysis whose subclass visits are seen too (the hooks are looked up on the visitor's own class)."""

    def __init__(self) -> None:
        super().__init__()
        self.lambdas = 0

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.lambdas += 1


def test_analysis_calls_its_own_visits_as_libcst_would() -> None:
    module = fixes.parse(MODULE)
    mine, libcsts = Analysis(), Analysis()  # the second dispatching as LibCST's visitor does
    fixes.read(module, mine)

    def on_visit(node: cst.CSTNode) -> bool:
        libcsts.scope_of[id(node)] = libcsts.funcs[-1]
        libcsts.class_of[id(node)] = libcsts.classes[-1]
        if libcsts._stack:
            libcsts.parent[node] = libcsts._stack[-1]
        libcsts._stack.append(node)
        return cst.CSTVisitor.on_visit(libcsts, node)

    def on_leave(node: cst.CSTNode) -> None:
        cst.CSTVisitor.on_leave(libcsts, node)
        libcsts._stack.pop()

    libcsts.on_visit, libcsts.on_leave = on_visit, on_leave  # type: ignore[method-assign]
    fixes.read(module, libcsts)
    for name in ("names", "attrs", "self_attrs", "calls", "assigns"):
        assert [id(n) if not isinstance(n, tuple) else tuple(map(id, n)) for n in getattr(mine, name)] == [
            id(n) if not isinstance(n, tuple) else tuple(map(id, n)) for n in getattr(libcsts, name)
        ], name
    assert mine.locals == libcsts.locals and mine.module_bindings == libcsts.module_bindings
    assert mine.params == libcsts.params and mine.parent == libcsts.parent
    counted = _Counted()
    fixes.read(module, counted)
    assert counted.lambdas == 2


def _indexed(node: ast.AST, func: ast.AST | None, cls: ast.AST | None, out: dict) -> None:
    """Each node's innermost function and class, by recursion (the walk the one pass stands for)."""
    out[id(node)] = (func, cls)
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
        func = node
    elif isinstance(node, ast.ClassDef):
        func, cls = None, node
    for child in ast.iter_child_nodes(node):
        _indexed(child, func, cls, out)


def test_parents_and_scopes_in_one_pass() -> None:
    tree = ast.parse(MODULE)
    nodes = list(ast.walk(tree))
    parents, scopes = _parents_and_scopes(nodes)
    expected: dict = {}
    _indexed(tree, None, None, expected)
    for node in nodes:
        if node._fields:  # (the shared operator and context nodes have no place of their own)
            assert scopes[id(node)] == expected[id(node)]
        for child in ast.iter_child_nodes(node):
            if child._fields:
                assert parents[id(child)] is node


RECONNECT = textwrap.dedent('''
    import asyncio
    from asyncio_mqtt import Client

    async def listen(client, n): ...

    async def main():
        while True:
            async with Client("h") as client:
                asyncio.create_task(listen(client, 1))
                asyncio.create_task(listen(client, 2))
                other = Client("h")
                asyncio.create_task(listen(other, 3))
                for x in range(3):
                    asyncio.create_task(handle(x))
            shared = make()
            asyncio.create_task(listen(shared, 4))
''')


def test_call_statistics_read_each_loop_once_as_each_call_would() -> None:
    """The names a loop binds to a new Client are found once per loop, and decide each call as before."""
    from fleetshift.recipes.aiomqtt import overlap

    tree = ast.parse(RECONNECT)
    imports = Imports(tree)
    walked: list[ast.AST] = []
    plain = overlap._new_clients

    def counted(loop: ast.AST, imports: Imports) -> set[str]:
        walked.append(loop)
        return plain(loop, imports)  # type: ignore[arg-type]

    calls = sorted((n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "listen"),
                   key=lambda n: n.lineno)
    loop = next(n for n in ast.walk(tree) if isinstance(n, ast.While))
    each = [overlap._gets_a_new_client(c, loop, imports) for c in calls]  # type: ignore[arg-type]
    assert each == [True, True, True, False]  # `other` too: an assignment of a Client in the pass
    memo = overlap._gets_a_new_client
    overlap._gets_a_new_client = lambda call, loop, imports, known=None: memo(call, loop, imports)  # type: ignore
    try:
        each_call = overlap.call_stats(tree)  # every call walks its loops' bodies again
    finally:
        overlap._gets_a_new_client = memo
    overlap._new_clients = counted  # type: ignore[assignment]
    try:
        stats = overlap.call_stats(tree)
    finally:
        overlap._new_clients = plain  # type: ignore[assignment]
    assert len({id(n) for n in walked}) == len(walked) > 0  # no loop's body walked twice
    assert stats == each_call and stats["listen"] == (4, True)


def _add_names_walking_everything(module: cst.Module, names: list[str]) -> cst.Module | None:
    """tenacity's `add_tenacity_names` as a plain walk of every node (None where it would add a new import)."""
    from fleetshift.recipes.nesting import ModuleLevel
    from fleetshift.recipes.tenacity.rewrite import append

    class AddNames(ModuleLevel, cst.CSTTransformer):
        done = False

        def leave_ImportFrom(self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom) -> cst.ImportFrom:
            if self.done or self.depth or updated_node.relative or isinstance(updated_node.names, cst.ImportStar):
                return updated_node
            if updated_node.module is None or cst.Module([]).code_for_node(updated_node.module) != "tenacity":
                return updated_node
            self.done = True
            return updated_node.with_changes(names=append(updated_node.names, [cst.ImportAlias(cst.Name(n)) for n in names]))

    adder = AddNames()
    new = module.visit(adder)
    return new if adder.done else None


def test_tenacity_names_added_where_the_walk_of_every_node_adds_them() -> None:
    from fleetshift.recipes.tenacity.rewrite import add_tenacity_names

    cases = [
        "from tenacity import retry\nfrom tenacity import stop_after_attempt\n",
        "import os\n\ndef f():\n    from tenacity import retry\n\nfrom tenacity import (\n    wait_fixed,\n)\n",
        "class C:\n    from tenacity import retry\n\nif TYPE_CHECKING:\n    pass\nelif x:\n    from tenacity import a\n",
        "try:\n    import x\nexcept ImportError:\n    from tenacity import b\nelse:\n    pass\nfinally:\n    y = 1\n",
        "with ctx() as c:\n    for i in r:\n        while w:\n            from tenacity import c\n",
        "match v:\n    case 1:\n        from tenacity import d\n",
        "try:\n    pass\nexcept* E:\n    from tenacity import e\n",
        "if a: from tenacity import f; g = 1\n",
        "@decorate(lambda: 1)\nasync def g():\n    from tenacity import retry\n\nfrom .tenacity import x\nfrom tenacity import *\n"
        "from tenacity.wait import w\nfrom tenacity import h\n",
    ]
    for source in cases:
        module = cst.parse_module(source)
        want = _add_names_walking_everything(module, ["retry_any", "retry_all"])
        assert want is not None, source
        assert add_tenacity_names(module, ["retry_any", "retry_all"]).code == want.code, source
    module = cst.parse_module("def f():\n    from tenacity import retry\n")  # none at module level: a new import
    assert add_tenacity_names(module, ["retry_any"]).code.startswith("from tenacity import retry_any\n")

FIXTURES = textwrap.dedent('''
    import pytest
    from asyncio_mqtt import Client

    @pytest.fixture
    async def mqtt():
        async with Client("h") as c:
            yield c

    @pytest.fixture
    def made():
        client = Client("h")
        return client

    async def test_one(mqtt, other):
        async for m in mqtt.filtered_messages("t"):
            pass
''')


def test_a_files_clients_and_fixtures_read_once_per_tree(monkeypatch) -> None:
    """A file's Client fixtures found before its facts are built (`client_fixtures`) and the names holding a
    Client knowing no other file's fixture are read once per tree, and are what reading them again gives."""
    from fleetshift.recipes.aiomqtt import facts as F

    tree = ast.parse(FIXTURES)
    walks = []
    receivers = F._receivers
    monkeypatch.setattr(F, "_receivers", lambda facts: walks.append(facts.fixtures) or receivers(facts))
    own = F.client_fixtures(FIXTURES, tree)
    assert own == {"mqtt", "made"}
    facts = F.facts_of(FIXTURES, tree, {}, frozenset({"other"}))
    assert walks == [frozenset(), frozenset({"mqtt", "made", "other"})]  # not the fixture-less walk again
    fresh = F.facts_of(FIXTURES, ast.parse(FIXTURES), {}, frozenset({"other"}))
    assert facts.fixtures == fresh.fixtures == {"mqtt", "made", "other"}
    assert facts.mqtt_file == fresh.mqtt_file and facts.old_file == fresh.old_file

    def held(receivers: dict) -> list:
        return sorted((code, [getattr(c, "lineno", None) for c in calls]) for (_, code), calls in receivers.items())

    assert held(facts.receivers) == held(fresh.receivers) and len(facts.receivers) == 4


def test_event_loop_uses_read_without_rebuilding_the_body(monkeypatch) -> None:
    """The event_loop rules count a function's loop uses by reading its body (`fixes.read`), not by LibCST's
    `visit`, which builds a copy of every node; the counts are those LibCST's walk gives."""
    from fleetshift.recipes.pytest_asyncio.event_loop import LoopNames

    source = textwrap.dedent('''
        import asyncio

        def test_sync(event_loop):
            event_loop.run_until_complete(work())
            asyncio.get_event_loop()
            [event_loop.time() for _ in range(2)]
            def inner():
                return event_loop.stop()
            return lambda: event_loop

        async def test_async(event_loop):
            event_loop.call_soon(print)
            await event_loop.run_in_executor(None, f)
    ''')
    module = cst.parse_module(source)
    for fn in module.body[1:]:
        read, visited = LoopNames("event_loop"), LoopNames("event_loop")
        fixes.read(fn.body, read)
        fn.body.visit(visited)
        assert vars(read) == vars(visited)
        assert read.total > 0

    walked: list[str] = []
    real = cst.IndentedBlock.visit

    def visit(self: cst.IndentedBlock, visitor: object) -> object:
        walked.append(type(visitor).__name__)
        return real(self, visitor)

    monkeypatch.setattr(cst.IndentedBlock, "visit", visit)
    from recipe_harness import rewrite

    new, _findings = rewrite("pytest-asyncio", source, path="svc/tests/test_loop.py")
    assert new != source  # the rules acted
    assert "LoopNames" not in walked
