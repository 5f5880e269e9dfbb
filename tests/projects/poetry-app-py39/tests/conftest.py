import asyncio

import pytest


@pytest.fixture(scope="session")
def event_loop():
    """One loop for the whole session (the client pool is shared)."""
    loop = asyncio.get_event_loop_policy().new_event_loop()
    yield loop
    loop.close()


@pytest.fixture
def flaky_fetch():
    calls = {}

    async def fetch(meter_id):
        from meter_ingest.client import ApiUnavailable

        calls[meter_id] = calls.get(meter_id, 0) + 1
        if calls[meter_id] < 2:
            raise ApiUnavailable(meter_id)
        await asyncio.sleep(0)
        return [{"meter": meter_id, "kwh": 1.5}, {"meter": meter_id, "kwh": 2.0}]

    fetch.calls = calls
    return fetch
