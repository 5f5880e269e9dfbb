// Mean temperature and humidity per room and hour: both fields in one query.
from(bucket: "home")
  |> range(start: -24h)
  |> filter(fn: (r) => r._measurement == "climate")
  |> filter(fn: (r) => r._field == "celsius" or r._field == "humidity")
  |> group(columns: ["room", "_field"])
  |> aggregateWindow(every: 1h, fn: mean, createEmpty: false)
