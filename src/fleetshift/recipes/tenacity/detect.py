"""Detection of old-API tenacity sites (stdlib `ast` only) and of a Python floor the target cannot meet."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from fleetshift.recipes._ast import dotted, keyword
from fleetshift.recipes.tenacity.resolve import Facts, ServiceIndex, _norm, compose_verdict

RETRY_CALLABLES = frozenset(
    {"tenacity.retry", "tenacity.Retrying", "tenacity.AsyncRetrying", "tenacity.asyncio.AsyncRetrying"}
)
RETRYING_BASES = frozenset(
    {
        "tenacity.Retrying",
        "tenacity.AsyncRetrying",
        "tenacity.BaseRetrying",
        "tenacity.TornadoRetrying",
        "tenacity.asyncio.AsyncRetrying",
        "tenacity.tornadoweb.TornadoRetrying",
    }
)
ASYNC_SLEEPS = frozenset({"asyncio.sleep", "trio.sleep", "anyio.sleep"})
CALLBACK_KEYWORDS = ("before", "after", "before_sleep", "retry_error_callback", "retry")
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

Site = tuple[ast.AST, str, str]  # (node, rule id, detail; "" for the rule's summary)


def _pure(fn: ast.AST, first_param: str | None) -> bool:
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


def sites(tree: ast.Module, path: str, index: ServiceIndex | None) -> Iterator[Site]:
    """Every old-API tenacity site of a module; `index` resolves names imported from the service's modules."""
    facts = Facts(tree, path, index)
    uses_tenacity = facts.imports.imports_module("tenacity")
    retry_kw_values: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and is_retry_call(facts, node):
            kw = keyword(node, "retry")
            if kw is not None:
                retry_kw_values.add(id(kw.value))
    for node in ast.walk(tree):
        # T1: imports, attribute chains and patch strings
        if isinstance(node, ast.ImportFrom) and not node.level:
            if node.module == "tenacity._asyncio" or (
                node.module == "tenacity" and any(a.name == "_asyncio" for a in node.names)
            ):
                yield node, "tenacity/asyncio-module", f"`from {node.module} import ...`"
        elif isinstance(node, ast.Import):
            if any(a.name == "tenacity._asyncio" for a in node.names):
                yield node, "tenacity/asyncio-module", "`import tenacity._asyncio`"
        elif isinstance(node, ast.Attribute):
            if (
                isinstance(node.value, (ast.Name, ast.Attribute))
                and facts.imports.qualname(node.value) == "tenacity._asyncio"
            ):
                yield node, "tenacity/asyncio-module", f"`{dotted(node) or node.attr}`"
            if (
                node.attr == "statistics"
                and isinstance(node.value, ast.Attribute)
                and node.value.attr == "retry"
            ):
                recv = node.value.value
                if isinstance(recv, ast.Name) and recv.id in ("self", "cls"):
                    continue
                text = ast.unparse(recv)
                if facts.is_retry_function(recv):
                    yield (
                        node,
                        "tenacity/retry-statistics",
                        f"`{text}.retry.statistics` -> `{text}.statistics`",
                    )
                elif index is None and facts.imported_from_elsewhere(recv):
                    yield (
                        node,
                        "tenacity/retry-statistics",
                        f"`{text}.retry.statistics` -> `{text}.statistics` (when `{text}` is resolved to a "
                        "tenacity-decorated function in the service)",
                    )
                else:
                    yield (
                        node,
                        "tenacity/retry-statistics-unresolved",
                        f"could not tell whether `{text}` is a tenacity-decorated function; if it is, read "
                        f"`{text}.statistics` (`.retry.statistics` is empty on tenacity 8.5-9.1)",
                    )
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value.startswith("tenacity._asyncio"):
                yield (
                    node,
                    "tenacity/asyncio-patch-target",
                    f'tenacity._asyncio was removed in 8.4; patch target "{node.value}" no longer exists — '
                    'patch "asyncio.sleep" or pass sleep= to AsyncRetrying.',
                )
        elif isinstance(node, ast.ClassDef):
            if any(_norm(facts.imports.qualname(b)) in RETRYING_BASES for b in node.bases):
                defined = [
                    f.name for f in node.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                ]
                if "__init__" in defined or "copy" in defined:
                    yield (
                        node,
                        "tenacity/retrying-subclass",
                        f"Retrying subclass {node.name}: since tenacity 8.4.2 decorated calls run self.copy(), "
                        "which calls __init__ with only the base keywords (plus name=, enabled= in 9.2); accept "
                        "**kwargs and/or override copy().",
                    )
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitOr, ast.BitAnd)):
            parent = facts.parents.get(node)
            if isinstance(parent, ast.BinOp) and parent.left is node and type(parent.op) is type(node.op):
                continue  # judged with its whole chain
            verdict = compose_verdict(facts, node, id(node) in retry_kw_values)
            text = ast.unparse(node)
            if verdict == "auto":
                yield node, "tenacity/retry-compose", f"`{text}` -> retry_any/retry_all"
            elif verdict == "human":
                yield (
                    node,
                    "tenacity/retry-compose-unresolved",
                    f"`{text}`: if an operand is a plain function this raises AttributeError on tenacity "
                    "8.4-9.1.4; write retry_any(...) / retry_all(...)",
                )
        elif isinstance(node, ast.Call):
            yield from _call_sites(facts, node, uses_tenacity)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield from _decorated_sites(facts, node)


def is_retry_call(facts: Facts, node: ast.Call) -> bool:
    """A call to `retry`, `Retrying`, `AsyncRetrying` or `.retry_with`."""
    if facts.qual(node.func) in RETRY_CALLABLES:
        return True
    return isinstance(node.func, ast.Attribute) and node.func.attr == "retry_with"


def _call_sites(facts: Facts, node: ast.Call, uses_tenacity: bool) -> Iterator[Site]:
    q = facts.qual(node.func)
    name = dotted(node.func) or ""
    if is_retry_call(facts, node):
        wait = keyword(node, "wait")
        if wait is not None and _impure_wait(facts, wait.value):
            yield (
                wait.value,
                "tenacity/custom-wait",
                f"custom wait `{ast.unparse(wait.value)}` is now also evaluated on the final attempt "
                "(tenacity>=8.3); make it side-effect free.",
            )
        for kw_name in CALLBACK_KEYWORDS:
            kw = keyword(node, kw_name)
            if kw is not None and facts.is_async_def(kw.value):
                yield (
                    kw.value,
                    "tenacity/async-callback",
                    f"async callback {ast.unparse(kw.value)} ({kw_name}=) is now awaited by tenacity (>=8.3); "
                    "remove manual awaiting of the result.",
                )
    elif q in ("tenacity.wait_random_exponential", "tenacity.wait_full_jitter"):
        if keyword(node, "min") is not None or len(node.args) >= 4:
            yield node, "tenacity/random-exponential-min", ""
    elif q == "tenacity.before_sleep_log":
        exc = keyword(node, "exc_info")
        value = exc.value if exc is not None else (node.args[2] if len(node.args) >= 3 else None)
        if value is not None and not (isinstance(value, ast.Constant) and not value.value):
            yield node, "tenacity/before-sleep-exc-info", ""
        if keyword(node, "sec_format") is None and len(node.args) < 4:
            yield (node, "tenacity/log-format", 'before_sleep_log text: "in 3.0 seconds" -> "in 3 seconds"')
    elif q == "tenacity.after_log":
        if keyword(node, "sec_format") is None and len(node.args) < 3:
            yield (node, "tenacity/log-format", 'after_log text: "after 0.000(s)" -> "after 9.12e-06(s)"')
    elif q == "tenacity.wait_exponential_jitter":
        if keyword(node, "initial") is not None or node.args:
            yield node, "tenacity/jitter-initial", ""
    elif q == "tenacity.wait_chain":
        if not node.args and not node.keywords:
            yield node, "tenacity/empty-wait-chain", ""
    elif uses_tenacity and name in ("inspect.iscoroutine", "asyncio.iscoroutine"):
        yield (
            node,
            "tenacity/async-callback",
            "manual awaiting of a tenacity result: async callbacks are awaited by tenacity since 8.3; remove the "
            "workaround.",
        )
    if _patches_asyncio_sleep(facts, node, name):
        yield node, "tenacity/patched-asyncio-sleep", ""


def _patches_asyncio_sleep(facts: Facts, node: ast.Call, name: str) -> bool:
    args = node.args
    strs = [a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    last = name.rsplit(".", 1)[-1]
    target = strs[0] if strs and args and args[0] is not None and isinstance(args[0], ast.Constant) else ""
    hits = target == "asyncio.sleep" or target.endswith(".asyncio.sleep")
    if hits and (last == "patch" or name.endswith("monkeypatch.setattr")):
        return True
    if (name.endswith("patch.object") or name.endswith("monkeypatch.setattr")) and len(args) >= 2:
        return facts.imports.qualname(args[0]) == "asyncio" and strs[:1] == ["sleep"]
    return False


def _impure_wait(facts: Facts, expr: ast.AST, depth: int = 0) -> bool:
    if depth > 6:
        return True
    if isinstance(expr, ast.Constant):
        return False
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        return _impure_wait(facts, expr.left, depth + 1) or _impure_wait(facts, expr.right, depth + 1)
    if isinstance(expr, ast.Call):
        q = facts.qual(expr.func)
        if q and q.startswith("tenacity.wait_"):
            if q in ("tenacity.wait_chain", "tenacity.wait_combine"):
                return any(_impure_wait(facts, a, depth + 1) for a in expr.args)
            return False
        if isinstance(expr.func, ast.Name):
            found = facts._only(expr.func.id, {"class"})
            if found and len(found) == 1:
                calls = [
                    f for f in found[0][1].body if isinstance(f, ast.FunctionDef) and f.name == "__call__"
                ]  # type: ignore[attr-defined]
                if calls:
                    params = calls[0].args.args
                    return not _pure(calls[0], params[1].arg if len(params) > 1 else None)
        return True
    if isinstance(expr, ast.Lambda):
        params = expr.args.args
        return not _pure(expr.body, params[0].arg if params else None)
    if isinstance(expr, ast.Name):
        found = facts.bindings.get(expr.id, [])
        if len(found) == 1 and found[0][0] == "def":
            fn = found[0][1]
            params = fn.args.args  # type: ignore[attr-defined]
            return bool(fn.decorator_list) or not _pure(fn, params[0].arg if params else None)  # type: ignore[attr-defined]
        if len(found) == 1 and found[0][0] == "assign":
            return _impure_wait(facts, found[0][1], depth + 1)
        q = facts.qual(expr)
        return not (q and q.startswith("tenacity.wait_"))
    return True


def _decorated_sites(facts: Facts, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[Site]:
    dec = facts.retry_decorator(fn)
    if not isinstance(dec, ast.Call):
        return
    sleep = keyword(dec, "sleep")
    if isinstance(fn, ast.FunctionDef) and sleep is not None:
        if facts.qual(sleep.value) in ASYNC_SLEEPS or facts.is_async_def(sleep.value):
            yield (
                fn,
                "tenacity/sync-async-sleep",
                f"sync function {fn.name} uses async sleep=; from tenacity 9.1.3 it returns a coroutine. Make "
                f"{fn.name} async (and await callers) or use a sync sleep.",
            )
    reraise = keyword(dec, "reraise")
    if reraise is not None and isinstance(reraise.value, ast.Constant) and reraise.value.value is True:
        for handler in (n for n in ast.walk(fn) if isinstance(n, ast.ExceptHandler)):
            for node in ast.walk(handler):
                if isinstance(node, ast.Raise) and node.exc is not None:
                    exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                    if facts.qual(exc) == "tenacity.TryAgain":
                        yield node, "tenacity/reraise-tryagain", ""
