"""pytest-asyncio 0.21/0.23 -> 1.x: event_loop fixture and overrides, loop scopes, strict-mode markers, config.

The service-wide survey (active pytest config, effective asyncio mode, `event_loop` overrides and where they
live, anyio/trio use, marker hooks) decides what each file rewrite may do. `asyncio_mode` is never removed:
strict is the default, so dropping `auto` breaks unmarked tests. `asyncio_default_fixture_loop_scope` is always
written to the active config file; a service with no pytest config at all gets a `[tool.pytest.ini_options]`
table in its pyproject.toml, or a new pytest.ini when it has no pyproject.toml.

Layout: `rules` (declared data), `survey` (per-service facts), `detect` (ast), `state`/`scopes`/`event_loop`/
`rewrite` (the LibCST file rewriter), `config` (config writes).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
    file_kind,
)
from fleetshift.recipes.pytest_asyncio import detect as _detect
from fleetshift.recipes.pytest_asyncio.config import write_config
from fleetshift.recipes.pytest_asyncio.rules import (
    BUILTIN_FIXTURES,
    CHANGELOG,
    CONCEPTS,
    CONFIG,
    DOCS,
    FIXTURES,
    MARK,
    MIGRATE_021,
    MIGRATE_023,
    OTHER_MARKS,
    PA_VERSIONS,
    PYTEST_VERSIONS,
    RANK,
    SCOPES,
    WIDE,
)
from fleetshift.recipes.pytest_asyncio.survey import Override, Survey, survey


class PytestAsyncioRecipe(Recipe):
    """pytest-asyncio 0.21/0.23 -> 1.x."""

    id = "pytest-asyncio"
    title = "pytest-asyncio 0.21/0.23 -> 1.x"
    package = "pytest-asyncio"
    migrates_from = "<1.0"
    migrates_to = ">=1.3.0,<2"
    known_versions = PA_VERSIONS
    tokens = (b"event_loop", b"asyncio", b"async def", b"pytest_asyncio")
    config_tokens = (b"asyncio",)
    rules_package = "fleetshift.recipes.pytest_asyncio.rules"
    requires: ClassVar[Mapping[str, str]] = {"pytest": ">=8.2"}
    order = 10
    risk_weight = 1.5
    docs = f"{MIGRATE_021} {MIGRATE_023} {CHANGELOG}"

    # -- detection --

    def detect(self, src: SourceFile) -> Iterable[UsageSite]:
        return _detect.sites(self, src)

    def detect_config(self, cfg: ConfigFile) -> Iterable[UsageSite]:
        return _detect.config_sites(self, cfg)

    # -- rewriting --

    def prepare(self, ctx: RewriteContext) -> Survey:
        return survey(ctx)

    def rewrite_file(self, path: str, text: str, ctx: RewriteContext, prepared: object) -> RewriteResult | None:
        if not path.endswith(".py") or not any(t.decode() in text for t in self.tokens):
            return None  # config files are written once, by `finish`
        assert isinstance(prepared, Survey)
        return RewriteResult(*self.rewrite_module(path, text, file_kind(path), prepared))

    def finish(self, ctx: RewriteContext, prepared: object, out: ServiceRewrite) -> None:
        assert isinstance(prepared, Survey)
        write_config(self, ctx, prepared, out)

    def rewrite_module(self, path: str, text: str, kind: FileKind, s: Survey) -> tuple[str, list[Finding]]:
        """Rewrite one Python file given the service survey; returns the new text and findings."""
        from fleetshift.recipes.pytest_asyncio.rewrite import rewrite_file

        return rewrite_file(self, path, text, kind, s)


RECIPE = PytestAsyncioRecipe()

__all__ = [
    "BUILTIN_FIXTURES",
    "CHANGELOG",
    "CONCEPTS",
    "CONFIG",
    "DOCS",
    "FIXTURES",
    "MARK",
    "MIGRATE_021",
    "MIGRATE_023",
    "OTHER_MARKS",
    "PA_VERSIONS",
    "PYTEST_VERSIONS",
    "RANK",
    "RECIPE",
    "SCOPES",
    "WIDE",
    "Override",
    "PytestAsyncioRecipe",
    "Survey",
    "survey",
]
