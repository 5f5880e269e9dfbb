"""``python -m usage_reports daily|weekly|energy|rollup``: print a report, with settings from the environment."""

from __future__ import annotations

import argparse
import logging
from datetime import datetime, timedelta, timezone

from homeiq_common.settings import load_settings

from usage_reports import power
from usage_reports.climate import ClimateReports
from usage_reports.db import InfluxGateway


def _when(value: str | None, default: datetime) -> datetime:
    return datetime.fromisoformat(value) if value else default


def _fmt(value: object) -> str:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def daily(db: InfluxGateway, start: datetime, stop: datetime, room: str) -> None:
    climate = ClimateReports(db)
    for field, readings in sorted(climate.room_readings(room, start, stop).items()):
        (t0, v0), (t1, v1) = readings[0], readings[-1]
        print(f"{room} {field}: {len(readings)} readings, {_fmt(t0)}={_fmt(v0)} .. {_fmt(t1)}={_fmt(v1)}")
    for name, latest in sorted(climate.latest_by_room().items()):
        print(f"latest {name}: " + ", ".join(f"{k}={_fmt(v)}" for k, v in sorted(latest.items())))
    for name, field, at, mean in climate.hourly_means():
        print(f"hourly {name} {field} {_fmt(at)} {_fmt(mean)}")
    for row in climate.comfort_table(start, stop)[:4]:
        print(f"comfort {_fmt(row['at'])} {_fmt(row['celsius'])} {_fmt(row['humidity'])}")
    for circuit, values in sorted(power.peaks(db).items()):
        print(f"peaks {circuit}: " + " ".join(f"{_fmt(t)}={_fmt(v)}" for t, v in values))
    for circuit, at, mean in power.circuit_means(db, start, stop):
        print(f"mean {circuit} {_fmt(at)} {_fmt(mean)}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="usage_reports", description=__doc__)
    ap.add_argument("report", choices=("daily", "weekly", "energy", "rollup"))
    ap.add_argument("--start", help="ISO time (default: 24 hours ago)")
    ap.add_argument("--stop", help="ISO time (default: now)")
    ap.add_argument("--room", default="kitchen")
    args = ap.parse_args(argv)
    settings = load_settings(None, service_name="usage-reports")
    now = datetime.now(timezone.utc).replace(microsecond=0)
    start, stop = _when(args.start, now - timedelta(hours=24)), _when(args.stop, now)
    db = InfluxGateway(settings.influx_url, settings.influx_token, settings.influx_org, settings.influx_bucket)
    try:
        if args.report == "daily":
            daily(db, start, stop, args.room)
        elif args.report == "weekly":
            for row in ClimateReports(db).weekly():
                print(row["room"], _fmt(row["_time"]), _fmt(row["_value"]))
        elif args.report == "energy":
            for circuit, wh in sorted(power.energy_used(db).items()):
                print(f"{circuit}: {wh:.1f} Wh, now {_fmt(power.circuit_draw(db, circuit)[-1][1])} W")
            print(len(power.heavy_draw(db, start, stop, heavy_only=True)), "heavy readings")
        else:
            power.rollup(db)
    finally:
        db.close()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()
