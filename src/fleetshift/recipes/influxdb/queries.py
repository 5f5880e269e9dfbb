"""Planning the query rewrite: `query_api().query(flux)` -> `client.query(sql, database=)` where the Flux
text is visible and translates exactly (see `flux`); the result readers are planned by `readers`."""

from __future__ import annotations

import libcst as cst

from fleetshift.recipes.influxdb import flux
from fleetshift.recipes.influxdb.analysis import ApiBinding
from fleetshift.recipes.influxdb.edits import code_of, named_args, parse_expr, relayout, string_value
from fleetshift.recipes.influxdb.names import QUERY_NO_EQUIVALENT
from fleetshift.recipes.influxdb.readers import ReaderPlanner, map_index
from fleetshift.recipes.influxdb.strings import Template, template_of


class QueryPlanner(ReaderPlanner):
    """query_api objects and their query calls."""

    def plan_query_binding(self, b: ApiBinding) -> None:
        if self.is_async(b.client):
            return
        done = True
        for use in b.uses:
            call = self.facts.parent[use]
            usable = self.client_usable_at(b.client, use)
            if not usable:
                self.note(
                    "query-manual",
                    call,
                    "the query_api object is used where its client is not visible; call "
                    "`client.query(sql)` on the InfluxDBClient3 instance instead",
                )
                done = False
                continue
            if not self.plan_query_call(call, b.client):  # type: ignore[arg-type]
                done = False
        if b.other_uses:
            self.note(
                "query-manual",
                b.call,
                "the query_api object is passed around; influxdb3-python has no query_api(): "
                "call `client.query(sql)` where it is used",
            )
            done = False
        if done and b.stmt is not None:
            self.set(b.stmt, lambda n: cst.RemoveFromParent())

    def flux_source(self, arg: cst.BaseExpression) -> tuple[Template, cst.BaseExpression] | None:
        """The Flux template of a query argument and the node holding the literal (arg or its assignment)."""
        t = template_of(arg)
        if t is not None:
            return t, arg
        if isinstance(arg, cst.BinaryOperation) and isinstance(arg.operator, cst.Add):
            joined = self.concat_template(arg)
            return (joined, arg) if joined is not None else None
        k = self.key(arg)
        if k is None or k[0] == "attr":
            return None
        value = self.single_value(k)
        if value is None:
            return None
        uses = [r for r in self.refs(k) if not isinstance(self.facts.parent.get(r), cst.AssignTarget)]
        if len(uses) != 1:
            return None
        t = template_of(value)
        return (t, value) if t is not None else None

    def concat_template(self, node: cst.BaseExpression) -> Template | None:
        """`CONST + "..." + f"..."`: module-level string constants and literals joined."""
        if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
            left, right = self.concat_template(node.left), self.concat_template(node.right)
            if left is None or right is None:
                return None
            shift = len(left.holes)
            text = flux.HOLE_RE.sub(lambda m: flux.hole(int(m.group(1)) + shift), right.text)
            return Template(left.text + text, left.holes + right.holes)
        t = template_of(node)
        if t is not None:
            return t
        value = self.resolve_literal(node)
        return Template(value, ()) if value is not None and flux.HOLE_OPEN not in value else None

    def plan_query_call(self, call: cst.Call, client: cst.BaseExpression) -> bool:
        method = call.func.attr.value  # type: ignore[attr-defined]
        if method in QUERY_NO_EQUIVALENT:
            self.note("no-equivalent", call, f"`{method}()`: {QUERY_NO_EQUIVALENT[method]}")
            return False
        if method not in ("query", "query_data_frame", "query_stream"):
            return False
        names = {
            "query": ["query", "org", "params"],
            "query_stream": ["query", "org", "params"],
            "query_data_frame": ["query", "org", "data_frame_index", "params", "use_extension_dtypes"],
        }[method]
        pairs = named_args(call.args, names)
        if pairs is None:
            self.note("query-manual", call, "query call with *args/**kwargs: rewrite by hand")
            return False
        args: dict[str, cst.BaseExpression] = {}
        for name, a in pairs:
            if name not in names:
                self.note("query-manual", call, f"query argument {name}= has no influxdb3-python equivalent")
                return False
            args[name] = a.value
        src = self.flux_source(args["query"]) if "query" in args else None
        if src is None:
            self.note(
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
            self.note("flux", call, msg)
            return False
        self.template = template
        consumer = self.plan_consumers(call, method, tr, template)
        if consumer is None:
            return False
        self.bucket_exprs.append((call, template.expression(tr.database or "")))
        sql_code = template.render(tr.sql)
        db_code = template.expression(tr.database or "")
        mode = {"query": None, "query_stream": None, "query_data_frame": "pandas"}[method]
        new: list[tuple[str | None, cst.BaseExpression]] = []
        if holder is args["query"]:
            new.append((None, parse_expr(sql_code)))
        else:
            new.append((None, args["query"]))
            self.set(holder, lambda n, c=sql_code: parse_expr(c))
        new.append(("database", parse_expr(db_code)))
        if mode:
            new.append(("mode", parse_expr(f'"{mode}"')))
        if "params" in args:
            new.append(("query_parameters", args["params"]))
        elif tr.params:
            self.note("query-manual", call, "the Flux uses params.* but the call passes no params=")
        index = args.get("data_frame_index")
        client_code = code_of(client)
        suffix = consumer

        def fix(n: cst.CSTNode) -> cst.CSTNode:
            original_args = list(n.args)  # type: ignore[attr-defined]
            new_call = cst.Call(
                func=cst.Attribute(value=parse_expr(client_code), attr=cst.Name("query")),
                args=relayout(original_args, new),
                whitespace_before_args=n.whitespace_before_args,
            )  # type: ignore[attr-defined]
            out: cst.BaseExpression = new_call
            if index is not None:
                mapped = map_index(index, tr, template)
                out = cst.Call(
                    func=cst.Attribute(value=out, attr=cst.Name("set_index")), args=[cst.Arg(mapped)]
                )
            if suffix:
                out = cst.Call(func=cst.Attribute(value=out, attr=cst.Name(suffix)), args=[])
            return out  # type: ignore[return-value]

        self.set(call, fix)
        if method == "query_data_frame":
            self.note(
                "query-frame-shape",
                call,
                "the DataFrame now has the InfluxDB 3 shape: `time` (tz-naive UTC), tag columns and one column per "
                "field; no result/table/_start/_stop/_measurement columns",
            )
        return True
