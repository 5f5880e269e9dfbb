"""mock.patch("...InfluxDBClient...") targets follow the rename

`patch("influxdb_client.InfluxDBClient.close")` -> `patch("influxdb_client_3.InfluxDBClient3.close")`, and
`patch("app.db.InfluxDBClient")` -> `patch("app.db.InfluxDBClient3")` where the service's app/db.py is
migrated; targets of methods InfluxDBClient3 lacks (write_api, query_api, ...) are Findings
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from fleetshift.recipes.influxdb.facts import Facts
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    from fleetshift.recipes.influxdb.edits import Note

RULE = rule(__name__, __doc__, AUTO, order=40)
NODES = (ast.Call,)  # the node types its check looks at
PATCHERS = ("patch", "setattr", "delattr")  # mock.patch, mocker.patch, monkeypatch.setattr("a.b", ...)
V3_METHODS = frozenset(
    {"close", "write", "write_dataframe", "write_file", "query", "query_async", "query_dataframe", "flush",
     "get_server_version", "from_env", "__init__", "__enter__", "__exit__"}
)  # fmt: skip
V2_MODULE_IMPORT = re.compile(
    r"^\s*from\s+influxdb_client\s+import\s+[^\n]*\bInfluxDBClient\b(?!\s+as\b)", re.M
)


def target_of(node: ast.AST) -> str | None:
    """The dotted string a patcher call names that goes through `InfluxDBClient`, or None."""
    if not (isinstance(node, ast.Call) and node.args):
        return None
    f = node.func
    name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
    first = node.args[0]
    if name not in PATCHERS or not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return None
    parts = first.value.split(".")
    return first.value if "InfluxDBClient" in parts[1:] else None


def split(target: str) -> tuple[list[str], list[str]]:
    parts = target.split(".")
    i = parts.index("InfluxDBClient", 1)
    return parts[:i], parts[i + 1 :]


def unpatchable(target: str) -> str:
    """Why a patch target has no v3 counterpart ("" when it has one)."""
    _prefix, rest = split(target)
    if rest and rest[0] not in V3_METHODS:
        return f"`{target}`: InfluxDBClient3 has no `{rest[0]}`; patch what the code calls now"
    return ""


def new_target(target: str, migrated: frozenset[str]) -> tuple[str | None, str]:
    """(the v3 target or None, why not): `migrated` are the service's modules that import the v2 client."""
    prefix, rest = split(target)
    if why := unpatchable(target):
        return None, why
    if prefix[0] == "influxdb_client":
        return ".".join(["influxdb_client_3", "InfluxDBClient3", *rest]), ""
    if ".".join(prefix) in migrated:
        return ".".join([*prefix, "InfluxDBClient3", *rest]), ""
    return None, ""


def check(node: ast.AST, facts: Facts) -> Iterator[str]:
    target = target_of(node)
    if target is not None and not unpatchable(target) and (target.startswith("influxdb_client.") or facts.v2):
        # a service module's InfluxDBClient may be another library's (influxdb 1.x): check sees one file, so
        # it names only targets that are influxdb-client's for sure; the run, seeing the service, does more
        yield f"patch target {target!r} -> InfluxDBClient3"


def migrated_modules(files: Mapping[str, str]) -> frozenset[str]:
    """Dotted names of the service's modules that import InfluxDBClient from influxdb_client (the rewrite
    renames it there), under every prefix a test could import them by (`src/app/db.py`: app.db, src.app.db)."""
    out: set[str] = set()
    for path, text in files.items():
        # its module's name first: the expression tries every line start of every file
        if path.endswith(".py") and "influxdb_client" in text and V2_MODULE_IMPORT.search(text):
            parts = path[:-3].split("/")
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out.update(".".join(parts[i:]) for i in range(len(parts)))
    return frozenset(out)


def rewrite(text: str, tree: ast.Module, migrated: frozenset[str]) -> tuple[str, list[Note]]:
    """The module with its patch targets renamed, and Findings for targets with no v3 counterpart."""
    from fleetshift.recipes.influxdb.edits import Note

    notes: list[Note] = []
    edits: dict[tuple[int, int], str] = {}
    for node in ast.walk(tree):
        target = target_of(node)
        if target is None:
            continue
        new, why = new_target(target, migrated)
        first = node.args[0]  # type: ignore[attr-defined]
        if new is not None:
            edits[(first.lineno, first.col_offset)] = new
        elif why:
            notes.append(Note("no-equivalent", node.lineno, why))
    if not edits:
        return text, notes
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    class Retarget(cst.CSTTransformer):
        METADATA_DEPENDENCIES = (PositionProvider,)

        def leave_SimpleString(
            self, original: cst.SimpleString, updated: cst.SimpleString
        ) -> cst.SimpleString:
            pos = self.get_metadata(PositionProvider, original).start
            new = edits.get((pos.line, pos.column))
            if new is None:
                return updated
            quote = updated.quote
            return updated.with_changes(value=updated.prefix + quote + new + quote)

    return MetadataWrapper(cst.parse_module(text)).visit(Retarget()).code, notes
