"""A small Flux parser and a Flux -> InfluxDB 3 SQL translator for the mechanical query shapes.

Only pipelines made of `from`, `range`, `filter`, `pivot`/`schema.fieldsAsCols`, `group`,
`aggregateWindow`, plain aggregates, `first`/`last`, `sort`, `limit`, `keep`/`drop` and `yield` are
understood. A translation is `exact` when the SQL returns the rows the Flux meant (per series in time
order); otherwise `sql` is None and `proposed` carries the best SQL we can offer with the reason.

Text may carry f-string placeholders as `HOLE_OPEN<n>HOLE_CLOSE` sentinels (see `hole`); they survive
into the SQL and into identifiers such as the database, so the caller can rebuild an f-string.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

HOLE_OPEN = "\x00"
HOLE_CLOSE = "\x01"
HOLE_RE = re.compile(f"{HOLE_OPEN}(\\d+){HOLE_CLOSE}")


def hole(index: int) -> str:
    """The sentinel standing for the f-string placeholder number `index`."""
    return f"{HOLE_OPEN}{index}{HOLE_CLOSE}"


class FluxError(Exception):
    """The Flux text cannot be parsed or is outside the translatable subset."""


# ---- lexer ---------------------------------------------------------------------------------------

_UNITS = {
    "y": "years",
    "mo": "months",
    "w": "weeks",
    "d": "days",
    "h": "hours",
    "m": "minutes",
    "s": "seconds",
    "ms": "milliseconds",
    "us": "microseconds",
    "µs": "microseconds",
    "ns": "nanoseconds",
}
_DUR_PART = r"(?:\d+|\x00\d+\x01)(?:mo|ms|us|µs|ns|y|w|d|h|m|s)"
_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+|//[^\n]*)
  | (?P<time>\d{4}-\d\d-\d\d(?:T\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d))?)
  | (?P<dur>(?:"""
    + _DUR_PART
    + r""")+)(?![A-Za-z_0-9])
  | (?P<num>\d+\.\d+|\d+)
  | (?P<hole>\x00\d+\x01)
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<ident>[A-Za-z_][A-Za-z_0-9]*)
  | (?P<op>\|>|=>|==|!=|<=|>=|=~|!~|[-+*/<>=(){}\[\],:.])
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Tok:
    kind: str
    text: str
    pos: int


def _regex_at(text: str, pos: int) -> tuple[str, int] | None:
    """A `/.../` regex literal starting at `pos`, with its end."""
    i = pos + 1
    out = []
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            if text[i + 1] == "/":
                out.append("/")
            else:
                out.append(text[i : i + 2])
            i += 2
            continue
        if c == "/":
            return "".join(out), i + 1
        if c == "\n":
            return None
        out.append(c)
        i += 1
    return None


def tokenize(text: str) -> list[Tok]:
    toks: list[Tok] = []
    pos = 0
    while pos < len(text):
        if text[pos] == "/" and toks and toks[-1].text in ("=~", "!~", "(", ",", ":", "["):
            found = _regex_at(text, pos)
            if found is None:
                raise FluxError(f"unterminated regex at {pos}")
            toks.append(Tok("regex", found[0], pos))
            pos = found[1]
            continue
        m = _TOKEN_RE.match(text, pos)
        if not m:
            raise FluxError(f"unexpected character {text[pos]!r} at {pos}")
        kind = m.lastgroup or ""
        if kind != "ws":
            toks.append(Tok(kind, m.group(), pos))
        pos = m.end()
    toks.append(Tok("eof", "", pos))
    return toks


# ---- syntax tree -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Str:
    value: str


@dataclass(frozen=True)
class Num:
    text: str


@dataclass(frozen=True)
class Dur:
    parts: tuple[tuple[str, str], ...]  # (magnitude text, unit)
    negative: bool = False


@dataclass(frozen=True)
class Time:
    text: str


@dataclass(frozen=True)
class Regex:
    pattern: str


@dataclass(frozen=True)
class Ident:
    name: str  # dotted: "mean", "v.timeRangeStart", "params.host"


@dataclass(frozen=True)
class Bool:
    value: bool


@dataclass(frozen=True)
class Arr:
    items: tuple[object, ...]


@dataclass(frozen=True)
class Obj:
    items: tuple[tuple[str, object], ...]


@dataclass(frozen=True)
class Func:
    params: tuple[str, ...]
    body: object


@dataclass(frozen=True)
class Member:
    obj: object
    prop: str


@dataclass(frozen=True)
class BinOp:
    op: str
    left: object
    right: object


@dataclass(frozen=True)
class Unary:
    op: str
    operand: object


@dataclass(frozen=True)
class Call:
    name: str
    args: dict[str, object]


@dataclass(frozen=True)
class Query:
    imports: tuple[str, ...]
    pipeline: tuple[Call, ...]


_PREC = {
    "or": 1,
    "and": 2,
    "==": 4,
    "!=": 4,
    "<": 4,
    ">": 4,
    "<=": 4,
    ">=": 4,
    "=~": 4,
    "!~": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
}


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = tokenize(text)
        self.i = 0

    def peek(self, k: int = 0) -> Tok:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def take(self, text: str | None = None, kind: str | None = None) -> Tok:
        tok = self.peek()
        if (text is not None and tok.text != text) or (kind is not None and tok.kind != kind):
            raise FluxError(f"expected {text or kind} at {tok.pos}, found {tok.text!r}")
        self.i += 1
        return tok

    def query(self) -> Query:
        imports: list[str] = []
        while self.peek().text == "import":
            self.take("import")
            imports.append(_unquote(self.take(kind="str").text))
        if self.peek().text in ("option",) or (self.peek().kind == "ident" and self.peek(1).text == "="):
            raise FluxError("options and variables are not translatable")
        first = self.expr()
        if not isinstance(first, Call):
            raise FluxError("the query is not a pipeline of calls")
        calls = [first]
        while self.peek().text == "|>":
            self.take("|>")
            call = self.postfix()
            if not isinstance(call, Call):
                raise FluxError("pipe into something other than a call")
            calls.append(call)
        if self.peek().kind != "eof":
            raise FluxError("more than one statement (several queries or yields) is not translatable")
        return Query(tuple(imports), tuple(calls))

    def expr(self, min_prec: int = 0) -> object:
        left = self.unary()
        while True:
            tok = self.peek()
            op = tok.text
            prec = _PREC.get(op)
            if prec is None or prec < min_prec or tok.kind not in ("op", "ident"):
                return left
            self.take()
            right = self.expr(prec + 1)
            left = BinOp(op, left, right)

    def unary(self) -> object:
        tok = self.peek()
        if tok.text == "not":
            self.take()
            return Unary("not", self.expr(3))
        if tok.text == "exists":
            self.take()
            return Unary("exists", self.postfix())
        if tok.text == "-":
            self.take()
            operand = self.unary()
            if isinstance(operand, Dur):
                return Dur(operand.parts, not operand.negative)
            return Unary("-", operand)
        return self.postfix()

    def postfix(self) -> object:
        node = self.primary()
        while True:
            tok = self.peek()
            if tok.text == "." and self.peek(1).kind == "ident":
                self.take(".")
                prop = self.take(kind="ident").text
                node = Ident(f"{node.name}.{prop}") if isinstance(node, Ident) else Member(node, prop)
            elif tok.text == "[":
                self.take("[")
                key = self.take(kind="str").text
                self.take("]")
                node = Member(node, _unquote(key))
            elif tok.text == "(" and isinstance(node, Ident):
                node = Call(node.name, self.call_args())
            else:
                return node

    def call_args(self) -> dict[str, object]:
        self.take("(")
        args: dict[str, object] = {}
        while self.peek().text != ")":
            name = self.take(kind="ident").text
            self.take(":")
            args[name] = self.expr()
            if self.peek().text == ",":
                self.take(",")
        self.take(")")
        return args

    def primary(self) -> object:
        tok = self.peek()
        if tok.kind == "str":
            self.take()
            return Str(_unquote(tok.text))
        if tok.kind == "num":
            self.take()
            return Num(tok.text)
        if tok.kind == "hole":
            self.take()
            return Num(tok.text)
        if tok.kind == "dur":
            self.take()
            return Dur(tuple(_split_duration(tok.text)))
        if tok.kind == "time":
            self.take()
            return Time(tok.text)
        if tok.kind == "regex":
            self.take()
            return Regex(tok.text)
        if tok.kind == "ident":
            self.take()
            if tok.text in ("true", "false"):
                return Bool(tok.text == "true")
            return Ident(tok.text)
        if tok.text == "[":
            self.take("[")
            items = []
            while self.peek().text != "]":
                items.append(self.expr())
                if self.peek().text == ",":
                    self.take(",")
            self.take("]")
            return Arr(tuple(items))
        if tok.text == "{":
            self.take("{")
            pairs = []
            while self.peek().text != "}":
                key_tok = self.take()
                key = _unquote(key_tok.text) if key_tok.kind == "str" else key_tok.text
                if self.peek().text == "with":
                    raise FluxError("record extension `with` is not translatable")
                self.take(":")
                pairs.append((key, self.expr()))
                if self.peek().text == ",":
                    self.take(",")
            self.take("}")
            return Obj(tuple(pairs))
        if tok.text == "(":
            # function literal `(r) => body` or parenthesised expression
            if self.peek(1).kind == "ident" and self.peek(2).text in (")", ",") and self._is_function():
                self.take("(")
                params = []
                while self.peek().text != ")":
                    params.append(self.take(kind="ident").text)
                    if self.peek().text == ",":
                        self.take(",")
                self.take(")")
                self.take("=>")
                return Func(tuple(params), self.expr())
            self.take("(")
            inner = self.expr()
            self.take(")")
            return inner
        raise FluxError(f"unexpected {tok.text!r} at {tok.pos}")

    def _is_function(self) -> bool:
        j = self.i + 1
        while self.toks[j].text != ")":
            j += 1
        return self.toks[j + 1].text == "=>"


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m.group(1), m.group(1)), body)


def _split_duration(text: str) -> list[tuple[str, str]]:
    return re.findall(r"(\d+|\x00\d+\x01)(mo|ms|us|µs|ns|y|w|d|h|m|s)", text)


def parse(text: str) -> Query:
    """Parse one Flux query (imports plus one pipeline)."""
    return _Parser(text).query()


# ---- SQL helpers --------------------------------------------------------------------------------------

_RESERVED = {
    "all", "and", "as", "asc", "by", "case", "desc", "distinct", "else", "end", "from", "group", "having",
    "in", "is", "join", "limit", "not", "null", "offset", "on", "or", "order", "select", "table", "then",
    "union", "user", "when", "where", "with", "default", "interval", "values", "window", "over", "range",
}  # fmt: skip


def ident(name: str) -> str:
    """A SQL identifier, quoted unless it is a plain lower-case word."""
    if name == "time" or (re.fullmatch(r"[a-z_][a-z0-9_]*", name) and name not in _RESERVED):
        return name
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def interval(d: Dur) -> str:
    words = []
    for mag, unit in d.parts:
        name = _UNITS[unit]
        if mag == "1":
            name = name[:-1]
        words.append(f"{mag} {name}")
    return "INTERVAL " + literal(" ".join(words))


# ---- translation -------------------------------------------------------------------------------------


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

    @property
    def exact(self) -> bool:
        return self.sql is not None


_AGG_FNS = {"mean": "avg", "sum": "sum", "count": "count", "min": "min", "max": "max"}
_WINDOW_FNS = {
    **_AGG_FNS,
    "first": "first_value({x} ORDER BY time)",
    "last": "last_value({x} ORDER BY time)",
}
_META = ("_start", "_stop", "result", "table")


class _NotExact(Exception):
    """Translatable, but not exactly: carries the reason; the SQL built so far is proposed."""


class _Translator:
    def __init__(self, query: Query, param_names: Iterable[str] = ()) -> None:
        self.q = query
        self.param_names = set(param_names)
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

    # expressions inside filter functions
    def col(self, name: str) -> str:
        if name == "_time":
            return "time"
        if name == "_value":
            if len(self.t.fields) != 1 or self.t.wide:
                raise FluxError("a `_value` predicate needs exactly one field selected before any pivot")
            return ident(self.t.fields[0])
        if name in ("_field", "_measurement", *_META):
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
        if isinstance(node, Ident) and node.name == "now":
            return "now()"
        if isinstance(node, Call) and node.name == "now":
            return "now()"
        if isinstance(node, Ident) and node.name.startswith("v."):
            raise FluxError(f"dashboard variable {node.name}: pass it as a query parameter")
        raise FluxError(f"unsupported range bound {node!r}")

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
                    got = {k: _plain(v) for k, v in call.args.items()}
                    if got != want:
                        raise FluxError(
                            'only pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")'
                        )
                self.t.wide = True
                stage = "pivot"
            elif name == "group" and stage in ("filter", "pivot") and aggregate is None:
                cols = _plain(call.args.get("columns", []))
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
                cols = _plain(call.args.get("columns", ["_value"]))
                desc = _plain(call.args.get("desc", False))
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
                n = _plain(call.args.get("n"))
                offset = _plain(call.args.get("offset", 0))
                if not isinstance(n, int) or not isinstance(offset, int) or limit is not None:
                    raise FluxError("limit() needs literal n and offset")
                if group is None:
                    self.note("limit() works per series; the tag columns are not known here")
                    group = tuple(self.tags_seen)
                elif sorted_by is None:
                    self.note("limit() after group() keeps rows in table order, which SQL cannot reproduce")
                limit = (n, offset)
            elif name == "keep":
                cols = _plain(call.args.get("columns"))
                if not isinstance(cols, list):
                    raise FluxError("keep() needs literal columns")
                keep = [c for c in cols if keep is None or c in keep]
            elif name == "drop":
                cols = _plain(call.args.get("columns"))
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
                order_items = [f"{order[0]}{' DESC' if order[1] else ''}"]
            if order_items:
                sql += " ORDER BY " + ", ".join(order_items)
            if limit is not None:
                sql = self.limited(sql, group, limit, order or ("time", False), wrap=True)
        else:
            projection = self.projection(keep, drop)
            if selector is not None:
                col, desc = selector
                sql = self.ranked(
                    projection, table, where_sql, group or (), f"{col}{' DESC' if desc else ''}", 1, 0
                )
            elif limit is not None:
                o = order or ("time", False)
                sql = self.ranked(
                    projection, table, where_sql, group or (), f"{o[0]}{' DESC' if o[1] else ''}", *limit
                )
            else:
                o = order or ("time", False)
                sql = f"SELECT {projection} FROM {table} WHERE {where_sql} ORDER BY {o[0]}{' DESC' if o[1] else ''}"
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
        time_src = _plain(call.args.get("timeSrc", "_stop"))
        if time_src == "_stop":
            label = f"least({start_label} + {ivl}, {self.stop})"
        elif time_src == "_start":
            label = f"greatest({start_label}, {self.start})"
        else:
            raise FluxError("aggregateWindow(timeSrc:) must be _start or _stop")
        template = _WINDOW_FNS[fn.name]
        agg = template.format(x=x) if "{x}" in template else f"{template}({x})"
        if _plain(call.args.get("createEmpty", True)) is not False:
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
            if c in _META:
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
                if c not in ("_time", "_value", "_field", "_measurement", *_META):
                    self.t.columns.setdefault(c, c)
            if "_time" not in keep:
                self.t.has_time = False
            return ", ".join(items)
        dropped = [ident(c) for c in drop if c not in (*_META, "_field", "_measurement")]
        if "_time" in drop:
            self.t.has_time = False
        if dropped:
            return "* EXCLUDE (" + ", ".join(dropped) + ")"
        return "*"

    @staticmethod
    def ranked(
        projection: str, table: str, where: str, group: tuple[str, ...], order: str, n: int, offset: int
    ) -> str:
        if not group:
            sql = f"SELECT {projection} FROM {table} WHERE {where} ORDER BY {order} LIMIT {n}"
            return sql + (f" OFFSET {offset}" if offset else "")
        part = ", ".join(map(ident, group))
        inner = f"SELECT *, row_number() OVER (PARTITION BY {part} ORDER BY {order}) AS _rn FROM {table} WHERE {where}"
        cond = f"_rn > {offset} AND _rn <= {offset + n}" if offset else f"_rn <= {n}"
        outer = projection if projection != "*" else "* EXCLUDE (_rn)"
        if outer.startswith("* EXCLUDE ("):
            outer = outer.replace("* EXCLUDE (", "* EXCLUDE (_rn, ", 1) if "_rn" not in outer else outer
        return f"SELECT {outer} FROM ({inner}) WHERE {cond} ORDER BY {part}, {order}"

    @staticmethod
    def limited(
        sql: str, group: tuple[str, ...] | None, limit: tuple[int, int], order: tuple[str, bool], wrap: bool
    ) -> str:
        n, offset = limit
        if not group:
            return sql + f" LIMIT {n}" + (f" OFFSET {offset}" if offset else "")
        part = ", ".join(map(ident, group))
        desc = " DESC" if order[1] else ""
        inner = (
            f"SELECT *, row_number() OVER (PARTITION BY {part} ORDER BY {order[0]}{desc}) AS _rn FROM ({sql})"
        )
        cond = f"_rn > {offset} AND _rn <= {offset + n}" if offset else f"_rn <= {n}"
        return f"SELECT * EXCLUDE (_rn) FROM ({inner}) WHERE {cond} ORDER BY {part}, {order[0]}{desc}"


def _plain(node: object) -> object:
    """A literal Flux node as a Python value (list, str, int, bool), or the node itself."""
    if isinstance(node, Arr):
        return [_plain(i) for i in node.items]
    if isinstance(node, Str):
        return node.value
    if isinstance(node, Num) and node.text.isdigit():
        return int(node.text)
    if isinstance(node, Bool):
        return node.value
    return node


def translate(text: str, param_names: Iterable[str] = ()) -> Translation:
    """Translate one Flux query; raises FluxError when it is outside the translatable subset.

    `param_names` are the keys of the client's `params=` (influxdb-client sends them as Flux options,
    so the query names them bare); they and `params.x` become `$x` placeholders.
    """
    query = parse(text)
    return _Translator(query, param_names).run()


def try_translate(text: str, param_names: Iterable[str] = ()) -> tuple[Translation | None, str]:
    """`translate` that returns (None, reason) instead of raising."""
    try:
        return translate(text, param_names), ""
    except FluxError as exc:
        return None, str(exc)
    except (IndexError, KeyError, ValueError) as exc:  # malformed text the parser did not foresee
        return None, f"cannot parse the Flux query ({exc})"
