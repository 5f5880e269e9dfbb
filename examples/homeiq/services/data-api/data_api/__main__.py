"""``python -m data_api``: a small JSON HTTP API over the history queries."""

from __future__ import annotations

import json
import logging
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from influxdb_client import InfluxDBClient

from data_api.config import influx_config
from data_api.history import HistoryService


def make_handler(history: HistoryService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            url = urlsplit(self.path)
            minutes = int(parse_qs(url.query).get("minutes", ["60"])[0])
            if url.path == "/health":
                body = {"status": "ok", "last_query": history.query_stats()}
            elif url.path == "/power":
                body = history.power_by_entity(minutes)
            elif url.path.startswith("/history/"):
                entity_id = url.path.split("/", 2)[2]
                body = [{"time": p.time.isoformat(), "value": p.value}
                        for p in history.entity_history(entity_id, minutes)]
            else:
                self.send_error(404)
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    config = influx_config()
    with InfluxDBClient(url=config.url, token=config.token, org=config.org) as client:
        server = ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8006"))),
                                     make_handler(HistoryService(client, config)))
        server.serve_forever()


if __name__ == "__main__":
    main()
