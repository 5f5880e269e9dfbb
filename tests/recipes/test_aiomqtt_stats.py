"""The aiomqtt call statistics computed lazily, name by name, equal the eager merge over every file."""

from __future__ import annotations

import ast

from fleetshift.recipes.aiomqtt.overlap import LazyStats, call_stats, defined_functions, merge_stats

OWN = """
import asyncio

async def listen(client):
    async with client.messages() as messages:
        async for m in messages:
            print(m)

async def main():
    await asyncio.gather(listen(a), listen(b))
    handle()
"""
OTHERS = [
    "from app import listen\n\nasync def go():\n    for c in clients:\n        asyncio.create_task(listen(c))\n",
    "def listen():\n    pass\n\nlisten()\nlisten()\n",  # defines its own listen: not counted
    "def run():\n    ｈandle()\n    handle()\n",  # NFKC: the first call is `handle` too, though not spelled so
    "x = 1\n",
]


def test_lazy_stats_equal_the_eager_merge() -> None:
    own = call_stats(ast.parse(OWN))
    others = [(call_stats(ast.parse(t)), defined_functions(ast.parse(t))) for t in OTHERS]
    eager = merge_stats(own, others)
    lazy = LazyStats(lambda: call_stats(ast.parse(OWN)), OTHERS)
    assert {n: lazy.get(n) for n in [*eager, "nowhere"]} == {**eager, "nowhere": None}
    assert eager["handle"] == (3, False) and eager["listen"][1] is True
    assert dict(lazy) == eager and len(lazy) == len(eager)
