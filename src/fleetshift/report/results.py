"""Run results: `results.json` and the Markdown reports, built only from what the run folder holds.

The run folder (`.fleetshift/runs/<id>/`) has `state.db` (the journal's state), `verdicts/<service>.json` and
`findings/<service>.json`; the plan snapshot is in the state's meta. Reading files, not live objects,
lets `status`, `resume` and a crashed run all produce the same reports.

Every service carries its verdict state (`verdict`: passed / no-op / unverifiable / not-verified / failed /
skipped / pending) and a label that says it in words; "unverifiable" and "applied, not verified" are never
counted or shown as passed.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from fleetshift.fsutil import replace_files
from fleetshift.journal import read_state
from fleetshift.model import ServiceStatus, VerdictState
from fleetshift.report.changes import service_changes
from fleetshift.report.html import render, test_side

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


_PROVEN = {VerdictState.PASSED, VerdictState.NO_OP}
_UNPROVEN = {VerdictState.UNVERIFIABLE, VerdictState.NOT_VERIFIED}


def verdict_of(status: str, v: dict[str, Any]) -> tuple[str, str]:
    """A service's verdict state and its label, from its journal status and its verdict record."""
    status = ServiceStatus.of(status)
    if not status.done or (not v and status not in (ServiceStatus.SKIPPED, ServiceStatus.FAILED, ServiceStatus.ROLLED_BACK)):
        return "pending", "not reached" if status is ServiceStatus.PENDING else "running"
    state = v.get("state")
    if not state:  # a record written before verdict states
        state = "skipped" if v.get("skipped") else ("passed" if v.get("passed", True) else "failed")
        if status is ServiceStatus.NO_OP:
            state = "no-op"
    if status is ServiceStatus.ROLLED_BACK:
        return state, f"rolled back (its verdict was {state}; its phase went over the threshold, or a rollback command)"
    label = {
        "passed": "passed",
        "no-op": "no-op (nothing to migrate)",
        "not-verified": "applied, not verified",
        "failed": "failed, rolled back",
        "skipped": "skipped",
    }.get(state, state)
    if state == "unverifiable":
        label = "unverifiable, rolled back (not applied)" if v.get("rolled_back") else "unverifiable, kept (not proven)"
    if state == "passed" and v.get("not_covered"):
        files = list(v["not_covered"])
        label = "passed, not covered: " + ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
    return state, label


def _tests(run: dict[str, Any] | None) -> dict[str, Any] | None:
    if not run:
        return None
    counts: dict[str, int] = defaultdict(int)
    for o in run.get("outcomes", []):
        counts[o["status"]] += 1
    return {
        "kind": run.get("kind"),
        "state": run.get("state", "ran"),
        "command": run.get("command", ""),
        "python": run.get("python", ""),
        "sources": run.get("sources", []),
        "installed": run.get("installed"),
        "passed": counts["passed"],
        "failed": counts["failed"],
        "errors": counts["error"],
        "skipped": counts["skipped"],
        "duration": round(run.get("duration", 0.0), 2),
        "log": run.get("log", ""),
        "cached": run.get("cached", False),
        "error": run.get("error", ""),
        "api_check": _api(run.get("api")),
        "node": run.get("node", ""),  # where it ran with a cluster executor ("": the conductor's machine)
    }


def _api(api: dict[str, Any] | None) -> dict[str, Any] | None:
    """The API check of one side: what ran, on which files, against which packages, and what it found."""
    if not api:
        return None
    return {
        "checker": api.get("checker", ""),
        "files": api.get("files", []),
        "packages": api.get("packages", []),
        "diagnostics": len(api.get("diagnostics", [])),
        "error": api.get("error", ""),
        "log": api.get("log", ""),
        "duration": round(api.get("duration", 0.0), 2),
    }


def _where(d: dict[str, Any]) -> dict[str, Any]:
    return {**d, "where": f"{d.get('file', '')}:{d.get('line', 0)}"}


def build_results(run_dir: Path, state: dict[str, Any] | None = None) -> dict[str, Any]:
    """The results record of a run, per service and summarised by phase, priority and migration (`state`: the
    run's state, read here when not given)."""
    state = state if state is not None else read_state(run_dir)
    meta = state.get("meta", {})
    plan: dict[str, dict[str, Any]] = meta.get("plan", {})
    verdicts = _load_dir(run_dir / "verdicts")
    findings = _load_dir(run_dir / "findings")
    services = []
    names = list(plan) or list(state["services"])
    for name in sorted(names, key=lambda n: plan.get(n, {}).get("order", 0)):
        info = plan.get(name, {})
        svc_state = state["services"].get(name, {})
        status = ServiceStatus.of(svc_state.get("status"))
        v = verdicts.get(name, {})
        planned = list(info.get("recipes", [])) or list(v.get("recipes", []))
        applied = set(v.get("applied") or v.get("recipes") or planned)  # a recipe the Python floor blocked is not
        recipes = planned + [r for r in v.get("recipes", []) if r not in planned]
        verdict, label = verdict_of(status, v)
        ok = status.proven and verdict in _PROVEN
        after_run = v.get("after") or {}
        outcomes_after = {o["id"]: o["status"] for o in after_run.get("outcomes", [])}
        renamed = [{"before": old, "after": new, "outcome": outcomes_after.get(new, "")} for old, new in v.get("renamed", [])]
        services.append(
            {
                "name": name,
                "path": info.get("path", ""),
                "phase": info.get("phase", ""),
                "priority": info.get("risk", ""),
                "order": info.get("order", 0),
                "batch": info.get("batch", 1),
                "depends_on": list(info.get("depends_on", [])),
                "status": status,
                "verdict": verdict,
                "verdict_label": label,
                "kept": status.kept,
                "migrations": [
                    {"recipe": r, "success": ok and status is ServiceStatus.PASSED and r in applied} for r in recipes
                ],
                "files_changed": v.get("files", []),
                "tests": {"before": _tests(v.get("baseline")), "after": _tests(v.get("after"))},
                "failing_tests": v.get("regressions", []),
                "api_regressions": [_where(d) for d in v.get("api_regressions", [])],
                "not_covered": v.get("not_covered", []) if verdict == "passed" else [],
                "could_not_run": [{"test": t, "would_exercise": files} for t, files in v.get("unreached", [])],
                "imports_after": [
                    {"module": o["id"].removeprefix("import:"), "status": o["status"]}
                    for o in after_run.get("imports", [])
                ],
                "pre_existing_failures": v.get("pre_existing", []),
                "renamed_tests": renamed,
                "missing_tests": v.get("missing", []),
                "health": v.get("health"),
                "node": after_run.get("node") or (v.get("baseline") or {}).get("node", ""),
                "findings": findings.get(name, []),
                "rolled_back": bool(v.get("rolled_back")) or status is ServiceStatus.ROLLED_BACK,
                "reason": v.get("reason", ""),
                "log": v.get("log", ""),
                "steps": svc_state.get("steps", {}),
                "overall_success": ok,
            }
        )

    def summarise(key: str) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = defaultdict(
            lambda: {"total": 0, "passed": 0, "unproven": 0, "failed": 0, "pending": 0}
        )
        for s in services:
            groups = [m["recipe"] for m in s["migrations"]] if key == "migration" else [s[key] or "-"]
            for g in groups:
                out[g]["total"] += 1
                status = ServiceStatus.of(s["status"])
                if not status.done or status is ServiceStatus.SKIPPED:
                    bucket = "pending"
                elif s["overall_success"]:
                    bucket = "passed"
                elif s["verdict"] in _UNPROVEN and status is not ServiceStatus.ROLLED_BACK:
                    bucket = "unproven"
                else:
                    bucket = "failed"
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
            "failed": sum(1 for s in services if ServiceStatus.of(s["status"]).broke),
            "unverifiable": sum(1 for s in services if s["verdict"] == "unverifiable"),
            "kept_unverified": sum(1 for s in services if s["verdict"] == "unverifiable" and s["kept"]),
            "not_verified": sum(1 for s in services if s["verdict"] == "not-verified" and s["kept"]),
            "pending": sum(1 for s in services if not ServiceStatus.of(s["status"]).done),
            "by_verdict": dict(sorted(_count(s["verdict"] for s in services).items())),
            "by_phase": summarise("phase"),
            "by_priority": summarise("priority"),
            "by_migration": summarise("migration"),
            "failed_services": [
                {
                    "name": s["name"],
                    "reason": s["reason"],
                    "failing_tests": s["failing_tests"],
                    "api_regressions": [d["where"] for d in s["api_regressions"]],
                    "log": s["log"],
                }
                for s in services
                if ServiceStatus.of(s["status"]).broke
            ],
            "not_covered_services": [
                {"name": s["name"], "label": s["verdict_label"], "not_covered": s["not_covered"],
                 "could_not_run": s["could_not_run"]}
                for s in services
                if s["not_covered"]
            ],
            "unproven_services": [
                {
                    "name": s["name"],
                    "verdict": s["verdict"],
                    "label": s["verdict_label"],
                    "kept": s["kept"],
                    "reason": s["reason"],
                    "log": s["log"],
                }
                for s in services
                if s["verdict"] in _UNPROVEN
            ],
        },
    }


def _count(values: Any) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for v in values:
        out[v] += 1
    return dict(out)


def headline(s: dict[str, Any]) -> str:
    """The summary sentence every report opens with: proven, unproven (by kind), failed, not reached."""
    parts = [f"{s['succeeded']} of {s['services']} services passed (proven by their tests, or nothing to migrate)"]
    not_covered = s.get("not_covered_services", [])
    if not_covered:
        names = ", ".join(n["name"] for n in not_covered)
        parts[0] += f" — {len(not_covered)} of them passed, not covered (no test that ran imports migrated files): {names}"
    if s["unverifiable"]:
        parts.append(
            f"{s['unverifiable']} unverifiable (the baseline could not run: {s['kept_unverified']} kept unproven, "
            f"{s['unverifiable'] - s['kept_unverified']} not applied)"
        )
    if s["not_verified"]:
        parts.append(f"{s['not_verified']} applied, not verified (--no-verify)")
    parts.append(f"{s['failed']} failed and rolled back")
    parts.append(f"{s['pending']} not reached")
    return ", ".join(parts) + "."


def _execution(r: dict[str, Any]) -> str:
    s = r["summary"]
    out = [
        f"# Execution report — run {r['run_id']}\n\n",
        f"Fleet: `{r['fleet']}` · status **{r['status']}** · {headline(s)}\n\n",
    ]
    head = "| passed | unverifiable or not verified | failed | not reached |\n|---|---|---|---|---|---|\n"
    for title, col, key in (("By phase", "phase", "by_phase"), ("By migration", "recipe", "by_migration"),
                            ("By priority", "risk", "by_priority")):  # fmt: skip
        out.append(f"## {title}\n\n| {col} | services {head}")
        out += [
            f"| {k} | {v['total']} | {v['passed']} | {v['unproven']} | {v['failed']} | {v['pending']} |\n"
            for k, v in s[key].items()
        ]
        out.append("\n")
    out.append("## Services\n\n")
    for svc in r["services"]:
        mark = "⚠️" if svc.get("not_covered") else _MARK.get(svc["verdict"], "❌")
        recipes = ", ".join(m["recipe"] for m in svc["migrations"]) or "nothing to migrate"
        out.append(
            f"- {mark} **{svc['name']}** (phase {svc['phase']}, {svc['priority']}): {recipes} — "
            f"**{svc['verdict_label']}**"
        )
        out.append(f". {svc['reason']}\n" if svc["reason"] else "\n")
    if s["unproven_services"]:
        out.append("\n## Not proven by their tests\n\n")
        for u in s["unproven_services"]:
            log = f" Log: `{u['log']}`" if u["log"] and u["log"] not in u["reason"] else ""
            out.append(f"- **{u['name']}** — {u['label']}: {u['reason']}{log}\n")
    if s.get("not_covered_services"):
        out.append("\n## Passed, not covered: no test that ran imports these migrated files\n\n")
        for n in s["not_covered_services"]:
            out.append(f"- **{n['name']}** — {', '.join(f'`{f}`' for f in n['not_covered'])}\n")
            out += [f"  - could not run on either side: `{c['test']}` would exercise {', '.join(c['would_exercise'])}\n"
                    for c in n["could_not_run"]]  # fmt: skip
    if s["failed_services"]:
        out.append("\n## Failed services\n\n")
        for f in s["failed_services"]:
            out.append(f"- **{f['name']}**: {f['reason']}\n")
            out += [f"  - `{t}`\n" for t in f["failing_tests"]]
            out += [f"  - API: `{w}`\n" for w in f.get("api_regressions", [])]
    return "".join(out)


_MARK = {"passed": "✅", "no-op": "✅", "pending": "⏸", "skipped": "⏭", "unverifiable": "⚠️", "not-verified": "⚠️"}


def _cell(t: dict[str, Any] | None) -> str:
    """One side of a test comparison: counts when it ran, else its run state and error."""
    cell = test_side(t, lambda t: f"{t['passed']} / {t['failed']} / {t['errors']} / {t['skipped']}")
    return cell + (" (cached)" if t and t["installed"] and t["cached"] else "")


def _test_report(r: dict[str, Any]) -> str:
    out = [
        "# Test report — baseline (old pins) vs after (new pins)\n\n",
        "A side that did not run (usage error, import error, collection errors, no tests, install failure, "
        "timeout) is no evidence: a service whose baseline did not run is **unverifiable**, never passed.\n\n",
        "| service | kind | before: passed / failed / errors / skipped | after: passed / failed / errors / skipped | verdict |\n",
        "|---|---|---|---|---|\n",
    ]
    for svc in r["services"]:
        kind = (svc["tests"]["after"] or svc["tests"]["before"] or {}).get("kind") or "—"
        out.append(
            f"| {svc['name']} | {kind} | {_cell(svc['tests']['before'])} | {_cell(svc['tests']['after'])} "
            f"| {svc['verdict_label']} |\n"
        )
    for svc in r["services"]:
        unproven = svc["verdict"] in _UNPROVEN
        if not (svc["failing_tests"] or svc["pre_existing_failures"] or svc["renamed_tests"] or unproven
                or svc["missing_tests"] or svc.get("api_regressions") or svc.get("not_covered")
                or svc.get("could_not_run")):  # fmt: skip
            continue
        out.append(f"\n## {svc['name']} — {svc['verdict_label']}\n\n")
        if unproven:
            out.append(f"- why: {svc['reason']}\n")
        for side in ("before", "after"):
            t = svc["tests"][side]
            if t and t.get("command"):
                py = f" on Python {t['python']}" if t.get("python") else ""
                out.append(f"- {side}: `{t['command']}`{py} [{t.get('state', 'ran')}]; log: `{t['log']}`\n")
        out += [f"- regression: `{t}`\n" for t in svc["failing_tests"]]
        out += [
            f"- API regression (the tests do not reach it): `{d['where']}` {d['message']} [{d['code']}]\n"
            for d in svc.get("api_regressions", [])
        ]
        out += [f"- not covered (no test that ran imports it): `{f}`\n" for f in svc.get("not_covered", [])]
        out += [
            f"- could not run on either side: `{c['test']}`, would have exercised {', '.join(c['would_exercise'])}\n"
            for c in svc.get("could_not_run", [])
        ]
        out += [
            f"- pre-existing (failing before and after, not blamed): `{t}`\n"
            for t in svc["pre_existing_failures"]
        ]
        out += [
            f"- renamed (parametrize id changed): `{t['before']}` → `{t['after']}`, now {t['outcome']}\n"
            for t in svc["renamed_tests"]
        ]
        out += [f"- passed before and did not run after: `{t}`\n" for t in svc["missing_tests"]]
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
    unproven = r["summary"]["unproven_services"]
    if unproven:
        out.append("\n## Services no test proves\n\n")
        for u in unproven:
            todo = ("kept without proof: verify it by hand, or make its tests run and run again" if u["kept"]
                    else "not applied: make its tests run on the old pins (see the log), then run again")  # fmt: skip
            log = f" Log: `{u['log']}`" if u["log"] and u["log"] not in u["reason"] else ""
            out.append(f"- **{u['name']}** — {u['label']}: {todo}. {u['reason']}{log}\n")
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
    """Write results.json, the three Markdown reports and report.html into the run folder; returns their paths.
    The run's state is read once for all of them; all but report.html are made while a forked process makes part
    of the diffs (`service_changes(meanwhile=...)`); the files are written as `replace_file` writes one, their
    fsyncs side by side and the folder's once (the reports end a run: nothing else runs beside them)."""
    state = read_state(run_dir)
    made: dict[str, Any] = {}

    def pages() -> None:
        results = made["results"] = build_results(run_dir, state)
        made["texts"] = {
            "results.json": json.dumps(results, indent=2) + "\n",
            "execution-report.md": _execution(results),
            "test-report.md": _test_report(results),
            "residual-work.md": _residual(results),
        }

    changes = service_changes(run_dir, state, meanwhile=pages)
    texts = {**made["texts"], "report.html": render(made["results"], changes, run_dir.resolve())}
    return replace_files(run_dir, texts)
