"""influxdb3 rewrite: the positions worked out one statement at a time are LibCST's PositionProvider's, node for node."""

from __future__ import annotations

import ast
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from fleetshift.recipes.influxdb.analysis import Analysis
from fleetshift.recipes.influxdb.plan import StatementPositions

TANGLED = '''\
# header

import os ; import sys


@decorator(
    arg,
)
class Store(
    Base):
    """doc"""

    x = 1; y = 2
    def f(self, a,
          b):  # c
        if a: return 1
        elif b:
            return 2
        elif a and \\
                b:
            pass
        else:
            x = """multi
line""" ; z = 3
        for i in range(3):
            continue
        else:
            pass
        while x:
            break
        else:
            pass
        try:
            pass
        except ValueError as e:
            raise
        except (TypeError,
                KeyError):
            pass
        else:
            pass
        finally:
            pass
        # footer comment
    async def g(self):
        async with a as b, c:
            async for q in b:
                await q
        match self:
            case {"a": 1}:
                pass
            case [x, *rest] if x:
                return rest
            case _:
                pass

try:
    pass
except* ValueError:
    pass
# trailing
'''
TABS = "if x:\n\ty = 1\n\tif z:\n\t\tw = (\n  2)\n\telse:\n\t\tpass\n"
CORPUS = sorted(Path(__file__).parents[1].glob("projects/*/**/*.py"))


def positions(text: str) -> tuple[dict[cst.CSTNode, object], StatementPositions]:
    module = cst.parse_module(text)
    analysis = Analysis()
    module.visit(analysis)
    whole = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    return dict(whole), StatementPositions(module, ast.parse(text), analysis.parent)


@pytest.mark.parametrize(
    "text",
    [TANGLED, TANGLED.replace("\n", "\r\n"), TANGLED.replace("    ", "  "), TABS],
    ids=["tangled", "crlf", "two-spaces", "tabs"],
)
def test_every_node_has_the_providers_position(text: str) -> None:
    whole, by_statement = positions(text)
    assert by_statement.starts()  # paired with ast: answered statement by statement, not by the fallback
    assert [n for n, r in whole.items() if by_statement[n] != r] == []


def test_the_projects_corpus_has_the_providers_positions() -> None:
    for path in CORPUS:
        try:
            whole, by_statement = positions(path.read_text())
        except (SyntaxError, cst.ParserSyntaxError):  # a project kept for its Python 2 or 3.12 syntax
            continue
        assert [n for n, r in whole.items() if by_statement[n] != r] == [], path
        fresh = StatementPositions(by_statement.module, by_statement.tree, by_statement.parent)
        assert [n for n, r in whole.items() if fresh.line(n) != r.start.line] == [], path


HEADS = """\
with a(1) as b, c(
    2):
    x = f(y); z = g(
        w)
    with (d(3) as e,
          f(4)):
        pass
    if (h or
        i) and j:
        k = [m(5)]  # comment
    elif n(6): o = 7
    while p(
          ): q()
    for r, s in t(8): u(9)
    for v in (
        w): pass
if a(1) or (b
):
    pass
elif c(2):
    pass
while (d(3)):
    e = f(4) if g else [
        h]
for (i, j) in k(5, l=6):
    @m(7)
    def n(o=p(8)): return q(9)
async def f():
    async with x(1) as y:
        z = \\
            2
    async for a in b(c):
        d(e)
    x = (
        1)
    (y
    ) = 2
    f('''a
    b''', g); h(
    )
"""


@pytest.mark.parametrize("text", [TANGLED, HEADS, HEADS.replace("\n", "\r\n"), TABS], ids=["tangled", "heads", "crlf", "tabs"])
def test_every_nodes_line_is_the_providers(text: str) -> None:
    """Asked first (before any statement's positions are worked out), the line of each node, whether given without
    code generation or not, is the provider's."""
    whole, by_statement = positions(text)
    for node, r in whole.items():
        fresh = StatementPositions(by_statement.module, by_statement.tree, by_statement.parent)
        assert (type(node).__name__, fresh.line(node)) == (type(node).__name__, r.start.line)


@pytest.mark.parametrize("text", [TANGLED, TANGLED.replace("\n", "\r\n"), TABS, "x = 1", ""], ids=["tangled", "crlf", "tabs", "no-newline", "empty"])
def test_the_whole_module_fallback_is_the_providers(text: str) -> None:
    whole, by_statement = positions(text)
    assert by_statement.whole() == whole
