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


class Trace:
    """Records every call a fix gets, in order (what a fix may keep state across)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.calls.append(("visit", node.name.value))

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        self.calls.append(("leave", original.name.value))
        return updated

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        self.calls.append(("call", cst.Module([]).code_for_node(original)))
        if cst.Module([]).code_for_node(updated.func) == "old":
            return updated.with_changes(func=cst.Name("new"))
        return updated


NESTED = """\
import os  # a comment

X = [1, 2, {"a": (3, 4)}]


class C:
    def f(self, a=old(1), *, b: int = 2):
        def g():
            return [old(x) for x in range(3)]
        return g

    def h(self):  # no call here
        y = 1 + 2
        return y


def k(a, b):
    return old(a)(b) if a else None
"""


def test_the_walk_enters_only_what_holds_a_node_a_fix_reads() -> None:
    module = cst.parse_module(NESTED)
    trace = Trace()
    out = apply(module, [trace])
    assert out.code == NESTED.replace("old(", "new(")
    # every call a fix gets, in the order a full walk makes them (LibCST's own transformer, every node visited)
    full = Trace()

    class Everything(cst.CSTTransformer):
        def on_visit(self, node: cst.CSTNode) -> bool:
            visit = getattr(full, f"visit_{type(node).__name__}", None)
            if visit:
                visit(node)
            return True

        def on_leave(self, original: cst.CSTNode, updated: cst.CSTNode) -> cst.CSTNode:
            leave = getattr(full, f"leave_{type(original).__name__}", None)
            return leave(original, updated) if leave else updated

    assert module.visit(Everything()).code == out.code
    assert trace.calls == full.calls
    assert ("leave", "h") in trace.calls and ("call", "range(3)") in trace.calls
    # what holds no call nor def is the module's own node, not a copy: the walk did not enter it
    assert out.body[0] is module.body[0] and out.body[1] is module.body[1]
    h = module.body[2].body.body[1]
    assert out.body[2].body.body[1].body is h.body


class Log(cst.CSTVisitor):
    """Every node a visitor gets, in order (a lambda's body left out: what it does not enter stays unvisited)."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[str, int]] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.log.append(("visit", id(node)))
        return not isinstance(node, cst.Lambda)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.log.append(("leave", id(original_node)))


FIELDS = """\
from . import (a as b, c)
from x import *
x = f"{b} {c=}" f"{a!r:>{width}}" f'{d:{e}}'
y = lambda q, *r, s=1: q(*r, s=s)
match p:
    case {"k": [1, *rest], **others} if rest:
        pass
    case Point(x=0) | None:
        pass
async def g[T](a: T, /, b=2, *, c) -> T:
    async with h() as (i, j):
        return [k async for k in i if await j(k)]
"""


def test_read_visits_what_libcst_visits_in_its_order() -> None:
    """`read` gives a visitor the nodes LibCST's own walk gives it, in the same order, an f-string's format spec
    (a field LibCST visits only when it holds one) met after f-strings without one included."""
    from fleetshift.recipes import fixes

    fixes._ORDER.clear()  # learnt from this module's nodes: an f-string without a format spec comes first
    module = cst.parse_module(FIELDS)
    theirs, ours = Log(), Log()
    module.visit(theirs)
    fixes.read(module, ours)
    assert len(ours.log) > 300
    assert ours.log == theirs.log


def test_trivia_holds_only_trivia_and_the_walk_enters_the_same_nodes() -> None:
    """`fixes.TRIVIA` (whitespace, comments, operators, brackets) holds nothing else, in every kind of statement and
    expression of these modules; so `_entered` passing over it finds what looking into every node finds, for kinds
    that are not trivia and for kinds that are."""
    from fleetshift.recipes import fixes

    def below(node: cst.CSTNode, trivia: bool, seen: set[type]) -> None:
        seen.add(node.__class__)
        assert not trivia or node.__class__ in fixes.TRIVIA, node.__class__
        for child in node.children:
            below(child, trivia or node.__class__ in fixes.TRIVIA, seen)

    found = 0
    for text in (NESTED, FIELDS):
        module = cst.parse_module(text)
        seen: set[type] = set()
        below(module, False, seen)
        assert seen & fixes.TRIVIA and seen - fixes.TRIVIA
        for kinds in ({"Call", "FunctionDef"}, {"Name"}, {"Comma", "Call"}, {"Comment"}, {"Await", "MatchAs"}):
            trivia = fixes.TRIVIA
            try:
                fixes.TRIVIA = frozenset()  # type: ignore[misc]  (every node looked into)
                every = fixes._entered(module, kinds)
            finally:
                fixes.TRIVIA = trivia  # type: ignore[misc]
            assert fixes._entered(module, kinds) == every
            found += len(every)
    assert found


SPLICED = [
    NESTED,
    "# header comment\n\nimport os\n\n\n# leading\n@dec  # c\n# between\n@other(\n    1,\n)\n\ndef f():\n    old(1)\n"
    "    # indented footer\n\n# module footer\n",
    "x = old(1); y = 2\nif x:\n    pass\nelse:\n    old(2)\n\n\nclass C:\n    z = old(3)\nw = 4\n",
    "import a\r\n\r\n@d\r\ndef f():\r\n    return old(1)\r\n\r\n\r\ndef g():\r\n    return 2\r\n",
    "def f():\n    return old(1)\n\ndef g():\n    return 2",  # no trailing newline: generated whole
    "x = 1 + \\\n    old(2)\ny = 3\n",  # a backslash continuation: generated whole
    '"""doc"""\nfrom __future__ import annotations\ns = """a\nb"""\nv = old(s)\n',
]


class OldToNew:
    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        if isinstance(updated.func, cst.Name) and updated.func.value == "old":
            return updated.with_changes(func=cst.Name("new"))
        return updated


def test_code_writes_only_the_statements_a_fix_changed(monkeypatch) -> None:
    """`fixes.code` gives what `Module.code` gives for a rewritten module, with LibCST generating the code of the
    top-level statements that changed only, the others taken as they were written (those a walk rebuilt unchanged
    too); a text whose lines `ast` may count otherwise (backslash continuations) or a module without a trailing
    newline is generated whole."""
    from fleetshift.recipes import fixes

    for text in SPLICED:
        module = fixes.parse(text)
        new = apply(module, [OldToNew(), Trace()])
        want = new.code
        generated: list[cst.CSTNode] = []
        real = cst.Module.code_for_node

        def record(self: cst.Module, node: cst.CSTNode, real=real, generated=generated) -> str:
            generated.append(node)
            return real(self, node)

        monkeypatch.setattr(cst.Module, "code_for_node", record)
        got = fixes.code(module, new)
        monkeypatch.undo()
        assert got == want, text
        changed = [b for a, b in zip(module.body, new.body, strict=True) if not a.deep_equals(b)]
        whole = "\\\n" in text or not text.endswith("\n")
        assert generated == ([new] if whole else changed), text
        assert changed and len(changed) < len(new.body)


class AddAndDrop:
    """Adds `import new` after the module's first statement and drops every `import gone`."""

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        body = [s for s in updated.body if cst.Module([]).code_for_node(s).strip() != "import gone"]
        return updated.with_changes(body=[*body[:1], cst.parse_statement("import new\n"), *body[1:]])


def test_code_keeps_the_statements_around_an_added_or_dropped_one(monkeypatch) -> None:
    """With another number of top-level statements, those of the runs at the start and at the end equal to the
    module's are taken as written; only the ones between are generated."""
    from fleetshift.recipes import fixes

    text = "import os\nimport gone\n\n\n@dec\ndef f():\n    return old(1)\n\n\nx = 2  # kept\n"
    module = fixes.parse(text)
    new = apply(module, [OldToNew(), AddAndDrop()])
    generated: list[str] = []
    real = cst.Module.code_for_node

    def record(self: cst.Module, node: cst.CSTNode) -> str:
        out = real(self, node)
        generated.append(out)
        return out

    monkeypatch.setattr(cst.Module, "code_for_node", record)
    got = fixes.code(module, new)
    monkeypatch.undo()
    assert got == new.code == "import os\nimport new\n\n\n@dec\ndef f():\n    return new(1)\n\n\nx = 2  # kept\n"
    assert generated == ["import new\n", "\n\n@dec\ndef f():\n    return new(1)\n"]


class Edits:
    """Removals and replacements of every kind a node's fields take: a sequence item (an argument), a statement of a
    body (one left empty, one flattened into two), an optional child (an annotation) and a sentinel one (a comma)."""

    def leave_Arg(self, original: cst.Arg, updated: cst.Arg) -> cst.Arg | cst.RemovalSentinel:
        return cst.RemoveFromParent() if cst.Module([]).code_for_node(updated.value) == "drop" else updated

    def leave_SimpleStatementLine(self, original, updated):
        code = cst.Module([]).code_for_node(updated.body[0])
        if code == "pass":
            return cst.RemoveFromParent()
        if code == "two":
            return cst.FlattenSentinel([updated, updated.with_changes(body=[cst.Expr(cst.Name("three"))])])
        return updated

    def leave_Annotation(self, original: cst.Annotation, updated: cst.Annotation) -> cst.RemovalSentinel:
        return cst.RemoveFromParent()

    def leave_Comma(self, original: cst.Comma, updated: cst.Comma) -> cst.Comma | cst.RemovalSentinel:
        return cst.RemoveFromParent() if isinstance(original.whitespace_after, cst.SimpleWhitespace) and \
            original.whitespace_after.value == "  " else updated


EDITED = """\
def f(a: int, b=1):
    pass
f(1, drop, 2)
two
x = [1,  2]
if x:
    y = 1
"""


def test_the_walk_builds_only_what_changed_as_libcst_builds_it() -> None:
    """A node none of whose children changed is handed on as it is (LibCST's own walk builds every node it enters
    anew); one whose child was replaced, removed or flattened is what LibCST's walk makes of it."""
    module = cst.parse_module(EDITED)
    assert apply(module, [Rename("nowhere", "z")]) is module

    class Theirs(cst.CSTTransformer):
        def __init__(self) -> None:
            super().__init__()
            self.fix = Edits()

        def on_leave(self, original: cst.CSTNode, updated: cst.CSTNode) -> object:
            leave = getattr(self.fix, f"leave_{type(original).__name__}", None)
            return leave(original, updated) if leave else updated

    out = apply(module, [Edits()])
    assert out.code == module.visit(Theirs()).code
    assert out.code == "def f(a, b=1):\n    pass\nf(1, 2)\ntwo\nthree\nx = [1, 2]\nif x:\n    y = 1\n"
    assert out.body[-1] is module.body[-1]  # entered (it holds a statement line), nothing in it changed


class _Positioned:
    """A fix asking for metadata (so `apply` hands it the walk's `get_metadata`) that renames `a` to `b`."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self) -> None:
        self.lines: list[int] = []

    def leave_Name(self, original: cst.Name, updated: cst.Name) -> cst.Name:
        self.lines.append(self.get_metadata(PositionProvider, original).start.line)  # type: ignore[attr-defined]
        return updated.with_changes(value="b") if updated.value == "a" else updated


class _Reader(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: list[str] = []

    def visit_Name(self, node: cst.Name) -> None:
        self.names.append(node.value)


def test_walks_leave_no_cycle_for_the_collector() -> None:
    """`apply` and `read` leave nothing holding itself once they return: their recursive walks (closures calling
    themselves) and a fix holding the walk's `get_metadata` are let go, so the fixes, visitors and all they hold are
    freed as their reference counts drop, with the cyclic collector off."""
    import gc
    import weakref

    from fleetshift.recipes.fixes import parse, read

    module = parse("a = 1\n\n\ndef f(a):\n    return a + c\n")
    gc.collect()
    gc.disable()
    try:
        fix = _Positioned()
        new = apply(module, [fix])
        assert new.code == "b = 1\n\n\ndef f(b):\n    return b + c\n" and fix.lines
        gone = weakref.ref(fix)
        del fix
        assert gone() is None
        reader = _Reader()
        read(module, reader)
        assert reader.names == ["a", "f", "a", "a", "c"]
        gone = weakref.ref(reader)
        del reader
        assert gone() is None
    finally:
        gc.enable()
