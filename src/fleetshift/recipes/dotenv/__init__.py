"""python-dotenv 0.2x/1.0 -> 1.2.x: a pin bump whose behaviour changes are flagged, not rewritten.

The public signatures are unchanged; what changed is where an argument-less `load_dotenv()` looks (under a
tracer), symlink and mode handling of `set_key`, the BOM, and how `KEY= # comment` parses. The one rewrite,
anchoring an argument-less `load_dotenv()` to the calling file, runs only when asked for.
"""

from __future__ import annotations

import ast
import functools
import posixpath
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence

from packaging.version import Version

from fleetshift.model import Action, Finding, Severity, UsageSite
from fleetshift.recipes._ast import Imports, parse_tree, walk
from fleetshift.recipes._targets import oldest_target
from fleetshift.recipes.base import FileKind, Recipe, RewriteContext, RewriteResult, SourceFile
from fleetshift.recipes.dotenv.rules import CHANGELOG, PR
from fleetshift.recipes.dotenv.rules.empty_value_comment import EMPTY_WITH_COMMENT, env_lines
from fleetshift.recipes.dotenv.rules.implicit_path import CALLS as IMPLICIT_PATH_CALLS
from fleetshift.recipes.dotenv.rules.implicit_path import MESSAGE as IMPLICIT_MESSAGE
from fleetshift.recipes.dotenv.rules.implicit_path import anchor as _anchor
from fleetshift.recipes.dotenv.rules.set_key import SET_KEY_CALLS


class DotenvRecipe(Recipe):
    """python-dotenv -> 1.2.x. `anchor_implicit_path=True` opts in to rewriting argument-less loads."""

    id = "python-dotenv"
    title = "python-dotenv 0.2x/1.0 -> 1.2.x"
    package = "python-dotenv"
    migrates_from = "<1.2"
    migrates_to = ">=1.2.1,<2"
    known_versions = (
        "0.19.0", "0.19.1", "0.19.2", "0.20.0", "0.21.0", "0.21.1", "1.0.0", "1.0.1", "1.1.0", "1.1.1",
        "1.2.0", "1.2.1", "1.2.2", "1.2.3", "1.2.4",
    )  # fmt: skip
    tokens = (b"dotenv", b"\\ufeff", b"PYTHON_DOTENV_DISABLED")
    order = 60
    risk_weight = 0.5  # pins plus behaviour notes; nothing is rewritten
    config_kinds = ()  # the Python floor is judged once for every recipe, by the resolver (see _floors)
    docs = CHANGELOG
    rules_package = "fleetshift.recipes.dotenv.rules"
    keeps_sites = True  # a module's findings are its sites: the run reads them off the scan's (see `rewrite_python`)

    def __init__(self, anchor_implicit_path: bool = False) -> None:
        self.anchor_implicit_path = anchor_implicit_path

    # ---- detection -----------------------------------------------------------------------------

    def detect(self, src: SourceFile) -> Iterable[UsageSite]:
        return [self.site(src, node, rule, detail) for node, rule, detail in _sites(src.tree)]

    # ---- rewriting ---------------------------------------------------------------------------------

    def target_floor(self, ctx: RewriteContext) -> Version:
        """The oldest known release the campaign's target admits."""
        return oldest_target(self, ctx, "1.2.1")

    def rewrite_file(
        self, path: str, text: str, ctx: RewriteContext, prepared: object
    ) -> RewriteResult | None:
        name = posixpath.basename(path)
        if not path.endswith(".py") and (name == ".env" or name.startswith(".env.") or name.endswith(".env")):
            return RewriteResult(text, list(self._env_file_findings(path, text)))
        return super().rewrite_file(path, text, ctx, prepared)

    def _env_file_findings(self, path: str, text: str) -> Iterator[Finding]:
        for number, message in env_lines(text):
            yield self.finding(path, number, "python-dotenv/empty-value-comment", message)

    def rewrite_python(self, path: str, text: str, kind: FileKind, ctx: RewriteContext) -> RewriteResult:
        if not self.anchor_implicit_path:  # the text stays as it is: its findings are its sites
            known = self.known(ctx)
            found = known.found.get(path) if known is not None and path in known.sources else None
            if found is not None:  # the scan's sites of this very text, in the order `_sites` yields them
                return RewriteResult(text, [self._finding(path, line, rule, detail) for line, rule, detail in found])
        try:
            tree = parse_tree(text)
        except SyntaxError as exc:
            return RewriteResult(text, [Finding(path, 0, "python-dotenv/implicit-path", f"could not parse: {exc}", Severity.ERROR, CHANGELOG, self.id)])  # fmt: skip
        new_text = text
        if self.anchor_implicit_path:
            env_dir = _nearest_env_dir(path, ctx)
            if env_dir is not None:
                new_text = _anchor(text, tree, env_dir)
                tree = parse_tree(new_text)
        lines = None  # the lines of the text's sites, when the scan's detection of this very text holds
        known = self.known(ctx) if new_text == text else None
        if known is not None and path in known.sources:
            lines = known.sites.get(path)
        findings = [self._finding(path, getattr(node, "lineno", 0), rule, detail or self.rule(rule).summary)
                    for node, rule, detail in _sites(tree, lines)]
        return RewriteResult(new_text, findings)

    def _finding(self, path: str, line: int, rule_id: str, detail: str) -> Finding:
        """The Finding of a site whose `UsageSite.detail` is `detail` (a rule's summary stands for a site with no
        detail of its own: it is told the summary and the fix; no rule's `match` gives its summary as a detail)."""
        r = self.rule(rule_id)
        sev = Severity.ADVICE if r.action is Action.INFO else Severity.HUMAN
        return self.finding(path, line, rule_id, f"{r.summary}; {r.fix}" if detail == r.summary else detail, sev)


def _sites(tree: ast.Module, lines: Sequence[int] | None = None) -> Iterator[tuple[ast.AST, str, str]]:
    """(node, rule id, detail) for every python-dotenv site in a module: each node goes to every rule's `match` (in
    rule order, the first that reports it), but those of a rule module declaring the node kinds it reports
    (`MATCHES`) only nodes of those kinds. `lines`: the lines the module's sites are known to start on (the scan's
    detection of the same text); only the nodes that may hold one of them are looked at."""
    imports = Imports(tree)
    every, by_kind = _matchers()
    for node in walk(tree) if lines is None else _around(tree, sorted(lines)):
        for rule_id, match in by_kind.get(node.__class__, every):
            detail = match(node, imports)
            if detail is not None:
                yield node, rule_id, detail
                break


_UNSPANNED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.JoinedStr)


def _around(tree: ast.Module, lines: list[int]) -> list[ast.AST]:
    """The nodes of `walk(tree)` (in its order) but those in a subtree whose lines hold none of `lines`: a statement or
    expression holds its children within its lines, but for the decorators of a def or class (and, on Python 3.11,
    what an f-string's holes hold, whose lines may be off); a node with no lines is looked into."""
    out: list[ast.AST] = [tree]
    for node in out:  # the list grows while it is read: breadth first, as `walk`
        for child in ast.iter_child_nodes(node):
            end = getattr(child, "end_lineno", None)
            if end is not None and not isinstance(child, _UNSPANNED):
                i = bisect_left(lines, child.lineno)  # type: ignore[attr-defined]
                if i == len(lines) or lines[i] > end:
                    continue
            out.append(child)
    return out


@functools.cache
def _matchers() -> tuple[tuple[tuple[str, Callable[..., str | None]], ...],
                         dict[type, tuple[tuple[str, Callable[..., str | None]], ...]]]:
    """The rules' `match` functions in rule order, for a node of a kind no rule module declares (those of the rule
    modules declaring no `MATCHES`), and for each declared kind."""
    found = [(m.rule.id, match, getattr(m.module, "MATCHES", None))
             for m in DotenvRecipe.rule_modules if (match := m.hook("match")) is not None]
    kinds = {k for _, _, ks in found for k in ks or ()}
    every = tuple((rid, match) for rid, match, ks in found if ks is None)
    by_kind = {k: tuple((rid, match) for rid, match, ks in found if ks is None or k in ks) for k in kinds}
    return every, by_kind


def _nearest_env_dir(path: str, ctx: RewriteContext) -> int | None:
    """How many folders above `path`'s own folder the nearest visible `.env` sits (0 = beside it)."""
    envs = {posixpath.dirname(p) for p in ctx.files if posixpath.basename(p) == ".env"}
    folder = posixpath.dirname(path)
    for up in range(folder.count("/") + 2):
        if folder in envs:
            return up
        if not folder:
            break
        folder = posixpath.dirname(folder)
    return None


RECIPE = DotenvRecipe()

__all__ = [
    "CHANGELOG",
    "EMPTY_WITH_COMMENT",
    "IMPLICIT_MESSAGE",
    "IMPLICIT_PATH_CALLS",
    "PR",
    "RECIPE",
    "SET_KEY_CALLS",
    "DotenvRecipe",
]
