"""Every breaking change from influxdb-client 1.x to influxdb3-python: one module per rule.

A rule module holds its `RULE`, and as it needs them:
- `check(node, facts)`: offered every `ast` node of a module with the module's `facts.Facts`, yields one
  detail per site at that node ("" for the rule's summary); `facts.v2` / `facts.v3` say which client the
  module imports (old-API sites are checked on v2 code, the traps of migrated code on v3 code);
- `plan(planning)` and `STAGE`: adds its node edits and Findings to the module's edit plan (see
  `influxdb.rewrite` for the stages and `influxdb.plan.Planning` for the records it reads);
- `finish(code, planning)`: a pass over the rewritten text (the imports, then the v2 imports left).
LibCST is imported inside functions only, so scanning never loads it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import libcst as cst

    from fleetshift.recipes.influxdb.plan import Planning
    from fleetshift.recipes.rule import Rule

RECIPE_ID = "influxdb3"
V3_README = "https://github.com/InfluxCommunity/influxdb3-python#readme"
V3_CHANGELOG = "https://github.com/InfluxCommunity/influxdb3-python/blob/main/CHANGELOG.md"
MIGRATE = "https://docs.influxdata.com/influxdb3/core/get-started/migrate-from-influxdb-v1-v2/"
FLUX_FUTURE = "https://docs.influxdata.com/flux/v0/future-of-flux/"
SQL_DOCS = "https://docs.influxdata.com/influxdb3/core/query-data/sql/"
LINK = V3_CHANGELOG


def noted(rule: Rule, message: str) -> Callable[[Planning, cst.CSTNode], None]:
    """A rule's `note(p, node)`: its Finding with a fixed `message` at a node another rule's plan rewrites."""

    def note(p: Planning, node: cst.CSTNode) -> None:
        p.note(rule.slug, node, message)

    return note
