"""pytest 8.x -> 9.x: py.path hook arguments, keyword-only parametrize options, removed warnings, config.

Removals land in 9.0 (errors) and 9.1 (gone); 9.2 adds keyword-only `parametrize` options. Only what is
certainly safe is rewritten; the rest becomes a Finding with file:line and the changelog link.

Layout: `rules` (one module per rule: its data, its `check` on `ast`, its LibCST `Fix`, its config hooks),
`facts` (the frozen record of one module every rule reads), `syntax` (LibCST helpers the fixes share),
`rewrite` (one walk applying the active rules' fixes).

A rule module may define `check(facts)` (sites in a Python file; a human rule's sites are also what the run
reports), `Fix` (its rewrite), `check_config(path, text)` and `fix_config(path, text)` (config files: sites,
and the new text with findings), and `check_service(files, root)` (findings across a service's files).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import ClassVar

from fleetshift.model import Finding, UsageSite
from fleetshift.recipes.base import (
    ConfigFile,
    FileKind,
    Recipe,
    RewriteContext,
    RewriteResult,
    ServiceRewrite,
    SourceFile,
)
from fleetshift.recipes.pytest9.facts import facts_of
from fleetshift.recipes.pytest9.rules import (
    CHANGELOG,
    CUSTOMIZE,
    DEPRECATIONS,
    HOOK_ARGS,
    PARAMETRIZE_KW,
    PATH_ATTRS,
    PATH_METHODS,
    PATH_SAFE_CALLS,
    PY310,
    PY_PATH,
    RULES,
    WIDE,
)
from fleetshift.recipes.pytest_asyncio import PYTEST_VERSIONS


class PytestRecipe(Recipe):
    """pytest 8.x -> 9.x."""

    id = "pytest"
    title = "pytest 8 -> 9"
    package = "pytest"
    migrates_from = "<9"
    migrates_to = ">=9.0.2,<10"
    known_versions = PYTEST_VERSIONS
    tokens = (
        b"pytest_", b"from_parent", b"importorskip", b"PytestRemovedIn9Warning", b"yield_fixture", b"parametrize",
        b"fixture", b"inicfg", b"console_main", b"def test",
    )  # fmt: skip
    config_tokens = (b"pytest",)
    rules_package = "fleetshift.recipes.pytest9.rules"
    requires: ClassVar[Mapping[str, str]] = {"pytest-asyncio": ">=1.3.0"}
    order = 20
    risk_weight = 1.0
    sparse = True
    file_level = True
    docs = f"{CHANGELOG} {DEPRECATIONS}"

    # -- detection --

    def detect(self, src: SourceFile, files: Mapping[str, str] | None = None) -> Iterable[UsageSite]:
        return self.rule_sites(src, facts_of(src.path, src.tree, files=files, text=src.text))

    def detect_service(self, sources: Sequence[SourceFile], files: Mapping[str, str]) -> Iterable[UsageSite]:
        """The sites of each file with the service's modules known (what a file imports from them), as in the run."""
        for src in sources:
            yield from self.detect_file(src, files)

    def detect_file(self, src: SourceFile, files: Mapping[str, str]) -> Iterable[UsageSite]:
        """One file's sites: what it reads of `files` is the modules it imports (`parametrize-generator`)."""
        return self.detect(src, files)

    def detect_config(self, cfg: ConfigFile) -> Iterable[UsageSite]:
        return self.rule_sites(cfg, cfg.path, cfg.text, hook="check_config")

    # -- rewriting --

    def slugs(self, ctx: RewriteContext | None) -> frozenset[str]:
        """The slugs of the rules that act on a service (every rule without a context)."""
        ids = {r.id for r in self.rules} if ctx is None else self.active_rules(ctx)
        return frozenset(i.split("/", 1)[1] for i in ids)

    def rewrite_python(self, path: str, text: str, kind: FileKind, ctx: RewriteContext) -> RewriteResult:
        return RewriteResult(*self.rewrite_module(path, text, ctx))

    def rewrite_config(self, cfg: ConfigFile, ctx: RewriteContext) -> RewriteResult:
        return RewriteResult(*self.rewrite_config_text(cfg.path, cfg.text, ctx))

    def finish(self, ctx: RewriteContext, prepared: object, out: ServiceRewrite) -> None:
        files = {**ctx.files, **out.texts}
        for m, check in self.hooks("check_service", self.slugs(ctx)):
            for path, line, message in check(files, ctx.service.path):
                out.findings.append(self.finding(path, line, m.rule.id, message))

    def rewrite_module(
        self, path: str, text: str, ctx: RewriteContext | None = None
    ) -> tuple[str, list[Finding]]:
        """Rewrite one Python file (the context's files tell the rules what the modules it imports hold);
        returns the new text and findings."""
        from fleetshift.recipes.pytest9.rewrite import rewrite_file

        return rewrite_file(self, path, text, self.slugs(ctx), ctx.files if ctx is not None else None)

    def rewrite_config_text(
        self, path: str, text: str, ctx: RewriteContext | None = None
    ) -> tuple[str, list[Finding]]:
        """Rewrite one config file with each active rule's `fix_config`; report what `check_config` still
        finds in the new text."""
        active = self.slugs(ctx)
        findings: list[Finding] = []
        for m, fix in self.hooks("fix_config", active):
            text, found = fix(path, text)
            findings.extend(self.finding(path, line, m.rule.id, message) for line, message in found)
        for m, check in self.hooks("check_config", active):
            findings.extend(self.finding(path, line, m.rule.id) for line, _ in check(path, text))
        return text, findings


RECIPE = PytestRecipe()

__all__ = [
    "CHANGELOG",
    "CUSTOMIZE",
    "DEPRECATIONS",
    "HOOK_ARGS",
    "PARAMETRIZE_KW",
    "PATH_ATTRS",
    "PATH_METHODS",
    "PATH_SAFE_CALLS",
    "PY310",
    "PY_PATH",
    "RECIPE",
    "RULES",
    "WIDE",
    "PytestRecipe",
]
