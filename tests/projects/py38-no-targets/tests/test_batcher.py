import asyncio

import pytest

from aiobatch import Batcher


async def double_all(items):
    await asyncio.sleep(0)
    return [i * 2 for i in items]


@pytest.mark.asyncio
async def test_batches_concurrent_submits():
    batcher = Batcher(double_all, max_size=10, max_delay=0.01)
    results = await asyncio.gather(*(batcher.submit(i) for i in range(5)))
    assert results == [0, 2, 4, 6, 8]
    assert batcher.batches == 1


@pytest.mark.asyncio
async def test_max_size_flushes_early():
    batcher = Batcher(double_all, max_size=2, max_delay=10)
    results = await asyncio.wait_for(asyncio.gather(*(batcher.submit(i) for i in range(4))), 1)
    assert results == [0, 2, 4, 6]
    assert batcher.batches == 2


@pytest.mark.asyncio
async def test_failure_reaches_every_waiter():
    async def broken(items):
        raise RuntimeError("backend down")

    batcher = Batcher(broken)
    results = await asyncio.gather(batcher.submit(1), batcher.submit(2), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)


def test_sync_caller(event_loop):
    batcher = Batcher(double_all)
    assert event_loop.run_until_complete(batcher.submit(21)) == 42
