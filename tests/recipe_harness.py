"""Shared harness for recipe tests: before/after cases, no-op twins, parse and idempotence checks."""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Mapping

import libcst

from fleetshift.model import Finding, Service, UsageSite
from fleetshift.recipes import get
from fleetshift.recipes.base import ConfigFile, RewriteContext, SourceFile, config_kind, file_kind


def _ctx(files: Mapping[str, str], targets: Mapping[str, str] | None, todo_comments: bool) -> RewriteContext:
    service = Service(name="svc", path="svc", python_files=tuple(p for p in files if p.endswith(".py")))
    return RewriteContext(service=service, targets=dict(targets or {}), files=dict(files), todo_comments=todo_comments)


def rewrite_files(
    recipe_id: str,
    files: Mapping[str, str],
    targets: Mapping[str, str] | None = None,
    todo_comments: bool = False,
) -> tuple[dict[str, str], list[Finding]]:
    """Run one recipe's service rewrite over in-memory files; returns every file's new text."""
    recipe = get(recipe_id)
    files = {p: textwrap.dedent(t) if not t.startswith("\n") else textwrap.dedent(t[1:]) for p, t in files.items()}
    out = recipe.migrate(_ctx(files, targets, todo_comments))
    new = {**files, **out.texts}
    for path, text in new.items():
        if path.endswith(".py"):
            libcst.parse_module(text)  # every output must parse
    return new, out.findings


def rewrite(recipe_id: str, source: str, path: str = "svc/tests/test_x.py", **kw) -> tuple[str, list[Finding]]:
    files = {path: source, **kw.pop("extra_files", {})}
    new, findings = rewrite_files(recipe_id, files, **kw)
    return new[path], findings


def assert_rewrite(recipe_id: str, before: str, after: str, path: str = "svc/tests/test_x.py", **kw) -> list[Finding]:
    """The recipe turns `before` into `after`; a second application changes nothing more."""
    before, after = textwrap.dedent(before), textwrap.dedent(after)
    extra = kw.get("extra_files", {})
    got, findings = rewrite(recipe_id, before, path, **kw)
    assert got == after, f"--- got ---\n{got}\n--- expected ---\n{after}"
    kw2 = dict(kw)
    kw2["extra_files"] = extra
    again, _ = rewrite(recipe_id, got, path, **kw2)
    assert again == got, f"not idempotent; second pass gave:\n{again}"
    return findings


def assert_noop(recipe_id: str, source: str, path: str = "svc/tests/test_x.py", **kw) -> list[Finding]:
    """The recipe leaves `source` byte for byte as it is."""
    source = textwrap.dedent(source)
    got, findings = rewrite(recipe_id, source, path, **kw)
    assert got == source, f"expected no change, got:\n{got}"
    return findings


def detect(recipe_id: str, source: str, path: str = "svc/tests/test_x.py") -> list[UsageSite]:
    """Detection sites of one recipe in one Python or config file."""
    recipe = get(recipe_id)
    source = textwrap.dedent(source)
    if path.endswith(".py"):
        return list(recipe.detect(SourceFile(path, source, ast.parse(source), file_kind(path))))
    kind = config_kind(path)
    assert kind is not None, path
    return list(recipe.detect_config(ConfigFile(path, source, kind)))


def rules_of(items: list[UsageSite] | list[Finding]) -> set[str]:
    return {i.rule for i in items}
