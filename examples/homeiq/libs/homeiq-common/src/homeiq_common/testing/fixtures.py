"""The pytest fixtures behind ``homeiq_common.testing``."""

from __future__ import annotations

import uuid
from typing import Iterator

import pytest

from homeiq_common.testing.influxdb import InfluxDBTestServer
from homeiq_common.testing.mosquitto import MosquittoBroker, find_mosquitto

#: Token the InfluxDB test double accepts; services' tests configure their clients with it.
TEST_TOKEN = "homeiq-test-token"


@pytest.fixture(scope="session")
def mosquitto() -> Iterator[tuple[str, int]]:
    """A mosquitto broker on 127.0.0.1 and a free port for the whole session; yields (host, port)."""
    if find_mosquitto() is None:
        pytest.skip("mosquitto is not installed; apt-get install mosquitto")
    broker = MosquittoBroker().start()
    try:
        yield broker.address
    finally:
        broker.stop()


@pytest.fixture
def influxdb() -> Iterator[InfluxDBTestServer]:
    """A fresh InfluxDB HTTP test double per test (token: ``TEST_TOKEN``)."""
    server = InfluxDBTestServer(token=TEST_TOKEN).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mqtt_topic_prefix() -> str:
    """A unique topic level so tests sharing one broker never see each other's messages."""
    return f"t{uuid.uuid4().hex[:10]}"
