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
