"""LibCST rewriting of influxdb-client 1.x code to influxdb3-python.

`rewrite_module` runs three steps on one file: an analysis pass that finds clients, `write_api` /
`query_api` objects and how their results are read; a planning step that decides per site whether the
rewrite is certainly safe (otherwise a Finding); and a transformer that applies the plan. Imports are
fixed afterwards from what the new text still references.
"""

from __future__ import annotations

import ast

import libcst as cst

from fleetshift.recipes.influxdb.construction import ConstructionPlanner
from fleetshift.recipes.influxdb.edits import ApplyPlan, Note
from fleetshift.recipes.influxdb.errors import query_guards
from fleetshift.recipes.influxdb.imports import fix_imports
from fleetshift.recipes.influxdb.names import CLIENT_NO_EQUIVALENT, V3, V3_NAMES
from fleetshift.recipes.influxdb.planner import module_facts
from fleetshift.recipes.influxdb.receivers import Receivers
from fleetshift.recipes.influxdb.writes import WritePlanner


class Rewriter(ConstructionPlanner, WritePlanner):
    """Plans and applies the influxdb-client -> influxdb3-python rewrite of one module."""

    def run(self) -> tuple[str, list[Note]]:
        if not self.facts.analysis.v2_import:
            return self.facts.text, []
        self.collect()
        self.plan_no_equivalent()
        self.plan_bindings()
        self.plan_inline_calls()
        self.plan_ctors()
        self.plan_names()
        new = self.facts.module.visit(ApplyPlan(self.plan))
        code = new.code
        if code != self.facts.text:
            code = fix_imports(code, self.need_timezone)
        return code, self.plan.notes

    def plan_no_equivalent(self) -> None:
        receivers = Receivers(self.facts.tree, self.facts.imports)
        by_site: dict[tuple[int, str], list[ast.Call]] = {}
        for node in ast.walk(self.facts.tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                by_site.setdefault((node.lineno, node.func.attr), []).append(node)
        for call in self.facts.analysis.calls:
            f = call.func
            same = by_site.get((self.line(call), f.attr.value), []) if isinstance(f, cst.Attribute) else []
            name = next((n for n in map(receivers.no_equivalent, same) if n in CLIENT_NO_EQUIVALENT), None)
            if name is not None:
                self.note("no-equivalent", call, f"`{name}()`: {CLIENT_NO_EQUIVALENT[name]}")
            if isinstance(f, cst.Attribute) and f.attr.value == "version" and not call.args:
                if any(not c.args and receivers.kind(c.func.value) == "client" for c in same):  # type: ignore[attr-defined]
                    self.set(f.attr, lambda n: n.with_changes(value="get_server_version"))
            if self.is_v2(f, "from_config_file"):
                self.note(
                    "from-config-file",
                    call,
                    "`InfluxDBClient.from_config_file()` has no influxdb3-python equivalent: read the file with "
                    "configparser and call `InfluxDBClient3(host=cfg['url'], token=cfg['token'], org=cfg.get('org'), "
                    "database=<bucket>)`; the config has no database, add one",
                )
                self.locked_ctor.add(id(call))
            if self.is_v2(f, "InfluxDBClientAsync"):
                self.note(
                    "async-client",
                    call,
                    "influxdb3-python has no async client: use `with InfluxDBClient3(...)` and "
                    "`await client.query_async(sql, mode=...)` for queries, `await asyncio.to_thread(client.write, "
                    "record=..., database=...)` for writes",
                )

    def plan_bindings(self) -> None:
        for b in self.bindings.values():
            if b.kind == "write":
                self.plan_write_binding(b)
            else:
                self.plan_query_binding(b)

    def plan_names(self) -> None:
        """Rename references to v2 names that have a v3 counterpart (InfluxDBClient, ApiException, ...).

        An `ApiException` that may guard a query stays as it is, with a Finding: `InfluxDBError` never
        matches influxdb3-python query errors.
        """
        guards = query_guards(self.facts.tree, self.facts.imports)
        for n in self.facts.analysis.names:
            par = self.facts.parent.get(n)
            if isinstance(par, (cst.ImportAlias, cst.AsName)) or (
                isinstance(par, cst.Attribute) and par.attr is n
            ):
                continue
            if isinstance(par, cst.Attribute) and par.attr.value in ("from_config_file",):
                continue
            for old, new in V3_NAMES.items():
                if old != new and n.value == old and self.is_v2(n, old) and not self.query_guard(n, guards):
                    self.set(n, lambda x, v=new: x.with_changes(value=v))
        for node in self.facts.analysis.attrs:
            qn = [q for q in self.qnames(node) if q.startswith("influxdb_client.")]
            last = node.attr.value
            if (
                qn
                and last in V3_NAMES
                and not isinstance(self.facts.parent.get(node), cst.Attribute | cst.ImportFrom)
                and not self.query_guard(node, guards)
            ):
                self.set(
                    node, lambda x, v=V3_NAMES[last]: cst.Attribute(value=cst.Name(V3), attr=cst.Name(v))
                )

    def query_guard(self, node: cst.Name | cst.Attribute, guards: dict[int, str]) -> bool:
        """An `ApiException` reference that may guard a query: noted once per line, left unchanged."""
        name = node.value if isinstance(node, cst.Name) else node.attr.value
        line = self.line(node)
        if name != "ApiException" or line not in guards:
            return False
        if not any(n.line == line and n.rule == "query-exceptions" for n in self.plan.notes):
            self.note(
                "query-exceptions",
                line,
                f"`ApiException` left as it is ({guards[line]}): influxdb3-python raises "
                "`InfluxDB3ClientQueryError` for queries (not an InfluxDBError, no .status) and `InfluxDBError` "
                "for writes; catch `InfluxDB3ClientQueryError` from influxdb_client_3.exceptions (or "
                "`InfluxDB3ClientError` for both), check what the handler reads, then drop the influxdb_client "
                "import",
            )
        return True


def rewrite_module(
    text: str, service_buckets: frozenset[str] = frozenset(), bucket_attrs: frozenset[str] = frozenset()
) -> tuple[str, list[Note]]:
    """Rewrite one module's influxdb-client use; returns the new text and what a human must do.

    `service_buckets` are the service's literal bucket names, `bucket_attrs` its attribute buckets
    (`self.settings.influx_bucket`), both gathered over all its files.
    """
    return Rewriter(module_facts(text, service_buckets, bucket_attrs)).run()
