"""The first stages chained: config -> discover -> scan (a Survey), then -> plan (an Analysis)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from fleetshift.config import FleetConfig, load_config
from fleetshift.discover import discover
from fleetshift.model import Fleet, Inventory, Plan, Selection
from fleetshift.scan import scan
from fleetshift.scancache import ScanCache


@dataclass(frozen=True)
class Survey:
    """What a fleet holds and uses: its config, services and inventory."""

    config: FleetConfig
    fleet: Fleet
    inventory: Inventory


@dataclass(frozen=True)
class Analysis(Survey):
    """A survey plus the risk-phased plan."""

    plan: Plan


def survey(root: Path, *, use_cache: bool = True, jobs: int | None = None, pins_ahead: Selection | None = None,
           recipes_meanwhile: bool = False) -> Survey:
    """Config, services and inventory; enough for `scan` and `check`, which need no plan. With `pins_ahead` (a
    run's selection), the pin questions of its rewrites are asked while the fleet is scanned (fleetshift.pinsahead).
    With `recipes_meanwhile` (`scan --json` in a fresh process), the recipes, which only the config's targets and
    the scan need, are loaded while a forked child discovers the services (`discover(meanwhile=...)`)."""
    root = root.resolve()
    bare = load_config(root, targets=False) if recipes_meanwhile else None
    if bare is not None and not bare.repos:
        cache = ScanCache(root, enabled=use_cache)  # one cache for discovery's manifests and the scan's files
        loaded: list[FleetConfig] = []

        def meanwhile() -> None:
            from fleetshift.recipes import all_recipes
            from fleetshift.scan import first_use

            try:
                all_recipes()
                loaded.append(load_config(root))
            except Exception:  # a broken plugin, a bad target: raised again below, once the child is reaped
                return
            first_use()  # (the scan imports them before it forks: here, while the discovery goes on)

        fleet = discover(root, bare, cache, meanwhile=meanwhile)
        config = loaded[0] if loaded else load_config(root)
    else:
        config = load_config(root)
        if config.repos:  # a multi-repo fleet: its services live in fleetshift's clones of the repositories
            from fleetshift.workspace import sync

            root = sync(root, config, fetch=False)
        cache = ScanCache(root, enabled=use_cache)
        fleet = discover(root, config, cache)
    if pins_ahead is not None:
        from fleetshift import pinsahead

        pinsahead.start(root, fleet, config, pins_ahead)
    inventory = with_projects(fleet, scan(fleet, config, jobs=jobs or config.jobs or None, cache=cache))
    return Survey(config, with_detection(fleet, inventory), inventory)


def with_detection(fleet: Fleet, inventory: Inventory) -> Fleet:
    """The fleet whose services carry what the scan's detection found in them (`model.Detection`), for the run."""
    found = inventory.detection
    if not found:
        return fleet
    return replace(fleet, services=tuple(replace(s, detection=found.get(s.name)) for s in fleet.services))


def with_projects(fleet: Fleet, inventory: Inventory) -> Inventory:
    """The inventory carrying what discovery read of each service as a project, and the folders it skipped."""
    projects = {s.name: s.project for s in fleet.services}
    services = tuple(replace(s, project=projects[s.service]) if s.service in projects else s for s in inventory.services)
    return replace(inventory, services=services, skipped=fleet.skipped)


def analyse(root: Path, *, use_cache: bool = True, jobs: int | None = None,
            pins_ahead: Selection | None = None) -> Analysis:
    """Everything known about a fleet before any change: config, services, inventory and plan (`pins_ahead`: see
    `survey`)."""
    from fleetshift.plan import make_plan  # networkx is needed only from here on

    s = survey(root, use_cache=use_cache, jobs=jobs, pins_ahead=pins_ahead)
    return Analysis(s.config, s.fleet, s.inventory, plan_with_projects(s.fleet, make_plan(s.fleet, s.inventory, s.config)))


def plan_with_projects(fleet: Fleet, plan: Plan) -> Plan:
    """The plan carrying each service's project record and the folders discovery skipped."""
    projects = {s.name: s.project for s in fleet.services}
    services = tuple(replace(s, project=projects[s.service]) if s.service in projects else s for s in plan.services)
    return replace(plan, services=services, skipped=fleet.skipped)
