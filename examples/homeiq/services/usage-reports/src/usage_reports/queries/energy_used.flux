// Energy per circuit over the last day: the integral of power.
from(bucket: "home")
  |> range(start: -24h)
  |> filter(fn: (r) => r._measurement == "power" and r._field == "watts")
  |> group(columns: ["circuit", "_field"])
  |> integral(unit: 1h)
