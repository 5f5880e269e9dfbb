"""InfluxDBClient3 needs database= (required at construction on 0.21)

pass database=<bucket> to InfluxDBClient3
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from fleetshift.recipes._ast import walk
from fleetshift.recipes.rule import HUMAN, rule

if TYPE_CHECKING:
    import libcst as cst

    from fleetshift.recipes.influxdb.plan import Planning

RULE = rule(__name__, __doc__, HUMAN, since="0.21.0", order=4)


def database_for(p: Planning, call: cst.Call) -> cst.BaseExpression | None:
    """The `database=` of a rewritten constructor: the bucket its writes/queries use, the service's only
    bucket, or the bucket of the settings object its URL comes from; None (with a Finding) otherwise."""
    from fleetshift.recipes.influxdb.edits import parse_expr, string_value
    from fleetshift.recipes.influxdb.strings import python_literal

    by_value: dict[str, str] = {}
    for _node, code in p.plan.buckets:
        expr = parse_expr(code)
        value = string_value(expr) or p.resolve_literal(expr)
        by_value.setdefault(
            value if value is not None else code, python_literal(value) if value is not None else code
        )
    codes = list(by_value.values())
    if not codes:
        same_holder = holder_database(p, call)
        if same_holder is not None:
            return same_holder
    if not codes and len(p.facts.service_buckets) == 1:
        return parse_expr(python_literal(next(iter(p.facts.service_buckets))))
    if len(codes) == 1:
        expr = parse_expr(codes[0])
        usable = database_usable(p, expr, codes[0], call)
        if usable is not None:
            return usable
    where = "several buckets are used" if len(codes) > 1 else "the bucket is not known here"
    p.note(
        "database",
        call,
        f"InfluxDBClient3 needs database= (the bucket; required at construction on 0.21): "
        f"{where}; add database=<bucket> -- per-call database= arguments were kept",
    )
    return None


def holder_database(p: Planning, call: cst.Call) -> cst.BaseExpression | None:
    """`InfluxDBClient(url=cfg.url, token=cfg.token)` where the service writes/queries `bucket=<...>.cfg.bucket`:
    the bucket comes from the same settings object as the URL, so `database=cfg.bucket`."""
    import libcst as cst

    from fleetshift.recipes.influxdb.edits import code_of, parse_expr

    by_name = {a.keyword.value: a.value for a in call.args if a.keyword is not None}
    if call.args and call.args[0].keyword is None and not call.args[0].star:
        by_name.setdefault("url", call.args[0].value)
    url, token = by_name.get("url"), by_name.get("token")
    if not isinstance(url, cst.Attribute):
        return None
    holder = url.value
    holder_code = code_of(holder)
    if token is not None and not (isinstance(token, cst.Attribute) and code_of(token.value) == holder_code):
        return None
    last = (
        holder.value
        if isinstance(holder, cst.Name)
        else getattr(getattr(holder, "attr", None), "value", None)
    )
    found = set()
    for code in p.facts.bucket_attrs:
        parts = code.split(".")
        if len(parts) >= 2 and parts[-2] == last:
            found.add(f"{holder_code}.{parts[-1]}")
    return parse_expr(found.pop()) if len(found) == 1 else None


def database_usable(
    p: Planning, expr: cst.BaseExpression, code: str, ctor: cst.Call
) -> cst.BaseExpression | None:
    """`expr` (a bucket seen at a write or query) as the constructor's `database=`, when it means the same
    there; None otherwise."""
    import libcst as cst

    from fleetshift.recipes.influxdb.edits import code_of, string_value

    if string_value(expr) is not None or isinstance(expr, cst.ConcatenatedString | cst.FormattedString):
        return expr if not isinstance(expr, cst.FormattedString) else None
    root = expr
    while isinstance(root, cst.Attribute):
        root = root.value
    if not isinstance(root, cst.Name):
        return None
    analysis = p.facts.analysis
    fn = analysis.scope_of.get(id(ctor))
    if root.value in ("self", "cls") and isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name):
        if fn is None:
            return None
        ctor_line = p.line(ctor)
        for node, target, value in analysis.assigns:
            if (
                isinstance(target, cst.Attribute)
                and code_of(target) == code
                and analysis.scope_of.get(id(node)) is fn
            ):
                if p.line(node) < ctor_line:
                    return expr
                if isinstance(value, cst.Name) and value.value in analysis.params.get(id(fn), set()):
                    return cst.Name(value.value)
        return None
    if fn is not None and root.value in analysis.locals.get(id(fn), set()):
        return expr if root.value in analysis.params.get(id(fn), set()) else None
    if root.value in analysis.module_bindings:
        return expr
    return None


def attribute_buckets(tree: ast.AST) -> set[str]:
    """Attribute-chain buckets of one module (`bucket=self.cfg.bucket`, Flux `from(bucket: "{cfg.bucket}")`)."""
    out: set[str] = set()

    def add(value: ast.AST) -> None:
        if isinstance(value, ast.Attribute):
            chain = value
            while isinstance(chain, ast.Attribute):
                chain = chain.value
            if isinstance(chain, ast.Name):
                out.add(ast.unparse(value))

    for node in walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "bucket":
            add(node.value)
        elif isinstance(node, ast.JoinedStr):
            for before, part in zip(node.values, node.values[1:], strict=False):
                if (
                    isinstance(before, ast.Constant)
                    and isinstance(before.value, str)
                    and isinstance(part, ast.FormattedValue)
                    and re.search(r'from\(\s*bucket\s*:\s*"?$', before.value)
                ):
                    add(part.value)
    return out


def literal_buckets(tree: ast.AST) -> set[str]:
    """String-literal buckets of one module: `bucket="..."` keywords and Flux `from(bucket: "...")`."""
    out: set[str] = set()
    for node in walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "bucket" and isinstance(node.value, ast.Constant):
            if isinstance(node.value.value, str):
                out.add(node.value.value)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "from(" in node.value:
            out.update(re.findall(r'from\(\s*bucket\s*:\s*"([^"{}]+)"', node.value))
    return out
