"""per-call timeout=None meant 'forever' in asyncio-mqtt and means 'client default, 10 s' since aiomqtt 1.0

timeout=None becomes timeout=math.inf (import math added).
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from fleetshift.recipes.aiomqtt.edits import CallOp, PlannedFix
from fleetshift.recipes.aiomqtt.facts import Facts, Site
from fleetshift.recipes.aiomqtt.tree import const_none
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="1.0.0", order=4)

INFINITE = CallOp("value", "timeout", "math.inf")


def check(facts: Facts) -> list[Site]:
    """publish/subscribe/unsubscribe(timeout=None) in a file written for asyncio-mqtt."""
    if not (facts.mqtt_file and facts.old_file):
        return []
    out = []
    for node in facts.of(ast.Call):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in ("publish", "subscribe", "unsubscribe"):
            continue
        for kw in node.keywords:
            if kw.arg == "timeout" and const_none(kw.value):
                if facts.known(node.func.value, node):
                    out.append(
                        facts.site("timeout-none", kw, edits=((facts.key(node), INFINITE),), anchor=node)
                    )
                else:
                    out.append(
                        facts.human(
                            "timeout-none",
                            kw,
                            f"{ast.unparse(node.func)}(timeout=None): on an MQTT client this waited forever in asyncio-mqtt and waits the client default (10 s) in aiomqtt>=1.0; pass timeout=math.inf.",
                            anchor=node,
                        )
                    )
    return out


class Fix(PlannedFix):
    """timeout=None -> timeout=math.inf, and `import math` when it was needed."""

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        if not self.edits:
            return updated
        from libcst.codemod import CodemodContext
        from libcst.codemod.visitors import AddImportsVisitor

        context = CodemodContext()
        AddImportsVisitor.add_needed_import(context, "math")
        return AddImportsVisitor(context).transform_module(updated)
