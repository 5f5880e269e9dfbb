"""tenacity 8.2 -> 9.x: rewrite the removed `tenacity._asyncio` imports, `.retry.statistics` reads and
`strategy | function` compositions; flag the behaviour changes that need a person.

`wait_exponential` is NOT renamed and `reraise=True` is NOT added: both are false claims (the names and the
`reraise=False` default are the same in 8.2.3 and every 9.x release).

Modules: `rules` (one module per rule: its data, its `check` on `ast`, its LibCST `Fix`), `resolve` (the
per-module `Facts` every rule reads: what names stand for, across the service's files), `rewrite` (what the
fixes share, and the one walk that applies them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from fleetshift.model import Action, Finding, Severity, UsageSite
from fleetshift.recipes import base
from fleetshift.recipes._ast import parse_tree
from fleetshift.recipes.base import (
    FileKind,
    Known,
    Recipe,
    RewriteContext,
    RewriteResult,
    SourceFile,
    file_kind,
)
from fleetshift.recipes.tenacity.resolve import Facts, ServiceIndex
from fleetshift.recipes.tenacity.rules import ADVISORIES, CHANGELOG


class TenacityRecipe(Recipe):
    """tenacity 8.2 -> 9.x (8.4.x/8.5.x pins already carry the statistics and composition breakage)."""

    id = "tenacity"
    title = "tenacity 8.2 -> 9.x"
    package = "tenacity"
    migrates_from = "<9"
    migrates_to = ">=9.1.2,<10"
    known_versions = (
        "6.0.0", "6.1.0", "6.2.0", "6.3.0", "6.3.1", "7.0.0", "8.0.0", "8.0.1", "8.1.0", "8.2.0", "8.2.1",
        "8.2.2", "8.2.3", "8.3.0", "8.4.0", "8.4.1", "8.4.2", "8.5.0", "9.0.0", "9.1.2", "9.1.3", "9.1.4",
        "9.2.1",
    )  # fmt: skip
    # a module naming tenacity; a `.retry.statistics` read; a patch of asyncio.sleep: a string ending in
    # asyncio.sleep, or the attribute "sleep" (`patch.object(asyncio, "sleep")`). `asyncio.sleep` itself is no
    # token: a module awaiting it and naming none of these holds no site (tests/recipes/test_tenacity_tokens.py)
    tokens = (
        b"tenacity", b".retry.statistics", b'asyncio.sleep"', b"asyncio.sleep'", b'"sleep"', b"'sleep'"
    )  # fmt: skip
    order = 40
    risk_weight = 1.5
    sparse = True
    config_kinds = ()  # the Python floor is judged once for every recipe, by the resolver (see _floors)
    docs = f"{CHANGELOG} ; https://github.com/jd/tenacity/tree/main/releasenotes/notes"
    advisories = ADVISORIES
    rules_package = "fleetshift.recipes.tenacity.rules"
    file_level = True

    # ---- detection -------------------------------------------------------------------------------

    def detect(self, src: SourceFile) -> Iterable[UsageSite]:
        return list(self._detect(src, Facts.of(src.tree, src.text, src.path)))

    def detect_service(self, sources: Sequence[SourceFile], files: Mapping[str, str]) -> Iterable[UsageSite]:
        """The sites of each file judged with the service's other modules, as the run judges them."""
        index = ServiceIndex(files)
        for src in sources:
            yield from self._detect(src, Facts.of(src.tree, src.text, src.path, index))

    def detect_file(self, src: SourceFile, files: Mapping[str, str]) -> Iterable[UsageSite]:
        """One file's sites judged with the service's other modules: what it reads of `files` is the modules its
        names are imported from, and the others only when it asks a question of the whole service (whether one of
        them imports tenacity, defines a retried method, binds a strategy). Its own index, so that what it reads
        is read through `files`; the modules' summaries are shared (`ServiceIndex.summary_of`)."""
        return self._detect(src, Facts.of(src.tree, src.text, src.path, ServiceIndex(files)))

    def run_check(self, check: Callable[..., Iterable[tuple[Any, ...]]], facts: tuple[object, ...]) -> Iterable[tuple[Any, ...]]:
        """A check's answer on one module's `Facts`, kept with them: a rewrite's fixes read the same facts'."""
        if len(facts) == 1 and isinstance(facts[0], Facts):
            return facts[0].checked(check)
        return check(*facts)

    def _detect(self, src: SourceFile, facts: Facts) -> Iterator[UsageSite]:
        """Every rule's `check` on one module's facts, in source order (`SITE_ACTION`: INFO for a fix that only
        some targets get)."""
        return iter(sorted(self.rule_sites(src, facts), key=lambda s: (s.line, s.col)))

    # ---- rewriting ---------------------------------------------------------------------------------

    def _fixable(self, sites: Iterable[UsageSite], active: frozenset[str]) -> bool:
        """Whether one of `sites` is an active rule's with a `Fix`: a fix acts only where its own rule's check
        reports a site, so a module whose sites are all for a person goes through no LibCST."""
        fixes = {m.rule.id for m in self.rule_modules if hasattr(m.module, "Fix")}
        return any(s.rule in active and s.rule in fixes for s in sites)

    def prepare(self, ctx: RewriteContext) -> ServiceIndex:
        return self._detected(ctx).index

    def known(self, ctx: RewriteContext) -> Known | None:
        """The scan's sites where they still hold; else, for a service with no scan record to reuse and sparse views
        on, the sites detected once here in every file worth a sparse view (the files `sparse_sites` would detect):
        a file among them with no site goes through no check again (see `Recipe.rewrite_service`)."""
        if ctx.known is not None or not (base.SPARSE and self.sparse):
            return super().known(ctx)
        done = self._detected(ctx)
        if done.known is None:
            done.known = self._detect_worth(ctx, done.index)
        return done.known

    def _detected(self, ctx: RewriteContext) -> _Detected:
        """The service's index, and what `known` detected with it: once per context."""
        for done in _DONE:
            if done.ctx is ctx:
                return done
        done = _Detected(ctx, ServiceIndex(ctx.files))
        _DONE.append(done)
        if len(_DONE) > 4:
            _DONE.pop(0)
        return done

    def _detect_worth(self, ctx: RewriteContext, index: ServiceIndex) -> Known:
        """`Known` of the files worth a sparse view holding a token that parse: each one's sites, as the rewrite
        would detect them in its whole text (the checks never read the scope: only the fixes do)."""
        from fleetshift.recipes import sparse

        sources: set[str] = set()
        sites: dict[str, tuple[int, ...]] = {}
        for path, text in ctx.files.items():
            if not (path.endswith(".py") and sparse.worth(text) and holds_token(text)):
                continue
            try:
                src = SourceFile(path, text, parse_tree(text), file_kind(path))
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                continue
            sources.add(path)
            lines = sorted({s.line for s in self._detect(src, Facts.of(src.tree, text, path, index))})
            if lines:
                sites[path] = tuple(lines)
        return Known(frozenset(sources), sites)

    def rewrite_file(
        self, path: str, text: str, ctx: RewriteContext, prepared: object
    ) -> RewriteResult | None:
        if path.endswith(".py") and isinstance(prepared, ServiceIndex):
            if not holds_token(text):
                return None
            return self._rewrite_python(path, text, file_kind(path), ctx, prepared)
        return super().rewrite_file(path, text, ctx, prepared)

    def rewrite_python(self, path: str, text: str, kind: FileKind, ctx: RewriteContext) -> RewriteResult:
        return self._rewrite_python(path, text, kind, ctx, ServiceIndex(ctx.files))

    def _rewrite_python(
        self, path: str, text: str, kind: FileKind, ctx: RewriteContext, index: ServiceIndex
    ) -> RewriteResult:
        """Each active rule's `Fix` in one LibCST walk, all judging with the module's facts; what is left
        afterwards (the checks on the new text) is reported."""
        import libcst as cst

        from fleetshift.recipes.tenacity.rewrite import rewrite_module

        try:
            tree = parse_tree(text)
            scope, active = self.scope(ctx), self.active_rules(ctx)
            facts = Facts.of(tree, text, path, index, scope)
            found = list(self._detect(SourceFile(path, text, tree, kind), facts))  # what is left, if it stays
            new_text = text
            if self.needs_libcst(self._fixable(found, active), active):
                new_text = rewrite_module(text, facts, [m for m in self.rule_modules if m.rule.id in active])
        except (SyntaxError, cst.ParserSyntaxError) as exc:
            return RewriteResult(
                text,
                [
                    Finding(
                        path,
                        0,
                        "tenacity/asyncio-module",
                        f"could not parse: {exc}",
                        Severity.ERROR,
                        CHANGELOG,
                        self.id,
                    )
                ],
            )
        findings: list[Finding] = []
        if new_text != text:
            after = SourceFile(path, new_text, parse_tree(new_text), kind)
            found = list(self._detect(after, Facts.of(after.tree, new_text, path, index, scope)))
        for s in found:
            if s.action is Action.INFO:
                continue
            rule = self.rule(s.rule)
            detail = s.detail if s.detail != rule.summary else f"{rule.summary}; {rule.fix}"
            message = detail if s.action is Action.HUMAN else f"not rewritten automatically here: {detail}"
            findings.append(self.finding(path, s.line, s.rule, message, Severity.HUMAN))
        return RewriteResult(new_text, findings)


class _Detected:
    """One rewrite context's service index and detected sites (`TenacityRecipe.known`)."""

    def __init__(self, ctx: RewriteContext, index: ServiceIndex) -> None:
        self.ctx, self.index = ctx, index
        self.known: Known | None = None


_DONE: list[_Detected] = []  # the last contexts'


def holds_token(text: str) -> bool:
    """Whether `text` holds one of the recipe's tokens, as `rewrite_file` looks for them (decoded): those spelling
    `sleep` are looked for only in a text spelling it (most texts hold neither tenacity nor a patch of a sleep)."""
    return any(t in text for t in _WORDS) or ("sleep" in text and any(t in text for t in _SLEEPS))


RECIPE = TenacityRecipe()
_TOKENS = tuple(t.decode() for t in TenacityRecipe.tokens)  # as `rewrite_file` looks for them in a text
_SLEEPS = tuple(t for t in _TOKENS if "sleep" in t)
_WORDS = tuple(t for t in _TOKENS if "sleep" not in t)
