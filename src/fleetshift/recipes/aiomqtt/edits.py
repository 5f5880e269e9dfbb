"""What the aiomqtt rules' fixes share: the edits a site plans (as data) and the LibCST code that makes them.

A rule's `check` plans its edits on `ast` by position (`Facts.key`); its `Fix` declares `positions()` as its
metadata and finds them again with `key_of`. LibCST is imported inside the functions only.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from fleetshift.recipes.aiomqtt.facts import Facts, Key, Site

if TYPE_CHECKING:
    import libcst as cst

    from fleetshift.recipes._positions import StatementPositions

T = TypeVar("T")


@dataclass(frozen=True)
class CallOp:
    """An edit of one call: rename/drop/set/add a keyword, or replace the method and its arguments."""

    kind: Literal["rename", "drop", "value", "add", "method"]
    keyword: str = ""
    new: str = ""


def keyword_sites(facts: Facts, rule: str, op: CallOp, message: str = "") -> list[Site]:
    """`op.keyword=` on each Client(...) call of an MQTT file: a site with `op` planned on its call."""
    if not facts.mqtt_file:
        return []
    return [
        facts.site(rule, kw, message, edits=((facts.key(call), op),), order=order)
        for call, kw, order in facts.client_keywords()
        if kw.arg == op.keyword
    ]


def planned(sites: Iterable[Site]) -> dict[Key, list[object]]:
    """The edits of some sites by position (each edit once)."""
    out: dict[Key, list[object]] = {}
    for site in sites:
        for key, edit in site.edits:
            edits = out.setdefault(key, [])
            if edit not in edits:
                edits.append(edit)
    return out


def positions() -> tuple[Any, ...]:
    """What a fix that looks its edits up by position declares as METADATA_DEPENDENCIES (set in __init__)."""
    from libcst.metadata import PositionProvider

    return (PositionProvider,)


def key_of(fix: Any, node: cst.CSTNode) -> Key:
    """The position of `node`, read through the metadata `fixes.apply` gives a fix that declared `positions()`."""
    from libcst.metadata import PositionProvider

    positions = _statement_positions(fix)
    if positions is not None:  # worked out one statement at a time (see `fixes.apply`): its numbers as they are
        return positions.span(node)
    r = fix.get_metadata(PositionProvider, node)
    return (r.start.line, r.start.column, r.end.line, r.end.column)


def _statement_positions(fix: Any) -> StatementPositions | None:
    """The positions `fixes.apply` gives a fix when they are worked out one statement at a time, else None."""
    from libcst.metadata import PositionProvider

    from fleetshift.recipes._positions import StatementPositions

    positions = getattr(getattr(fix.get_metadata, "__self__", None), "metadata", {}).get(PositionProvider)
    return positions if isinstance(positions, StatementPositions) else None


def edit_call(call: cst.Call, ops: Iterable[object]) -> cst.Call:
    """`call` with its CallOps applied in order."""
    import libcst as cst

    args = list(call.args)
    func = call.func
    for op in ops:
        if not isinstance(op, CallOp):
            continue
        if op.kind == "method" and isinstance(func, cst.Attribute):
            func = func.with_changes(attr=cst.Name(op.keyword))
            template = cst.parse_expression(f"f({op.new})")
            assert isinstance(template, cst.Call)
            args = list(template.args)
        else:
            args = _edit_args(args, op)
    return call.with_changes(func=func, args=args)


def _comma_space() -> cst.Comma:
    import libcst as cst

    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _edit_args(args: list[cst.Arg], op: CallOp) -> list[cst.Arg]:
    import libcst as cst

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


def edit_attribute(attr: cst.Attribute, ops: Iterable[object]) -> cst.BaseExpression:
    """`attr` after its first edit: "+value" reads `.value` of it, "=code" replaces it, a name renames it."""
    import libcst as cst

    for op in ops:
        if op == "+value":
            return cst.Attribute(value=attr, attr=cst.Name("value"))
        if isinstance(op, str) and op.startswith("="):
            return cst.parse_expression(op[1:]).with_changes(lpar=attr.lpar, rpar=attr.rpar)
        if isinstance(op, str):
            return attr.with_changes(attr=cst.Name(op))
    return attr


class PlannedFix:
    """The Fix of a rule whose `check` plans its edits by position: CallOps on calls, edits of attributes.

    A rule module writes `class Fix(PlannedFix)`, which applies the edits its module's own `check` plans, and adds
    `leave_<Node>` methods for any other node its edits name (reading them with `self.at(node)`).
    """

    # True: with no edit planned the fix changes nothing (its methods act only at planned positions), so the recipe
    # leaves it out of the walk; a fix that rewrites some nodes by their shape alone says False
    EDITS_ONLY = True

    def __init__(self, facts: Facts) -> None:
        check: Callable[[Facts], Iterable[Site]] = sys.modules[type(self).__module__].check
        self.edits = planned(facts.checked(check))
        self.lines = {key[0] for key in self.edits}  # the lines the edits start on
        # positions cost a pass over the whole module: asked only when an edit is looked up by one
        self.METADATA_DEPENDENCIES = positions() if self.edits else ()
        self._positions: StatementPositions | bool | None = False  # (False: not asked yet)

    @property
    def idle(self) -> bool:
        """Whether the fix changes nothing in this module."""
        return self.EDITS_ONLY and not self.edits

    def at(self, node: cst.CSTNode) -> list[object]:
        """The edits planned at `node`'s position."""
        if not self.edits:
            return []
        positions = self._positions
        if positions is False:  # the walk's positions, the same for every node of it
            positions = self._positions = _statement_positions(self)
        if positions is not None and positions.line(node) not in self.lines:  # (a line costs less than a position)
            return []
        return self.edits.get(key_of(self, node), [])

    def first(self, node: cst.CSTNode, kind: type[T]) -> T | None:
        """The first edit of type `kind` planned at `node`'s position."""
        return next((e for e in self.at(node) if isinstance(e, kind)), None)

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        ops = self.at(original)
        return edit_call(updated, ops) if ops else updated

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute) -> cst.BaseExpression:
        ops = self.at(original)
        return edit_attribute(updated, ops) if ops else updated
