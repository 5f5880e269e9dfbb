"""pytest 8.x -> 9.x: py.path hook arguments, keyword-only parametrize options, removed warnings, config.

Removals land in 9.0 (errors) and 9.1 (gone); 9.2 adds keyword-only `parametrize` options. Only what is
certainly safe is rewritten; the rest becomes a Finding with file:line and the changelog link.

Layout: `rules` (declared data), `detect` (ast), `state`/`hooks`/`fixtures`/`rewrite` (the LibCST file
rewriter: hook arguments, parametrize and fixtures, the rest), `config` (config files and service-wide checks).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import ClassVar

from fleetshift.model import Finding, UsageSite
from fleetshift.recipes.base import (
    ConfigFile,
    Recipe,
    RewriteContext,
    ServiceRewrite,
    SourceFile,
    config_kind,
)
from fleetshift.recipes.pytest9 import config as _config
from fleetshift.recipes.pytest9 import detect as _detect
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
    docs = f"{CHANGELOG} {DEPRECATIONS}"

    # -- detection --

    def detect(self, src: SourceFile) -> Iterable[UsageSite]:
        return _detect.sites(self, src)

    def detect_config(self, cfg: ConfigFile) -> Iterable[UsageSite]:
        for line, rule, detail in _config.config_issues(cfg.path, cfg.text):
            yield self.site(cfg, line, rule, detail)

    # -- rewriting --

    def rewrite_service(self, ctx: RewriteContext) -> ServiceRewrite:
        out = ServiceRewrite()
        for path, text in ctx.files.items():
            if path.endswith(".py"):
                if not any(t.decode() in text for t in self.tokens):
                    continue
                new, findings = self.rewrite_module(path, text)
            elif config_kind(path) is not None:
                new, findings = self.rewrite_config_text(path, text)
            else:
                continue
            if new != text:
                out.texts[path] = new
            out.findings.extend(findings)
        out.findings.extend(_config.service_findings(self, {**ctx.files, **out.texts}, ctx.service.path))
        return out

    def rewrite_module(self, path: str, text: str) -> tuple[str, list[Finding]]:
        """Rewrite one Python file; returns the new text and findings."""
        from fleetshift.recipes.pytest9.rewrite import rewrite_file

        return rewrite_file(self, path, text)

    def rewrite_config_text(self, path: str, text: str) -> tuple[str, list[Finding]]:
        """Rewrite one config file: PytestRemovedIn9Warning filters, --strict; findings for the rest."""
        return _config.rewrite_config_text(self, path, text)


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
