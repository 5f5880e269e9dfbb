"""The starter fleetshift.toml `fleetshift init` writes: patterns that match the services discovery found,
the recipes' default targets for the libraries in use, and a comment on every key.

The text is checked before it is returned: it must load as a config, and its patterns must discover the
same services (else the services are listed by folder, which always does).
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from fleetshift.config import CONFIG_NAME, default_targets, parse_config
from fleetshift.model import Fleet, Inventory, Service
from fleetshift.recipes import all_recipes
from fleetshift.report.planning import locks_summary, python_summary, test_summary


@dataclass(frozen=True)
class Starter:
    """The config text, and what it decided: the service patterns and the packages given a target."""

    text: str
    patterns: tuple[str, ...]
    targets: tuple[str, ...]  # packages with a target line; empty when nothing migratable is in use


def service_key(service: Service) -> str:
    """How the config addresses a service: its name when that is its folder's name, else its folder
    ("." for the fleet root)."""
    if service.path and service.name == service.path.rsplit("/", 1)[-1]:
        return service.name
    return service.path or "."


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _patterns(fleet: Fleet) -> list[str]:
    out: list[str] = []
    for s in fleet.services:
        pattern = "." if not s.path else (s.path.rsplit("/", 1)[0] + "/*" if "/" in s.path else s.path)
        if pattern not in out:
            out.append(pattern)
    return out


def _explicit(fleet: Fleet) -> list[str]:
    return [s.path or "." for s in fleet.services]


def _used_targets(fleet: Fleet, inventory: Inventory | None) -> list[str]:
    """Packages (by their target name) that a recipe migrates and some service pins, or uses in its code."""
    pinned = {p.package for s in fleet.services for p in s.pins}
    used_recipes = {x.recipe for s in (inventory.services if inventory else ()) for x in s.sites if x.file.endswith(".py")}
    return [r.package for r in all_recipes()
            if r.id in used_recipes or r.package in pinned or (r.replaces and r.replaces in pinned)]


def _fleet_block(patterns: list[str]) -> list[str]:
    return [
        "[fleet]",
        "# Folders that are services, relative to this file (\".\" is this folder itself; globs like \"services/*\").",
        "# Documentation, examples, benchmarks and test fixtures are left out unless a pattern names them.",
        "services = [" + ", ".join(json.dumps(p) for p in patterns) + "]",
        "# Folders to leave out (with everything below them), e.g. [\"services/legacy-*\"].",
        "exclude = []",
        "# Services that run last, one at a time, each after approval (phase D), e.g. [\"billing\"].",
        "critical = []",
        "# How many services of a phase are verified in one batch.",
        "batch_size = 5",
        "# Share of failed services in a phase that rolls the phase back and stops the run.",
        'failure_threshold = "20%"',
        "# Seconds one step (an install, a test run) of a service may take.",
        "step_timeout = 300",
        "# Python floor policy when a target needs a newer Python than a service declares: \"raise\" moves the",
        "# declared floor everywhere it is written; \"keep\" stays on target releases that support it.",
        "# Unset: raise for applications, keep for published libraries.",
        '# python_floor = "keep"',
        "# Keep the change of a service whose baseline tests could not run (then reported as unverified).",
        "keep_unverified = false",
    ]


def _target_block(used: list[str]) -> list[str]:
    targets = default_targets()
    recipes = {r.package: r for r in all_recipes()}
    lines: list[str] = []

    def line(name: str) -> str:
        t = targets[name]
        value = json.dumps(t.spec) if not t.replaces else f'{{ spec = {json.dumps(t.spec)}, replaces = "{t.replaces}" }}'
        return f"{name} = {value}  # {recipes[name].title} (recipe {recipes[name].id})"

    if used:
        lines += [
            "# Where each migrated package should end up (PEP 440 specifiers): the recipes' own targets, for the",
            "# libraries these services use. Any other package may be added as an explicit move.",
            "[targets]",
        ]
        lines += [line(name) for name in used]
        rest = [name for name in targets if name not in used]
        if rest:
            lines.append("# Not in use here; uncomment to migrate it too:")
            lines += ["# " + line(name) for name in rest]
    else:
        lines += [
            "# No service uses a library a recipe migrates, so nothing is targeted. Without a [targets] table every",
            "# recipe's own target applies; to choose, uncomment the table and keep the lines you want.",
            "# [targets]",
        ]
        lines += ["# " + line(name) for name in targets]
    return lines


def _service_blocks(fleet: Fleet) -> list[str]:
    first = service_key(fleet.services[0])
    lines = [
        "# Settings of one service, under [services.<name or folder>] (\".\" is the fleet root). Every key is",
        "# optional; uncomment what you need. What discovery found is shown for each service below.",
        f"# [services.{_toml_key(first)}]",
        '# test_command = "pytest -x tests"     # how its tests run (default: what tox, hatch, CI or a Makefile say, else python -m pytest)',
        '# python = "3.12"                      # the Python both test environments use',
        '# python_floor = "keep"                # "raise" or "keep" for this service (see [fleet])',
        '# groups = ["test"]                    # Poetry / PEP 735 groups to install (default: main + test/tests/testing/dev)',
        '# extras = ["test"]                    # extras to install (default: those named test/tests/testing/dev)',
        "# keep_unverified = false              # keep its change when its baseline could not run",
        "# timeout = 600                        # seconds per step for this service",
        '# env = { DATABASE_URL = "sqlite://" } # extra environment variables for its commands',
        '# health = { start = "uvicorn app:app --port {port}", url = "http://127.0.0.1:{port}/health", timeout = 30 }',
        "# critical = true                      # run last, one at a time, after approval",
        '# phase = "C"                          # force its phase (A-D)',
        "# skip = true                          # leave it out of the campaign",
    ]
    for s in fleet.services:
        p = s.project
        lines += [
            "",
            f"# [services.{_toml_key(service_key(s))}]  # {s.name}: {p.kind.value}, Python {python_summary(p.pythons)}, "
            f"locks: {locks_summary(p, commands=True)}",
            f"# test_command = {json.dumps(p.test_command.command)}  # found: {test_summary(p)}",
        ]
    return lines


def starter_config(root: Path, fleet: Fleet, inventory: Inventory | None) -> Starter:
    """The starter config for a discovered fleet (which must have services)."""
    from fleetshift.discover import discover

    used = _used_targets(fleet, inventory)
    wanted = sorted(s.path for s in fleet.services)
    for patterns in (_patterns(fleet), _explicit(fleet)):
        lines = [
            "# fleetshift campaign configuration, written by `fleetshift init` from what it found here.",
            "# Every key is optional; `fleetshift --help` and the README explain them.",
            "",
            *_fleet_block(patterns),
            "",
            *_target_block(used),
            "",
            "# Shell commands run at named points of a run (before_service, build, after_verify, on_failure, ...):",
            "# [hooks]",
            '# build = "docker compose build $FLEETSHIFT_SERVICE"',
            "",
            *_service_blocks(fleet),
        ]
        text = "\n".join(lines) + "\n"
        config = parse_config(root, tomllib.loads(text), str(root / CONFIG_NAME))
        if sorted(s.path for s in discover(root, config).services) == wanted:
            break
    return Starter(text, tuple(patterns), tuple(used))
