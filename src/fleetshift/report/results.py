"""Run results: `results.json` and the Markdown reports, built only from what the run folder holds.

The run folder (`.fleetshift/runs/<id>/`) has `state.json` (journal), `verdicts/<service>.json` and
`findings/<service>.json`; the plan snapshot is in the state's meta. Reading files, not live objects,
lets `status`, `resume` and a crashed run all produce the same reports.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from fleetshift.fsutil import replace_file
from fleetshift.report.html import render

REPORT_FILES = ("results.json", "execution-report.md", "test-report.md", "residual-work.md", "report.html")


def _load_dir(folder: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if folder.is_dir():
        for path in sorted(folder.glob("*.json")):
            try:
                out[path.stem] = json.loads(path.read_text("utf-8"))
            except (OSError, ValueError):
                continue
    return out


def _tests(run: dict[str, Any] | None) -> dict[str, Any] | None:
    if not run:
        return None
    counts: dict[str, int] = defaultdict(int)
    for o in run.get("outcomes", []):
        counts[o["status"]] += 1
    return {
        "kind": run.get("kind"),
        "installed": run.get("installed"),
        "passed": counts["passed"],
        "failed": counts["failed"],
        "errors": counts["error"],
        "skipped": counts["skipped"],
        "duration": round(run.get("duration", 0.0), 2),
        "log": run.get("log", ""),
        "cached": run.get("cached", False),
        "error": run.get("error", ""),
    }


def build_results(run_dir: Path) -> dict[str, Any]:
    """The results record of a run, per service and summarised by phase, priority and migration."""
    state = json.loads((run_dir / "state.json").read_text("utf-8"))
    meta = state.get("meta", {})
    plan: dict[str, dict[str, Any]] = meta.get("plan", {})
    verdicts = _load_dir(run_dir / "verdicts")
    findings = _load_dir(run_dir / "findings")
    services = []
    names = list(plan) or list(state["services"])
    for name in sorted(names, key=lambda n: plan.get(n, {}).get("order", 0)):
        info = plan.get(name, {})
        svc_state = state["services"].get(name, {})
        status = svc_state.get("status", "pending")
        v = verdicts.get(name, {})
        recipes = v.get("recipes") or info.get("recipes", [])
        ok = status in {"passed", "no-op"} and bool(v.get("passed", True))
        services.append(
            {
                "name": name,
                "path": info.get("path", ""),
                "phase": info.get("phase", ""),
                "priority": info.get("risk", ""),
                "order": info.get("order", 0),
                "status": status,
                "migrations": [{"recipe": r, "success": ok and status == "passed"} for r in recipes],
                "files_changed": v.get("files", []),
                "tests": {"before": _tests(v.get("baseline")), "after": _tests(v.get("after"))},
                "failing_tests": v.get("regressions", []),
                "pre_existing_failures": v.get("pre_existing", []),
                "health": v.get("health"),
                "findings": findings.get(name, []),
                "rolled_back": bool(v.get("rolled_back")) or status == "rolled-back",
                "reason": v.get("reason", ""),
                "log": v.get("log", ""),
                "steps": svc_state.get("steps", {}),
                "overall_success": ok,
            }
        )

    def summarise(key: str) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = defaultdict(
            lambda: {"total": 0, "passed": 0, "failed": 0, "pending": 0}
        )
        for s in services:
            groups = [m["recipe"] for m in s["migrations"]] if key == "migration" else [s[key] or "-"]
            for g in groups:
                out[g]["total"] += 1
                bucket = (
                    "pending"
                    if s["status"] in {"pending", "running", "skipped"}
                    else ("passed" if s["overall_success"] else "failed")
                )
                out[g][bucket] += 1
        return dict(sorted(out.items()))

    return {
        "run_id": state["run_id"],
        "fleet": state["fleet_root"],
        "status": state["status"],
        "started": state.get("created"),
        "updated": state.get("updated"),
        "options": {k: v for k, v in meta.items() if k != "plan"},
        "services": services,
        "summary": {
            "services": len(services),
            "succeeded": sum(1 for s in services if s["overall_success"]),
            "failed": sum(1 for s in services if s["status"] in {"failed", "rolled-back"}),
            "pending": sum(1 for s in services if s["status"] in {"pending", "running"}),
            "by_phase": summarise("phase"),
            "by_priority": summarise("priority"),
            "by_migration": summarise("migration"),
            "failed_services": [
                {
                    "name": s["name"],
                    "reason": s["reason"],
                    "failing_tests": s["failing_tests"],
                    "log": s["log"],
                }
                for s in services
                if s["status"] in {"failed", "rolled-back"}
            ],
        },
    }


def _execution(r: dict[str, Any]) -> str:
    s = r["summary"]
    out = [
        f"# Execution report — run {r['run_id']}\n\n",
        f"Fleet: `{r['fleet']}` · status **{r['status']}** · "
        f"{s['succeeded']} of {s['services']} services migrated and verified, {s['failed']} failed and rolled back, "
        f"{s['pending']} not reached.\n\n## By phase\n\n| phase | total | passed | failed | not reached |\n|---|---|---|---|---|\n",
    ]
    out += [
        f"| {k} | {v['total']} | {v['passed']} | {v['failed']} | {v['pending']} |\n"
        for k, v in s["by_phase"].items()
    ]
    out.append(
        "\n## By migration\n\n| recipe | services | passed | failed | not reached |\n|---|---|---|---|---|\n"
    )
    out += [
        f"| {k} | {v['total']} | {v['passed']} | {v['failed']} | {v['pending']} |\n"
        for k, v in s["by_migration"].items()
    ]
    out.append(
        "\n## By priority\n\n| risk | services | passed | failed | not reached |\n|---|---|---|---|---|\n"
    )
    out += [
        f"| {k} | {v['total']} | {v['passed']} | {v['failed']} | {v['pending']} |\n"
        for k, v in s["by_priority"].items()
    ]
    out.append("\n## Services\n\n")
    for svc in r["services"]:
        mark = "✅" if svc["overall_success"] else ("⏸" if svc["status"] in {"pending", "running"} else "❌")
        recipes = ", ".join(m["recipe"] for m in svc["migrations"]) or "nothing to migrate"
        out.append(
            f"- {mark} **{svc['name']}** (phase {svc['phase']}, {svc['priority']}): {recipes} — {svc['status']}"
        )
        out.append(f". {svc['reason']}\n" if svc["reason"] else "\n")
    if s["failed_services"]:
        out.append("\n## Failed services\n\n")
        for f in s["failed_services"]:
            out.append(f"- **{f['name']}**: {f['reason']}\n")
            out += [f"  - `{t}`\n" for t in f["failing_tests"]]
    return "".join(out)


def _test_report(r: dict[str, Any]) -> str:
    out = [
        "# Test report — baseline (old pins) vs after (new pins)\n\n",
        "| service | kind | before: passed / failed / errors / skipped | after: passed / failed / errors / skipped | verdict |\n",
        "|---|---|---|---|---|\n",
    ]

    def cell(t: dict[str, Any] | None) -> str:
        if not t:
            return "—"
        if not t["installed"]:
            return f"not installed: {t['error']}"
        return f"{t['passed']} / {t['failed']} / {t['errors']} / {t['skipped']}" + (
            " (cached)" if t["cached"] else ""
        )

    for svc in r["services"]:
        kind = (svc["tests"]["after"] or svc["tests"]["before"] or {}).get("kind") or "—"
        verdict = "pass" if svc["overall_success"] else svc["status"]
        out.append(
            f"| {svc['name']} | {kind} | {cell(svc['tests']['before'])} | {cell(svc['tests']['after'])} | {verdict} |\n"
        )
    for svc in r["services"]:
        if svc["failing_tests"] or svc["pre_existing_failures"]:
            out.append(f"\n## {svc['name']}\n\n")
            out += [f"- regression: `{t}`\n" for t in svc["failing_tests"]]
            out += [
                f"- pre-existing (failing before and after, not blamed): `{t}`\n"
                for t in svc["pre_existing_failures"]
            ]
            if svc["log"]:
                out.append(f"- log: `{svc['log']}`\n")
    return "".join(out)


def _residual(r: dict[str, Any]) -> str:
    by_rule: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for svc in r["services"]:
        for f in svc["findings"]:
            by_rule[f["rule"]].append((svc["name"], f))
    total = sum(len(v) for v in by_rule.values())
    out = [f"# Residual work — what is left for a human\n\n{total} finding(s) in {len(by_rule)} rule(s).\n"]
    for rule, items in sorted(by_rule.items()):
        first = items[0][1]
        out.append(f"\n## `{rule}` ({len(items)})\n\n")
        if first.get("link"):
            out.append(f"Read: <{first['link']}>\n\n")
        for service, f in items:
            loc = f"{f['file']}:{f['line']}" if f.get("line") else f["file"]
            out.append(f"- `{loc}` ({service}): {f['message']}\n")
    return "".join(out)


def write_run_reports(run_dir: Path) -> list[Path]:
    """Write results.json, the three Markdown reports and report.html into the run folder; returns their paths."""
    results = build_results(run_dir)
    texts = {
        "results.json": json.dumps(results, indent=2) + "\n",
        "execution-report.md": _execution(results),
        "test-report.md": _test_report(results),
        "residual-work.md": _residual(results),
        "report.html": render(results),
    }
    paths = []
    for name, text in texts.items():
        path = run_dir / name
        replace_file(path, text)
        paths.append(path)
    return paths
