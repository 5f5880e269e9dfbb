"""FluxTable/FluxRecord readers -> rows of one Arrow table

for table in tables: for record in table.records -> for record in tables.to_pylist(); get_value() ->
record[field]; get_time() -> record["time"] made UTC-aware
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fleetshift.recipes.influxdb import flux
from fleetshift.recipes.influxdb.rules import SQL_DOCS
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

    from fleetshift.recipes.influxdb.plan import Planning
    from fleetshift.recipes.influxdb.strings import Template

RULE = rule(__name__, __doc__, AUTO, link=SQL_DOCS, order=19)
RECORD_METHODS = {"get_value", "get_time", "get_field", "get_measurement"}


def column_source(text: str, template: Template) -> str:
    """Source for a column name: a literal, or the f-string placeholder's expression (`record[field]`)."""
    from fleetshift.recipes.influxdb.strings import python_literal

    return template.expression(text) if flux.HOLE_OPEN in text else python_literal(text)


def plan_consumers(
    p: Planning, call: cst.Call, method: str, tr: flux.Translation, template: Template
) -> str | None:
    """Plan the rewrite of the code that reads a translated query's result; returns a method to chain onto
    the new `client.query(...)` ("" for none), or None (with a Finding) when the readers cannot be rewritten."""
    return Readers(p, template).plan_consumers(call, method, tr)


@dataclass(frozen=True)
class Readers:
    """The readers of one translated query: the module being planned and the query's Flux template."""

    p: Planning
    template: Template

    def key_literal(self, text: str) -> str:
        """`column_source` in the template of the query whose readers are being planned."""
        return column_source(text, self.template)

    def plan_consumers(self, call: cst.Call, method: str, tr: flux.Translation) -> str | None:
        """Plan the rewrite of the code that reads the result; returns a method to chain ("" for none) or None."""
        import libcst as cst

        par = self.p.facts.parent.get(call)
        if method == "query_data_frame":
            if isinstance(par, cst.Assign) and len(par.targets) == 1:
                k = self.p.key(par.targets[0].target)
                if k is None:
                    return ""
                return "" if self.plan_frame_uses(k, call, tr) else None
            return ""
        if method == "query_stream":
            loop = par if isinstance(par, cst.For) and par.iter is call else None
            if loop is None and isinstance(par, cst.Assign) and len(par.targets) == 1:
                k = self.p.key(par.targets[0].target)
                refs = (
                    [r for r in self.p.refs(k) if not self.p.within(r, par)] if k and k[0] == "local" else []
                )
                loops = [self.p.facts.parent.get(r) for r in refs]
                if refs and all(
                    isinstance(lp, cst.For | cst.CompFor) and lp.iter is r
                    for lp, r in zip(loops, refs, strict=True)
                ):
                    areas = [lp if isinstance(lp, cst.For) else self.p.facts.parent[lp] for lp in loops]
                    pairs = zip(loops, areas, strict=True)
                    if all(self.plan_record_loop(lp.target, a, tr) for lp, a in pairs):  # type: ignore[union-attr]
                        return "to_pylist"
                    return None
            if loop is None:
                self.p.note(
                    "query-results-manual",
                    call,
                    "query_stream() result used outside a for loop: iterate "
                    "`client.query(sql).to_pylist()` (rows are dicts: time, tags, fields)",
                )
                return None
            return "to_pylist" if self.plan_record_loop(loop.target, loop, tr) else None
        # query(): a TableList
        if isinstance(par, cst.For) and par.iter is call:
            return "" if self.plan_table_loop(par, None, tr) else None
        if isinstance(par, cst.CompFor) and par.iter is call:
            return "" if self.plan_table_comp(par, tr) else None
        if isinstance(par, cst.Assign) and len(par.targets) == 1:
            k = self.p.key(par.targets[0].target)
            if k is not None and k[0] == "local":
                refs = [r for r in self.p.refs(k) if not self.p.within(r, par)]
                ok = bool(refs)
                for r in refs:
                    rp = self.p.facts.parent.get(r)
                    if isinstance(rp, cst.For) and rp.iter is r and self.plan_table_loop(rp, r, tr):
                        continue
                    if isinstance(rp, cst.CompFor) and rp.iter is r and self.plan_table_comp(rp, tr):
                        continue
                    ok = False
                if ok:
                    return ""
        self.p.note(
            "query-results-manual",
            call,
            "the result becomes one pyarrow.Table (rows via `.to_pylist()`: time, tags, "
            "one column per field) instead of FluxTables; the code reading it could not be rewritten -- "
            f"proposed SQL: {self.template.render(tr.sql)}",
        )
        return None

    def only_records_of(self, table: cst.Name, it: cst.BaseExpression, area: cst.CSTNode) -> bool:
        """`it` is `table.records` and `table` is used nowhere else in `area` (the loop or comprehension)."""
        import libcst as cst

        if not (
            isinstance(it, cst.Attribute) and it.attr.value == "records" and isinstance(it.value, cst.Name)
        ):
            return False
        if it.value.value != table.value:
            return False
        tkey = self.p.key(table)
        return tkey is not None and not [
            r for r in self.p.refs(tkey) if self.p.within(r, area) and r is not table and r is not it.value
        ]

    def plan_table_loop(self, outer: cst.For, ref: cst.Name | None, tr: flux.Translation) -> bool:
        import libcst as cst

        body = outer.body
        if (
            not isinstance(outer.target, cst.Name)
            or outer.orelse is not None
            or not isinstance(body, cst.IndentedBlock)
        ):
            return False
        if len(body.body) != 1 or not isinstance(body.body[0], cst.For):
            return False
        inner = body.body[0]
        if inner.orelse is not None or not self.only_records_of(outer.target, inner.iter, outer):
            return False
        if not self.plan_record_loop(inner.target, inner, tr):
            return False

        def flatten(n: cst.CSTNode) -> cst.CSTNode:
            inner_new = n.body.body[0]  # type: ignore[attr-defined]
            it_new = cst.Call(func=cst.Attribute(value=n.iter, attr=cst.Name("to_pylist")), args=[])  # type: ignore[attr-defined]
            body = inner_new.body
            if inner_new.leading_lines and body.body:
                first = body.body[0]
                body = body.with_changes(
                    body=[
                        first.with_changes(leading_lines=[*inner_new.leading_lines, *first.leading_lines]),
                        *body.body[1:],
                    ]
                )
            return n.with_changes(target=inner_new.target, iter=it_new, body=body)  # type: ignore[attr-defined]

        self.p.set(outer, flatten)
        return True

    def plan_table_comp(self, outer: cst.CompFor, tr: flux.Translation) -> bool:
        """`... for table in tables for record in table.records` -> `... for record in tables.to_pylist()`."""
        import libcst as cst

        inner = outer.inner_for_in
        if not isinstance(outer.target, cst.Name) or outer.ifs or inner is None or outer.asynchronous:
            return False
        comp = self.p.facts.parent[outer]
        if not self.only_records_of(outer.target, inner.iter, comp):
            return False
        if not self.plan_record_loop(inner.target, comp, tr):  # type: ignore[arg-type]
            return False

        def flatten(n: cst.CSTNode) -> cst.CSTNode:
            inner_new = n.inner_for_in  # type: ignore[attr-defined]
            it_new = cst.Call(func=cst.Attribute(value=n.iter, attr=cst.Name("to_pylist")), args=[])  # type: ignore[attr-defined]
            return n.with_changes(
                target=inner_new.target,
                iter=it_new,
                ifs=inner_new.ifs,  # type: ignore[attr-defined]
                inner_for_in=inner_new.inner_for_in,
            )

        self.p.set(outer, flatten)
        return True

    def plan_record_loop(self, target: cst.BaseExpression, loop: cst.CSTNode, tr: flux.Translation) -> bool:
        import libcst as cst

        from fleetshift.recipes.influxdb.edits import code_of

        if not isinstance(target, cst.Name):
            return False
        k = self.p.key(target)
        if k is None:
            return False
        area = loop.body if isinstance(loop, cst.For) else loop
        edits: list[tuple[cst.CSTNode, Callable[[cst.CSTNode], cst.CSTNode]]] = []
        for r in self.p.refs(k):
            if r is target or not self.p.within(r, area):
                continue
            edit = self.record_access(r, tr)
            if edit is None:
                self.p.note(
                    "query-results-manual",
                    r,
                    f"`{code_of(self.p.facts.parent[r])}` has no equivalent on the InfluxDB 3 row dict "
                    "(time, tags, one key per field)",
                )
                return False
            edits.append(edit)
        for node, fn in edits:
            self.p.set(node, fn)
        return True

    def row_key(self, key: str, tr: flux.Translation) -> str | None:

        if key in tr.constants or key in ("_start", "_stop", "result", "table"):
            return None
        if key.startswith("_"):
            return tr.columns.get(key)
        return key

    def record_access(self, r: cst.Name, tr: flux.Translation):
        """(node to replace, replacement fn) for one use of a FluxRecord variable, or None."""
        import libcst as cst

        from fleetshift.recipes.influxdb.edits import parse_expr, string_value

        par = self.p.facts.parent.get(r)
        name = r.value
        if isinstance(par, cst.Attribute) and par.value is r:
            call = self.p.facts.parent.get(par)
            attr = par.attr.value
            if attr in RECORD_METHODS and isinstance(call, cst.Call) and call.func is par and not call.args:
                flux_col = {
                    "get_value": "_value",
                    "get_time": "_time",
                    "get_field": "_field",
                    "get_measurement": "_measurement",
                }[attr]
                code = self.column_code(name, flux_col, tr)
                return None if code is None else (call, lambda n, c=code: parse_expr(c))
            if attr == "values":
                outer = self.p.facts.parent.get(par)
                if isinstance(outer, cst.Subscript) and outer.value is par:
                    return self.subscript_access(outer, name, tr)
                if isinstance(outer, cst.Attribute) and outer.attr.value == "get":
                    gcall = self.p.facts.parent.get(outer)
                    if (
                        isinstance(gcall, cst.Call)
                        and gcall.args
                        and string_value(gcall.args[0].value) is not None
                    ):
                        col = string_value(gcall.args[0].value)
                        mapped = self.row_key(col, tr)  # type: ignore[arg-type]
                        if mapped is None or col == "_time":
                            return None
                        return (
                            gcall,
                            lambda n, m=mapped: n.with_changes(
                                func=cst.Attribute(value=cst.Name(name), attr=cst.Name("get")),
                                args=[
                                    n.args[0].with_changes(value=parse_expr(self.key_literal(m))),
                                    *n.args[1:],
                                ],
                            ),
                        )
            return None
        if isinstance(par, cst.Subscript) and par.value is r:
            return self.subscript_access(par, name, tr)
        return None

    def subscript_access(self, sub: cst.Subscript, name: str, tr: flux.Translation):
        import libcst as cst

        from fleetshift.recipes.influxdb.edits import parse_expr, string_value

        if len(sub.slice) != 1 or not isinstance(sub.slice[0].slice, cst.Index):
            return None
        col = string_value(sub.slice[0].slice.value)
        if col is None or isinstance(self.p.facts.parent.get(sub), (cst.AssignTarget, cst.Del)):
            return None
        code = self.column_code(name, col, tr)
        return None if code is None else (sub, lambda n, c=code: parse_expr(c))

    def column_code(self, var: str, col: str, tr: flux.Translation) -> str | None:

        if col in tr.constants:
            return self.key_literal(tr.constants[col])
        if col == "_time":
            if not tr.has_time:
                return None
            self.p.plan.need_timezone = True
            return f'{var}["time"].replace(tzinfo=timezone.utc)'
        mapped = self.row_key(col, tr)
        return None if mapped is None else f"{var}[{self.key_literal(mapped)}]"

    def plan_frame_uses(self, k: tuple, call: cst.Call, tr: flux.Translation) -> bool:
        import libcst as cst

        from fleetshift.recipes.influxdb.edits import parse_expr, string_value

        stmt = self.p.stmt_of(call)
        for r in self.p.refs(k):
            if self.p.within(r, stmt):
                continue
            par = self.p.facts.parent.get(r)
            if isinstance(par, cst.Subscript) and par.value is r and len(par.slice) == 1:
                idx = par.slice[0].slice
                col = string_value(idx.value) if isinstance(idx, cst.Index) else None
                if col is not None and col.startswith("_"):
                    mapped = tr.columns.get(col)
                    if mapped is None:
                        self.p.note(
                            "query-results-manual",
                            par,
                            f"DataFrame column {col!r} does not exist on InfluxDB 3 results",
                        )
                        return False
                    self.p.set(idx.value, lambda n, m=self.key_literal(mapped): parse_expr(m))
        return True


def map_index(index: cst.BaseExpression, tr: flux.Translation, template: Template) -> cst.BaseExpression:
    """`data_frame_index` columns renamed to the result's columns (`_time` -> `time`)."""
    import libcst as cst

    from fleetshift.recipes.influxdb.edits import parse_expr, string_value

    def m(node: cst.BaseExpression) -> cst.BaseExpression:
        v = string_value(node)
        return (
            parse_expr(column_source(tr.columns[v], template)) if v is not None and v in tr.columns else node
        )

    if isinstance(index, cst.List):
        return index.with_changes(elements=[e.with_changes(value=m(e.value)) for e in index.elements])
    return m(index)
