"""What a sparse view reads of each top-level statement (`sparse._mentions`) is what a walk of all its nodes reads."""

from __future__ import annotations

import ast
from pathlib import Path

from fleetshift.recipes import sparse

ROOT = Path(__file__).resolve().parent.parent
EDGES = """
import a.b.c as d, e.f
from g import h as i, j
global k
def f(x, /, y=1, *args, z: 'Ann' = 2, **kw):
    nonlocal_name = lambda q: q.attr
    class C(Base, metaclass=M):
        '''doc words here'''
    return [w for w in x if w], {**kw}, f"{y!r:>{z}}"
match v:
    case Point(x=0, y=yy) | [1, *rest] | {"k": kk, **others}:
        pass
async def g():
    async with a as (b, c):
        await d
    del e[0], f.g
"""


def _walked(node: ast.AST) -> tuple[set[str], set[str]]:
    words: set[str] = set()
    reads: set[str] = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            words.add(n.id)
            if isinstance(n.ctx, ast.Load):
                reads.add(n.id)
        elif isinstance(n, ast.Attribute):
            words.add(n.attr)
        elif isinstance(n, ast.arg):
            words.add(n.arg)
        elif isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            words.add(n.name)
        elif isinstance(n, ast.alias):
            words.add((n.asname or n.name).split(".")[0])
        elif isinstance(n, ast.Constant) and isinstance(n.value, str) and len(n.value) <= 200:
            words.update(sparse._WORD.findall(n.value))
        elif isinstance(n, ast.Global | ast.Nonlocal):
            words.update(n.names)
    return words, reads


def test_mentions_are_those_of_a_walk() -> None:
    texts = [EDGES] + [p.read_text(encoding="utf-8") for p in sorted((ROOT / "src").rglob("*.py"))]
    statements = [s for text in texts for s in ast.parse(text).body]
    assert len(statements) > 2000
    for stmt in statements:
        assert sparse._mentions(stmt) == _walked(stmt), ast.dump(stmt)[:200]
