"""pytest-asyncio 0.21/0.23 -> 1.x: event_loop fixture and overrides, loop scopes, strict-mode markers, config.

Only test code is read and rewritten (test modules, files under tests/, conftest.py, modules importing pytest):
production code calling asyncio.get_event_loop() is not this recipe's business. A service that does not use
pytest-asyncio at all gets no asyncio config keys.

The service-wide survey (active pytest config, effective asyncio mode, `event_loop` overrides and where they
live, anyio/trio use, marker hooks) decides what each file rewrite may do. `asyncio_mode` is never removed:
strict is the default, so dropping `auto` breaks unmarked tests. `asyncio_default_fixture_loop_scope` is always
written to the active config file; a service with no pytest config at all gets a `[tool.pytest.ini_options]`
table in its pyproject.toml, or a new pytest.ini when it has no pyproject.toml.

Layout: `rules` holds one module per rule (its data, its `check` on `ast`, its LibCST `Fix`, and for config
rules `check_config`/`finish`); `survey` reads the service, `facts` one file for the checks, `tree` one file
for the fixes (and the LibCST edits several fixes share), `event_loop` the loop-use analysis, `rewrite` runs
the active fixes in one walk.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence, Set
from typing import ClassVar

from fleetshift.model import Action, Finding, UsageSite
from fleetshift.recipes import _pytest_config as pc
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
from fleetshift.recipes.pytest_asyncio.facts import Site, module_facts
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
from fleetshift.recipes.pytest_asyncio.survey import Override, Survey, is_test_code, judged_overrides, survey


class PytestAsyncioRecipe(Recipe):
    """pytest-asyncio 0.21/0.23 -> 1.x."""

    id = "pytest-asyncio"
    title = "pytest-asyncio 0.21/0.23 -> 1.x"
    package = "pytest-asyncio"
    migrates_from = "<1.0"
    migrates_to = ">=1.3.0,<2"
    known_versions = PA_VERSIONS
    # every site holds one (tests/recipes/test_pytest_gates.py); `pytest_asyncio` holds `asyncio`
    tokens = (b"event_loop", b"asyncio", b"async def")
    config_tokens = (b"asyncio",)
    rules_package = "fleetshift.recipes.pytest_asyncio.rules"
    requires: ClassVar[Mapping[str, str]] = {"pytest": ">=8.2"}
    order = 10
    risk_weight = 1.5
    sparse = True
    docs = f"{MIGRATE_021} {MIGRATE_023} {CHANGELOG}"

    # -- detection --

    def declines(self, path: str, text: str) -> bool:
        """A module it finds no site in, told by its text before it is parsed (see `recipes.needs`): production
        code (`detect` reads test code only) not naming `event_loop` (a module holding it, parsed, makes
        `detect_service` judge the service's event_loop overrides)."""
        return not is_test_code(path, text) and "event_loop" not in text

    def detect(
        self, src: SourceFile, overrides: Mapping[tuple[str, str, str], Override] | None = None
    ) -> Iterable[UsageSite]:
        if not is_test_code(src.path, src.text):
            return
        facts = module_facts(src, overrides)
        for m, check in self.hooks("check"):
            for site in check(facts):
                yield self._site(src, m.rule.id, site)

    def detect_service(self, sources: Sequence[SourceFile], files: Mapping[str, str]) -> Iterable[UsageSite]:
        """The sites of each file with the service's event_loop overrides judged as the run judges them (deleted,
        deleted for a draining teardown, or left for a human: where it lives and what the service's tests are
        decide)."""
        overrides = None
        if any("event_loop" in src.text for src in sources):
            py = {p: t for p in files if p.endswith(".py") and is_test_code(p, t := files[p])}
            overrides = judged_overrides(py)
        for src in sources:
            yield from self.detect(src, overrides)

    def detect_config(self, cfg: ConfigFile) -> Iterable[UsageSite]:
        conf = pc.read(cfg.path, cfg.text)
        if conf is None:
            return
        for m, check in self.hooks("check_config"):
            for site in check(cfg, conf):
                yield self._site(cfg, m.rule.id, site)

    def _site(self, src: SourceFile | ConfigFile, rule_id: str, site: Site) -> UsageSite:
        found = self.site(src, site.node, rule_id, site.detail)
        return dataclasses.replace(found, action=Action.INFO) if site.info else found

    # -- rewriting --

    def prepare(self, ctx: RewriteContext) -> Survey:
        return survey(ctx, drain_ok="pytest-asyncio/event-loop-override-drain" in self.active_rules(ctx))

    def rewrite_file(self, path: str, text: str, ctx: RewriteContext, prepared: object) -> RewriteResult | None:
        if not path.endswith(".py") or not any(t.decode() in text for t in self.tokens):
            return None  # config files are written once, by `finish`
        if not is_test_code(path, text):
            return None
        assert isinstance(prepared, Survey)
        return RewriteResult(*self.rewrite_module(path, text, file_kind(path), prepared, self.active_rules(ctx)))

    def sparse_needs(self, path: str, text: str, ctx: RewriteContext, prepared: object) -> Set[str] | None:
        """A file holding an event_loop override is rewritten whole (what becomes of the override decides for
        every test of its module or class)."""
        assert isinstance(prepared, Survey)
        return None if any(key[0] == path for key in prepared.overrides) else frozenset()

    def finish(self, ctx: RewriteContext, prepared: object, out: ServiceRewrite) -> None:
        assert isinstance(prepared, Survey)
        for _, finish in self.hooks("finish", self.active_rules(ctx)):
            finish(self, ctx, prepared, out)

    def rewrite_module(
        self, path: str, text: str, kind: FileKind, s: Survey, active: Set[str] | None = None
    ) -> tuple[str, list[Finding]]:
        """Rewrite one Python file given the service survey (and the active rules: all by default)."""
        from fleetshift.recipes.pytest_asyncio.rewrite import rewrite_file

        return rewrite_file(self, path, text, kind, s, {r.id for r in self.rules} if active is None else active)


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
