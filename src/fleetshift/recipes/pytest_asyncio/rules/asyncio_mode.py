"""asyncio_mode set in the pytest config

kept as it is: strict is the default, so removing auto makes unmarked async tests fail
"""

from __future__ import annotations

from collections.abc import Iterator

from fleetshift.model import Severity
from fleetshift.recipes import _pytest_config as pc
from fleetshift.recipes.base import ConfigFile, Recipe, RewriteContext, ServiceRewrite
from fleetshift.recipes.pytest_asyncio.facts import Site
from fleetshift.recipes.pytest_asyncio.rules import CONFIG
from fleetshift.recipes.pytest_asyncio.survey import Survey
from fleetshift.recipes.rule import INFO, rule

RULE = rule(__name__, __doc__, INFO, since="0.19", link=CONFIG, order=9)


def check_config(cfg: ConfigFile, conf: pc.PytestConfig) -> Iterator[Site]:
    """The mode key, and `--asyncio-mode` in addopts."""
    if conf.get("asyncio_mode") is not None:
        yield Site(pc.line_of(cfg.text, "asyncio_mode"), f"asyncio_mode = {conf.get('asyncio_mode')}")
    if any(a.startswith("--asyncio-mode") for a in conf.args()):
        yield Site(pc.line_of(cfg.text, "--asyncio-mode"), "--asyncio-mode in addopts")


def finish(recipe: Recipe, ctx: RewriteContext, s: Survey, out: ServiceRewrite) -> None:
    """Flag asyncio_* settings in config files pytest does not read."""
    files = {**ctx.files, **out.texts}
    found = pc.candidates(files, s.root)
    if not found:
        return
    active = found[0]
    for other in found[1:]:
        if any(str(k).startswith("asyncio_") for k in other.values):
            out.findings.append(
                recipe.finding(
                    other.path,
                    0,
                    RULE.id,
                    f"{other.path} holds asyncio_* settings but pytest reads only {active.path}; move them there "
                    "(pytest 9 prints 'ignoring pytest config')",
                    Severity.HUMAN,
                )
            )
