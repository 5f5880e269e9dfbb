"""The translation record and the first stages of a Flux pipeline: `from`, `range` bounds and `filter`
predicates (measurement, fields, tags, values) as SQL conditions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from fleetshift.recipes.influxdb.flux.lexer import HOLE_RE, FluxError
from fleetshift.recipes.influxdb.flux.sql import ident, interval, literal
from fleetshift.recipes.influxdb.flux.syntax import (
    Arr,
    BinOp,
    Bool,
    Call,
    Dur,
    Func,
    Ident,
    Member,
    Num,
    Query,
    Regex,
    Str,
    Time,
    Unary,
)


@dataclass
class Translation:
    """The outcome of translating one Flux query.

    `sql` is set only for an exact translation; `proposed` is the best SQL otherwise (may be None when
    nothing sensible exists) and `reason` says what differs. `columns` maps Flux column names to the
    result column names of the SQL (`_time` -> `time`, `_value` -> the field); `constants` maps Flux
    columns that became constants (`_field`, `_measurement`) to their values.
    """

    database: str | None = None
    measurement: str | None = None
    fields: tuple[str, ...] = ()
    sql: str | None = None
    proposed: str | None = None
    reason: str = ""
    wide: bool = False  # rows carry one column per field (pivot), not `_field`/`_value`
    has_time: bool = True
    columns: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    params: tuple[str, ...] = ()  # Flux `params.x` names used (become `$x`)
    long: bool = False  # rows in Flux's own long shape: _time (UTC), _measurement, _field, _value, tags

    @property
    def exact(self) -> bool:
        return self.sql is not None


META = ("_start", "_stop", "result", "table")


class FilterTranslator:
    """State of one translation, and the predicates of `filter()` and the bounds of `range()`."""

    def __init__(
        self,
        query: Query,
        param_names: Iterable[str] = (),
        only_field: str | None = None,
        time_holes: Iterable[str] = (),
    ) -> None:
        self.q = query
        self.param_names = set(param_names)
        self.only_field = only_field  # translate the rows of this one field (a branch of a long-shape union)
        self.time_holes = set(time_holes)  # f-string placeholders known to hold RFC3339 times
        self.t = Translation()
        self.conds: list[str] = []
        self.time_conds: list[str] = []
        self.stop = "now()"
        self.start: str | None = None
        self.tags_seen: list[str] = []
        self.params: list[str] = []
        self.inexact: list[str] = []

    def note(self, reason: str) -> None:
        self.inexact.append(reason)

    def col(self, name: str) -> str:
        if name == "_time":
            return "time"
        if name == "_value":
            if len(self.t.fields) != 1 or self.t.wide:
                raise FluxError("a `_value` predicate needs exactly one field selected before any pivot")
            return ident(self.t.fields[0])
        if name in ("_field", "_measurement", *META):
            raise FluxError(f"`{name}` inside a compound predicate is not translatable")
        if name not in self.tags_seen and name not in self.t.fields:
            self.tags_seen.append(name)
        return ident(name)

    def value(self, node: object) -> str:
        if isinstance(node, Str):
            return literal(node.value)
        if isinstance(node, Num):
            return node.text
        if isinstance(node, Bool):
            return "true" if node.value else "false"
        if isinstance(node, Time):
            return literal(node.text)
        if isinstance(node, Ident) and node.name.startswith("params."):
            name = node.name.split(".", 1)[1]
            self.params.append(name)
            return "$" + name
        if isinstance(node, Ident) and node.name in self.param_names:
            self.params.append(node.name)
            return "$" + node.name
        raise FluxError(f"unsupported value {node!r}")

    def pred(self, node: object, var: str) -> str:
        if isinstance(node, BinOp) and node.op in ("and", "or"):
            return f"({self.pred(node.left, var)} {node.op.upper()} {self.pred(node.right, var)})"
        if isinstance(node, Unary) and node.op == "not":
            return f"NOT ({self.pred(node.operand, var)})"
        if isinstance(node, Unary) and node.op == "exists":
            return f"{self.col(self.member(node.operand, var))} IS NOT NULL"
        if isinstance(node, Call) and node.name == "contains":
            name = self.member(node.args.get("value"), var)
            values = node.args.get("set")
            if not isinstance(values, Arr):
                raise FluxError("contains() needs a literal set")
            return f"{self.col(name)} IN ({', '.join(self.value(v) for v in values.items)})"
        if isinstance(node, BinOp):
            left, right, op = node.left, node.right, node.op
            if isinstance(right, Member) and not isinstance(left, Member):
                left, right = right, left
                op = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}.get(op, op)
            column = self.col(self.member(left, var))
            if op in ("=~", "!~"):
                if not isinstance(right, Regex):
                    raise FluxError("regex operator without a regex literal")
                return f"{column} {'~' if op == '=~' else '!~'} {literal(right.pattern)}"
            sql_op = {"==": "=", "!=": "<>"}.get(op, op)
            if sql_op not in ("=", "<>", "<", ">", "<=", ">="):
                raise FluxError(f"operator {op} is not translatable")
            return f"{column} {sql_op} {self.value(right)}"
        raise FluxError(f"unsupported predicate {node!r}")

    @staticmethod
    def member(node: object, var: str) -> str:
        if isinstance(node, Member) and isinstance(node.obj, Ident) and node.obj.name == var:
            return node.prop
        if isinstance(node, Ident) and node.name.startswith(var + "."):
            return node.name[len(var) + 1 :]
        raise FluxError(f"expected a column of `{var}`, found {node!r}")

    def split_and(self, node: object) -> list[object]:
        if isinstance(node, BinOp) and node.op == "and":
            return [*self.split_and(node.left), *self.split_and(node.right)]
        return [node]

    def alternatives(self, node: object, var: str, column: str) -> list[str] | None:
        """`r.C == "a" or r.C == "b"` -> ["a", "b"]; None when the node is not only that."""
        if isinstance(node, BinOp) and node.op == "or":
            left = self.alternatives(node.left, var, column)
            right = self.alternatives(node.right, var, column)
            return None if left is None or right is None else [*left, *right]
        if isinstance(node, BinOp) and node.op == "==":
            try:
                name = self.member(node.left, var)
            except FluxError:
                return None
            if name == column and isinstance(node.right, Str):
                return [node.right.value]
        return None

    def filter(self, call: Call, after_pivot: bool) -> None:
        fn = call.args.get("fn")
        if not isinstance(fn, Func) or len(fn.params) != 1:
            raise FluxError("filter() needs fn: (r) => ...")
        var = fn.params[0]
        for part in self.split_and(fn.body):
            meas = self.alternatives(part, var, "_measurement")
            if meas is not None:
                if len(meas) != 1 or (self.t.measurement not in (None, meas[0])):
                    raise FluxError("several measurements: SQL reads one table at a time")
                self.t.measurement = meas[0]
                continue
            fields = self.alternatives(part, var, "_field")
            if fields is not None:
                if after_pivot:
                    raise FluxError("`_field` filter after pivot")
                chosen = [f for f in fields if not self.t.fields or f in self.t.fields]
                if self.only_field is not None:
                    chosen = [f for f in chosen if f == self.only_field]
                self.t.fields = tuple(dict.fromkeys(chosen))
                continue
            self.conds.append(self.pred(part, var))

    def time_bound(self, node: object) -> str:
        if isinstance(node, Dur):
            if not node.negative:
                raise FluxError("a positive relative range bound is not translatable")
            return f"now() - {interval(node)}"
        if isinstance(node, Time):
            return literal(node.text)
        if isinstance(node, Num) and node.text in self.time_holes:
            return literal(node.text)
        if isinstance(node, Num) and HOLE_RE.fullmatch(node.text):
            raise FluxError(
                "a range bound is a Python value: whether it is a duration or a time is not known here "
                "(pass it as a query parameter, or format a datetime with .isoformat())"
            )
        if isinstance(node, Ident) and node.name == "now":
            return "now()"
        if isinstance(node, Call) and node.name == "now":
            return "now()"
        if isinstance(node, Ident) and node.name.startswith("v."):
            raise FluxError(f"dashboard variable {node.name}: pass it as a query parameter")
        raise FluxError(f"unsupported range bound {node!r}")
