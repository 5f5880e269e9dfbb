"""a test mocks a Client API that aiomqtt 2 removed (filtered_messages, unfiltered_messages, messages() as a context manager)

The migrated code reads `client.messages` (an async iterator) or the module's filtered_messages(client, f)
router, so the mock configures nothing the code calls (and `AsyncMock(spec=Client)` has no such attribute):
mock `client.messages` instead, e.g. `client.messages = async_iter(messages)`, or patch the module's router.
"""

from __future__ import annotations

import ast

from fleetshift.recipes.aiomqtt.facts import Facts, Site
from fleetshift.recipes.aiomqtt.rules import GUIDE
from fleetshift.recipes.rule import HUMAN, rule

RULE = rule(__name__, __doc__, HUMAN, since="2.0.0", link=GUIDE, order=24)

REMOVED = frozenset({"filtered_messages", "unfiltered_messages"})
CONFIGURED = frozenset({"return_value", "side_effect", "__aenter__", "__aexit__"})


def check(facts: Facts) -> list[Site]:
    """Mock set-ups of the removed stream methods: `m.filtered_messages.return_value...`, `m.filtered_messages = ...`,
    `m.messages.return_value.__aenter__...`, `patch.object(Client, "filtered_messages")`; one site per test."""
    seen: set[tuple[int, str]] = set()
    out = []
    for node in facts.of(ast.Attribute, ast.Assign, ast.AnnAssign, ast.Call):  # what `_mocked` can answer
        method = _mocked(facts, node)
        if method is None:
            continue
        holder = _test_of(facts, node)
        name = getattr(holder, "name", "") or "module level"
        if (id(holder), method) in seen:
            continue
        seen.add((id(holder), method))
        what = "messages() as a context manager" if method == "messages" else f"Client.{method}()"
        where = f"{name}()" if holder is not None else "this module"
        users = (
            sorted(_tests_calling(facts, name)) if holder is not None and not name.startswith("test") else []
        )
        if users:
            where += f" (used by {', '.join(users)})"
        message = f"{where} mocks {what}, which aiomqtt 2 removed. {RULE.fix}"
        out.append(facts.human("mocked-messages", node, message))
    return out


def _mocked(facts: Facts, node: ast.AST) -> str | None:
    """The removed method a node configures on a mock, or None."""
    if isinstance(node, ast.Attribute) and node.attr in CONFIGURED:
        inner = node.value
        if isinstance(inner, ast.Attribute) and inner.attr in REMOVED:
            return inner.attr
        if (
            node.attr in ("__aenter__", "__aexit__")
            and isinstance(inner, ast.Attribute)
            and inner.attr == "return_value"
            and isinstance(inner.value, ast.Attribute)
            and inner.value.attr == "messages"
        ):
            return "messages"
    if isinstance(node, ast.Assign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for t in targets:
            if isinstance(t, ast.Attribute) and t.attr in REMOVED:
                return t.attr
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "object"
        and len(node.args) >= 2
        and isinstance(node.args[1], ast.Constant)
        and node.args[1].value in REMOVED
    ):
        return str(node.args[1].value)
    return None


def _tests_calling(facts: Facts, name: str) -> set[str]:
    """The test functions of the module that call the helper `name`."""
    return {
        func.name
        for func in facts.of(ast.FunctionDef, ast.AsyncFunctionDef)
        if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef)
        and func.name.startswith("test")
        and any(
            isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == name
            for n in ast.walk(func)
        )
    }


def _test_of(facts: Facts, node: ast.AST) -> ast.AST | None:
    """The outermost function around `node` (the test, or the helper or fixture that builds the mock)."""
    found = None
    for func in facts.enclosing_funcs(node):
        if func is not None:
            found = func
    return found
