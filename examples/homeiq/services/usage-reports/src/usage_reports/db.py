"""The one place that talks to InfluxDB: a client, the Flux runner every report goes through, and the
loader of the canned queries kept as ``queries/<name>.flux``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from influxdb_client import InfluxDBClient

log = logging.getLogger(__name__)

QUERY_DIR = Path(__file__).parent / "queries"


def load_query(name: str) -> str:
    """The text of ``queries/<name>.flux``."""
    return (QUERY_DIR / f"{name}.flux").read_text(encoding="utf-8")


class InfluxGateway:
    """Runs the reports' queries; rows come back as plain dicts (``_time``, ``_field``, ``_value``, tags)."""

    def __init__(self, url: str, token: str, org: str, bucket: str) -> None:
        self.bucket = bucket
        self.org = org
        self._client = InfluxDBClient(url=url, token=token, org=org)
        self._query_api = self._client.query_api()

    def exec_flux(self, query: str) -> list[dict[str, Any]]:
        log.debug("flux: %s", query)
        tables = self._query_api.query(query, org=self.org)
        return [record.values for table in tables for record in table.records]

    def series(self, query: str) -> list[tuple[Any, str, Any]]:
        """(time, field, value) of every record, in the order the server sends them."""
        out = []
        for table in self._query_api.query(query, org=self.org):
            for record in table.records:
                out.append((record.get_time(), record.get_field(), record.get_value()))
        return out

    def close(self) -> None:
        self._client.close()
