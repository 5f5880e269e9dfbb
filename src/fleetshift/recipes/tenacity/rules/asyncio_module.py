"""`tenacity._asyncio` was removed (now `tenacity.asyncio`)

import AsyncRetrying from `tenacity`, other names from `tenacity.asyncio`
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from fleetshift.recipes._ast import dotted, keyword
from fleetshift.recipes.rule import AUTO, rule
from fleetshift.recipes.tenacity.resolve import Facts
from fleetshift.recipes.tenacity.rewrite import SiteFix, comma_separated

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="8.4.0", link="https://github.com/jd/tenacity/pull/451", order=0)

# Names `tenacity._asyncio` offered in 8.2.3 that `tenacity.asyncio` still offers in 9.1.2 and 9.2.1 (ran).
ASYNCIO_NAMES = frozenset(
    {"AttemptManager", "BaseRetrying", "DoAttempt", "DoSleep", "RetryCallState", "WrappedFn", "WrappedFnReturnT"}
)


MOVED = ASYNCIO_NAMES | {"AsyncRetrying"}  # every name `tenacity.asyncio` offers as `tenacity._asyncio` did
# patch.multiple's own keywords (the others name the attributes it patches)
MULTIPLE_OPTIONS = frozenset({"spec", "create", "spec_set", "autospec", "new_callable"})


@dataclass(frozen=True)
class PatchTarget:
    """Something inside `tenacity._asyncio` a test patches: the string naming it (`mock.patch("...")`,
    `monkeypatch.setattr("...", v)`, `patch.multiple("...", ...)`) or the expression standing for the module
    (`patch.object(tenacity._asyncio, "...")`, `monkeypatch.setattr(ta, "...", v)`), and the names patched in it."""

    node: ast.expr
    names: tuple[str, ...]  # empty when they cannot be read

    @property
    def movable(self) -> bool:
        """Whether every patched name is in `tenacity.asyncio` too (so the target can name that module)."""
        return bool(self.names) and all(n in MOVED for n in self.names)


def patch_targets(facts: Facts) -> Iterator[PatchTarget]:
    """Every patch of something inside `tenacity._asyncio`, by string or by module object."""
    if not facts.tenacity:
        return  # no tenacity name without tenacity written
    for call in facts.nodes(ast.Call):
        assert isinstance(call, ast.Call)
        name = dotted(call.func) or ""
        last = name.rsplit(".", 1)[-1]
        if last not in ("patch", "object", "setattr", "multiple"):
            continue
        target = keyword(call, "target")
        first = call.args[0] if call.args else target.value if target is not None else None
        if first is None:
            continue
        kw_names = tuple(k.arg for k in call.keywords if k.arg and k.arg not in MULTIPLE_OPTIONS)
        if isinstance(first, ast.Constant) and isinstance(first.value, str) and last != "object":
            text = first.value
            if last == "multiple" and text == "tenacity._asyncio":
                yield PatchTarget(first, kw_names)
            elif text.startswith("tenacity._asyncio."):
                yield PatchTarget(first, (text.split(".")[2],))
        elif last != "patch" and facts.imports.qualname(first) == "tenacity._asyncio":
            if last == "multiple":
                yield PatchTarget(first, kw_names)
                continue
            attr = call.args[1] if len(call.args) > 1 else getattr(keyword(call, "attribute"), "value", None)
            text = attr.value if isinstance(attr, ast.Constant) and isinstance(attr.value, str) else ""
            yield PatchTarget(first, (text,) if text else ())


def check(facts: Facts) -> Iterator[tuple[ast.AST, str]]:
    """Imports of `tenacity._asyncio`, attributes read through it, and patches of names it shares with
    `tenacity.asyncio` (by string, or on the module object written `tenacity._asyncio`)."""
    if not facts.tenacity:
        return  # no tenacity name without tenacity written
    # an attribute is read through the module only from a name an import binds to it or to tenacity
    kinds = (ast.ImportFrom, ast.Import, ast.Attribute) if _module_names(facts) else (ast.ImportFrom, ast.Import)
    for node in facts.nodes(*kinds):
        if isinstance(node, ast.ImportFrom) and not node.level:
            if node.module == "tenacity._asyncio" or (
                node.module == "tenacity" and any(a.name == "_asyncio" for a in node.names)
            ):
                yield node, f"`from {node.module} import ...`"
        elif isinstance(node, ast.Import):
            if any(a.name == "tenacity._asyncio" for a in node.names):
                yield node, "`import tenacity._asyncio`"
        elif isinstance(node, ast.Attribute):
            if (
                isinstance(node.value, (ast.Name, ast.Attribute))
                and facts.imports.qualname(node.value) == "tenacity._asyncio"
            ):
                yield node, f"`{dotted(node) or node.attr}`"
    for node in moved_references(facts):
        yield node, f"`{ast.unparse(node)}` -> `tenacity.asyncio`"


def _module_names(facts: Facts) -> bool:
    """Whether an import binds a name to `tenacity._asyncio` or to `tenacity`: a Name/Attribute chain resolves to
    `tenacity._asyncio` (`Imports.qualname`) only from such a name (`import tenacity._asyncio as ta`, `import
    tenacity`)."""
    return any(qual in ("tenacity", "tenacity._asyncio") for qual in facts.imports.names.values())


def moved_references(facts: Facts) -> Iterator[ast.Constant | ast.Attribute]:
    """What names the module itself and can name `tenacity.asyncio` instead: patch targets whose names are
    all there, and the module object written `tenacity._asyncio` (unless it is patched for a name that is not)."""
    if not facts.tenacity:
        return  # no tenacity name without tenacity written
    stays = set()
    for patch in patch_targets(facts):
        if patch.movable and isinstance(patch.node, (ast.Constant, ast.Attribute)):
            yield patch.node
        stays.add(id(patch.node))
    if not _module_names(facts):
        return  # no attribute chain can name the module
    attributes = facts.kinds.get(ast.Attribute, ())
    inner = {id(a.value) for a in attributes}  # type: ignore[attr-defined]
    for node in attributes:
        assert isinstance(node, ast.Attribute)
        if id(node) in stays or not isinstance(node.ctx, ast.Load):
            continue
        if id(node) in inner:
            continue  # tenacity._asyncio.X: the attribute chain's own site
        if (
            isinstance(node.value, (ast.Name, ast.Attribute))
            and facts.imports.qualname(node) == "tenacity._asyncio"
        ):
            yield node


def aliases_ok(facts: Facts) -> dict[str, bool]:
    """For names bound to the `tenacity._asyncio` module: may the import move to `tenacity.asyncio`? Not
    when a name it is read or patched for is missing from `tenacity.asyncio`."""
    out = {
        local: True
        for local, qual in facts.imports.names.items()
        if qual == "tenacity._asyncio" and local != "tenacity"
    }
    for node in facts.nodes(ast.Attribute):
        assert isinstance(node, ast.Attribute)
        if isinstance(node.value, ast.Name) and node.value.id in out:
            if node.attr not in MOVED:
                out[node.value.id] = False
    for patch in patch_targets(facts):
        if isinstance(patch.node, ast.Name) and patch.node.id in out and not patch.movable:
            out[patch.node.id] = False
    return out


def new_module(name: str) -> str | None:
    """Where a name imported from `tenacity._asyncio` lives now."""
    if name == "AsyncRetrying":
        return "tenacity"
    return "tenacity.asyncio" if name in ASYNCIO_NAMES else "asyncio" if name == "sleep" else None


class Fix(SiteFix):
    """Move imports to `tenacity`/`tenacity.asyncio`; `tenacity._asyncio.X` attributes to their new home."""

    def __init__(self, facts: Facts) -> None:
        sites: dict[tuple[int, int, int, int], tuple[str, str]] = {
            facts.key(node): ("chain", node.attr)
            for node, _ in facts.checked(check)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute)
        }
        for node in moved_references(facts):
            sites[facts.key(node)] = ("module", "")
        super().__init__(facts, sites)
        self.alias_ok = aliases_ok(facts)

    def split(self, node: cst.ImportFrom) -> list[cst.ImportFrom] | None:
        import libcst as cst

        from fleetshift.recipes._cst import expression

        if isinstance(node.names, cst.ImportStar):
            return None
        groups: dict[str, list[cst.ImportAlias]] = {}
        for alias in node.names:
            module = new_module(alias.name.value if isinstance(alias.name, cst.Name) else "")
            if module is None:
                return None
            groups.setdefault(module, []).append(alias)
        if len(groups) == 1:
            [(module, _)] = groups.items()
            return [node.with_changes(module=expression(module))]
        if "#" in cst.Module([]).code_for_node(node):
            return None  # comments inside a parenthesised import would be lost
        out = []
        for module, aliases in groups.items():
            names = comma_separated([a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in aliases])
            out.append(cst.ImportFrom(module=expression(module), names=names))  # type: ignore[arg-type]
        return out

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine | cst.FlattenSentinel[cst.SimpleStatementLine]:
        import libcst as cst

        from fleetshift.recipes.fixes import lone_import_from

        imp = lone_import_from(updated_node, "tenacity._asyncio")
        if imp is None:
            return updated_node
        parts = self.split(imp)
        if parts is None or len(parts) == 1:
            return updated_node.with_changes(body=parts) if parts else updated_node
        lines = [updated_node.with_changes(body=[parts[0]], trailing_whitespace=cst.TrailingWhitespace())]
        lines += [cst.SimpleStatementLine(body=[p]) for p in parts[1:-1]]
        lines.append(
            cst.SimpleStatementLine(body=[parts[-1]], trailing_whitespace=updated_node.trailing_whitespace)
        )
        return cst.FlattenSentinel(lines)

    def leave_ImportFrom(self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom) -> cst.ImportFrom:
        import libcst as cst

        if (
            updated_node.relative
            or updated_node.module is None
            or isinstance(updated_node.names, cst.ImportStar)
        ):
            return updated_node
        if cst.Module([]).code_for_node(updated_node.module) != "tenacity":
            return updated_node
        names = []
        for alias in updated_node.names:
            if isinstance(alias.name, cst.Name) and alias.name.value == "_asyncio":
                local = alias.asname.name.value if alias.asname else "_asyncio"  # type: ignore[union-attr]
                if not self.alias_ok.get(local, False):
                    return updated_node
                alias = alias.with_changes(
                    name=cst.Name("asyncio"), asname=alias.asname or cst.AsName(name=cst.Name("_asyncio"))
                )
            names.append(alias)
        return updated_node.with_changes(names=names)

    def leave_Import(self, original_node: cst.Import, updated_node: cst.Import) -> cst.Import:
        import libcst as cst

        from fleetshift.recipes._cst import expression

        names = []
        for alias in updated_node.names:
            if cst.Module([]).code_for_node(alias.name) == "tenacity._asyncio":
                local = alias.asname.name.value if alias.asname else None  # type: ignore[union-attr]
                if local is not None and not self.alias_ok.get(local, False):
                    return updated_node
                alias = alias.with_changes(name=expression("tenacity.asyncio"))
            names.append(alias)
        return updated_node.with_changes(names=names)

    def leave_Attribute(
        self, original_node: cst.Attribute, updated_node: cst.Attribute
    ) -> cst.BaseExpression:
        import libcst as cst

        found, value = self.site(original_node), updated_node.value
        if found is None:
            return updated_node
        kind, attr = found
        if kind == "module":  # the module object itself
            return updated_node.with_changes(attr=cst.Name("asyncio"))
        if not isinstance(value, cst.Attribute):
            return updated_node
        if attr == "AsyncRetrying":
            return updated_node.with_changes(value=value.value)
        if attr in ASYNCIO_NAMES:
            return updated_node.with_changes(value=value.with_changes(attr=cst.Name("asyncio")))
        return updated_node

    def leave_SimpleString(
        self, original_node: cst.SimpleString, updated_node: cst.SimpleString
    ) -> cst.SimpleString:
        if self.site(original_node) is None or "tenacity._asyncio" not in updated_node.value:
            return updated_node
        return updated_node.with_changes(
            value=updated_node.value.replace("tenacity._asyncio", "tenacity.asyncio", 1)
        )
