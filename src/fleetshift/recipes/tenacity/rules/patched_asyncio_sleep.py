"""a patched `asyncio.sleep` now also sees tenacity's back-off sleeps

asyncio.sleep patch now also sees tenacity back-off sleeps (tenacity>=8.3); adjust call-count assertions
or pass sleep= explicitly
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from fleetshift.model import Action
from fleetshift.recipes._ast import dotted
from fleetshift.recipes.rule import HUMAN, INFO, rule
from fleetshift.recipes.tenacity.resolve import Facts

RULE = rule(__name__, __doc__, HUMAN, since="8.3.0", link="https://github.com/jd/tenacity/pull/450", order=7)


# how a string naming what it patches ends: "asyncio.sleep" (or "<module>.asyncio.sleep"), or "sleep" (the
# attribute `patch.object(asyncio, ...)` is given; these are the recipe's tokens too)
PATCHED = ('asyncio.sleep"', "asyncio.sleep'", '"sleep"', "'sleep'")


def check(facts: Facts) -> Iterator[tuple[ast.AST, str, Action]]:
    """`patch("asyncio.sleep")`, `patch.object(asyncio, "sleep")` and `monkeypatch.setattr` of either, in a
    service that uses tenacity: none when the service's files are known and none imports tenacity; as
    information when only this file is known and it does not import tenacity (a test patching asyncio.sleep
    for code of its own is no tenacity use)."""
    if not facts.mentions("patch") or not facts.writes(*PATCHED):
        return  # every patch it knows is spelled with `patch`, and names asyncio.sleep or "sleep" in a string
    service_uses = facts.index.uses_tenacity(facts.path) if facts.index is not None else None
    if service_uses is False:
        return
    action = HUMAN if facts.uses_tenacity or service_uses else INFO
    for node in facts.nodes(ast.Call):
        assert isinstance(node, ast.Call)
        if patches_asyncio_sleep(facts, node):
            yield node, "", action


def patches_asyncio_sleep(facts: Facts, node: ast.Call) -> bool:
    name = dotted(node.func) or ""
    args = node.args
    strs = [a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    last = name.rsplit(".", 1)[-1]
    target = strs[0] if strs and args and isinstance(args[0], ast.Constant) else ""
    hits = target == "asyncio.sleep" or target.endswith(".asyncio.sleep")
    if hits and (last == "patch" or name.endswith("monkeypatch.setattr")):
        return True
    if (name.endswith("patch.object") or name.endswith("monkeypatch.setattr")) and len(args) >= 2:
        return facts.imports.qualname(args[0]) == "asyncio" and strs[:1] == ["sleep"]
    return False
