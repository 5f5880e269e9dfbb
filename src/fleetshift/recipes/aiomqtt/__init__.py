"""asyncio-mqtt 0.x and aiomqtt 1.x -> aiomqtt 2.x: imports, constructor keywords, message loops, lifecycle."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping

from fleetshift.model import Action, Severity, UsageSite
from fleetshift.recipes.aiomqtt.analysis import (
    Plan,
    analyse,
    call_stats,
    client_fixtures,
    defined_functions,
    merge_stats,
)
from fleetshift.recipes.aiomqtt.rules import CHANGELOG, GUIDE
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
    tokens = (b"asyncio_mqtt", b"aiomqtt", b"paho", b"filtered_messages", b".messages(")
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
    docs = f"{GUIDE}\n{CHANGELOG}"

    # ---- detection ----------------------------------------------------------------------------

    def detect(self, src: SourceFile) -> Iterable[UsageSite]:
        return self._sites(
            src.path, analyse(src.text, src.tree, fixtures=client_fixtures(src.text, src.tree))
        )

    def _sites(self, path: str, plan: Plan) -> list[UsageSite]:
        out = []
        for mark in plan.marks:
            rule = self.rule(mark.rule)
            if mark.severity is Severity.ADVICE and rule.action is not Action.INFO:
                continue  # a suggestion beside an automatic edit, not a site of its own
            action = Action.HUMAN if mark.severity is Severity.HUMAN else rule.action
            out.append(
                UsageSite(self.id, rule.id, path, mark.line, mark.col, mark.message or rule.summary, action)
            )
        return out

    # ---- rewriting ----------------------------------------------------------------------------

    def rewrite_service(self, ctx: RewriteContext) -> ServiceRewrite:
        """Rewrite every Python file, judging concurrent message consumers across the whole service."""
        trees: dict[str, ast.Module] = {}
        for path, text in ctx.files.items():
            wanted = (*self.tokens, b"gather", b"create_task")
            if path.endswith(".py") and (
                file_kind(path) != "source" or any(t.decode() in text for t in wanted)
            ):
                try:
                    trees[path] = ast.parse(text)
                except SyntaxError:
                    continue
        per_file = {path: (call_stats(tree), defined_functions(tree)) for path, tree in trees.items()}
        fixtures = frozenset().union(
            *(
                client_fixtures(ctx.files[p], t)
                for p, t in trees.items()
                if any(k.decode() in ctx.files[p] for k in self.tokens)
            )
        )
        out = ServiceRewrite()
        for path, tree in trees.items():
            text = ctx.files[path]
            if not any(t.decode() in text for t in self.tokens) and not any(f in text for f in fixtures):
                continue
            others = [v for p, v in per_file.items() if p != path]
            res = self._rewrite(path, text, tree, merge_stats(per_file[path][0], others), fixtures)
            if res.text != text:
                out.texts[path] = res.text
            out.findings.extend(res.findings)
        return out

    def rewrite_python(self, path: str, text: str, kind: FileKind, ctx: RewriteContext) -> RewriteResult:
        tree = ast.parse(text)
        return self._rewrite(path, text, tree, call_stats(tree))

    def _rewrite(
        self,
        path: str,
        text: str,
        tree: ast.Module,
        stats: Mapping[str, tuple[int, bool]],
        fixtures: frozenset[str] = frozenset(),
    ) -> RewriteResult:
        from fleetshift.recipes.aiomqtt.transform import apply

        plan = analyse(text, tree, stats, fixtures | client_fixtures(text, tree))
        new = apply(text, plan) if plan.marks else text
        findings = []
        for mark in plan.marks:
            if mark.finding:
                severity = mark.severity or Severity.ADVICE
                message = mark.message or self.rule(mark.rule).fix
                findings.append(self.finding(path, mark.line, self.rule(mark.rule).id, message, severity))
        return RewriteResult(new, findings)

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


RECIPE = AiomqttRecipe()
