"""The names that keep a def or class in an influxdb module's sparse view (see `recipes.sparse`).

The rewrite reasons across statements: a client built in a fixture is used by the tests that take it, a
`self.q = client.query_api()` made in `__init__` is read by the class's other methods (and a query wrapper's
rewrite counts every `self.q` of the module), a v2 name is renamed wherever it is read, the imports follow what
the whole module still reads, a module-level URL is resolved through its one assignment. So every def or class
that mentions one of these names stays in the view, beside the ones holding a site:

- the names bound by importing from `influxdb_client` (and the module itself), every v2 name with a v3
  counterpart and every v3 export (a new import follows what the module reads), and `timezone`;
- every name and `self.` attribute a client or `query_api()`/`write_api()` object is kept in, and the functions
  annotated to return a client;
- the module's query wrappers and the service's (their callers hand them Flux);
- the module-level names assigned a string (or `os.getenv(NAME, default)`), which the rewrite resolves through
  their one assignment, so a class or function assigning one too is seen;
- the query and write methods, when the module names `ApiException` (what it guards is decided on whether the
  module queries at all).

A module that imports `influxdb_client_3` is rewritten whole: the traps of migrated code are reported over all of
it.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

from fleetshift.recipes._ast import Imports
from fleetshift.recipes.influxdb.facts import QUERY_METHODS, WRITE_METHODS, module_nodes
from fleetshift.recipes.influxdb.flux.find import wrappers
from fleetshift.recipes.influxdb.names import V3, V3_EXPORTS, V3_NAMES, is_v2_module
from fleetshift.recipes.influxdb.receivers import CLIENT_CLASSES, FACTORIES, Receivers

FIXED = frozenset({*V3_NAMES, *V3_EXPORTS, *CLIENT_CLASSES, *FACTORIES, "influxdb_client", V3, "timezone",
                   "query_api", "write_api"})


def hot_names(text: str, tree: ast.Module, service_wrappers: Mapping[str, object]) -> frozenset[str] | None:
    """The names whose mention keeps a def or class of this module in its sparse view; None: rewrite it whole."""
    if V3 in text:
        return None
    imports = Imports(tree)
    out = set(FIXED)
    out.update(local for local, q in imports.names.items() if is_v2_module(q.split(".", 1)[0]))
    out.update(service_wrappers)
    receivers = Receivers(tree, imports)
    out.update(key[2] for key in receivers.kinds)
    out.update(receivers.returns)
    if "ApiException" in text:
        out.update(QUERY_METHODS, WRITE_METHODS)
    out.update(w.name for w in wrappers(tree))
    for node in module_nodes(tree):  # imports inside functions too
        if isinstance(node, ast.Import):
            out.update((a.asname or a.name).split(".")[0] for a in node.names if is_v2_module(a.name))
        elif isinstance(node, ast.ImportFrom) and node.module and is_v2_module(node.module):
            out.update(a.asname or a.name for a in node.names)
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign | ast.AnnAssign) and stmt.value is not None and _literal(stmt.value):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            out.update(t.id for t in targets if isinstance(t, ast.Name))
    return frozenset(out)


def _literal(value: ast.expr) -> bool:
    """A string, or `os.getenv(...)`/`os.environ.get(...)` with a default (what the rewrite resolves)."""
    if isinstance(value, ast.Call) and len(value.args) == 2 and ast.unparse(value.func) in ("os.getenv",
                                                                                            "os.environ.get"):
        value = value.args[1]
    return isinstance(value, ast.Constant | ast.JoinedStr)
