import pandas as pd

from energy_reports.daily import daily_query, daily_totals


def test_daily_totals_sum_each_day():
    frame = pd.DataFrame({
        "time": pd.to_datetime(["2024-03-01T00:00Z", "2024-03-01T12:00Z", "2024-03-02T06:00Z"]),
        "kwh": [1.25, 2.5, 0.1234],
    })
    totals = daily_totals(frame)
    assert list(totals) == [3.75, 0.123]


def test_query_names_the_bucket():
    assert 'from(bucket: "meters")' in daily_query("meters", 7)
