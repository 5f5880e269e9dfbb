import asyncio

import pytest


@pytest.mark.asyncio
async def test_history_in_executor(history, event_loop):
    future = event_loop.run_in_executor(None, history.entity_history, "sensor.hall_temperature")
    points = await future
    assert [p.value for p in points] == [18.0]


@pytest.mark.asyncio
async def test_concurrent_queries(history):
    kitchen, hall = await asyncio.gather(
        history.entity_history_async("sensor.kitchen_temperature"),
        history.entity_history_async("sensor.hall_temperature"),
    )
    assert (len(kitchen), len(hall)) == (2, 1)


def test_async_api_from_sync_code(history, event_loop):
    points = event_loop.run_until_complete(history.entity_history_async("sensor.kitchen_temperature", 10))
    assert [p.value for p in points] == [21.0]
