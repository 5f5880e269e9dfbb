"""LibCST rewrites of the automatic tenacity rules, format-preserving, judged with a module's `Facts`."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from typing import TypeVar

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from packaging.version import Version

from fleetshift.recipes.tenacity.resolve import Facts, _norm, compose_verdict
from fleetshift.recipes.tenacity.rules.log_format import RULE as LOG_FORMAT

_Item = TypeVar("_Item", cst.Arg, cst.ImportAlias)

# Names `tenacity._asyncio` offered in 8.2.3 that `tenacity.asyncio` still offers in 9.1.2 and 9.2.1 (ran).
ASYNCIO_NAMES = frozenset(
    {
        "AttemptManager",
        "BaseRetrying",
        "DoAttempt",
        "DoSleep",
        "RetryCallState",
        "WrappedFn",
        "WrappedFnReturnT",
    }
)


def rewrite_module(module: cst.Module, facts: Facts, floor: Version, active: frozenset[str]) -> str:
    """The module's code with the automatic rules applied for a target whose oldest release is `floor`;
    `active` holds the rules whose declared gates let them act (judged by the base recipe)."""
    transformer = _Rewriter(facts, module, floor, active)
    new = module.visit(transformer)
    if transformer.needed_imports:
        adder = _AddTenacityNames(sorted(transformer.needed_imports))
        new = new.visit(adder)
        if not adder.done:
            context = CodemodContext()
            for name in adder.names:
                AddImportsVisitor.add_needed_import(context, "tenacity", name)
            new = AddImportsVisitor(context).transform_module(new)
    return new.code


def _kwarg(name: str, value: cst.BaseExpression) -> cst.Arg:
    return cst.Arg(
        value=value,
        keyword=cst.Name(name),
        equal=cst.AssignEqual(
            whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
        ),
    )


def _append_arg(call: cst.Call, arg: cst.Arg) -> cst.Call:
    return call.with_changes(args=_append(call.args, [arg]))


def _append(items: Sequence[_Item], added: Sequence[_Item]) -> list[_Item]:
    """`items` followed by `added`, separated the way `items` are; a trailing comma stays at the end."""
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


def _comma_separated(items: list[_Item]) -> list[_Item]:
    """`items` written `a, b, c`: each but the last gets a comma and a space."""
    return [
        i.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) for i in items[:-1]
    ] + items[-1:]


class _Rewriter(cst.CSTTransformer):
    """Applies the automatic tenacity rules to one module, judging names with the module's `Facts`."""

    def __init__(self, facts: Facts, module: cst.Module, floor: Version, active: frozenset[str]) -> None:
        self.facts, self.module, self.floor, self.active = facts, module, floor, active
        self.needed_imports: set[str] = set()
        self.alias_ok = self._asyncio_aliases_ok()

    def _ast(self, node: cst.CSTNode) -> ast.expr:
        return ast.parse("(" + self.module.code_for_node(node) + ")", mode="eval").body

    def _asyncio_aliases_ok(self) -> dict[str, bool]:
        """For names bound to the `tenacity._asyncio` module: may the import move to `tenacity.asyncio`?"""
        out: dict[str, bool] = {}
        for local, qual in self.facts.imports.names.items():
            if qual == "tenacity._asyncio" and local != "tenacity":
                out[local] = True
        for node in ast.walk(self.facts.tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in out:
                if node.attr not in ASYNCIO_NAMES | {"AsyncRetrying"}:
                    out[node.value.id] = False
        return out

    # T1 -------------------------------------------------------------------------------------------

    def _split_asyncio_import(self, node: cst.ImportFrom) -> list[cst.ImportFrom] | None:
        if isinstance(node.names, cst.ImportStar):
            return None
        groups: dict[str, list[cst.ImportAlias]] = {}
        for alias in node.names:
            name = alias.name.value if isinstance(alias.name, cst.Name) else ""
            module = (
                "tenacity" if name == "AsyncRetrying"
                else "tenacity.asyncio" if name in ASYNCIO_NAMES
                else "asyncio" if name == "sleep"
                else None
            )  # fmt: skip
            if module is None:
                return None
            groups.setdefault(module, []).append(alias)
        if len(groups) == 1:
            [(module, _)] = groups.items()
            return [node.with_changes(module=cst.parse_expression(module))]
        if "#" in self.module.code_for_node(node):
            return None  # comments inside a parenthesised import would be lost
        out = []
        for module, aliases in groups.items():
            names = _comma_separated([a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in aliases])
            out.append(cst.ImportFrom(module=cst.parse_expression(module), names=names))  # type: ignore[arg-type]
        return out

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine | cst.FlattenSentinel[cst.SimpleStatementLine]:
        if len(updated_node.body) != 1 or not isinstance(updated_node.body[0], cst.ImportFrom):
            return updated_node
        imp = updated_node.body[0]
        if imp.relative or imp.module is None or self.module.code_for_node(imp.module) != "tenacity._asyncio":
            return updated_node
        parts = self._split_asyncio_import(imp)
        if parts is None or len(parts) == 1:
            return updated_node.with_changes(body=parts) if parts else updated_node
        lines = [updated_node.with_changes(body=[parts[0]], trailing_whitespace=cst.TrailingWhitespace())]
        lines += [cst.SimpleStatementLine(body=[p]) for p in parts[1:-1]]
        lines.append(
            cst.SimpleStatementLine(body=[parts[-1]], trailing_whitespace=updated_node.trailing_whitespace)
        )
        return cst.FlattenSentinel(lines)

    def leave_ImportFrom(self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom) -> cst.ImportFrom:
        if (
            updated_node.relative
            or updated_node.module is None
            or isinstance(updated_node.names, cst.ImportStar)
        ):
            return updated_node
        if self.module.code_for_node(updated_node.module) != "tenacity":
            return updated_node
        names = []
        for alias in updated_node.names:
            if isinstance(alias.name, cst.Name) and alias.name.value == "_asyncio":
                local = alias.asname.name.value if alias.asname else "_asyncio"  # type: ignore[union-attr]
                if not self.alias_ok.get(local, False):
                    return updated_node
                alias = alias.with_changes(
                    name=cst.Name("asyncio"),
                    asname=alias.asname or cst.AsName(name=cst.Name("_asyncio")),
                )
            names.append(alias)
        return updated_node.with_changes(names=names)

    def leave_Import(self, original_node: cst.Import, updated_node: cst.Import) -> cst.Import:
        names = []
        for alias in updated_node.names:
            if self.module.code_for_node(alias.name) == "tenacity._asyncio":
                local = alias.asname.name.value if alias.asname else None  # type: ignore[union-attr]
                if local is not None and not self.alias_ok.get(local, False):
                    return updated_node
                alias = alias.with_changes(name=cst.parse_expression("tenacity.asyncio"))
            names.append(alias)
        return updated_node.with_changes(names=names)

    def leave_Attribute(
        self, original_node: cst.Attribute, updated_node: cst.Attribute
    ) -> cst.BaseExpression:
        attr = updated_node.attr.value
        value = updated_node.value
        # T1: tenacity._asyncio.X
        if isinstance(value, cst.Attribute) and value.attr.value == "_asyncio":
            if self.facts.imports.qualname(self._ast(original_node.value)) == "tenacity._asyncio":
                if attr == "AsyncRetrying":
                    return updated_node.with_changes(value=value.value)
                if attr in ASYNCIO_NAMES:
                    return updated_node.with_changes(value=value.with_changes(attr=cst.Name("asyncio")))
        # T2: f.retry.statistics -> f.statistics
        if attr == "statistics" and isinstance(value, cst.Attribute) and value.attr.value == "retry":
            original_value = original_node.value
            assert isinstance(original_value, cst.Attribute)
            if self.facts.is_retry_function(self._ast(original_value.value)):
                return updated_node.with_changes(value=value.value)
        return updated_node

    # T7 -------------------------------------------------------------------------------------------

    def leave_BinaryOperation(
        self, original_node: cst.BinaryOperation, updated_node: cst.BinaryOperation
    ) -> cst.BaseExpression:
        op = updated_node.operator
        if not isinstance(op, (cst.BitOr, cst.BitAnd)):
            return updated_node
        parsed = self._ast(original_node)
        if not isinstance(parsed, ast.BinOp) or compose_verdict(self.facts, parsed, True) != "auto":
            return updated_node
        if not original_node.lpar and self._is_inner_of_chain(original_node):
            return updated_node
        operands: list[cst.BaseExpression] = []
        node: cst.BaseExpression = updated_node
        while (
            isinstance(node, cst.BinaryOperation)
            and type(node.operator) is type(op)
            and (node is updated_node or not node.lpar)
        ):
            operands.append(node.right)
            node = node.left
        operands.append(node)
        operands.reverse()
        func = self._combinator("retry_any" if isinstance(op, cst.BitOr) else "retry_all", parsed)
        if func is None:
            return updated_node
        args = _comma_separated([cst.Arg(value=o) for o in operands])
        return cst.Call(func=func, args=args, lpar=updated_node.lpar, rpar=updated_node.rpar)

    def _is_inner_of_chain(self, node: cst.BinaryOperation) -> bool:
        return id(node) in self._inner_ids

    def visit_Module(self, node: cst.Module) -> None:
        self._inner_ids: set[int] = set()
        for n in _walk_cst(node):
            if isinstance(n, cst.BinaryOperation) and isinstance(n.left, cst.BinaryOperation):
                if type(n.left.operator) is type(n.operator) and not n.left.lpar:
                    self._inner_ids.add(id(n.left))

    def _combinator(self, name: str, parsed: ast.BinOp) -> cst.BaseExpression | None:
        facts = self.facts
        if _norm(facts.imports.names.get(name)) == f"tenacity.{name}":
            return cst.Name(name)
        for operand in ast.walk(parsed):
            if isinstance(operand, ast.Call) and isinstance(operand.func, ast.Attribute):
                if facts.imports.qualname(operand.func.value) == "tenacity":
                    return cst.Attribute(
                        value=cst.parse_expression(ast.unparse(operand.func.value)), attr=cst.Name(name)
                    )
        if name in facts.bindings:
            return None
        self.needed_imports.add(name)
        return cst.Name(name)

    # T10, T13 ---------------------------------------------------------------------------------------

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if not isinstance(updated_node.func, (cst.Name, cst.Attribute)):
            return updated_node
        q = self.facts.qual(self._ast(original_node.func))
        if q not in ("tenacity.after_log", "tenacity.before_sleep_log", "tenacity.wait_exponential_jitter"):
            return updated_node
        args = updated_node.args
        if any(a.star for a in args):
            return updated_node
        keywords = {a.keyword.value for a in args if a.keyword is not None}
        positional = sum(1 for a in args if a.keyword is None)
        if q == "tenacity.after_log" and "sec_format" not in keywords and positional < 3 and args:
            return _append_arg(updated_node, _kwarg("sec_format", cst.SimpleString('"%0.3f"')))
        if (
            q == "tenacity.before_sleep_log"
            and self.floor >= Version(LOG_FORMAT.since)  # before_sleep_log(sec_format=) exists from there
            and "sec_format" not in keywords
            and positional < 4
            and args
        ):
            return _append_arg(updated_node, _kwarg("sec_format", cst.SimpleString('"%s"')))
        if (
            q == "tenacity.wait_exponential_jitter"
            and "tenacity/jitter-initial" in self.active
            and "multiplier" not in keywords
        ):
            names = ["multiplier", "max", "exp_base", "jitter"]
            new_args = []
            for i, a in enumerate(args):
                if a.keyword is None and i < len(names):
                    a = a.with_changes(keyword=cst.Name(names[i]), equal=_kwarg("x", a.value).equal)
                elif a.keyword is not None and a.keyword.value == "initial":
                    a = a.with_changes(keyword=cst.Name("multiplier"))
                new_args.append(a)
            return updated_node.with_changes(args=new_args)
        return updated_node


class _AddTenacityNames(cst.CSTTransformer):
    """Appends names to the first module-level `from tenacity import ...` (keeping its layout)."""

    def __init__(self, names: list[str]) -> None:
        self.names, self.done, self.depth = names, False, 0

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth += 1

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        self.depth -= 1
        return updated_node

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.depth += 1

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        self.depth -= 1
        return updated_node

    def leave_ImportFrom(self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom) -> cst.ImportFrom:
        if self.done or self.depth or updated_node.relative or isinstance(updated_node.names, cst.ImportStar):
            return updated_node
        if updated_node.module is None or cst.Module([]).code_for_node(updated_node.module) != "tenacity":
            return updated_node
        added = [cst.ImportAlias(name=cst.Name(n)) for n in self.names]
        self.done = True
        return updated_node.with_changes(names=_append(updated_node.names, added))


def _walk_cst(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(n.children)
