"""A self-contained HTML page of a run's results, for people who read reports in a browser."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fleetshift.report.svg import STATUSES, GraphEdge, GraphNode, anchor, graph_svg, phase_bars, status_key

if TYPE_CHECKING:
    from fleetshift.model import Inventory, Plan
    from fleetshift.report.changes import FileDiff

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1d1d1f}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ddd;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f4f4f6}.ok{color:#116329}.bad{color:#a40e26}.wait{color:#7a5b00}.unproven{color:#9a4b00;font-weight:600}
code{font-size:12px}
h2{margin-top:1.6em;border-bottom:1px solid #e9ecef;padding-bottom:.2em}
.picture{overflow-x:auto;margin:.5em 0 1em}.picture svg a .node:hover rect:first-of-type{stroke-width:3}
section.service{border:1px solid #dee2e6;border-left:6px solid #adb5bd;border-radius:6px;padding:.4em 1em .8em;margin:1em 0}
section.service:target{box-shadow:0 0 0 3px #74c0fc}
section.service h3{margin:.4em 0}.badge{display:inline-block;padding:0 .5em;border-radius:4px;border:1px solid;font-size:12px}
pre.diff{background:#f8f9fa;border:1px solid #e9ecef;padding:.5em;overflow-x:auto;font-size:12px;line-height:1.35;margin:.3em 0}
pre.diff .add{background:#e6ffec;color:#116329;display:block}pre.diff .del{background:#ffebe9;color:#a40e26;display:block}
pre.diff .hunk{color:#5c7cfa;display:block}pre.diff .head{color:#495057;font-weight:600;display:block}
details>summary{cursor:pointer}.note{color:#7a5b00}.muted{color:#6c757d}
ul.findings li{margin:.2em 0}
"""

# Opens the folded parts of the section a link points at (a node of the graph, a finding's service).
_SCRIPT = """
function openTarget(){var id=decodeURIComponent(location.hash.slice(1));var el=id&&document.getElementById(id);
if(!el)return;el.querySelectorAll('details').forEach(function(d){d.open=true});
for(var p=el;p;p=p.parentElement){if(p.tagName==='DETAILS')p.open=true}}
window.addEventListener('hashchange',openTarget);openTarget();
"""


def test_side(
    t: dict[str, Any] | None,
    counts: Callable[[dict[str, Any]], str],
    esc: Callable[[str], str] = str,
    strong: Callable[[str], str] = str,
) -> str:
    """One side of a test comparison (a report's test record): its `counts` when it ran, else why not — no run,
    a failed install, or the run state it ended in (`strong`) before its counts. `esc` quotes the error texts."""
    if not t:
        return "—"
    if not t["installed"]:
        return f"not installed: {esc(t['error'])}"
    if t.get("state", "ran") != "ran":
        return strong(f"did not run [{esc(t['state'])}]") + f": {counts(t)}"
    return counts(t)


def _counts(t: dict[str, Any] | None) -> str:
    """One side's test counts (or why it did not run), without the command: the service's section has that."""
    return test_side(
        t,
        lambda t: f"{t['passed']} passed, {t['failed']} failed, {t['errors']} errors, {t['skipped']} skipped",
        escape,
        lambda s: f"<b>{s}</b>",
    )


def _tests(t: dict[str, Any] | None) -> str:
    counts = test_side(
        t,
        lambda t: f"{t['passed']} passed, {t['failed']} failed, {t['errors']} errors, {t['skipped']} skipped",
        escape,
        lambda s: f"<b>{s}</b>",
    )
    if not t or not t["installed"]:
        return counts
    extra = f"<br><small><code>{escape(t['command'])}</code>" if t.get("command") else ""
    if extra and t.get("python"):
        extra += f" · Python {escape(t['python'])}"
    if extra and t.get("sources"):
        extra += f" · from {escape(', '.join(t['sources']))}"
    return counts + (extra + "</small>" if extra else "")




def _href(path: str, base: str) -> str:
    """A link to a log: relative to the report's folder when the log is inside it, else a file: URL."""
    if not path:
        return ""
    p = Path(path)
    if not p.is_absolute():
        return path
    try:
        return p.relative_to(base).as_posix()
    except ValueError:
        return p.as_uri()


def _link(path: str, base: str, text: str = "") -> str:
    href = _href(path, base)
    return f'<a href="{escape(href)}"><code>{escape(text or Path(path).name)}</code></a>' if href else ""


def diff_html(diff: str) -> str:
    """A unified diff as a <pre>, each line escaped and marked added, removed, hunk or header."""
    rows = []
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            cls = "head"
        elif line.startswith("@@"):
            cls = "hunk"
        elif line.startswith("+"):
            cls = "add"
        elif line.startswith("-"):
            cls = "del"
        else:
            rows.append(escape(line) + "\n")
            continue
        rows.append(f'<span class="{cls}">{escape(line)}</span>')
    return f'<pre class="diff">{"".join(rows)}</pre>'


def _files_html(diffs: Sequence[FileDiff], listed: Sequence[str]) -> str:
    if not diffs and not listed:
        return "<p class=muted>No file changed.</p>"
    items = []
    shown = {d.file for d in diffs}
    for d in diffs:
        small = d.diff.count("\n") <= 60
        note = f' <span class="note">({escape(d.note)})</span>' if d.note else ""
        recipes = f' <span class="muted">· {escape(", ".join(d.recipes))}</span>' if d.recipes else ""
        body = diff_html(d.diff) if d.diff else ""
        items.append(f'<details class="file"{" open" if small and d.diff else ""}><summary><code>{escape(d.file)}</code>'
                     f"{recipes}{note}</summary>{body}</details>")
    items += [f"<div><code>{escape(f)}</code> <span class=muted>(no journal entry)</span></div>" for f in listed if f not in shown]
    return "".join(items)


def _findings_html(findings: Sequence[dict[str, Any]]) -> str:
    if not findings:
        return ""
    items = []
    for f in findings:
        where = f"{f['file']}:{f['line']}" if f.get("line") else f["file"]
        link = f' <a href="{escape(f["link"])}">read</a>' if f.get("link") else ""
        items.append(f'<li class="finding"><code>{escape(where)}</code> <code>{escape(f["rule"])}</code>: '
                     f"{escape(f['message'])}{link}</li>")
    return f"<h4>Left for a human ({len(findings)})</h4><ul class=findings>{''.join(items)}</ul>"


def _tests_table(svc: dict[str, Any], base: str) -> str:
    before, after = svc["tests"]["before"], svc["tests"]["after"]
    if not before and not after:
        return "<p class=muted>No test ran (nothing to verify, or verification was off).</p>"
    rows = []
    for side, t in (("old pins (baseline)", before), ("new pins (after)", after)):
        log = _link(t.get("log", ""), base, "log") if t else ""
        rows.append(f"<tr><th>{side}</th><td>{_tests(t)}</td><td>{log}</td></tr>")
    failing = "".join(f"<li><code>{escape(t)}</code></li>" for t in svc["failing_tests"])
    extra = f"<p>Regressions:</p><ul>{failing}</ul>" if failing else ""
    pre = "".join(f"<li><code>{escape(t)}</code></li>" for t in svc["pre_existing_failures"])
    extra += f"<p>Failing before and after (not blamed):</p><ul>{pre}</ul>" if pre else ""
    return f"<table class=tests><tr><th>tests on</th><th>passed, failed, errors, skipped</th><th>log</th></tr>{''.join(rows)}</table>{extra}"


def _service_section(svc: dict[str, Any], key: str, diffs: Sequence[FileDiff], base: str) -> str:
    _, fill, stroke = STATUSES[key]
    recipes = ", ".join(m["recipe"] for m in svc["migrations"]) or "nothing to migrate"
    log = _link(svc.get("log", ""), base)
    meta = (f"phase {escape(svc['phase'] or '-')}, batch {svc.get('batch', '-')}, risk {escape(svc['priority'] or '-')}"
            f" · migrations: {escape(recipes)}")
    deps = svc.get("depends_on") or []
    if deps:
        meta += " · depends on " + ", ".join(f'<a href="#{escape(anchor(d))}">{escape(d)}</a>' for d in deps)
    return (
        f'<section class="service" id="{escape(anchor(svc["name"]))}" data-status="{escape(key)}" '
        f'style="border-left-color:{stroke}"><h3>{escape(svc["name"])} '
        f'<span class="badge" style="background:{fill};border-color:{stroke}">{escape(svc["verdict_label"])}</span></h3>'
        f"<p>{meta}</p>"
        + (f"<p>{escape(svc['reason'])}{' · log: ' + log if log else ''}</p>" if svc["reason"] or log else "")
        + _tests_table(svc, base)
        + _findings_html(svc["findings"])
        + f"<h4>Changed files ({len(diffs) or len(svc['files_changed'])})</h4>"
        + _files_html(diffs, svc["files_changed"])
        + "</section>"
    )


def run_graph(results: dict[str, Any]) -> tuple[str, dict[str, dict[str, int]]]:
    """The run's dependency graph as SVG, and per phase the number of services in each status."""
    nodes, edges = [], []
    counts: dict[str, dict[str, int]] = {}
    for svc in results["services"]:
        key = status_key(str(svc["status"]), svc["verdict"])
        phase = svc["phase"] or "-"
        counts.setdefault(phase, {})
        counts[phase][key] = counts[phase].get(key, 0) + 1
        nodes.append(GraphNode(svc["name"], phase, int(svc.get("batch") or 1), int(svc["order"] or 0), key,
                               STATUSES[key][0], (svc["verdict_label"], svc["reason"]) if svc["reason"] else (svc["verdict_label"],),
                               "#" + anchor(svc["name"])))
        edges += [GraphEdge(d, svc["name"]) for d in svc.get("depends_on") or []]
    return graph_svg(nodes, edges, title=f"run {results['run_id']}: services by phase and status"), counts


def render(results: dict[str, Any], changes: dict[str, list[FileDiff]] | None = None, run_dir: Path | None = None) -> str:
    """The results record (see report.results.build_results) as one HTML page: the dependency graph coloured by
    phase and status, bars per phase, the tables, and a section per service with its diffs, findings and tests.
    `changes` (see report.changes.service_changes) gives the diffs; links to logs inside `run_dir` (the page's
    folder) are relative."""
    from fleetshift.report.results import headline

    changes = changes or {}
    base = str(run_dir or Path(results["fleet"]) / ".fleetshift" / "runs" / results["run_id"])
    s = results["summary"]
    graph, counts = run_graph(results)
    rows = []
    keys = {}
    for svc in results["services"]:
        keys[svc["name"]] = status_key(str(svc["status"]), svc["verdict"])
        if svc["overall_success"]:
            cls = "ok"
        elif svc["verdict"] in {"unverifiable", "not-verified"}:
            cls = "unproven"
        else:
            cls = "wait" if svc["status"] in {"pending", "running", "skipped"} else "bad"
        recipes = ", ".join(m["recipe"] for m in svc["migrations"]) or "nothing to migrate"
        failing = "".join(f"<br><code>{escape(t)}</code>" for t in svc["failing_tests"])
        rows.append(
            f'<tr><td><a href="#{escape(anchor(svc["name"]))}">{escape(svc["name"])}</a></td><td>{escape(svc["phase"])}</td>'
            f"<td>{escape(svc['priority'])}</td>"
            f"<td>{escape(recipes)}</td><td>{_counts(svc['tests']['before'])}</td><td>{_counts(svc['tests']['after'])}</td>"
            f"<td class={cls}>{escape(svc['verdict_label'])}{failing}<br><small>{escape(svc['reason'])}</small></td>"
            f"<td>{len(svc['findings'])}</td></tr>"
        )
    phases = "".join(
        f"<tr><td>{escape(k)}</td><td>{v['total']}</td><td>{v['passed']}</td><td>{v.get('unproven', 0)}</td>"
        f"<td>{v['failed']}</td><td>{v['pending']}</td></tr>"
        for k, v in s["by_phase"].items()
    )
    findings = "".join(
        f"<tr><td><code>{escape(f['rule'])}</code></td><td><code>{escape(f['file'])}:{f['line']}</code></td>"
        f'<td><a href="#{escape(anchor(svc["name"]))}">{escape(svc["name"])}</a></td><td>{escape(f["message"])}</td></tr>'
        for svc in results["services"] for f in svc["findings"]
    )
    sections = "".join(_service_section(svc, keys[svc["name"]], changes.get(svc["name"], []), base)
                       for svc in results["services"])
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>fleetshift run {escape(results['run_id'])}</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>Run {escape(results['run_id'])} — {escape(results['status'])}</h1>"
        f"<p>Fleet <code>{escape(results['fleet'])}</code>: {escape(headline(s))}</p>"
        "<h2>The fleet</h2><p class=muted>Columns are the rollout's phases, in order; each box is a service, coloured "
        "by how it ended (hover for the reason, click for its changes).</p>"
        f'<div class="picture" id="graph">{graph}</div>'
        f'<h2>Phases</h2><div class="picture" id="bars">{phase_bars(counts)}</div>'
        "<table><tr><th>phase</th><th>total</th><th>passed</th><th>unverifiable or not verified</th>"
        "<th>failed</th><th>not reached</th></tr>"
        f"{phases}</table>"
        "<h2>Services</h2><table><tr><th>service</th><th>phase</th><th>risk</th><th>migrations</th>"
        "<th>tests on old pins</th><th>tests on new pins</th><th>result</th><th>findings</th></tr>"
        f"{''.join(rows)}</table>"
        "<h2>Left for a human</h2><table><tr><th>rule</th><th>where</th><th>service</th><th>what to do</th></tr>"
        f"{findings}</table>"
        f"<h2>Every service: changes, tests, findings</h2>{sections}"
        f"<script>{_SCRIPT}</script></body></html>\n"
    )


def plan_graph(plan: Plan) -> str:
    """The plan's dependency graph as SVG: services by phase and batch, arrows from dependencies."""
    nodes = [
        GraphNode(s.service, s.phase.value, s.batch, s.order, "planned" if s.recipes else "no-op",
                  f"risk {s.risk} ({s.risk_score:g}) · {len(s.recipes)} migration{'s' if len(s.recipes) != 1 else ''}",
                  (", ".join(s.recipes) or "nothing to migrate", *s.reasons), "#" + anchor(s.service))
        for s in plan.services
    ]
    edges = [GraphEdge(d, s.service) for s in plan.services for d in s.depends_on]
    return graph_svg(nodes, edges, title=f"plan of {plan.root}: services by phase and batch")


def render_plan(inventory: Inventory, plan: Plan) -> str:
    """The plan as one HTML page: the graph by phase, then per phase its services with risk, recipes and reasons."""
    counts = {phase.value: {"planned": sum(1 for s in services if s.recipes), "no-op": sum(1 for s in services if not s.recipes)}
              for phase, services in plan.by_phase().items()}
    blocks = []
    for phase, services in plan.by_phase().items():
        rows = "".join(
            f'<tr id="{escape(anchor(s.service))}"><td>{s.order}</td><td>{escape(s.service)}</td><td>{s.batch}</td>'
            f"<td>{escape(s.risk)} ({s.risk_score:g})</td><td>{escape(', '.join(s.recipes) or 'no-op')}</td>"
            f"<td>{'<br>'.join(escape(r) for r in s.reasons)}</td></tr>"
            for s in services
        )
        blocks.append(f"<h3>Phase {phase.value}</h3>" + (
            f"<table><tr><th>#</th><th>service</th><th>batch</th><th>risk</th><th>recipes</th><th>why</th></tr>{rows}</table>"
            if services else "<p class=muted>No services.</p>"))
    skipped = "".join(f"<li><code>{escape(p or '.')}</code>: {escape(why)}</li>" for p, why in plan.skipped)
    advisories = "".join(f"<li>{escape(a.message)}</li>" for a in inventory.advisories)
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>fleetshift plan {escape(plan.root)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>Plan of <code>{escape(plan.root)}</code></h1>"
        f"<p>{len(plan.services)} services. Next: <code>fleetshift run {escape(json.dumps(plan.root)[1:-1])} --dry-run</code>.</p>"
        f'<h2>The fleet</h2><div class="picture" id="graph">{plan_graph(plan)}</div>'
        f'<h2>Phases</h2><div class="picture" id="bars">{phase_bars(counts)}</div>'
        + "".join(blocks)
        + (f"<h2>Folders that are not services</h2><ul>{skipped}</ul>" if skipped else "")
        + (f"<h2>Advisories</h2><ul>{advisories}</ul>" if advisories else "")
        + f"<script>{_SCRIPT}</script></body></html>\n"
    )


def write_plan_picture(path: Path, inventory: Inventory, plan: Plan) -> Path:
    """Write the plan as an HTML page (a name ending in .html) or as the graph alone (.svg); returns the path."""
    if path.suffix.lower() == ".svg":
        text = '<?xml version="1.0" encoding="UTF-8"?>\n' + plan_graph(plan) + "\n"
    else:
        text = render_plan(inventory, plan)
    path.write_text(text, encoding="utf-8")
    return path
