"""The risk-phased rollout: every service gets a phase (A-D), a batch, a position and the reasons why.

Phase A is a low-risk canary group, B medium, C high, D critical (run last, one at a time). Within the
plan, dependencies come before their dependents; a dependent is never in an earlier phase than what it
depends on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fleetshift.config import FleetConfig
from fleetshift.model import Fleet, Inventory, Phase, Plan, ServiceInventory, ServicePlan
from fleetshift.recipes import get
from fleetshift.risk import Risk, assess

if TYPE_CHECKING:
    import networkx as nx

PHASE_ORDER = list(Phase)


def chain_order(recipe_ids: list[str]) -> tuple[str, ...]:
    """The recipes in the order a service's chain runs them."""
    return tuple(sorted(recipe_ids, key=lambda r: (get(r).order, r)))


CANARY_SHARE = 0.25  # phase A: the lowest-risk quarter of the services with work to do
MEDIUM_SHARE = 0.35  # phase B: the next 35 %; phase C: the rest


def _rank_phases(inventory: Inventory, risks: dict[str, Risk], phases: dict[str, Phase], reasons: dict[str, list[str]]) -> None:
    """Phase by rank within the fleet: A canaries, B medium, C high; critical services D; no-ops A."""
    work = sorted((n for n, r in risks.items() if r.level != "critical" and r.score > 0), key=lambda n: (risks[n].score, n))
    n = len(work)
    rank_of = {name: rank for rank, name in enumerate(work)}
    canaries = max(1, round(n * CANARY_SHARE)) if n else 0
    medium = canaries + round(n * MEDIUM_SHARE)
    for inv in inventory.services:
        name, risk = inv.service, risks[inv.service]
        if risk.level == "critical":
            phases[name] = Phase.D
            reasons[name].append("phase D: critical services run last, one at a time, with an approval checkpoint")
        elif name not in rank_of:
            phases[name] = Phase.A
            reasons[name].append("phase A: nothing to migrate, verified as a no-op")
        else:
            rank = rank_of[name]
            phase = Phase.A if rank < canaries else Phase.B if rank < medium else Phase.C
            share = {Phase.A: "lowest-risk quarter (canaries)", Phase.B: "middle of the fleet by risk", Phase.C: "highest-risk part of the fleet"}
            phases[name] = phase
            reasons[name].append(f"phase {phase}: {share[phase]}, rank {rank + 1} of {n} services with work")


def _dependencies_first(graph: nx.DiGraph, phases: dict[str, Phase], reasons: dict[str, list[str]], fixed: set[str]) -> None:
    """Make every dependency's phase no later than its dependents': pull the dependency forward, unless its
    phase is fixed (critical or set in the config), then push the dependent back."""
    idx = PHASE_ORDER.index
    changed = True
    while changed:
        changed = False
        for name, dep in graph.edges:
            if name not in phases or dep not in phases or idx(phases[dep]) <= idx(phases[name]):
                continue
            if dep not in fixed:
                reasons[dep].append(f"phase {phases[dep]} -> {phases[name]}: pulled forward, {name} depends on it and runs in phase {phases[name]}")
                phases[dep] = phases[name]
            else:
                reasons[name].append(f"phase {phases[name]} -> {phases[dep]}: depends on {dep}, which runs in phase {phases[dep]}")
                phases[name] = phases[dep]
            changed = True


def make_plan(fleet: Fleet, inventory: Inventory, config: FleetConfig, graph: nx.DiGraph | None = None) -> Plan:
    """Assign phases, order and batches to every service of the inventory."""
    import networkx as nx  # (imported here: `chain_order` is asked for before the fleet is scanned, see pinsahead)

    from fleetshift.graph import build_graph

    graph = graph if graph is not None else build_graph(fleet, inventory)
    acyclic = graph.copy()
    cycle_notes: dict[str, str] = {}
    while not nx.is_directed_acyclic_graph(acyclic):
        cycle = nx.find_cycle(acyclic)
        a, b = cycle[-1][0], cycle[-1][1]
        acyclic.remove_edge(a, b)
        cycle_notes[a] = f"dependency cycle through {b}: edge {a} -> {b} ignored for ordering"

    risks: dict[str, Risk] = {}
    phases: dict[str, Phase] = {}
    reasons: dict[str, list[str]] = {}
    for inv in inventory.services:
        risk = assess(inv, graph.in_degree(inv.service) if inv.service in graph else 0)
        risks[inv.service] = risk
        reasons[inv.service] = [f"risk {risk.level} ({risk.score:g}): " + "; ".join(risk.reasons)]
        if inv.service in cycle_notes:
            reasons[inv.service].append(cycle_notes[inv.service])
    _rank_phases(inventory, risks, phases, reasons)

    # Overrides from the config are kept as they are; the dependency rule moves the others.
    fixed: set[str] = set()
    for name, letter in [*config.phase_overrides.items(), *((n, o.phase) for n, o in config.services.items() if o.phase)]:
        if name in phases and letter:
            phases[name] = Phase(letter)
            fixed.add(name)
            reasons[name].append(f"phase {letter}: set in {config.source or 'the config'}")
    _dependencies_first(acyclic, phases, reasons, fixed | {n for n, r in risks.items() if r.level == "critical"})

    # Order: phase, then dependencies first, then lower risk first, then name.
    def key(n: str) -> tuple[float, str]:
        return (risks[n].score if n in risks else 0.0, n)

    topo = list(nx.lexicographical_topological_sort(acyclic.reverse(copy=True), key=lambda n: f"{key(n)[0]:08.2f}{n}"))
    names = [n for n in topo if n in phases]
    ordered = sorted(names, key=lambda n: PHASE_ORDER.index(phases[n]))  # stable: the topological order within a phase

    plans: list[ServicePlan] = []
    batch_of: dict[str, int] = {}
    current_phase: Phase | None = None
    batch, filled = 0, 0
    inventories: dict[str, ServiceInventory] = {}
    for inv in inventory.services:
        inventories.setdefault(inv.service, inv)  # the first of a name, as Inventory.service finds it
    for index, name in enumerate(ordered, start=1):
        phase = phases[name]
        size = 1 if phase is Phase.D else config.batch_size
        deps_here = [d for d in acyclic.successors(name) if phases.get(d) is phase]
        if phase is not current_phase:
            current_phase, batch, filled = phase, 1, 0
        elif filled >= size or any(batch_of.get(d) == batch for d in deps_here):
            batch, filled = batch + 1, 0
        batch_of[name] = batch
        filled += 1
        inv = inventories[name]
        chain = chain_order([u.recipe for u in inv.uses if not u.already_done])
        deps = tuple(sorted(graph.successors(name))) if name in graph else ()
        why = list(reasons[name])
        if deps:
            why.append("after its dependencies: " + ", ".join(deps))
        why.append(f"batch {batch} of phase {phase}" + (" (one service at a time)" if phase is Phase.D else ""))
        if not chain:
            why.append("no recipe applies: it is verified as a no-op")
        plans.append(
            ServicePlan(name, inv.path, chain, risks[name].score, risks[name].level, phase, batch, index, tuple(why), deps)
        )
    return Plan(inventory.root, tuple(plans))
