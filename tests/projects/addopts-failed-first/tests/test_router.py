import pytest

from alerts.router import Alert, DeliveryFailed, deliver, load_routes, route


@pytest.fixture
def routes(tmp_path):
    path = tmp_path / "routes.env"
    path.write_text("payments-*=#payments-oncall\n# storage team\n*-db=#dba\n")
    return load_routes(str(path))


def test_route_by_glob(routes):
    assert route(Alert("payments-api", "critical", "5xx"), routes) == "#payments-oncall"
    assert route(Alert("orders-db", "warning", "lag"), routes) == "#dba"


def test_default_channel(routes, monkeypatch):
    monkeypatch.delenv("ALERT_DEFAULT_CHANNEL", raising=False)
    assert route(Alert("misc", "info", "x"), routes) == "#ops"


@pytest.mark.asyncio
async def test_deliver_retries(routes):
    sent, failures = [], {"#dba": 1}

    async def send(channel, text):
        if failures.get(channel):
            failures[channel] -= 1
            raise DeliveryFailed(channel)
        sent.append((channel, text))

    n = await deliver([Alert("orders-db", "warning", "lag"), Alert("payments-api", "critical", "5xx")], routes, send)
    assert n == 2
    assert sorted(sent) == [("#dba", "[warning] orders-db: lag"), ("#payments-oncall", "[critical] payments-api: 5xx")]
