"""influxdb3 rewrite: the names the import rule reads on `ast` are the ones LibCST's Name nodes hold, module for module."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import libcst as cst
import pytest
from test_influxdb_positions import TANGLED

IMPORT_RULE = importlib.import_module("fleetshift.recipes.influxdb.rules.import")

MORE = '''\
import influxdb_client.client.write_api as w
from influxdb_client import Point as P, InfluxDBClient


def h(*a, k=1, **kw):
    global g
    f(Point=1, database=None)
    lambda q, *r: q
    try:
        pass
    except* E as ee:
        pass
    match p:
        case C(a, b=c, d=e):
            pass
        case {1: _, **rest}:
            pass
        case [*s] if True:
            pass
    print(f"{a!r:{w.width}}", ...)
    del z
    return InfluxDBClient3.from_env().client.x
'''
ROOT = Path(__file__).parents[2]
CORPUS = sorted({*ROOT.glob("tests/projects/*/**/*.py"), *ROOT.glob("examples/homeiq/**/*.py")})


@pytest.mark.parametrize(
    "text", [TANGLED, MORE, *(p.read_text() for p in CORPUS)], ids=["tangled", "more", *(str(p.relative_to(ROOT)) for p in CORPUS)]
)
def test_read_names_are_libcsts(text: str) -> None:
    try:
        tree, module = ast.parse(text), cst.parse_module(text)
    except (SyntaxError, cst.ParserSyntaxError):  # a project kept for its Python 2 or 3.12 syntax
        return
    assert IMPORT_RULE.read_names(tree) == IMPORT_RULE.cst_names(module)
