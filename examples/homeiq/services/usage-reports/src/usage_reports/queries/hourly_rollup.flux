// Hourly rollup of power into the long-term bucket (runs as an InfluxDB task).
option task = {name: "power-hourly-rollup", every: 1h}

from(bucket: "home")
  |> range(start: -task.every)
  |> filter(fn: (r) => r._measurement == "power" and r._field == "watts")
  |> group(columns: ["circuit", "_field"])
  |> aggregateWindow(every: 1h, fn: mean, createEmpty: false)
  |> to(bucket: "home_rollups")
