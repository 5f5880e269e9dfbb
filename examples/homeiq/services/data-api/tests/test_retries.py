import pytest
from homeiq_common.testing import free_port
from influxdb_client import InfluxDBClient

from data_api.config import InfluxConfig
from data_api.history import HistoryService


def test_unreachable_influxdb_is_retried_three_times():
    config = InfluxConfig(url=f"http://127.0.0.1:{free_port()}", token="t", org="homeiq", bucket="home")
    with InfluxDBClient(url=config.url, token=config.token, org=config.org, retries=False) as client:
        service = HistoryService(client, config)
        with pytest.raises(Exception) as excinfo:
            service.power_by_entity()
        assert "unauthor" not in str(excinfo.value).lower()
        assert HistoryService.power_by_entity.retry.statistics["attempt_number"] == 3
        assert service.query_stats()["attempts"] == 3


def test_bad_token_is_not_retried(influxdb):
    config = InfluxConfig(url=influxdb.url, token="wrong", org="homeiq", bucket="home")
    with InfluxDBClient(url=config.url, token=config.token, org=config.org) as client:
        service = HistoryService(client, config)
        with pytest.raises(Exception) as excinfo:
            service.power_by_entity()
    assert any(word in str(excinfo.value).lower() for word in ("unauthorized", "unauthenticated"))
    assert HistoryService.power_by_entity.retry.statistics["attempt_number"] == 1
