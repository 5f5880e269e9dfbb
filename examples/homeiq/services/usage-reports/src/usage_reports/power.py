"""Power reports: circuits, peaks and the energy they used."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from usage_reports.db import InfluxGateway, load_query

HEAVY_CIRCUITS = '|> filter(fn: (r) => r.circuit == "heat" or r.circuit == "oven")'


def circuit_draw(db: InfluxGateway, circuit: str, since: str = "-24h") -> list[tuple[datetime, float]]:
    flux = f"""from(bucket: "{db.bucket}")
  |> range(start: {since})
  |> filter(fn: (r) => r._measurement == "power" and r._field == "watts" and r.circuit == "{circuit}")"""
    return [(t, v) for t, _field, v in db.series(flux)]


def circuit_readings(db: InfluxGateway, circuit: str, start: datetime, stop: datetime) -> list[tuple[datetime, float]]:
    query = (
        f'from(bucket: "{db.bucket}")\n'
        f"  |> range(start: {start.isoformat()}, stop: {stop.isoformat()})\n"
        f'  |> filter(fn: (r) => r["_measurement"] == "power" and r["circuit"] == "{circuit}")\n'
        '  |> filter(fn: (r) => r["_field"] == "watts")'
    )
    return [(row["_time"], row["_value"]) for row in db.exec_flux(query)]


def peaks(db: InfluxGateway) -> dict[str, list[tuple[datetime, float]]]:
    out: dict[str, list[tuple[datetime, float]]] = {}
    for row in db.exec_flux(load_query("circuit_peaks")):
        out.setdefault(row["circuit"], []).append((row["_time"], row["_value"]))
    return out


def heavy_draw(db: InfluxGateway, start: datetime, stop: datetime, heavy_only: bool) -> list[dict[str, Any]]:
    query = (
        f'from(bucket: "{db.bucket}") |> range(start: {start.isoformat()}, stop: {stop.isoformat()}) '
        '|> filter(fn: (r) => r._measurement == "power" and r._field == "watts")'
    )
    if heavy_only:
        query += HEAVY_CIRCUITS
    return db.exec_flux(query)


def circuit_means(db: InfluxGateway, start: datetime, stop: datetime) -> list[tuple[str, datetime, float]]:
    """Mean draw per circuit and 30 minutes."""
    query = f"""
        from(bucket: "{db.bucket}")
            |> range(start: {start.isoformat()}, stop: {stop.isoformat()})
            |> filter(fn: (r) => r["_measurement"] == "power")
            |> filter(fn: (r) => r["_field"] == "watts")
            |> group(columns: ["circuit", "_field"])
            |> aggregateWindow(every: 30m, fn: mean, createEmpty: false)
            |> yield(name: "mean")
    """
    return [(row["circuit"], row["_time"], row["_value"]) for row in db.exec_flux(query)]


def rollup(db: InfluxGateway) -> None:
    """Run the hourly rollup by hand (normally an InfluxDB task)."""
    db.exec_flux(load_query("hourly_rollup"))


def energy_used(db: InfluxGateway) -> dict[str, float]:
    return {row["circuit"]: row["_value"] for row in db.exec_flux(load_query("energy_used"))}
