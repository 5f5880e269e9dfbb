"""pytest-asyncio's facts read on `ast`: function and class lines equal LibCST's positions, and the calls with
their async context come in source order; the modules parsed for event_loop overrides."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from fleetshift.recipes.pytest_asyncio.facts import calls_with_context
from fleetshift.recipes.pytest_asyncio.tree import _def_lines

TEXT = '''
import pytest


@pytest.fixture(
    scope="module",
)
async \\
  def server():
    class Inner:
        def method(self): pass
    yield Inner


@pytest.mark.asyncio
class TestThings:
    async def test_a(self):
        def helper(): ...
        try:
            pass
        except ValueError:
            async def on_error(): ...
        else:
            def on_else(): ...
        finally:
            class Gone: ...

    def test_b(self): x = 1; y = 2

if True:
    def maybe(): ...
else:
    class Other: ...
for _ in ():
    def looped(): ...
while False:
    pass
else:
    def after(): ...
with open(__file__):
    def within(): ...
match 1:
    case 1:
        def one(): ...
    case _:
        class Any_: ...
try:
    pass
except* ValueError:
    def star(): ...
'''


def test_definition_lines_are_libcst_positions() -> None:
    module = cst.parse_module(TEXT)
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    funcs: list[int] = []
    classes: list[int] = []

    class Order(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
            funcs.append(positions[node].start.line)

        def visit_ClassDef(self, node: cst.ClassDef) -> None:
            classes.append(positions[node].start.line)

    module.visit(Order())
    assert _def_lines(ast.parse(TEXT)) == (funcs, classes)
    assert len(funcs) == 13 and len(classes) == 5


def test_calls_in_source_order_with_their_async_context() -> None:
    def recursive(node: ast.AST, is_async: bool) -> list[tuple[ast.Call, bool]]:
        out = []
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.AsyncFunctionDef):
                out += recursive(child, True)
            elif isinstance(child, ast.FunctionDef | ast.Lambda):
                out += recursive(child, False)
            else:
                if isinstance(child, ast.Call):
                    out.append((child, is_async))
                out += recursive(child, is_async)
        return out

    text = TEXT + """
async def outer(x=f(g())):
    await h(lambda: k(m()), [n() for _ in p()])
    def inner():
        return q(r())
    return s(await t())
"""
    tree = ast.parse(text)
    found = list(calls_with_context(tree))
    assert found == recursive(tree, False)
    assert [(ast.unparse(c.func), a) for c, a in found][-9:] == [
        ("h", True), ("k", False), ("m", False), ("n", True), ("p", True), ("q", False), ("r", False), ("s", True),
        ("t", True),
    ]


def test_imports_on_top_are_what_add_imports_leaves_be() -> None:
    from libcst.codemod import CodemodContext
    from libcst.codemod.visitors import AddImportsVisitor

    from fleetshift.recipes.pytest_asyncio.rewrite import _imported_on_top

    texts = [
        '"""doc"""\nimport pytest\nimport asyncio, pytest_asyncio\n\nx = 1\n',
        "import pytest as pt\nimport pytest_asyncio\n",
        "import os; import pytest\nimport pytest_asyncio\n",
        "x = 1\nimport pytest\nimport pytest_asyncio\n",
        "from pytest import fixture\nimport pytest_asyncio\n",
        "__strict__ = True\nimport pytest\nimport pytest_asyncio\n",
        "def f():\n    import pytest, pytest_asyncio\n",
    ]
    verdicts = []
    for text in texts:
        module = cst.parse_module(text)
        ctx = CodemodContext()
        for mod in ("pytest", "pytest_asyncio"):
            AddImportsVisitor.add_needed_import(ctx, mod)
        unchanged = AddImportsVisitor(ctx).transform_module(module).code == text
        on_top = _imported_on_top(module, ["pytest", "pytest_asyncio"])
        assert not on_top or unchanged
        verdicts.append(on_top)
    assert verdicts == [True, False, False, False, False, True, False]


def test_the_import_cleanup_is_skipped_only_where_it_would_change_nothing() -> None:
    """`_kept` says the unused-import cleanup would leave a module as it is only where LibCST's own cleanup does."""
    import libcst as cst
    from libcst.codemod import CodemodContext
    from libcst.codemod.visitors import RemoveImportsVisitor

    from fleetshift.recipes.pytest_asyncio.rewrite import _kept

    def cleanup_keeps(code: str) -> bool:
        ctx = CodemodContext()
        for mod in ("asyncio", "pytest"):
            RemoveImportsVisitor.remove_unused_import(ctx, mod)
        return RemoveImportsVisitor(ctx).transform_module(cst.parse_module(code)).code == code

    used = "import asyncio\nimport pytest\n\n@pytest.fixture\ndef f():\n    return asyncio.sleep\n"
    cases = [
        used,
        "import os\n",  # neither imported
        "import asyncio\nimport pytest\n\ndef f():\n    return 1\n",  # both unused
        "import asyncio\nimport pytest\n\ndef f(asyncio):\n    return asyncio, pytest\n",  # shadowed by a parameter
        "import asyncio\nimport pytest\n\ndef f():\n    asyncio = 1\n    return asyncio, pytest\n",  # a local
        "import pytest\nif True:\n    import asyncio\n\ndef f():\n    return asyncio, pytest\n",  # nested import
        "import asyncio as aio\nimport pytest\n\ndef f():\n    return aio, pytest\n",  # aliased
        "import asyncio.subprocess\nimport pytest\n\ndef f():\n    return asyncio, pytest\n",  # a submodule
        "import asyncio\nimport pytest\n\nclass C:\n    asyncio = 1\n    x = asyncio, pytest\n",  # a class attribute
        "import asyncio\nimport pytest\n\nx = [asyncio for asyncio in ()], pytest\n",  # a comprehension target
        "import asyncio\nimport pytest\n\n__all__ = ['asyncio']\nx = pytest\n",  # named in __all__ only
    ]
    for code in cases:
        if _kept(code, ["asyncio", "pytest"]):
            assert cleanup_keeps(code), code
    assert _kept(used, ["asyncio", "pytest"]) and _kept("import os\n", ["asyncio", "pytest"])
    assert not _kept(cases[2], ["asyncio", "pytest"]) and not cleanup_keeps(cases[2])


def test_calls_with_context_read_as_a_walk_of_iter_child_nodes() -> None:
    import ast
    from pathlib import Path

    from fleetshift import astparse
    from fleetshift.recipes.pytest_asyncio import facts as pa_facts

    def walked(tree: ast.AST) -> list[tuple[ast.AST, bool]]:  # every call and its context, a node at a time
        out, todo = [], [(tree, False)]
        while todo:
            node, is_async = todo.pop()
            if node is not tree and isinstance(node, ast.Call):
                out.append((node, is_async))
            if isinstance(node, ast.AsyncFunctionDef) and node is not tree:
                is_async = True
            elif isinstance(node, (ast.FunctionDef, ast.Lambda)) and node is not tree:
                is_async = False
            todo.extend((child, is_async) for child in reversed(list(ast.iter_child_nodes(node))))
        return out

    text = (
        "@d(f())\nasync def a(x=g()):\n    h({**k(), 1: m()}, *n())\n    def b():\n        return (lambda: p())()\n"
        "    await q([r() for _ in s()])\n    global z\n    match t():\n        case C(u=1, v=w()): pass\n"
        "class K(base()):\n    async def c(self): yield y()\n"
    )
    for source in (text, Path(pa_facts.__file__).read_text(), Path(ast.__file__).read_text()):
        tree = astparse.parse(source)
        assert list(pa_facts.calls_with_context(tree)) == walked(tree)


def test_only_a_module_that_may_hold_an_event_loop_override_is_parsed_for_one(
        monkeypatch: pytest.MonkeyPatch, record_calls: Callable[[object, str], list[object]]) -> None:
    """`judged_overrides` parses a module naming event_loop only when its text spells a def of that name or a keyword
    name= (an ASCII one; any other is parsed), and finds what parsing every such module finds."""
    import importlib
    from pathlib import Path

    survey = importlib.import_module("fleetshift.recipes.pytest_asyncio.survey")  # (the package's survey: a function)
    root = Path(__file__).resolve().parents[2]
    py = {str(p.relative_to(root)): p.read_text(encoding="utf-8") for p in sorted((root / "tests").rglob("*.py"))}
    py = {p: t for p, t in py.items() if "event_loop" in t and survey.is_test_code(p, t)}
    edges = {
        "svc/conftest.py": "import pytest\n\n@pytest.fixture(\n    name \\\n  = 'event_loop')\ndef loop():\n"
                           "    import asyncio\n    loop = asyncio.new_event_loop()\n    yield loop\n    loop.close()\n",
        "svc/tests/conftest.py": "import asyncio\nimport pytest\n\n@pytest.fixture\ndef \\\n event_loop():\n"
                                 "    loop = asyncio.new_event_loop()\n    yield loop\n    loop.close()\n",
        "svc/tests/test_uses.py": "import pytest\n\nasync def test_a(event_loop):\n    assert event_loop\n",
        "svc/tests/test_wide.py": "# ünïcode\nimport pytest\n\n@pytest.fixture\ndef ｅvent_loop():\n    yield None\n"
                                  "def test_b(event_loop):\n    pass\n",
    }
    py.update(edges)
    parsed = record_calls(survey, "parse")
    found = survey.judged_overrides(py)
    assert edges["svc/tests/test_uses.py"] not in parsed  # names event_loop, defines none
    assert {edges[p] for p in ("svc/conftest.py", "svc/tests/conftest.py", "svc/tests/test_wide.py")} <= set(parsed)
    assert {("svc/conftest.py", "", "loop"), ("svc/tests/conftest.py", "", "event_loop"),
            ("svc/tests/test_wide.py", "", "event_loop")} <= set(found)
    monkeypatch.setattr(survey, "_MAY_OVERRIDE", re.compile(""))  # every module parsed
    assert survey.judged_overrides(py) == found
    assert len(parsed) > len(py) and len(found) > 3
