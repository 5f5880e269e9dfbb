"""The pytest-asyncio keys written to a service's active pytest config (a new one when it has none)."""

from __future__ import annotations

from fleetshift.model import Severity
from fleetshift.recipes import _pytest_config as pc
from fleetshift.recipes.base import Recipe, RewriteContext, ServiceRewrite
from fleetshift.recipes.pytest_asyncio.survey import Survey


def write_config(recipe: Recipe, ctx: RewriteContext, s: Survey, out: ServiceRewrite) -> None:
    """Set the default loop scopes in the active config (after `out`'s edits) and flag ignored asyncio keys."""
    files = {**ctx.files, **out.texts}
    cfg = pc.active(files, s.root)
    if cfg is None:
        path, text, cfg = pc.new_config(s.root, files)
        out.findings.append(
            recipe.finding(
                path,
                0,
                "default-loop-scope",
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
    for other in pc.candidates(files, s.root)[1:]:
        if any(str(k).startswith("asyncio_") for k in other.values):
            out.findings.append(
                recipe.finding(
                    other.path,
                    0,
                    "asyncio-mode",
                    f"{other.path} holds asyncio_* settings but pytest reads only {cfg.path}; move them there "
                    "(pytest 9 prints 'ignoring pytest config')",
                    Severity.HUMAN,
                )
            )
