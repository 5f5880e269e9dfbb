"""Risk of migrating a service, as a score with the reasons that make it up."""

from __future__ import annotations

from dataclasses import dataclass

from fleetshift.model import Action, ServiceInventory
from fleetshift.recipes import get

LEVELS = (("low", 4.0), ("medium", 8.0), ("high", float("inf")))


@dataclass(frozen=True)
class Risk:
    score: float
    level: str  # low / medium / high / critical
    reasons: tuple[str, ...]


def assess(inv: ServiceInventory, dependents: int) -> Risk:
    """Score one service from its breaking recipes, sites, human sites, tests, fan-in and criticality."""
    active = [u for u in inv.uses if not u.already_done]
    reasons: list[str] = []
    score = 0.0
    if active:
        weight = sum(get(u.recipe).risk_weight for u in active)  # declared by each recipe
        score += weight
        reasons.append(f"{len(active)} breaking migration(s): {', '.join(u.recipe for u in active)} (+{weight:g})")
    sites = [s for s in inv.sites if s.action is not Action.INFO]
    if sites:
        part = min(len(sites) * 0.1, 3.0)
        score += part
        reasons.append(f"{len(sites)} usage site(s) to change (+{part:.1f})")
    human = [s for s in sites if s.action is Action.HUMAN]
    if human:
        part = min(len(human) * 0.75, 4.0)
        score += part
        reasons.append(f"{len(human)} site(s) need a human (+{part:.2f})")
    if active and not inv.has_tests:
        score += 3.0
        reasons.append("no tests: only an import smoke test can verify it (+3)")
    if dependents:
        part = min(dependents * 1.0, 4.0)
        score += part
        reasons.append(f"{dependents} service(s) depend on it (+{part:g})")
    if inv.critical:
        return Risk(round(score, 2), "critical", (*reasons, "marked critical in the config"))
    if not active:
        return Risk(0.0, "low", ("nothing to migrate",))
    level = next(name for name, limit in LEVELS if score < limit)
    return Risk(round(score, 2), level, tuple(reasons))
