"""asyncio_default_fixture_loop_scope unset

asyncio_default_fixture_loop_scope is written to the active pytest config (unset it warns, and pytest
>=9.2 with filterwarnings=error stops with INTERNALERROR)
"""

from __future__ import annotations

from collections.abc import Iterator

from fleetshift.model import Severity
from fleetshift.recipes import _pytest_config as pc
from fleetshift.recipes.base import ConfigFile, Recipe, RewriteContext, ServiceRewrite
from fleetshift.recipes.pytest_asyncio.facts import Site
from fleetshift.recipes.pytest_asyncio.rules import CONFIG
from fleetshift.recipes.pytest_asyncio.survey import Survey
from fleetshift.recipes.rule import AUTO, rule

RULE = rule(__name__, __doc__, AUTO, since="0.24", link=CONFIG, order=8)


def check_config(cfg: ConfigFile, conf: pc.PytestConfig) -> Iterator[Site]:
    """A pytest config without the key (informational: only the active one is written)."""
    if conf.get("asyncio_default_fixture_loop_scope") is None:
        yield Site(0, info=True)


def finish(recipe: Recipe, ctx: RewriteContext, s: Survey, out: ServiceRewrite) -> None:
    """Set the default loop scopes in the active config (after `out`'s edits); a service without one gets one.

    A service that does not use pytest-asyncio (no requirement, import, asyncio marker or setting) is left alone.
    """
    if not s.uses_pytest_asyncio:
        return
    files = {**ctx.files, **out.texts}
    cfg = pc.active(files, s.root)
    if cfg is None:
        path, text, cfg = pc.new_config(s.root, files)
        out.findings.append(
            recipe.finding(
                path,
                0,
                RULE.id,
                f"the service had no pytest config; pytest-asyncio settings were written to {path}",
                Severity.ADVICE,
            )
        )
    else:
        path, text = cfg.path, files[cfg.path]
    fixture_default = s.root_loop or str(cfg.get("asyncio_default_fixture_loop_scope") or "function").strip()
    new = pc.set_key(cfg, text, "asyncio_default_fixture_loop_scope", fixture_default)
    if s.root_loop:
        new = pc.set_key(cfg, new, "asyncio_default_test_loop_scope", s.root_loop)
    if new != files.get(path):
        out.texts[path] = new
