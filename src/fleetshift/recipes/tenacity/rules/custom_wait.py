"""a custom wait is now also evaluated on the final attempt

custom wait strategy is now also evaluated on the final attempt (tenacity>=8.3); make it side-effect
free
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from fleetshift.recipes._ast import dotted, keyword
from fleetshift.recipes.rule import HUMAN, rule
from fleetshift.recipes.tenacity.resolve import Facts

RULE = rule(__name__, __doc__, HUMAN, since="8.3.0", link="https://github.com/jd/tenacity/pull/423", order=5)

PURE_CALLS = frozenset(
    {
        "min",
        "max",
        "abs",
        "float",
        "int",
        "round",
        "pow",
        "len",
        "isinstance",
        "getattr",
        "hasattr",
        "str",
        "bool",
    }
)
PURE_MODULES = ("math.", "random.")


def check(facts: Facts) -> Iterator[tuple[ast.AST, str]]:
    """A `wait=` of a retry call that may do more than compute a value."""
    for call in facts.retry_calls():
        wait = keyword(call, "wait")
        if wait is not None and impure_wait(facts, wait.value):
            yield (
                wait.value,
                f"custom wait `{ast.unparse(wait.value)}` is now also evaluated on the final attempt "
                "(tenacity>=8.3); make it side-effect free.",
            )


def pure(fn: ast.AST, first_param: str | None) -> bool:
    """Whether a wait function/lambda/`__call__` body only computes a value (no counting, logging, popping)."""
    for node in ast.walk(fn):
        if isinstance(node, (ast.Global, ast.Nonlocal, ast.Yield, ast.YieldFrom, ast.Await, ast.Delete)):
            return False
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(not isinstance(t, ast.Name) for t in targets) or isinstance(node, ast.AugAssign):
                return False
        if isinstance(node, ast.Call):
            name = dotted(node.func) or ""
            root = name.split(".")[0]
            if name in PURE_CALLS or name.startswith(PURE_MODULES):
                continue
            if first_param and root == first_param and "." in name:
                continue  # retry_state.outcome.exception() and friends only read
            return False
    return True


def impure_wait(facts: Facts, expr: ast.AST, depth: int = 0) -> bool:
    """Whether a wait expression may have side effects (anything not known to be built-in or pure)."""
    if depth > 6:
        return True
    if isinstance(expr, ast.Constant):
        return False
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        return impure_wait(facts, expr.left, depth + 1) or impure_wait(facts, expr.right, depth + 1)
    if isinstance(expr, ast.Call):
        q = facts.qual(expr.func)
        if q and q.startswith("tenacity.wait_"):
            if q in ("tenacity.wait_chain", "tenacity.wait_combine"):
                return any(impure_wait(facts, a, depth + 1) for a in expr.args)
            return False
        if isinstance(expr.func, ast.Name):
            found = facts.only(expr.func.id, {"class"})
            if found and len(found) == 1:
                calls = [
                    f for f in found[0][1].body if isinstance(f, ast.FunctionDef) and f.name == "__call__"
                ]  # type: ignore[attr-defined]
                if calls:
                    params = calls[0].args.args
                    return not pure(calls[0], params[1].arg if len(params) > 1 else None)
        return True
    if isinstance(expr, ast.Lambda):
        params = expr.args.args
        return not pure(expr.body, params[0].arg if params else None)
    if isinstance(expr, ast.Name):
        found = facts.bindings.get(expr.id, ())
        if len(found) == 1 and found[0][0] == "def":
            fn = found[0][1]
            params = fn.args.args  # type: ignore[attr-defined]
            return bool(fn.decorator_list) or not pure(fn, params[0].arg if params else None)  # type: ignore[attr-defined]
        if len(found) == 1 and found[0][0] == "assign":
            return impure_wait(facts, found[0][1], depth + 1)
        q = facts.qual(expr)
        return not (q and q.startswith("tenacity.wait_"))
    return True
