"""Climate reports: what each room's sensors said over a period."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from usage_reports.db import InfluxGateway, load_query


class ClimateReports:
    def __init__(self, db: InfluxGateway) -> None:
        self.db = db

    def room_readings(self, room: str, start: datetime, stop: datetime) -> dict[str, list[tuple[datetime, float]]]:
        """Every temperature and humidity reading of one room, by field."""
        query = f'''
from(bucket: "{self.db.bucket}")
  |> range(start: {start.isoformat()}, stop: {stop.isoformat()})
  |> filter(fn: (r) => r._measurement == "climate" and r.room == "{room}")
  |> filter(fn: (r) => r._field == "celsius" or r._field == "humidity")
'''
        readings: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
        for row in self.db.exec_flux(query):
            readings[row["_field"]].append((row["_time"], row["_value"]))
        return dict(readings)

    def latest_by_room(self) -> dict[str, dict[str, Any]]:
        """The last day's readings of every room, folded into {room: {field: last value, "at": time}}."""
        rooms: dict[str, dict[str, Any]] = {}
        for row in self.db.exec_flux(load_query("room_climate")):
            room = rooms.setdefault(row["room"], {})
            room[row["_field"]] = row["_value"]
            room["at"] = max(room.get("at", row["_time"]), row["_time"])
        return rooms

    def hourly_means(self) -> list[tuple[str, str, datetime, float]]:
        rows = self.db.exec_flux(load_query("climate_windows"))
        return sorted((r["room"], r["_field"], r["_time"], round(r["_value"], 3)) for r in rows)

    def comfort_table(self, start: datetime, stop: datetime) -> list[dict[str, Any]]:
        """Temperature and humidity side by side, one row per reading time (pivoted by the server)."""
        query = (
            f'from(bucket: "{self.db.bucket}") '
            f"|> range(start: {start.isoformat()}, stop: {stop.isoformat()}) "
            '|> filter(fn: (r) => r._measurement == "climate" and r.room == "kitchen") '
            '|> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")'
        )
        return [
            {"at": row["_time"], "celsius": row["celsius"], "humidity": row["humidity"]}
            for row in self.db.exec_flux(query)
        ]

    def weekly(self) -> list[dict[str, Any]]:
        return self.db.exec_flux(load_query("weekly_climate"))
