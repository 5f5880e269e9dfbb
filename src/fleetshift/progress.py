"""Progress of a run: a live rich view on a terminal, plain lines otherwise; `status` reads the same state."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from fleetshift.model import RunStatus, ServiceStatus, StepStatus

S = ServiceStatus
STATUS_STYLE = {S.PASSED: "green", S.NO_OP: "green", S.FAILED: "red", S.ROLLED_BACK: "red", S.RUNNING: "yellow",
                S.SKIPPED: "magenta", S.UNVERIFIABLE: "bold yellow", S.KEPT_UNVERIFIED: "bold yellow",
                S.NOT_VERIFIED: "bold yellow"}
# How the table shows a journal status: "unverifiable" and "not verified" never read as passed.
STATUS_TEXT = {S.UNVERIFIABLE: "unverifiable (not applied)", S.KEPT_UNVERIFIED: "unverifiable (kept)",
               S.NOT_VERIFIED: "applied, not verified"}


def state_table(state: dict[str, Any], now: float | None = None) -> Group:
    """A table of every planned service of a run state, with per-phase counts, elapsed time and ETA."""
    plan: dict[str, dict[str, Any]] = state.get("meta", {}).get("plan", {})
    services = state.get("services", {})
    table = Table(title=f"run {state.get('run_id')} — {state.get('status')}", title_justify="left")
    for col in ("phase", "service", "status", "step", "detail"):
        table.add_column(col)
    counts: dict[str, dict[str, int]] = {}
    for name, info in sorted(plan.items(), key=lambda kv: kv[1].get("order", 0)):
        svc = services.get(name, {})
        status = ServiceStatus.of(svc.get("status"))
        steps = svc.get("steps", {})
        current = max(steps.items(), key=lambda kv: kv[1].get("updated", ""), default=(None, {}))
        step_name, step = current
        phase = info.get("phase", "?")
        c = counts.setdefault(phase, {"total": 0, "done": 0, "passed": 0, "unverifiable": 0, "not_verified": 0, "failed": 0,
                                         "rolled_back": 0})
        c["total"] += 1
        c["done"] += status.done
        c["passed"] += status.proven
        c["unverifiable"] += status in (S.UNVERIFIABLE, S.KEPT_UNVERIFIED)
        c["not_verified"] += status is S.NOT_VERIFIED
        c["failed"] += status.broke
        c["rolled_back"] += status.broke
        detail = (step or {}).get("detail", "")
        table.add_row(phase, name, Text(STATUS_TEXT.get(status, status), style=STATUS_STYLE.get(status, "")), f"{step_name or ''} {(step or {}).get('status', '')}".strip(),
                      detail if len(detail) < 90 else detail[:87] + "...")
    done = sum(c["done"] for c in counts.values())
    total = sum(c["total"] for c in counts.values())
    elapsed = _elapsed(state, now)
    eta = f", ETA {elapsed / done * (total - done):.0f}s" if done and done < total and state.get("status") == RunStatus.RUNNING else ""
    line = " · ".join(f"{p}: {c['done']}/{c['total']} done, {c['passed']} passed, "
                      + (f"{c['unverifiable']} unverifiable, " if c["unverifiable"] else "")
                      + (f"{c['not_verified']} applied not verified, " if c["not_verified"] else "")
                      + f"{c['failed']} failed" for p, c in sorted(counts.items()))
    return Group(table, Text(f"{line}\nelapsed {elapsed:.0f}s{eta}"))


def _elapsed(state: dict[str, Any], now: float | None) -> float:
    import datetime as dt

    try:
        start = dt.datetime.fromisoformat(state["created"]).timestamp()
    except (KeyError, ValueError):
        return 0.0
    return max(0.0, (now or time.time()) - start)


class RunProgress:
    """Receives the orchestrator's events; redraws a live table on a terminal, prints lines otherwise."""

    def __init__(self, console: Console, read_state: Any) -> None:
        self.console = console
        self.read_state = read_state
        self.live: Live | None = None
        self._drawn = 0.0

    def __enter__(self) -> RunProgress:
        if self.console.is_terminal:
            self.live = Live(state_table(self.read_state()), console=self.console, refresh_per_second=2, transient=False)
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live:
            self.live.update(state_table(self.read_state()))
            self.live.__exit__(None, None, None)

    def __call__(self, kind: str, **info: Any) -> None:
        if self.live:
            # Reading the whole run's state costs as much as the fleet is large: redraw at most twice a second,
            # not on every event, so a step's cost does not grow with the fleet.
            now = time.monotonic()
            if now - self._drawn >= 0.5:
                self._drawn = now
                self.live.update(state_table(self.read_state()))
            return
        stamp = time.strftime("%H:%M:%S")
        if kind == "phase":
            self.console.print(f"{stamp} phase {info['phase']}: {info['total']} service(s)")
        elif kind == "service":
            shown = STATUS_TEXT.get(info["status"], info["status"])
            detail = info.get("detail") or ""
            if detail and not detail.startswith(shown):  # a detail that opens with the status says it once
                shown = f"{shown}: {detail}"
            elif detail:
                shown = detail
            self.console.print(f"{stamp} {info['service']}: {shown}")
        elif kind == "step" and info.get("status") in (StepStatus.RUNNING, StepStatus.FAILED):
            self.console.print(f"{stamp} {info['service']}: {info['step']} {info['status']}"
                               + (f" on node {info['node']}" if info.get("node") else ""))
        elif kind == "step" and info.get("node"):
            self.console.print(f"{stamp} {info['service']}: {info['step']} {info['status']} on node {info['node']}")
        elif kind == "threshold":
            self.console.print(f"{stamp} phase {info['phase']}: {info['failed']} of {info['total']} failed, over the threshold")


def watch_run(console: Console, read_state: Any, interval: float = 1.0, alive: Any = None,
              gone: str = "") -> bool:
    """Follow a run from another shell until it stops: a live table on a terminal, changed summaries otherwise.

    `alive()` says whether the run's process still works on the fleet (its lock is held): a run whose state still
    says running while nothing holds the lock was killed, and watching ends with `gone` printed. Returns whether
    the run ended on its own."""

    def running() -> bool:
        return read_state()["status"] == RunStatus.RUNNING

    def dead() -> bool:
        return alive is not None and running() and not alive()

    if console.is_terminal:
        with Live(state_table(read_state()), console=console, refresh_per_second=1) as live:
            while running() and not dead():
                time.sleep(interval)
                live.update(state_table(read_state()))
            live.update(state_table(read_state()))
    else:
        last = ""
        while True:
            state = read_state()
            summary = state_table(state).renderables[-1]
            text = summary.plain if isinstance(summary, Text) else str(summary)
            if text != last:
                console.print(text)
                last = text
            if state["status"] != RunStatus.RUNNING or dead():
                break
            time.sleep(interval * 2)
    if dead():
        console.print(gone or "the run stopped without finishing: its process is gone")
        return False
    return True
