"""warning filters for influxdb-client warnings go

influxdb3-python never emits MissingPivotFunction (or the other influxdb_client.client.warnings
classes): warnings.simplefilter/filterwarnings calls naming them are removed, then their imports
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import TYPE_CHECKING

from fleetshift.recipes._ast import Imports, walk
from fleetshift.recipes.influxdb.facts import Facts
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    from fleetshift.recipes.influxdb.plan import Planning

RULE = rule(__name__, __doc__, AUTO, order=38)
NODES = (ast.Expr,)  # the node types its check looks at
STAGE = 0
FILTERS = frozenset({"warnings.simplefilter", "warnings.filterwarnings"})


def is_v2_warning(imports: Imports, node: ast.AST) -> bool:
    q = imports.qualname(node) or ""
    return q.startswith("influxdb_client.client.warnings.")


def is_v2_filter(imports: Imports, node: ast.AST) -> bool:
    """`warnings.simplefilter("ignore", MissingPivotFunction)` (or `category=`) as a statement of its own."""
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        return False
    call = node.value
    if imports.qualname(call.func) not in FILTERS:
        return False
    args = [*call.args, *(k.value for k in call.keywords if k.arg == "category")]
    return any(is_v2_warning(imports, a) for a in args)


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    if facts.v2 and is_v2_filter(facts.imports, node):
        yield ""


def plan(p: Planning) -> None:
    """Each filter statement goes; its leading blank lines and comments pass to the statement after it."""
    import libcst as cst

    from fleetshift.recipes.influxdb.edits import code_of

    lines = {n.lineno for n in walk(p.facts.tree) if is_v2_filter(p.facts.imports, n)}
    if not lines:  # decided on `ast`: the module's parents and positions are not needed
        return
    blocks: dict[int, tuple[cst.CSTNode, set[str]]] = {}
    for call in p.facts.analysis.calls:
        expr = p.facts.parent.get(call)
        stmt = p.facts.parent.get(expr) if isinstance(expr, cst.Expr) else None
        if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and p.line(call) in lines:
            block = p.facts.parent.get(stmt)
            blocks.setdefault(id(block), (block, set()))[1].add(code_of(stmt.with_changes(leading_lines=())))
    for block, codes in blocks.values():
        p.set(block, lambda n, c=frozenset(codes): drop(n, c))


def drop(block, codes: frozenset[str]):
    from fleetshift.recipes.influxdb.edits import code_of

    body, carried = [], []
    for stmt in block.body:
        if code_of(stmt.with_changes(leading_lines=())) in codes:
            carried.extend(stmt.leading_lines)
            continue
        if carried:
            stmt = stmt.with_changes(
                leading_lines=[*carried, *stmt.leading_lines][: max(len(carried), len(stmt.leading_lines))]
            )
            carried = []
        body.append(stmt)
    return block.with_changes(body=body)
