"""LibCST's metadata resolution with `fixes` imported: a batch of no providers is not walked, and every provider
gives what LibCST's own resolution gives."""

from __future__ import annotations

import libcst as cst
import pytest
from libcst.metadata import (
    ExpressionContextProvider,
    MetadataWrapper,
    ParentNodeProvider,
    PositionProvider,
    ScopeProvider,
    WhitespaceInclusivePositionProvider,
)
from libcst.metadata import wrapper as mw

from fleetshift.recipes import fixes

SOURCE = """\
import os
# a comment


@decorator(x=1)
class C(Base):
    def f(self, a, *b, **c):
        return [a for a in b if a], {**c}, lambda q: q.attr
\r
x = f'{os.sep!r}'  # trailing
"""
SETS = [
    (PositionProvider,),
    (WhitespaceInclusivePositionProvider,),
    (ParentNodeProvider,),
    (PositionProvider, ParentNodeProvider),
    (ScopeProvider, PositionProvider),
    (ExpressionContextProvider,),
]


@pytest.mark.parametrize("providers", SETS, ids=lambda ps: "+".join(p.__name__ for p in ps))
def test_resolution_gives_what_libcst_gives(providers: tuple[type, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    assert mw._gen_batchable is not fixes.ORIGINAL["gen_batchable"]  # installed when fixes is imported
    module = cst.parse_module(SOURCE)
    walks = []
    visit_batched = MetadataWrapper.visit_batched

    def counting(self: MetadataWrapper, batch: object) -> object:
        walks.append(len(list(batch)))  # type: ignore[call-overload]
        return visit_batched(self, batch)  # type: ignore[arg-type]

    monkeypatch.setattr(MetadataWrapper, "visit_batched", counting)
    ours = MetadataWrapper(module, unsafe_skip_copy=True).resolve_many(providers)
    assert 0 not in walks  # no walk for a batch of no providers
    with monkeypatch.context() as m:
        m.setattr(mw, "_gen_batchable", fixes.ORIGINAL["gen_batchable"])
        walks.clear()
        theirs = MetadataWrapper(module, unsafe_skip_copy=True).resolve_many(providers)
    if not any(issubclass(p, cst.BatchableMetadataProvider) for p in providers):
        assert walks == [0]  # what LibCST walked for nothing
    assert ours.keys() == theirs.keys()
    for provider, found in ours.items():
        if provider is ScopeProvider:  # a new scope object per resolution: the same nodes, scopes of the same kinds
            assert [(n, type(s)) for n, s in found.items()] == [(n, type(s)) for n, s in theirs[provider].items()]
        else:
            assert dict(found) == dict(theirs[provider])


TANGLED = """\
#!/usr/bin/env python
'''Doc.'''
import os; import sys  # two on a line


@decorator(x=1)
@other
async def f(a, b=(1,
                  2)):
    if a:
        x = [i for i in b]
    elif b:  # an elif
        pass
    else:
        y = {k: v for k, v in a.items()}; z = 3
    try:
        call(a,
             b)
    except* ValueError:
        pass
    finally:
        done(\
            1)
    match a:
        case [1, *rest]:
            return rest
        case _:
            while True:
                break
            else:
                pass
    async with g() as h, i():
        await h.j(k=lambda q: q.attr)


class C(Base):
\tdef m(self): return self.x
\t# indented comment under the last line


if __name__ == "__main__":
    f(1)
"""


class AskEverywhere:
    """Asks the position of every node of the kinds it visits (and of a child of each call)."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self) -> None:
        self.seen: list[tuple[str, object]] = []

    def _ask(self, node: cst.CSTNode) -> None:
        self.seen.append((type(node).__name__, self.get_metadata(PositionProvider, node)))  # type: ignore[attr-defined]

    def visit_Name(self, node: cst.Name) -> None:
        self._ask(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._ask(node)
        self._ask(node.decorators[0] if node.decorators else node.name)

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        self._ask(original)
        self._ask(original.func)
        return updated

    def visit_If(self, node: cst.If) -> None:
        self._ask(node)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        self._ask(node)

    def visit_Module(self, node: cst.Module) -> None:
        self._ask(node)


@pytest.mark.parametrize("text", [SOURCE, TANGLED, TANGLED.replace("\n", "\r\n")], ids=["plain", "tangled", "crlf"])
def test_positions_asked_in_a_walk_are_libcst_own(text: str) -> None:
    """A walk whose fixes ask positions only gets them one statement at a time (the module's text known): the same
    positions LibCST's provider gives over the whole module."""
    module = fixes.parse(text)
    whole = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    ask = AskEverywhere()
    fixes.apply(module, [ask])
    assert len(ask.seen) > 10
    assert [(kind, pos) for kind, pos in ask.seen] == [(kind, whole[node]) for kind, node in _asked(module)]


def _asked(module: cst.Module) -> list[tuple[str, cst.CSTNode]]:
    """The nodes AskEverywhere asks about, in its order, found by a plain LibCST walk."""
    out: list[tuple[str, cst.CSTNode]] = []

    class Walk(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            if isinstance(node, cst.Name | cst.If | cst.SimpleString | cst.Module):
                out.append((type(node).__name__, node))
            elif isinstance(node, cst.FunctionDef):
                out.append(("FunctionDef", node))
                first = node.decorators[0] if node.decorators else node.name
                out.append((type(first).__name__, first))
            return True

        def on_leave(self, node: cst.CSTNode) -> None:
            if isinstance(node, cst.Call):
                out.extend([("Call", node), (type(node.func).__name__, node.func)])

    module.visit(Walk())
    return out
