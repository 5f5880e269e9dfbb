"""A service's own query wrapper (`def exec_flux(self, query): ... self.query_api.query(query) ...`) planned on
the standard `ast`: its query call becomes `client.query(query)` and its FluxTable/FluxRecord readers read the
rows of the Arrow table (`for record in tables.to_pylist()`, `record.values` -> `record`, `get_value()` ->
`record["_value"]`), as text edits at `ast` positions. Sound only because every Flux the service hands it is
translated in Flux's long shape (see `long`)."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from fleetshift.recipes import _ast
from fleetshift.recipes.influxdb.flux.find import Wrapper
from fleetshift.recipes.influxdb.flux.find import source_segment as segment

GETTERS = {
    "get_value": "_value",
    "get_field": "_field",
    "get_time": "_time",
    "get_measurement": "_measurement",
}


@dataclass(frozen=True)
class Edit:
    """Replace the text between two (line, column) positions (1-based lines, UTF-8 byte columns)."""

    start: tuple[int, int]
    end: tuple[int, int]
    text: str


@dataclass
class WrapperPlan:
    """The edits of one wrapper, the statement lines to drop, or why it cannot be rewritten."""

    wrapper: Wrapper
    edits: list[Edit] = field(default_factory=list)
    loops: list[tuple[ast.For, ast.For, str]] = field(default_factory=list)  # outer, inner, new iter text
    drop: list[ast.stmt] = field(default_factory=list)
    why: str = ""
    call_text: str = ""

    def iter_text(self, it: ast.expr, source: str) -> str:
        """The new text of a loop's iterable: the rewritten call itself, or the name holding its result."""
        if it is self.wrapper.call:
            self.edits = [e for e in self.edits if e.start != span(it)[0]]
            return self.call_text
        return segment(source, it)


def span(node: ast.AST) -> tuple[tuple[int, int], tuple[int, int]]:
    return (node.lineno, node.col_offset), (node.end_lineno or node.lineno, node.end_col_offset or 0)  # type: ignore[attr-defined]


def plan_wrapper(w: Wrapper, tree: ast.Module, source: str) -> WrapperPlan:
    """How to rewrite one wrapper; `why` is set when it cannot be done safely."""
    plan = WrapperPlan(w)
    parents = _ast.parents(tree)
    call = w.call
    if w.method == "query_data_frame":
        plan.why = "query_data_frame() wrapper: the DataFrame shape changes; rewrite it by hand"
        return plan
    receiver = call.func.value  # type: ignore[attr-defined]
    client = _client_of(receiver, tree, source, plan)
    if client is None:
        plan.why = plan.why or "the query_api object's client is not visible in this module"
        return plan
    args = [w.param]
    for kw in call.keywords:
        if kw.arg == "params":
            args.append(f"query_parameters={segment(source, kw.value)}")
        elif kw.arg not in ("org", "query"):
            plan.why = f"query argument {kw.arg}= has no influxdb3-python equivalent"
            return plan
    if len(call.args) > 1:
        plan.why = "query call with positional org/params: rewrite it by hand"
        return plan
    plan.call_text = f"{client}.query({', '.join(args)})"
    plan.edits.append(Edit(*span(call), plan.call_text))
    parent = parents.get(id(call))
    fn = w.function
    if w.method == "query_stream":
        if isinstance(parent, ast.For) and parent.iter is call:
            _records(parent.target, parent.body, fn, parents, source, plan)
            plan.edits.append(Edit(span(call)[1], span(call)[1], ".to_pylist()"))
        elif isinstance(parent, ast.comprehension) and parent.iter is call:
            _records(parent.target, [parents[id(parent)]], fn, parents, source, plan)
            plan.edits.append(Edit(span(call)[1], span(call)[1], ".to_pylist()"))
        else:
            plan.why = "the query_stream() result is not read in a for loop here"
        return plan
    uses: list[ast.AST] = []
    if (
        isinstance(parent, ast.Assign)
        and len(parent.targets) == 1
        and isinstance(parent.targets[0], ast.Name)
    ):
        name = parent.targets[0].id
        uses = [
            n
            for n in ast.walk(fn)
            if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)
        ]
        if not uses:
            plan.why = "the query result is not read here"
    else:
        uses = [call]
    for use in uses:
        if plan.why:
            break
        holder = parents.get(id(use))
        if isinstance(holder, ast.For) and holder.iter is use:
            _table_loop(holder, fn, parents, source, plan)
        elif isinstance(holder, ast.comprehension) and holder.iter is use:
            _table_comp(holder, fn, parents, source, plan)
        else:
            plan.why = (
                "the FluxTables leave the wrapper (returned or passed on): their readers elsewhere cannot be "
                "rewritten with it"
            )
    return plan


def _client_of(receiver: ast.expr, tree: ast.Module, source: str, plan: WrapperPlan) -> str | None:
    """The client behind a query_api receiver (`X.query_api()` inline, or the one `self.q = X.query_api()`);
    that binding statement is kept in `plan.drop` for the caller to remove once no other code reads it."""
    if isinstance(receiver, ast.Call) and isinstance(receiver.func, ast.Attribute):
        if receiver.func.attr == "query_api":
            return segment(source, receiver.func.value)
        return None
    want = ast.unparse(receiver)
    found: list[tuple[ast.stmt, ast.expr]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and ast.unparse(node.targets[0]) == want:
            v = node.value
            if isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute) and v.func.attr == "query_api":
                found.append((node, v.func.value))
    if len(found) != 1:
        return None
    stmt, client = found[0]
    plan.drop.append(stmt)
    return segment(source, client)


def binding_reads(stmt: ast.Assign, tree: ast.Module) -> list[ast.expr]:
    """Every read of the name or attribute a binding statement assigns."""
    want = ast.unparse(stmt.targets[0])
    return [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Attribute | ast.Name) and isinstance(n.ctx, ast.Load) and ast.unparse(n) == want
    ]


def _table_loop(
    loop: ast.For, fn: ast.AST, parents: dict[int, ast.AST], source: str, plan: WrapperPlan
) -> None:
    inner = loop.body[0] if len(loop.body) == 1 else None
    if loop.orelse or not isinstance(inner, ast.For) or inner.orelse or not isinstance(loop.target, ast.Name):
        plan.why = "the FluxTables are not read as `for table in tables: for record in table.records:`"
        return
    if not _only_records(loop.target.id, inner.iter, loop):
        plan.why = "the FluxTable is read for more than its records"
        return
    _records(inner.target, inner.body, fn, parents, source, plan)
    plan.loops.append((loop, inner, plan.iter_text(loop.iter, source) + ".to_pylist()"))


def _table_comp(
    gen: ast.comprehension, fn: ast.AST, parents: dict[int, ast.AST], source: str, plan: WrapperPlan
) -> None:
    comp = parents[id(gen)]
    gens = comp.generators  # type: ignore[attr-defined]
    i = gens.index(gen)
    inner = gens[i + 1] if i + 1 < len(gens) else None
    if inner is None or gen.ifs or not isinstance(gen.target, ast.Name):
        plan.why = "the FluxTables are not read as `for table in tables for record in table.records`"
        return
    if not _only_records(gen.target.id, inner.iter, comp):
        plan.why = "the FluxTable is read for more than its records"
        return
    _records(inner.target, [comp], fn, parents, source, plan)
    # `for T in X for R in T.records` -> `for R in X.to_pylist()`
    start = (gen.target.lineno, gen.target.col_offset)
    line = source.splitlines()[start[0] - 1].encode()
    before = line[: start[1]].decode()
    k = before.rstrip().rfind("for")
    plan.edits.append(
        Edit(
            (start[0], len(before[:k].encode())),
            span(inner.iter)[1],
            f"for {segment(source, inner.target)} in {plan.iter_text(gen.iter, source)}.to_pylist()",
        )
    )


def _only_records(table: str, it: ast.expr, area: ast.AST) -> bool:
    if not (isinstance(it, ast.Attribute) and it.attr == "records" and isinstance(it.value, ast.Name)):
        return False
    if it.value.id != table:
        return False
    refs = [
        n for n in ast.walk(area) if isinstance(n, ast.Name) and n.id == table and isinstance(n.ctx, ast.Load)
    ]
    return len(refs) == 1


def _records(
    target: ast.expr, area: list, fn: ast.AST, parents: dict[int, ast.AST], source: str, plan: WrapperPlan
) -> None:
    if not isinstance(target, ast.Name):
        plan.why = "the record variable is unpacked"
        return
    name = target.id
    for root in area:
        for n in ast.walk(root):
            if not (isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)):
                continue
            par = parents.get(id(n))
            if isinstance(par, ast.Subscript) and par.value is n:
                continue  # record["_value"]: the row dict reads the same
            if isinstance(par, ast.Attribute) and par.value is n:
                grand = parents.get(id(par))
                if par.attr == "values":
                    plan.edits.append(Edit(*span(par), name))
                    continue
                if (
                    par.attr in GETTERS
                    and isinstance(grand, ast.Call)
                    and grand.func is par
                    and not grand.args
                ):
                    plan.edits.append(Edit(*span(grand), f'{name}["{GETTERS[par.attr]}"]'))
                    continue
                plan.why = f"`{segment(source, par)}` has no equivalent on the SQL rows"
                return
            plan.why = (
                f"the FluxRecord `{name}` itself is passed on; its readers elsewhere cannot be rewritten"
            )
            return
