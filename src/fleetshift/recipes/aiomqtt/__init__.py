"""asyncio-mqtt 0.x and aiomqtt 1.x -> aiomqtt 2.x: imports, constructor keywords, message loops, lifecycle.

Each rule is one module of `rules`: its `check(facts)` finds its sites on `ast` (with the edits an automatic
rule plans), its `Fix` makes those edits on LibCST. The recipe builds a file's `Facts` once, asks every
rule's check for detection and Findings, and applies the fixes of the active rules in one walk.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import ClassVar

from fleetshift.model import Action, Finding, Severity, UsageSite
from fleetshift.recipes._ast import parse_tree
from fleetshift.recipes.aiomqtt.entry import imported_elsewhere
from fleetshift.recipes.aiomqtt.facts import Facts, Site, client_fixtures, facts_of, own_stats
from fleetshift.recipes.aiomqtt.overlap import LazyStats
from fleetshift.recipes.aiomqtt.rules import CHANGELOG, GUIDE
from fleetshift.recipes.aiomqtt.rules.paho_direct import uses_an_mqtt_client
from fleetshift.recipes.aiomqtt.view import fixed_view
from fleetshift.recipes.base import (
    Advisory,
    FileKind,
    PinChange,
    Recipe,
    RewriteContext,
    RewriteResult,
    ServiceRewrite,
    SourceFile,
    file_kind,
)


class AiomqttRecipe(Recipe):
    """Migrates services from asyncio-mqtt (and aiomqtt 1.x) to aiomqtt 2.x."""

    id = "aiomqtt"
    title = "asyncio-mqtt 0.x / aiomqtt 1.x -> aiomqtt 2.x"
    package = "aiomqtt"
    replaces = "asyncio-mqtt"
    migrates_from = "<2"
    migrates_to = ">=2.4.0,<3"
    known_versions = (
        # asyncio-mqtt (the package this one replaces)
        "0.1.0", "0.1.1", "0.1.2", "0.1.3", "0.2.0", "0.2.1", "0.3.0", "0.4.0", "0.5.0", "0.6.0", "0.7.0",
        "0.8.0", "0.8.1", "0.9.0", "0.9.1", "0.10.0", "0.11.0", "0.11.1", "0.12.0", "0.12.1", "0.13.0",
        "0.14.0", "0.15.0", "0.16.0", "0.16.1", "0.16.2",
        # aiomqtt (0.1.x on PyPI is an unrelated older project; 0.17.0 was yanked)
        "1.0.0", "1.1.0", "1.2.0", "1.2.1", "2.0.0", "2.0.1", "2.1.0", "2.2.0", "2.3.0", "2.3.1", "2.3.2",
        "2.4.0", "2.5.0", "2.5.1",
    )  # fmt: skip
    tokens = (
        b"asyncio_mqtt",
        b"aiomqtt",
        b"paho",
        b"filtered_messages",
        b".messages(",
        b".messages.return_value",
    )
    rules_package = "fleetshift.recipes.aiomqtt.rules"
    advisories = (
        Advisory(
            "==2.5.0",
            "aiomqtt 2.5.0: Client(tls_params=..., tls_insecure=True) raises ValueError; fixed in 2.5.1.",
            CHANGELOG,
        ),
        Advisory(
            ">=3.0.0a0",
            "aiomqtt 3.0 pre-releases are a rewrite (MQTTv5 only, messages() is a method again, no Topic.matches); stay <3.",
            CHANGELOG,
        ),
    )
    drops = ("paho-mqtt",)
    order = 40
    risk_weight = 3.0  # a library replacement: every client, loop and topic use changes
    sparse = True  # a file's fixes are applied to a sparse view of it (see `view`; its own loop, not base's)
    docs = f"{GUIDE}\n{CHANGELOG}"

    # the order the sites of a file are reported in: by concern (imports; Client calls and attributes;
    # file-wide checks, by rule order; message loops; lifecycle), then by where each check met them
    report_passes: ClassVar[Mapping[str, int]] = {
        "imports": 0,
        **dict.fromkeys(
            (
                "client-identifier", "max-queued-messages", "message-retry-set", "tls-insecure", "tls-deferred",
                "client-kwargs-dynamic", "timeout-none", "topic-matches-hash",
                "private-paho", "subscribe-result", "rc-codes",
            ),
            1,
        ),
        **dict.fromkeys(("client-in-entry", "client-outside-loop", "disconnect-errors", "paho-direct", "mocked-messages"), 2),
        **dict.fromkeys(
            (
                "messages-manual", "shared-message-queue", "messages-iterator", "messages-router", "incoming-queue-args",
                "topic-value", "message-type",
            ),
            3,
        ),
        **dict.fromkeys(("connect-disconnect", "force-disconnect", "connect-manual"), 4),
    }  # fmt: skip

    # ---- detection ----------------------------------------------------------------------------

    def detect(self, src: SourceFile) -> Iterable[UsageSite]:
        return self._detect(src, frozenset())

    def detect_service(self, sources: Sequence[SourceFile], files: Mapping[str, str]) -> Iterable[UsageSite]:
        """Each file's sites, judged knowing which of its module-level clients other modules import (as the run)."""
        for src in sources:
            yield from self._detect(src, imported_elsewhere(src.path, src.text, files))

    def _detect(self, src: SourceFile, imported: frozenset[str]) -> list[UsageSite]:
        facts = facts_of(src.text, src.tree, imported_elsewhere=imported)
        out = []
        for site in self.sites(facts):
            rule = self.rule(site.rule)
            if not site.shown or (site.severity is Severity.ADVICE and rule.action is not Action.INFO):
                continue  # an edit or a suggestion that goes with another site, not a site of its own
            action = Action.HUMAN if site.severity is Severity.HUMAN else rule.action
            out.append(
                UsageSite(
                    self.id, rule.id, src.path, site.line, site.col, site.message or rule.summary, action
                )
            )
        return out

    def sites(self, facts: Facts, active: frozenset[str] | None = None) -> list[Site]:
        """Every rule's sites in one file (only the `active` rules' when given), in report order."""
        found: list[Site] = []
        for _, check in self.hooks("check", active):
            found.extend(facts.checked(check))
        rank = {r.slug: (self.report_passes.get(r.slug, 5), r.order) for r in self.rules}
        return sorted(
            found, key=lambda s: (rank[s.rule][0], rank[s.rule][1] if rank[s.rule][0] == 2 else 0, s.order)
        )

    # ---- rewriting ----------------------------------------------------------------------------

    def rewrite_service(self, ctx: RewriteContext) -> ServiceRewrite:
        """Rewrite every Python file, judging concurrent message consumers across the whole service."""
        trees: dict[str, ast.Module | None] = {}  # None: a file holding no token, parsed if it names a fixture
        parsed: dict[str, str] = {}  # the files whose call statistics count (computed when a rule asks)
        unread: set[str] = set()  # the texts of those not parsed yet (left out of the statistics if they do not parse)
        deep: dict[str, Finding] = {}  # the files too deeply nested to parse, among those this recipe reads
        fixtures: frozenset[str] = frozenset()
        out = ServiceRewrite()
        # the Python files holding a token (each text searched once)
        tokened = {path for path, text in ctx.files.items() if path.endswith(".py") and any(t in text for t in _TOKENS)}
        # without a file holding a token nothing is rewritten: the call statistics of its files would go unread
        used = bool(tokened)
        for path, text in ctx.files.items():
            if path.endswith(".py") and (
                path in tokened or file_kind(path) != "source" or any(t in text for t in _CONCURRENT)
            ):
                if path not in tokened:  # read only if it names a client fixture, its
                    parsed[path] = text  # statistics only if it names a function a rule asks about
                    unread.add(text)
                    trees[path] = None
                    continue
                try:
                    tree = parse_tree(text)
                    parsed[path] = text
                    fixtures |= client_fixtures(text, tree)
                    trees[path] = tree
                except SyntaxError:
                    continue
                except (RecursionError, MemoryError):  # the parser's (or a visitor's) stack limits
                    parsed.pop(path, None)
                    deep[path] = _too_deep(path)
        active = self.active_rules(ctx)
        uses_mqtt = uses_an_mqtt_client(self.scope(ctx))
        found: list[Finding] = []
        for path, lazy in trees.items():
            text = ctx.files[path]
            if path not in tokened and not any(f in text for f in fixtures):
                continue
            if lazy is None:
                try:
                    tree = parse_tree(text)
                except SyntaxError:
                    parsed.pop(path)
                    continue
                except (RecursionError, MemoryError):
                    parsed.pop(path)
                    deep[path] = _too_deep(path)
                    continue
                unread.discard(text)
            else:
                tree = lazy
            others = [t for p, t in parsed.items() if p != path] if used else []
            stats = LazyStats(functools.partial(own_stats, text, tree) if used else dict, others, unread)
            imported = imported_elsewhere(path, text, ctx.files)
            try:
                res = self._rewrite(path, text, tree, stats, active, fixtures, uses_mqtt, imported)
            except (RecursionError, MemoryError):
                found.append(_too_deep(path))
                continue
            if res.text != text:
                out.texts[path] = res.text
            found.extend(res.findings)
        out.findings = [deep[path] for path in ctx.files if path in deep] + found  # the parse failures first
        return out

    def rewrite_python(self, path: str, text: str, kind: FileKind, ctx: RewriteContext) -> RewriteResult:
        tree = parse_tree(text)
        return self._rewrite(
            path,
            text,
            tree,
            LazyStats(functools.partial(own_stats, text, tree)),
            self.active_rules(ctx),
            service_uses_mqtt=uses_an_mqtt_client(self.scope(ctx)),
        )

    def _rewrite(
        self,
        path: str,
        text: str,
        tree: ast.Module,
        stats: Mapping[str, tuple[int, bool]],
        active: frozenset[str],
        fixtures: frozenset[str] = frozenset(),
        service_uses_mqtt: bool = False,
        imported: frozenset[str] = frozenset(),
    ) -> RewriteResult:
        facts = facts_of(text, tree, stats, fixtures, service_uses_mqtt, imported)
        sites = self.sites(facts)
        new = text
        if sites:
            new = self._fixed(facts, sites, active)
        findings = []
        for site in sites:
            if site.finding:
                rule = self.rule(site.rule)
                message = site.message or rule.fix
                findings.append(
                    self.finding(path, site.line, rule.id, message, site.severity or Severity.ADVICE)
                )
        return RewriteResult(new, findings)

    def _fixed(self, facts: Facts, sites: list[Site], active: frozenset[str]) -> str:
        """The file's text with the active rules' fixes applied: through a sparse view of it when one stands for
        the whole module (see `view`), else on the whole module."""
        from fleetshift.recipes import base, fixes

        def fixes_of(f: Facts) -> list[object]:
            made = (m.module.Fix(f) for m in self.rule_modules if m.rule.id in active and hasattr(m.module, "Fix"))
            return [fix for fix in made if not getattr(fix, "idle", False)]  # (one that changes nothing: not walked)

        if self.sparse and base.SPARSE:
            new = fixed_view(facts, sites, self.sites, fixes_of)
            if new is not None:
                return new
        module = fixes.parse(facts.text)
        return fixes.code(module, fixes.apply(module, fixes_of(facts)))

    def pin_changes(self, ctx: RewriteContext, pinned: Mapping[str, str]) -> list[PinChange]:
        """The base pin changes, except that paho-mqtt stays (moved to 2.x) when the service imports paho itself."""
        changes = super().pin_changes(ctx, pinned)
        uses_paho = any(
            path.endswith(".py") and ("import paho" in text or "from paho" in text)
            for path, text in ctx.files.items()
        )
        if not uses_paho:
            return changes
        return [
            PinChange(
                "paho-mqtt",
                "paho-mqtt",
                ">=2.1,<3",
                reason="aiomqtt: paho is imported directly; aiomqtt 2 needs paho 2",
            )
            if c.package == "paho-mqtt"
            else c
            for c in changes
        ]


def _too_deep(path: str) -> Finding:
    return Finding(path, 0, "aiomqtt/too-deep", "too deeply nested to parse; this file was left unchanged: simplify "
                   "the nesting", Severity.ERROR, recipe="aiomqtt")


RECIPE = AiomqttRecipe()
_TOKENS = tuple(t.decode() for t in AiomqttRecipe.tokens)  # as the rewrite looks for them in a text, decoded once
_CONCURRENT = ("gather", "create_task")  # a source module's text naming these (or a token) counts in the call statistics
