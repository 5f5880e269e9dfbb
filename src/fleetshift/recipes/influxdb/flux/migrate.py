"""The run's Flux edits as text edits at `ast` positions (formatting elsewhere untouched): Flux strings become
SQL literals spanning as many lines as they did (so every other line keeps its number), `.flux` paths become
`.sql` paths with the SQL written beside each file, and the service's query wrappers call `client.query()`
and read rows (see `wrapping`)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from fleetshift.recipes._ast import parse_tree, walk
from fleetshift.recipes.influxdb.facts import per_service, service_modules
from fleetshift.recipes.influxdb.flux.find import FluxString, flux_paths, source_segment
from fleetshift.recipes.influxdb.flux.lexer import HOLE_RE
from fleetshift.recipes.influxdb.flux.sites import FilePlan, module_wrappers, path_plans, string_plans
from fleetshift.recipes.influxdb.flux.wrapping import Edit, binding_reads, plan_wrapper, span


@dataclass
class FluxNote:
    """A Finding to emit: rule slug, line (of the module as it was given), message."""

    rule: str
    line: int
    message: str


@dataclass
class FluxResult:
    text: str
    notes: list[FluxNote] = field(default_factory=list)
    handled_lines: set[int] = field(default_factory=set)  # query calls of wrappers this pass rewrote
    database_lines: set[int] = field(default_factory=set)  # client constructions given database= here


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    lines = text.splitlines(keepends=True)
    starts = [0]
    for ln in lines:
        starts.append(starts[-1] + len(ln))

    def offset(pos: tuple[int, int]) -> int:
        line, col = pos
        if line - 1 >= len(lines):
            return len(text)
        return starts[line - 1] + len(lines[line - 1].encode()[:col].decode(errors="ignore"))

    out = text
    for e in sorted(edits, key=lambda e: (offset(e.start), offset(e.end)), reverse=True):
        a, b = offset(e.start), offset(e.end)
        out = out[:a] + e.text + out[b:]
    return out


def _sql_pieces(sql: str, n: int) -> list[str]:
    """`sql` cut at spaces outside quotes into `n` pieces of similar length (fewer when it has few spaces)."""
    cuts = []
    quoted = False
    for i, c in enumerate(sql):
        if c == "'":
            quoted = not quoted
        elif c == " " and not quoted:
            cuts.append(i)
    if n <= 1 or not cuts:
        return [sql]
    want = [len(sql) * k // n for k in range(1, n)]
    chosen = sorted({min(cuts, key=lambda c, w=w: abs(c - w)) for w in want})
    pieces, last = [], 0
    for c in chosen:
        pieces.append(sql[last:c])
        last = c + 1
    pieces.append(sql[last:])
    while len(pieces) < n:  # too few spaces: keep the line count with empty continuation pieces
        pieces.append("")
    return pieces


def _body(text: str, holes: tuple[str, ...], quote: str) -> str:
    body = text.replace("\\", "\\\\")
    if len(quote) == 1:
        body = body.replace(quote, "\\" + quote)
    if HOLE_RE.search(body):
        body = body.replace("{", "{{").replace("}", "}}")
        body = HOLE_RE.sub(lambda m: "{" + holes[int(m.group(1))] + "}", body)
    return body


def render(sql: str, holes: tuple[str, ...], original: str, lines: int, indent: str) -> str:
    """Python source of a string literal for `sql` over `lines` lines, in the quoting of `original`."""
    m = re.match(r"([rRbBuUfF]*)('''|\"\"\"|'|\")", original)
    quote = m.group(2) if m else '"'
    other = {"'": '"', '"': "'"}.get(quote)
    if other and quote in sql and other not in sql and not any(other in h for h in holes):  # no escapes
        quote = other
    pieces = _sql_pieces(sql, lines)
    if len(quote) == 3:
        text = "\n".join(pieces)
        prefix = "f" if HOLE_RE.search(text) else ""
        return f"{prefix}{quote}{_body(text, holes, quote)}{quote}"
    parts = []
    for i, p in enumerate(pieces):
        p = p + (" " if i < len(pieces) - 1 else "")
        prefix = "f" if HOLE_RE.search(p) else ""
        parts.append(f"{prefix}{quote}{_body(p, holes, quote)}{quote}")
    return ("\n" + indent).join(parts)


def migrate_strings(path: str, text: str, files: Mapping[str, str]) -> FluxResult:
    """Flux strings -> SQL literals, `.flux` paths -> `.sql` where at least one file they name translates."""
    try:
        tree = parse_tree(text)
    except SyntaxError:
        return FluxResult(text)
    result = FluxResult(text)
    edits: list[Edit] = []
    src_lines = text.splitlines()
    plans = string_plans(tree, text)
    runners = per_service(files, service_wrappers)
    handed = handed_to(tree) if plans else {}  # (only Flux strings are looked up in it)
    for plan in plans:
        s = plan.site
        if s.node in handed:
            name = handed[s.node]
            where = runners.get(name)
            route = (
                f" -- it runs through {where[0]}:{name}()"
                + (f", which needs a hand ({where[1]})" if where[1] else ", rewritten to client.query()")
                if where
                else f" -- it is handed to {name}(), not a query wrapper of this service: check that it runs SQL"
            )
        else:
            route = ""
        if not plan.exact:
            rule = "flux-shape" if plan.unread else "flux-manual"
            result.notes.append(FluxNote(rule, s.line, plan.message() + route))
            continue
        sql = plan.translation.sql  # type: ignore[union-attr]
        node_src = "\n".join(src_lines[s.line - 1 : s.end_line])
        first = src_lines[s.line - 1].encode()[s.col :].decode(errors="ignore")
        nxt = src_lines[s.line] if s.end_line > s.line else ""
        indent = nxt[: len(nxt) - len(nxt.lstrip())]
        new = render(sql, s.holes, first or node_src, s.end_line - s.line + 1, indent)  # type: ignore[arg-type]
        if "\n" in new and not TRIPLE.match(new) and not _in_parens(text, s):
            new = f"({new})"  # pieces of a literal over several lines need brackets around them
        edits.append(Edit((s.line, s.col), (s.end_line, s.end_col), new))
        result.notes.append(FluxNote("flux-string", s.line, plan.message() + route))
    for site, plans in path_plans(tree, text, path, files):
        if not any(p.exact for p in plans):
            continue
        quote_end = (site.end_line, site.end_col - 1)
        start = (site.end_line, site.end_col - 1 - len(".flux"))
        edits.append(Edit(start, quote_end, ".sql"))
        done = ", ".join(p.flux_path.rsplit("/", 1)[-1] for p in plans if p.exact)
        result.notes.append(FluxNote("flux-file", site.line, f"the loader now reads .sql files: {done}"))
    result.text = apply_edits(text, edits)
    return result


def handed_to(tree: ast.Module) -> dict[int, str]:
    """id() of a Flux string node -> the name of the function or method it is handed to (directly, or
    through the one local name it is assigned to)."""
    parents: dict[int, ast.AST] = {}
    for p in walk(tree):
        for c in ast.iter_child_nodes(p):
            parents[id(c)] = p
    out: dict[int, str] = {}
    assigned: dict[int, list[tuple[str, ast.expr]]] = {}  # id() of a scope -> its `name = value`, in walk order
    for node in walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        if name is None:
            continue
        for arg in (*node.args, *(k.value for k in node.keywords)):
            if isinstance(arg, ast.Name):
                scope = parents.get(id(node))
                while scope is not None and not isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
                    scope = parents.get(id(scope))
                where = scope or tree
                if id(where) not in assigned:
                    assigned[id(where)] = [
                        (a.targets[0].id, a.value)
                        for a in ast.walk(where)
                        if isinstance(a, ast.Assign) and len(a.targets) == 1 and isinstance(a.targets[0], ast.Name)
                    ]
                for target, value in assigned[id(where)]:
                    if target == arg.id:
                        out.setdefault(id(value), name)
            else:
                out.setdefault(id(arg), name)
    return out


def service_wrappers(files: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """The service's query wrappers by name: (file, why it cannot be rewritten or "")."""
    from fleetshift.recipes.influxdb.flux.wrapping import plan_wrapper

    out: dict[str, tuple[str, str]] = {}
    for path, source, tree in service_modules(files, "influxdb_client", "query"):
        for w in module_wrappers(tree):
            out.setdefault(w.name, (path, plan_wrapper(w, tree, source).why))
    return out


F_PREFIX = re.compile(r"""\b(?:[rR]?[fF]|[fF][rR])['"]""")  # the prefixes of an f-string (`rf"`, `F'`, ...)
TRIPLE = re.compile(r"[rRbBuUfF]*(\'\'\'|\"\"\")")


def _in_parens(text: str, s: FluxString) -> bool:
    """Whether brackets already enclose the string's span (so its lines may break without backslashes)."""
    lines = text.splitlines()
    before = "\n".join([*lines[: s.line - 1], lines[s.line - 1].encode()[: s.col].decode(errors="ignore")])
    after = "\n".join(
        [lines[s.end_line - 1].encode()[s.end_col :].decode(errors="ignore"), *lines[s.end_line :]]
    )
    return before.rstrip().endswith(("(", "[", ",")) and after.lstrip().startswith((")", "]", ","))


def sql_files(files: Mapping[str, str]) -> tuple[dict[str, str], list[tuple[str, FilePlan]]]:
    """The `.sql` siblings to write for the service's loaded `.flux` files, and every file's plan by path."""
    out: dict[str, str] = {}
    plans: dict[str, FilePlan] = {}
    for path, text, tree in service_modules(files, ".flux"):
        if not any(True for _ in flux_paths(tree, text)):
            continue
        for _site, fps in path_plans(tree, text, path, files):
            for p in fps:
                plans.setdefault(p.flux_path, p)
    for p in plans.values():
        if p.exact and p.translation is not None and p.sql_path not in files:
            header = f"-- {p.flux_path.rsplit('/', 1)[-1]} in SQL: one row per field value (_time in UTC, _field, _value, tags)\n"
            out[p.sql_path] = header + p.translation.sql.replace(" UNION ALL ", "\nUNION ALL\n") + "\n"  # type: ignore[union-attr]
    return out, sorted(plans.items())


def migrate_wrappers(text: str, original: str, files: Mapping[str, str]) -> FluxResult:
    """The module's query wrappers rewritten (after the rest of the recipe ran on it); notes point at the
    lines of `original`, the module as the recipe was given it."""
    result = FluxResult(text)
    try:
        tree = parse_tree(text)
        before = parse_tree(original)
    except SyntaxError:
        return result
    found = _wrappers_of(tree) if "query" in text or not text.isascii() else []  # (a query method's name)
    old = {w.name: w for w in module_wrappers(before)} if found else {}
    edits: list[Edit] = []
    receivers: set[int] = set()  # query_api receivers of the calls rewritten
    bindings: dict[int, ast.stmt] = {}
    for w in found:
        plan = plan_wrapper(w, tree, text)
        line = old[w.name].line if w.name in old else 0
        if plan.why:
            result.notes.append(
                FluxNote("flux-wrapper-manual", line, f"query wrapper {w.name}(): {plan.why}")
            )
            continue
        edits.extend(plan.edits)
        for outer, inner, iter_text in plan.loops:
            edits.extend(_flatten(outer, inner, iter_text, text))
        receivers.add(id(w.call.func.value))  # type: ignore[attr-defined]
        bindings.update((id(b), b) for b in plan.drop)
        result.handled_lines.add(line)
        result.notes.append(
            FluxNote(
                "flux-wrapper",
                line,
                f"query wrapper {w.name}() calls client.query({w.param}) and reads the rows of the Arrow table",
            )
        )
    for stmt in bindings.values():  # `self.q = client.query_api()` goes once only rewritten calls read it
        if all(id(r) in receivers for r in binding_reads(stmt, tree)):  # type: ignore[arg-type]
            (l0, _c0), (l1, _c1) = span(stmt)
            edits.append(Edit((l0, 0), (l1 + 1, 0), ""))
    added = _database(tree, text, files)
    edits.extend(added)
    if added:  # the constructions of the module as given: the same __init__ functions, in order
        result.database_lines = {
            c.lineno
            for fn in ast.walk(before)
            if isinstance(fn, ast.FunctionDef) and fn.name == "__init__"
            for c in ast.walk(fn)
            if isinstance(c, ast.Call)
            and isinstance(c.func, ast.Name)
            and c.func.id.startswith("InfluxDBClient")
        }
        result.notes.append(
            FluxNote(
                "flux-wrapper",
                min(result.database_lines, default=0),
                "InfluxDBClient3 gets database= from the attribute the service's Flux names its bucket by; "
                "SQL from .flux files that named a literal bucket runs on that database too",
            )
        )
    result.text = apply_edits(text, edits)
    return result


def _database(tree: ast.Module, text: str, files: Mapping[str, str]) -> list[Edit]:
    """`database=P` for an `InfluxDBClient3(...)` built without one in an `__init__` that keeps P as the
    attribute the service's Flux names its bucket by (`from(bucket: "{self.db.bucket}")` -> `bucket`)."""
    inits = [fn for fn in walk(tree) if isinstance(fn, ast.FunctionDef) and fn.name == "__init__"]
    if not any(_without_database(call) for fn in inits for call in ast.walk(fn)):
        return []  # no construction to complete: the service's Flux (every module of it) is not read
    names = per_service(files, flux_bucket_attrs)
    if len(names) != 1:
        return []
    (attr,) = names
    edits = []
    for fn in inits:
        params = {a.arg for a in fn.args.args}
        kept = [
            n.value.id
            for n in ast.walk(fn)
            if isinstance(n, ast.Assign)
            and len(n.targets) == 1
            and ast.unparse(n.targets[0]) == f"self.{attr}"
            and isinstance(n.value, ast.Name)
            and n.value.id in params
        ]
        if len(kept) != 1:
            continue
        for call in ast.walk(fn):
            if _without_database(call):
                end = span(call)[1]
                edits.append(Edit((end[0], end[1] - 1), (end[0], end[1] - 1), f", database={kept[0]}"))
    return edits


def _without_database(call: ast.AST) -> bool:
    """`InfluxDBClient3(...)` with no `database=` (and no `*args` that could hold it)."""
    return (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and call.func.id == "InfluxDBClient3"
        and not any(k.arg == "database" for k in call.keywords)
        and not any(isinstance(a, ast.Starred) for a in call.args)
    )


def flux_bucket_attrs(files: Mapping[str, str]) -> set[str]:
    """The attribute names Flux f-strings of the service take their bucket from (`{db.bucket}` -> bucket)."""
    from fleetshift.recipes.influxdb.flux.find import flux_strings
    from fleetshift.recipes.influxdb.flux.long import bucket_of

    out: set[str] = set()
    # a hole comes from an f-string alone (`_template`): a module that spells no f-string prefix holds none, nor one
    # whose string literals put no hole right after a double quote (a Flux string literal that is a hole, see
    # `quoted_holes`)
    formatted = {path: text for path, text in files.items()
                 if path.endswith(".py") and "bucket" in text and F_PREFIX.search(text) and quoted_holes(text)}
    for _path, source, tree in service_modules(formatted, "bucket"):
        for s in flux_strings(tree, source):
            b = bucket_of(s.text) if not s.fragment else None
            m = HOLE_RE.fullmatch(b or "")
            if m:
                code = s.holes[int(m.group(1))]
                out.add(code.rsplit(".", 1)[-1])
    return out


_QUOTE = r"(?:\"|\\x22|\\0?42|\\u0022|\\U00000022|\\N\{quotation mark\})"  # `"` in a literal, or an escape of it
_QUOTED_HOLE = re.compile(_QUOTE + r"\{", re.IGNORECASE)
_ENDS_QUOTED = re.compile(_QUOTE + r"\Z", re.IGNORECASE)
_CONTINUED = re.compile(r"\\(?:\r\n|\r|\n)")  # a line break a literal continues over
_LITERAL_OR_COMMENT = re.compile(r"[#'\"]")
_END = {  # the rest of a literal after its opening quote, through its closing one (a backslash escapes any character)
    **{q: re.compile(r"[^\\Q\r\n]*(?:\\(?:\r\n|[\s\S])[^\\Q\r\n]*)*Q".replace("Q", q)) for q in "'\""},
    **{q * 3: re.compile(r"[^\\Q]*(?:(?:\\(?:\r\n|[\s\S])|Q(?!QQ))[^\\Q]*)*QQQ".replace("Q", q)) for q in "'\""},
}
_PREFIXES = frozenset({"", "r", "u", "b", "br", "rb", "f", "rf", "fr"})


def string_literals(text: str) -> list[tuple[bool, str]] | None:
    """Each string literal of a Python source, in order, as (whether it is an f-string, its body between the quotes):
    what Python 3.11's tokenizer makes of the text's comments and strings (an f-string is one token, its replacement
    fields never holding its own quote). None when a literal does not end (the text does not parse)."""
    out: list[tuple[bool, str]] = []
    pos, n = 0, len(text)
    while True:
        m = _LITERAL_OR_COMMENT.search(text, pos)
        if m is None:
            return out
        at = m.start()
        if text[at] == "#":
            ends = [i for i in (text.find("\n", at), text.find("\r", at)) if i != -1]
            pos = min(ends) if ends else n
            continue
        start = at
        while start > pos and (text[start - 1].isalnum() or text[start - 1] == "_"):
            start -= 1
        prefix = text[start:at].lower()
        quote = text[at] * 3 if text.startswith(text[at] * 3, at) else text[at]
        end = _END[quote].match(text, at + len(quote))
        if end is None:
            return None
        out.append((prefix in _PREFIXES and "f" in prefix, text[at + len(quote):end.end() - len(quote)]))
        pos = end.end()


def quoted_holes(text: str) -> bool:
    """Whether an f-string of the source may put a placeholder right after a double quote: its body spells `"` (or an
    escape of it) right before a `{`, or begins with a `{` after a literal ending so (joined to it, or added to it
    with `+`). A Flux string literal that is all one placeholder (`from(bucket: "{self.bucket}")`) needs one: the
    value of a string is the text of its literals, with their escapes and the line breaks they continue over. True
    when the literals cannot be told."""
    literals = string_literals(text)
    if literals is None:
        return True
    before = ""
    for is_f, body in literals:
        body = _CONTINUED.sub("", body) if "\\" in body else body
        if is_f and (_QUOTED_HOLE.search(body) or (body.startswith("{") and _ENDS_QUOTED.search(before))):
            return True
        before = body
    return False


def _wrappers_of(tree: ast.Module):
    """Wrappers of a module after the recipe's own rewrite (its influxdb_client imports may be gone)."""
    from fleetshift.recipes.influxdb.flux.find import wrappers

    return [w for w in wrappers(tree) if _is_query_api(w.call.func.value, tree)]  # type: ignore[attr-defined]


def _is_query_api(receiver: ast.expr, tree: ast.Module) -> bool:
    if isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Attribute):
        return receiver.func.attr == "query_api"
    want = ast.unparse(receiver)
    return any(
        isinstance(n, ast.Assign)
        and len(n.targets) == 1
        and ast.unparse(n.targets[0]) == want
        and isinstance(n.value, ast.Call)
        and isinstance(n.value.func, ast.Attribute)
        and n.value.func.attr == "query_api"
        for n in ast.walk(tree)
    )


def _flatten(outer: ast.For, inner: ast.For, iter_text: str, text: str) -> list[Edit]:
    """`for T in X:\\n    for R in T.records:\\n        BODY` -> `for R in X.to_pylist():\\n    BODY`."""
    lines = text.splitlines()
    first = inner.body[0]
    shift = inner.col_offset - outer.col_offset
    target = source_segment(text, inner.target)
    edits = [
        Edit(
            (outer.lineno, outer.col_offset),
            (first.lineno, first.col_offset),
            f"for {target} in {iter_text}:\n" + " " * (first.col_offset - shift),
        )
    ]
    for ln in range(first.lineno + 1, (inner.end_lineno or first.lineno) + 1):
        line = lines[ln - 1]
        if line[:shift].strip() == "" and len(line) >= shift:
            edits.append(Edit((ln, 0), (ln, shift), ""))
    return edits
