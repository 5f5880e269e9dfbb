"""What the analysis hands to detection and to the rewriter: sites (Marks) and position-keyed edits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from fleetshift.model import Severity

Key = tuple[int, int, int, int]  # start line, start column (characters), end line, end column


@dataclass(frozen=True)
class Mark:
    """A site: its rule slug, where it is, and whether the rewrite must report it as a Finding."""

    rule: str
    line: int
    col: int
    message: str = ""
    finding: bool = False
    severity: Severity | None = None  # Severity.HUMAN or ADVICE when it is a Finding


@dataclass(frozen=True)
class CallOp:
    """An edit of one call: rename/drop/set/add a keyword, or replace the method and its arguments."""

    kind: Literal["rename", "drop", "value", "add", "method"]
    keyword: str = ""
    new: str = ""


@dataclass(frozen=True)
class ForOp:
    """Turn `async for m in M` into `async for m in <iter_code>`, optionally guarding the body by a filter."""

    iter_code: str
    target: str
    filter_code: str | None = None


@dataclass
class Plan:
    """Every site of one file plus the position-keyed edits the rewriter applies."""

    marks: list[Mark] = field(default_factory=list)
    call_ops: dict[Key, list[CallOp]] = field(default_factory=dict)
    attr_ops: dict[Key, str] = field(default_factory=dict)  # "identifier", "+value" or "=<code>"
    name_ops: dict[Key, str] = field(default_factory=dict)
    string_ops: dict[Key, str] = field(default_factory=dict)
    for_ops: dict[Key, ForOp] = field(default_factory=dict)
    flatten_with: set[Key] = field(default_factory=set)
    try_to_with: dict[Key, str] = field(default_factory=dict)
    drop_stmts: set[Key] = field(default_factory=set)
    needs_math: bool = False

    @property
    def has_edits(self) -> bool:
        return bool(
            self.call_ops
            or self.attr_ops
            or self.name_ops
            or self.string_ops
            or self.for_ops
            or self.try_to_with
        )
