from __future__ import annotations

import numpy as np
import pandas as pd
from influxdb_client import InfluxDBClient


def daily_query(bucket: str, days: int) -> str:
    return (
        f'from(bucket: "{bucket}")\n'
        f"  |> range(start: -{days}d)\n"
        '  |> filter(fn: (r) => r._measurement == "energy" and r._field == "kwh")\n'
        '  |> aggregateWindow(every: 1d, fn: sum)\n'
    )


def daily_totals(frame: pd.DataFrame) -> pd.Series:
    """kWh per day, rounded to the meter's resolution."""
    days = frame.groupby(frame["time"].dt.date)["kwh"].sum()
    return days.apply(lambda v: float(np.round(v, 3)))


def fetch(client: InfluxDBClient, bucket: str, days: int = 7) -> pd.DataFrame:
    frame = client.query_api().query_data_frame(daily_query(bucket, days))
    return frame.rename(columns={"_time": "time", "_value": "kwh"})
