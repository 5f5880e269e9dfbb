"""Apply an analysis Plan to a file with LibCST, keeping its formatting; imports are rewritten by shape."""

from __future__ import annotations

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from libcst.helpers import get_full_name_for_node
from libcst.metadata import MetadataWrapper, PositionProvider

from fleetshift.recipes.aiomqtt import names as N
from fleetshift.recipes.aiomqtt.analysis import CallOp, Key, Plan


def apply(text: str, plan: Plan) -> str:
    """The text of the file after the plan's edits and the import rewrites."""
    module = cst.parse_module(text)
    new = MetadataWrapper(module).visit(_Rewriter(plan))
    if plan.needs_math:
        ctx = CodemodContext()
        AddImportsVisitor.add_needed_import(ctx, "math")
        new = AddImportsVisitor(ctx).transform_module(new)
    return new.code


def _comma_space() -> cst.Comma:
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _edit_args(args: list[cst.Arg], op: CallOp) -> list[cst.Arg]:
    idx = next(
        (i for i, a in enumerate(args) if a.keyword is not None and a.keyword.value == op.keyword), None
    )
    if op.kind == "add":
        new_arg = cst.Arg(
            keyword=cst.Name(op.keyword),
            value=cst.parse_expression(op.new),
            equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
        )
        if not args:
            return [new_arg]
        last = args[-1]
        if isinstance(last.comma, cst.Comma):  # trailing comma: the new argument takes it over
            sep = (
                args[-2].comma if len(args) > 1 and isinstance(args[-2].comma, cst.Comma) else _comma_space()
            )
            return [*args[:-1], last.with_changes(comma=sep), new_arg.with_changes(comma=last.comma)]
        return [*args[:-1], last.with_changes(comma=_comma_space()), new_arg]
    if idx is None:
        return args
    arg = args[idx]
    if op.kind == "rename":
        return [*args[:idx], arg.with_changes(keyword=cst.Name(op.new)), *args[idx + 1 :]]
    if op.kind == "value":
        return [*args[:idx], arg.with_changes(value=cst.parse_expression(op.new)), *args[idx + 1 :]]
    # drop
    rest = [*args[:idx], *args[idx + 1 :]]
    if idx == len(args) - 1 and rest:
        rest[-1] = rest[-1].with_changes(comma=arg.comma)
    return rest


def _import_from(node: cst.ImportFrom) -> list[cst.ImportFrom] | None:
    if node.relative or node.module is None:
        return None
    module = get_full_name_for_node(node.module) or ""
    if isinstance(node.names, cst.ImportStar):
        if not N.is_old_module(module):
            return None
        target = N.new_module(module, "*")
        return [node.with_changes(module=cst.parse_expression(target))]
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
                    name=cst.Name(name),
                    asname=cst.AsName(cst.Name(asname)) if asname else None,
                )
            new_aliases.append(alias)
        return [
            node.with_changes(
                module=cst.parse_expression(target), names=new_aliases if renamed else node.names
            )
        ]
    out = []
    for target, entries in groups.items():
        spelled = ", ".join(f"{n} as {a}" if a else n for n, a in entries)
        stmt = cst.parse_statement(f"from {target} import {spelled}\n")
        assert isinstance(stmt, cst.SimpleStatementLine)
        out.append(stmt.body[0])
    return out  # type: ignore[return-value]


def _import(node: cst.Import) -> cst.Import | None:
    changed = False
    seen: set[tuple[str, str | None]] = set()
    out: list[cst.ImportAlias] = []
    for alias in node.names:
        name = get_full_name_for_node(alias.name) or ""
        asname = get_full_name_for_node(alias.asname.name) if alias.asname else None
        new_name, new_as = name, asname
        is_old = (
            name == N.OLD_PACKAGE or name.startswith(N.OLD_PACKAGE + ".") or name.startswith("aiomqtt.error")
        )
        if is_old:
            sub = name.split(".")[1] if "." in name else ""
            if asname and sub:
                new_name = f"{N.NEW_PACKAGE}.{N.SUBMODULES.get(sub, sub)}"
            else:
                new_name = N.NEW_PACKAGE
            if new_as == N.NEW_PACKAGE and new_name == N.NEW_PACKAGE:
                new_as = None
        if (new_name, new_as) in seen:
            changed = True
            continue
        seen.add((new_name, new_as))
        if (new_name, new_as) != (name, asname):
            changed = True
            alias = alias.with_changes(
                name=cst.parse_expression(new_name), asname=cst.AsName(cst.Name(new_as)) if new_as else None
            )
        out.append(alias)
    if not changed:
        return None
    out[-1] = out[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return node.with_changes(names=out)


class _Rewriter(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, plan: Plan) -> None:
        super().__init__()
        self.plan = plan
        self.pending_leading: list[list[cst.EmptyLine]] = []

    def key(self, node: cst.CSTNode) -> Key:
        r = self.get_metadata(PositionProvider, node)
        return (r.start.line, r.start.column, r.end.line, r.end.column)

    # ---- statements ---------------------------------------------------------------------------

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement] | cst.RemovalSentinel:
        if len(original_node.body) == 1:
            small = original_node.body[0]
            if (
                isinstance(small, cst.Expr)
                and isinstance(small.value, cst.Await)
                and isinstance(small.value.expression, cst.Call)
                and self.key(small.value.expression) in self.plan.drop_stmts
            ):
                self.pending_leading.append(list(updated_node.leading_lines))
                return cst.RemoveFromParent()
        body: list[cst.BaseSmallStatement] = []
        changed = False
        for small in updated_node.body:
            new: list[cst.BaseSmallStatement] | None = None
            if isinstance(small, cst.ImportFrom):
                new = _import_from(small)  # type: ignore[assignment]
            elif isinstance(small, cst.Import):
                one = _import(small)
                new = [one] if one is not None else None
            if new is None:
                body.append(small)
                continue
            changed = True
            if len(new) > 1:
                new = [s.with_changes(semicolon=cst.MaybeSentinel.DEFAULT) for s in new]  # type: ignore[union-attr]
            body.extend(new)
        if not changed:
            return updated_node
        if len(updated_node.body) == 1 and len(body) > 1:
            lines = [
                cst.SimpleStatementLine(body=[s], trailing_whitespace=updated_node.trailing_whitespace)
                for s in body
            ]
            lines[0] = lines[0].with_changes(leading_lines=updated_node.leading_lines)
            return cst.FlattenSentinel(lines)
        body = [
            s.with_changes(semicolon=cst.Semicolon(whitespace_after=cst.SimpleWhitespace(" ")))  # type: ignore[union-attr]
            if i < len(body) - 1 and s.semicolon is cst.MaybeSentinel.DEFAULT  # type: ignore[union-attr]
            else s
            for i, s in enumerate(body)
        ]
        return updated_node.with_changes(body=body)

    def leave_With(
        self, original_node: cst.With, updated_node: cst.With
    ) -> cst.BaseStatement | cst.FlattenSentinel[cst.BaseStatement]:
        if self.key(original_node) not in self.plan.flatten_with or not isinstance(
            updated_node.body, cst.IndentedBlock
        ):
            return updated_node
        stmts = list(updated_node.body.body)
        lead = list(updated_node.leading_lines)
        header = updated_node.body.header
        if header.comment is not None:
            lead.append(cst.EmptyLine(comment=header.comment))
        stmts[0] = stmts[0].with_changes(leading_lines=[*lead, *stmts[0].leading_lines])
        return cst.FlattenSentinel(stmts)

    def leave_For(self, original_node: cst.For, updated_node: cst.For) -> cst.For:
        op = self.plan.for_ops.get(self.key(original_node))
        if op is None:
            return updated_node
        new = updated_node.with_changes(iter=cst.parse_expression(op.iter_code))
        if op.filter_code is None or not isinstance(new.body, cst.IndentedBlock):
            return new
        body = new.body
        guard = cst.If(
            test=cst.parse_expression(f"{op.target}.topic.matches({op.filter_code})"),
            body=body.with_changes(header=cst.TrailingWhitespace()),
        )
        return new.with_changes(body=cst.IndentedBlock(body=[guard], header=body.header, indent=body.indent))

    def leave_Try(self, original_node: cst.Try, updated_node: cst.Try) -> cst.BaseStatement:
        recv = self.plan.try_to_with.get(self.key(original_node))
        if recv is None:
            return updated_node
        lead = self.pending_leading.pop() if self.pending_leading else []
        return cst.With(
            items=[cst.WithItem(item=cst.parse_expression(recv))],
            body=updated_node.body,
            asynchronous=cst.Asynchronous(),
            leading_lines=[*lead, *updated_node.leading_lines],
        )

    # ---- expressions --------------------------------------------------------------------------

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        ops = self.plan.call_ops.get(self.key(original_node))
        if not ops:
            return updated_node
        args = list(updated_node.args)
        func = updated_node.func
        for op in ops:
            if op.kind == "method" and isinstance(func, cst.Attribute):
                func = func.with_changes(attr=cst.Name(op.keyword))
                template = cst.parse_expression(f"f({op.new})")
                assert isinstance(template, cst.Call)
                args = list(template.args)
            else:
                args = _edit_args(args, op)
        return updated_node.with_changes(func=func, args=args)

    def leave_Attribute(
        self, original_node: cst.Attribute, updated_node: cst.Attribute
    ) -> cst.BaseExpression:
        op = self.plan.attr_ops.get(self.key(original_node))
        if op is None:
            return updated_node
        if op == "identifier":
            return updated_node.with_changes(attr=cst.Name("identifier"))
        if op == "+value":
            return cst.Attribute(value=updated_node, attr=cst.Name("value"))
        new = cst.parse_expression(op[1:])
        return new.with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        new = self.plan.name_ops.get(self.key(original_node))
        return updated_node.with_changes(value=new) if new else updated_node

    def leave_SimpleString(
        self, original_node: cst.SimpleString, updated_node: cst.SimpleString
    ) -> cst.SimpleString:
        new = self.plan.string_ops.get(self.key(original_node))
        if new is None:
            return updated_node
        return updated_node.with_changes(
            value=f"{updated_node.prefix}{updated_node.quote}{new}{updated_node.quote}"
        )
