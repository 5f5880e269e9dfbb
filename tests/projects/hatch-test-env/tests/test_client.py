# SPDX-License-Identifier: MIT
import asyncio

import httpx
import pytest

from skyfeed import Observation, SkyfeedError


async def test_latest(api, client):
    route = api.get("/stations/ESSA/latest").mock(return_value=httpx.Response(200, json={"t": -3.5, "w": 7.1}))
    obs = await client.latest("ESSA")
    assert obs == Observation("ESSA", -3.5, 7.1)
    assert route.calls.last.request.headers["Authorization"] == "Bearer t0ken"
    assert client.last_attempts == 1


async def test_retries_server_errors(api, client):
    api.get("/stations/X/latest").mock(
        side_effect=[httpx.Response(503), httpx.ConnectError("reset"), httpx.Response(200, json={"t": 1, "w": 2})]
    )
    obs = await client.latest("X")
    assert obs.temperature_c == 1
    assert client.last_attempts == 3


async def test_gives_up(api, client):
    api.get("/stations/X/latest").mock(return_value=httpx.Response(502))
    with pytest.raises(httpx.HTTPStatusError):
        await client.latest("X")


@pytest.mark.asyncio
async def test_unknown_station(api, client):
    api.get("/stations/NOPE/latest").mock(return_value=httpx.Response(404))
    with pytest.raises(SkyfeedError):
        await client.latest("NOPE")


class TestSharedLoop:
    @pytest.fixture(scope="class")
    def event_loop(self):
        loop = asyncio.new_event_loop()
        yield loop
        loop.close()

    async def test_first(self, event_loop):
        assert asyncio.get_running_loop() is event_loop

    async def test_second(self, event_loop):
        assert asyncio.get_running_loop() is event_loop
