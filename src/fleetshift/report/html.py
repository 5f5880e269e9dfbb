"""A self-contained HTML page of a run's results, for people who read reports in a browser."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#1d1d1f}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ddd;padding:.3em .6em;text-align:left;vertical-align:top}
th{background:#f4f4f6}.ok{color:#116329}.bad{color:#a40e26}.wait{color:#7a5b00}.unproven{color:#9a4b00;font-weight:600}
code{font-size:12px}
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


def render(results: dict[str, Any]) -> str:
    """The results record (see report.results.build_results) as one HTML page."""
    from fleetshift.report.results import headline

    s = results["summary"]
    rows = []
    for svc in results["services"]:
        if svc["overall_success"]:
            cls = "ok"
        elif svc["verdict"] in {"unverifiable", "not-verified"}:
            cls = "unproven"
        else:
            cls = "wait" if svc["status"] in {"pending", "running", "skipped"} else "bad"
        recipes = ", ".join(m["recipe"] for m in svc["migrations"]) or "nothing to migrate"
        failing = "".join(f"<br><code>{escape(t)}</code>" for t in svc["failing_tests"])
        rows.append(
            f"<tr><td>{escape(svc['name'])}</td><td>{escape(svc['phase'])}</td><td>{escape(svc['priority'])}</td>"
            f"<td>{escape(recipes)}</td><td>{_tests(svc['tests']['before'])}</td><td>{_tests(svc['tests']['after'])}</td>"
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
        f"<td>{escape(svc['name'])}</td><td>{escape(f['message'])}</td></tr>"
        for svc in results["services"] for f in svc["findings"]
    )
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>fleetshift run {escape(results['run_id'])}</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>Run {escape(results['run_id'])} — {escape(results['status'])}</h1>"
        f"<p>Fleet <code>{escape(results['fleet'])}</code>: {escape(headline(s))}</p>"
        "<h2>Phases</h2><table><tr><th>phase</th><th>total</th><th>passed</th><th>unverifiable or not verified</th>"
        "<th>failed</th><th>not reached</th></tr>"
        f"{phases}</table>"
        "<h2>Services</h2><table><tr><th>service</th><th>phase</th><th>risk</th><th>migrations</th>"
        "<th>tests on old pins</th><th>tests on new pins</th><th>result</th><th>findings</th></tr>"
        f"{''.join(rows)}</table>"
        "<h2>Left for a human</h2><table><tr><th>rule</th><th>where</th><th>service</th><th>what to do</th></tr>"
        f"{findings}</table></body></html>\n"
    )
