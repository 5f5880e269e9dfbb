"""pytest-asyncio's LibCST facts take function and class lines from `ast`: the same lines LibCST's positions give."""

from __future__ import annotations

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

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
    import ast

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
    assert len(funcs) == 12 and len(classes) == 5
