"""asyncio_mqtt was renamed aiomqtt; aiomqtt.error became aiomqtt.exceptions, Topic moved out of aiomqtt.client

Imports, module attribute chains and mock.patch targets are rewritten to aiomqtt (MqttConnectError from
aiomqtt.exceptions).
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from fleetshift.recipes.aiomqtt import names as N
from fleetshift.recipes.aiomqtt.edits import PlannedFix
from fleetshift.recipes.aiomqtt.facts import Facts, Site
from fleetshift.recipes.aiomqtt.tree import callee_name
from fleetshift.recipes.rule import AUTO, rule

if TYPE_CHECKING:
    import libcst as cst

RULE = rule(__name__, __doc__, AUTO, since="1.0.0", order=0)

PATCH_CALLS = frozenset({"patch", "setattr", "delattr", "import_module"})


def check(facts: Facts) -> list[Site]:
    """Old imports; attribute chains, bare module names and patch strings that spell the old modules."""
    out: list[Site] = []
    # the local names bound to the old or new package itself (`import asyncio_mqtt as mqtt`)
    module_aliases = {k: v for k, v in facts.imports.names.items() if v in (N.OLD_PACKAGE, N.NEW_PACKAGE)}
    for node in facts.of(ast.Import, ast.ImportFrom):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == N.OLD_PACKAGE or alias.name.startswith(
                    (N.OLD_PACKAGE + ".", "aiomqtt.error")
                ):
                    out.append(facts.site("imports", node, f"import {alias.name}"))
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = tuple(a.name for a in node.names)
            if N.is_old_module(node.module, names):
                out.append(facts.site("imports", node, f"from {node.module} import {', '.join(names)}"))
    for node in facts.of(ast.Attribute, ast.Name, ast.Constant):
        if isinstance(node, ast.Attribute) and not isinstance(facts.parents.get(id(node)), ast.Attribute):
            out.extend(_chain(facts, node, module_aliases))
        elif isinstance(node, ast.Name) and node.id == N.OLD_PACKAGE and N.OLD_PACKAGE in module_aliases:
            if not isinstance(facts.parents.get(id(node)), ast.Attribute):
                out.append(
                    facts.site("imports", node, edits=((facts.key(node), N.NEW_PACKAGE),), shown=False)
                )
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and N.is_old_patch_target(node.value)
        ):
            parent = facts.parents.get(id(node))
            if (
                isinstance(parent, ast.Call)
                and callee_name(parent.func) in PATCH_CALLS
                and node in parent.args[:1]
            ):
                new = N.patch_target(node.value)
                out.append(
                    facts.site(
                        "imports", node, f"patch target {node.value!r}", edits=((facts.key(node), new),)
                    )
                )
            elif node.value.startswith(N.OLD_PACKAGE):
                out.append(
                    facts.human(
                        "imports",
                        node,
                        f"string {node.value!r} names the old asyncio_mqtt module; it is {N.patch_target(node.value)!r} in aiomqtt 2.x.",
                    )
                )
    return out


def _chain(facts: Facts, node: ast.Attribute, module_aliases: dict[str, str]) -> list[Site]:
    parts: list[str] = []
    root: ast.AST = node
    while isinstance(root, ast.Attribute):
        parts.append(root.attr)
        root = root.value
    if not isinstance(root, ast.Name) or root.id not in module_aliases:
        return []
    parts.reverse()
    module = module_aliases[root.id]
    new_root = N.NEW_PACKAGE if root.id == N.OLD_PACKAGE else root.id
    new = N.new_dotted(".".join([module, *parts]))
    code = ".".join([new_root, *new.split(".")[1:]])
    if code == facts.src(node) or code == ast.unparse(node):
        return []
    return [
        facts.site("imports", node, f"{ast.unparse(node)} -> {code}", edits=((facts.key(node), "=" + code),))
    ]


class Fix(PlannedFix):
    """Imports rewritten by their shape; module chains, bare module names and patch strings by position."""

    EDITS_ONLY = False  # the imports' shapes change with no edit planned

    def leave_SimpleStatementLine(
        self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
        import libcst as cst

        body: list[cst.BaseSmallStatement] = []
        changed = False
        for small in updated.body:
            new: list[cst.BaseSmallStatement] | None = None
            if isinstance(small, cst.ImportFrom):
                new = import_from(small)  # type: ignore[assignment]
            elif isinstance(small, cst.Import):
                one = import_(small)
                new = [one] if one is not None else None
            if new is None:
                body.append(small)
                continue
            changed = True
            if len(new) > 1:
                new = [s.with_changes(semicolon=cst.MaybeSentinel.DEFAULT) for s in new]  # type: ignore[union-attr]
            body.extend(new)
        if not changed:
            return updated
        if len(updated.body) == 1 and len(body) > 1:
            lines = [
                cst.SimpleStatementLine(body=[s], trailing_whitespace=updated.trailing_whitespace)
                for s in body
            ]
            lines[0] = lines[0].with_changes(leading_lines=updated.leading_lines)
            return cst.FlattenSentinel(lines)
        body = [
            s.with_changes(semicolon=cst.Semicolon(whitespace_after=cst.SimpleWhitespace(" ")))  # type: ignore[union-attr]
            if i < len(body) - 1 and s.semicolon is cst.MaybeSentinel.DEFAULT  # type: ignore[union-attr]
            else s
            for i, s in enumerate(body)
        ]
        return updated.with_changes(body=body)

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        new = self.first(original, str)
        return updated.with_changes(value=new) if new else updated

    def leave_SimpleString(self, original: cst.SimpleString, updated: cst.SimpleString) -> cst.SimpleString:
        new = self.first(original, str)
        if new is None:
            return updated
        return updated.with_changes(value=f"{updated.prefix}{updated.quote}{new}{updated.quote}")


def import_from(node: cst.ImportFrom) -> list[cst.ImportFrom] | None:
    """An old `from ... import ...` in its 2.x spelling (several statements when the names now live apart)."""
    import libcst as cst
    from libcst.helpers import get_full_name_for_node

    from fleetshift.recipes._cst import expression

    if node.relative or node.module is None:
        return None
    module = get_full_name_for_node(node.module) or ""
    if isinstance(node.names, cst.ImportStar):
        if not N.is_old_module(module):
            return None
        return [node.with_changes(module=expression(N.new_module(module, "*")))]
    aliases = list(node.names)
    names = tuple(get_full_name_for_node(a.name) or "" for a in aliases)
    if not N.is_old_module(module, names):
        return None
    groups: dict[str, list[tuple[str, str | None]]] = {}
    for alias, name in zip(aliases, names, strict=True):
        asname = get_full_name_for_node(alias.asname.name) if alias.asname else None
        if name in N.SUBMODULES and module in (N.OLD_PACKAGE, N.NEW_PACKAGE):
            new_name = N.SUBMODULES[name]
            groups.setdefault(N.NEW_PACKAGE, []).append(
                (new_name, asname or (name if new_name != name else None))
            )
        else:
            groups.setdefault(N.new_module(module, name), []).append((name, asname))
    if len(groups) == 1:
        (target, entries), renamed = next(iter(groups.items())), False
        new_aliases = []
        for alias, (name, asname) in zip(aliases, entries, strict=True):
            old_as = get_full_name_for_node(alias.asname.name) if alias.asname else None
            if asname != old_as or (get_full_name_for_node(alias.name) or "") != name:
                renamed = True
                alias = alias.with_changes(
                    name=cst.Name(name), asname=cst.AsName(cst.Name(asname)) if asname else None
                )
            new_aliases.append(alias)
        return [
            node.with_changes(
                module=expression(target), names=new_aliases if renamed else node.names
            )
        ]
    out = []
    for target, entries in groups.items():
        spelled = ", ".join(f"{n} as {a}" if a else n for n, a in entries)
        stmt = cst.parse_statement(f"from {target} import {spelled}\n")
        assert isinstance(stmt, cst.SimpleStatementLine)
        out.append(stmt.body[0])
    return out  # type: ignore[return-value]


def import_(node: cst.Import) -> cst.Import | None:
    """An `import asyncio_mqtt[.x] [as y]` in its 2.x spelling (None when nothing changes)."""
    import libcst as cst
    from libcst.helpers import get_full_name_for_node

    from fleetshift.recipes._cst import expression

    changed = False
    seen: set[tuple[str, str | None]] = set()
    out: list[cst.ImportAlias] = []
    for alias in node.names:
        name = get_full_name_for_node(alias.name) or ""
        asname = get_full_name_for_node(alias.asname.name) if alias.asname else None
        new_name, new_as = name, asname
        if name == N.OLD_PACKAGE or name.startswith(N.OLD_PACKAGE + ".") or name.startswith("aiomqtt.error"):
            sub = name.split(".")[1] if "." in name else ""
            new_name = f"{N.NEW_PACKAGE}.{N.SUBMODULES.get(sub, sub)}" if asname and sub else N.NEW_PACKAGE
            if new_as == N.NEW_PACKAGE and new_name == N.NEW_PACKAGE:
                new_as = None
        if (new_name, new_as) in seen:
            changed = True
            continue
        seen.add((new_name, new_as))
        if (new_name, new_as) != (name, asname):
            changed = True
            alias = alias.with_changes(
                name=expression(new_name), asname=cst.AsName(cst.Name(new_as)) if new_as else None
            )
        out.append(alias)
    if not changed:
        return None
    out[-1] = out[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return node.with_changes(names=out)
