import asyncio

import pytest

from meter_ingest.client import ApiUnavailable, MeterClient, ingest, push_batch, push_stats


@pytest.mark.asyncio
async def test_readings_retry_until_available(flaky_fetch):
    client = MeterClient(flaky_fetch)
    rows = await client.readings("m-1")
    assert len(rows) == 2
    assert flaky_fetch.calls == {"m-1": 2}


@pytest.mark.asyncio
async def test_readings_reraise_after_attempts():
    async def down(meter_id):
        raise ApiUnavailable(meter_id)

    with pytest.raises(ApiUnavailable):
        await MeterClient(down, attempts=2).readings("m-2")


@pytest.mark.asyncio
async def test_ingest_batches(flaky_fetch):
    queue = []
    pushed = await ingest(MeterClient(flaky_fetch), queue, ["a", "b", "c"], batch_size=4)
    assert pushed == 6
    assert [len(b) for b in queue] == [4, 2]


@pytest.mark.asyncio
async def test_session_loop_is_shared(event_loop):
    assert asyncio.get_running_loop() is event_loop


class FlakyQueue(list):
    def __init__(self, failures):
        super().__init__()
        self.failures = failures

    def append(self, item):
        if self.failures:
            self.failures -= 1
            raise ConnectionError("queue down")
        super().append(item)


def test_push_retries_connection_errors():
    queue = FlakyQueue(failures=2)
    assert push_batch(queue, [{"kwh": 1}]) == 1
    assert push_stats()["attempt_number"] == 3


def test_push_gives_up():
    from tenacity import RetryError

    with pytest.raises(RetryError):
        push_batch(FlakyQueue(failures=5), [{"kwh": 1}])
    assert push_batch.retry.statistics["attempt_number"] == 3
