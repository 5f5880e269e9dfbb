"""One `ast` pass that finds every asyncio-mqtt / aiomqtt 1.x site and decides, per site, rewrite or Finding.

Detection turns the result into UsageSites; the LibCST rewriter applies the planned edits by source
position, so both always agree on what is automatic. The pass is assembled from `clients` (scopes and
Client receivers), `api` (imports, keywords, attributes), `messages` (message loops) and `lifecycle`
(connect/disconnect, error handlers, paho); `overlap` judges concurrent callers, `plan` holds the records.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

from fleetshift.recipes.aiomqtt.api import PATCH_CALLS, ApiChecks
from fleetshift.recipes.aiomqtt.lifecycle import LifecycleChecks
from fleetshift.recipes.aiomqtt.messages import (
    LOG_METHODS,
    MESSAGE_METHODS,
    PAHO_ONLY_ATTRS,
    STR_SAFE_CALLS,
    MessageChecks,
)
from fleetshift.recipes.aiomqtt.overlap import (
    TASK_SPAWNERS,
    CallStats,
    call_stats,
    defined_functions,
    may_overlap,
    merge_stats,
)
from fleetshift.recipes.aiomqtt.plan import CallOp, ForOp, Key, Mark, Plan
from fleetshift.recipes.rule import discover

RULES = "fleetshift.recipes.aiomqtt.rules"


def analyse(
    text: str,
    tree: ast.Module,
    stats: Mapping[str, tuple[int, bool]] | None = None,
    fixtures: frozenset[str] = frozenset(),
) -> Plan:
    """Find the sites of one file and plan their edits; `fixtures` names pytest fixtures that give a Client."""
    return _Analysis(text, tree, stats, fixtures).run()


def client_fixtures(text: str, tree: ast.Module) -> frozenset[str]:
    """Names of the pytest fixtures in a file that yield or return an MQTT Client."""
    return _Analysis(text, tree, {}).client_fixtures()


class _Analysis(ApiChecks, MessageChecks, LifecycleChecks):
    """The whole pass over one file."""

    def run(self) -> Plan:
        self.collect_receivers()
        self.check_imports()
        if self.mqtt_file:
            self.check_calls()
        for module in discover(RULES):
            if check := module.hook("check"):
                check(self)  # the rules that are checked in their own module
        self.check_message_sites()
        if self.mqtt_file:
            self.check_connect_pairs()
        return self.plan


__all__ = [
    "LOG_METHODS",
    "MESSAGE_METHODS",
    "PAHO_ONLY_ATTRS",
    "PATCH_CALLS",
    "STR_SAFE_CALLS",
    "TASK_SPAWNERS",
    "CallOp",
    "CallStats",
    "ForOp",
    "Key",
    "Mark",
    "Plan",
    "analyse",
    "call_stats",
    "client_fixtures",
    "defined_functions",
    "may_overlap",
    "merge_stats",
]
