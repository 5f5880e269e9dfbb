import pytest

from ai_core.config import AICoreConfig
from ai_core.intents import Intent, ModelUnavailable


class FakeModel:
    """A model backend that fails a given number of times before answering."""

    def __init__(self, failures: int = 0, confidence: float = 0.9) -> None:
        self.failures = failures
        self.confidence = confidence
        self.calls = 0

    async def __call__(self, text: str) -> Intent:
        self.calls += 1
        if self.calls <= self.failures:
            raise ModelUnavailable("model is loading")
        return Intent("toggle", {"entity": text.split()[-1]}, self.confidence, "model")


@pytest.fixture
def config():
    return AICoreConfig(primary_model="intent-small", max_attempts=3, confidence=0.6)


@pytest.fixture
def fake_model():
    return FakeModel
