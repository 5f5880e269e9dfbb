"""The first stages chained: config -> discover -> scan -> plan, as the commands use them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fleetshift.config import FleetConfig, load_config
from fleetshift.discover import discover
from fleetshift.model import Fleet, Inventory, Plan
from fleetshift.plan import make_plan
from fleetshift.scan import scan


@dataclass(frozen=True)
class Analysis:
    config: FleetConfig
    fleet: Fleet
    inventory: Inventory
    plan: Plan


def analyse(root: Path, *, use_cache: bool = True, jobs: int | None = None) -> Analysis:
    """Everything known about a fleet before any change: config, services, inventory and plan."""
    root = root.resolve()
    config = load_config(root)
    fleet = discover(root, config)
    inventory = scan(fleet, config, use_cache=use_cache, jobs=jobs or config.jobs or None)
    plan = make_plan(fleet, inventory, config)
    return Analysis(config, fleet, inventory, plan)
