"""Sequence mining over (time, entity, state) events."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from dotenv import dotenv_values
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    at: float  # seconds since the epoch
    entity_id: str
    state: str

    @property
    def key(self) -> str:
        return f"{self.entity_id}={self.state}"


@dataclass(frozen=True)
class Suggestion:
    trigger: str
    action: str
    support: int
    confidence: float


@dataclass(frozen=True)
class MinerConfig:
    window_seconds: float = 120.0
    min_support: int = 3
    min_confidence: float = 0.7

    @classmethod
    def from_env_file(cls, path: Path) -> "MinerConfig":
        values = dotenv_values(path)
        return cls(
            window_seconds=float(values.get("MINER_WINDOW_SECONDS") or cls.window_seconds),
            min_support=int(values.get("MINER_MIN_SUPPORT") or cls.min_support),
            min_confidence=float(values.get("MINER_MIN_CONFIDENCE") or cls.min_confidence),
        )


def mine(events: Iterable[Event], config: MinerConfig = MinerConfig()) -> list[Suggestion]:
    """Return 'trigger -> action' pairs that follow each other within the window often enough."""
    ordered = sorted(events, key=lambda e: e.at)
    triggers: Counter[str] = Counter(e.key for e in ordered)
    pairs: Counter[tuple[str, str]] = Counter()
    for i, first in enumerate(ordered):
        seen = set()
        for second in ordered[i + 1:]:
            if second.at - first.at > config.window_seconds:
                break
            if second.entity_id != first.entity_id and second.key not in seen:
                seen.add(second.key)
                pairs[(first.key, second.key)] += 1
    suggestions = [
        Suggestion(trigger, action, support, round(support / triggers[trigger], 3))
        for (trigger, action), support in pairs.items()
        if support >= config.min_support and support / triggers[trigger] >= config.min_confidence
    ]
    return sorted(suggestions, key=lambda s: (-s.confidence, -s.support, s.trigger, s.action))


class HistoryUnavailable(ConnectionError):
    """The history source (data-api) did not answer."""


@retry(
    stop=stop_after_attempt(4),
    wait=wait_exponential(multiplier=0.01, max=0.05),
    retry=retry_if_exception_type(HistoryUnavailable),
    reraise=True,
)
def fetch_history(source: Callable[[], list[Event]]) -> list[Event]:
    return source()


async def mine_from(source: Callable[[], list[Event]], config: MinerConfig = MinerConfig()) -> list[Suggestion]:
    """Fetch history (retrying) and mine it off the event loop."""
    events = await asyncio.to_thread(fetch_history, source)
    log.info("mining %d events (fetched in %s attempts)", len(events),
             fetch_history.retry.statistics.get("attempt_number"))
    return await asyncio.to_thread(mine, events, config)
