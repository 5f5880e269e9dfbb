"""The service dependency graph: path/editable deps on siblings, a sibling's published package, docker-compose
depends_on, sibling imports.

Edges point from a service to what it depends on, so dependencies are migrated first.
"""

from __future__ import annotations

import posixpath

import networkx as nx
from packaging.utils import canonicalize_name

from fleetshift.model import Fleet, Inventory


def build_graph(fleet: Fleet, inventory: Inventory) -> nx.DiGraph:
    """A DiGraph of service names; each edge (a, b) carries `why`: the reasons a depends on b."""
    graph = nx.DiGraph()
    for s in fleet.services:
        graph.add_node(s.name, path=s.path)
    by_path = {s.path: s.name for s in fleet.services}

    def add(a: str, b: str, why: str) -> None:
        if a == b:
            return
        if graph.has_edge(a, b):
            graph.edges[a, b]["why"].append(why)
        else:
            graph.add_edge(a, b, why=[why])

    for s in fleet.services:
        for pin in s.pins:
            if pin.path:
                target = by_path.get(posixpath.normpath(pin.path))
                if target:
                    add(s.name, target, f"path dependency in {pin.file}:{pin.line}")
    published: dict[str, str] = {}  # distribution name -> the service publishing it (across repositories too)
    for s in fleet.services:
        if s.project.name:
            published.setdefault(canonicalize_name(s.project.name), s.name)
    for s in fleet.services:
        for pin in s.pins:
            owner = published.get(pin.package)
            if owner and not pin.path:
                add(s.name, owner, f"consumes its published package {pin.package} ({pin.file}:{pin.line})")
    for a, b in fleet.compose_depends_on:
        add(a, b, "docker-compose depends_on")
    for inv in inventory.services:
        for b in inv.imports_siblings:
            add(inv.service, b, "imports its package")
    return graph


def cycles(graph: nx.DiGraph) -> list[list[str]]:
    """Dependency cycles, which the plan breaks by name order and reports."""
    return [sorted(c) for c in nx.simple_cycles(graph)]
