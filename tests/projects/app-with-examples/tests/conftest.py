import asyncio
from types import SimpleNamespace

import pytest


class FakeTarget:
    def __init__(self):
        self.published = []

    async def publish(self, topic, payload, qos=0, retain=False):
        await asyncio.sleep(0)
        self.published.append((topic, payload, qos))


@pytest.fixture
def target():
    return FakeTarget()


@pytest.fixture
def message():
    def make(topic, payload):
        return SimpleNamespace(topic=topic, payload=payload)

    return make
