import asyncio

import pytest


@pytest.fixture
def event_loop():
    # debug mode catches never-awaited pushes
    loop = asyncio.new_event_loop()
    loop.set_debug(True)
    yield loop
    loop.close()
