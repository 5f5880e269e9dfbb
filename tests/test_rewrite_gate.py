"""The LibCST gate changes nothing: a file skipped because no active rule's `check` reported a site in it (and no
active rule declares `every_file`) is one LibCST would have left as it was, with the same findings.

Every recipe's rewrite runs twice, gated and ungated (`base.LIBCST_GATE`), over the demo fleet, every project
under tests/projects and every case of the recipes' CASES lists; the texts and findings must be identical.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

from fleetshift.config import load_config
from fleetshift.discover import discover
from fleetshift.model import Finding, Service
from fleetshift.recipes import all_recipes, base, get
from fleetshift.recipes.base import RewriteContext
from fleetshift.scancache import ScanCache
from fleetshift.textio import UnreadableFile, decode_python, decode_text

ROOT = Path(__file__).resolve().parent.parent
FLEETS = [ROOT / "examples" / "homeiq", *sorted(p for p in (ROOT / "tests" / "projects").iterdir() if p.is_dir())]
RECIPES = [r.id for r in sorted(all_recipes(), key=lambda r: r.order)]


def _chain(service: Service, files: Mapping[str, str], targets: Mapping[str, str],
           gated: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, str], list[Finding]]:
    """Every recipe in chain order over the service's files, as the run chains them."""
    monkeypatch.setattr(base, "LIBCST_GATE", gated)
    return run_chain(service, files, targets)


def run_chain(service: Service, files: Mapping[str, str],
              targets: Mapping[str, str]) -> tuple[dict[str, str], list[Finding]]:
    """Every recipe in chain order over the service's files, as the run chains them."""
    texts, findings = dict(files), []
    for rid in RECIPES:
        out = get(rid).migrate(RewriteContext(service=service, targets=targets, files=dict(texts)))
        texts.update(out.texts)
        findings += out.findings
    return texts, findings


def _files(root: Path, service: Service) -> dict[str, str]:
    out = {}
    for rel in (*service.python_files, *service.config_files):
        try:
            data = (root / rel).read_bytes()
            out[rel] = (decode_python(data) if rel.endswith(".py") else decode_text(data)).text
        except (OSError, UnreadableFile):
            continue
    return out


@pytest.mark.parametrize("fleet", FLEETS, ids=lambda p: p.name)
def test_gate_changes_nothing_on_fleets(fleet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(fleet)
    services = discover(fleet, config, ScanCache(fleet, enabled=False)).services
    assert services
    for service in services:
        files = _files(fleet, service)
        for targets in ({}, config.target_specs()):
            gated = _chain(service, files, targets, True, monkeypatch)
            ungated = _chain(service, files, targets, False, monkeypatch)
            assert gated == ungated, f"{fleet.name}/{service.name} with targets {targets}"


def _cases() -> list[tuple[str, object]]:
    sys.path.insert(0, str(ROOT / "tests" / "recipes"))
    from test_rule_cases import ALL

    return ALL


def test_gate_changes_nothing_on_cases(monkeypatch: pytest.MonkeyPatch) -> None:
    from recipe_harness import _ctx

    cases = _cases()
    assert cases
    for rid, case in cases:
        files = {case.path: textwrap.dedent(case.before),
                 **{p: textwrap.dedent(t) for p, t in dict(case.extra_files).items()}}
        results = []
        for gated in (True, False):
            monkeypatch.setattr(base, "LIBCST_GATE", gated)
            out = get(rid).migrate(_ctx(files, case.targets, False))
            results.append((out.texts, out.findings))
        assert results[0] == results[1], f"{rid}:{case.id()}"
