"""Client() must be constructed inside a running event loop

aiomqtt>=2.3.1 Client() requires a running event loop; construct it inside async startup (e.g. lifespan)
instead of at import time.
"""

from __future__ import annotations

import ast
from collections import Counter

from fleetshift.recipes.aiomqtt.entry import moves
from fleetshift.recipes.aiomqtt.facts import Facts, Site, mqtt_files_only
from fleetshift.recipes.aiomqtt.tree import callee_name
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="2.3.1", order=14)


@mqtt_files_only
def check(facts: Facts) -> list[Site]:
    """Client() built where no event loop runs (module level, class body, sync functions)."""
    called_from_async: Counter[str] = Counter()
    called_elsewhere: Counter[str] = Counter()
    for node in facts.of(ast.Call):
        if isinstance(node, ast.Call) and (name := callee_name(node.func)):
            func = facts.func_of(node)
            (called_from_async if isinstance(func, ast.AsyncFunctionDef) else called_elsewhere)[name] += 1
    out = []
    moved = {id(m.assign.value) for m in moves(facts)}  # client-in-entry rewrites these
    for node in facts.of(ast.Call):
        if not facts.is_client_call(node) or id(node) in moved:
            continue
        func = facts.func_of(node)
        if isinstance(func, ast.AsyncFunctionDef):
            continue
        if isinstance(func, ast.FunctionDef | ast.Lambda):
            name = getattr(func, "name", "")
            if name and called_from_async[name] and not called_elsewhere[name]:
                continue
            where = f"in the sync function {name or 'lambda'}()"
        else:
            where = "in a class body" if facts.class_of(node) is not None else "at module level"
        out.append(
            facts.human(
                "client-outside-loop",
                node,
                f"Client(...) built {where}: aiomqtt>=2.3.1 needs a running event loop there; build it inside async code (e.g. a lifespan/startup coroutine).",
            )
        )
    return out
