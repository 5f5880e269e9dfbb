"""The Flux syntax tree and a parser for one query: imports plus one pipeline of calls."""

from __future__ import annotations

from dataclasses import dataclass

from fleetshift.recipes.influxdb.flux.lexer import FluxError, Tok, split_duration, tokenize, unquote


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
            imports.append(unquote(self.take(kind="str").text))
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
                node = Member(node, unquote(key))
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
            return Str(unquote(tok.text))
        if tok.kind == "num":
            self.take()
            return Num(tok.text)
        if tok.kind == "hole":
            self.take()
            return Num(tok.text)
        if tok.kind == "dur":
            self.take()
            return Dur(tuple(split_duration(tok.text)))
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
                key = unquote(key_tok.text) if key_tok.kind == "str" else key_tok.text
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


def parse(text: str) -> Query:
    """Parse one Flux query (imports plus one pipeline)."""
    return _Parser(text).query()


def plain(node: object) -> object:
    """A literal Flux node as a Python value (list, str, int, bool), or the node itself."""
    if isinstance(node, Arr):
        return [plain(i) for i in node.items]
    if isinstance(node, Str):
        return node.value
    if isinstance(node, Num) and node.text.isdigit():
        return int(node.text)
    if isinstance(node, Bool):
        return node.value
    return node
