"""pytest-asyncio's facts read on `ast`: function and class lines equal LibCST's positions, and the calls with
their async context come in source order."""

from __future__ import annotations

import ast

import libcst as cst
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
