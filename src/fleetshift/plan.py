"""The risk-phased rollout: every service gets a phase (A-D), a batch, a position and the reasons why.

Phase A is a low-risk canary group, B medium, C high, D critical (run last, one at a time). Within the
plan, dependencies come before their dependents; a dependent is never in an earlier phase than what it
depends on.
"""

from __future__ import annotations

import networkx as nx

from fleetshift.config import FleetConfig
from fleetshift.graph import build_graph
from fleetshift.model import Fleet, Inventory, Phase, Plan, ServicePlan
from fleetshift.recipes import get
from fleetshift.risk import Risk, assess

LEVEL_PHASE = {"low": Phase.A, "medium": Phase.B, "high": Phase.C, "critical": Phase.D}
PHASE_ORDER = list(Phase)


def _chain(recipe_ids: list[str]) -> tuple[str, ...]:
    return tuple(sorted(recipe_ids, key=lambda r: (get(r).order, r)))


def make_plan(fleet: Fleet, inventory: Inventory, config: FleetConfig, graph: nx.DiGraph | None = None) -> Plan:
    """Assign phases, order and batches to every service of the inventory."""
    graph = graph if graph is not None else build_graph(fleet)
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
        phase = LEVEL_PHASE[risk.level]
        why = [f"risk {risk.level} ({risk.score:g}): " + "; ".join(risk.reasons)]
        if risk.level == "critical":
            why.append("phase D: critical services run last, one at a time, with an approval checkpoint")
        else:
            why.append(f"phase {phase}: {risk.level} risk")
        phases[inv.service] = phase
        reasons[inv.service] = why
        if inv.service in cycle_notes:
            why.append(cycle_notes[inv.service])

    # Overrides from the config, then: a dependent never goes before what it depends on.
    for name, letter in config.phase_overrides.items():
        if name in phases:
            phases[name] = Phase(letter)
            reasons[name].append(f"phase {letter}: set in {config.source or 'the config'}")
    for name, opts in config.services.items():
        if opts.phase and name in phases:
            phases[name] = Phase(opts.phase)
            reasons[name].append(f"phase {opts.phase}: set in {config.source or 'the config'}")
    for name in reversed(list(nx.topological_sort(acyclic))):
        for dep in acyclic.successors(name):
            if dep in phases and name in phases and PHASE_ORDER.index(phases[dep]) > PHASE_ORDER.index(phases[name]):
                if phases[name] is not Phase.D or phases[dep] is Phase.D:
                    reasons[name].append(f"phase raised {phases[name]} -> {phases[dep]}: depends on {dep} (phase {phases[dep]})")
                    phases[name] = phases[dep]

    # Order: phase, then dependencies first, then lower risk first, then name.
    def key(n: str) -> tuple[float, str]:
        return (risks[n].score if n in risks else 0.0, n)

    topo = list(nx.lexicographical_topological_sort(acyclic.reverse(copy=True), key=lambda n: f"{key(n)[0]:08.2f}{n}"))
    names = [n for n in topo if n in phases]
    ordered = sorted(names, key=lambda n: (PHASE_ORDER.index(phases[n]), names.index(n)))

    plans: list[ServicePlan] = []
    batch_of: dict[str, int] = {}
    current_phase: Phase | None = None
    batch, filled = 0, 0
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
        inv = inventory.service(name)
        chain = _chain([u.recipe for u in inv.uses if not u.already_done])
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
