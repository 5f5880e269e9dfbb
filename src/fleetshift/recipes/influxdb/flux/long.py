"""Flux's own result shape in SQL: one row per field value, `_time` (UTC), `_measurement`, `_field`, `_value`
and the tag columns, as one `UNION ALL` branch per field. Code that reads FluxRecords by those names keeps
working on the rows of the SQL; `shaped` is the entry point for a whole Flux script."""

from __future__ import annotations

from collections.abc import Iterable

from fleetshift.recipes.influxdb.flux.filters import Translation
from fleetshift.recipes.influxdb.flux.lexer import FluxError
from fleetshift.recipes.influxdb.flux.prepare import prepare
from fleetshift.recipes.influxdb.flux.sql import ident, literal
from fleetshift.recipes.influxdb.flux.syntax import Query, Str, parse, plain
from fleetshift.recipes.influxdb.flux.translate import PipelineTranslator, translate

UTC_TIME = "arrow_cast(time, 'Timestamp(Microsecond, None)') AT TIME ZONE 'UTC'"  # what influxdb-client gave
LONG_STAGES = {
    "filter",
    "group",
    "aggregateWindow",
    "mean",
    "sum",
    "count",
    "min",
    "max",
    "first",
    "last",
    "yield",
}
AGGREGATES = {"aggregateWindow", "mean", "sum", "count"}
LONG_COLUMNS = ("_time", "_measurement", "_field", "_value")
META = ("_measurement", "_field")


def long_shape(query: Query) -> bool:
    """Whether the pipeline keeps Flux's long shape (no pivot, keep/drop, sort or limit) so it can be
    translated per field."""
    return all(c.name in LONG_STAGES for c in query.pipeline[2:])


def _group_columns(query: Query) -> tuple[str, ...] | None:
    cols: tuple[str, ...] | None = None
    for call in query.pipeline:
        if call.name == "group":
            got = plain(call.args.get("columns", []))
            if isinstance(got, list):
                cols = tuple(c for c in got if isinstance(c, str))
    return cols


def long_translate(
    text: str, tags: Iterable[str] = (), param_names: Iterable[str] = (), time_holes: Iterable[str] = ()
) -> Translation:
    """The long-shape SQL of one Flux pipeline; raises FluxError when it cannot be had.

    `tags` are the tag columns the caller reads (the filtered and grouped-on tags are always kept).
    """
    query = parse(text)
    if not long_shape(query):
        raise FluxError("the pipeline changes Flux's row shape (pivot, keep/drop, sort or limit)")
    probe_q = Query(query.imports, tuple(c for c in query.pipeline if c.name in ("from", "range", "filter")))
    probe = PipelineTranslator(probe_q, param_names, None, time_holes)
    probe.run()
    fields = probe.t.fields
    if not fields:
        raise FluxError("no `_field ==` filter: the fields are not known, and SQL has one column per field")
    group = _group_columns(query)
    if group is not None and "_field" not in group and len(fields) > 1:
        raise FluxError("group() that merges several fields into one table is not translatable")
    aggregated = any(c.name in AGGREGATES for c in query.pipeline)
    wanted = [*probe.tags_seen, *(t for t in tags if not t.startswith("_"))]
    if aggregated:
        keep = [c for c in (group or ()) if not c.startswith("_")]
        missing = [t for t in wanted if t not in keep]
        if group is None:
            raise FluxError("an aggregate without group(columns: [...]): the tag columns are not known here")
        if missing:
            raise FluxError(
                f"tags {', '.join(missing)} are read but the aggregate keeps only {', '.join(keep)}"
            )
    else:
        keep = list(dict.fromkeys(wanted))
    # an aggregate keeps only the group key columns: _measurement and _field too only when grouped on
    meta = [c for c in ("_measurement", "_field") if not aggregated or c in (group or ())]
    branches: list[str] = []
    reasons: list[str] = []
    exact = True
    has_time = True
    measurement = database = None
    for f in fields:
        tr = translate(text, param_names, only_field=f, time_holes=time_holes)
        inner = tr.sql or tr.proposed
        if inner is None:
            raise FluxError(tr.reason or "no SQL for one of the fields")
        if not tr.exact:
            exact = False
            reasons.append(tr.reason)
        has_time = tr.has_time
        measurement, database = tr.measurement, tr.database
        constants = {"_measurement": tr.measurement or "", "_field": f}
        cols = [
            *([f"{UTC_TIME} AS _time"] if has_time else []),
            *(f"{literal(constants[c])} AS {c}" for c in meta),
            f"{ident(f)} AS _value",
            *map(ident, keep),
        ]
        branches.append(f"SELECT {', '.join(cols)} FROM ({inner})")
    order = [*(["_field"] if "_field" in meta else []), *map(ident, keep), *(["_time"] if has_time else [])]
    sql = " UNION ALL ".join(branches) + " ORDER BY " + ", ".join(order)
    out = Translation(
        database=database,
        measurement=measurement,
        fields=fields,
        has_time=has_time,
        long=True,
        columns={
            c: c
            for c in (*LONG_COLUMNS, *keep)
            if (has_time or c != "_time") and (c not in META or c in meta)
        },
        params=probe.t.params,
    )
    if exact:
        out.sql = sql
    else:
        out.proposed = sql
        out.reason = "; ".join(dict.fromkeys(reasons))
    return out


def shaped(
    text: str,
    long: bool,
    tags: Iterable[str] = (),
    param_names: Iterable[str] = (),
    time_holes: Iterable[str] = (),
) -> tuple[Translation | None, str]:
    """A whole Flux script translated for a caller that reads the long shape (`long`) or wide rows.

    Returns (translation, "") or (None, why). A translation that is not exact carries `proposed` SQL and
    the blockers in `reason`."""
    try:
        prep = prepare(text)
        pipeline = prep.text
        if long and long_shape(parse(pipeline)):
            tr = long_translate(pipeline, tags, param_names, time_holes)
        else:
            try:
                tr = translate(pipeline, param_names, time_holes=time_holes)
                if long and tr.wide:
                    _flux_names(tr)
            except FluxError as exc:
                if "several fields" not in str(exc):
                    raise
                tr = long_translate(pipeline, tags, param_names, time_holes)  # a proposal in the long shape
                tr.proposed, tr.sql = tr.sql or tr.proposed, None
                tr.reason = f"{exc}; the proposed SQL returns one row per field value (_field, _value)"
    except FluxError as exc:
        return None, str(exc)
    except (IndexError, KeyError, ValueError) as exc:
        return None, f"cannot parse the Flux query ({exc})"
    if prep.blockers:
        tr.proposed, tr.sql = tr.sql or tr.proposed, None
        tr.reason = "; ".join((*prep.blockers, *([tr.reason] if tr.reason else [])))
    return tr, ""


def _flux_names(tr: Translation) -> None:
    """Pivoted rows under Flux's own names: `_time` (UTC) and `_measurement` beside the tags and fields."""
    for attr in ("sql", "proposed"):
        sql = getattr(tr, attr)
        if sql is not None and tr.has_time:
            wrapped = (
                f"SELECT {UTC_TIME} AS _time, {literal(tr.measurement or '')} AS _measurement, "
                f"* EXCLUDE (time) FROM ({sql}) ORDER BY _time"
            )
            setattr(tr, attr, wrapped)
    if tr.has_time:
        tr.columns = {**tr.columns, "_time": "_time", "_measurement": "_measurement"}
        tr.constants.pop("_measurement", None)
        tr.long = True


def bucket_of(text: str) -> str | None:
    """The literal bucket of a Flux pipeline's `from()`, if it parses."""
    try:
        q = parse(prepare(text).text)
    except (FluxError, IndexError, KeyError, ValueError):
        return None
    b = q.pipeline[0].args.get("bucket") if q.pipeline else None
    return b.value if isinstance(b, Str) else None
