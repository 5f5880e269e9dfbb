"""The rule-fix combinator: several rule fixes in one LibCST walk, in order, with metadata on request."""

from __future__ import annotations

import libcst as cst
from libcst.metadata import PositionProvider

from fleetshift.recipes.fixes import apply


class Rename:
    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        return updated.with_changes(value=self.new) if updated.value == self.old else updated


class DropPass:
    def leave_SimpleStatementLine(self, original, updated):
        if isinstance(updated.body[0], cst.Pass):
            return cst.RemoveFromParent()
        return updated


class Lines:
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self) -> None:
        self.seen: list[tuple[str, int]] = []

    def visit_Name(self, node: cst.Name) -> None:
        self.seen.append((node.value, self.get_metadata(PositionProvider, node).start.line))


def test_fixes_chain_in_order_on_one_walk() -> None:
    module = cst.parse_module("a = b\npass\nc = a\n")
    # a -> b, then b -> z: the second fix sees what the first left
    out = apply(module, [Rename("a", "b"), Rename("b", "z"), DropPass()])
    assert out.code == "z = z\nc = z\n"


def test_no_fixes_leaves_the_module_untouched() -> None:
    module = cst.parse_module("x = 1\n")
    assert apply(module, [None]) is module


def test_metadata_is_given_to_fixes_that_ask() -> None:
    lines = Lines()
    out = apply(cst.parse_module("x = 1\n\ny = x\n"), [lines, Rename("x", "w")])
    assert lines.seen == [("x", 1), ("y", 3), ("x", 3)]
    assert out.code == "w = 1\n\ny = w\n"
