"""Hooks: user commands and plugins run at named points of a campaign.

From the config (`[hooks] build = "docker compose build $FLEETSHIFT_SERVICE"`): shell commands run with
`FLEETSHIFT_*` variables in their environment, output captured under the run folder. From Python: entry
points in the `fleetshift.hooks` group naming a callable `hook(point: str, context: dict[str, str])`; it
fails by returning False or raising.

A failing before-hook skips what it guards (the service, the phase, the run); a failing after-hook
rolls the service back. `on_failure` and `on_rollback` are informational.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

from fleetshift.config import HOOK_POINTS
from fleetshift.proc import run_logged

ENTRY_POINT_GROUP = "fleetshift.hooks"
HookFn = Callable[[str, dict[str, str]], object]


@dataclass(frozen=True)
class HookResult:
    """How the hooks of one point went: ok, and a one-line reason when not."""

    ok: bool
    detail: str = ""
    ran: int = 0


def _plugins() -> list[tuple[str, HookFn]]:
    found = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.append((f"{ep.name} ({ep.value})", ep.load()))
    return found


class Hooks:
    """Runs the configured commands and plugin hooks for each point, with the campaign's context."""

    def __init__(self, commands: Mapping[str, tuple[str, ...]], log_dir: Path, base_env: Mapping[str, str], timeout: float = 600.0,
                 plugins: list[tuple[str, HookFn]] | None = None) -> None:
        self.commands = commands
        self.log_dir = log_dir
        self.base_env = dict(base_env)
        self.timeout = timeout
        self.plugins = _plugins() if plugins is None else plugins

    def has(self, point: str) -> bool:
        return bool(self.commands.get(point)) or bool(self.plugins)

    def run(self, point: str, *, cwd: Path | None = None, **context: str) -> HookResult:
        """Run every hook of `point`; stops at the first failure."""
        if point not in HOOK_POINTS:
            raise ValueError(f"unknown hook point {point!r}")
        env_vars = {**self.base_env, "FLEETSHIFT_POINT": point}
        env_vars.update({f"FLEETSHIFT_{k.upper()}": str(v) for k, v in context.items() if v is not None})
        ran = 0
        for name, fn in self.plugins:
            ran += 1
            try:
                result = fn(point, dict(env_vars))
            except Exception as exc:
                return HookResult(False, f"{point} hook {name} raised {exc!r}", ran)
            if result is False:
                return HookResult(False, f"{point} hook {name} returned False", ran)
        for command in self.commands.get(point, ()):
            ran += 1
            self.log_dir.mkdir(parents=True, exist_ok=True)
            who = context.get("service") or "run"
            log = self.log_dir / f"{point}-{who}-{int(time.time() * 1000)}.log"
            with log.open("w", encoding="utf-8", errors="replace") as fh:
                code, timed_out = run_logged(command, cwd or Path.cwd(), {**os.environ, **env_vars}, fh, self.timeout)
            if timed_out:
                return HookResult(False, f"{point} hook `{command}` timed out after {self.timeout:g} s (log: {log})", ran)
            if code != 0:
                return HookResult(False, f"{point} hook `{command}` exited {code} (log: {log})", ran)
        return HookResult(True, "", ran)
