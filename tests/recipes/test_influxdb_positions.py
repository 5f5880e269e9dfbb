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


@pytest.mark.parametrize("text", [TANGLED, TANGLED.replace("\n", "\r\n"), TABS, "x = 1", ""], ids=["tangled", "crlf", "tabs", "no-newline", "empty"])
def test_the_whole_module_fallback_is_the_providers(text: str) -> None:
    whole, by_statement = positions(text)
    assert by_statement.whole() == whole
