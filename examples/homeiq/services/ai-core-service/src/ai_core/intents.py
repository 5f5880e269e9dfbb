"""Intent recognition: a model backend first, a rule-based parser when the model is unavailable."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Awaitable, Callable

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    before_sleep_log,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from ai_core.config import AICoreConfig

log = logging.getLogger(__name__)


class ModelUnavailable(Exception):
    """The model backend could not answer (overloaded, loading, crashed)."""


@dataclass(frozen=True)
class Intent:
    name: str
    slots: dict[str, str]
    confidence: float
    source: str


Backend = Callable[[str], Awaitable[Intent]]

_RULES = [
    (re.compile(r"\bturn (on|off) (?:the )?(?P<entity>[\w ]+?)(?: in the (?P<area>\w+))?$"), "toggle"),
    (re.compile(r"\bset (?:the )?(?P<entity>[\w ]+?) to (?P<value>\d+)"), "set_value"),
    (re.compile(r"\bwhat(?:'s| is) the (?P<entity>[\w ]+?)(?: in the (?P<area>\w+))?\??$"), "query_state"),
]


def rule_based(text: str) -> Intent:
    """Deterministic fallback parser."""
    lowered = text.lower().strip()
    for pattern, name in _RULES:
        match = pattern.search(lowered)
        if match:
            slots = {k: v for k, v in match.groupdict().items() if v}
            if name == "toggle":
                slots["state"] = match.group(1)
            return Intent(name, slots, 0.5, "rules")
    return Intent("unknown", {}, 0.0, "rules")


class IntentRecognizer:
    def __init__(self, backend: Backend, config: AICoreConfig) -> None:
        self.backend = backend
        self.config = config
        self.fallbacks = 0

    def _fallback(self, retry_state: RetryCallState) -> Intent:
        self.fallbacks += 1
        text = retry_state.args[0] if retry_state.args else retry_state.kwargs["text"]
        log.warning("model %s unavailable, using rules", self.config.primary_model)
        return rule_based(text)

    async def recognize(self, text: str) -> Intent:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.config.max_attempts),
            wait=wait_exponential(multiplier=0.01, max=0.05),
            retry=retry_if_exception_type(ModelUnavailable),
            before_sleep=before_sleep_log(log, logging.INFO),
            retry_error_callback=self._fallback,
        )
        intent = await retrying(self._ask_model, text)
        if intent.confidence < self.config.confidence and intent.source != "rules":
            return rule_based(text) if rule_based(text).name != "unknown" else intent
        return intent

    async def _ask_model(self, text: str) -> Intent:
        return await self.backend(text)


class BudgetedRetrying(Retrying):
    """Retrying that shares one attempt budget across a batch (used by the offline re-labelling job)."""

    def __init__(self, budget: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.budget = budget

    def __call__(self, fn, *args, **kwargs):
        if self.budget <= 0:
            raise ModelUnavailable("batch retry budget exhausted")
        self.budget -= 1
        return super().__call__(fn, *args, **kwargs)


def relabel_batch(texts: list[str], classify: Callable[[str], Intent], budget: int = 10) -> list[Intent]:
    """Offline job: classify *texts* synchronously under one shared retry budget."""
    retrying = BudgetedRetrying(budget, stop=stop_after_attempt(2), retry=retry_if_exception_type(ModelUnavailable))
    return [retrying(classify, text) for text in texts]
