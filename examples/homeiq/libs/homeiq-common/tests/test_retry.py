import pytest

from homeiq_common.retry import attempts_made, transient_retry


def test_retries_transient_errors_then_succeeds():
    calls = []

    @transient_retry(attempts=3)
    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("peer went away")
        return "ok"

    assert flaky() == "ok"
    assert attempts_made(flaky) == 3


def test_reraises_the_last_error():
    @transient_retry(attempts=2)
    def down():
        raise TimeoutError("still down")

    with pytest.raises(TimeoutError):
        down()


@pytest.mark.asyncio
async def test_async_callables_are_retried():
    calls = []

    @transient_retry(attempts=2)
    async def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError
        return len(calls)

    assert await flaky() == 2
