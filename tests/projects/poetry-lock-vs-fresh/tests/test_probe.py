import asyncio

from uptime_probe.probe import endpoints, probe, probe_all


def test_up_first_time():
    result = probe(lambda url: 200, "https://a.example.invalid")
    assert result.up
    assert result.attempts == 1


def test_flaky_endpoint_counts_attempts():
    answers = iter([503, 502, 200])
    result = probe(lambda url: next(answers), "https://b.example.invalid")
    assert result.up
    assert result.attempts == 3


def test_down():
    results = probe_all(lambda url: 500, ["https://c.example.invalid"])
    assert results["https://c.example.invalid"].up is False
    assert results["https://c.example.invalid"].attempts == 3


def test_endpoints(monkeypatch):
    monkeypatch.setenv("PROBE_URLS", "https://a.example.invalid, https://b.example.invalid,")
    assert endpoints() == ["https://a.example.invalid", "https://b.example.invalid"]


async def test_probe_from_a_coroutine():
    result = await asyncio.to_thread(probe, lambda url: 204, "https://d.example.invalid")
    assert result.up
