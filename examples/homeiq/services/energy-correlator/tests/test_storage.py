import asyncio

import pytest
from homeiq_common.testing import free_port
from influxdb_client import InfluxDBClient
from tenacity import RetryError

from energy_correlator.correlate import Correlation
from energy_correlator.storage import CorrelationStore

CORRELATION = Correlation("hall.light", "hall.meter", "on", 9.5, 120)


class TestStore:
    pytestmark = pytest.mark.asyncio

    async def test_save_from_a_worker_thread(self, store, influxdb):
        await asyncio.get_running_loop().run_in_executor(None, store.save, CORRELATION, 1_700_000_000_000)
        (row,) = influxdb.rows("energy", "energy_correlation")
        assert row["time"] == 1_700_000_000_000 * 1_000_000

    async def test_point_line_protocol(self):
        line = CorrelationStore.to_point(CORRELATION, 1_700_000_000_000).to_line_protocol()
        assert line == (
            "energy_correlation,device=hall.light,meter=hall.meter,state=on "
            "delta_watts=9.5,lag_ms=120i 1700000000000"
        )


def test_unreachable_influxdb_gives_retry_error():
    with InfluxDBClient(url=f"http://127.0.0.1:{free_port()}", token="t", org="homeiq", retries=False) as client:
        store = CorrelationStore(client, bucket="energy", org="homeiq")
        with pytest.raises(RetryError):
            store.save(CORRELATION, 1_700_000_000_000)
        assert store.health() == {"last_write_attempts": 3}
