"""What the tenacity rules' LibCST fixes share: the one walk that applies them, finding the `ast` site a
LibCST node stands at, and argument/import editing. LibCST is imported inside each function, so a rule
module may import this one at its top and scanning still never loads LibCST."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from fleetshift.recipes.rule import RuleModule
from fleetshift.recipes.tenacity.resolve import Facts, Key

if TYPE_CHECKING:
    import libcst as cst


def rewrite_module(text: str, facts: Facts, rules: Iterable[RuleModule]) -> str:
    """`text` with the `Fix` of each of `rules` applied in one LibCST walk, each judging with `facts`."""

    from fleetshift.recipes import fixes

    applied = [m.module.Fix(facts) for m in rules if hasattr(m.module, "Fix")]
    module = fixes.parse(text)
    return fixes.code(module, fixes.apply(module, applied))


class SiteFix:
    """A fix that rewrites the LibCST nodes standing where its rule's `ast` check found a site to rewrite.

    `sites` maps a site's span (`Facts.key`) to what the check decided there; `site(node)` looks a LibCST
    node up by its position, so the decision is made once, on `ast`, and never re-derived from LibCST.
    """

    def __init__(self, facts: Facts, sites: Mapping[Key, Any]) -> None:
        self.facts, self.sites = facts, dict(sites)

    @property
    def METADATA_DEPENDENCIES(self) -> tuple[type, ...]:
        from libcst.metadata import PositionProvider

        return (PositionProvider,) if self.sites else ()

    def site(self, node: cst.CSTNode) -> Any:
        """What the check decided for the site `node` stands at, or None."""
        if not self.sites:
            return None
        from libcst.metadata import PositionProvider

        pos = self.get_metadata(PositionProvider, node)  # type: ignore[attr-defined]
        return self.sites.get((pos.start.line, pos.start.column, pos.end.line, pos.end.column))


def kwarg(name: str, value: cst.BaseExpression) -> cst.Arg:
    """`name=value`, written without spaces around `=`."""
    import libcst as cst

    return cst.Arg(
        value=value,
        keyword=cst.Name(name),
        equal=cst.AssignEqual(
            whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
        ),
    )


def append_arg(call: cst.Call, arg: cst.Arg) -> cst.Call:
    return call.with_changes(args=append(call.args, [arg]))


def append(items: Sequence[Any], added: Sequence[Any]) -> list[Any]:
    """`items` followed by `added`, separated the way `items` are; a trailing comma stays at the end."""
    import libcst as cst

    out = list(items)
    last = out[-1]
    if isinstance(last.comma, cst.Comma):
        between = out[-2].comma if len(out) > 1 and isinstance(out[-2].comma, cst.Comma) else last.comma
        out[-1] = last.with_changes(comma=between)
        return (
            out
            + [a.with_changes(comma=between) for a in added[:-1]]
            + [added[-1].with_changes(comma=last.comma)]
        )
    space = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    out[-1] = last.with_changes(comma=space)
    return out + [a.with_changes(comma=space) for a in added[:-1]] + list(added[-1:])


def comma_separated(items: list[Any]) -> list[Any]:
    """`items` written `a, b, c`: each but the last gets a comma and a space."""
    import libcst as cst

    return [
        i.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) for i in items[:-1]
    ] + items[-1:]


def add_tenacity_names(module: cst.Module, names: Sequence[str]) -> cst.Module:
    """`module` importing `names` from tenacity: appended to its first module-level `from tenacity import`
    (keeping its layout), or in a new import."""
    import libcst as cst
    from libcst.codemod import CodemodContext
    from libcst.codemod.visitors import AddImportsVisitor

    class AddNames(cst.CSTTransformer):
        """Appends the names to the first `from tenacity import` outside functions and classes, walking only what
        can hold one: the module's statements and the blocks of its compound statements, not into a def or a
        class, nor into an expression, and nothing after it."""

        def __init__(self) -> None:
            super().__init__()
            self.done = False

        def on_visit(self, node: cst.CSTNode) -> bool:
            if self.done or isinstance(node, (cst.FunctionDef, cst.ClassDef)):
                return False
            return isinstance(node, _HOLDERS)

        def leave_ImportFrom(
            self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom
        ) -> cst.ImportFrom:
            if self.done or updated_node.relative or isinstance(updated_node.names, cst.ImportStar):
                return updated_node
            if updated_node.module is None or cst.Module([]).code_for_node(updated_node.module) != "tenacity":
                return updated_node
            self.done = True
            added = [cst.ImportAlias(name=cst.Name(n)) for n in names]
            return updated_node.with_changes(names=append(updated_node.names, added))

    _HOLDERS = (
        cst.Module, cst.BaseCompoundStatement, cst.BaseSuite, cst.SimpleStatementLine, cst.Else, cst.ExceptHandler,
        cst.ExceptStarHandler, cst.Finally, cst.MatchCase,
    )  # fmt: skip
    adder = AddNames()
    new = module.visit(adder)
    if adder.done:
        return new
    context = CodemodContext()
    for name in names:
        AddImportsVisitor.add_needed_import(context, "tenacity", name)
    return AddImportsVisitor(context).transform_module(new)
