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
    {"min", "max", "abs", "float", "int", "round", "pow", "len", "isinstance", "getattr", "hasattr", "str", "bool"}
)
PURE_MODULES = ("math.", "random.")
CACHES = frozenset({"functools.cache", "functools.lru_cache"})


def check(facts: Facts) -> Iterator[tuple[ast.AST, str]]:
    """A `wait=` of a retry call that may do more than compute a value."""
    if not facts.may_retry:
        return  # no retry call without its name written
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
    """Whether a wait expression may have side effects: anything not known to be built from tenacity's own
    waits (`wait_fixed(1) + wait_random(0, 1)`, `wait_chain(*[wait_fixed(3)] * 2)`, a helper or a name that
    only builds such a wait, here or in a service module it is imported from) or a pure function of the
    retry state."""
    if depth > 8:
        return True
    if isinstance(expr, ast.Constant):
        return False
    if isinstance(expr, ast.Starred):
        return impure_wait(facts, expr.value, depth + 1)
    if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
        return any(impure_wait(facts, e, depth + 1) for e in expr.elts)
    if isinstance(expr, (ast.ListComp, ast.GeneratorExp)):
        return impure_wait(facts, expr.elt, depth + 1)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Mult):  # [wait_fixed(3)] * 3
        sides = [e for e in (expr.left, expr.right) if isinstance(e, (ast.List, ast.Tuple, ast.ListComp))]
        return not sides or any(impure_wait(facts, e, depth + 1) for e in sides)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        return impure_wait(facts, expr.left, depth + 1) or impure_wait(facts, expr.right, depth + 1)
    if isinstance(expr, ast.Call):
        return impure_call(facts, expr, depth)
    if isinstance(expr, ast.Lambda):
        params = expr.args.args
        return not pure(expr.body, params[0].arg if params else None)
    if (
        isinstance(expr, ast.Attribute)
        and isinstance(expr.value, ast.Name)
        and expr.value.id in ("self", "cls")
    ):
        members = class_members(facts, expr.attr)  # a wait kept on the class: `WAIT = wait_fixed(1)`
        if len(members) == 1 and isinstance(members[0], ast.expr):
            return impure_wait(facts, members[0], depth + 1)
    if isinstance(expr, ast.Name):
        found = facts.bindings.get(expr.id, ())
        if len(found) == 1 and found[0][0] == "def":
            fn = found[0][1]
            params = fn.args.args  # type: ignore[attr-defined]
            return bool(fn.decorator_list) or not pure(fn, params[0].arg if params else None)  # type: ignore[attr-defined]
        if len(found) == 1 and found[0][0] == "assign":
            return impure_wait(facts, found[0][1], depth + 1)
        elsewhere = facts.imported_facts(expr.id)
        if elsewhere is not None:
            return impure_wait(elsewhere[0], ast.Name(elsewhere[1]), depth + 1)
        q = facts.qual(expr)
        return not (q and q.startswith("tenacity.wait_"))
    return True


def impure_call(facts: Facts, call: ast.Call, depth: int) -> bool:
    """Whether the wait a call builds may have side effects: a tenacity wait, a wait class's instance, or a
    helper function whose every `return` builds a wait."""
    q = facts.qual(call.func)
    if q and q.startswith("tenacity.wait_"):
        if q in ("tenacity.wait_chain", "tenacity.wait_combine"):
            return any(impure_wait(facts, a, depth + 1) for a in call.args)
        return False
    if isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name):
        if call.func.value.id in ("self", "cls"):  # a helper method of the class
            methods = [m for m in class_members(facts, call.func.attr) if isinstance(m, ast.FunctionDef)]
            return len(methods) != 1 or impure_factory(facts, methods[0], depth)
        return True
    if not isinstance(call.func, ast.Name):
        return True
    elsewhere = facts.imported_facts(call.func.id)
    if elsewhere is not None:
        return impure_call(elsewhere[0], ast.Call(ast.Name(elsewhere[1]), [], []), depth + 1)
    found = facts.bindings.get(call.func.id, ())
    if len(found) != 1:
        return True
    kind, node = found[0]
    if kind == "class":
        calls = [f for f in node.body if isinstance(f, ast.FunctionDef) and f.name == "__call__"]  # type: ignore[attr-defined]
        if calls:
            params = calls[0].args.args
            return not pure(calls[0], params[1].arg if len(params) > 1 else None)
        return True
    if kind == "def":
        return impure_factory(facts, node, depth)  # type: ignore[arg-type]
    return True


def impure_factory(facts: Facts, fn: ast.FunctionDef | ast.AsyncFunctionDef, depth: int) -> bool:
    """Whether a helper may build something else than a built-in wait (plain, or only cached: `@cache`,
    `@lru_cache(...)`): it must return, and every value it returns must be such a wait."""
    for dec in fn.decorator_list:
        callee = dec.func if isinstance(dec, ast.Call) else dec
        if (facts.qual(callee) or "") not in CACHES:
            return True
    returned = list(returns(fn))
    return not returned or any(r is None or impure_wait(facts, r, depth + 1) for r in returned)


def class_members(facts: Facts, name: str) -> list[ast.AST]:
    """What the module's classes bind `name` to in their bodies (methods, or assigned values)."""
    found: list[ast.AST] = []
    for cls in facts.nodes(ast.ClassDef):
        for item in cls.body:  # type: ignore[attr-defined]
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name == name:
                found.append(item)
            elif isinstance(item, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in item.targets
            ):
                found.append(item.value)
            elif (
                isinstance(item, ast.AnnAssign)
                and isinstance(item.target, ast.Name)
                and item.target.id == name
            ):
                if item.value is not None:
                    found.append(item.value)
    return found


def returns(fn: ast.AST) -> Iterator[ast.expr | None]:
    """The values a function returns (None for a bare `return`), not those of functions nested in it."""
    stack = list(ast.iter_child_nodes(fn))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, ast.Return):
            yield node.value
        stack.extend(ast.iter_child_nodes(node))
