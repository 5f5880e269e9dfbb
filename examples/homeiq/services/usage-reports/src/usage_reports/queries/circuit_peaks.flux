// Peak draw of each circuit per 20 minutes over the last day.
from(bucket: "home")
  |> range(start: -24h)
  |> filter(fn: (r) => r._measurement == "power" and r._field == "watts")
  |> group(columns: ["circuit", "_field"])
  |> aggregateWindow(every: 20m, fn: max, createEmpty: false)
