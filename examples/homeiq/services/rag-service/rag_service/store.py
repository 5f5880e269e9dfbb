"""A tiny in-memory retrieval index: term-frequency vectors and cosine similarity."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset("a an and are as at be by for from how i in is it of on or the to what when with".split())


def terms(text: str) -> Counter[str]:
    return Counter(w for w in _WORD.findall(text.lower()) if w not in _STOP)


@dataclass(frozen=True)
class Hit:
    collection: str
    doc_id: str
    score: float


class DocumentStore:
    def __init__(self) -> None:
        self._docs: dict[tuple[str, str], Counter[str]] = {}

    def __len__(self) -> int:
        return len(self._docs)

    def add(self, collection: str, doc_id: str, text: str) -> None:
        self._docs[(collection, doc_id)] = terms(text)

    def remove(self, collection: str, doc_id: str) -> None:
        self._docs.pop((collection, doc_id), None)

    def search(self, question: str, top_k: int = 3) -> list[Hit]:
        query = terms(question)
        if not query:
            return []
        qnorm = math.sqrt(sum(v * v for v in query.values()))
        hits = []
        for (collection, doc_id), vector in self._docs.items():
            dot = sum(query[t] * vector.get(t, 0) for t in query)
            if dot:
                norm = qnorm * math.sqrt(sum(v * v for v in vector.values()))
                hits.append(Hit(collection, doc_id, round(dot / norm, 4)))
        return sorted(hits, key=lambda h: (-h.score, h.doc_id))[:top_k]
