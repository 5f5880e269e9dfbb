"""a patched `asyncio.sleep` now also sees tenacity's back-off sleeps

asyncio.sleep patch now also sees tenacity back-off sleeps (tenacity>=8.3); adjust call-count assertions
or pass sleep= explicitly
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from fleetshift.recipes._ast import dotted
from fleetshift.recipes.rule import HUMAN, rule
from fleetshift.recipes.tenacity.resolve import Facts

RULE = rule(__name__, __doc__, HUMAN, since="8.3.0", link="https://github.com/jd/tenacity/pull/450", order=7)


def check(facts: Facts) -> Iterator[tuple[ast.AST, str]]:
    """`patch("asyncio.sleep")`, `patch.object(asyncio, "sleep")` and `monkeypatch.setattr` of either."""
    for node in facts.nodes(ast.Call):
        assert isinstance(node, ast.Call)
        if patches_asyncio_sleep(facts, node):
            yield node, ""


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
