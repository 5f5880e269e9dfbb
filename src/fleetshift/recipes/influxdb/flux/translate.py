"""Flux pipelines -> one SQL statement: pivot, group, aggregateWindow, aggregates, first/last, sort, limit,
keep/drop, yield on top of the `filters` stages; `translate` and `try_translate` are the entry points."""

from __future__ import annotations

from collections.abc import Iterable

from fleetshift.recipes.influxdb.flux.filters import META, FilterTranslator, Translation
from fleetshift.recipes.influxdb.flux.lexer import FluxError
from fleetshift.recipes.influxdb.flux.sql import ident, interval, limited, literal, order_by, ranked
from fleetshift.recipes.influxdb.flux.syntax import Call, Dur, Ident, Str, parse, plain

_AGG_FNS = {"mean": "avg", "sum": "sum", "count": "count", "min": "min", "max": "max"}

_WINDOW_FNS = {
    **_AGG_FNS,
    "first": "first_value({x} ORDER BY time)",
    "last": "last_value({x} ORDER BY time)",
}


class PipelineTranslator(FilterTranslator):
    """The whole pipeline after `from |> range`."""

    def run(self) -> Translation:
        calls = list(self.q.pipeline)
        if self.q.imports and set(self.q.imports) - {"influxdata/influxdb/schema"}:
            raise FluxError(f"imports {', '.join(self.q.imports)} are not translatable")
        src = calls.pop(0)
        bucket = src.args.get("bucket")
        if src.name != "from" or not isinstance(bucket, Str):
            raise FluxError('the query must start with from(bucket: "...")')
        self.t.database = bucket.value
        if not calls or calls[0].name != "range":
            raise FluxError("from() must be followed by range()")
        rng = calls.pop(0)
        if "start" not in rng.args:
            raise FluxError("range() without start")
        self.start = self.time_bound(rng.args["start"])
        self.time_conds.append(f"time >= {self.start}")
        if "stop" in rng.args:
            self.stop = self.time_bound(rng.args["stop"])
        self.time_conds.append(f"time < {self.stop}")

        stage = "filter"
        group: tuple[str, ...] | None = None  # None: one table per series (tags unknown)
        sorted_by: tuple[str, bool] | None = ("time", False)
        order: tuple[str, bool] | None = None
        aggregate: tuple[str, ...] | None = None  # select-list items when aggregating
        group_by: tuple[str, ...] = ()
        limit: tuple[int, int] | None = None
        selector: tuple[str, bool] | None = None  # order column, descending
        keep: list[str] | None = None
        drop: list[str] = []
        self.window_every: str | None = None

        for call in calls:
            name = call.name
            if name == "filter" and stage in ("filter", "pivot"):
                self.filter(call, after_pivot=stage == "pivot")
            elif name in ("pivot", "schema.fieldsAsCols") and stage == "filter":
                if name == "pivot":
                    want = {"rowKey": ["_time"], "columnKey": ["_field"], "valueColumn": "_value"}
                    got = {k: plain(v) for k, v in call.args.items()}
                    if got != want:
                        raise FluxError(
                            'only pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")'
                        )
                self.t.wide = True
                stage = "pivot"
            elif name == "group" and stage in ("filter", "pivot") and aggregate is None:
                cols = plain(call.args.get("columns", []))
                if call.args.get("mode") not in (None, Str("by")) or not isinstance(cols, list):
                    raise FluxError('group(mode: "except") is not translatable')
                group = tuple(c for c in cols if c not in ("_measurement", "_start", "_stop", "_field"))
                if "_field" not in cols and len(self.t.fields) != 1 and not self.t.wide:
                    raise FluxError("group() that merges several fields is not translatable")
                sorted_by = None
                stage = "group"
            elif name == "aggregateWindow" and aggregate is None and stage in ("filter", "group", "pivot"):
                aggregate, group_by = self.aggregate_window(call, group)
                sorted_by = ("time", False)
                stage = "agg"
            elif name in _AGG_FNS and not call.args and aggregate is None and stage in ("filter", "group"):
                if name in ("min", "max"):
                    selector = (self.value_column(), name == "max")
                    if group is None:
                        self.note(f"{name}() works per series; the tag columns are not known here")
                    stage = "agg"
                    continue
                x = self.value_column()
                if group is None:
                    self.note(f"{name}() aggregates per series; the tag columns are not known here")
                    group = tuple(self.tags_seen)
                aggregate = (*map(ident, group), f"{_AGG_FNS[name]}({x}) AS {x}")
                group_by = tuple(map(ident, group))
                self.t.has_time = False
                stage = "agg"
            elif name in ("first", "last") and not call.args and aggregate is None and selector is None:
                if sorted_by is None or group is None:
                    self.note(
                        f"{name}() picks one row per series in table order; the tag columns are not known"
                    )
                    group = group if group is not None else tuple(self.tags_seen)
                    sorted_by = sorted_by or ("time", False)
                col, desc = sorted_by
                selector = (col, desc != (name == "last"))
                stage = "agg"
            elif name == "sort":
                cols = plain(call.args.get("columns", ["_value"]))
                desc = plain(call.args.get("desc", False))
                if not isinstance(cols, list) or len(cols) != 1 or not isinstance(desc, bool):
                    raise FluxError("sort() on several columns is not translatable")
                column = (
                    "time"
                    if cols[0] == "_time"
                    else ident(self.value_column() if cols[0] == "_value" else cols[0])
                )
                order = (column, desc)
                sorted_by = (column, desc)
            elif name == "limit":
                n = plain(call.args.get("n"))
                offset = plain(call.args.get("offset", 0))
                if not isinstance(n, int) or not isinstance(offset, int) or limit is not None:
                    raise FluxError("limit() needs literal n and offset")
                if group is None:
                    self.note("limit() works per series; the tag columns are not known here")
                    group = tuple(self.tags_seen)
                elif sorted_by is None:
                    self.note("limit() after group() keeps rows in table order, which SQL cannot reproduce")
                limit = (n, offset)
            elif name == "keep":
                cols = plain(call.args.get("columns"))
                if not isinstance(cols, list):
                    raise FluxError("keep() needs literal columns")
                keep = [c for c in cols if keep is None or c in keep]
            elif name == "drop":
                cols = plain(call.args.get("columns"))
                if not isinstance(cols, list):
                    raise FluxError("drop() needs literal columns")
                drop.extend(cols)
            elif name == "yield":
                continue
            else:
                raise FluxError(f"{name}() at this place is not translatable")

        if self.t.measurement is None:
            raise FluxError("no `_measurement ==` filter: Flux reads every measurement, SQL one table")
        self.t.columns = {"_time": "time"}
        if len(self.t.fields) == 1 and not self.t.wide:
            self.t.columns["_value"] = self.t.fields[0]
            self.t.constants["_field"] = self.t.fields[0]
        self.t.constants["_measurement"] = self.t.measurement
        self.t.params = tuple(dict.fromkeys(self.params))

        where = list(self.time_conds)
        if self.t.fields:
            nn = [f"{ident(f)} IS NOT NULL" for f in self.t.fields]
            where.append(nn[0] if len(nn) == 1 else "(" + " OR ".join(nn) + ")")
        where.extend(self.conds)
        table = ident(self.t.measurement)
        where_sql = " AND ".join(where)

        if aggregate is not None:
            select = ", ".join(aggregate)
            sql = f"SELECT {select} FROM {table} WHERE {where_sql}"
            if group_by:
                sql += " GROUP BY " + ", ".join(group_by)
            keys = [g for g in group_by if not g.startswith("date_bin")]
            order_items = [*keys, "time"] if self.t.has_time else keys
            if order is not None:
                order_items = [order_by(*order)]
            if order_items:
                sql += " ORDER BY " + ", ".join(order_items)
            if limit is not None:
                sql = limited(sql, group, *limit, order_by(*(order or ("time", False))))
        else:
            projection = self.projection(keep, drop)
            if selector is not None:
                col, desc = selector
                sql = ranked(projection, table, where_sql, group or (), order_by(col, desc), 1, 0)
            elif limit is not None:
                o = order or ("time", False)
                sql = ranked(projection, table, where_sql, group or (), order_by(*o), *limit)
            else:
                o = order or ("time", False)
                sql = f"SELECT {projection} FROM {table} WHERE {where_sql} ORDER BY {order_by(*o)}"
        if self.inexact:
            self.t.proposed = sql
            self.t.reason = "; ".join(self.inexact)
        else:
            self.t.sql = sql
        return self.t

    def value_column(self) -> str:
        if len(self.t.fields) != 1 or self.t.wide:
            raise FluxError("an aggregate over several fields (or after pivot) is not translatable")
        return ident(self.t.fields[0])

    def aggregate_window(
        self, call: Call, group: tuple[str, ...] | None
    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
        every = call.args.get("every")
        fn = call.args.get("fn")
        if not isinstance(every, Dur) or every.negative or any(u in ("mo", "y") for _, u in every.parts):
            raise FluxError("aggregateWindow(every:) must be a fixed duration")
        if set(call.args) - {"every", "fn", "createEmpty", "timeSrc", "column"}:
            raise FluxError("aggregateWindow(offset:/period:/location:) is not translatable")
        if not isinstance(fn, Ident) or fn.name not in _WINDOW_FNS:
            raise FluxError("aggregateWindow(fn:) must be mean, sum, count, min, max, first or last")
        x = self.value_column()
        ivl = interval(every)
        start_label = f"date_bin({ivl}, time)"
        time_src = plain(call.args.get("timeSrc", "_stop"))
        if time_src == "_stop":
            label = f"least({start_label} + {ivl}, {self.stop})"
        elif time_src == "_start":
            label = f"greatest({start_label}, {self.start})"
        else:
            raise FluxError("aggregateWindow(timeSrc:) must be _start or _stop")
        template = _WINDOW_FNS[fn.name]
        agg = template.format(x=x) if "{x}" in template else f"{template}({x})"
        if plain(call.args.get("createEmpty", True)) is not False:
            self.note(
                "aggregateWindow() creates empty windows (null rows) by default; plain SQL returns only windows "
                "with data (InfluxDB 3: date_bin_gapfill) -- add createEmpty: false if that is what you mean"
            )
        if group is None:
            self.note("aggregateWindow() works per series; the tag columns are not known here")
            group = tuple(self.tags_seen)
        cols = tuple(map(ident, group))
        return (f"{label} AS time", *cols, f"{agg} AS {x}"), (start_label, *cols)

    def projection(self, keep: list[str] | None, drop: list[str]) -> str:
        def sql_name(c: str) -> str | None:
            if c in META:
                return None
            if c == "_time":
                return "time"
            if c == "_value":
                return ident(self.value_column())
            if c == "_field":
                if self.t.wide or len(self.t.fields) != 1:
                    raise FluxError("keep/drop of `_field` with several fields")
                return f"{literal(self.t.fields[0])} AS _field"
            if c == "_measurement":
                return f"{literal(self.t.measurement or '')} AS _measurement"
            return ident(c)

        if keep is not None:
            if drop:
                raise FluxError("keep() and drop() together are not translatable")
            items = [s for s in map(sql_name, keep) if s is not None]
            if not items:
                raise FluxError("keep() of no data column")
            for c in keep:
                if c not in ("_time", "_value", "_field", "_measurement", *META):
                    self.t.columns.setdefault(c, c)
            if "_time" not in keep:
                self.t.has_time = False
            return ", ".join(items)
        dropped = [ident(c) for c in drop if c not in (*META, "_field", "_measurement")]
        if "_time" in drop:
            self.t.has_time = False
        if dropped:
            return "* EXCLUDE (" + ", ".join(dropped) + ")"
        return "*"


def translate(
    text: str, param_names: Iterable[str] = (), only_field: str | None = None, time_holes: Iterable[str] = ()
) -> Translation:
    """Translate one Flux query; raises FluxError when it is outside the translatable subset.

    `param_names` are the keys of the client's `params=` (influxdb-client sends them as Flux options,
    so the query names them bare); they and `params.x` become `$x` placeholders.
    """
    query = parse(text)
    return PipelineTranslator(query, param_names, only_field, time_holes).run()


def try_translate(text: str, param_names: Iterable[str] = ()) -> tuple[Translation | None, str]:
    """`translate` that returns (None, reason) instead of raising."""
    try:
        return translate(text, param_names), ""
    except FluxError as exc:
        return None, str(exc)
    except (IndexError, KeyError, ValueError) as exc:  # malformed text the parser did not foresee
        return None, f"cannot parse the Flux query ({exc})"
