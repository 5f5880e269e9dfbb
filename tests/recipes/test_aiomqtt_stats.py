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


def test_texts_not_parsed_yet_count_only_when_they_parse() -> None:
    broken = "def oops(:\n    listen()\n"
    deep = "listen()\nx = " + "-" * 5000 + "1\n"
    eager = merge_stats(call_stats(ast.parse(OWN)), [(call_stats(ast.parse(t)), defined_functions(ast.parse(t)))
                                                     for t in OTHERS])
    texts = [*OTHERS, broken, deep]
    lazy = LazyStats(lambda: call_stats(ast.parse(OWN)), texts, {OTHERS[0], broken, deep})
    assert {n: lazy.get(n) for n in eager} == eager
    assert dict(LazyStats(lambda: call_stats(ast.parse(OWN)), texts, {broken, deep})) == eager


CONFTEST = (
    "import pytest\nfrom asyncio_mqtt import Client\n@pytest.fixture\nasync def bus():\n"
    "    async with Client('h', client_id='bus') as client:\n        yield client\n"
)
CONSUMER = (
    "from asyncio_mqtt import Client\nasync def consume(client: Client):\n    async with client.messages() as ms:\n"
    "        async for m in ms:\n            print(m)\n"
)


def test_files_without_a_token_are_read_where_they_matter() -> None:
    """A file holding no token is parsed where it names a client fixture (a too-deep one is reported) or a function
    a rule asks about (one that does not parse counts as absent); the rewrite is the eager one's."""
    from recipe_harness import _ctx, rules_of

    from fleetshift.recipes import get

    files = {
        "svc/tests/conftest.py": CONFTEST,
        "svc/consumer.py": CONSUMER,
        "svc/tests/test_bus.py": "async def test_bus(bus):\n    assert bus.id == 'bus'\n",
        "svc/tests/test_deep.py": "async def test_deep(bus):\n    x = " + "-" * 5000 + "1\n",
        "svc/tests/test_broken.py": "async def test_b(c:\n    await consume(c)\n",
        "svc/tests/test_other.py": "def test_other():\n    assert True\n",
        "svc/main.py": "import asyncio\nfrom svc.consumer import consume\nasync def main(c):\n"
                       "    await asyncio.gather(consume(c), consume(c))\n",
    }
    out = get("aiomqtt").migrate(_ctx(files, None, False, ()))
    new, findings = {**files, **out.texts}, out.findings
    assert new["svc/tests/test_bus.py"] == "async def test_bus(bus):\n    assert bus.identifier == 'bus'\n"
    assert "client.messages()" in new["svc/consumer.py"]  # consumed twice at once (main.py): left, and reported
    assert rules_of(findings) >= {"aiomqtt/shared-message-queue", "aiomqtt/too-deep"}
    assert [f.file for f in findings if f.rule == "aiomqtt/too-deep"] == ["svc/tests/test_deep.py"]
    assert findings[0].rule == "aiomqtt/too-deep"  # the parse failures first, as the files were read
