"""LibCST rewriting of influxdb-client 1.x code to influxdb3-python, one module at a time.

The rewrite is planned before it is applied, since sites depend on each other: a constructor's
`database=` is the bucket its writes and queries use, `write_api(...)` options move to the constructor,
a query's readers change with its SQL. So each rule module with a rewrite has a `plan(planning)` function
that adds node edits and Findings to the module's edit plan, in the order of the modules' `STAGE` (0:
calls with no equivalent, 1: writes and queries, 2: what they left, 3: constructors, 4: names); the
plan is then applied in one LibCST walk, and each rule's `finish(code, planning)` (the imports, then what
they left) runs on the new text.
"""

from __future__ import annotations

from fleetshift.recipes._ast import Imports, parse_tree
from fleetshift.recipes.influxdb.edits import ApplyPlan, Note
from fleetshift.recipes.influxdb.plan import module_facts, planning
from fleetshift.recipes.rule import discover

RULES = "fleetshift.recipes.influxdb.rules"


def rewrite_module(
    text: str, service_buckets: frozenset[str] = frozenset(), bucket_attrs: frozenset[str] = frozenset()
) -> tuple[str, list[Note]]:
    """Rewrite one module's influxdb-client use; returns the new text and what a human must do.

    `service_buckets` are the service's literal bucket names, `bucket_attrs` its attribute buckets
    (`self.settings.influx_bucket`), both gathered over all its files.
    """
    tree = parse_tree(text)
    imports = Imports(tree)
    if not imports.imports_module("influxdb_client"):  # decided on `ast`: LibCST parses only what is rewritten
        return text, []
    facts = module_facts(text, service_buckets, bucket_attrs, tree, imports)
    p = planning(facts)
    modules = [m.module for m in discover(RULES)]
    for module in sorted((m for m in modules if hasattr(m, "plan")), key=lambda m: getattr(m, "STAGE", 1)):
        module.plan(p)
    written = facts.module.visit(ApplyPlan(p.plan, facts.analysis.parent))
    code = p.printer.code(written)
    p.written[code] = written
    for module in modules:  # also on an unchanged module: its v2 imports move even when nothing else does
        if hasattr(module, "finish"):
            code = module.finish(code, p)
    return code, p.plan.notes
