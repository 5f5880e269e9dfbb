"""The small LibCST helpers both pytest recipes share: fixture decorators, keyword arguments, string literals
and parameter edits (the `ast` ones live in `fixtures`, re-exported here; names resolve through `_cst.Imports`)."""

from __future__ import annotations

from typing import TypeGuard

import libcst as cst
from libcst.helpers import get_full_name_for_node

from fleetshift.recipes._cst import Imports
from fleetshift.recipes._pytest_config.fixtures import FIXTURE_NAMES, SCOPES, WIDE, ast_fixture_call

__all__ = [
    "FIXTURE_NAMES",
    "SCOPES",
    "WIDE",
    "ast_fixture_call",
    "callee",
    "drop_param",
    "fixture_decorator",
    "get_full_name_for_node",
    "is_pytestmark",
    "kwarg",
    "kwarg_string",
    "string_like",
    "string_value",
    "tight_equal",
    "with_kwarg",
    "without_decorator",
]


def callee(dec: cst.Decorator | cst.BaseExpression) -> tuple[cst.BaseExpression, cst.Call | None]:
    """A decorator's (or expression's) callee and the Call when it is called."""
    expr = dec.decorator if isinstance(dec, cst.Decorator) else dec
    if isinstance(expr, cst.Call):
        return expr.func, expr
    return expr, None


def fixture_decorator(fn: cst.FunctionDef, imports: Imports) -> tuple[int, str, cst.Call | None] | None:
    """(index, qualified name, call) of a function's fixture decorator, or None."""
    for i, dec in enumerate(fn.decorators):
        func, call = callee(dec)
        q = imports.qualname(func)
        if q in FIXTURE_NAMES:
            return i, q, call
    return None


def without_decorator(fn: cst.FunctionDef, imports: Imports, qualname: str) -> cst.FunctionDef:
    """`fn` without the decorators that resolve to `qualname` (the same node when there are none)."""
    kept = [d for d in fn.decorators if imports.qualname(callee(d)[0]) != qualname]
    return fn.with_changes(decorators=kept) if len(kept) != len(fn.decorators) else fn


def is_pytestmark(node: cst.CSTNode) -> TypeGuard[cst.Assign]:
    """`pytestmark = ...` with a single target."""
    return (
        isinstance(node, cst.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0].target, cst.Name)
        and node.targets[0].target.value == "pytestmark"
    )


def kwarg(call: cst.Call | None, name: str) -> cst.Arg | None:
    """The keyword argument `name` of `call`, or None."""
    if call is None:
        return None
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def kwarg_string(call: cst.Call | None, name: str) -> str | None:
    """The string literal given as keyword `name`, or None when absent or not a plain literal."""
    arg = kwarg(call, name)
    return string_value(arg.value) if arg is not None else None


def string_value(expr: cst.BaseExpression | None) -> str | None:
    """The value of a plain string literal, or None."""
    if isinstance(expr, cst.SimpleString):
        try:
            value = expr.evaluated_value
        except Exception:
            return None
        return value if isinstance(value, str) else None
    return None


def string_like(template: cst.BaseExpression | None, value: str) -> cst.SimpleString:
    """A string literal `value` quoted like `template` (double quotes by default)."""
    quote = '"'
    if isinstance(template, cst.SimpleString) and template.quote in ("'", '"'):
        quote = template.quote
    return cst.SimpleString(f"{quote}{value}{quote}")


def tight_equal() -> cst.AssignEqual:
    """The `=` of a keyword argument, without spaces around it."""
    return cst.AssignEqual(
        whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
    )


def with_kwarg(call: cst.Call, name: str, value: cst.BaseExpression) -> cst.Call:
    """`call` with the keyword argument `name=value` appended (or its value replaced), keeping layout."""
    args = list(call.args)
    for i, arg in enumerate(args):
        if arg.keyword is not None and arg.keyword.value == name:
            args[i] = arg.with_changes(value=value)
            return call.with_changes(args=args)
    new = cst.Arg(keyword=cst.Name(name), value=value, equal=tight_equal())
    if not args:
        return call.with_changes(args=[new])
    last = args[-1]
    if isinstance(last.comma, cst.Comma):
        ws = call.whitespace_before_args
        sep = cst.Comma(
            whitespace_after=ws if isinstance(ws, cst.ParenthesizedWhitespace) else cst.SimpleWhitespace(" ")
        )
        args[-1] = last.with_changes(comma=sep)
        new = new.with_changes(comma=last.comma)
    else:
        args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    return call.with_changes(args=[*args, new])


def drop_param(fn: cst.FunctionDef, name: str) -> cst.FunctionDef:
    """`fn` without its parameter `name`; a removed last parameter hands its comma style to the new last."""
    params = fn.params
    for attr in ("params", "posonly_params", "kwonly_params"):
        seq = list(getattr(params, attr))
        for i, p in enumerate(seq):
            if p.name.value == name:
                del seq[i]
                if i == len(seq) and seq:
                    seq[-1] = seq[-1].with_changes(comma=p.comma)
                return fn.with_changes(params=params.with_changes(**{attr: seq}))
    return fn
