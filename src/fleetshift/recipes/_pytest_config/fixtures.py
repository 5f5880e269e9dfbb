"""The `ast` side of the pytest recipes' shared helpers: fixture scopes and the fixture decorator."""

from __future__ import annotations

import ast

from fleetshift.recipes._ast import Imports, decorator_calls

SCOPES = ("function", "class", "module", "package", "session")  # fixture scopes, narrowest first
WIDE = frozenset(SCOPES[1:])
FIXTURE_NAMES = {"pytest.fixture", "pytest_asyncio.fixture", "pytest.yield_fixture"}


def ast_fixture_call(fn: ast.FunctionDef | ast.AsyncFunctionDef, imports: Imports) -> ast.Call | bool | None:
    """The `ast` fixture decorator's Call, True for a bare fixture decorator, None when `fn` is not a fixture."""
    for func, call in decorator_calls(fn):
        if imports.qualname(func) in FIXTURE_NAMES:
            return call if call is not None else True
    return None
