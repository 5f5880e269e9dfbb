"""Root conftest: one event loop for the whole session, shared by the session-wide MQTT client."""

import asyncio

import pytest


@pytest.fixture(scope="session")
def event_loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()
