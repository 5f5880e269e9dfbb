"""The plan and the run as pictures: the service dependency graph laid out by phase and batch, and bars of
each phase's results, drawn as self-contained SVG (no script, no external font or stylesheet).

The layout is computed here: one column per phase (A to D, in rollout order), the phase's batches stacked in
it, services in plan order inside a batch. An edge goes from a dependency to the service that needs it, so
the arrows follow the migration order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape

PHASES = ("A", "B", "C", "D")
PHASE_NAMES = {"A": "canaries", "B": "low risk", "C": "higher risk", "D": "critical, one at a time"}
PHASE_COLOURS = {"A": "#1c7ed6", "B": "#5c7cfa", "C": "#9c36b5", "D": "#d6336c"}
PHASE_TINTS = {"A": "#f1f8ff", "B": "#f3f5ff", "C": "#faf2fc", "D": "#fff3f7"}

# status key -> (label, fill, stroke). The keys are what `status_key` returns for a run's service.
STATUSES: dict[str, tuple[str, str, str]] = {
    "passed": ("passed", "#c3f0c8", "#2b8a3e"),
    "no-op": ("no-op (nothing to migrate)", "#ffffff", "#868e96"),
    "failed": ("failed (rolled back)", "#ffc9c9", "#c92a2a"),
    "rolled-back": ("rolled back with its phase", "#ffd8a8", "#d9480f"),
    "unverifiable": ("unverifiable", "#fff3bf", "#e67700"),
    "not-verified": ("applied, not verified", "#eebefa", "#9c36b5"),
    "not-reached": ("not reached", "#e9ecef", "#868e96"),
    "skipped": ("skipped", "#dee2e6", "#495057"),
    "planned": ("planned", "#ffffff", "#495057"),
}

NODE_W, NODE_H, COL_GAP, ROW_GAP, BATCH_GAP = 210, 40, 70, 10, 30
PAD, HEAD_H = 16, 52
FONT = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif"


@dataclass(frozen=True)
class GraphNode:
    """One service in the picture."""

    name: str
    phase: str
    batch: int = 1
    order: int = 0
    status: str = "planned"  # a key of STATUSES
    detail: str = ""  # second line under the name (risk, verdict)
    tooltip: tuple[str, ...] = ()
    href: str = ""


@dataclass(frozen=True)
class GraphEdge:
    """`service` depends on `dependency`; `why` says how we know."""

    dependency: str
    service: str
    why: tuple[str, ...] = ()


@dataclass
class _Placed:
    node: GraphNode
    x: float
    y: float


@dataclass
class _Layout:
    width: float
    height: float
    nodes: dict[str, _Placed] = field(default_factory=dict)
    columns: list[tuple[str, float, int]] = field(default_factory=list)  # phase, x, services
    batches: list[tuple[float, float, str]] = field(default_factory=list)  # x, y, label


def anchor(name: str) -> str:
    """The HTML id of a service's section (`svc-` and the name with anything unsafe replaced)."""
    return "svc-" + re.sub(r"[^A-Za-z0-9_.-]", "-", name)


def status_key(status: str, verdict: str) -> str:
    """A run service's picture status from its journal status and verdict state (see report.results)."""
    if status == "rolled-back":
        return "rolled-back"
    if status in ("pending", "running"):
        return "not-reached"
    if status == "kept-unverified":
        return "unverifiable"
    return verdict if verdict in STATUSES else status if status in STATUSES else "not-reached"


def _layout(nodes: Sequence[GraphNode]) -> _Layout:
    by_phase: dict[str, list[GraphNode]] = {p: [] for p in PHASES}
    for n in nodes:
        by_phase.setdefault(n.phase, []).append(n)
    layout = _Layout(0, 0)
    bottom = 0.0
    x = float(PAD)
    for phase, members in by_phase.items():
        layout.columns.append((phase, x, len(members)))
        y = float(PAD + HEAD_H)
        batch = None
        for n in sorted(members, key=lambda n: (n.batch, n.order, n.name)):
            if n.batch != batch:
                if batch is not None:
                    y += BATCH_GAP - ROW_GAP
                batch = n.batch
                layout.batches.append((x, y, f"batch {n.batch}"))
                y += 16
            layout.nodes[n.name] = _Placed(n, x, y)
            y += NODE_H + ROW_GAP
        bottom = max(bottom, y)
        x += NODE_W + COL_GAP
    layout.width = x - COL_GAP + PAD
    layout.height = max(bottom, PAD + HEAD_H + NODE_H) + PAD
    return layout


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _edge_path(a: _Placed, b: _Placed) -> str:
    """A curve from dependency `a` to dependent `b`: right side to left side when `b` is further right, else
    a loop out of the right side of the column."""
    ay, by = a.y + NODE_H / 2, b.y + NODE_H / 2
    if b.x > a.x:
        x1, x2 = a.x + NODE_W, b.x - 2
        mid = (x2 - x1) / 2
        return f"M{x1:.0f},{ay:.0f} C{x1 + mid:.0f},{ay:.0f} {x2 - mid:.0f},{by:.0f} {x2:.0f},{by:.0f}"
    x1, x2 = a.x + NODE_W, b.x + NODE_W + 2
    bulge = 28 + min(abs(by - ay), 200) / 8
    return f"M{x1:.0f},{ay:.0f} C{x1 + bulge:.0f},{ay:.0f} {x2 + bulge:.0f},{by:.0f} {x2 + 4:.0f},{by:.0f}"


def graph_svg(nodes: Sequence[GraphNode], edges: Iterable[GraphEdge], *, title: str = "") -> str:
    """The dependency graph as one <svg> element: phase columns, batches, nodes coloured by status with a
    phase stripe, arrows from each dependency to its dependent, and a legend below."""
    layout = _layout(nodes)
    used = sorted({n.status for n in nodes}, key=list(STATUSES).index) or ["planned"]
    legend_rows = 2
    legend_top = layout.height
    height = legend_top + legend_rows * 24 + PAD
    width = max(layout.width + 50, 760)  # room on the right for the loops of edges within the last column
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="fleet-graph" role="img" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" style="{FONT}">',
        f"<title>{escape(title or 'service dependency graph')}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#495057"/></marker></defs>',
    ]
    for phase, x, count in layout.columns:
        colour = PHASE_COLOURS.get(phase, "#495057")
        parts.append(
            f'<g class="phase" data-phase="{escape(phase)}"><rect x="{x - 8:.0f}" y="{PAD - 6}" width="{NODE_W + 16}" '
            f'height="{layout.height - PAD:.0f}" rx="10" fill="{PHASE_TINTS.get(phase, "#f8f9fa")}" '
            f'stroke="{colour}" stroke-opacity=".35"/>'
            f'<text x="{x:.0f}" y="{PAD + 14}" font-size="15" font-weight="700" fill="{colour}">Phase {escape(phase)}'
            f'</text><text x="{x:.0f}" y="{PAD + 32}" font-size="11.5" fill="#495057">'
            f"{escape(PHASE_NAMES.get(phase, ''))} · {count} service{'s' if count != 1 else ''}</text></g>"
        )
        if not count:
            parts.append(f'<text x="{x:.0f}" y="{PAD + HEAD_H + 20}" font-size="12" fill="#868e96">no services</text>')
    for x, y, label in layout.batches:
        parts.append(f'<text x="{x + 2:.0f}" y="{y + 11:.0f}" font-size="10.5" fill="#868e96">{escape(label)}</text>')
    for e in edges:
        a, b = layout.nodes.get(e.dependency), layout.nodes.get(e.service)
        if a is None or b is None:
            continue
        tip = f"{e.service} depends on {e.dependency}" + ("".join(f"\n{w}" for w in e.why))
        parts.append(
            f'<path class="edge" data-from="{escape(e.dependency)}" data-to="{escape(e.service)}" '
            f'd="{_edge_path(a, b)}" fill="none" stroke="#495057" stroke-opacity=".7" stroke-width="1.4" '
            f'marker-end="url(#arrow)"><title>{escape(tip)}</title></path>'
        )
    for p in layout.nodes.values():
        parts.append(_node(p))
    parts.append(_legend(used, legend_top, width))
    parts.append("</svg>")
    return "".join(parts)


def _node(p: _Placed) -> str:
    n = p.node
    label, fill, stroke = STATUSES.get(n.status, STATUSES["planned"])
    dash = ' stroke-dasharray="4 3"' if n.status == "no-op" else ""
    tip = "\n".join((n.name, f"phase {n.phase}, batch {n.batch}", label, *n.tooltip))
    body = (
        f'<g class="node" data-service="{escape(n.name)}" data-status="{escape(n.status)}" data-phase="{escape(n.phase)}">'
        f"<title>{escape(tip)}</title>"
        f'<rect x="{p.x:.0f}" y="{p.y:.0f}" width="{NODE_W}" height="{NODE_H}" rx="6" fill="{fill}" '
        f'stroke="{stroke}" stroke-width="1.6"{dash}/>'
        f'<rect x="{p.x:.0f}" y="{p.y:.0f}" width="6" height="{NODE_H}" rx="2" fill="{PHASE_COLOURS.get(n.phase, "#495057")}"/>'
        f'<text x="{p.x + 14:.0f}" y="{p.y + 17:.0f}" font-size="13" font-weight="600" fill="#212529">'
        f"{escape(_short(n.name, 26))}</text>"
        f'<text x="{p.x + 14:.0f}" y="{p.y + 32:.0f}" font-size="10.5" fill="#495057">'
        f"{escape(_short(n.detail or label, 34))}</text></g>"
    )
    if n.href:
        return f'<a href="{escape(n.href)}">{body}</a>'
    return body


def _legend(statuses: Sequence[str], top: float, width: float) -> str:
    parts = [f'<g class="legend" font-size="11.5" fill="#212529"><text x="{PAD}" y="{top + 16:.0f}" font-weight="700">status</text>']
    x = PAD + 50.0
    for key in statuses:
        label, fill, stroke = STATUSES[key]
        parts.append(
            f'<rect x="{x:.0f}" y="{top + 5:.0f}" width="14" height="14" rx="3" fill="{fill}" stroke="{stroke}"/>'
            f'<text x="{x + 19:.0f}" y="{top + 16:.0f}">{escape(label)}</text>'
        )
        x += 30 + 6.4 * len(label)
    y = top + 24
    parts.append(f'<text x="{PAD}" y="{y + 16:.0f}" font-weight="700">phase</text>')
    x = PAD + 50.0
    for phase in PHASES:
        parts.append(
            f'<rect x="{x:.0f}" y="{y + 5:.0f}" width="6" height="14" fill="{PHASE_COLOURS[phase]}"/>'
            f'<text x="{x + 11:.0f}" y="{y + 16:.0f}">{phase}</text>'
        )
        x += 34
    parts.append(
        f'<path d="M{x + 10:.0f},{y + 12:.0f} L{x + 44:.0f},{y + 12:.0f}" stroke="#495057" stroke-width="1.4" '
        f'marker-end="url(#arrow)"/><text x="{x + 52:.0f}" y="{y + 16:.0f}">from a dependency to the service that '
        "needs it (dependencies migrate first)</text></g>"
    )
    return "".join(parts)


def phase_bars(counts: dict[str, dict[str, int]], *, width: int = 760) -> str:
    """One stacked bar per phase of how many services ended in each status (`counts`: phase -> status key ->
    number), with the numbers written on the bar and after it."""
    row_h, label_w, tail_w = 30, 80, 250
    phases = [p for p in PHASES if p in counts] + [p for p in counts if p not in PHASES]
    total_max = max((sum(c.values()) for c in counts.values()), default=0) or 1
    bar_w = width - label_w - tail_w
    height = row_h * max(len(phases), 1) + 8
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="phase-bars" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" style="{FONT}"><title>results by phase</title>']
    for i, phase in enumerate(phases):
        y = 4 + i * row_h
        colour = PHASE_COLOURS.get(phase, "#495057")
        parts.append(f'<g class="bar" data-phase="{escape(phase)}"><text x="0" y="{y + 17}" font-size="13" '
                     f'font-weight="700" fill="{colour}">Phase {escape(phase)}</text>')
        x = float(label_w)
        words = []
        for key in STATUSES:
            n = counts[phase].get(key, 0)
            if not n:
                continue
            label, fill, stroke = STATUSES[key]
            w = bar_w * n / total_max
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="22" fill="{fill}" stroke="{stroke}">'
                         f"<title>{n} {escape(label)}</title></rect>")
            if w >= 16:
                parts.append(f'<text x="{x + w / 2:.1f}" y="{y + 15}" font-size="11.5" text-anchor="middle" '
                             f'fill="#212529">{n}</text>')
            words.append(f"{n} {label.split(' (')[0]}")
            x += w
        summary = ", ".join(words) or "no services"
        parts.append(f'<text x="{label_w + bar_w + 10}" y="{y + 15}" font-size="11.5" fill="#495057">'
                     f"{escape(_short(summary, 40))}</text></g>")
    parts.append("</svg>")
    return "".join(parts)
