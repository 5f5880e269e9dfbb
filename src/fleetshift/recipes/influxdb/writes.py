"""Planning the write rewrite: `write_api(...).write(bucket, org, record)` -> `client.write(record=, database=)`,
write options moved to the client, flush/close, and write_api/query_api objects that must go."""

from __future__ import annotations

import libcst as cst

from fleetshift.recipes.influxdb.analysis import ApiBinding
from fleetshift.recipes.influxdb.edits import code_of, named_args, parse_expr, relayout
from fleetshift.recipes.influxdb.queries import QueryPlanner

WRITE_POSITIONAL = ("bucket", "org", "record", "write_precision")  # influxdb-client WriteApi.write()
WRITE_OPTION_KWARGS = ("write_options", "success_callback", "error_callback", "retry_callback")


class WritePlanner(QueryPlanner):
    """write_api objects, their writes and options, and calls made inline on `X.write_api()` / `X.query_api()`."""

    def plan_write_binding(self, b: ApiBinding) -> None:
        if self.is_async(b.client):
            return
        if not self.write_options_ok(b.call, b):
            return
        usable = all(self.client_usable_at(b.client, u) for u in b.uses)
        if b.other_uses or not usable:
            b.collapse = False
        client = b.client
        for use in b.uses:
            method = use.attr.value
            call = self.facts.parent[use]
            receiver_code = code_of(client) if b.collapse else None
            if method == "write":
                self.plan_write_call(call, receiver_code)  # type: ignore[arg-type]
            elif method in ("flush", "close"):

                def fix(n: cst.CSTNode, code: str | None = receiver_code) -> cst.CSTNode:
                    func = n.func  # type: ignore[attr-defined]
                    value = parse_expr(code) if code else func.value
                    return n.with_changes(func=func.with_changes(value=value, attr=cst.Name("flush")))  # type: ignore[attr-defined]

                self.set(call, fix)
            else:
                self.note(
                    "write-manual",
                    use,
                    f"`{code_of(use)}()` has no influxdb3-python equivalent; call the client instead",
                )
                b.collapse = False
        if b.with_node is not None:
            self.plan_with(b)
        elif b.collapse:
            self.set(b.stmt, lambda n: cst.RemoveFromParent())  # type: ignore[arg-type]
        else:
            self.set(b.call, lambda n, c=code_of(client): parse_expr(c))

    def plan_with(self, b: ApiBinding) -> None:
        w = b.with_node
        assert w is not None
        if len(w.items) != 1 or not b.collapse:
            self.set(b.call, lambda n, c=code_of(b.client): parse_expr(c))
            return

        def lift(n: cst.CSTNode) -> cst.CSTNode | cst.FlattenSentinel:
            body = n.body  # type: ignore[attr-defined]
            if not isinstance(body, cst.IndentedBlock):
                return n
            stmts = list(body.body)
            if stmts:
                stmts[0] = stmts[0].with_changes(leading_lines=[*n.leading_lines, *stmts[0].leading_lines])  # type: ignore[attr-defined]
            return cst.FlattenSentinel(stmts)

        self.set(w, lift)

    def write_options_ok(self, call: cst.Call, b: ApiBinding | None) -> bool:
        """Plan moving write_api(...) options to the client; False (with a Finding) when not possible."""
        kwargs = {a.keyword.value: a for a in call.args if a.keyword is not None}
        if any(a.keyword is None for a in call.args) or set(kwargs) - {
            *WRITE_OPTION_KWARGS,
            "point_settings",
        }:
            self.note(
                "write-options-manual",
                call,
                "write_api() with positional or unknown arguments: move them to "
                "`InfluxDBClient3(write_client_options=write_client_options(...))` by hand",
            )
            return False
        if "point_settings" in kwargs:
            self.note(
                "default-tags",
                call,
                "write_api(point_settings=...): influxdb3-python 0.21 takes `InfluxDBClient3(point_settings="
                "PointSettings(...))`, 0.17-0.20 take `write_client_options(point_settings=...)` (0.21 raises "
                "TypeError on that); pin >=0.21,<0.22 and move it, or add the tags to each record",
            )
            return False
        wo = kwargs.get("write_options")
        if wo is None:
            self.note(
                "write-api-batching",
                call,
                "bare write_api() batched writes in the background on influxdb-client (WriteOptions() default); "
                "influxdb3-python writes synchronously by default, so each write() now blocks and raises on error. "
                "For batching add `write_client_options=write_client_options(write_options=WriteOptions())` to "
                "InfluxDBClient3",
            )
            if set(kwargs) - {"write_options"}:
                return self.move_options(call, b, kwargs)
            return True
        if self.is_v2(wo.value, "SYNCHRONOUS") and len(kwargs) == 1:
            return True
        if self.is_v2(wo.value, "ASYNCHRONOUS"):
            self.note(
                "write-async",
                call,
                "ASYNCHRONOUS writes are deprecated in influxdb3-python (write() returns an ApplyResult and warns); "
                "prefer synchronous writes, in coroutines via `await asyncio.to_thread(client.write, ...)`",
            )
        return self.move_options(call, b, kwargs)

    def move_options(self, call: cst.Call, b: ApiBinding | None, kwargs: dict[str, cst.Arg]) -> bool:
        client = call.func.value  # type: ignore[attr-defined]
        ctor = self.ctor_for(client)
        if ctor is None:
            self.note(
                "write-options-manual",
                call,
                "write_api(...) options must move to the client constructor: "
                "`InfluxDBClient3(..., write_client_options=write_client_options(write_options=..., "
                "success_callback=..., error_callback=..., retry_callback=...))` -- the constructor is not "
                "in this file",
            )
            return False
        entries = self.write_client_opts.setdefault(id(ctor), [])
        if entries and code_of(entries[0][1]) != code_of(call):
            self.note(
                "write-options-manual",
                call,
                "several write_api()s with different options on one client: use one "
                "InfluxDBClient3 per write configuration",
            )
            return False
        entries.append((b, call))
        return True

    def plan_write_call(self, call: cst.Call, receiver: str | None) -> bool:
        """Rewrite `X.write(bucket, org, record, ...)` to `client.write(record=, database=, ...)`."""
        pairs = named_args(call.args, WRITE_POSITIONAL)
        if pairs is None:
            if any(a.star for a in call.args):
                self.note(
                    "write-manual",
                    call,
                    "write() with *args/**kwargs: rewrite to `client.write(record=..., database=...)` by hand",
                )
            return False
        named = {name: a.value for name, a in pairs}
        if "record" not in named or "bucket" not in named:
            self.note(
                "write-manual",
                call,
                "write() without bucket or record: rewrite to `client.write(record=..., database=...)` by hand",
            )
            return False
        self.bucket_exprs.append((named["bucket"], code_of(named["bucket"])))
        original = list(call.args)

        def fix(n: cst.CSTNode) -> cst.CSTNode:
            got = named_args(n.args, WRITE_POSITIONAL) or []  # type: ignore[attr-defined]
            values = dict((name, a.value) for name, a in got)
            new: list[tuple[str | None, cst.BaseExpression]] = [
                ("record", values["record"]),
                ("database", values["bucket"]),
            ]
            if "write_precision" in values:
                new.append(("write_precision", values["write_precision"]))
            rest = [(name, a.value) for name, a in got if name not in WRITE_POSITIONAL]
            func = n.func  # type: ignore[attr-defined]
            if receiver is not None:
                func = func.with_changes(value=parse_expr(receiver))
            return n.with_changes(func=func, args=relayout(original, [*new, *rest]))  # type: ignore[attr-defined]

        self.set(call, fix)
        return True

    def plan_inline_calls(self) -> None:
        """`X.write_api(...).write(...)`, `X.query_api().query(...)` and `.write(bucket=, record=)` on other receivers."""
        bound_calls = {id(b.call) for b in self.bindings.values()}
        bound_uses = {id(self.facts.parent[u]) for b in self.bindings.values() for u in b.uses}
        for call in self.facts.analysis.calls:
            f = call.func
            if not isinstance(f, cst.Attribute) or id(call) in bound_uses:
                continue
            inner = f.value
            if (
                isinstance(inner, cst.Call)
                and isinstance(inner.func, cst.Attribute)
                and id(inner) not in bound_calls
            ):
                api = inner.func.attr.value
                client = inner.func.value
                if self.is_async(client):
                    continue
                if api == "write_api" and f.attr.value == "write":
                    if self.write_options_ok(inner, None) and self.plan_write_call(call, code_of(client)):
                        continue
                elif api == "write_api" and f.attr.value in ("flush", "close"):
                    continue
                elif api == "query_api":
                    self.plan_query_call(call, client)
                    continue
            if f.attr.value == "write" and {a.keyword.value for a in call.args if a.keyword} >= {
                "bucket",
                "record",
            }:
                self.plan_write_call(call, None)
        self.flag_leftover_apis()

    def flag_leftover_apis(self) -> None:
        """A write_api()/query_api() object that none of the rules consumed: a human must replace it."""
        handled = {id(b.call) for b in self.bindings.values()}
        for call in self.facts.analysis.calls:
            f = call.func
            if isinstance(f, cst.Attribute) and isinstance(f.value, cst.Call):
                inner = f.value.func
                if isinstance(inner, cst.Attribute) and inner.attr.value in ("write_api", "query_api"):
                    handled.add(id(f.value))
            if isinstance(self.facts.parent.get(call), cst.WithItem):
                handled.add(id(call))
        for call in self.facts.analysis.calls:
            f = call.func
            if not isinstance(f, cst.Attribute) or f.attr.value not in ("write_api", "query_api"):
                continue
            if id(call) in handled or self.is_async(f.value):
                continue
            rule = "write-manual" if f.attr.value == "write_api" else "query-manual"
            self.note(
                rule,
                call,
                f"`{f.attr.value}()` objects do not exist in influxdb3-python: pass the InfluxDBClient3 "
                "and call its write()/query() instead",
            )
