"""query_api().query(flux) -> client.query(sql, database=)

the Flux text is translated to SQL (exact shapes only); query_data_frame -> mode="pandas"; query_stream
-> rows of client.query(sql).to_pylist(); params= -> query_parameters=
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes.influxdb.facts import Facts
from fleetshift.recipes.influxdb.rules import SQL_DOCS
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

    from fleetshift.recipes.influxdb.plan import ApiBinding, Planning
    from fleetshift.recipes.influxdb.strings import Template

RULE = rule(__name__, __doc__, AUTO, link=SQL_DOCS, order=16)
NODES = (ast.Call,)  # the node types its check looks at
STAGE = 1
QUERY_PARAMETERS = {  # influxdb-client QueryApi methods the rewrite translates, with their parameters
    "query": ["query", "org", "params"],
    "query_stream": ["query", "org", "params"],
    "query_data_frame": ["query", "org", "data_frame_index", "params", "use_extension_dtypes"],
}


OTHER_RULE = "\0"  # marks a reason another rule's site already reports (flux, flux-wrapper-manual)


V3_CALLS = {
    "query": "`client.query(sql, database=...)` (one pyarrow.Table; rows: `.to_pylist()`)",
    "query_stream": '`client.query(sql, database=..., mode="reader")` and iterate its batches',
    "query_data_frame": '`client.query(sql, database=..., mode="pandas")`',
}


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    """A `query_api()` whose queries the run rewrites: each one's Flux is visible and translates exactly."""
    if facts.v2 and isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "query_api" and not unrewritten(node, facts):
            yield ""


def flux_text(arg: ast.AST, facts: Facts) -> str | None:
    """The text of a query argument as the rewrite sees it: a literal, an f-string, a `+` of them, or the
    one string a name is assigned."""
    from fleetshift.recipes.influxdb.hosts import ast_text

    if isinstance(arg, ast.BinOp) and isinstance(arg.op, ast.Add):
        left, right = flux_text(arg.left, facts), flux_text(arg.right, facts)
        return None if left is None or right is None else left + right
    if isinstance(arg, ast.Name):
        return facts.assigned_text(arg)
    return ast_text(arg)


def unrewritten(api: ast.Call, facts: Facts) -> str:
    """Why the queries made on a `query_api()` call are not all rewritten ("" when they are)."""
    from fleetshift.recipes.influxdb import flux
    from fleetshift.recipes.influxdb.rules.async_client import on_async_client

    if on_async_client(api, facts):
        return OTHER_RULE + "the async-client rule reports the calls on an InfluxDBClientAsync"
    uses = facts.api_uses.get(id(api), [])
    if not uses:
        return "the query_api object is passed around: call `client.query(sql)` where it is used"
    wrappers = facts.flux.wrappers  # query wrappers: the flux-wrapper rules' sites
    for call in uses:
        if id(call) in wrappers:
            if wrappers[id(call)][1]:
                return OTHER_RULE + "a query wrapper the flux-wrapper-manual rule reports"
            continue
        method = call.func.attr  # type: ignore[attr-defined]
        if method not in QUERY_PARAMETERS:
            return f"`{method}()` has no influxdb3-python equivalent"
        arg = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "query"), None)
        text = flux_text(arg, facts) if arg is not None else None
        if text is None:
            return "Flux query text not visible here: translate it to SQL and call `client.query(sql, database=...)`"
        params = next((k.value for k in call.keywords if k.arg == "params"), None)
        names = (
            [k.value for k in params.keys if isinstance(k, ast.Constant)]
            if isinstance(params, ast.Dict)
            else []
        )
        tr, why = flux.try_translate(text, names)
        if tr is None or not tr.exact:
            return OTHER_RULE + f"Flux query not translatable: {why or (tr.reason if tr is not None else '')}"
    return ""


def plan(p: Planning) -> None:
    """query_api objects kept in names, then queries made inline on `X.query_api()`."""
    for b in p.kept("query"):
        plan_binding(p, b)
    for call, inner in p.inline_calls():
        if (
            inner is not None
            and inner.func.attr.value == "query_api"  # type: ignore[attr-defined]
            and not p.is_async(inner.func.value)  # type: ignore[attr-defined]
        ):
            plan_query_call(p, call, inner.func.value)  # type: ignore[attr-defined]


def plan_binding(p: Planning, b: ApiBinding) -> None:
    import libcst as cst

    if p.is_async(b.client):
        return
    done = True
    for use in b.uses:
        call = p.facts.parent[use]
        if not p.client_usable_at(b.client, use):
            p.note(
                "query-manual",
                call,
                "the query_api object is used where its client is not visible; call "
                "`client.query(sql)` on the InfluxDBClient3 instance instead",
            )
            done = False
            continue
        if not plan_query_call(p, call, b.client):
            done = False
    if b.other_uses:
        p.note(
            "query-manual",
            b.call,
            "the query_api object is passed around; influxdb3-python has no query_api(): "
            "call `client.query(sql)` where it is used",
        )
        done = False
    if done and b.stmt is not None:
        p.set(b.stmt, lambda n: cst.RemoveFromParent())


def flux_source(p: Planning, arg: cst.BaseExpression) -> tuple[Template, cst.BaseExpression] | None:
    """The Flux template of a query argument and the node holding the literal (arg or its assignment)."""
    import libcst as cst

    from fleetshift.recipes.influxdb.strings import template_of

    t = template_of(arg)
    if t is not None:
        return t, arg
    if isinstance(arg, cst.BinaryOperation) and isinstance(arg.operator, cst.Add):
        joined = concat_template(p, arg)
        return (joined, arg) if joined is not None else None
    k = p.key(arg)
    if k is None or k[0] == "attr":
        return None
    value = p.single_value(k)
    if value is None:
        return None
    uses = [r for r in p.refs(k) if not isinstance(p.facts.parent.get(r), cst.AssignTarget)]
    if len(uses) != 1:
        return None
    t = template_of(value)
    return (t, value) if t is not None else None


def concat_template(p: Planning, node: cst.BaseExpression) -> Template | None:
    """`CONST + "..." + f"..."`: module-level string constants and literals joined."""
    import libcst as cst

    from fleetshift.recipes.influxdb import flux
    from fleetshift.recipes.influxdb.strings import Template, template_of

    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        left, right = concat_template(p, node.left), concat_template(p, node.right)
        if left is None or right is None:
            return None
        shift = len(left.holes)
        text = flux.HOLE_RE.sub(lambda m: flux.hole(int(m.group(1)) + shift), right.text)
        return Template(left.text + text, left.holes + right.holes)
    t = template_of(node)
    if t is not None:
        return t
    value = p.resolve_literal(node)
    return Template(value, ()) if value is not None and flux.HOLE_OPEN not in value else None


def plan_query_call(p: Planning, call: cst.Call, client: cst.BaseExpression) -> bool:
    """`q.query(flux, ...)` -> `client.query(sql, database=..., ...)` with its readers, or a Finding."""
    import libcst as cst

    from fleetshift.recipes.influxdb import flux
    from fleetshift.recipes.influxdb.edits import code_of, named_args, parse_expr, relayout, string_value
    from fleetshift.recipes.influxdb.rules import no_equivalent, query_frame_shape, query_results

    method = call.func.attr.value  # type: ignore[attr-defined]
    if no_equivalent.note_query_method(p, call, method) or method not in QUERY_PARAMETERS:
        return False
    names = QUERY_PARAMETERS[method]
    pairs = named_args(call.args, names)
    if pairs is None:
        p.note("query-manual", call, "query call with *args/**kwargs: rewrite by hand")
        return False
    args: dict[str, cst.BaseExpression] = {}
    for name, a in pairs:
        if name not in names:
            p.note("query-manual", call, f"query argument {name}= has no influxdb3-python equivalent")
            return False
        args[name] = a.value
    src = flux_source(p, args["query"]) if "query" in args else None
    if src is None:
        p.note(
            "flux",
            call,
            "Flux query text not visible here (not a literal or a single local assignment): "
            "translate it to SQL and call `client.query(sql, database=...)`",
        )
        return False
    template, holder = src
    param_names: list[str] = []
    if isinstance(args.get("params"), cst.Dict):
        for el in args["params"].elements:  # type: ignore[attr-defined]
            key = string_value(getattr(el, "key", None))
            if key is not None:
                param_names.append(key)
    tr, why = flux.try_translate(template.text, param_names)
    if tr is None or not tr.exact:
        proposed = tr.proposed if tr is not None else None
        msg = f"Flux is not supported by InfluxDB 3 and this query is not translated automatically ({why or tr.reason})."  # type: ignore[union-attr]
        if proposed:
            msg += f" Proposed SQL: {template.render(proposed)}"
        msg += f" Then call {V3_CALLS[method]}."
        p.note("flux", call, msg)
        return False
    consumer = query_results.plan_consumers(p, call, method, tr, template)
    if consumer is None:
        return False
    p.plan.buckets.append((call, template.expression(tr.database or "")))
    sql_code = template.render(tr.sql)
    db_code = template.expression(tr.database or "")
    new: list[tuple[str | None, cst.BaseExpression]] = []
    if holder is args["query"]:
        new.append((None, parse_expr(sql_code)))
    else:
        new.append((None, args["query"]))
        p.set(holder, lambda n, c=sql_code: parse_expr(c))
    new.append(("database", parse_expr(db_code)))
    if method == "query_data_frame":
        new.append(("mode", parse_expr('"pandas"')))
    if "params" in args:
        new.append(("query_parameters", args["params"]))
    elif tr.params:
        p.note("query-manual", call, "the Flux uses params.* but the call passes no params=")
    index = args.get("data_frame_index")
    client_code = code_of(client)

    def fix(n: cst.CSTNode) -> cst.CSTNode:
        new_call = cst.Call(
            func=cst.Attribute(value=parse_expr(client_code), attr=cst.Name("query")),
            args=relayout(list(n.args), new),  # type: ignore[attr-defined]
            whitespace_before_args=n.whitespace_before_args,  # type: ignore[attr-defined]
        )
        out: cst.BaseExpression = new_call
        if index is not None:
            mapped = query_results.map_index(index, tr, template)
            out = cst.Call(func=cst.Attribute(value=out, attr=cst.Name("set_index")), args=[cst.Arg(mapped)])
        if consumer:
            out = cst.Call(func=cst.Attribute(value=out, attr=cst.Name(consumer)), args=[])
        return out  # type: ignore[return-value]

    p.set(call, fix)
    if method == "query_data_frame":
        query_frame_shape.note(p, call)
    return True
